"""Contact process on the chain: directed-percolation spreading from one seed.

The critical infection rate is located by the package's own analysis
(kadanoff.analysis.spreading.critical_point: the rate where the late-time
curvature of ln P vs ln t vanishes), never typed in; the exponents are then
interpolated to that rate with its uncertainty propagated. References: DP in
1+1 dimensions, delta = 0.159464, eta = 0.313686, z = 1.580745 (Jensen 1999);
lambda_c = 3.29785 (Dickman & Jensen 1991) for the rate convention of
kadanoff.reaction.contact_process (an empty site with n infected neighbours is
infected at rate lambda n / 2). All comparisons: |z| < Z_MAX in the runs' own
jackknife errors.
"""
import numpy as np
import pytest

import kadanoff as kd
import kadanoff.reaction as rd
from kadanoff.analysis.spreading import critical_point, exponents_at, spreading
from kadanoff.theory.reaction import CP_1D_CRITICAL, DP_1D

from .helpers import Z_MAX


def _experiment(rates, L, runs, t_max, seed, n_times):
    seeds = np.random.SeedSequence(seed).spawn(len(rates))
    return [spreading(lambda lam=lam: rd.contact_process(kd.lattice.chain(L), lam), runs,
                      t_max, rng=ss, n_times=n_times, blocks=32)
            for lam, ss in zip(rates, seeds)]


def _check(rates, sps, window_c, window_e, degree):
    lam_c = critical_point(rates, sps, t_min=window_c[0], t_max=window_c[1], degree=degree)
    z_c = (lam_c.value - CP_1D_CRITICAL) / lam_c.error
    assert abs(z_c) < Z_MAX, f"lambda_c = {lam_c} vs {CP_1D_CRITICAL}: z = {z_c:.2f}"
    ex = exponents_at(rates, sps, lam_c, t_min=window_e[0], t_max=window_e[1], degree=degree)
    zs = {k: (ex[k].value - DP_1D[k]) / ex[k].error for k in ("delta", "eta", "z")}
    assert all(abs(v) < Z_MAX for v in zs.values()), \
        f"exponents {ex} vs DP {DP_1D}: z = { {k: round(v, 2) for k, v in zs.items()} }"
    return lam_c, ex


def test_contact_process_chain_dp_spreading():
    rates = [3.2, 3.3, 3.4]
    sps = _experiment(rates, 1024, 3000, 300.0, 8, 24)
    # the curvature really discriminates sub- from supercritical
    lo = sps[0].curvature("P", 10, 300)
    hi = sps[-1].curvature("P", 10, 300)
    assert lo.value / lo.error < -Z_MAX and hi.value / hi.error > Z_MAX
    _check(rates, sps, (10, 300), (20, 300), degree=2)


@pytest.mark.slow
def test_contact_process_chain_dp_spreading_long():
    rates = [3.26, 3.28, 3.30, 3.32, 3.34]
    sps = _experiment(rates, 4096, 8000, 2000.0, 9, 32)
    lam_c, _ = _check(rates, sps, (30, 2000), (100, 2000), degree=2)
    assert lam_c.error < 0.01
