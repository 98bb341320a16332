import numpy as np
import pytest

from kadanoff import io
from kadanoff.cli import load_study, main

pytest.importorskip("h5py")

GOOD = """
model = "ising"
L = [4, 6]
T = {start = 2.0, stop = 2.5, num = 3}
algorithm = "wolff"
sweeps = 200
thermalize = 20
seeds = 2
seed = 7
output = "OUT"
workers = 2
[params]
J = 1.0
"""


def _write(tmp_path, text, name="study.toml"):
    out = tmp_path / "out.h5"
    p = tmp_path / name
    p.write_text(text.replace("OUT", str(out)))
    return p, out


def test_run_info_and_refusal(tmp_path, capsys):
    study, out = _write(tmp_path, GOOD)
    assert main(["run", str(study), "--executor", "thread", "--no-progress"]) == 0
    assert len(io.point_names(out)) == 12
    before = out.read_bytes()
    assert main(["run", str(study), "--executor", "thread"]) == 2
    err = capsys.readouterr().err
    assert "exists" in err and "--resume" in err and "--overwrite" in err
    assert out.read_bytes() == before                    # nothing lost
    assert main(["run", str(study), "--executor", "thread", "--resume", "--no-progress"]) == 0
    assert main(["run", str(study), "--executor", "thread", "--overwrite",
                 "--no-progress"]) == 0
    again = io.read_all(out)
    assert len(again) == 12
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "12 point(s)" in text and "point_0011" in text
    assert main(["info", str(tmp_path / "missing.h5")]) == 1
    assert main(["info"]) == 0                           # versions, as before


def test_task_slices_match_full_study(tmp_path, monkeypatch, capsys):
    study, out = _write(tmp_path, GOOD)
    assert main(["run", str(study), "--executor", "thread", "--no-progress"]) == 0
    full = io.read_all(out)
    assert main(["run", str(study), "--executor", "thread", "--task-id", "1", "--n-tasks", "3",
                 "--no-progress"]) == 0
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "2")
    monkeypatch.setenv("SLURM_ARRAY_TASK_COUNT", "3")
    assert main(["run", str(study), "--executor", "thread", "--no-progress"]) == 0
    parts = {**io.read_all(tmp_path / "out.task1.h5"), **io.read_all(tmp_path / "out.task2.h5")}
    assert sorted(parts) == [f"point_{i:04d}" for i in range(12) if i % 3 in (1, 2)]
    for name, res in parts.items():
        assert np.array_equal(res["e"], full[name]["e"])
    monkeypatch.delenv("SLURM_ARRAY_TASK_COUNT")
    assert main(["run", str(study), "--task-id", "0"]) == 2
    assert "--n-tasks" in capsys.readouterr().err


@pytest.mark.parametrize("edit, message", [
    (("sweeps = 200", "sweep = 200"), "unknown key 'sweep' (did you mean 'sweeps'?)"),
    (("model = \"ising\"", "model = \"isng\""), "did you mean 'ising'"),
    (("[params]", "[param]"), "unknown key 'param' (did you mean 'params'?)"),
    (("J = 1.0", "j = 1.0"), "unknown parameter 'j' for ising (did you mean 'J'?)"),
    (("num = 3", "nun = 3"), "'T.nun' (did you mean 'num'?)"),
    (("T = {", "beta = 1\nT = {"), "exactly one of 'T' or 'beta'"),
    (("algorithm = \"wolff\"", "algorithm = \"wolf\""), "key algorithm"),
    (("J = 1.0", "h = 0.5"), "key "),                     # Wolff with a field
    (("sweeps = 200", "sweeps = -5"), "key sweeps"),
    (("seeds = 2", "seeds = 0"), "'seeds'"),
    (("output = \"OUT\"", ""), "missing required key 'output'"),
    (("model = \"ising\"", "model = \"ising"), "malformed TOML"),
    (("L = [4, 6]", "L = [4, 0]"), "key L"),
])
def test_bad_study_files(tmp_path, capsys, edit, message):
    study, out = _write(tmp_path, GOOD.replace(*edit))
    assert main(["run", str(study), "--executor", "thread"]) == 2
    err = capsys.readouterr().err
    assert message in err and str(study) in err, err
    assert not out.exists()


def test_unwritable_output_and_flags(tmp_path, capsys):
    study, _ = _write(tmp_path, GOOD.replace("OUT", str(tmp_path / "no" / "dir" / "x.h5")))
    assert main(["run", str(study)]) == 2
    assert "not writable" in capsys.readouterr().err
    study, _ = _write(tmp_path, GOOD)
    assert main(["run", str(study), "--overwrite", "--resume"]) == 2
    assert main(["run", str(tmp_path / "nope.toml")]) == 2
    assert "no such study file" in capsys.readouterr().err


def test_load_study_points(tmp_path):
    study, out = _write(tmp_path, GOOD)
    spec = load_study(study)
    assert len(spec["points"]) == 12 and spec["seed"] == 7 and spec["output"] == str(out)
    assert [p["T"] for p in spec["points"][:6:2]] == [2.0, 2.25, 2.5]
