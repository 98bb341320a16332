import numpy as np
import pytest

import kadanoff as kd
from kadanoff.tempering import ParallelTempering, geometric_ladder, ladder_feedback

LADDER = [2.0, 2.2, 2.4, 2.6]


def _pt(seed=1, **kw):
    kw.setdefault("algorithm", "metropolis")
    return ParallelTempering(kd.Ising(kd.lattice.square(6)), T=kw.pop("T", LADDER), rng=seed,
                             **kw)


def test_reproducible_and_bookkeeping():
    a = _pt().run(400, thermalize=50)
    b = _pt().run(400, thermalize=50)
    c = _pt(seed=2).run(400, thermalize=50)
    for ra, rb in zip(a, b):
        for k in ra:
            assert np.array_equal(ra[k], rb[k])
    assert not np.array_equal(a[0]["e"], c[0]["e"])
    assert [r.T for r in a] == LADDER
    reps = np.array([r["replica"] for r in a])          # (K, steps)
    assert np.all(np.sort(reps, axis=0) == np.arange(4)[:, None])   # a permutation each step
    assert len(set(reps[0])) > 1                         # replicas do move
    st = a[0].meta["tempering"]
    assert st["attempts"] == [225, 225, 225]     # even pairs on even steps, odd on odd
    assert all(0 < x <= 1 for x in st["acceptance"])
    assert st["flow"][0] == 1.0 and st["flow"][-1] == 0.0
    assert st["round_trips"] > 0 and st["mean_round_trip"] > 0
    assert a[2].meta["beta"] == 1 / 2.4 and a[2].meta["n_sites"] == 36


def test_unsorted_beta_ladder_and_any_model():
    pt = ParallelTempering(kd.XY(kd.lattice.square(4)), beta=[1 / 1.2, 1 / 0.8, 1.0],
                           algorithm="wolff", rng=3, sweeps_per_exchange=2)
    runs = pt.run(100, thermalize=20)
    assert np.allclose([r.T for r in runs], [0.8, 1.0, 1.2])
    assert all(r.meta["algorithm_info"]["clusters_per_sweep"] >= 1 for r in runs)
    assert runs[0].meta["sweeps"] == 200 and "helicity" in runs[0]
    # the coldest chain is more ordered
    assert runs[0].mean("abs_m") > runs[-1].mean("abs_m")


def test_swaps_keep_configurations():
    pt = _pt(seed=4)
    pt.run(10)
    before = {pt.slot_replica[k]: s.copy() for k, s in enumerate(pt.states)}
    E = np.array([pt.model.energy(s) for s in pt.states])
    pt._exchange(E)
    for k, s in enumerate(pt.states):
        assert np.array_equal(before[pt.slot_replica[k]], s)


def test_ladder_feedback():
    T = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert np.allclose(ladder_feedback(T, [1.0, 0.75, 0.5, 0.25, 0.0]), T)
    # flow drops between 2 and 3 only: temperatures crowd into that interval
    new = ladder_feedback(T, [1.0, 0.99, 0.01, 0.0, 0.0])
    assert new[0] == 1 and new[-1] == 5 and np.all(np.diff(new) > 0)
    assert 2.0 <= new[1] < new[2] < new[3] <= 3.0
    with pytest.raises(ValueError, match="increasing"):
        ladder_feedback(T[::-1], T)
    with pytest.raises(ValueError, match="finite"):
        ladder_feedback(T, [1, np.nan, 0, 0, 0])
    assert np.allclose(geometric_ladder(1, 4, 3), [1, 2, 4])


def test_optimize_ladder_keeps_ends():
    pt = _pt(seed=5, T=geometric_ladder(1.5, 3.5, 5))
    new = pt.optimize_ladder(rounds=2, steps=300)
    assert new[0] == pytest.approx(1.5) and new[-1] == pytest.approx(3.5)
    assert np.all(np.diff(new) > 0)
    assert pt.run(20)[0].meta["tempering"]["T"] == new.tolist()


@pytest.mark.parametrize("kw, match", [
    ({"T": [2.0]}, "at least two"),
    ({"T": [2.0, 2.0]}, "duplicate"),
    ({"T": [2.0, -1.0]}, "positive"),
    ({"T": 2.0}, "sequence"),
    ({"T": LADDER, "beta": [1.0, 2.0]}, "exactly one"),
    ({"T": LADDER, "sweeps_per_exchange": 0}, "sweeps_per_exchange"),
    ({"T": LADDER, "algorithm": "wolf"}, "algorithm"),
])
def test_bad_input(kw, match):
    model = kd.Ising(kd.lattice.square(4))
    kw.setdefault("algorithm", "metropolis")
    with pytest.raises(ValueError, match=match):
        ParallelTempering(model, **kw)


def test_bad_run_arguments():
    pt = _pt()
    with pytest.raises(ValueError, match="steps"):
        pt.run(-1)
    with pytest.raises(ValueError, match="thermalize"):
        pt.run(10, thermalize=-2)
    with pytest.raises(TypeError):
        ParallelTempering(object(), T=LADDER)


# -- exchange energies: measured by the last sweep, not recomputed -------------

def _record_exchanges(pt):
    """Wrap pt._exchange: (energies used, model.energy of the slot states) per step."""
    seen = []
    exchange = pt._exchange

    def wrapped(E):
        seen.append((E.copy(), np.array([pt.model.energy(s) for s in pt.states])))
        exchange(E)
    pt._exchange = wrapped
    return seen


@pytest.mark.parametrize("model, algorithm, threads", [
    (kd.Ising(kd.lattice.triangular(6), J=0.7, h=0.13), "heatbath", 1),
    (kd.XY(kd.lattice.square(6)), "wolff", 2),
    (kd.Potts(kd.lattice.square(6), q=3), "metropolis", 2),
])
def test_exchange_uses_the_energy_of_the_current_states(model, algorithm, threads):
    """At every exchange -- while thermalising (adaptive or not), measuring,
    and thermalising after the freeze -- E_k is the energy of the state now
    at temperature k, after the swaps of the previous steps."""
    pt = ParallelTempering(model, T=[0.9, 1.1, 1.4, 2.0], algorithm=algorithm, rng=6,
                           threads=threads)
    seen = _record_exchanges(pt)
    pt.run(60, thermalize=20)
    pt.thermalize(20)
    assert pt._measured_ok is True and pt.accepts.sum() > 10
    assert len(seen) == 100
    for used, exact in seen:
        assert np.allclose(used, exact, rtol=0, atol=1e-10 * model.n_sites)


def test_exchange_does_not_recompute_energies():
    """model.energy runs once per replica (the one-off check of the measured
    values) plus only where no measurement exists (none here)."""
    model = kd.Ising(kd.lattice.square(6))
    calls = []
    energy = model.energy
    model.energy = lambda s: calls.append(1) or energy(s)
    pt = ParallelTempering(model, T=LADDER, algorithm="metropolis", rng=2)
    pt.run(50, thermalize=10)
    assert len(calls) == 4


class _WrongE(kd.Ising):
    """Its measured e is not H / N: ParallelTempering must not trust it."""

    def observables_from_raw(self, raw):
        out = super().observables_from_raw(raw)
        out["e"] = out["e"] + 0.5
        return out


def test_measured_energy_checked_against_model_energy():
    a = _pt(seed=8)
    ra = a.run(200, thermalize=20)
    b = ParallelTempering(_WrongE(kd.lattice.square(6)), T=LADDER, algorithm="metropolis",
                          rng=8)
    rb = b.run(200, thermalize=20)
    assert a._measured_ok is True and b._measured_ok is False
    for x, y in zip(ra, rb):
        assert np.array_equal(x["replica"], y["replica"])
        assert np.array_equal(x["e"] + 0.5, y["e"])
