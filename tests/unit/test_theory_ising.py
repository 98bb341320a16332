"""Unit tests for kadanoff.theory.ising: exact Ising reference results.

Every check compares two independent routes to the same number (complete enumeration, a naive
brute-force sum written here, Kaufman's torus formula, the chain transfer matrix, Onsager/Yang,
the tabulated finite-L values in ../shared/reference) or a closed form.
"""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from kadanoff.theory.ising import (
    T_C_SQUARE,
    enumerate_ising,
    ising2d_torus,
    ising_chain,
    onsager_energy,
    onsager_magnetization,
)

KEYS = ("e", "e2", "m", "abs_m", "m2", "m4", "C", "chi", "chi_m", "binder", "log_Z")
REFERENCE_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference"
REFERENCE_CSV = REFERENCE_DIR / "ising2d_exact_finite_L.csv"


# ---------------------------------------------------------------------------------------------
# helpers (independent of the module under test)
# ---------------------------------------------------------------------------------------------


def torus_edges(L):
    """Bonds (x,y)-(x+1,y) and (x,y)-(x,y+1) mod L; for L = 2 every pair appears twice."""
    edges = []
    for y in range(L):
        for x in range(L):
            i = y * L + x
            edges.append((i, y * L + (x + 1) % L))
            edges.append((i, ((y + 1) % L) * L + x))
    return np.array(edges)


def ring_edges(L):
    return np.array([(i, (i + 1) % L) for i in range(L)])


def brute_force(n, edges, T, J=1.0, h=0.0):
    """Direct Boltzmann sums over the full (2^n, n) spin matrix, one temperature."""
    edges = np.asarray(edges)
    J = np.broadcast_to(np.asarray(J, dtype=float), (len(edges),))
    h = np.broadcast_to(np.asarray(h, dtype=float), (n,))
    states = np.arange(2**n)[:, None]
    s = np.where((states >> np.arange(n)) & 1, 1.0, -1.0)
    E = -(s[:, edges[:, 0]] * s[:, edges[:, 1]]) @ J - s @ h
    M = s.sum(axis=1)
    w = np.exp(-(E - E.min()) / T)
    Z = w.sum()
    p = w / Z

    def var(x):
        return p @ (x - p @ x) ** 2

    m2 = p @ M**2 / n**2
    m4 = p @ M**4 / n**4
    return {
        "e": p @ E / n,
        "e2": p @ E**2 / n**2,
        "m": p @ M / n,
        "abs_m": p @ np.abs(M) / n,
        "m2": m2,
        "m4": m4,
        "C": var(E) / (T**2 * n),
        "chi": var(np.abs(M)) / (T * n),
        "chi_m": var(M) / (T * n),
        "binder": 1.0 - m4 / (3.0 * m2**2),
        "log_Z": np.log(Z) - E.min() / T,
    }


def assert_same(got, want, keys=KEYS, rtol=1e-10, atol=1e-12):
    for k in keys:
        np.testing.assert_allclose(got[k], want[k], rtol=rtol, atol=atol, err_msg=k)


# ---------------------------------------------------------------------------------------------
# enumerate_ising
# ---------------------------------------------------------------------------------------------

_rng = np.random.default_rng(20240611)
_N_RANDOM = 9
_EDGES_RANDOM = np.vstack([_rng.integers(0, _N_RANDOM, size=(18, 2)), [(0, 1), (0, 1), (4, 4)]])
_M = len(_EDGES_RANDOM)


@pytest.mark.parametrize(
    "J, h",
    [
        (1.0, 0.0),  # density-of-states path
        (_rng.choice([-1.0, 2.0], size=_M), 0.35),  # integer couplings, uniform field: DOS path
        (_rng.normal(size=_M), _rng.normal(size=_N_RANDOM)),  # general path
        (_rng.normal(size=_M), -0.4),  # general path, uniform field
        (-0.7, _rng.normal(size=_N_RANDOM)),  # general path, site fields
    ],
    ids=["ferro", "integer-J", "gauss-J-site-h", "gauss-J-uniform-h", "site-h"],
)
@pytest.mark.parametrize("T", [0.45, 1.3, 5.0])
def test_enumerate_matches_brute_force(J, h, T):
    # random multigraph with a repeated bond and a self-bond
    got = enumerate_ising(_N_RANDOM, _EDGES_RANDOM, T=T, J=J, h=h)
    assert_same(got, brute_force(_N_RANDOM, _EDGES_RANDOM, T, J, h), rtol=1e-10)


@pytest.mark.parametrize("gaussian", [False, True])
def test_enumerate_several_blocks_matches_brute_force(gaussian):
    # 17 sites: more than one block of 2^16 states, on both code paths
    n = 17
    rng = np.random.default_rng(7)
    edges = np.vstack([ring_edges(n), rng.integers(0, n, size=(10, 2))])
    J = rng.normal(size=len(edges)) if gaussian else 1.0
    h = rng.normal(scale=0.3, size=n) if gaussian else 0.2
    got = enumerate_ising(n, edges, T=1.7, J=J, h=h)
    assert_same(got, brute_force(n, edges, 1.7, J, h), rtol=1e-10)


def test_enumerate_field_reversal_symmetry():
    rng = np.random.default_rng(3)
    n, edges = 10, rng.integers(0, 10, size=(20, 2))
    J, h = rng.normal(size=20), rng.normal(size=10)
    Ts = np.array([0.6, 2.0])
    up = enumerate_ising(n, edges, T=Ts, J=J, h=h)
    down = enumerate_ising(n, edges, T=Ts, J=J, h=-h)
    np.testing.assert_allclose(down["m"], -up["m"], rtol=1e-12)
    assert np.all(np.abs(up["m"]) > 1e-3)
    for k in ("e", "e2", "abs_m", "m2", "m4", "C", "chi", "chi_m", "binder", "log_Z"):
        np.testing.assert_allclose(down[k], up[k], rtol=1e-12, err_msg=k)
    # and without a field the magnetization vanishes by symmetry
    zero = enumerate_ising(n, edges, T=Ts, J=J)
    np.testing.assert_allclose(zero["m"], 0.0, atol=1e-14)


def test_enumerate_free_spins_closed_form():
    # no bonds: independent spins, m = tanh(h/T), chi_m = (1 - m^2)/T
    T, h = 1.3, 0.4
    r = enumerate_ising(5, np.zeros((0, 2), dtype=int), T=T, h=h)
    m = np.tanh(h / T)
    assert r["m"] == pytest.approx(m, rel=1e-13)
    assert r["chi_m"] == pytest.approx((1 - m * m) / T, rel=1e-12)
    assert r["log_Z"] == pytest.approx(5 * np.log(2 * np.cosh(h / T)), rel=1e-13)


def test_enumerate_4x4_matches_kaufman():
    Ts = np.array([1.0, 1.5, 2.0, T_C_SQUARE, 2.5, 3.5, 6.0])
    exact = enumerate_ising(16, torus_edges(4), T=Ts)
    kaufman = ising2d_torus(4, Ts)
    assert_same(exact, kaufman, keys=("e", "e2", "C", "log_Z"), rtol=1e-9, atol=0)


@pytest.mark.parametrize("L", [2, 3])
def test_small_torus_kaufman_vs_enumeration(L):
    # L = 2 has doubled bonds, L = 3 is odd: the formula holds for both
    Ts = np.array([0.7, 1.5, T_C_SQUARE, 3.0, 8.0])
    exact = enumerate_ising(L * L, torus_edges(L), T=Ts)
    assert_same(exact, ising2d_torus(L, Ts), keys=("e", "e2", "C", "log_Z"), rtol=1e-9, atol=0)


def test_even_antiferromagnetic_torus():
    Ts = np.array([1.2, T_C_SQUARE, 3.0])
    exact = enumerate_ising(16, torus_edges(4), T=Ts, J=-1.0)
    af = ising2d_torus(4, Ts, J=-1.0)
    assert_same(exact, af, keys=("e", "C", "log_Z"), rtol=1e-9, atol=0)
    assert_same(ising2d_torus(4, Ts, J=1.0), af, keys=("e", "C", "log_Z"), rtol=1e-13, atol=0)


def test_lattice_object_and_temperature_forms():
    lat = SimpleNamespace(n_sites=16, edges=torus_edges(4))
    by_lattice = enumerate_ising(lat, T=2.0)
    by_arrays = enumerate_ising(16, torus_edges(4), T=2.0)
    assert by_lattice == by_arrays
    assert all(isinstance(v, float) for v in by_lattice.values())
    assert set(KEYS) | {"Z"} == set(by_lattice)
    # callable edges, beta instead of T, array temperatures
    lat2 = SimpleNamespace(n_sites=16, edges=lambda: torus_edges(4))
    by_beta = enumerate_ising(lat2, beta=[0.5, 0.25])
    assert by_beta["C"].shape == (2,)
    assert by_beta["C"][0] == pytest.approx(by_arrays["C"], rel=1e-14)
    chain_beta = ising_chain(6, beta=np.array([0.5, 1.0]), h=0.2)
    chain_T = ising_chain(6, T=np.array([2.0, 1.0]), h=0.2)
    assert_same(chain_beta, chain_T, rtol=1e-14)
    torus = ising2d_torus(8, [2.0, 2.5])
    assert torus["e"].shape == (2,) and set(torus) == {"e", "e2", "C", "log_Z"}
    assert torus["C"][1] == pytest.approx(ising2d_torus(8, 2.5)["C"], rel=1e-14)


# ---------------------------------------------------------------------------------------------
# ising_chain
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("L", range(2, 11))
@pytest.mark.parametrize("h", [0.0, 0.3])
@pytest.mark.parametrize("J", [1.0, -0.8])
def test_chain_matches_enumeration(L, h, J):
    Ts = np.array([0.4, 1.0, 2.5])
    exact = enumerate_ising(L, ring_edges(L), T=Ts, J=J, h=h)
    chain = ising_chain(L, Ts, J=J, h=h)
    assert_same(chain, exact, rtol=1e-9, atol=1e-12)


def test_chain_two_sites_is_a_double_bond():
    # L = 2: H = -2J s0 s1 - h (s0 + s1); Z = 2 e^{2K} cosh(2b) + 2 e^{-2K}
    T, J, h = 0.9, 1.0, 0.25
    K, b = J / T, h / T
    r = ising_chain(2, T, J, h)
    Z = 2 * np.exp(2 * K) * np.cosh(2 * b) + 2 * np.exp(-2 * K)
    assert r["log_Z"] == pytest.approx(np.log(Z), rel=1e-14)
    assert r["e"] == pytest.approx(-(2 * np.exp(2 * K) * (J * np.cosh(2 * b) + h * np.sinh(2 * b))
                                     - 2 * J * np.exp(-2 * K)) / Z, rel=1e-13)


@pytest.mark.parametrize("J", [1.0, -1.0])
def test_long_chain_approaches_infinite_chain(J):
    # corrections are (lambda_-/lambda_+)^L < 1e-40 here
    T, h, L = 1.1, 0.35, 400
    K, b = J / T, h / T
    R = np.sqrt(np.sinh(b) ** 2 + np.exp(-4 * K))
    r = ising_chain(L, T, J, h)
    assert r["m"] == pytest.approx(np.sinh(b) / R, rel=1e-12)
    chi_inf = np.cosh(b) * np.exp(-4 * K) / R**3 / T
    assert r["chi_m"] == pytest.approx(chi_inf, rel=1e-10)
    r0 = ising_chain(L, T, J)  # h = 0: e = -J tanh K, C = K^2 / cosh^2 K
    assert r0["e"] == pytest.approx(-J * np.tanh(K), rel=1e-12)
    assert r0["C"] == pytest.approx(K**2 / np.cosh(K) ** 2, rel=1e-10)


def test_chain_field_reversal_symmetry():
    up, down = ising_chain(9, [0.5, 2.0], J=-1.0, h=0.7), ising_chain(9, [0.5, 2.0], J=-1.0, h=-0.7)
    np.testing.assert_allclose(down["m"], -up["m"], rtol=1e-12)
    for k in ("e", "abs_m", "m2", "m4", "C", "chi", "chi_m", "log_Z"):
        np.testing.assert_allclose(down[k], up[k], rtol=1e-11, err_msg=k)


# ---------------------------------------------------------------------------------------------
# ising2d_torus
# ---------------------------------------------------------------------------------------------


def _reference_rows():
    if not REFERENCE_CSV.exists():
        pytest.skip(f"reference table not found at {REFERENCE_CSV} (present on CI)")
    data = np.loadtxt(REFERENCE_CSV, delimiter=",", skiprows=1, ndmin=2)
    assert data.shape[1] == 4 and len(data) > 0
    return data


def test_torus_matches_reference_table():
    data = _reference_rows()
    for L in np.unique(data[:, 0]).astype(int):
        rows = data[data[:, 0] == L]
        r = ising2d_torus(int(L), rows[:, 1])
        np.testing.assert_allclose(r["e"], rows[:, 2], rtol=1e-8, err_msg=f"L={L}")
        np.testing.assert_allclose(r["C"], rows[:, 3], rtol=1e-8, err_msg=f"L={L}")


def test_torus_is_smooth_through_tc():
    # the sign of gamma_0 flips at T_c: e and C must be finite and continuous there
    Ts = T_C_SQUARE * np.array([1 - 1e-9, 1.0, 1 + 1e-9])
    for L in (4, 7, 64):
        r = ising2d_torus(L, Ts)
        assert np.all(np.isfinite(r["C"])) and np.all(np.isfinite(r["e"]))
        np.testing.assert_allclose(r["C"], r["C"][1], rtol=1e-6)
        np.testing.assert_allclose(r["e"], r["e"][1], rtol=1e-7)


def test_torus_large_L_approaches_onsager():
    Ts = np.array([1.0, 1.5, 3.0, 4.0, 6.0])
    np.testing.assert_allclose(ising2d_torus(64, Ts)["e"], onsager_energy(Ts), rtol=0, atol=1e-6)
    # at T_c the finite-size specific heat grows like (8/pi) K_c^2 ln L (Ferdinand & Fisher)
    c = [ising2d_torus(L, T_C_SQUARE)["C"] for L in (16, 32, 64, 128)]
    k_c = np.log(1 + np.sqrt(2)) / 2
    np.testing.assert_allclose(np.diff(c), 8 / np.pi * k_c**2 * np.log(2), rtol=0.02)


# ---------------------------------------------------------------------------------------------
# Onsager / Yang
# ---------------------------------------------------------------------------------------------


def test_onsager_energy_values():
    assert T_C_SQUARE == pytest.approx(2.269185314213022, rel=1e-15)
    assert onsager_energy(T_C_SQUARE) == pytest.approx(-np.sqrt(2), rel=1e-12)
    assert onsager_energy(0.2) == pytest.approx(-2.0, abs=1e-12)
    # high temperature series u = -2 t - 4 t^3 + O(t^5), t = tanh(1/T)
    t = np.tanh(1 / 200.0)
    assert onsager_energy(200.0) == pytest.approx(-2 * t - 4 * t**3, rel=1e-8)
    u = onsager_energy(np.array([1.0, 2.0, 3.0]))
    assert u.shape == (3,) and np.all(np.diff(u) > 0)


def test_onsager_magnetization_values():
    # low temperature series m = 1 - 2u^2 - 8u^3 - 34u^4 - 152u^5 - 714u^6 - ..., u = e^{-4/T}
    u = np.exp(-4 / 0.8)
    series = 1 - 2 * u**2 - 8 * u**3 - 34 * u**4 - 152 * u**5 - 714 * u**6
    assert onsager_magnetization(0.8) == pytest.approx(series, abs=1e-10)
    m = onsager_magnetization(np.array([1.0, 2.0, T_C_SQUARE, 2.5, 10.0]))
    assert np.all(m[2:] == 0.0)
    assert 0 < m[1] < m[0] < 1
    assert onsager_magnetization(T_C_SQUARE * (1 - 1e-8)) < 0.2  # beta = 1/8: (1e-8)^(1/8) ~ 0.1


# ---------------------------------------------------------------------------------------------
# input validation
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: enumerate_ising(25, [(0, 1)], T=1.0), "n_sites"),
        (lambda: enumerate_ising(0, [(0, 0)], T=1.0), "n_sites"),
        (lambda: enumerate_ising(SimpleNamespace(n_sites=30, edges=[(0, 1)]), T=1.0), "n_sites"),
        (lambda: enumerate_ising(3, [(0, 3)], T=1.0), "edges"),
        (lambda: enumerate_ising(3, [(0, 1, 2)], T=1.0), "edges"),
        (lambda: enumerate_ising(3, T=1.0), "edges"),
        (lambda: enumerate_ising(SimpleNamespace(n_sites=2, edges=[(0, 1)]), [(0, 1)], T=1.0), "edges"),
        (lambda: enumerate_ising(3, [(0, 1)], T=1.0, J=[1.0, 2.0]), "J"),
        (lambda: enumerate_ising(3, [(0, 1)], T=1.0, J=np.nan), "J"),
        (lambda: enumerate_ising(3, [(0, 1)], T=1.0, h=[1.0, 2.0]), "h"),
        (lambda: enumerate_ising(3, [(0, 1)], T=0.0), "T"),
        (lambda: enumerate_ising(3, [(0, 1)], T=[1.0, -1.0]), "T"),
        (lambda: enumerate_ising(3, [(0, 1)], T=np.nan), "T"),
        (lambda: enumerate_ising(3, [(0, 1)]), "T"),
        (lambda: enumerate_ising(3, [(0, 1)], T=1.0, beta=1.0), "beta"),
        (lambda: ising_chain(1, 1.0), "L"),
        (lambda: ising_chain(2.5, 1.0), "L"),
        (lambda: ising_chain(4, 0.0), "T"),
        (lambda: ising_chain(4, -1.0), "T"),
        (lambda: ising_chain(4, [[1.0, 2.0]]), "T"),
        (lambda: ising_chain(4, 1e-3), "T"),
        (lambda: ising_chain(4, beta=-1.0), "beta"),
        (lambda: ising_chain(4, 1.0, J=np.nan), "J"),
        (lambda: ising_chain(4, 1.0, h=np.inf), "h"),
        (lambda: ising2d_torus(1, 1.0), "L"),
        (lambda: ising2d_torus(4, 0.0), "T"),
        (lambda: ising2d_torus(3, 1.0, J=-1.0), "J"),
        (lambda: ising2d_torus(4, 1.0, J=np.inf), "J"),
        (lambda: onsager_energy(0.0), "T"),
        (lambda: onsager_magnetization(-1.0), "T"),
    ],
)
def test_bad_input_raises_value_error_naming_parameter(call, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        call()
