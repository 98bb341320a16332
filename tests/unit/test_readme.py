"""The README's example runs as written (so the front page never lies)."""
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_example_runs(capsys):
    if not README.exists():
        pytest.skip("README.md is not beside the tests (installed-package test run)")
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README.md has no python example"
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})
    assert "+-" in capsys.readouterr().out


def test_readme_quick_start_commands_verbatim():
    if not README.exists():
        pytest.skip("README.md is not beside the tests")
    text = README.read_text()
    assert "pip install . && kadanoff demo" in text
    assert 'pip install ".[test]" && pytest' in text
