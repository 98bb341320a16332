"""Associative memories against exact enumeration of all 2^N states (N <= 12):
<e>, <m_mu> and <m_mu^2> within 4 standard errors (the run's own errors)
for the pairwise, p = 3, p = 4 and exponential energies, diluted patterns,
the integer-valued (supervised) kernel path and the screened decisions."""
import numpy as np
import pytest

import kadanoff as kd
from kadanoff import hopfield as hp
from kadanoff.analysis import error_of_mean

from .helpers import Z_MAX

SWEEPS = 100_000
ALGORITHMS = ("glauber", "metropolis")


def all_states(N):
    return (1 - 2 * ((np.arange(2 ** N)[:, None] >> np.arange(N)) & 1)).astype(np.int8)


def exact(model, T):
    """Boltzmann averages of e = H/N, the overlaps and their squares."""
    states = all_states(model.n_sites)
    E = model.energy(states)
    w = np.exp(-(E - E.min()) / T)
    w /= w.sum()
    q = model.overlaps(states)
    return {"e": w @ E / model.n_sites, "overlap": w @ q, "overlap2": w @ q ** 2}


def z_scores(res, ex):
    q = res["overlap"]
    assert res.error("e") > 0, "the chain did not move"
    out = {"e": (res.mean("e") - ex["e"]) / res.error("e")}
    err = error_of_mean(q)
    err2 = error_of_mean(q ** 2)
    for k in range(q.shape[1]):
        if err[k] == 0:       # a blank pattern (all entries 0): overlap exactly 0
            assert np.all(q[:, k] == 0) and abs(ex["overlap2"][k]) < 1e-15
            continue
        out[f"m{k}"] = (q[:, k].mean() - ex["overlap"][k]) / err[k]
        if err2[k] == 0:      # a single non-zero entry: m^2 = 1/N^2 always
            assert abs(q[0, k] ** 2 - ex["overlap2"][k]) < 1e-12
            continue
        out[f"m{k}^2"] = ((q[:, k] ** 2).mean() - ex["overlap2"][k]) / err2[k]
    return out


def check(model, T, algorithm, seed, label, sweeps=SWEEPS, **options):
    sim = kd.Simulation(model, T=T, algorithm=algorithm, rng=seed, **options)
    res = sim.run(sweeps=sweeps, thermalize=2_000)
    z = z_scores(res, exact(model, T))
    bad = {k: round(float(v), 2) for k, v in z.items() if not abs(v) < Z_MAX}
    assert not bad, f"{label} {algorithm}: |z| >= {Z_MAX} for {bad} (all: " \
                    f"{ {k: round(float(v), 2) for k, v in z.items()} })"
    return res


N = 10
XI = hp.random_patterns(3, N, rng=5)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_pairwise(algorithm):
    check(hp.Hopfield(XI), 0.5, algorithm, 31, "Hopfield N=10 P=3")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_pairwise_no_diagonal_biased_patterns(algorithm):
    xi = hp.random_patterns(4, 11, bias=0.4, rng=6)
    check(hp.Hopfield(xi, remove_diagonal=True), 0.7, algorithm, 32, "Hopfield biased")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_dense_p3(algorithm):
    check(hp.DenseHopfield(XI, 3), 1.5, algorithm, 33, "dense p=3")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_dense_p4(algorithm):
    check(hp.DenseHopfield(hp.random_patterns(3, 12, rng=7), 4), 2.0, algorithm, 34,
          "dense p=4 N=12")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("lam", [3.0, None])
def test_exponential(algorithm, lam):
    T = 0.8 if lam is None else 0.6
    check(hp.ExponentialHopfield(XI, lam=lam), T, algorithm, 35, f"exponential lam={lam}")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_multitasking_diluted(algorithm):
    xi = hp.random_patterns(3, N, dilution=0.4, rng=8)
    check(hp.Multitasking(xi), 0.5, algorithm, 36, "multitasking d=0.4")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_supervised_integer_path(algorithm):
    # class sums up to +-5: the integer-valued kernel path
    ex = hp.noisy_examples(XI, 5, 0.4, rng=9)
    model = hp.Supervised(ex, p=3)
    assert not model._binary
    check(model, 0.4, algorithm, 37, "supervised p=3")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_supervised_labels_unequal_classes(algorithm):
    rng = np.random.default_rng(10)
    ex = rng.choice(np.array([-1, 1], dtype=np.int8), size=(7, N))
    labels = np.array(["a", "b", "a", "c", "a", "b", "c"])
    check(hp.Supervised(ex, labels, p=2), 0.4, algorithm, 38, "supervised labels")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_unsupervised(algorithm):
    ex = hp.noisy_examples(XI, 3, 0.6, rng=11)
    check(hp.Unsupervised(ex, p=2), 0.5, algorithm, 39, "unsupervised p=2")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_targets_observable(algorithm):
    ex = hp.noisy_examples(XI, 3, 0.6, rng=12)
    check(hp.Supervised(ex, p=2, targets=XI), 0.5, algorithm, 40, "supervised targets")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("kind", ["dense4", "exponential", "blank-entries"])
def test_screened_decisions(algorithm, kind):
    """The kernel's screening (decisions from the largest terms and a bound on
    the rest, automatic for P >= 256, forced here for P = 40) must leave the
    distribution exact."""
    if kind == "dense4":
        model, T = hp.DenseHopfield(hp.random_patterns(40, N, rng=13), 4), 4.0
    elif kind == "exponential":
        model, T = hp.ExponentialHopfield(hp.random_patterns(40, N, rng=14), lam=6.0), 1.0
    else:    # 40 examples with blank entries, p = 4
        model, T = hp.Unsupervised(hp.random_patterns(40, N, dilution=0.3, rng=15), p=4), 1.0
    model._screen = "force"
    res = check(model, T, algorithm, 41, f"screened {kind}", sweeps=50_000)
    assert res.meta["algorithm_info"]["screened"] > 0.01


@pytest.mark.parametrize("sweep", ["sequential", "random"])
def test_sweep_orders(sweep):
    check(hp.DenseHopfield(XI, 3), 1.5, "glauber", 42, f"dense p=3 {sweep}", sweep=sweep)
