"""Diffusion-limited decays and the well-mixed limit against exact and known results.

Rate conventions (kadanoff.reaction): particles hop to each empty neighbour at
rate D; a neighbouring pair reacts at rate 2D per bond (the presets' default,
identical to "a particle hopping onto an occupied site reacts").

- 1D A + A -> 0 from a full lattice: the exact density of the infinite chain
  (Glauber mapping, kadanoff.theory.reaction.annihilation_chain_density) at
  every recorded time, and the asymptotic amplitude rho sqrt(t) -> 1/sqrt(8 pi D)
  (Torney & McConnell 1983; Spouge 1988; ben-Avraham & Havlin ch. 13).
- 1D A + A -> A: rho sqrt(t) -> 1/sqrt(2 pi D) (same references).
- 1D A + B -> 0: the mean of phi = n_A - n_B obeys the lattice heat equation
  exactly (d<phi_i>/dt = D (phi_{i+1} + phi_{i-1} - 2 phi_i) at reaction rate
  2D), checked on a reaction front; slow: rho_A ~ A t^(-1/4) with the Gaussian-field
  amplitude A (Toussaint & Wilczek 1983) and a fitted t^(-1/4) correction.
- 2D A + A -> 0 (slow): rho 8 pi D t = ln t + const, i.e. slope 1 in ln t.
- Fast hopping: densities approach the mean-field rate equations.
All comparisons are z-scores against errors from independent runs, |z| < Z_MAX.
"""
import numpy as np
import pytest

import kadanoff as kd
import kadanoff.reaction as rd
from kadanoff.theory import reaction as th

from .helpers import Z_MAX


def _jackknife_slope(x, y_runs):
    """Least-squares slope of mean(y_runs) vs x, jackknife error over runs."""
    def slope(y):
        return np.polyfit(x, y.mean(axis=0), 1)[0]
    R = len(y_runs)
    full = slope(y_runs)
    jk = np.array([slope(np.delete(y_runs, r, axis=0)) for r in range(R)])
    return full, np.sqrt((R - 1) / R * ((jk - jk.mean()) ** 2).sum())


def test_annihilation_chain_exact_density_and_amplitude():
    D = 1.0
    a = rd.annihilation(kd.lattice.chain(100_000), diffusion=D)
    times = np.array([0.5, 2.0, 10.0, 50.0, 200.0, 600.0, 1000.0])
    ens = a.ensemble(12, times, rng=2024)
    mean, se = ens.density()
    exact = th.annihilation_chain_density(times, D=D, rho0=1.0)
    z = (mean - exact) / se
    assert np.all(np.abs(z) < Z_MAX), f"A+A->0 vs exact: z = {np.round(z, 2)}"
    # asymptotic amplitude from the late times
    late = times >= 200
    amp = (ens.particles()[:, late] / a.n_sites * np.sqrt(times[late])).mean(axis=1)
    A, dA = amp.mean(), amp.std(ddof=1) / np.sqrt(len(amp))
    zA = (A - th.annihilation_amplitude(D)) / dA
    assert abs(zA) < Z_MAX, f"amplitude {A:.5f} +- {dA:.5f} vs 1/sqrt(8 pi D): z = {zA:.2f}"
    # and the run can fail: the amplitude differs from the coalescence one
    assert abs((A - th.annihilation_amplitude(D, coalescence=True)) / dA) > 10


def test_coalescence_chain_amplitude():
    D = 0.5
    a = rd.annihilation(kd.lattice.chain(50_000), diffusion=D, coalescence=True)
    times = np.array([400.0, 700.0, 1000.0])
    ens = a.ensemble(12, times, rng=7)
    amp = (ens.particles() / a.n_sites * np.sqrt(times)).mean(axis=1)
    A, dA = amp.mean(), amp.std(ddof=1) / np.sqrt(len(amp))
    z = (A - th.annihilation_amplitude(D, coalescence=True)) / dA
    assert abs(z) < Z_MAX, f"coalescence amplitude {A:.5f} +- {dA:.5f}: z = {z:.2f}"


def test_two_species_front_mean_profile_is_exact_heat_equation():
    # A on every other site of the left half, B likewise on the right half of
    # a ring: <n_A - n_B> diffuses exactly, whatever the reactions do
    from scipy.linalg import expm
    L, D, t = 40, 1.0, 25.0
    init = np.repeat([1, 2], L // 2) * (np.arange(L) % 2)
    s = rd.two_species_annihilation(kd.lattice.chain(L), diffusion=D, initial=init)
    runs = 1500
    phi = np.zeros((runs, L))
    seeds = np.random.SeedSequence(5).spawn(runs)
    for r in range(runs):
        res = s.run(t, rng=seeds[r], times=[t], snapshots=True)
        snap = res["snapshot"][-1]
        phi[r] = (snap == 1).astype(float) - (snap == 2)
    lap = -2 * np.eye(L) + np.roll(np.eye(L), 1, axis=1) + np.roll(np.eye(L), -1, axis=1)
    exact = expm(D * t * lap) @ ((init == 1).astype(float) - (init == 2))
    mean = phi.mean(axis=0)
    se = phi.std(axis=0, ddof=1) / np.sqrt(runs)
    z = (mean - exact) / se
    assert np.all(np.abs(z) < Z_MAX), f"front profile: max |z| = {np.abs(z).max():.2f}"
    # the particles really react: the total density fell well below 1/2
    assert np.mean(np.abs(phi)) < 0.4


@pytest.mark.slow
def test_two_species_chain_quarter_decay():
    # 32 independent rings, each from its own balanced random initial state
    # (the late-time density is set by the initial fluctuations, so they must
    # be averaged over too), jackknife over runs, fit of ln rho_A vs ln t
    # over t in [300, 1e4]
    L = 25_000
    s = rd.two_species_annihilation(kd.lattice.chain(L), rng=3, balanced=True)
    base = np.repeat([1, 2], L // 2)
    times = np.geomspace(300, 10_000, 12)
    ens = s.ensemble(32, times, rng=5, initial=lambda gen: gen.permutation(base))
    c = ens.particles("A").astype(float) / L
    A = th.two_species_amplitude(D=1.0, density=1.0)
    lt = np.log(times)

    def slope(c):
        # ln rho = ln A - alpha ln t + ln(1 + B t^(-1/4)): the amplitude is
        # the Gaussian-field value, the slow correction is fitted
        from scipy.optimize import curve_fit
        f = lambda x, al, B: np.log(A) - al * x + np.log1p(B * np.exp(-0.25 * x))  # noqa: E731
        return curve_fit(f, lt, np.log(c.mean(axis=0)), p0=[0.25, 0.3])[0][0]

    R = len(c)
    full = slope(c)
    jk = np.array([slope(np.delete(c, r, axis=0)) for r in range(R)])
    err = np.sqrt((R - 1) / R * ((jk - jk.mean()) ** 2).sum())
    z = (full - 0.25) / err
    assert abs(z) < Z_MAX, f"A+B exponent {full:.4f} +- {err:.4f} vs 1/4: z = {z:.2f}"


@pytest.mark.slow
def test_annihilation_square_logarithmic_correction():
    D = 1.0
    a = rd.annihilation(kd.lattice.square(1024), diffusion=D)
    times = np.geomspace(30, 1000, 10)
    ens = a.ensemble(8, times, rng=11)
    y = ens.particles() / a.n_sites * 8 * np.pi * D * times     # -> ln t + const
    slope, err = _jackknife_slope(np.log(times), y)
    z = (slope - 1.0) / err
    assert abs(z) < Z_MAX, f"2D A+A: d(rho 8 pi D t)/d ln t = {slope:.3f} +- {err:.3f}: z={z:.2f}"


def test_fast_hopping_approaches_rate_equations():
    times = np.array([0.5, 1.0, 2.0, 4.0])

    def deviation(D, seed):
        s = rd.System(kd.lattice.square(20), "A", [("A -> 0", 1.0), ("A,0 -> A,A", 3.0 / 4)],
                      diffusion=D)
        init = s.random_state({"A": 0.1}, rng=1)
        ens = s.ensemble(200, times, rng=seed, initial=init)
        mean, se = ens.density()
        rho0 = (np.asarray(init) > 0).mean()
        mf = th.solve_rate_equations(s, times, [rho0])[:, 0]
        return (mean - mf) / se

    z_fast = deviation(100.0, 2)
    assert np.all(np.abs(z_fast) < Z_MAX), f"D=100 vs rate equations: z = {np.round(z_fast, 2)}"
    z_slow = deviation(2.0, 3)
    assert np.max(np.abs(z_slow)) > 2 * Z_MAX, "slow hopping should differ from mean field"
