"""Model-free entropy-production estimators against the exact Schnakenberg rate.

* KLD n-gram estimator on a driven 3-state cycle (discrete time): converges to
  the exact EPR per step (|z| < 4 at every length, error bar ~ 1/sqrt(N)); on a
  reversible chain the jackknife correction removes the plug-in bias.
* Continuous-time ring recorded jump by jump: KLD per jump times the jump rate
  is the exact EPR per unit time.
* TUR: the bound from simulated integrated currents lies below the exact EPR,
  and equals the closed form 2 (k+ - k-)^2 / (k+ + k-) for a uniform ring.
"""
import math

import numpy as np
import pytest

from kadanoff.analysis import entropy as ent

from .helpers import Z_MAX

# driven 3-state cycle, discrete time: a biased ring with an unequal stay probability
P_CYCLE = np.array([[0.2, 0.6, 0.2],
                    [0.1, 0.3, 0.6],
                    [0.5, 0.2, 0.3]])


def markov_chains(P, n_chains, T, rng):
    """n_chains independent stationary chains of length T (rows), vectorised over chains."""
    p = ent.schnakenberg(P, discrete=True).stationary
    cum = np.cumsum(P, axis=1)
    cum[:, -1] = 1.0
    x = np.empty((n_chains, T), dtype=np.int64)
    x[:, 0] = rng.choice(len(P), size=n_chains, p=p)
    u = rng.random((T, n_chains))
    for t in range(1, T):
        prev = x[:, t - 1]
        x[:, t] = (u[t][:, None] >= cum[prev]).sum(axis=1)
    return x


def test_kld_converges_to_exact_cycle_epr():
    exact = ent.schnakenberg(P_CYCLE, discrete=True).epr
    assert exact == pytest.approx(0.5037, abs=1e-3)
    rng = np.random.default_rng(2024)
    data = markov_chains(P_CYCLE, 100, 10_000, rng)         # 10^6 steps in 100 rows
    rows = {1_000: data[:1, :1000], 10_000: data[:1], 100_000: data[:10],
            1_000_000: data}
    dev, err = {}, {}
    for n, x in rows.items():
        k = ent.KLD(order=2).compute(x)
        dev[n] = k.epr.value - exact
        err[n] = k.epr.error
        assert abs(dev[n]) < Z_MAX * err[n], (n, dev[n], err[n])
    # the error bar shrinks like 1/sqrt(N) (factor 31.6 over 3 decades), so does the deviation
    assert 15 < err[1_000] / err[1_000_000] < 60
    assert abs(dev[1_000_000]) < 0.01
    # order 3: D3 - D2 estimates the same rate for a first-order chain
    k3 = ent.KLD(order=3).compute(data)
    assert abs(k3.epr.value - exact) < Z_MAX * k3.epr.error
    assert np.all(k3.dropped == 0)


def test_kld_reversible_chain_bias_corrected():
    # detailed balance: reversible chain with non-uniform stationary state, exact EPR 0
    p = np.array([0.5, 0.3, 0.2])
    S = np.array([[0, 0.1, 0.1], [0.1, 0, 0.05], [0.1, 0.05, 0]])
    P = S / p[:, None]
    np.fill_diagonal(P, 1 - P.sum(axis=1))
    assert ent.schnakenberg(P, discrete=True).epr < 1e-14
    x = markov_chains(P, 200, 2_000, np.random.default_rng(11))
    plain = np.array([ent.KLD(correction=None).compute(r).epr.value for r in x])
    corr = np.array([ent.KLD().compute(r).epr for r in x])
    # plug-in bias ~ (#pairs w != w^R)/N = 3/2000 per replica: clearly positive on average
    z_plain = plain.mean() / (plain.std(ddof=1) / math.sqrt(len(plain)))
    assert z_plain > 10
    v = corr[:, 0]
    z_corr = v.mean() / (v.std(ddof=1) / math.sqrt(len(v)))
    assert abs(z_corr) < Z_MAX
    # the jackknife error bar is honest: scatter of the replicas vs the mean reported error
    assert 0.7 < v.std(ddof=1) / corr[:, 1].mean() < 1.4


def ring_rates(n, kp, km):
    R = np.zeros((n, n))
    for x in range(n):
        R[x, (x + 1) % n] = kp[x]
        R[x, (x - 1) % n] = km[x]
    return R


def gillespie_ring(R, t_end, n_traj, rng, p0):
    """Continuous-time ring: net clockwise jumps J_t of n_traj independent trajectories,
    and the visited-state sequence of the first one."""
    n = len(R)
    kp = np.array([R[x, (x + 1) % n] for x in range(n)])
    km = np.array([R[x, (x - 1) % n] for x in range(n)])
    lam = kp + km
    s = rng.choice(n, size=n_traj, p=p0)
    t = np.zeros(n_traj)
    J = np.zeros(n_traj, dtype=np.int64)
    path = [int(s[0])]
    active = np.ones(n_traj, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        si = s[idx]
        t[idx] += rng.exponential(1.0 / lam[si])
        jump = t[idx] <= t_end
        active[idx[~jump]] = False
        idx, si = idx[jump], si[jump]
        up = rng.random(len(idx)) * lam[si] < kp[si]
        step = np.where(up, 1, -1)
        s[idx] = (si + step) % n
        J[idx] += step
        if len(idx) and idx[0] == 0:
            path.append(int(s[0]))
    return J, np.array(path)


def test_tur_bound_below_exact_epr_and_kld_per_jump():
    R = ring_rates(3, kp=[2.0, 3.0, 1.5], km=[0.5, 1.0, 0.8])
    sch = ent.schnakenberg(ent.generator(R))
    rng = np.random.default_rng(99)
    t_end = 30.0
    J, path = gillespie_ring(R, t_end, 4000, rng, sch.stationary)
    bound = ent.tur_bound(J, t_end)
    # mean current is exact from the stationary state: J = 3 * (net current on one edge)
    assert abs(J.mean() - 3 * sch.current[0, 1] * t_end) < Z_MAX * J.std() / math.sqrt(len(J))
    assert bound.value < sch.epr + Z_MAX * bound.error
    assert 0.3 * sch.epr < bound.value          # a useful, not a vacuous, bound here
    # a single long trajectory recorded jump by jump (~ 1.5e5 jumps): EPR per jump
    _, path = gillespie_ring(R, 40_000.0, 1, np.random.default_rng(5), sch.stationary)
    lam = -np.diag(ent.generator(R))
    jump_rate = float(sch.stationary @ lam)
    k = ent.KLD(order=2).compute(path)
    assert abs(k.epr.value * jump_rate - sch.epr) < Z_MAX * k.epr.error * jump_rate


def test_tur_uniform_ring_closed_form():
    kp, km = 2.0, 1.0
    R = ring_rates(3, [kp] * 3, [km] * 3)
    sch = ent.schnakenberg(ent.generator(R))
    assert sch.epr == pytest.approx((kp - km) * math.log(kp / km))
    J, _ = gillespie_ring(R, 10.0, 20_000, np.random.default_rng(3), sch.stationary)
    bound = ent.tur_bound(J, 10.0)
    exact_bound = 2 * (kp - km) ** 2 / (kp + km)      # J_t = Poisson(kp t) - Poisson(km t)
    assert abs(bound.value - exact_bound) < Z_MAX * bound.error
    assert exact_bound < sch.epr
