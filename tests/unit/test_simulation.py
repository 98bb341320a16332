import numpy as np
import pytest

import kadanoff as kd


def sim(alg="metropolis", L=6, T=2.5, rng=1, **kw):
    return kd.Simulation(kd.Ising(kd.lattice.square(L), **kw), T=T, algorithm=alg, rng=rng)


ALGS = ["metropolis", "heatbath", "wolff", "swendsen-wang"]


@pytest.mark.parametrize("alg", ALGS)
def test_same_seed_same_bits(alg):
    a = sim(alg, rng=123).run(sweeps=300, thermalize=50)
    b = sim(alg, rng=123).run(sweeps=300, thermalize=50)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert a.meta["rng_state"] == b.meta["rng_state"]
    c = sim(alg, rng=124).run(sweeps=300, thermalize=50)
    assert not np.array_equal(a["e"], c["e"])


@pytest.mark.parametrize("alg", ALGS)
def test_second_run_continues_the_chain(alg):
    s1 = sim(alg, rng=5)
    first = s1.run(sweeps=200, thermalize=40)
    second = s1.run(sweeps=300)
    s2 = sim(alg, rng=5)
    whole = s2.run(sweeps=500, thermalize=40)
    joined = kd.Results.concatenate([first, second])
    for k in whole:
        np.testing.assert_array_equal(joined[k], whole[k])
    np.testing.assert_array_equal(s1.state, s2.state)
    assert s1.sweeps_done == 540


def test_progress_and_callback_do_not_change_results():
    a = sim("wolff", rng=9).run(sweeps=400, thermalize=20)
    seen = []
    b = sim("wolff", rng=9).run(sweeps=400, thermalize=20, progress=True,
                                callback=lambda s, n: seen.append(n))
    np.testing.assert_array_equal(a["e"], b["e"])
    assert seen and seen[-1] == 420


def test_callback_can_stop_early():
    s = sim(L=16)
    res = s.run(sweeps=10**6, callback=lambda sim, n: True)
    assert res.meta["stopped_early"] and res.n_measurements < 10**6


def test_rng_forms():
    ss = np.random.SeedSequence(77)
    a = kd.Simulation(kd.Ising(kd.lattice.square(4)), T=2, rng=ss).run(sweeps=50)
    b = kd.Simulation(kd.Ising(kd.lattice.square(4)), T=2, rng=np.random.SeedSequence(77)).run(sweeps=50)
    np.testing.assert_array_equal(a["e"], b["e"])
    assert a.meta["seed"]["entropy"] == 77
    g = kd.Simulation(kd.Ising(kd.lattice.square(4)), T=2, rng=np.random.default_rng(3)).run(sweeps=50)
    assert g.meta["seed"]["generator"] == "PCG64"
    none = kd.Simulation(kd.Ising(kd.lattice.square(4)), T=2).run(sweeps=10)
    # a seed drawn from the OS is recorded, so the run can be repeated
    again = kd.Simulation(kd.Ising(kd.lattice.square(4)), T=2,
                          rng=np.random.SeedSequence(none.meta["seed"]["entropy"])).run(sweeps=10)
    np.testing.assert_array_equal(none["e"], again["e"])


def test_spawned_streams_differ():
    children = np.random.SeedSequence(1).spawn(2)
    a = sim(rng=children[0]).run(sweeps=100)
    b = sim(rng=children[1]).run(sweeps=100)
    assert not np.array_equal(a["e"], b["e"])


def test_beta_equals_one_over_T():
    a = kd.Simulation(kd.Ising(kd.lattice.square(4)), beta=0.5, rng=1).run(sweeps=100)
    b = kd.Simulation(kd.Ising(kd.lattice.square(4)), T=2.0, rng=1).run(sweeps=100)
    np.testing.assert_array_equal(a["e"], b["e"])


def test_state_roundtrip_and_energy():
    s = sim()
    up = np.ones(36, dtype=np.int8)
    s.state = up
    assert s.state.dtype == np.int8 and np.all(s.state == 1)
    res = s.run(sweeps=1, measure_every=1)
    # measured energy agrees with the model's own energy of the final state
    assert res["e"][-1] * 36 == pytest.approx(s.model.energy(s.state))
    assert s.model.energy(up) == -72.0


def test_measure_every_and_remainder():
    s = sim()
    res = s.run(sweeps=25, measure_every=10)
    assert res.n_measurements == 2 and s.sweeps_done == 25


def test_results_api():
    res = sim("wolff", L=8).run(sweeps=2000, thermalize=100)
    assert set(res) == {"e", "m", "abs_m", "m2", "m4", "m2_k"}
    assert res.meta["algorithm"] == "wolff" and res.meta["T"] == 2.5
    assert "kadanoff" in res.meta["versions"]
    assert res.tau("e") >= 0.4
    U, dU = res.binder()
    assert 0 < U < 2 / 3 and dU > 0
    for f in (res.susceptibility, res.specific_heat):
        v = f()
        assert v.value > 0 and v.error > 0
    assert res.susceptibility(None).value > res.susceptibility().value
    assert "abs_m" in res.summary()
    with pytest.raises(ValueError, match="subtract"):
        res.susceptibility("x")
    with pytest.raises(ValueError):
        res["e"][0] = 1.0          # read-only


def test_unknown_observable():
    res = sim().run(sweeps=20)
    with pytest.raises(KeyError, match="helicity"):
        res["helicity"]
    with pytest.raises(ValueError, match="unknown observable"):
        res.mean("nope")


def test_wolff_clusters_per_sweep_option():
    s = kd.Simulation(kd.Ising(kd.lattice.square(8)), T=2.3, algorithm="wolff", rng=1,
                      clusters_per_sweep=3)
    res = s.run(sweeps=10)
    assert res.meta["algorithm_info"]["clusters_per_sweep"] == 3
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="clusters_per_sweep"):
            kd.Simulation(kd.Ising(kd.lattice.square(8)), T=2.3, algorithm="wolff",
                          clusters_per_sweep=bad)
    with pytest.raises(TypeError, match="options"):
        kd.Simulation(kd.Ising(kd.lattice.square(8)), T=2.3, algorithm="swendsen-wang",
                      clusters_per_sweep=3)


def test_wolff_without_thermalisation_estimates_first():
    res = sim("wolff").run(sweeps=10)
    assert res.meta["algorithm_info"]["estimation_sweeps"] == 10


@pytest.mark.parametrize("model, T", [
    (kd.Ising(kd.lattice.square(64)), 1.5),
    (kd.Potts(kd.lattice.square(32), q=3), 0.7),
    (kd.XY(kd.lattice.square(32)), 0.5),
])
def test_wolff_thermalisation_sweep_flips_about_n_sites(model, T):
    # A thermalisation sweep grows clusters until N sites have flipped. From a
    # disordered start far below T_c clusters grow from a few sites to nearly
    # N within one sweep; a sweep must still stop after the cluster that
    # reaches N, not flip many times N (which took minutes at L = 1024).
    upd = model.updater("wolff", 1.0 / T)
    gen = np.random.default_rng(3)
    state = model.random_state(gen)
    rng_state = kd.Simulation(model, T=T, algorithm="wolff", rng=3)._rng_state.copy()
    upd.thermalize(state, rng_state, 12)
    n = model.n_sites
    for flipped, clusters in upd.history:
        assert n <= flipped < 2 * n and clusters >= 1
    assert upd.history[0][1] > 4 * upd.history[-1][1]       # clusters did grow


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"T": 0}, ValueError, "T"), ({"T": -1.0}, ValueError, "T"), ({"T": float("nan")}, ValueError, "T"),
    ({"T": float("inf")}, ValueError, "T"), ({"beta": 0}, ValueError, "beta"),
    ({"T": 1.0, "beta": 1.0}, ValueError, "both"), ({}, ValueError, "T"),
    ({"T": "2"}, TypeError, "T"), ({"T": True}, TypeError, "T"),
    ({"T": 2, "algorithm": "gibbs"}, ValueError, "metropolis"),
    ({"T": 2, "algorithm": 3}, TypeError, "algorithm"),
    ({"T": 2, "rng": -1}, ValueError, "rng"), ({"T": 2, "rng": "seed"}, TypeError, "rng"),
    ({"T": 2, "state": np.ones(5)}, ValueError, "state"),
    ({"T": 2, "state": np.zeros(16)}, ValueError, "state"),
])
def test_bad_simulation_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        kd.Simulation(kd.Ising(kd.lattice.square(4)), **kwargs)


def test_bad_model_arguments():
    lat = kd.lattice.square(4)
    with pytest.raises(ValueError, match="J"):
        kd.Ising(lat, J=float("nan"))
    with pytest.raises(ValueError, match="J"):
        kd.Ising(lat, J=np.ones(3))
    with pytest.raises(ValueError, match="h"):
        kd.Ising(lat, h=np.ones(3))
    with pytest.raises(ValueError, match="h"):
        kd.Ising(lat, h=float("inf"))
    with pytest.raises(TypeError, match="lattice"):
        kd.Ising("square")
    with pytest.raises(TypeError, match="model"):
        kd.Simulation("ising", T=1)


@pytest.mark.parametrize("alg", ["wolff", "swendsen-wang"])
def test_cluster_algorithms_refuse_field_and_frustration(alg):
    lat = kd.lattice.square(4)
    with pytest.raises(ValueError, match="metropolis"):
        kd.Simulation(kd.Ising(lat, h=0.1), T=2, algorithm=alg)
    with pytest.raises(ValueError, match="frustrated"):
        kd.Simulation(kd.Ising(kd.lattice.triangular(3), J=-1.0), T=2, algorithm=alg)
    glass = np.random.default_rng(0).choice([-1.0, 1.0], lat.n_bonds)
    with pytest.raises(ValueError, match="frustrated"):
        kd.Simulation(kd.Ising(lat, J=glass), T=2, algorithm=alg)
    # unfrustrated antiferromagnet is fine
    kd.Simulation(kd.Ising(lat, J=-1.0), T=2, algorithm=alg).run(sweeps=5)


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"sweeps": -1}, ValueError, "sweeps"), ({"sweeps": 1.5}, TypeError, "sweeps"),
    ({"sweeps": 10, "thermalize": -2}, ValueError, "thermalize"),
    ({"sweeps": 10, "measure_every": 0}, ValueError, "measure_every"),
    ({"sweeps": 10, "callback": 3}, TypeError, "callback"),
])
def test_bad_run_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        sim().run(**kwargs)


def test_zero_sweeps():
    res = sim().run(sweeps=0)
    assert res.n_measurements == 0
    with pytest.raises(ValueError, match="measurements"):
        res.error("e")


def test_sweep_option():
    chain = kd.Ising(kd.lattice.chain(9))
    # Metropolis on a chain defaults to random sites and refuses a fixed order
    s = kd.Simulation(chain, T=1.0, algorithm="metropolis", rng=1)
    assert s.run(sweeps=5).meta["algorithm_info"]["sweep"] == "random"
    with pytest.raises(ValueError, match="ergodic"):
        kd.Simulation(chain, T=1.0, algorithm="metropolis", sweep="ordered")
    hb = kd.Simulation(chain, T=1.0, algorithm="heatbath", rng=1)
    assert hb.run(sweeps=5).meta["algorithm_info"]["sweep"] == "ordered"
    with pytest.raises(ValueError, match="sweep"):
        kd.Simulation(chain, T=1.0, algorithm="heatbath", sweep="checkerboard")
    with pytest.raises(TypeError, match="sweep"):
        kd.Simulation(chain, T=1.0, algorithm="heatbath", clusters_per_sweep=2)


def test_array_series_error_and_tau_per_component():
    # e.g. a structure factor recorded as (n, L, L): every component is its own series
    from kadanoff.analysis.errors import error_of_mean, tau_int
    x = np.random.default_rng(3).normal(size=(500, 3, 2)).cumsum(axis=0) * 0.01
    res = kd.Results({"sq": x}, {"measure_every": 2})
    flat = x.reshape(500, 6)
    assert res.mean("sq").shape == (3, 2)
    np.testing.assert_array_equal(res.error("sq"), error_of_mean(flat).reshape(3, 2))
    np.testing.assert_array_equal(res.tau("sq"), 2 * tau_int(flat, quiet=True).reshape(3, 2))


def test_wolff_table_free_square_path_gives_the_table_bits():
    # cext/cluster.pyx computes square-lattice neighbours instead of loading
    # them (large lattices); offered in the table's order, the bits are equal
    from kadanoff._cluster import square_wolff_constants
    from kadanoff.models.spin import _square_table_free
    for Lx in (3, 5, 7, 100, 1024, 46341):
        m, shift = square_wolff_constants(Lx)
        i = np.concatenate([np.arange(2**16), 2**31 - 1 - np.arange(2**16),
                            np.random.default_rng(Lx).integers(0, 2**31, 2**16)]).astype(np.uint64)
        np.testing.assert_array_equal((i * np.uint64(m)) >> np.uint64(shift), i // np.uint64(Lx))
    for shape, T in [((3, 3), 2.0), ((5, 7), 2.3), ((7, 4), 1.8), ((48, 20), 2.5)]:
        runs = []
        for square in (True, False):
            s = kd.Simulation(kd.Ising(kd.lattice.square(*shape)), T=T, algorithm="wolff", rng=7)
            s._updater.square = _square_table_free(s.model.lattice, 0) if square else None
            assert (s._updater.square is not None) == square
            res = s.run(sweeps=200, thermalize=20)
            runs.append((s.state.copy(), res["e"], res["m"]))
        for a, b in zip(*runs):
            np.testing.assert_array_equal(a, b)
    assert kd.Simulation(kd.Ising(kd.lattice.square(512)), T=2.3,
                         algorithm="wolff")._updater.square is not None
    for lat in (kd.lattice.square(2, 8), kd.lattice.triangular(6, 6),
                kd.lattice.square(6, 6, periodic=False)):
        assert _square_table_free(lat, 0) is None
    s = kd.Simulation(kd.Ising(kd.lattice.square(5)), T=2.3, algorithm="wolff", rng=1)
    s._updater.square = np.array([5, 1, 1], dtype=np.uint64)
    with pytest.raises(ValueError, match="square_wolff_constants"):
        s.run(sweeps=1)
