"""Associative memories against mean-field theory (kd.theory.ags).

Each check states N and its tolerance. Mean-field results hold for
N -> infinity; at finite N the retrieval overlap and energy carry O(1/sqrt N)
sample-to-sample fluctuations and small systematic corrections, so the
tolerance is 4 standard errors of the disorder average (several pattern
sets) plus a stated finite-size allowance, measured once at the given N and
kept well below the effect being tested.
"""
import numpy as np
import pytest

import kadanoff as kd
from kadanoff import hopfield as hp
from kadanoff.theory import ags


def anneal(model, temperatures, seed, state=None, sweeps=20):
    """Glauber sweeps down a temperature ladder; returns the last Simulation."""
    sim = None
    for T in temperatures:
        sim = kd.Simulation(model, T=T, rng=seed, state=state if sim is None else sim.state)
        sim.run(sweeps=0, thermalize=sweeps)
    return sim


def disorder_mean(values):
    v = np.asarray(values, dtype=float)
    return v.mean(axis=0), v.std(axis=0, ddof=1) / np.sqrt(len(v))


# ---------------------------------------------------------------------------
# pairwise Hopfield network
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("synchronous", [False, True])
def test_zero_temperature_retrieval_at_low_load(synchronous):
    """N = 1000, P = 20 (alpha = 0.02): cues with 20% of the neurons flipped
    return to their pattern (overlap >= 0.99, a fixed point)."""
    xi = hp.random_patterns(20, 1000, rng=101)
    net = hp.Hopfield(xi)
    for k in range(10):
        out = net.retrieve(hp.corrupt(xi[k], 0.2, rng=k), synchronous=synchronous)
        assert out.converged, k
        assert out.overlap[k] >= 0.99, (k, out.overlap[k])
        assert np.all(np.abs(np.delete(out.overlap, k)) < 0.15)


@pytest.mark.parametrize("alpha", [0.1, 0.12])
def test_ags_overlap_at_zero_temperature(alpha):
    """N = 4000, 8 pattern sets: the fixed point reached from a pattern has
    the AGS overlap m(alpha, T = 0) within 4 SE + 0.002."""
    N = 4000
    ms = []
    for seed in range(8):
        xi = hp.random_patterns(int(alpha * N), N, rng=200 + seed)
        ms.append(hp.Hopfield(xi).retrieve(xi[0]).overlap[0])
    m, se = disorder_mean(ms)
    theory = ags.solve_T0(alpha).m
    assert abs(m - theory) < 4 * se + 0.002, (m, se, theory)


@pytest.mark.parametrize("alpha, T", [(0.05, 0.3), (0.1, 0.2), (0.02, 0.6)])
def test_ags_overlap_and_energy_at_finite_temperature(alpha, T):
    """N = 4000, 4 pattern sets, Glauber from the pattern: <m> and <e> agree
    with the AGS retrieval solution within 4 SE + 0.006 (m) and + 0.004 (e)
    (J_ii = 0, the AGS convention)."""
    N = 4000
    th = ags.solve(alpha, T)
    ms, es = [], []
    for seed in range(4):
        xi = hp.random_patterns(int(alpha * N), N, rng=300 + seed)
        model = hp.Hopfield(xi, remove_diagonal=True)
        res = kd.Simulation(model, T=T, rng=seed, state=xi[0]).run(sweeps=300, thermalize=100)
        ms.append(res["overlap"][:, 0].mean())
        es.append(res.mean("e"))
    m, sm = disorder_mean(ms)
    e, se = disorder_mean(es)
    assert abs(m - th.m) < 4 * sm + 0.006, (m, sm, th.m)
    assert abs(e - th.u) < 4 * se + 0.004, (e, se, th.u)


def _retrieval_fraction(N, alpha, samples, seed0):
    ok = 0
    for s in range(samples):
        xi = hp.random_patterns(round(alpha * N), N, rng=seed0 + s)
        ok += hp.Hopfield(xi).retrieve(xi[0], max_sweeps=300).overlap[0] > 0.9
    return ok / samples


def _crossing(alphas, fractions):
    """alpha where the retrieval fraction falls through 1/2 (linear interpolation)."""
    for a0, a1, f0, f1 in zip(alphas, alphas[1:], fractions, fractions[1:]):
        if f0 >= 0.5 > f1:
            return a0 + (a1 - a0) * (f0 - 0.5) / (f0 - f1)
    raise AssertionError(f"no crossing in {list(zip(alphas, fractions))}")


def test_capacity_at_finite_N():
    """N = 2000, 12 pattern sets per load: every set retrieves at alpha = 0.1,
    none at alpha = 0.22, and half of them at alpha_50 in [0.138, 0.175]:
    above alpha_c = 0.138 by the known finite-size excess (it decreases
    towards alpha_c with N; see the slow test)."""
    alphas = [0.10, 0.14, 0.16, 0.18, 0.22]
    fr = [_retrieval_fraction(2000, a, 12, 400) for a in alphas]
    assert fr[0] == 1.0 and fr[-1] == 0.0, fr
    assert 0.138 <= _crossing(alphas, fr) <= 0.175, fr


@pytest.mark.slow
def test_capacity_approaches_alpha_c_with_N():
    """alpha_50(N) decreases from N = 1000 to N = 8000 and stays above 0.138."""
    alphas = [0.13, 0.14, 0.15, 0.16, 0.17, 0.18, 0.2]
    cross = [_crossing(alphas, [_retrieval_fraction(N, a, 24, 500) for a in alphas])
             for N in (1000, 8000)]
    assert ags.ALPHA_C < cross[1] < cross[0], cross


# ---------------------------------------------------------------------------
# dense networks
# ---------------------------------------------------------------------------
def test_dense_networks_store_many_more_patterns_than_neurons():
    """N = 100, P = 2000 (P / N = 20): p = 4 and exponential networks return
    every tested pattern from 15% noise at T = 0, and p = 4 also at low T
    (T = 0.5, far below T_c = 1.45); the pairwise network (capacity
    0.138 N) and p = 3 (~N^2 / (6 ln N) = 360) do not. (The exponential
    energy is not extensive away from a pattern, so at T > 0 its basin
    shrinks to a few flips: it is tested at T = 0.)"""
    N, P = 100, 2000
    xi = hp.random_patterns(P, N, rng=600)
    cues = [hp.corrupt(xi[k], 0.15, rng=k) for k in range(20)]

    def overlaps(model):
        return np.array([model.retrieve(c).overlap[k] for k, c in enumerate(cues)])

    assert np.all(overlaps(hp.DenseHopfield(xi, 4)) == 1.0)
    assert np.all(overlaps(hp.ExponentialHopfield(xi)) == 1.0)
    assert overlaps(hp.Hopfield(xi)).mean() < 0.5
    assert overlaps(hp.DenseHopfield(xi, 3)).mean() < 0.5
    # low noise: Monte Carlo from a cue goes to the pattern and stays there
    res = kd.Simulation(hp.DenseHopfield(xi, 4), T=0.5, rng=601,
                        state=cues[0]).run(sweeps=50, thermalize=20)
    assert res["overlap"][:, 0].mean() > 0.99
    res = kd.Simulation(hp.Hopfield(xi), T=0.05, rng=602, state=cues[0]).run(sweeps=50)
    assert res["overlap"][:, 0].mean() < 0.5


@pytest.mark.parametrize("p, T", [(3, 1.2), (3, 1.4), (4, 1.0), (4, 1.4)])
def test_dense_low_load_mean_field(p, T):
    """N = 2000, P = 5: <m> of the retrieval state equals the root of
    m = tanh(beta p m^(p-1)) within 4 SE + 0.002 (1.4 lies between T_c and
    the spinodal for p = 3: the metastable branch)."""
    ms = []
    for seed in range(3):
        xi = hp.random_patterns(5, 2000, rng=700 + seed)
        res = kd.Simulation(hp.DenseHopfield(xi, p), T=T, rng=seed,
                            state=xi[0]).run(sweeps=300, thermalize=100)
        ms.append(res["overlap"][:, 0].mean())
    m, se = disorder_mean(ms)
    theory = ags.dense_solve(p, T, stable=False)
    assert abs(m - theory) < 4 * se + 0.002, (m, se, theory)


# ---------------------------------------------------------------------------
# multitasking
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("d", [0.3, 0.7])
def test_multitasking_hierarchy(d):
    """N = 20000, P = 3 diluted patterns, annealed from T = 1 to 0.05 from a
    random state: all three overlaps are non-zero at once, ordered, and
    (sorted) match the low-load signal-to-noise solution at T = 0.05 within
    4 SE + 0.012 (the finite-N excess of the weaker amplitudes is ~1/sqrt N).
    d = 0.3: hierarchical, m_k ~ (1 - d) d^(k-1); d = 0.7: parallel regime."""
    P, N = 3, 20000
    theory = ags.multitasking_amplitudes(d, P, T=0.05)
    amps = []
    for seed in range(3):
        xi = hp.random_patterns(P, N, dilution=d, rng=800 + seed)
        sim = anneal(hp.Multitasking(xi), [1.0, 0.8, 0.6, 0.4, 0.3, 0.2, 0.1, 0.05], seed)
        res = sim.run(sweeps=100)
        amps.append(np.sort(np.abs(res.mean("overlap")))[::-1])
    m, se = disorder_mean(amps)
    assert np.all(m > 0.03) and np.all(np.diff(m) < 0), m
    assert np.all(np.abs(m - theory) < 4 * se + 0.012), (m, se, theory)
    if d == 0.3:
        np.testing.assert_allclose(m[1] / m[0], d, atol=0.03)
    else:       # parallel: far flatter than the cascade 0.3, 0.21, 0.147
        assert m[2] / m[0] > 0.5


# ---------------------------------------------------------------------------
# learning from examples
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("M", [1, 3, 9])
def test_supervised_retrieval_is_the_majority_vote(M):
    """N = 2000, P = 3 archetypes, M examples of quality r = 0.4 each: the
    T = 0 state reached from the archetype has the overlap of the majority
    vote of the examples (kd.theory.ags.supervised_overlap) within 4 SE +
    0.015; more examples give a better archetype."""
    r, ms, mu = 0.4, [], []
    for seed in range(6):
        xi = hp.random_patterns(3, 2000, rng=900 + seed)
        ex = hp.noisy_examples(xi, M, r, rng=950 + seed)
        ms.append(hp.Supervised(ex, targets=xi).retrieve(xi[0]).overlap[0])
        mu.append(hp.Unsupervised(ex, targets=xi).retrieve(xi[0]).overlap[0])
    m, se = disorder_mean(ms)
    theory = ags.supervised_overlap(M, r)
    assert abs(m - theory) < 4 * se + 0.015, (m, se, theory)
    if M == 1:      # one example per class: both rules store the same vectors
        np.testing.assert_array_equal(ms, mu)
    else:
        assert m > r + 0.1
