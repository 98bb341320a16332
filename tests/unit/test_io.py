import os

import numpy as np
import pytest

import kadanoff as kd
from kadanoff import io
from kadanoff.simulation import Simulation

h5py = pytest.importorskip("h5py")


def _sim(alg="wolff", model=None, T=2.3, seed=5):
    model = model or kd.Ising(kd.lattice.square(6))
    return Simulation(model, T=T, algorithm=alg, rng=seed)


def _equal(a, b):
    assert list(a) == list(b)
    for k in a:
        assert np.array_equal(a[k], b[k]), k


class Killed(Exception):
    pass


def test_write_read_roundtrip(tmp_path):
    sim = _sim()
    res = sim.run(300, thermalize=50, measure_every=3)
    meta = dict(res.meta, final_state=sim.state.copy())
    res = kd.Results(dict(res), meta)
    path = tmp_path / "out.h5"
    io.write(path, res)
    back = io.read(path)
    _equal(res, back)
    assert back.meta["final_state"].dtype == np.int8
    assert np.array_equal(back.meta["final_state"], sim.state)
    for key in ("T", "beta", "algorithm", "seed", "rng_state", "versions", "lattice"):
        assert back.meta[key] == res.meta[key], key
    assert back.mean("e") == res.mean("e")
    with pytest.raises(FileExistsError, match="overwrite"):
        io.write(path, res)
    io.write(path, [res, res], overwrite=True)
    assert io.point_names(path) == ["point_0000", "point_0001"]
    with pytest.raises(ValueError, match="holds 2 points"):
        io.read(path)
    _equal(io.read(path, 1), res)
    with pytest.raises(KeyError, match="point_0007"):
        io.read(path, 7)
    text = io.summary(path)
    assert "2 point(s)" in text and "Ising" in text


def test_bad_paths(tmp_path):
    res = _sim().run(10)
    with pytest.raises(ValueError, match="does not exist"):
        io.write(tmp_path / "nope" / "x.h5", res)
    with pytest.raises(ValueError, match="folder"):
        io.write(tmp_path, res)
    with pytest.raises(FileNotFoundError):
        io.read(tmp_path / "missing.h5")
    (tmp_path / "junk.h5").write_bytes(b"not hdf5")
    with pytest.raises(OSError):
        io.read(tmp_path / "junk.h5")


# Not XY/Heisenberg Metropolis here: their step-size adaptation depends on how
# thermalisation is batched, and plain run() batches by wall-clock time (see the
# issue-10 note); checkpointed runs batch deterministically (kill test below).
@pytest.mark.parametrize("alg, model", [("wolff", None), ("metropolis", None),
                                        ("wolff", kd.XY(kd.lattice.square(4)))])
def test_checkpointed_run_equals_plain_run(tmp_path, alg, model):
    plain = _sim(alg, model).run(403, thermalize=120, measure_every=2)
    ck = io.run_checkpointed(_sim(alg, model), tmp_path / "c.h5", 403, 120, 2, every=50)
    _equal(plain, ck)
    assert plain.meta["rng_state"] == ck.meta["rng_state"]
    assert plain.meta["sweeps"] == ck.meta["sweeps"] == 402
    assert plain.meta["algorithm_info"].get("clusters_per_sweep") == \
        ck.meta["algorithm_info"].get("clusters_per_sweep")


@pytest.mark.parametrize("kill_at", [1, 4, 9])      # during thermalisation / measuring
def test_kill_and_restart_is_bit_identical(tmp_path, monkeypatch, kill_at):
    model = kd.XY(kd.lattice.square(4)) if kill_at == 4 else None
    alg = "metropolis" if kill_at == 4 else "wolff"
    ref = io.run_checkpointed(_sim(alg, model), tmp_path / "ref.h5", 400, 150, 1, every=40)
    path = tmp_path / "c.h5"
    calls = {"n": 0}
    orig_thermalize, orig_run = Simulation.thermalize, Simulation.run

    def counting(orig):
        def f(self, *a, **k):
            calls["n"] += 1
            if calls["n"] == kill_at:
                raise Killed
            return orig(self, *a, **k)
        return f
    monkeypatch.setattr(Simulation, "thermalize", counting(orig_thermalize))
    monkeypatch.setattr(Simulation, "run", counting(orig_run))
    with pytest.raises(Killed):
        io.run_checkpointed(_sim(alg, model), path, 400, 150, 1, every=40)
    monkeypatch.undo()
    expected = {1: None, 4: {"thermalized": 120, "measured": 0},
                9: {"thermalized": 150, "measured": 160}}[kill_at]
    assert path.exists() == (expected is not None)
    if expected is not None:
        assert io.load_checkpoint(path)["extra"]["progress"] == expected
    seed = 5 if expected is None else 999    # the checkpoint, not the seed, decides
    again = io.run_checkpointed(_sim(alg, model, seed=seed), path, 400, 150, 1, every=40)
    _equal(ref, again)
    assert ref.meta["rng_state"] == again.meta["rng_state"]


def test_crash_during_checkpoint_write_keeps_old_checkpoint(tmp_path, monkeypatch):
    ref = io.run_checkpointed(_sim(), tmp_path / "ref.h5", 300, 60, 1, every=30)
    path = tmp_path / "c.h5"
    orig = io._write_series
    state = {"n": 0}

    def broken(group, series):
        state["n"] += 1
        if state["n"] == 5:           # half-written temporary file, then the "kill"
            group.create_dataset("garbage", data=np.arange(10))
            raise Killed
        return orig(group, series)
    monkeypatch.setattr(io, "_write_series", broken)
    with pytest.raises(Killed):
        io.run_checkpointed(_sim(), path, 300, 60, 1, every=30)
    monkeypatch.undo()
    ck = io.load_checkpoint(path)                  # the previous checkpoint, intact
    assert ck["extra"]["progress"] == {"thermalized": 60, "measured": 120}
    assert not [p for p in os.listdir(tmp_path) if ".tmp-" in p]
    # a hard kill can leave a stale temporary file behind: harmless
    (tmp_path / "c.h5.tmp-12345").write_bytes(b"partial")
    # a crash at the rename step also leaves the old checkpoint
    monkeypatch.setattr(io.os, "replace", lambda *a: (_ for _ in ()).throw(Killed()))
    with pytest.raises(Killed):
        io.run_checkpointed(_sim(), path, 300, 60, 1, every=30)
    monkeypatch.undo()
    assert io.load_checkpoint(path)["extra"]["progress"]["measured"] == 120
    again = io.run_checkpointed(_sim(), path, 300, 60, 1, every=30)
    _equal(ref, again)


def test_checkpoint_mismatch_and_refusal(tmp_path):
    path = tmp_path / "c.h5"
    io.run_checkpointed(_sim(), path, 100, 10, 1, every=50)
    with pytest.raises(io.CheckpointMismatchError, match="beta"):
        io.run_checkpointed(_sim(T=2.0), path, 100, 10, 1, every=50)
    with pytest.raises(io.CheckpointMismatchError, match="algorithm"):
        io.run_checkpointed(_sim("metropolis"), path, 100, 10, 1, every=50)
    with pytest.raises(io.CheckpointMismatchError, match="plan"):
        io.run_checkpointed(_sim(), path, 200, 10, 1, every=50)
    with pytest.raises(FileExistsError, match="resume"):
        io.run_checkpointed(_sim(), path, 100, 10, 1, every=50, resume=False)
    with pytest.raises(ValueError, match="every"):
        io.run_checkpointed(_sim(), tmp_path / "d.h5", 100, every=0)
    with pytest.raises(ValueError, match="not a kadanoff results file|checkpoint"):
        io.read(path)


def test_simulation_checkpoint_methods(tmp_path):
    a = _sim()
    a.run(100, thermalize=20)
    a.checkpoint(tmp_path / "s.h5", note="hi")
    b = _sim(seed=1234)
    extra = b.restore(tmp_path / "s.h5")
    assert extra["extra"] == {"note": "hi"}
    assert b.sweeps_done == a.sweeps_done and b.rng_state == a.rng_state
    _equal(a.run(200), b.run(200))
    assert "checkpoint" in io.summary(tmp_path / "s.h5")
