"""Histogram reweighting of 2D Ising Wolff runs against the exact finite-L torus.

Energies and specific heats reweighted to other temperatures (single histogram) or
combined from several runs (MBAR) must agree with the tabulated exact values in
../shared/reference/ising2d_exact_finite_L.csv (and Kaufman's formula between the
tabulated temperatures, including free-energy differences) within Z_MAX standard errors
from the method's own jackknife errors.
"""
import csv
from pathlib import Path

import numpy as np
import pytest

import kadanoff as kd
from kadanoff.analysis.reweighting import MultiHistogram, SingleHistogram
from kadanoff.theory import ising2d_torus

from .helpers import Z_MAX

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / \
    "ising2d_exact_finite_L.csv"


def reference(L):
    """{T: (e, C)} of the tabulated exact values for size L (Kaufman if the table is absent)."""
    if REFERENCE.exists():
        with open(REFERENCE) as fh:
            rows = [r for r in csv.DictReader(fh) if int(r["L"]) == L]
        return {float(r["T"]): (float(r["energy_per_spin"]), float(r["specific_heat_per_spin"]))
                for r in rows}
    out = {}
    for T in (1.5, 2.0, 2.2, 2.269185314213022, 2.4, 2.5, 3.0, 4.0):
        ex = ising2d_torus(L, T=T)
        out[T] = (ex["e"], ex["C"])
    return out


def wolff_runs(L, temps, sweeps, seed):
    seeds = np.random.SeedSequence(seed).spawn(len(temps))
    return [kd.Simulation(kd.Ising(kd.lattice.square(L)), T=T, algorithm="wolff", rng=s)
            .run(sweeps=sweeps, thermalize=1000) for T, s in zip(temps, seeds)]


def check(curve_e, curve_c, exact_e, exact_c, label):
    z_e = (curve_e.value - exact_e) / curve_e.error
    z_c = (curve_c.value - exact_c) / curve_c.error
    assert np.all(curve_e.error > 0) and np.all(curve_c.error > 0)
    bad = (np.abs(z_e) >= Z_MAX) | (np.abs(z_c) >= Z_MAX)
    assert not bad.any(), f"{label}: z(e) = {np.round(z_e, 2)}, z(C) = {np.round(z_c, 2)}"
    return z_e, z_c


def test_single_histogram_L16_against_reference():
    L, T0 = 16, 2.3
    (res,) = wolff_runs(L, [T0], 40_000, seed=61)
    h = SingleHistogram().compute(res)
    ref = reference(L)
    temps = np.array([T for T in sorted(ref) if h.trusted_range[0] <= T <= h.trusted_range[1]])
    # the trusted range of one L = 16 run at 2.3 covers 2.2, T_c and 2.4
    assert len(temps) >= 3, (h.trusted_range, sorted(ref))
    exact = np.array([ref[T] for T in temps])
    check(h.mean("e", T=temps), h.specific_heat(T=temps), exact[:, 0], exact[:, 1],
          f"single histogram L={L} T0={T0}")
    # between the tabulated points and for the free energy: Kaufman's exact torus
    grid = np.linspace(*h.trusted_range, 7)
    ex = [ising2d_torus(L, T=T) for T in grid]
    check(h.mean("e", T=grid), h.specific_heat(T=grid), np.array([e["e"] for e in ex]),
          np.array([e["C"] for e in ex]), f"single histogram L={L} grid")
    F = h.free_energy(T=grid)
    lnZ0 = ising2d_torus(L, T=T0)["log_Z"]
    exact_F = np.array([-(e["log_Z"] - lnZ0) for e in ex])
    z = (F.value - exact_F) / F.error
    assert np.all(np.abs(z) < Z_MAX), z


def test_mbar_L32_against_reference():
    L = 32
    runs = wolff_runs(L, [2.2, 2.25, 2.3, 2.35, 2.4], 20_000, seed=62)
    mh = MultiHistogram().compute(runs)
    assert not mh.gaps
    ref = reference(L)
    temps = np.array([T for T in sorted(ref) if 2.2 <= T <= 2.4])
    assert len(temps) == 3
    exact = np.array([ref[T] for T in temps])
    check(mh.mean("e", T=temps), mh.specific_heat(T=temps), exact[:, 0], exact[:, 1],
          f"MBAR L={L}")
    # free energies of the states relative to the hottest one
    lnZ = np.array([ising2d_torus(L, T=T)["log_Z"] for T in mh.temperatures])
    exact_f = -(lnZ - lnZ[0])
    z = (mh.free_energies[1:] - exact_f[1:]) / mh.free_energy_errors[1:]
    assert np.all(np.abs(z) < Z_MAX), z


def test_mbar_L8_wide_range_against_reference():
    L = 8
    runs = wolff_runs(L, [1.5, 1.8, 2.1, 2.4, 2.8, 3.3, 4.0], 20_000, seed=63)
    mh = MultiHistogram().compute(runs)
    assert not mh.gaps
    ref = reference(L)
    temps = np.array(sorted(ref))
    exact = np.array([ref[T] for T in temps])
    check(mh.mean("e", T=temps), mh.specific_heat(T=temps), exact[:, 0], exact[:, 1],
          f"MBAR L={L}")


@pytest.mark.slow
def test_single_histogram_L64_against_reference():
    L, T0 = 64, 2.27
    (res,) = wolff_runs(L, [T0], 200_000, seed=64)
    h = SingleHistogram().compute(res)
    T = 2.269185314213022
    assert h.trusted_range[0] < T < h.trusted_range[1]
    e, C = reference(L)[T]
    check(h.mean("e", T=[T]), h.specific_heat(T=[T]), np.array([e]), np.array([C]),
          f"single histogram L={L}")
