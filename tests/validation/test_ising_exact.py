"""Every Ising algorithm against exact enumeration, the transfer matrix and
Kaufman's finite torus, within 4 standard errors from the run's own errors."""
import csv
from pathlib import Path

import numpy as np
import pytest

import kadanoff as kd
from kadanoff.theory import T_C_SQUARE, enumerate_ising, ising_chain

from .helpers import assert_close

LOCAL = ("metropolis", "heatbath")
ALL = ("metropolis", "heatbath", "wolff", "swendsen-wang")
SWEEPS = 200_000


def run(lat, T, algorithm, seed, J=1.0, h=0.0, sweeps=SWEEPS):
    sim = kd.Simulation(kd.Ising(lat, J=J, h=h), T=T, algorithm=algorithm, rng=seed)
    return sim.run(sweeps=sweeps, thermalize=2_000)


# 4x4 periodic square lattice: h = 0 at and around T_c for every algorithm.
@pytest.mark.parametrize("algorithm", ALL)
@pytest.mark.parametrize("T", [1.5, 2.0, T_C_SQUARE, 3.0])
def test_square_4x4(algorithm, T):
    lat = kd.lattice.square(4)
    assert_close(run(lat, T, algorithm, seed=11), enumerate_ising(lat, T=T),
                 f"4x4 {algorithm} T={T}")


# Fields are for local algorithms only.
@pytest.mark.parametrize("algorithm", LOCAL)
@pytest.mark.parametrize("T, h", [(T_C_SQUARE, 0.3), (2.0, -0.15), (3.5, 0.5)])
def test_square_4x4_field(algorithm, T, h):
    lat = kd.lattice.square(4)
    assert_close(run(lat, T, algorithm, seed=12, h=h), enumerate_ising(lat, T=T, h=h),
                 f"4x4 {algorithm} T={T} h={h}", keys=("e", "m", "abs_m", "m2"))


@pytest.mark.parametrize("algorithm", ALL)
def test_open_square(algorithm):
    lat = kd.lattice.square(3, 4, periodic=False)
    assert_close(run(lat, 2.0, algorithm, seed=13), enumerate_ising(lat, T=2.0),
                 f"open 3x4 {algorithm}")


@pytest.mark.parametrize("algorithm", LOCAL)
def test_open_square_field(algorithm):
    lat = kd.lattice.square(3, 4, periodic=False)
    assert_close(run(lat, 1.8, algorithm, seed=14, h=0.25), enumerate_ising(lat, T=1.8, h=0.25),
                 f"open 3x4 h {algorithm}", keys=("e", "m", "abs_m", "m2"))


@pytest.mark.parametrize("algorithm", ALL)
def test_triangular(algorithm):
    lat = kd.lattice.triangular(3, 4)
    assert_close(run(lat, 3.5, algorithm, seed=15), enumerate_ising(lat, T=3.5),
                 f"triangular 3x4 {algorithm}")


@pytest.mark.parametrize("algorithm", LOCAL)
def test_triangular_field(algorithm):
    lat = kd.lattice.triangular(3)
    assert_close(run(lat, 3.0, algorithm, seed=16, h=0.2), enumerate_ising(lat, T=3.0, h=0.2),
                 f"triangular field {algorithm}", keys=("e", "m", "abs_m", "m2"))


@pytest.mark.parametrize("algorithm", ALL)
@pytest.mark.parametrize("factory, T", [(kd.lattice.honeycomb, 1.6), (kd.lattice.cubic, 4.5)])
def test_other_lattices(factory, T, algorithm):
    lat = factory(2)
    assert_close(run(lat, T, algorithm, seed=17), enumerate_ising(lat, T=T),
                 f"{lat.name} {algorithm}")


@pytest.mark.parametrize("algorithm", ALL)
def test_random_ferromagnetic_bonds(algorithm):
    lat = kd.lattice.square(4)
    J = np.random.default_rng(5).uniform(0.3, 1.7, lat.n_bonds)
    assert_close(run(lat, 2.2, algorithm, seed=18, J=J), enumerate_ising(lat, T=2.2, J=J),
                 f"random-bond {algorithm}")


@pytest.mark.parametrize("algorithm", ALL)
def test_antiferromagnet_unfrustrated(algorithm):
    # J < 0 on a bipartite lattice: clusters work through the gauge s_i -> (-1)^i s_i
    lat = kd.lattice.square(4)
    J = -np.random.default_rng(6).uniform(0.5, 1.5, lat.n_bonds)
    assert_close(run(lat, 2.0, algorithm, seed=19, J=J), enumerate_ising(lat, T=2.0, J=J),
                 f"antiferromagnet {algorithm}")


@pytest.mark.parametrize("algorithm", LOCAL)
def test_spin_glass_with_field(algorithm):
    lat = kd.lattice.square(4)
    rng = np.random.default_rng(7)
    J = rng.choice([-1.0, 1.0], lat.n_bonds)
    h = rng.normal(0, 0.3, lat.n_sites)
    assert_close(run(lat, 1.5, algorithm, seed=20, J=J, h=h), enumerate_ising(lat, T=1.5, J=J, h=h),
                 f"+-J glass {algorithm}", keys=("e", "m", "abs_m", "m2"))


@pytest.mark.parametrize("algorithm", ALL)
@pytest.mark.parametrize("L", [2, 9])
def test_chain_transfer_matrix(algorithm, L):
    lat = kd.lattice.chain(L)
    T = 1.2
    assert_close(run(lat, T, algorithm, seed=21), ising_chain(L, T=T), f"chain L={L} {algorithm}")


@pytest.mark.parametrize("algorithm", LOCAL)
def test_long_chain_field(algorithm):
    L, T, h = 40, 1.5, 0.2
    exact = ising_chain(L, T=T, h=h)
    res = run(kd.lattice.chain(L), T, algorithm, seed=22, h=h, sweeps=100_000)
    assert_close(res, exact, f"chain L=40 h {algorithm}", keys=("e", "m", "m2"))


def _reference():
    path = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / \
        "ising2d_exact_finite_L.csv"
    if not path.exists():
        from kadanoff.theory import ising2d_torus
        return lambda L, T: ising2d_torus(L, T=T)
    rows = list(csv.DictReader(path.open()))

    def lookup(L, T):
        for r in rows:
            if int(r["L"]) == L and abs(float(r["T"]) - T) < 1e-9:
                return {"e": float(r["energy_per_spin"]), "C": float(r["specific_heat_per_spin"])}
        raise KeyError((L, T))
    return lookup


@pytest.mark.parametrize("algorithm", ["wolff", "swendsen-wang"])
@pytest.mark.parametrize("L", [16, 32, 64])      # L = 64: SW crosses its 2048-bond chunks
def test_cluster_algorithms_at_tc_reference(algorithm, L):
    exact = _reference()(L, T_C_SQUARE)
    res = run(kd.lattice.square(L), T_C_SQUARE, algorithm, seed=23, sweeps=40_000)
    assert_close(res, exact, f"L={L} {algorithm} at T_c", keys=("e",), derived=("C",))


def test_reference_file_matches_kaufman():
    # the shared reference and kd.theory's exact finite torus agree
    from kadanoff.theory import ising2d_torus
    exact = ising2d_torus(16, T=T_C_SQUARE)
    ref = _reference()(16, T_C_SQUARE)
    assert abs(exact["e"] - ref["e"]) < 1e-8 and abs(exact["C"] - ref["C"]) < 1e-7


def test_algorithms_sample_the_same_distribution():
    """Two-sample comparison of all algorithm pairs on 8x8 near T_c."""
    lat = kd.lattice.square(8)
    T = 2.35
    results = {a: run(lat, T, a, seed=24, sweeps=100_000) for a in ALL}
    for i, a in enumerate(ALL):
        for b in ALL[i + 1:]:
            ra, rb = results[a], results[b]
            for k in ("e", "abs_m", "m2"):
                z = (ra.mean(k) - rb.mean(k)) / np.hypot(ra.error(k), rb.error(k))
                assert abs(z) < 4, f"{a} vs {b} on {k}: z = {z:.2f}"
            for f in ("specific_heat", "susceptibility"):
                x, y = getattr(ra, f)(), getattr(rb, f)()
                z = (x.value - y.value) / np.hypot(x.error, y.error)
                assert abs(z) < 4, f"{a} vs {b} on {f}: z = {z:.2f}"


def test_wolff_sweep_is_a_fixed_number_of_clusters():
    """The stopping rule 'clusters until N spins flipped' biases <m^2> on 4x4 at T=2
    (0.947 instead of 0.869); a fixed cluster count per sweep does not."""
    lat = kd.lattice.square(4)
    sim = kd.Simulation(kd.Ising(lat), T=2.0, algorithm="wolff", rng=25)
    res = sim.run(sweeps=100_000, thermalize=1_000)
    info = res.meta["algorithm_info"]
    assert isinstance(info["clusters_per_sweep"], int) and info["clusters_per_sweep"] >= 1
    exact = enumerate_ising(lat, T=2.0)
    assert abs(exact["m2"] - 0.869) < 1e-3
    assert abs(res.mean("m2") - exact["m2"]) < 4 * res.error("m2")


def test_biased_wolff_stopping_rule_would_be_caught():
    """The 4x4 test has the power to catch the biased rule: sampling after each
    'clusters until N spins flipped' sweep gives <m^2> far from exact."""
    lat = kd.lattice.square(4)
    sim = kd.Simulation(kd.Ising(lat), T=2.0, algorithm="wolff", rng=26)
    sim.run(sweeps=0, thermalize=200)
    upd = sim._updater
    m2 = np.empty(20_000)
    for t in range(len(m2)):
        upd._adaptive_sweep(sim.state, sim._rng_state)     # the biased rule
        m2[t] = sim.state.mean() ** 2
    exact = enumerate_ising(lat, T=2.0)["m2"]
    err = kd.analysis.error_of_mean(m2)
    assert (m2.mean() - exact) / err > 8, (m2.mean(), exact, err)


@pytest.mark.parametrize("algorithm", LOCAL)
def test_random_site_sweeps(algorithm):
    lat = kd.lattice.square(4)
    sim = kd.Simulation(kd.Ising(lat, h=0.2), T=2.5, algorithm=algorithm, rng=27, sweep="random")
    res = sim.run(sweeps=SWEEPS, thermalize=1_000)
    assert res.meta["algorithm_info"]["sweep"] == "random"
    assert_close(res, enumerate_ising(lat, T=2.5, h=0.2), f"random sites {algorithm}",
                 keys=("e", "m", "abs_m", "m2"))
