"""Finite-size scaling of the 2D Ising model (Wolff, L = 8 ... 64) recovers the exact
critical point and exponents: T_c = 2/ln(1 + sqrt 2), nu = 1, gamma/nu = 7/4,
beta/nu = 1/8, each within Z_FSS = 3 of the analysis' own standard error.

Default run (about 5 s of simulation): one Wolff run per size at the exact T_c,
single-histogram reweighting around it.

* T_c: Binder-cumulant crossings of successive sizes (jackknife errors), extrapolated
  with T*(L) = T_c + a L^-(1/nu + omega), omega = 7/4;
* 1/nu: dU/dbeta at T_c ~ L^(1/nu);
* gamma/nu: chi = beta N <m^2> at T_c ~ L^(gamma/nu) (1 + b L^-7/4): the correction
  is the analytic background of the susceptibility;
* beta/nu: <|m|> at T_c ~ L^(-beta/nu) (1 + b L^-2);
* data collapse of the Binder cumulant (L = 16 ... 64): T_c and 1/nu.

The slow variant (``-m slow``, about a minute) combines five runs per size with MBAR
and adds the susceptibility peaks (heights with the L^-7/4 correction, positions for
L >= 16) and a three-parameter collapse of chi' = beta N (<m^2> - <|m|>^2).
"""
import math
import warnings

import numpy as np
import pytest

import kadanoff as kd
from kadanoff.analysis import exponents, fss
from kadanoff.analysis.reweighting import MultiHistogram, ReweightingWarning, SingleHistogram
from kadanoff.theory import T_C_SQUARE

SIZES = (8, 16, 32, 64)
Z_FSS = 3.0
# Two estimates scatter more than their errors say.  Over 12 seeds of this
# test (and again after a change of the Wolff kernel's bits), z of the Binder
# collapse's T_c and 1/nu had standard deviations 1.4 and 1.5, and z of 1/nu
# from the dU/dbeta fit 1.45 and 1.6, while the crossing fit's and the
# gamma/nu and beta/nu fits' z had 0.8-1.0.  The per-size errors themselves are
# right (60 seeds at L = 8, 16, 32: scatter / jackknife error 0.97-1.16 for
# dU/dbeta, m^2 and U); a power-law fit of synthetic Gaussian data gives sd
# 0.99.  Those two get bounds widened by the measured factor; a 0.5 % error
# in T_c is still about 10 of the collapse's errors off, 1/nu = 0.9 seven.
Z_WIDE = 1.5 * Z_FSS
SEED = 2024


def run(L, T, sweeps, seed):
    sim = kd.Simulation(kd.Ising(kd.lattice.square(L)), T=T, algorithm="wolff", rng=seed)
    return sim.run(sweeps=sweeps, thermalize=1000)


def assert_z(est, exact, label, max_error, z_max=Z_FSS, systematic=0.0):
    """|value - exact| < z_max standard errors; a measured systematic error
    of the estimator (corrections to scaling it does not model) is added to
    the statistical one in quadrature."""
    value, error = est
    assert 0 < error < max_error, f"{label}: error {error:.3g} not in (0, {max_error})"
    z = (value - exact) / math.hypot(error, systematic)
    print(f"{label}: {value:.5f} ± {error:.5f} (exact {exact:.5f}, z = {z:+.2f})")
    assert abs(z) < z_max, f"{label}: {value:.5f} ± {error:.5f}, exact {exact:.5f}, z = {z:.2f}"
    return z


@pytest.fixture(scope="module")
def hists():
    seeds = np.random.SeedSequence(SEED).spawn(len(SIZES))
    return [SingleHistogram(n_blocks=16).compute(run(L, T_C_SQUARE, 20_000, s))
            for L, s in zip(SIZES, seeds)]


def test_tc_from_binder_crossings(hists):
    crossings = fss.reweighted_crossings(hists, SIZES)
    assert all(math.isfinite(c.T) and c.T_err > 0 for c in crossings)
    fit = fss.extrapolate_crossings(crossings, exponent=1.0 + 1.75)
    assert_z(fit["Tc"], T_C_SQUARE, "T_c from Binder crossings", 0.005)


def test_inv_nu_from_binder_derivative(hists):
    d, dd = fss.values_at(hists, "binder_derivative", T_C_SQUARE)
    fit = exponents.inv_nu(SIZES, d, dd)
    assert_z(fit.exponent, 1.0, "1/nu from dU/dbeta", 0.05, Z_WIDE)


def test_gamma_over_nu_at_tc(hists):
    N = np.array(SIZES, dtype=float) ** 2
    m2, dm2 = fss.values_at(hists, "m2", T_C_SQUARE)
    chi, dchi = N * m2 / T_C_SQUARE, N * dm2 / T_C_SQUARE
    fit = exponents.gamma_over_nu(SIZES, chi, dchi, omega=1.75)
    assert_z(fit.exponent, 1.75, "gamma/nu from chi(T_c)", 0.05)


def test_beta_over_nu_at_tc(hists):
    m, dm = fss.values_at(hists, "abs_m", T_C_SQUARE)
    fit = exponents.beta_over_nu(SIZES, m, dm, omega=2.0)
    assert_z(fit.exponent, 0.125, "beta/nu from <|m|>(T_c)", 0.03)


def test_binder_collapse(hists):
    sizes = SIZES[1:]
    # grids centred near (not at) T_c, with different lengths: no accidental alignment
    grids = [2.27 + np.linspace(-1.0, 1.0, 13 + 2 * i) / L for i, L in enumerate(sizes)]
    d = fss.curves(hists[1:], "binder", grids)
    col = fss.Collapse(Tc=2.26, inv_nu=0.9, exponent=0.0, fix=["exponent"]).compute(
        d.T, sizes, d.value, d.error, replicas=d.replicas)
    assert_z(col.Tc, T_C_SQUARE, "T_c from the Binder collapse", 0.005, Z_WIDE)
    assert_z(col.inv_nu, 1.0, "1/nu from the Binder collapse", 0.1, Z_WIDE)
    assert col.quality < 5


# ------------------------------------------------------------------ heavier variant
X_RUNS = (-1.0, 0.0, 1.0, 2.0, 3.0)  # runs at T = T_c + x / L, covering the chi' peak (x ~ 2)


@pytest.fixture(scope="module")
def mbar_hists():
    seeds = iter(np.random.SeedSequence(77).spawn(len(SIZES) * len(X_RUNS)))
    out = []
    for L in SIZES:
        runs = [run(L, T_C_SQUARE + x / L, 40_000, next(seeds)) for x in X_RUNS]
        out.append(MultiHistogram(n_blocks=16).compute(runs))
    return out


@pytest.mark.slow
def test_mbar_crossings_and_fixed_tc(mbar_hists):
    crossings = fss.reweighted_crossings(mbar_hists, SIZES, T_range=(2.235, 2.32))
    fit = fss.extrapolate_crossings(crossings, exponent=2.75)
    assert_z(fit["Tc"], T_C_SQUARE, "T_c (MBAR crossings)", 0.003)
    N = np.array(SIZES, dtype=float) ** 2
    m2, dm2 = fss.values_at(mbar_hists, "m2", T_C_SQUARE)
    assert_z(exponents.gamma_over_nu(SIZES, N * m2, N * dm2, omega=1.75).exponent, 1.75,
             "gamma/nu (MBAR)", 0.03)
    m, dm = fss.values_at(mbar_hists, "abs_m", T_C_SQUARE)
    assert_z(exponents.beta_over_nu(SIZES, m, dm, omega=2.0).exponent, 0.125,
             "beta/nu (MBAR)", 0.02)
    d, dd = fss.values_at(mbar_hists, "binder_derivative", T_C_SQUARE)
    assert_z(exponents.inv_nu(SIZES, d, dd).exponent, 1.0, "1/nu (MBAR)", 0.03)


@pytest.mark.slow
def test_mbar_susceptibility_peaks(mbar_hists):
    peaks = fss.peaks(mbar_hists, SIZES, "susceptibility",
                      T_range=[(T_C_SQUARE + 0.5 / L, T_C_SQUARE + 3.5 / L) for L in SIZES])
    L = np.array(SIZES, dtype=float)
    H = np.array([p.height for p in peaks])
    dH = np.array([p.height_err for p in peaks])
    Tp = np.array([p.T for p in peaks])
    dTp = np.array([p.T_err for p in peaks])
    # heights: same L^-7/4 background correction as chi(T_c).  Over six runs
    # (seeds 77, 1, 2, with two Wolff kernels' bits) gamma/nu came out at
    # 1.749-1.768, z of -0.2 to +4.4 (mean +1.1): a systematic of about 0.005
    # that the one-correction fit leaves
    assert_z(exponents.gamma_over_nu(L, H, dH, omega=1.75).exponent, 1.75,
             "gamma/nu from chi' peak heights", 0.05, systematic=0.005)
    # positions T* = T_c + a L^-1/nu: L = 8 is still visibly off the leading form, so L >= 16
    assert_z(exponents.peak_shift(L[1:], Tp[1:], dTp[1:], Tc=T_C_SQUARE)["1/nu"], 1.0,
             "1/nu from chi' peak positions (L >= 16)", 0.05)


@pytest.mark.slow
def test_mbar_susceptibility_collapse(mbar_hists):
    sizes = SIZES[1:]
    grids = [2.27 + np.linspace(-1.0, 2.5, 15 + 2 * i) / L for i, L in enumerate(sizes)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReweightingWarning)
        d = fss.curves(mbar_hists[1:], "susceptibility", grids)
    col = fss.Collapse(Tc=2.26, inv_nu=0.9, exponent=1.6).compute(
        d.T, sizes, d.value, d.error, replicas=d.replicas)
    assert_z(col.Tc, T_C_SQUARE, "T_c (chi collapse)", 0.005, Z_WIDE)
    assert_z(col.inv_nu, 1.0, "1/nu (chi collapse)", 0.1, Z_WIDE)
    # the collapse of chi' = beta N (<m^2> - <|m|>^2) without its analytic
    # background overestimates gamma/nu at L = 16-64: 1.758-1.770 in six runs
    # (z +2.6 to +6.8 on the statistical error alone), so a systematic 0.01
    assert_z(col.exponent, 1.75, "gamma/nu (chi collapse)", 0.1, systematic=0.01)
