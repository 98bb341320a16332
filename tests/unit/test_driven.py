"""kd.driven: bookkeeping identities, reproducibility, bad input."""
import math

import numpy as np
import pytest

import kadanoff as kd

drv = kd.driven


def _kls(L=8, E=1.5, **kw):
    return drv.DrivenLatticeGas(kd.lattice.square(L), density=0.5, E=E, **kw)


# ----------------------------------------------------------------- identities
def test_kls_entropy_is_work_minus_energy_change_per_block():
    """Per measurement block: N entropy = beta (E N current - dH / every)."""
    gas = _kls(E=1.5)
    every, T = 3, 2.0
    sim = kd.Simulation(gas, T=T, rng=1)
    e0 = gas.energy(sim.state)
    res = sim.run(sweeps=300, measure_every=every)
    n = gas.n_sites
    H = np.concatenate([[e0], res["e"] * n])
    lhs = res["entropy"] * n
    rhs = (gas.E * res["current"] * n - np.diff(H) / every) / T
    np.testing.assert_allclose(lhs, rhs, atol=1e-9)
    assert res["e"][-1] * n == pytest.approx(gas.energy(sim.state))
    assert int(sim.state.sum()) == gas.particles          # conserved


def test_two_temperature_entropy_is_heat_over_temperature():
    model = drv.TwoTemperatureIsing(kd.lattice.square(6), T_y=4.0)
    Tx = 1.5
    sim = kd.Simulation(model, T=Tx, rng=2)
    e0 = model.energy(sim.state)
    res = sim.run(sweeps=200, measure_every=2)
    np.testing.assert_allclose(res["entropy"],
                               -(res["heat_x"] / Tx + res["heat_y"] / model.T_y), atol=1e-12)
    H = np.concatenate([[e0], res["e"] * model.n_sites])
    np.testing.assert_allclose((res["heat_x"] + res["heat_y"]) * model.n_sites * 2, np.diff(H),
                               atol=1e-9)


@pytest.mark.parametrize("model_alg", ["kls", "tti", "glauber", "parallel"])
def test_entropy_map_sums_to_entropy(model_alg):
    if model_alg == "kls":
        model, alg, cols = _kls(L=6), None, 2
    elif model_alg == "tti":
        model, alg, cols = drv.TwoTemperatureIsing(kd.lattice.square(6), T_y=3.0), None, 2
    else:
        J = np.random.default_rng(0).normal(size=(10, 10))
        np.fill_diagonal(J, 0)
        model, alg, cols = drv.KineticIsing(J), model_alg, 1
    res = kd.Simulation(model, T=2.0, algorithm=alg, rng=3, entropy_map=True).run(
        sweeps=60, measure_every=3)
    emap = res["entropy_map"]
    assert emap.shape == (20, model.n_sites, cols)
    np.testing.assert_allclose(emap.sum(axis=(1, 2)), res["entropy"] * model.n_sites,
                               atol=1e-9)
    plain = kd.Simulation(model, T=2.0, algorithm=alg, rng=3).run(sweeps=60, measure_every=3)
    assert "entropy_map" not in plain
    np.testing.assert_array_equal(plain["entropy"], res["entropy"])   # same chain


def test_kls_map_rows_are_bonds_along_plus_axis():
    """One particle on a ring: every hop i -> i+1 is booked on row i."""
    gas = drv.DrivenLatticeGas(kd.lattice.chain(5), particles=1, J=0.0, E=1.0)
    sim = kd.Simulation(gas, T=1.0, rng=4, entropy_map=True,
                        state=[1, 0, 0, 0, 0])
    res = sim.run(sweeps=1, measure_every=1)
    emap = res["entropy_map"][0, :, 0]
    # entropy is +-1 (beta E) per hop; total = net hops
    assert emap.sum() == pytest.approx(res["current"][0] * 5)
    assert set(np.round(np.abs(emap[emap != 0]), 12)) <= {1.0, 2.0, 3.0, 4.0, 5.0}


def test_sequence_network_steps_through_patterns():
    xi = kd.hopfield.random_patterns(4, 300, rng=5)
    net = drv.KineticIsing.sequence(xi)
    assert net.J.shape == (300, 300) and np.all(np.diag(net.J) == 0)
    assert not np.allclose(net.J, net.J.T)
    sim = kd.Simulation(net, T=0.05, algorithm="parallel", rng=6, state=xi[0])
    res = sim.run(sweeps=8, measure_every=1)
    peaks = np.argmax(res["overlap"], axis=1)
    np.testing.assert_array_equal(peaks, [(k + 1) % 4 for k in range(8)])
    assert np.all(res["overlap"].max(axis=1) > 0.95)
    assert res.mean("entropy") > 0


# ----------------------------------------------------------- reproducibility
@pytest.mark.parametrize("alg", ["glauber", "metropolis", "parallel"])
def test_same_seed_same_bits_and_split_runs(alg):
    J = np.random.default_rng(1).normal(size=(12, 12))
    np.fill_diagonal(J, 0)
    model = drv.KineticIsing(J, h=0.2)
    a = kd.Simulation(model, T=1.0, algorithm=alg, rng=9)
    b = kd.Simulation(model, T=1.0, algorithm=alg, rng=9)
    ra = a.run(sweeps=40, measure_every=4)
    rb1 = b.run(sweeps=20, measure_every=4)
    rb2 = b.run(sweeps=20, measure_every=4)
    np.testing.assert_array_equal(ra["entropy"], np.concatenate([rb1["entropy"],
                                                                 rb2["entropy"]]))
    np.testing.assert_array_equal(a.state, b.state)


def test_kls_reproducible_and_thermalize_consistent():
    gas = _kls()
    a = kd.Simulation(gas, T=2.0, rng=3)
    b = kd.Simulation(gas, T=2.0, rng=3)
    ra = a.run(sweeps=50, thermalize=30)
    b.thermalize(30)
    rb = b.run(sweeps=50)
    np.testing.assert_array_equal(ra["entropy"], rb["entropy"])
    np.testing.assert_array_equal(a.state, b.state)
    assert ra.meta["algorithm_info"]["selection"] == "random-sequential"


def test_checkpoint_round_trip(tmp_path):
    pytest.importorskip("h5py")
    gas = _kls(L=6)
    a = kd.Simulation(gas, T=2.0, rng=12, entropy_map=True)
    a.run(sweeps=20)
    a.checkpoint(tmp_path / "c.h5")
    ra = a.run(sweeps=10)
    b = kd.Simulation(gas, T=2.0, rng=99, entropy_map=True)
    b.restore(tmp_path / "c.h5")
    rb = b.run(sweeps=10)
    np.testing.assert_array_equal(ra["entropy_map"], rb["entropy_map"])


def test_kd_driven_namespace():
    import subprocess
    import sys
    code = "import kadanoff as kd; print(kd.driven.DrivenLatticeGas.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "DrivenLatticeGas"
    assert kd.driven.DrivenLatticeGas is drv.DrivenLatticeGas
    assert set(kd.driven.__all__) >= {"DrivenLatticeGas", "TwoTemperatureIsing", "KineticIsing"}


def test_plot_entropy_map():
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    lat = kd.lattice.square(6)
    res = kd.Simulation(drv.DrivenLatticeGas(lat, E=1.0), T=2.0, rng=1, entropy_map=True).run(
        sweeps=20)
    im = drv.plot_entropy_map(res, lat, direction=0)
    assert im.get_array().shape == (6, 6)
    with pytest.raises(ValueError, match="direction"):
        drv.plot_entropy_map(res, lat, direction=3)
    with pytest.raises(ValueError, match="2D"):
        drv.plot_entropy_map(np.zeros((6, 1)), kd.lattice.chain(6))


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs, match", [
    ({"density": 1.2}, "density"),
    ({"density": 0.0}, "density"),
    ({"particles": 0}, "particles"),
    ({"particles": 64}, "particles"),
    ({"particles": 2.5}, "particles"),
    ({"E": math.inf}, "E must be finite"),
    ({"E": "x"}, "E"),
    ({"J": math.nan}, "J"),
    ({"axis": 2}, "axis"),
])
def test_kls_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        drv.DrivenLatticeGas(kd.lattice.square(8), **kwargs)


@pytest.mark.parametrize("lattice, match", [
    (kd.lattice.triangular(6), "periodic kd.lattice.chain, square or cubic"),
    (kd.lattice.square(6, periodic=False), "periodic"),
    (kd.lattice.square(2, 6), "side"),
])
def test_exchange_bad_lattices(lattice, match):
    with pytest.raises(ValueError, match=match):
        drv.DrivenLatticeGas(lattice)
    with pytest.raises(ValueError, match=match):
        drv.TwoTemperatureIsing(lattice, T_y=1.0)


def test_bad_lattice_type_and_dimension():
    with pytest.raises(TypeError, match="Lattice"):
        drv.DrivenLatticeGas("square")
    with pytest.raises(ValueError, match="dimension"):
        drv.TwoTemperatureIsing(kd.lattice.chain(8), T_y=1.0)
    with pytest.raises(ValueError, match="T_y"):
        drv.TwoTemperatureIsing(kd.lattice.square(4), T_y=0.0)
    with pytest.raises(TypeError):
        drv.TwoTemperatureIsing(kd.lattice.square(4))      # T_y is required


def test_kls_bad_state_and_options():
    gas = _kls(L=4)
    with pytest.raises(ValueError, match="exactly 8 particles"):
        kd.Simulation(gas, T=1.0, state=np.zeros(16, dtype=int))
    with pytest.raises(ValueError, match="0 and 1"):
        kd.Simulation(gas, T=1.0, state=np.full(16, 2))
    with pytest.raises(ValueError, match="shape"):
        kd.Simulation(gas, T=1.0, state=np.zeros(15))
    with pytest.raises(TypeError, match="entropy_map"):
        kd.Simulation(gas, T=1.0, entropy_map="yes")
    with pytest.raises(TypeError, match="options"):
        kd.Simulation(gas, T=1.0, sweep="ordered")
    with pytest.raises(ValueError, match="heatbath"):
        kd.Simulation(gas, T=1.0, algorithm="heatbath")


@pytest.mark.parametrize("J, match", [
    (np.ones((3, 4)), "square"),
    (np.ones((3, 3)), "diagonal"),
    ([[0, np.inf], [1, 0]], "finite"),
    ("abc", "square array"),
])
def test_kinetic_bad_couplings(J, match):
    with pytest.raises(ValueError, match=match):
        drv.KineticIsing(J)


def test_kinetic_bad_field_patterns_algorithm():
    J = np.zeros((3, 3))
    with pytest.raises(ValueError, match="h"):
        drv.KineticIsing(J, h=[1.0, 2.0])
    with pytest.raises(ValueError, match="patterns"):
        drv.KineticIsing(J, patterns=[[1, 0, 1]])
    with pytest.raises(ValueError, match="patterns"):
        drv.KineticIsing.sequence(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="wolff"):
        kd.Simulation(drv.KineticIsing(J), T=1.0, algorithm="wolff")
    assert drv.KineticIsing(J).check_algorithm("synchronous") == "parallel"
    assert drv.KineticIsing(J).check_algorithm("heat_bath") == "glauber"


# ------------------------------------------------- reversible reaction schemes
def test_reversible_rules_parse_and_expand():
    import kadanoff.reaction as rd
    f, b = rd.parse_reversible("A + B <-> C @ 2, 0.5")
    assert (f.left, f.right, f.rate) == (("A", "B"), ("C",), 2.0)
    assert (b.left, b.right, b.rate) == (("C",), ("A", "B"), 0.5)
    f2, b2 = rd.parse_reversible("A,0 <-> A,A", (1.5, 0.25))
    assert (f2.kind, f2.right, b2.left, b2.rate) == ("pair", ("A", "A"), ("A", "A"), 0.25)
    s = rd.System(kd.lattice.chain(4), "A,B,C", [("A + B <-> C", (2.0, 0.5))], capacity=2)
    assert len(s.rules) == 2 and not s.entropy


@pytest.mark.parametrize("text, rates, match", [
    ("A <-> B @ 1", None, "two rates"),
    ("A <-> B @ 1, x", None, "numbers"),
    ("A <-> B @ 1, -1", None, ">= 0"),
    ("A <-> B", None, "missing rates"),
    ("A <-> B", (1.0,), "two rates"),
    ("A <-> B @ 1, 2", (1.0, 2.0), "twice"),
    ("A <-> B <-> C @ 1, 2", None, "exactly one"),
    ("A -> B", None, "<->"),
])
def test_reversible_rules_bad_input(text, rates, match):
    import kadanoff.reaction as rd
    with pytest.raises(ValueError, match=match):
        rd.parse_reversible(text, rates)


def test_entropy_needs_reverses_and_keeps_outputs():
    import kadanoff.reaction as rd
    with pytest.raises(ValueError, match=r"A,0 -> A,A"):
        rd.System(kd.lattice.chain(5), "A", ["A -> 0 @ 1", "A,0 -> A,A @ 2"], entropy=True)
    with pytest.raises(TypeError, match="entropy"):
        rd.System(kd.lattice.chain(5), "A", ["A <-> 0 @ 1, 1"], entropy="yes")
    rules = ["A <-> 0 @ 1, 0.5", "A,0 <-> A,A @ 1.5, 0.4"]
    plain = rd.System(kd.lattice.chain(12), "A", rules, diffusion=0.3)
    track = rd.System(kd.lattice.chain(12), "A", rules, diffusion=0.3, entropy=True)
    init = np.zeros(12, dtype=int)
    r1 = plain.run(20.0, rng=3, record_every=1.0, initial=init)
    r2 = track.run(20.0, rng=3, record_every=1.0, initial=init)
    assert "entropy" not in r1 and r2["entropy"].shape == r1["t"].shape
    np.testing.assert_array_equal(r1["density"], r2["density"])     # same trajectory
    assert r2["entropy"][0] == 0.0
    e1 = track.ensemble(5, [0.0, 5.0], rng=1, initial=init)
    e2 = plain.ensemble(5, [0.0, 5.0], rng=1, initial=init)
    np.testing.assert_array_equal(e1.counts, e2.counts)
    assert e2.entropy is None and e1.entropy.shape == (5, 2)


def test_entropy_reproducible():
    """Same seed, same entropy bits (recording times change the stream, as
    for every reaction run, so compare equal schedules)."""
    import kadanoff.reaction as rd
    s = rd.System(kd.lattice.square(8), "A,B", ["A <-> B @ 2, 0.5", "B <-> 0 @ 1, 0.3",
                                                "0 <-> A @ 0.2, 0.4"], diffusion=0.5,
                  entropy=True)
    init = np.zeros(64, dtype=int)
    a = s.run(30.0, rng=2, record_every=1.0, initial=init)
    b = s.run(30.0, rng=2, record_every=1.0, initial=init)
    np.testing.assert_array_equal(a["entropy"], b["entropy"])
    assert a["entropy"][-1] > 0


@pytest.mark.parametrize("alg", ["glauber", "metropolis", "parallel"])
def test_sparse_couplings_follow_the_dense_chain(alg):
    sparse = pytest.importorskip("scipy.sparse")
    J = np.random.default_rng(0).normal(size=(15, 15))
    np.fill_diagonal(J, 0)
    J[np.abs(J) < 0.7] = 0
    a = kd.Simulation(drv.KineticIsing(J, h=0.1), T=1.0, algorithm=alg, rng=5).run(
        500, measure_every=5)
    b = kd.Simulation(drv.KineticIsing(sparse.csr_matrix(J), h=0.1), T=1.0, algorithm=alg,
                      rng=5).run(500, measure_every=5)
    np.testing.assert_array_equal(a["m"], b["m"])            # the same decisions
    np.testing.assert_allclose(a["entropy"], b["entropy"], atol=1e-12)


def test_on_lattice_couplings():
    lat = kd.lattice.square(4)
    sym = drv.KineticIsing.on_lattice(lat, 1.0)
    assert sym.params()["symmetric"] and sym.J.nnz == len(lat.indices)
    directed = np.where(lat.entry_vectors()[:, 0] > 0, 1.5, 0.5)     # left/right differ
    asym = drv.KineticIsing.on_lattice(lat, directed)
    assert not asym.params()["symmetric"]
    with pytest.raises(ValueError, match="one value per bond"):
        drv.KineticIsing.on_lattice(lat, np.ones(5))
    with pytest.raises(TypeError, match="Lattice"):
        drv.KineticIsing.on_lattice("square", 1.0)
    with pytest.raises(ValueError, match="diagonal"):
        sparse = pytest.importorskip("scipy.sparse")
        drv.KineticIsing(sparse.eye(4))
