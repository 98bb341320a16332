import concurrent.futures as cf
import io as _io

import numpy as np
import pytest

from kadanoff.study import grid, point_seed, run_study

BASE = {"model": "ising", "algorithm": "wolff", "sweeps": 200, "thermalize": 50}


def _points():
    return grid(BASE, L=[4, 6], T=[2.0, 2.6], seeds=2)


def _same(a, b):
    assert len(a) == len(b)
    for ra, rb in zip(a, b):
        assert list(ra) == list(rb)
        for k in ra:
            assert np.array_equal(ra[k], rb[k]), k
        assert ra.meta["rng_state"] == rb.meta["rng_state"]
        assert np.array_equal(ra.meta["final_state"], rb.meta["final_state"])


def test_grid_shape_and_labels():
    pts = _points()
    assert len(pts) == 8
    assert pts[0]["L"] == 4 and pts[0]["T"] == 2.0 and pts[0]["label"] == {"repetition": 0}
    assert pts[-1]["L"] == 6 and pts[-1]["T"] == 2.6 and pts[-1]["label"] == {"repetition": 1}


def test_point_seed_is_spawn_child():
    kids = np.random.SeedSequence(7).spawn(5)
    for i, kid in enumerate(kids):
        assert point_seed(7, i).generate_state(4).tolist() == kid.generate_state(4).tolist()


def test_independent_of_executor_and_workers():
    out = _io.StringIO()
    with cf.ProcessPoolExecutor(1) as ex1:
        one = run_study(_points(), ex1, seed=11, stream=out)
    with cf.ProcessPoolExecutor(2) as ex2:
        two = run_study(_points(), ex2, seed=11, progress=False)
    with cf.ThreadPoolExecutor(3) as ex3:
        three = run_study(_points(), ex3, seed=11, progress=False)
    default = run_study(_points(), seed=11, max_workers=2, progress=False)
    _same(one, two)
    _same(one, three)
    _same(one, default)
    assert out.getvalue().count("done in") == 8
    # different points really differ; a different seed changes everything
    assert not np.array_equal(one[0]["e"], one[1]["e"])
    other = run_study(_points()[:1], cf.ThreadPoolExecutor(1), seed=12, progress=False)
    assert not np.array_equal(one[0]["e"], other[0]["e"])


def test_slices_reproduce_full_study():
    pts = _points()
    with cf.ThreadPoolExecutor(2) as ex:
        full = run_study(pts, ex, seed=3, progress=False)
        part = run_study(pts, ex, seed=3, indices=[5, 2], progress=False)
    _same([full[2], full[5]], part)
    assert [r.meta["point_index"] for r in part] == [2, 5]


def test_output_and_resume(tmp_path):
    from kadanoff import io
    pts = _points()[:4]
    out = tmp_path / "study.h5"
    with cf.ThreadPoolExecutor(2) as ex:
        first = run_study(pts, ex, seed=5, indices=[0, 1], output=out, progress=False)
        assert io.point_names(out) == ["point_0000", "point_0001"]
        again = run_study(pts, ex, seed=5, output=out, resume=True, progress=False,
                          stream=_io.StringIO())
        full = run_study(pts, ex, seed=5, progress=False)
    _same(full, again)
    _same(first, again[:2])
    back = io.read_all(out)
    assert len(back) == 4 and back["point_0003"].meta["point"]["T"] == pts[3]["T"]


def test_checkpointed_points_match(tmp_path):
    pts = _points()[:2]
    with cf.ThreadPoolExecutor(2) as ex:
        a = run_study(pts, ex, seed=9, progress=False)
        b = run_study(pts, ex, seed=9, progress=False, checkpoint_dir=tmp_path / "ck",
                      checkpoint_every=30)
    _same(a, b)
    assert not list((tmp_path / "ck").iterdir())    # removed when a point finishes


@pytest.mark.parametrize("point, match", [
    ({**BASE, "L": 4, "T": 2.0, "sweep": 3}, r"unknown key 'sweep'.*did you mean 'sweeps'"),
    ({**BASE, "L": 4}, "exactly one of 'T' or 'beta'"),
    ({**BASE, "L": 4, "T": -1.0}, r"points\[0\]\.T"),
    ({**BASE, "model": "isin", "L": 4, "T": 2.0}, "did you mean 'ising'"),
    ({**BASE, "L": 0, "T": 2.0}, r"points\[0\]\.L"),
    ({**BASE, "L": 4, "T": 2.0, "algorithm": "wolf"}, r"points\[0\]\.algorithm"),
    ({**BASE, "L": 4, "T": 2.0, "params": {"K": 1}}, r"points\[0\]\.params"),
    ({**BASE, "L": 4, "T": 2.0, "params": {"h": 0.5}}, r"points\[0\]"),  # wolff with a field
])
def test_bad_points(point, match):
    with pytest.raises(ValueError, match=match):
        run_study([point], cf.ThreadPoolExecutor(1), seed=1)


def test_bad_seed_and_indices():
    with pytest.raises(ValueError, match="seed"):
        run_study([{**BASE, "L": 4, "T": 2.0}], cf.ThreadPoolExecutor(1), seed=-1)
    with pytest.raises(ValueError, match="indices"):
        run_study([{**BASE, "L": 4, "T": 2.0}], cf.ThreadPoolExecutor(1), seed=1, indices=[3])


# -- MPI: the same study under `mpiexec -n 2` (mpi4py.futures) ------------------------
def _mpi_command():
    import importlib.util
    import shutil
    if importlib.util.find_spec("mpi4py") is None or shutil.which("mpiexec") is None:
        pytest.skip("mpi4py or mpiexec not available (pip install mpi4py mpich)")
    import sys
    return ["mpiexec", "-n", "2", sys.executable, "-m", "mpi4py.futures"]


def test_mpi_example_matches_local_run(tmp_path):
    import pathlib
    import subprocess
    pytest.importorskip("h5py")
    from kadanoff import io
    cmd = _mpi_command()
    example = pathlib.Path(__file__).parents[2] / "examples" / "mpi_study.py"
    out = tmp_path / "mpi.h5"
    proc = subprocess.run(cmd + [str(example), str(out), "--quick", "--seed", "5"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    points = grid({"model": "ising", "algorithm": "wolff", "sweeps": 300, "thermalize": 30},
                  L=[4, 6], T=[2.2, 2.25, 2.269, 2.3, 2.35], seeds=2)
    local = run_study(points, cf.ThreadPoolExecutor(2), seed=5, progress=False)
    remote = io.read_all(out)
    assert len(remote) == len(local) == 20
    _same(local, [remote[f"point_{i:04d}"] for i in range(20)])


def test_mpi_cli_run(tmp_path):
    import subprocess
    pytest.importorskip("h5py")
    from kadanoff import io
    cmd = _mpi_command()
    study = tmp_path / "s.toml"
    study.write_text(f'model = "potts"\nL = 4\nT = [0.9, 1.1]\nalgorithm = "swendsen-wang"\n'
                     f'sweeps = 100\nseed = 3\noutput = "{tmp_path / "o.h5"}"\n'
                     '[params]\nq = 3\n')
    # -m kadanoff.cli, not -m kadanoff: workers re-import the main module, and
    # kadanoff/__main__.py runs main() without an `if __name__ == "__main__"` guard
    proc = subprocess.run(cmd + ["-m", "kadanoff.cli", "run", str(study), "--executor", "mpi",
                                 "--no-progress"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    local = run_study([{"model": "potts", "L": 4, "T": T, "algorithm": "swendsen-wang",
                        "sweeps": 100, "params": {"q": 3}} for T in (0.9, 1.1)],
                      cf.ThreadPoolExecutor(1), seed=3, progress=False)
    remote = io.read_all(tmp_path / "o.h5")
    _same(local, [remote["point_0000"], remote["point_0001"]])


@pytest.mark.parametrize("model,params,observable", [
    ("dipolar_clock", {"J": 1.0, "D": 0.1}, "stripe"),
    ("driven_lattice_gas", {"density": 0.5, "E": 2.0}, "entropy"),
    ("two_temperature_ising", {"density": 0.5, "T_y": 5.0}, "entropy"),
])
def test_study_runs_dipolar_and_driven_models(model, params, observable):
    base = dict(BASE, model=model, lattice="triangular" if model == "dipolar_clock" else "square",
                L=6, algorithm="metropolis", sweeps=40, thermalize=10, params=params)
    res = run_study(grid(base, T=[1.5]), seed=3)
    assert len(res) == 1 and len(res[0][observable]) == 40
    again = run_study(grid(base, T=[1.5]), seed=3)
    np.testing.assert_array_equal(res[0][observable], again[0][observable])
