"""kd.theory.ags against values from the literature and exact identities."""
import math

import numpy as np
import pytest
from scipy import optimize

from kadanoff.theory import ags


def test_capacity_and_overlap_at_capacity():
    # AGS (1985, 1987): alpha_c = 0.138 at T = 0 with m = 0.967 there
    a = ags.alpha_c()
    assert abs(a - 0.1379) < 3e-4
    assert abs(ags.solve_T0(a - 1e-6).m - 0.967) < 0.002
    assert ags.solve_T0(0.2).m == 0.0
    assert not ags.retrieval_exists(0.14, 0.0) and ags.retrieval_exists(0.137, 0.0)


def test_retrieval_global_minimum_below_0051():
    # AGS: retrieval states are ground states for alpha < 0.051 at T = 0
    diff = lambda a: ags.solve_T0(a).f - ags.solve_T0(a, "spin-glass").f
    a = optimize.brentq(diff, 0.02, 0.1, xtol=1e-6)
    assert 0.050 < a < 0.053
    assert ags.alpha_T_c(0.0, tol=1e-5) == pytest.approx(a, abs=2e-5)
    # the RS T_c line is re-entrant: at T = 0.1 retrieval wins up to a larger load
    assert ags.alpha_T_c(0.1, tol=1e-4) > a + 5e-4
    assert ags.T_c(0.053) == 0.0 and ags.T_c(0.05) > 0.15


def test_small_load_asymptotes():
    # AGS: T_M = 1 - 1.95 sqrt(alpha), T_c = 1 - 2.6 sqrt(alpha) for alpha -> 0
    a = 1e-3
    assert abs(ags.T_M(a, tol=1e-4) - (1 - 1.95 * math.sqrt(a))) < 2e-3
    assert abs(ags.T_c(a, tol=1e-4) - (1 - 2.6 * math.sqrt(a))) < 4e-3


def test_T0_limit_is_continuous():
    for a in (0.03, 0.1, 0.13):
        s0 = ags.solve_T0(a)
        s = ags.solve(a, 0.01)
        assert abs(s.m - s0.m) < 1e-4 and abs(s.C - s0.C) < 1e-3
        assert abs(s.u - s0.u) < 1e-4 and abs(s.f - s0.f) < 1e-3


def test_solution_is_self_consistent_and_stationary():
    a, T = 0.05, 0.4
    s = ags.solve(a, T)
    beta = 1 / T
    t, t2, _ = ags._avg(beta, s.m, math.sqrt(a * s.r))
    assert abs(t - s.m) < 1e-9 and abs(t2 - s.q) < 1e-9
    assert abs(s.r - s.q / (1 - beta * (1 - s.q)) ** 2) < 1e-12
    # f is stationary in m, q and r at the solution
    h = 1e-5
    for k in range(3):
        x = np.array([s.m, s.q, s.r])
        up, dn = x.copy(), x.copy()
        up[k] += h
        dn[k] -= h
        d = (ags.free_energy(*up, a, T) - ags.free_energy(*dn, a, T)) / (2 * h)
        assert abs(d) < 1e-5, (k, d)
    # u = d(beta f)/d(beta)
    db = 1e-4
    bf = lambda b: b * ags.solve(a, 1 / b).f
    assert abs((bf(beta + db) - bf(beta - db)) / (2 * db) - s.u) < 1e-5


def test_paramagnet_and_spin_glass_line():
    a = 0.04
    assert ags.T_g(a) == pytest.approx(1.2)
    T = 1.5
    s = ags.solve(a, T)
    assert s.m == 0 and s.q == 0
    # paramagnet: u = alpha/2 - alpha / (2 (1 - beta))
    assert s.u == pytest.approx(a / 2 - a / (2 * (1 - 1 / T)), rel=1e-10)
    assert ags.solve(a, 1.1, "spin-glass").q > 0          # below T_g
    assert ags.solve(a, 1.3, "spin-glass").q == 0         # above
    assert ags.solve(a, 0.9, diagonal=False).u == pytest.approx(ags.solve(a, 0.9).u - a / 2)


def test_zero_load_is_curie_weiss():
    s = ags.solve(0.0, 0.5)
    assert s.m == pytest.approx(math.tanh(s.m / 0.5), abs=1e-12) and s.m > 0.9
    assert ags.solve(0.0, 1.2).m == 0
    assert ags.T_M(0.0) == 1.0 and ags.alpha_M(1.0) == 0.0


def test_dense_low_load():
    assert ags.dense_transition(2) == (2.0, 2.0)
    assert ags.dense_solve(2, 1.0) == pytest.approx(optimize.brentq(
        lambda m: math.tanh(2 * m) - m, 0.1, 1.0))
    for p in (3, 4):
        TM, Tc = ags.dense_transition(p)
        assert Tc < TM
        m = ags.dense_solve(p, Tc * 0.999)
        assert m > 0.5 and ags.dense_solve(p, Tc * 1.001) == 0.0
        assert ags.dense_solve(p, Tc * 1.001, stable=False) > 0.5
        assert ags.dense_solve(p, TM * 1.001, stable=False) == 0.0
        # f(retrieval) = f(paramagnet) at T_c
        assert ags.dense_free_energy(ags.dense_solve(p, Tc, stable=False), p, Tc) == \
            pytest.approx(-Tc * math.log(2), abs=1e-8)
    assert ags.dense_solve(4, 0.0) == 1.0


def test_multitasking_amplitudes():
    np.testing.assert_allclose(ags.hierarchical_amplitudes(0.3, 4), 0.7 * 0.3 ** np.arange(4))
    # the cascade is a T = 0 fixed point while each signal beats the weaker ones
    np.testing.assert_allclose(ags.multitasking_amplitudes(0.3, 4), 0.7 * 0.3 ** np.arange(4))
    # P = 3: stable iff d + d^2 < 1 (d < 0.618); beyond, flatter amplitudes
    m = ags.multitasking_amplitudes(0.7, 3)
    casc = ags.hierarchical_amplitudes(0.7, 3)
    assert m[0] < casc[0] and m[2] > casc[2] and np.all(np.diff(m) < 0)
    # finite T lowers the weak amplitudes; high T kills them
    casc = ags.hierarchical_amplitudes(0.3, 3)
    warm = ags.multitasking_amplitudes(0.3, 3, T=0.05)
    assert np.all(warm <= casc + 1e-12) and warm[2] < 0.8 * casc[2]
    np.testing.assert_allclose(ags.multitasking_amplitudes(0.3, 3, T=2.0), 0, atol=1e-6)


def test_supervised_overlap():
    assert ags.supervised_overlap(1, 0.4) == pytest.approx(0.4)
    p = 0.7
    assert ags.supervised_overlap(3, 0.4) == pytest.approx(2 * (p ** 3 + 3 * p * p * (1 - p)) - 1)
    assert ags.supervised_overlap(2, 0.4) == pytest.approx(0.4)     # ties count 0
    assert ags.supervised_overlap(101, 0.3) > 0.99


@pytest.mark.parametrize("call", [
    lambda: ags.solve(-0.1, 0.5), lambda: ags.solve(0.1, -0.5),
    lambda: ags.solve(0.1, 0.5, branch="mixture"), lambda: ags.solve_T0(0.0),
    lambda: ags.dense_solve(1, 0.5), lambda: ags.dense_transition(2.5),
    lambda: ags.hierarchical_amplitudes(1.0, 3), lambda: ags.hierarchical_amplitudes(0.3, 0),
    lambda: ags.multitasking_amplitudes(0.3, 13), lambda: ags.supervised_overlap(0, 0.5),
    lambda: ags.supervised_overlap(3, 1.5), lambda: ags.solve(float("nan"), 0.5),
])
def test_bad_input(call):
    with pytest.raises(ValueError):
        call()
