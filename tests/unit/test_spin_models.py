"""Potts, Clock, XY, Heisenberg: input validation, reproducibility and the
measurement definitions on configurations whose values are known."""
import numpy as np
import pytest

import kadanoff as kd

LAT = kd.lattice.square(4)
MODELS = [(kd.Potts, {"q": 3}), (kd.Clock, {"q": 6}), (kd.XY, {}), (kd.Heisenberg, {})]


def _all_runs():
    for cls, kw in MODELS:
        for algorithm in cls.algorithms:
            yield cls, kw, algorithm


@pytest.mark.parametrize("cls,kw,algorithm", list(_all_runs()))
def test_same_seed_same_bits(cls, kw, algorithm):
    runs = []
    for seed in (3, 3, 4):
        sim = kd.Simulation(cls(LAT, **kw), T=1.0, algorithm=algorithm, rng=seed)
        res = sim.run(sweeps=30, thermalize=10)
        runs.append((res["e"].copy(), sim.state.copy()))
    assert np.array_equal(runs[0][0], runs[1][0]) and np.array_equal(runs[0][1], runs[1][1])
    assert not np.array_equal(runs[0][1], runs[2][1])


@pytest.mark.parametrize("cls,kw,algorithm", list(_all_runs()))
def test_recorded_energy_matches_definition(cls, kw, algorithm):
    """The kernel's running measurement equals H computed here from its definition."""
    lat = kd.lattice.triangular(4)
    J = np.random.default_rng(1).uniform(0.5, 1.5, lat.n_bonds)
    model = cls(lat, J=J, **kw)
    sim = kd.Simulation(model, T=0.8, algorithm=algorithm, rng=2)
    res = sim.run(sweeps=20)
    s = sim.state
    i, j = lat.edges.T
    if cls is kd.Potts:
        H = -np.sum(J * (s[i] == s[j]))
    elif cls is kd.Clock:
        th = 2 * np.pi * s / kw["q"]
        H = -np.sum(J * np.cos(th[i] - th[j]))
    else:
        assert np.allclose(np.linalg.norm(s, axis=1), 1, atol=1e-12)
        H = -np.sum(J * np.einsum("bi,bi->b", s[i], s[j]))
    assert res["e"][-1] * lat.n_sites == pytest.approx(H, abs=1e-9)
    assert model.energy(s) == pytest.approx(H, abs=1e-9)


@pytest.mark.parametrize("cls,kw", MODELS)
def test_ordered_state_observables(cls, kw):
    model = cls(LAT, **kw)
    n = LAT.n_sites
    state = np.zeros(n, dtype=np.int8) if cls in (kd.Potts, kd.Clock) else \
        np.tile(np.eye(model.d)[0], (n, 1))
    obs = model.measure(state, T=1.0)
    assert obs["m2"] == pytest.approx(1.0) and obs["abs_m"] == pytest.approx(1.0)
    assert obs["m2_k"] == pytest.approx(0.0, abs=1e-12)
    assert obs["e"] == pytest.approx(-2.0)
    if "helicity" in obs:          # every bond along x and y at zero twist
        assert obs["helicity"] == pytest.approx(1.0)
    if cls is kd.Potts:
        assert obs["m"] == pytest.approx(1.0)
    np.testing.assert_allclose(model.correlation(state), 1.0)


def test_xy_single_vortex_pair_and_helicity_sign():
    lat = kd.lattice.square(8)
    x, y = lat.cells.T
    theta = np.arctan2(y - 2.5, x - 2.5) - np.arctan2(y - 2.5, x - 5.5)
    obs = kd.XY(lat).measure(theta, T=1.0)
    assert obs["vortex_density"] * lat.n_sites == pytest.approx(2.0)
    uniform = kd.XY(lat).measure(np.zeros(lat.n_sites), T=1.0)
    assert uniform["vortex_density"] == 0.0


def test_potts_order_parameter_of_mixed_state():
    model = kd.Potts(kd.lattice.chain(6), q=3)
    obs = model.measure([0, 0, 0, 1, 1, 2])
    # fractions (1/2, 1/3, 1/6): m = (3 * 1/2 - 1) / 2; m2 = (3 sum n^2 - 1) / 2
    assert obs["m"] == pytest.approx(0.25)
    assert obs["m2"] == pytest.approx((3 * (1 / 4 + 1 / 9 + 1 / 36) - 1) / 2)


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("q", [1, 0, -3, 2.5, True, "3", None, 128])
@pytest.mark.parametrize("cls", [kd.Potts, kd.Clock])
def test_bad_q(cls, q):
    with pytest.raises(ValueError, match="q"):
        cls(LAT, q=q)


@pytest.mark.parametrize("cls,kw", MODELS)
def test_bad_couplings(cls, kw):
    with pytest.raises(ValueError, match="J"):
        cls(LAT, J=[1.0, 2.0], **kw)
    with pytest.raises(ValueError, match="J"):
        cls(LAT, J=np.nan, **kw)
    with pytest.raises(ValueError, match="h"):
        cls(LAT, h=np.inf, **kw)


def test_bad_potts_field_shape():
    with pytest.raises(ValueError, match="h"):
        kd.Potts(LAT, q=3, h=np.zeros((LAT.n_sites, 4)))


@pytest.mark.parametrize("cls,kw,algorithm", [(kd.Clock, {"q": 4}, "swendsen-wang"),
                                              (kd.XY, {}, "swendsen-wang"),
                                              (kd.Potts, {"q": 3}, "overrelaxation")])
def test_unsupported_algorithm_names_alternatives(cls, kw, algorithm):
    with pytest.raises(ValueError, match="choose one of"):
        kd.Simulation(cls(LAT, **kw), T=1.0, algorithm=algorithm)


@pytest.mark.parametrize("cls,kw", MODELS)
def test_clusters_refuse_fields_and_antiferromagnets(cls, kw):
    with pytest.raises(ValueError, match="h = 0"):
        kd.Simulation(cls(LAT, h=0.3, **kw), T=1.0, algorithm="wolff")
    with pytest.raises(ValueError, match="J >= 0"):
        kd.Simulation(cls(LAT, J=-1.0, **kw), T=1.0, algorithm="wolff")


@pytest.mark.parametrize("state", [[0, 1, 3, 0], np.full(16, 3), np.full(16, -1),
                                   np.full(16, 0.5), np.zeros(15), "abc"])
def test_bad_discrete_states(state):
    sim = kd.Simulation(kd.Potts(LAT, q=3), T=1.0, rng=0)
    with pytest.raises(ValueError, match="state"):
        sim.state = state


@pytest.mark.parametrize("state", [np.ones((16, 2)), np.zeros((16, 3)), np.full((16, 2), np.nan),
                                   np.ones(16 * 2)])
def test_bad_vector_states(state):
    sim = kd.Simulation(kd.XY(LAT), T=1.0, rng=0)
    with pytest.raises(ValueError, match="state"):
        sim.state = state


def test_xy_state_from_angles_roundtrip():
    sim = kd.Simulation(kd.XY(LAT), T=1.0, rng=0)
    sim.state = np.linspace(0, 1, 16)
    np.testing.assert_allclose(sim.state[:, 0], np.cos(np.linspace(0, 1, 16)))


@pytest.mark.parametrize("options,exc", [({"overrelaxation": -1}, ValueError),
                                          ({"overrelaxation": 1.5}, ValueError),
                                          ({"delta": 0.0}, ValueError),
                                          ({"delta": 3.0}, ValueError),
                                          ({"target_acceptance": 1.0}, ValueError),
                                          ({"sweep": "diagonal"}, ValueError),
                                          ({"colour": 1}, TypeError)])
def test_bad_on_options(options, exc):
    with pytest.raises(exc):
        kd.Simulation(kd.Heisenberg(LAT), T=1.0, algorithm="metropolis", **options)


def test_adaptive_step_is_frozen_while_measuring():
    sim = kd.Simulation(kd.XY(LAT), T=0.3, algorithm="metropolis", rng=1)
    sim.run(sweeps=0, thermalize=200)
    res = sim.run(sweeps=200)
    delta = res.meta["algorithm_info"]["delta"]
    assert 0 < delta <= 2
    res2 = sim.run(sweeps=200)
    assert res2.meta["algorithm_info"]["delta"] == delta
    assert 0.3 < res2.meta["algorithm_info"]["acceptance"] < 0.7


def test_adaptive_step_tuned_without_thermalisation():
    sim = kd.Simulation(kd.XY(LAT), T=0.2, algorithm="metropolis", rng=1)
    res = sim.run(sweeps=100)
    info = res.meta["algorithm_info"]
    assert info["delta"] < 1.0 and 0.3 < info["acceptance"] < 0.7


def test_adaptive_step_does_not_depend_on_chunking():
    """Same seed, thermalisation split differently: identical chains."""
    def chain(splits):
        sim = kd.Simulation(kd.XY(LAT), T=0.5, algorithm="metropolis", rng=9)
        for n in splits:
            sim.run(sweeps=0, thermalize=n)
        return sim.run(sweeps=50)
    a, b = chain([100]), chain([3, 41, 7, 49])
    assert a.meta["algorithm_info"]["delta"] == b.meta["algorithm_info"]["delta"]
    assert np.array_equal(a["e"], b["e"])
