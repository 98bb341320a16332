"""Unit tests for kadanoff.analysis.entropy (exact Schnakenberg EPR, KLD and TUR estimators)."""
import dataclasses
import math

import numpy as np
import pytest

from kadanoff.analysis import entropy as ent


def ring(n, kp, km):
    R = np.zeros((n, n))
    for x in range(n):
        R[x, (x + 1) % n] = kp
        R[x, (x - 1) % n] = km
    return ent.generator(R)


# --------------------------------------------------------------------------
# schnakenberg
# --------------------------------------------------------------------------
@pytest.mark.parametrize("n,kp,km", [(3, 2.0, 1.0), (4, 3.0, 0.5), (5, 1.0, 1.0)])
def test_ring_closed_form(n, kp, km):
    s = ent.schnakenberg(ring(n, kp, km))
    np.testing.assert_allclose(s.stationary, np.full(n, 1 / n), atol=1e-13)
    J = (kp - km) / n
    assert s.current[0, 1] == pytest.approx(J, abs=1e-13)
    assert s.current[1, 0] == pytest.approx(-J, abs=1e-13)
    exact = (kp - km) * math.log(kp / km)    # n edges, J ln(kp/km) each
    assert s.epr == pytest.approx(exact, rel=1e-12, abs=1e-14)
    assert s.edge_epr.sum() / 2 == pytest.approx(s.epr, rel=1e-12, abs=1e-14)
    np.testing.assert_allclose(s.current, -s.current.T)
    assert np.all(s.edge_epr >= -1e-15)
    assert not s.discrete and "per unit time" in repr(s)


def test_detailed_balance_gives_zero():
    rng = np.random.default_rng(1)
    n = 6
    E = rng.normal(size=n)
    S = rng.uniform(0.1, 1, (n, n))
    S = S + S.T
    R = S * np.exp(-(E[None, :] - E[:, None]) / 2)   # Metropolis-like, symmetric in Boltzmann
    s = ent.schnakenberg(ent.generator(R))
    p = np.exp(-E) / np.exp(-E).sum()
    np.testing.assert_allclose(s.stationary, p, rtol=1e-10)
    assert abs(s.epr) < 1e-12
    assert np.abs(s.current).max() < 1e-12


def test_random_generator_matches_formula_and_conventions():
    rng = np.random.default_rng(2)
    n = 5
    R = rng.uniform(0.2, 2.0, (n, n))
    Q = ent.generator(R)
    s = ent.schnakenberg(Q)
    p = s.stationary
    np.testing.assert_allclose(p @ Q, 0, atol=1e-13)
    direct = sum(p[x] * Q[x, y] * math.log(Q[x, y] / Q[y, x])
                 for x in range(n) for y in range(n) if x != y)
    assert s.epr == pytest.approx(direct, rel=1e-11)
    half = 0.5 * np.nansum(s.current * s.affinity)
    assert s.epr == pytest.approx(half, rel=1e-11)
    t = ent.schnakenberg(Q.T, convention="columns")
    np.testing.assert_allclose(t.stationary, p)
    np.testing.assert_allclose(t.current, s.current)
    assert t.epr == pytest.approx(s.epr, rel=1e-14)
    np.testing.assert_allclose(ent.generator(R.T, convention="columns"), Q.T)


def test_discrete_time():
    P = np.array([[0.2, 0.5, 0.3], [0.3, 0.2, 0.5], [0.5, 0.3, 0.2]])  # doubly stochastic
    s = ent.schnakenberg(P, discrete=True)
    np.testing.assert_allclose(s.stationary, 1 / 3)
    assert s.epr == pytest.approx(0.2 * math.log(5 / 3), rel=1e-12)   # 3 * (1/3)(.5-.3) ln(5/3)
    assert s.discrete and "per step" in repr(s)
    rng = np.random.default_rng(3)
    P = rng.uniform(0.05, 1, (4, 4))
    P /= P.sum(axis=1, keepdims=True)
    s = ent.schnakenberg(P, discrete=True)
    p = s.stationary
    np.testing.assert_allclose(p @ P, p, atol=1e-13)
    direct = sum(p[x] * P[x, y] * math.log(P[x, y] / P[y, x])
                 for x in range(4) for y in range(4))
    assert s.epr == pytest.approx(direct, rel=1e-11)


def test_transient_states_and_sparse_input():
    import scipy.sparse as sp
    Q = np.zeros((4, 4))
    Q[:3, :3] = ring(3, 2.0, 1.0)
    Q[3, 0] = 1.0            # transient state 3 feeds the ring, never re-entered
    Q[3, 3] = -1.0
    s = ent.schnakenberg(sp.csr_matrix(Q))
    assert s.stationary[3] == 0
    assert s.epr == pytest.approx(math.log(2), rel=1e-12)


def test_result_is_read_only():
    s = ent.schnakenberg(ring(3, 2, 1))
    with pytest.raises(ValueError):
        s.current[0, 1] = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.epr = 0.0


def test_irreversible_edge_gives_inf_with_warning():
    Q = ring(3, 1.0, 0.0)
    with pytest.warns(ent.EntropyWarning, match="infinite"):
        s = ent.schnakenberg(Q)
    assert s.epr == math.inf
    assert s.edge_epr[0, 1] == math.inf
    assert s.current[0, 1] == pytest.approx(1 / 3)


@pytest.mark.parametrize("W,kw,match", [
    (np.zeros((2, 3)), {}, "square"),
    (np.zeros((0, 0)), {}, "square"),
    ([[-1.0, 1.0], [np.nan, 0]], {}, "non-finite"),
    ([[1.0, -1.0], [1.0, -1.0]], {}, "rate 0->1"),
    ([[-1.0, 1.0], [1.0, -0.5]], {}, "sum to 0"),
    ([[-1.0, 1.0], [1.0, -0.5]], {"convention": "columns"}, "columns must sum to 0"),
    ([[0.5, 0.6], [0.5, 0.5]], {"discrete": True}, "sum to 1"),
    ([[1.5, -0.5], [0.5, 0.5]], {"discrete": True}, r"\[0, 1\]"),
    ([[-1.0, 1.0], [1.0, -1.0]], {"convention": "row"}, "convention"),
    ([[-1.0, 1.0], [1.0, -1.0]], {"tol": -1}, "tol"),
    (np.zeros((3, 3)), {}, "reducible"),
    ([["a"]], {}, "numeric"),
])
def test_schnakenberg_bad_input(W, kw, match):
    with pytest.raises(ValueError, match=match):
        ent.schnakenberg(W, **kw)


def test_reducible_two_blocks():
    Q = np.zeros((4, 4))
    Q[:2, :2] = [[-1, 1], [1, -1]]
    Q[2:, 2:] = [[-1, 1], [1, -1]]
    with pytest.raises(ValueError, match="2 closed classes"):
        ent.schnakenberg(Q)


def test_generator_rejects_negative_rates():
    with pytest.raises(ValueError, match="non-negative"):
        ent.generator([[0, -1], [1, 0]])


# --------------------------------------------------------------------------
# KLD estimator
# --------------------------------------------------------------------------
def markov_chain(P, T, rng, x0=0):
    cum = np.cumsum(P, axis=1)
    u = rng.random(T)
    x = np.empty(T, dtype=np.int64)
    x[0] = x0
    for t in range(1, T):
        x[t] = min(np.searchsorted(cum[x[t - 1]], u[t], side="right"), len(P) - 1)
    return x


def test_kld_plugin_by_hand():
    x = np.array([0, 1, 2] * 8 + [0, 2, 1, 0, 0, 3, 3])  # 3->0 never seen: 0->3 is dropped
    k = ent.KLD(order=2, n_blocks=2, correction=None, max_dropped=1.0).compute(x)
    pairs = list(zip(x[:-1], x[1:]))
    from collections import Counter
    c = Counter(pairs)
    n = len(pairs)
    expect = sum(v / n * math.log(v / c[(b, a)]) for (a, b), v in c.items() if c[(b, a)] > 0)
    dropped = sum(v for (a, b), v in c.items() if c[(b, a)] == 0) / n
    assert k.rate_by_order[1] == pytest.approx(expect, rel=1e-12)
    assert k.epr.value == pytest.approx(expect, rel=1e-12)
    assert k.dropped[1] == pytest.approx(dropped)
    assert k.dropped[1] > 0 and k.n_states == 4 and k.n_samples == len(x)


def test_kld_markov_chain_and_orders():
    P = np.array([[0.2, 0.6, 0.2], [0.1, 0.3, 0.6], [0.5, 0.2, 0.3]])
    exact = ent.schnakenberg(P, discrete=True).epr
    x = markov_chain(P, 60_000, np.random.default_rng(4))
    k = ent.KLD(order=3).compute(x)
    assert k.divergence[0] == 0 and k.rate_by_order[0] == 0
    for o in (1, 2):                                  # D2 and D3 - D2 both estimate sigma
        assert abs(k.rate_by_order[o] - exact) < 4 * k.rate_error[o]
    assert k.epr.error > 0
    kd2 = ent.KLD(order=2, dt=0.5).compute(x)
    assert kd2.epr.value == pytest.approx(k.rate_by_order[1] * 2, rel=1e-12)
    assert ent.kld_epr(x, 2, dt=0.5) == kd2.epr


def test_kld_reversible_iid_and_bias_correction():
    rng = np.random.default_rng(7)
    x = rng.integers(0, 4, 4000)
    plain = ent.KLD(correction=None).compute(x).epr
    corr = ent.KLD().compute(x).epr
    assert plain.value > 0                            # plug-in is biased up
    assert abs(corr.value) < 4 * corr.error
    assert corr.value < plain.value


def test_kld_irreversible_warns():
    x = np.tile([0, 1, 2], 200)
    with pytest.warns(ent.EntropyWarning, match="unseen reverse"):
        k = ent.KLD().compute(x)
    assert k.dropped[1] == 1.0


def test_kld_rows_results_and_bins():
    from kadanoff.results import Results
    rng = np.random.default_rng(3)
    x = rng.integers(0, 3, (4, 500))
    k2 = ent.KLD(correction=None).compute(x)
    # no pair crosses a row boundary: 4 * 499 pairs
    pairs = np.concatenate([x[:, :-1].ravel() * 3 + x[:, 1:].ravel()])
    assert len(pairs) == 4 * 499
    c = np.bincount(pairs, minlength=9).reshape(3, 3)
    expect = np.sum(c * np.log(c / c.T)) / c.sum()
    assert k2.epr.value == pytest.approx(expect, rel=1e-12)
    res = Results({"s": x[0]})
    assert ent.KLD().compute(res, "s").epr == ent.KLD().compute(x[0]).epr
    y = x[0] + 0.3 * rng.random(500)                  # continuous, binned back to 3 states
    kb = ent.KLD(bins=[0, 1, 2, 3]).compute(y)
    assert kb.epr == ent.KLD().compute(x[0]).epr
    assert ent.KLD(bins=3).compute(y).n_states == 3


@pytest.mark.parametrize("kw,match", [
    ({"order": 1}, "order"), ({"order": 2.5}, "order"), ({"dt": 0}, "dt"),
    ({"n_blocks": 1}, "n_blocks"), ({"correction": "mm"}, "correction"),
    ({"bins": 1}, "bins"), ({"bins": [0, 1]}, "bins"), ({"max_dropped": 2}, "max_dropped"),
])
def test_kld_bad_config(kw, match):
    with pytest.raises(ValueError, match=match):
        ent.KLD(**kw).compute(np.arange(1000) % 3)


@pytest.mark.parametrize("data,match", [
    (np.array([0, 1, np.nan] * 100), "non-finite"),
    (np.array([0.5, 1.0] * 100), "bins="),
    (np.array([0, 1]), "too short"),
    (np.arange(50) % 3, "too short"),
    (np.zeros((2, 2, 2)), "1-D"),
    (np.array(["a", "b"] * 100), "numeric"),
])
def test_kld_bad_data(data, match):
    with pytest.raises(ValueError, match=match):
        ent.KLD().compute(data)


def test_kld_results_needs_name():
    from kadanoff.results import Results
    with pytest.raises(ValueError, match="series name"):
        ent.KLD().compute(Results({"s": np.arange(300) % 3}))
    with pytest.raises(ValueError, match="not computed|compute"):
        _ = ent.KLD().epr


# --------------------------------------------------------------------------
# TUR
# --------------------------------------------------------------------------
def test_tur_bound_value_and_jackknife():
    rng = np.random.default_rng(0)
    J = rng.normal(3.0, 2.0, 400)
    b = ent.tur_bound(J, 2.0)
    assert b.value == pytest.approx(2 * J.mean() ** 2 / (2.0 * J.var(ddof=1)), rel=1e-12)
    # brute-force delete-one jackknife
    reps = np.array([2 * np.delete(J, i).mean() ** 2 / (2.0 * np.delete(J, i).var(ddof=1))
                     for i in range(len(J))])
    err = math.sqrt((len(J) - 1) / len(J) * np.sum((reps - reps.mean()) ** 2))
    assert b.error == pytest.approx(err, rel=1e-8)
    inc = np.repeat(J / 4, 4)                        # windows of 4 increments sum back to J
    assert ent.tur_bound_from_increments(inc, 4, dt=0.5) == b


@pytest.mark.parametrize("args,match", [
    ((np.ones(10), 1.0), "zero variance"), ((np.arange(2.0), 1.0), "at least 3"),
    ((np.arange(5.0), 0.0), "t must"), ((np.array([1.0, np.nan, 2, 3]), 1.0), "non-finite"),
    ((np.ones((3, 3)), 1.0), "1-D"),
])
def test_tur_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        ent.tur_bound(*args)


def test_tur_increments_too_short():
    with pytest.raises(ValueError, match="too short"):
        ent.tur_bound_from_increments(np.arange(10.0), 4)
    with pytest.raises(ValueError, match="window"):
        ent.tur_bound_from_increments(np.arange(10.0), 0)
