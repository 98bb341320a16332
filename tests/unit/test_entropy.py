"""Unit tests for kadanoff.analysis.entropy (exact Schnakenberg EPR, KLD and TUR estimators)."""
import math
import warnings

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
    with pytest.raises(Exception):
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
