import io
import subprocess
import sys

import numpy as np

from kadanoff.analysis.fss import binder_crossings, curve_crossing
from kadanoff.cli import main
from kadanoff.demo import run_demo


def test_demo_quick(tmp_path):
    out = io.StringIO()
    result = run_demo(out=tmp_path, quick=True, progress=False, stream=out)
    text = out.getvalue()
    assert "Binder" in text and "T_c estimate" in text and str(tmp_path) in text
    for fig in result["figures"]:
        assert fig.exists() and fig.stat().st_size > 10_000
    assert abs(result["T_c"].T - 2.269) < 0.1 and result["T_c"].T_err > 0


def test_cli_entry_points(tmp_path, capsys):
    assert main(["info"]) == 0
    assert "kadanoff" in capsys.readouterr().out
    assert main([]) == 2
    proc = subprocess.run([sys.executable, "-m", "kadanoff", "info"], capture_output=True,
                          text=True, check=True)
    assert "numpy" in proc.stdout


def test_curve_crossing_linear():
    x = np.array([0.0, 1.0, 2.0])
    assert curve_crossing(x, [0, 0, 0], [-1, 1, 3]) == 0.5
    assert np.isnan(curve_crossing(x, [0, 0, 0], [1, 1, 1]))


def test_binder_crossings_errors_and_validation():
    T = np.linspace(0, 1, 5)
    U = np.array([0.5 - 0.1 * (T - 0.4), 0.5 - 0.3 * (T - 0.4)])
    (c,) = binder_crossings(T, [8, 16], U, np.full_like(U, 1e-3), rng=0)
    assert abs(c.T - 0.4) < 1e-12 and 0 < c.T_err < 0.05
    import pytest
    with pytest.raises(ValueError, match="U and U_err"):
        binder_crossings(T, [8, 16], U[:1], U[:1])
    with pytest.raises(ValueError, match="increasing"):
        binder_crossings(T[::-1], [8, 16], U, U)
    with pytest.warns(RuntimeWarning, match="do not cross"):
        (nan,) = binder_crossings(T, [8, 16], np.array([T, T + 1]), np.full_like(U, 1e-3))
    assert np.isnan(nan.T)
