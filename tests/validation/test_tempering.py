"""Parallel tempering on the 2D Ising model reproduces exact finite-L energies
and independent single-temperature runs, within the runs' own error bars (z < 4)."""
import numpy as np
import pytest

import kadanoff as kd
from kadanoff.tempering import ParallelTempering
from kadanoff.theory.ising import ising2d_torus

L = 8
LADDER = [2.0, 2.15, 2.3, 2.45, 2.6]


@pytest.fixture(scope="module")
def runs():
    model = kd.Ising(kd.lattice.square(L))
    pt = ParallelTempering(model, T=LADDER, algorithm="metropolis", rng=20261123)
    tempered = pt.run(40_000, thermalize=2_000)
    single = [kd.Simulation(model, T=T, algorithm="wolff", rng=7 + i)
              .run(20_000, thermalize=1_000) for i, T in enumerate(LADDER)]
    return pt, tempered, single


def _z(a, da, b, db=0.0):
    return (a - b) / np.hypot(da, db)


def test_pt_energy_matches_exact(runs):
    _, tempered, _ = runs
    z = [_z(r.mean("e"), r.error("e"), ising2d_torus(L, r.T)["e"]) for r in tempered]
    assert np.all(np.abs(z) < 4), z


@pytest.mark.parametrize("name", ["e", "abs_m", "m2"])
def test_pt_matches_single_temperature(runs, name):
    _, tempered, single = runs
    z = [_z(p.mean(name), p.error(name), s.mean(name), s.error(name))
         for p, s in zip(tempered, single)]
    assert np.all(np.abs(z) < 4), z


def test_pt_specific_heat_matches_exact(runs):
    _, tempered, _ = runs
    z = [_z(*r.specific_heat(), ising2d_torus(L, r.T)["C"]) for r in tempered]
    assert np.all(np.abs(z) < 4), z


def test_ladder_mixes(runs):
    pt, tempered, _ = runs
    st = tempered[0].meta["tempering"]
    assert min(st["acceptance"]) > 0.3
    assert st["round_trips"] > 100
    assert np.all(np.diff(st["flow"]) < 0)          # f falls from 1 at T_min to 0 at T_max
