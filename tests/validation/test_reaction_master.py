"""Reaction-diffusion engine against the exact master equation (<= 4 sites).

Transient probabilities come from scipy's expm of the rate matrix built
independently from the rules (kadanoff.theory.reaction.MasterEquation); mean
absorption times from the linear solve on the transient states. Every
comparison is a z-score against the run's own standard error (binomial for
probabilities, sample standard deviation / sqrt(runs) for means), |z| < Z_MAX.
"""
import numpy as np
import pytest

import kadanoff as kd
from kadanoff.models import reaction as rd
from kadanoff.theory.reaction import MasterEquation

from .helpers import Z_MAX


def _prob_z(freq, p, runs, p_min=2e-3):
    """z-scores of observed frequencies against exact probabilities p >= p_min."""
    keep = p >= p_min
    se = np.sqrt(p[keep] * (1 - p[keep]) / runs)
    return (freq[keep] - p[keep]) / se


def _assert_z(z, label):
    z = np.asarray(z, dtype=float)
    assert z.size > 0
    worst = float(np.max(np.abs(z)))
    assert worst < Z_MAX, f"{label}: max |z| = {worst:.2f} over {z.size} comparisons"


def _mixed_system():
    # every kind of rule: one-slot decay/creation/conversion, on-site birth and
    # predation (capacity 2), neighbour exchange, hopping, coalescence with a
    # random survivor, annihilation
    lat = kd.lattice.chain(3, periodic=False)
    rules = ["A -> 0 @ 0.7", "0 -> A @ 0.3", "A -> 2A @ 0.9", "A + B -> 2B @ 1.1",
             "A,B -> B,A @ 0.6", "A,0 -> 0,A @ 0.5", "B,B -> B,0 @ 1.3", "A,A -> 0,0 @ 0.8",
             "B -> 0 @ 0.4", "B -> A @ 0.2"]
    return rd.System(lat, "A,B", rules, capacity=2)


def test_mixed_rules_capacity_two_count_distribution():
    sysm = _mixed_system()
    me = MasterEquation(sysm)
    init = np.array([[1, 1], [0, 0], [0, 2]])
    times = np.array([0.3, 1.0, 2.5])
    P = me.probabilities(init, times)
    runs = 20000
    ens = sysm.ensemble(runs, times, rng=20240601, initial=init)
    tot = me.totals()
    nmax = tot.max() + 1
    key_exact = tot[:, 0] * nmax + tot[:, 1]
    zs = []
    for m in range(len(times)):
        exact = np.bincount(key_exact, weights=P[m], minlength=nmax * nmax)
        key = ens.counts[:, m, 0] * nmax + ens.counts[:, m, 1]
        freq = np.bincount(key, minlength=nmax * nmax) / runs
        zs.append(_prob_z(freq, exact, runs))
        # first moments
        for s in range(2):
            mean_exact = P[m] @ tot[:, s]
            x = ens.counts[:, m, s]
            zs.append([(x.mean() - mean_exact) / (x.std(ddof=1) / np.sqrt(runs))])
    _assert_z(np.concatenate([np.ravel(z) for z in zs]), "mixed system, K=2")


def test_full_configurations_on_irregular_graph():
    # rock-paper-scissors-like rules on a 4-site star (degrees 3, 1, 1, 1):
    # exercises the rejection of missing neighbour directions
    lat = kd.lattice.from_edges(4, [(0, 1), (0, 2), (0, 3)])
    rules = ["A,B -> A,0 @ 1.0", "B,C -> B,0 @ 0.8", "C,A -> C,0 @ 1.2", "A,0 -> A,A @ 0.5",
             "B,0 -> B,B @ 0.7", "C,0 -> C,C @ 0.9", "A,B -> B,A @ 0.4", "C,0 -> 0,C @ 0.3"]
    sysm = rd.System(lat, "A,B,C", rules)
    me = MasterEquation(sysm)
    init = np.array([1, 2, 3, 0])
    times = np.array([0.4, 1.2])
    P = me.probabilities(init, times)
    runs = 3000
    enc = 4 ** np.arange(4)
    exact_code = (me.states.argmax(axis=2) + 1) * (me.states.sum(axis=2) > 0) @ enc
    hist = np.zeros((len(times), 4 ** 4))
    seeds = np.random.SeedSequence(77).spawn(runs)
    for r in range(runs):
        res = sysm.run(times[-1], rng=seeds[r], times=np.concatenate([[0.0], times]),
                       initial=init, snapshots=True)
        snaps = res["snapshot"]
        for m in range(len(times)):
            k = min(m + 1, len(snaps) - 1)       # absorbed runs end early
            hist[m, int(snaps[k].astype(np.int64) @ enc)] += 1
    zs = []
    for m in range(len(times)):
        exact = np.bincount(exact_code, weights=P[m], minlength=4 ** 4)
        zs.append(_prob_z(hist[m] / runs, exact, runs, p_min=5e-3))
    _assert_z(np.concatenate(zs), "RPS-like rules on a star graph")


def test_contact_process_ring_configurations_and_absorption_time():
    lat = kd.lattice.chain(4)
    cp = rd.contact_process(lat, rate=2.5, initial="full")
    me = MasterEquation(cp)
    times = np.array([0.2, 0.7, 1.5, 3.0])
    P = me.probabilities(cp.full_state(), times)
    runs = 20000
    # site weights 2^i encode the whole configuration in one number
    ens = cp.ensemble(runs, times, rng=12345, site_weights=2.0 ** np.arange(4))
    code_exact = me.states[:, :, 0] @ (2 ** np.arange(4))
    zs = []
    for m in range(len(times)):
        exact = np.bincount(code_exact, weights=P[m], minlength=16)
        freq = np.bincount(ens.weights[:, m].astype(np.int64), minlength=16) / runs
        zs.append(_prob_z(freq, exact, runs))
        # survival probability
        surv, _se = ens.survival()
        p_exact = 1 - P[m][me.absorbing].sum()
        zs.append([(surv[m] - p_exact) / np.sqrt(p_exact * (1 - p_exact) / runs)])
    _assert_z(np.concatenate([np.ravel(z) for z in zs]), "contact process on a 4-ring")
    # absorption time: run long enough that every run is absorbed
    ens = cp.ensemble(4000, [400.0], rng=999)
    stats = ens.absorption_statistics()
    assert stats["fraction"] == 1.0
    mean, _sd = me.mean_absorption_time(cp.full_state())
    z = (stats["mean"] - mean) / stats["error"]
    assert abs(z) < Z_MAX, f"mean absorption time {stats['mean']:.4g} vs exact {mean:.4g}: z={z:.2f}"


def test_absorption_time_with_frozen_states():
    # pure annihilation without hopping freezes with isolated particles: the
    # engine must detect the frozen (absorbing) state itself
    lat = kd.lattice.chain(4, periodic=False)
    sysm = rd.System(lat, "A", ["A,A -> 0,0 @ 1.0", "A,A -> A,0 @ 0.5"])
    me = MasterEquation(sysm)
    full = sysm.full_state()
    mean, _ = me.mean_absorption_time(full)
    ens = sysm.ensemble(20000, [1e6], rng=31, initial=full)
    stats = ens.absorption_statistics()
    assert stats["fraction"] == 1.0
    z = (stats["mean"] - mean) / stats["error"]
    assert abs(z) < Z_MAX, f"frozen-state absorption time {stats['mean']:.4g} vs {mean:.4g}"
    # and the distribution of final configurations
    P = me.probabilities(full, [1e3])[0]
    counts = ens.counts[:, 0, 0]
    exact = np.bincount(me.totals()[:, 0], weights=P, minlength=5)
    freq = np.bincount(counts, minlength=5) / len(counts)
    _assert_z(_prob_z(freq, exact, len(counts)), "frozen final states")


def test_quasi_stationary_density_and_eigenvector():
    # surviving-run average of the density over a late window, against the
    # exact ratio sum_t E[rho_t; alive] / sum_t P(alive), which for late
    # windows is the quasi-stationary density (leading left eigenvector of Q
    # on the transient states)
    lat = kd.lattice.chain(5)
    cp = rd.contact_process(lat, rate=4.0)
    me = MasterEquation(cp)
    times = np.linspace(4.0, 12.0, 9)
    P = me.probabilities(cp.full_state(), times)
    rho = me.totals()[:, 0] / lat.n_sites
    alive = ~me.absorbing
    exact = (P[:, alive] @ rho[alive]).sum() / P[:, alive].sum()
    ens = cp.ensemble(20000, times, rng=404)
    qs = ens.quasi_stationary(t_min=times[0])
    z = (qs.value - exact) / qs.error
    assert abs(z) < Z_MAX, f"quasi-stationary density {qs} vs exact {exact:.5f}: z = {z:.2f}"
    # the window is late enough that this is the eigenvector's density
    T = np.nonzero(alive)[0]
    w, v = np.linalg.eig(me.Q[np.ix_(T, T)].T)
    q = np.abs(np.real(v[:, np.argmax(np.real(w))]))
    q_rho = (q / q.sum()) @ rho[T]
    z_qs = (qs.value - q_rho) / qs.error
    assert abs(z_qs) < Z_MAX, f"vs quasi-stationary eigenvector {q_rho:.5f}: z = {z_qs:.2f}"


@pytest.mark.parametrize("lat", [kd.lattice.square(2), kd.lattice.square(3)],
                         ids=["square2x2", "square3x3"])
def test_square_grid_path_configurations(lat):
    # periodic square lattices take the arithmetic-neighbour path of the
    # kernel (2 x 2 has doubled bonds); full configurations vs exact
    rules = ["A,0 -> A,A @ 0.6", "A -> 0 @ 1.0", "A,0 -> 0,A @ 0.7", "A,A -> 0,A @ 0.4"]
    sysm = rd.System(lat, "A", rules)
    assert len(sysm._grid) == 2
    me = MasterEquation(sysm)
    n = lat.n_sites
    times = np.array([0.3, 1.0])
    init = np.zeros(n, dtype=int)
    init[[0, 1]] = 1                   # not mirror-symmetric: sees each direction
    if n > 4:
        init[4] = 1                    # and an off-axis particle
    P = me.probabilities(init, times)
    runs = 20000
    ens = sysm.ensemble(runs, times, rng=77, initial=init, site_weights=2.0 ** np.arange(n))
    code = me.states[:, :, 0] @ (2 ** np.arange(n))
    zs = []
    for m in range(len(times)):
        exact = np.bincount(code, weights=P[m], minlength=2 ** n)
        freq = np.bincount(ens.weights[:, m].astype(np.int64), minlength=2 ** n) / runs
        zs.append(_prob_z(freq, exact, runs))
    _assert_z(np.concatenate(zs), f"grid path on {lat}")


def test_grid_and_table_paths_agree():
    # the same square lattice through the arithmetic path and through the
    # neighbour table (from_edges): same distribution of the density
    sq = kd.lattice.square(6)
    table = kd.lattice.from_edges(sq.n_sites, sq.edges)
    dens = []
    for lat in (sq, table):
        cp = rd.contact_process(lat, rate=2.0)
        ens = cp.ensemble(4000, [0.5, 2.0], rng=3)
        dens.append(ens.density())
    (m1, s1), (m2, s2) = dens
    z = (m1 - m2) / np.sqrt(s1 ** 2 + s2 ** 2)
    _assert_z(z, "grid vs table")
