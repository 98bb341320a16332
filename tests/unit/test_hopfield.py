"""Associative memories: API, reproducibility, kernel consistency, bad input."""
import numpy as np
import pytest

import kadanoff as kd
from kadanoff import _hopfield
from kadanoff import hopfield as hp


def models(N=9, seed=1):
    xi = hp.random_patterns(4, N, rng=seed)
    ex = hp.noisy_examples(xi[:3], 5, 0.5, rng=seed + 1)
    return [
        hp.Hopfield(xi),
        hp.Hopfield(xi, remove_diagonal=True),
        hp.Multitasking(hp.random_patterns(4, N, dilution=0.3, rng=seed)),
        hp.DenseHopfield(xi, 3),
        hp.DenseHopfield(xi, 6),
        hp.ExponentialHopfield(xi),
        hp.ExponentialHopfield(xi, lam=2.5),
        hp.Supervised(ex, p=2),
        hp.Supervised(ex, p=4, targets=xi),
        hp.Unsupervised(ex, p=3),
        hp.Unsupervised(hp.random_patterns(6, N, dilution=0.2, rng=seed), p=4),
    ]


# ---------------------------------------------------------------------------
# energies: kernel == numpy
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("model", models(), ids=lambda m: repr(m))
def test_kernel_energy_changes_match_numpy(model):
    rng = np.random.default_rng(3)
    net = model._net()
    for _ in range(3):
        s = model.random_state(rng)
        out = np.empty(model.N)
        net.delta_energies(s, out)
        E0 = model.energy(s)
        ref = np.empty(model.N)
        for i in range(model.N):
            t = s.copy()
            t[i] = -t[i]
            ref[i] = model.energy(t) - E0
        np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)
        assert net.energy(s) == pytest.approx(E0, rel=1e-12, abs=1e-12)


def test_energy_formulas():
    xi = hp.random_patterns(5, 30, rng=2)
    s = hp.random_patterns(1, 30, rng=3)[0]
    m = xi.astype(float) @ s / 30
    assert hp.Hopfield(xi).energy(s) == pytest.approx(-15 * np.sum(m ** 2))
    assert hp.Hopfield(xi, remove_diagonal=True).energy(s) == \
        pytest.approx(-15 * np.sum(m ** 2) + 5 / 2)
    assert hp.DenseHopfield(xi, 3).energy(s) == pytest.approx(-30 * np.sum(m ** 3))
    assert hp.ExponentialHopfield(xi, lam=4.0).energy(s) == \
        pytest.approx(-30 / 4 * np.sum(np.exp(4 * (m - 1))))
    # J_ij form of the pairwise energy
    J = xi.T.astype(float) @ xi / 30
    assert hp.Hopfield(xi).energy(s) == pytest.approx(-0.5 * s @ J @ s)
    np.fill_diagonal(J, 0)
    assert hp.Hopfield(xi, remove_diagonal=True).energy(s) == pytest.approx(-0.5 * s @ J @ s)
    # batch
    S = hp.random_patterns(4, 30, rng=4)
    np.testing.assert_allclose(hp.DenseHopfield(xi, 4).energy(S),
                               [hp.DenseHopfield(xi, 4).energy(x) for x in S])


def test_supervised_and_unsupervised_energies():
    xi = hp.random_patterns(2, 20, rng=5)
    ex = hp.noisy_examples(xi, 4, 0.3, rng=6)          # (2, 4, 20)
    s = hp.random_patterns(1, 20, rng=7)[0]
    mean = ex.mean(axis=1)
    n = mean @ s / 20
    assert hp.Supervised(ex, p=3).energy(s) == pytest.approx(-20 * np.sum(n ** 3))
    labels = np.repeat([7, 3], 4)
    assert hp.Supervised(ex.reshape(8, 20), labels, p=3).energy(s) == \
        pytest.approx(-20 * np.sum(n[::-1] ** 3))        # classes sorted: 3, 7
    na = ex.reshape(8, 20) @ s / 20
    assert hp.Unsupervised(ex, p=2).energy(s) == pytest.approx(-20 / 4 * np.sum(na ** 2))
    assert hp.Unsupervised(ex.reshape(8, 20), p=2).energy(s) == \
        pytest.approx(-20 * np.sum(na ** 2))
    np.testing.assert_allclose(hp.Unsupervised(ex).overlaps(s), na.reshape(2, 4).mean(1))
    np.testing.assert_allclose(hp.Supervised(ex, targets=xi).overlaps(s), xi @ s / 20)


# ---------------------------------------------------------------------------
# Simulation integration and reproducibility
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("model", models(), ids=lambda m: repr(m))
def test_same_seed_same_bits(model):
    def run(seed):
        sim = kd.Simulation(model, T=0.7, algorithm="glauber", rng=seed)
        res = sim.run(sweeps=300, thermalize=50)
        return res, sim

    (a, sa), (b, sb), (c, _) = run(5), run(5), run(6)
    assert np.array_equal(a["e"], b["e"]) and np.array_equal(a["overlap"], b["overlap"])
    assert np.array_equal(sa.state, sb.state) and sa.rng_state == sb.rng_state
    assert not np.array_equal(a["e"], c["e"])
    assert a["overlap"].shape == (300, model._n_q)
    # the last measurement is the energy and overlaps of the final state
    assert a["e"][-1] == pytest.approx(model.energy(sa.state) / model.N, abs=1e-12)
    np.testing.assert_allclose(a["overlap"][-1], model.overlaps(sa.state), atol=1e-12)


@pytest.mark.parametrize("algorithm", ["glauber", "metropolis"])
def test_chunked_runs_continue_the_chain(algorithm):
    xi = hp.random_patterns(40, 200, rng=1)
    model = hp.DenseHopfield(xi, 3)
    one = kd.Simulation(model, T=0.5, algorithm=algorithm, rng=2)
    full = one.run(sweeps=60)
    two = kd.Simulation(model, T=0.5, algorithm=algorithm, rng=2)
    parts = [two.run(sweeps=20) for _ in range(3)]
    assert np.array_equal(full["e"], np.concatenate([p["e"] for p in parts]))
    assert np.array_equal(one.state, two.state)


def test_state_set_between_runs_rebuilds_overlaps():
    xi = hp.random_patterns(5, 100, rng=1)
    model = hp.Hopfield(xi)
    sim = kd.Simulation(model, T=0.2, rng=3)
    sim.run(sweeps=5)
    sim.state = xi[2]
    res = sim.run(sweeps=1)
    assert res["overlap"][0, 2] > 0.8      # from the new state, not the old overlaps
    assert res["e"][-1] == pytest.approx(model.energy(sim.state) / 100)


@pytest.mark.parametrize("name, canonical", [("glauber", "glauber"), ("heatbath", "glauber"),
                                             ("Heat_Bath", "glauber"), ("heat-bath", "glauber"),
                                             ("metropolis", "metropolis"),
                                             (" Metropolis ", "metropolis")])
def test_algorithm_names(name, canonical):
    model = hp.Hopfield(hp.random_patterns(2, 10, rng=1))
    sim = kd.Simulation(model, T=1.0, algorithm=name, rng=1)
    assert sim.algorithm == canonical
    assert sim.run(sweeps=3).meta["algorithm"] == canonical


def test_algorithm_errors():
    model = hp.Hopfield(hp.random_patterns(2, 10, rng=1))
    with pytest.raises(ValueError, match="glauber"):
        kd.Simulation(model, T=1.0, algorithm="wolff")
    with pytest.raises(TypeError):
        kd.Simulation(model, T=1.0, algorithm=3)
    with pytest.raises(TypeError, match="sweep"):
        kd.Simulation(model, T=1.0, clusters_per_sweep=3)
    with pytest.raises(ValueError, match="sweep"):
        kd.Simulation(model, T=1.0, sweep="colour")
    assert kd.Simulation(model, T=1.0).algorithm == "glauber"     # default


def test_sweep_defaults_and_info():
    model = hp.Hopfield(hp.random_patterns(2, 10, rng=1))
    g = kd.Simulation(model, T=1.0, algorithm="glauber", rng=1).run(sweeps=10)
    m = kd.Simulation(model, T=1.0, algorithm="metropolis", rng=1).run(sweeps=10)
    assert g.meta["algorithm_info"]["sweep"] == "sequential"
    assert m.meta["algorithm_info"]["sweep"] == "random"
    assert 0 < g.meta["algorithm_info"]["acceptance"] < 1
    assert g.meta["model"] == "Hopfield" and g.meta["P"] == 2 and g.meta["N"] == 10


# ---------------------------------------------------------------------------
# kernel paths: SIMD vs portable, screened vs full: the same bits
# ---------------------------------------------------------------------------
def _trajectory(model, T, seed=4, sweeps=30, state=None):
    sim = kd.Simulation(model, T=T, rng=seed, state=state)
    res = sim.run(sweeps=sweeps)
    return res["e"].copy(), sim.state.copy(), res.meta["algorithm_info"]


def test_portable_dot_product_gives_the_same_bits():
    xi = hp.random_patterns(203, 300, dilution=0.2, rng=1)   # P not a multiple of 16
    model = hp.Multitasking(xi)
    try:
        _hopfield.force_generic(True)
        assert _hopfield.simd_path() == "generic"
        a = _trajectory(model, 0.4, state=np.where(xi[0] != 0, xi[0], 1))
    finally:
        _hopfield.force_generic(False)
    b = _trajectory(model, 0.4, state=np.where(xi[0] != 0, xi[0], 1))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


@pytest.mark.parametrize("kind", ["dense", "exponential", "blanks", "pairwise"])
def test_screening_takes_the_same_decisions(kind):
    N = 400
    if kind == "dense":
        xi = hp.random_patterns(800, N, rng=1)
        model, T = hp.DenseHopfield(xi, 4), 1.0
    elif kind == "exponential":
        xi = hp.random_patterns(800, N, rng=2)
        model, T = hp.ExponentialHopfield(xi, lam=40.0), 0.5
    elif kind == "blanks":
        xi = hp.random_patterns(300, N, dilution=0.3, rng=3)
        model, T = hp.Unsupervised(xi, p=4), 0.5
    else:
        xi = hp.random_patterns(40, 4000, rng=4)
        model, T = hp.Hopfield(xi), 0.3
    cue = np.where(xi[0] != 0, xi[0], 1)
    model._screen = "force"         # automatic only for P >= 256
    a = _trajectory(model, T, state=cue)
    try:
        model._screen = False
        b = _trajectory(model, T, state=cue)
    finally:
        model._screen = True
    assert a[2]["screened"] > 0.3 and b[2]["screened"] == 0
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


# ---------------------------------------------------------------------------
# retrieval
# ---------------------------------------------------------------------------
def test_retrieve_zero_temperature_is_a_local_minimum():
    xi = hp.random_patterns(30, 300, rng=1)
    model = hp.Hopfield(xi)
    cue = hp.corrupt(xi[3], 0.15, rng=2)
    out = model.retrieve(cue)
    assert out.converged and out.sweeps >= 2
    assert out.overlap[3] > 0.95
    dE = np.empty(300)
    model._net().delta_energies(out.state, dE)
    assert np.all(dE >= -1e-9)
    np.testing.assert_allclose(out.overlap, xi.astype(float) @ out.state / 300)
    # the cue is not modified
    assert np.sum(cue != xi[3]) == 45


def test_retrieve_options():
    xi = hp.random_patterns(5, 200, rng=1)
    model = hp.DenseHopfield(xi, 3)
    cue = hp.corrupt(xi[1], 0.2, rng=3)
    for kw in ({"synchronous": True}, {"order": "random", "rng": 4}, {}):
        out = model.retrieve(cue, **kw)
        assert out.converged and out.overlap[1] == 1.0
    a = model.retrieve(cue, order="random", rng=5)
    b = model.retrieve(cue, order="random", rng=5)
    assert np.array_equal(a.state, b.state)
    hot = model.retrieve(cue, T=0.5, sweeps=20, rng=6)
    assert hot.converged is None and hot.sweeps == 20 and hot.overlap[1] > 0.9
    assert np.array_equal(hot.state, model.retrieve(cue, T=0.5, sweeps=20, rng=6).state)
    with pytest.raises(ValueError, match="order"):
        model.retrieve(cue, order="backwards")


def test_synchronous_two_cycle_is_reported():
    # two neurons, one pattern (+1, -1), diagonal kept: from (+1, +1) both
    # neurons want to flip at once, so the synchronous dynamics oscillates
    model = hp.Hopfield(np.array([[1, -1]]))
    out = model.retrieve([1, 1], synchronous=True, max_sweeps=50)
    assert out.converged is False and out.sweeps < 50
    assert model.retrieve([1, 1]).converged      # asynchronous converges


# ---------------------------------------------------------------------------
# pattern generators and modern Hopfield
# ---------------------------------------------------------------------------
def test_random_patterns_statistics():
    xi = hp.random_patterns(50, 4000, bias=0.4, dilution=0.25, rng=1)
    assert xi.dtype == np.int8 and xi.shape == (50, 4000)
    assert np.mean(xi == 0) == pytest.approx(0.25, abs=0.005)
    assert xi.mean() == pytest.approx(0.75 * 0.4, abs=0.01)
    assert np.array_equal(xi, hp.random_patterns(50, 4000, bias=0.4, dilution=0.25, rng=1))
    assert set(np.unique(hp.random_patterns(3, 100, rng=2))) == {-1, 1}


def test_correlated_examples_binarize_corrupt():
    xi = hp.correlated_patterns(40, 5000, 0.6, rng=1)
    C = xi.astype(float) @ xi.T / 5000
    off = C[~np.eye(40, dtype=bool)]
    assert off.mean() == pytest.approx(0.36, abs=0.02)
    arch = hp.random_patterns(3, 5000, rng=2)
    ex = hp.noisy_examples(arch, 7, 0.3, rng=3)
    assert ex.shape == (3, 7, 5000)
    assert np.mean(ex * arch[:, None, :]) == pytest.approx(0.3, abs=0.01)
    img = np.arange(12.0).reshape(2, 2, 3)
    np.testing.assert_array_equal(hp.binarize(img), [[-1, -1, -1, 1, 1, 1]] * 2)
    np.testing.assert_array_equal(hp.binarize(img, threshold=4.5)[0], [-1] * 5 + [1])
    cue = hp.corrupt(arch[0], 0.1, rng=4)
    assert np.sum(cue != arch[0]) == 500


def test_modern_update_retrieves_in_one_step():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 64))
    q = X[7] + 0.5 * rng.normal(size=64)
    new = hp.modern_update(X, q, beta=2.0)
    assert np.linalg.norm(new - X[7]) < 1e-6
    assert hp.modern_energy(X, new, beta=2.0) <= hp.modern_energy(X, q, beta=2.0)
    Q = np.stack([q, X[3]])
    out = hp.modern_update(X, Q, beta=2.0, steps=2)
    np.testing.assert_allclose(out[1], X[3], atol=1e-6)
    # small beta: the mean of the patterns
    np.testing.assert_allclose(hp.modern_update(X, q, beta=1e-9), X.mean(0), atol=1e-6)


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("patterns, match", [
    (np.zeros((0, 10)), "P >= 1"),
    (np.ones(10), "shape"),
    (np.ones((2, 3, 4)), "shape"),
    (np.ones((3, 0)), "N >= 1"),
    (np.array([[1, 2, -1]]), r"\+1 and -1"),
    (np.array([[1, 0, -1]]), r"\+1 and -1"),
    (np.array([[1.0, np.nan, -1]]), r"\+1 and -1"),
    (np.array([["a", "b"]]), "numeric"),
])
@pytest.mark.parametrize("cls", [hp.Hopfield, hp.ExponentialHopfield,
                                 lambda x: hp.DenseHopfield(x, 3)])
def test_bad_patterns(cls, patterns, match):
    with pytest.raises(ValueError, match=match):
        cls(patterns)


def test_bad_diluted_patterns():
    with pytest.raises(ValueError, match="P >= 1"):
        hp.Multitasking(np.zeros((0, 5)))
    with pytest.raises(ValueError, match="-1, 0 and"):
        hp.Multitasking(np.array([[1, 0, 2]]))
    assert hp.Multitasking(np.array([[1, 0, -1]])).dilution == pytest.approx(1 / 3)


@pytest.mark.parametrize("p", [1, 0, -2, 1.5, 2.0, True, "3"])
def test_bad_order(p):
    xi = hp.random_patterns(2, 5, rng=1)
    with pytest.raises(ValueError, match="p must be an integer >= 2"):
        hp.DenseHopfield(xi, p)
    with pytest.raises(ValueError, match="p must be"):
        hp.Supervised(hp.noisy_examples(xi, 2, 0.5, rng=1), p=p)
    with pytest.raises(ValueError, match="p must be"):
        hp.Unsupervised(xi, p=p)


@pytest.mark.parametrize("d", [-0.1, 1.0, 1.5, float("nan")])
def test_bad_dilution(d):
    with pytest.raises(ValueError, match="dilution"):
        hp.random_patterns(3, 10, dilution=d)


@pytest.mark.parametrize("kw, match", [({"P": 0, "N": 5}, "P must"), ({"P": 2, "N": 0}, "N must"),
                                       ({"P": 2.5, "N": 5}, "P must"),
                                       ({"P": 2, "N": 5, "bias": 1.5}, "bias")])
def test_bad_generator_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        hp.random_patterns(**kw)


@pytest.mark.parametrize("beta", [0.0, -1.0, float("inf"), float("nan")])
def test_bad_beta(beta):
    model = hp.Hopfield(hp.random_patterns(2, 10, rng=1))
    with pytest.raises(ValueError, match="beta"):
        kd.Simulation(model, beta=beta)
    with pytest.raises(ValueError, match="beta"):
        model.updater("glauber", beta)
    with pytest.raises(ValueError, match="beta"):
        hp.modern_update(np.eye(3), np.ones(3), beta=beta)
    with pytest.raises(ValueError, match="beta"):
        hp.modern_energy(np.eye(3), np.ones(3), beta=beta)


def test_bad_temperature_and_other_parameters():
    xi = hp.random_patterns(2, 10, rng=1)
    model = hp.Hopfield(xi)
    for T in (-0.1, float("nan"), "hot"):
        with pytest.raises(ValueError, match="T must"):
            model.retrieve(xi[0], T=T)
    with pytest.raises(ValueError, match="T must"):
        kd.Simulation(model, T=-1.0)
    with pytest.raises(ValueError, match="lam"):
        hp.ExponentialHopfield(xi, lam=0.0)
    with pytest.raises(ValueError, match="state"):
        model.retrieve(np.ones(9))
    with pytest.raises(ValueError, match="state"):
        model.energy(np.zeros(10))
    with pytest.raises(ValueError, match="state"):
        kd.Simulation(model, T=1.0, state=np.full(10, 2))
    with pytest.raises(ValueError, match="r must"):
        hp.noisy_examples(xi, 3, 1.2)
    with pytest.raises(ValueError, match="fraction"):
        hp.corrupt(xi[0], -0.5)
    with pytest.raises(ValueError, match="correlation"):
        hp.correlated_patterns(2, 10, 2.0)
    with pytest.raises(ValueError, match="query"):
        hp.modern_update(np.eye(3), np.ones(4))


def test_bad_examples_and_labels():
    xi = hp.random_patterns(2, 10, rng=1)
    ex = hp.noisy_examples(xi, 3, 0.5, rng=2)
    with pytest.raises(ValueError, match="labels are required"):
        hp.Supervised(ex.reshape(6, 10))
    with pytest.raises(ValueError, match="labels must be None"):
        hp.Supervised(ex, labels=np.zeros(6))
    with pytest.raises(ValueError, match="one per example"):
        hp.Supervised(ex.reshape(6, 10), labels=np.zeros(5))
    with pytest.raises(ValueError, match="examples"):
        hp.Unsupervised(np.zeros((0, 3, 10)))
    with pytest.raises(ValueError, match="examples"):
        hp.Unsupervised(np.ones(10))
    with pytest.raises(ValueError, match="targets"):
        hp.Supervised(ex, targets=np.ones((2, 9)))
