"""Potts, clock, XY and Heisenberg against exact results: enumeration of
3x3 lattices, the q = 2 Potts / q = 4 clock <-> Ising mappings and the open
XY and Heisenberg chains. Every algorithm of every model, |z| < 4 in the
run's own standard errors at fixed seeds."""
import numpy as np
import pytest
from scipy.special import i0, i1

import kadanoff as kd
from kadanoff.theory import enumerate_ising
from kadanoff.theory.discrete import enumerate_clock, enumerate_potts

from .helpers import Z_MAX, assert_close

SWEEPS = 40_000
LAT3 = kd.lattice.square(3)


def _run(model, T, algorithm, seed, sweeps=SWEEPS, **options):
    sim = kd.Simulation(model, T=T, algorithm=algorithm, rng=seed, **options)
    return sim.run(sweeps=sweeps, thermalize=2000)


@pytest.fixture(scope="module")
def potts3():
    return enumerate_potts(LAT3, 3, [0.7, 1.0, 1.6])


@pytest.mark.parametrize("algorithm", kd.Potts.algorithms)
@pytest.mark.parametrize("k", range(3))
def test_potts_q3_3x3(potts3, algorithm, k):
    T = potts3["T"][k]
    exact = {key: v[k] for key, v in potts3.items()}
    res = _run(kd.Potts(LAT3, q=3), T, algorithm, seed=10 + k)
    assert_close(res, exact, f"Potts q=3 {algorithm} T={T}", keys=("e", "m", "abs_m", "m2"))


@pytest.mark.parametrize("algorithm", ["metropolis", "heatbath"])
def test_random_field_potts(algorithm):
    """Per-site fields on state 0 and on every state, local updates."""
    lat = kd.lattice.square(2, 3)
    rng = np.random.default_rng(5)
    h_site = rng.normal(size=lat.n_sites)
    h_full = rng.normal(size=(lat.n_sites, 3))
    for h, seed in ((h_site, 1), (h_full, 2)):
        model = kd.Potts(lat, q=3, h=h)
        T = 1.2
        exact = _enumerate_full_field(lat, 3, T, h)
        res = _run(model, T, algorithm, seed=seed)
        assert_close(res, exact, f"random-field Potts {algorithm}", keys=("e", "m2"),
                     derived=("C",))


def _enumerate_full_field(lat, q, T, h):
    """Brute force with an arbitrary field (the theory module takes a uniform one)."""
    import itertools
    h = np.asarray(h, dtype=float)
    hf = np.zeros((lat.n_sites, q))
    if h.ndim == 1:
        hf[:, 0] = h
    else:
        hf[:] = h
    V = np.sqrt(q / (q - 1)) * (np.eye(q) - 1.0 / q)
    states = np.array(list(itertools.product(range(q), repeat=lat.n_sites)))
    i, j = lat.edges.T
    E = -(states[:, i] == states[:, j]).sum(1) - hf[np.arange(lat.n_sites), states].sum(1)
    w = np.exp(-(E - E.min()) / T)
    w /= w.sum()
    n = lat.n_sites
    M = V[states].sum(1) / n
    m2 = (M * M).sum(1)
    e = E / n
    return {"e": w @ e, "m2": w @ m2, "C": n / T**2 * (w @ e**2 - (w @ e) ** 2)}


def test_potts_q2_is_ising_at_half_coupling():
    lat = kd.lattice.square(4)
    T = 1.1
    ising = enumerate_ising(lat, T=T, J=0.5)
    shift = 0.5 * lat.n_bonds / lat.n_sites      # delta = (1 + s s') / 2
    exact = {"e": ising["e"] - shift, "m2": ising["m2"], "abs_m": ising["abs_m"],
             "m": ising["abs_m"], "C": ising["C"]}
    for algorithm, seed in zip(kd.Potts.algorithms, range(4)):
        res = _run(kd.Potts(lat, q=2), T, algorithm, seed=seed)
        assert_close(res, exact, f"Potts q=2 {algorithm}", keys=("e", "m2", "abs_m", "m"),
                     derived=("C",))


def test_clock_q4_is_two_ising_models():
    lat = kd.lattice.square(4)
    T = 1.0
    ising = enumerate_ising(lat, T=T, J=0.5)
    exact = {"e": 2 * ising["e"], "C": 2 * ising["C"]}
    for algorithm, seed in zip(kd.Clock.algorithms, range(3)):
        res = _run(kd.Clock(lat, q=4), T, algorithm, seed=seed)
        assert_close(res, exact, f"clock q=4 {algorithm}", keys=("e",), derived=("C",))


@pytest.fixture(scope="module")
def clock6():
    return enumerate_clock(LAT3, 6, [0.6, 1.3])


@pytest.mark.parametrize("algorithm", kd.Clock.algorithms)
@pytest.mark.parametrize("k", range(2))
def test_clock_q6_3x3(clock6, algorithm, k):
    T = clock6["T"][k]
    exact = {key: v[k] for key, v in clock6.items()}
    res = _run(kd.Clock(LAT3, q=6), T, algorithm, seed=20 + k)
    assert_close(res, exact, f"clock q=6 {algorithm} T={T}", keys=("e", "abs_m", "m2", "helicity"))


def test_clock_field_q5():
    lat = kd.lattice.square(2, 3)
    exact = enumerate_clock(lat, 5, 0.9, h=0.4)
    for algorithm, seed in (("metropolis", 3), ("heatbath", 4)):
        res = _run(kd.Clock(lat, q=5, h=0.4), 0.9, algorithm, seed=seed)
        assert_close(res, exact, f"clock q=5 h=0.4 {algorithm}", keys=("e", "abs_m", "m2"))


XY_RUNS = [("metropolis", {}), ("metropolis", {"overrelaxation": 2}), ("heatbath", {}),
           ("heatbath", {"overrelaxation": 1}), ("wolff", {})]


@pytest.mark.parametrize("algorithm,options", XY_RUNS)
def test_open_xy_chain(algorithm, options):
    """<cos(theta_i - theta_i+1)> = I1(J/T) / I0(J/T) on an open chain."""
    L, T = 16, 0.7
    model = kd.XY(kd.lattice.chain(L, periodic=False))
    res = _run(model, T, algorithm, seed=7, sweeps=20_000, **options)
    exact = -(L - 1) / L * i1(1 / T) / i0(1 / T)
    z = (res.mean("e") - exact) / res.error("e")
    assert abs(z) < Z_MAX, (algorithm, options, res.mean("e"), exact, z)


@pytest.mark.parametrize("algorithm,options", XY_RUNS)
def test_open_heisenberg_chain(algorithm, options):
    """<s_i . s_i+1> = coth(J/T) - T/J on an open chain."""
    L, T = 16, 0.5
    model = kd.Heisenberg(kd.lattice.chain(L, periodic=False))
    res = _run(model, T, algorithm, seed=8, sweeps=20_000, **options)
    exact = -(L - 1) / L * (1 / np.tanh(1 / T) - T)
    z = (res.mean("e") - exact) / res.error("e")
    assert abs(z) < Z_MAX, (algorithm, options, res.mean("e"), exact, z)


@pytest.mark.parametrize("model", [kd.XY, kd.Heisenberg])
def test_on_algorithms_agree_in_2d(model):
    """Two-sample test: every O(n) algorithm samples the same distribution
    (8x8 periodic square lattice, near the XY BKT region)."""
    lat = kd.lattice.square(8)
    T = 0.95 if model is kd.XY else 0.8
    means = {}
    for (algorithm, options), seed in zip(XY_RUNS, range(30, 40)):
        res = _run(model(lat), T, algorithm, seed=seed, sweeps=6000, **options)
        means[(algorithm, tuple(options.items()))] = {
            k: (res.mean(k), res.error(k)) for k in ("e", "m2")}
    ref = means[("wolff", ())]
    for key, vals in means.items():
        for k, (v, err) in vals.items():
            z = (v - ref[k][0]) / np.hypot(err, ref[k][1])
            assert abs(z) < Z_MAX, (model.__name__, key, k, z)


@pytest.mark.parametrize("algorithm", ["heatbath", "wolff", "swendsen-wang"])
def test_ising_ring_fourier_and_correlation_length(algorithm):
    """Periodic Ising ring: G(r) = (t^r + t^(L-r)) / (1 + t^L), t = tanh(J/T),
    gives <m2> and <m2_k> exactly, hence xi_2nd."""
    L, T = 24, 1.0
    t = np.tanh(1 / T)
    r = np.arange(L)
    G = (t ** r + t ** (L - r)) / (1 + t ** L)
    exact_m2 = G.sum() / L
    exact_mk = (G * np.cos(2 * np.pi * r / L)).sum() / L
    exact_xi = np.sqrt(exact_m2 / exact_mk - 1) / (2 * np.sin(np.pi / L))
    res = _run(kd.Ising(kd.lattice.chain(L)), T, algorithm, seed=3, sweeps=60_000)
    for name, exact in (("m2", exact_m2), ("m2_k", exact_mk)):
        z = (res.mean(name) - exact) / res.error(name)
        assert abs(z) < Z_MAX, (algorithm, name, res.mean(name), exact, z)
    xi = res.correlation_length()
    assert abs(xi.value - exact_xi) < Z_MAX * xi.error, (algorithm, xi, exact_xi)
