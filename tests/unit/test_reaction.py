"""Unit tests of kadanoff.reaction: parsing, validation, reproducibility, bookkeeping."""
import numpy as np
import pytest

import kadanoff as kd
import kadanoff.reaction as rd
from kadanoff.models import reaction as mr
from kadanoff.theory import reaction as th

# ------------------------------------------------------------------ parsing

@pytest.mark.parametrize("text, kind, left, right, rate", [
    ("A,B -> A,A @ 1.5", "pair", ("A", "B"), ("A", "A"), 1.5),
    ("A, 0 -> 0, A @ 2", "pair", ("A", "0"), ("0", "A"), 2.0),
    ("A -> 0 @ 1", "site", ("A",), (), 1.0),
    ("0 -> A @ 0.25", "site", (), ("A",), 0.25),
    ("A -> 2A @ 3e-1", "site", ("A",), ("A", "A"), 0.3),
    ("A + B -> 2B @ 1", "site", ("A", "B"), ("B", "B"), 1.0),
    ("prey,pred -> pred,pred @ 0.5", "pair", ("prey", "pred"), ("pred", "pred"), 0.5),
])
def test_parse_rule_forms(text, kind, left, right, rate):
    r = rd.parse_rule(text)
    assert (r.kind, r.left, r.right, r.rate) == (kind, left, right, rate)


def test_parse_rule_with_separate_rate():
    assert rd.parse_rule("A,B -> B,A", 0.5).rate == 0.5


@pytest.mark.parametrize("text, pos", [
    ("A,B -> A @ 1.5", 7),        # sides of different kinds
    ("A,B A,A @ 1", 0),           # no arrow
    ("A,B -> A,A @ fast", 13),    # bad rate
    ("A,,B -> A,A @ 1", 2),       # empty position
    ("A,B,C -> A,B,C @ 1", 0),    # three positions
    ("A + -> B @ 1", 4),          # missing term
    ("A -> B -> C @ 1", 7),       # two arrows
    ("A,B -> A,A", 10),           # missing rate
    ("A,B -> A,A+B @ 1", 9),      # a sum in a pair position
    ("-> A @ 1", 0),              # empty side
])
def test_malformed_rules_show_string_and_position(text, pos):
    with pytest.raises(ValueError) as info:
        rd.parse_rule(text)
    msg = str(info.value)
    assert repr(text) in msg and f"position {pos}" in msg, msg
    assert "^" in msg


@pytest.mark.parametrize("text", ["A -> 0 @ -1", "A -> 0 @ nan", "A -> 0 @ inf"])
def test_bad_rates(text):
    with pytest.raises(ValueError, match="rate"):
        rd.parse_rule(text)


# --------------------------------------------------------------- validation

def test_unknown_species_named():
    with pytest.raises(ValueError, match=r"unknown species \['C'\]"):
        rd.System(kd.lattice.chain(8), "A,B", ["A,C -> A,A @ 1"])


def test_bad_species_and_capacity():
    lat = kd.lattice.chain(8)
    with pytest.raises(ValueError, match="identifiers"):
        rd.System(lat, ["A", "0"], ["A -> 0 @ 1"])
    with pytest.raises(ValueError, match="distinct"):
        rd.System(lat, ["A", "A"], ["A -> 0 @ 1"])
    with pytest.raises(ValueError, match="capacity"):
        rd.System(lat, "A", ["A -> 0 @ 1"], capacity=0)
    with pytest.raises(ValueError, match="capacity is 1"):
        rd.System(lat, "A", ["A -> 2A @ 1"])


def test_negative_diffusion_and_unknown_diffusion_species():
    lat = kd.lattice.chain(8)
    with pytest.raises(ValueError, match="diffusion"):
        rd.System(lat, "A", ["A -> 0 @ 1"], diffusion=-1.0)
    with pytest.raises(ValueError, match="unknown species 'B'"):
        rd.System(lat, "A", ["A -> 0 @ 1"], diffusion={"B": 1.0})
    with pytest.raises(ValueError, match="rate"):
        rd.contact_process(lat, rate=-2.0)


def test_initial_state_validation():
    lat = kd.lattice.square(4)
    s = rd.System(lat, "A,B", ["A,B -> A,A @ 1"], capacity=2)
    with pytest.raises(ValueError, match="shape"):
        s.check_state(np.zeros(15, dtype=int))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\]"):
        s.check_state(np.full(16, 3))
    with pytest.raises(ValueError, match="capacity is 2"):
        s.check_state(np.full((16, 2), 2))
    with pytest.raises(ValueError, match="non-negative"):
        s.check_state(-np.ones((16, 2), dtype=int))
    with pytest.raises(ValueError, match="unknown species"):
        s.check_state(np.array(["A"] * 15 + ["X"]))
    with pytest.raises(ValueError, match="integer"):
        s.check_state(np.full(16, 0.5))
    # accepted forms agree
    lab = np.array([0, 1, 2, 1] * 4)
    a = s.check_state(lab)
    b = s.check_state(lab.reshape(4, 4, order="F"))
    c = s.check_state(np.array(["0", "A", "B", "A"] * 4))
    counts = np.stack([lab == 1, lab == 2], axis=1).astype(int)
    d = s.check_state(counts)
    assert np.array_equal(a, b) and np.array_equal(a, c) and np.array_equal(a, d)


def test_run_needs_initial_state_and_valid_times():
    s = rd.System(kd.lattice.chain(8), "A", ["A -> 0 @ 1"])
    with pytest.raises(ValueError, match="initial state"):
        s.run(1.0, rng=1)
    with pytest.raises(ValueError, match="record_every"):
        s.run(1.0, rng=1, record_every=0.0, initial=s.full_state())
    with pytest.raises(ValueError, match="times"):
        s.run(1.0, rng=1, times=[0.5, 0.2], initial=s.full_state())


# ----------------------------------------------------------- reproducibility

def _rps():
    return rd.rock_paper_scissors(kd.lattice.square(24), mobility=1e-3, rng=3)


def test_same_seed_same_bits():
    a = _rps().run(5.0, rng=11, record_every=0.5, snapshots=True)
    b = _rps().run(5.0, rng=11, record_every=0.5, snapshots=True)
    for name in a:
        assert np.array_equal(a[name], b[name]), name
    assert a.meta["events"] == b.meta["events"] and a.meta["rng_state"] == b.meta["rng_state"]
    c = _rps().run(5.0, rng=12, record_every=0.5)
    assert not np.array_equal(a["density_A"], c["density_A"])


def test_chunking_does_not_change_bits(monkeypatch):
    ref = _rps().run(3.0, rng=5, record_every=1.0, snapshots=True)
    monkeypatch.setattr(mr._Chunker, "size", lambda self: 7)
    small = _rps().run(3.0, rng=5, record_every=1.0, snapshots=True)
    assert np.array_equal(ref["snapshot"], small["snapshot"])
    assert ref.meta["rng_state"] == small.meta["rng_state"]


def test_ensemble_reproducible_and_independent_of_batch_order():
    cp = rd.contact_process(kd.lattice.chain(32), rate=3.0)
    e1 = cp.ensemble(10, [1.0, 2.0], rng=4, batch=4)
    e2 = cp.ensemble(10, [1.0, 2.0], rng=4, batch=4)
    assert np.array_equal(e1.counts, e2.counts)
    assert np.array_equal(e1.absorption_time, e2.absorption_time)


# ---------------------------------------------------------------- bookkeeping

def test_results_series_and_meta():
    cp = rd.contact_process(kd.lattice.chain(50), rate=2.0)
    res = cp.run(4.0, rng=2, record_every=1.0)
    assert list(res) == ["t", "density", "density_A"]
    assert np.allclose(res["t"], np.arange(len(res["t"])))
    assert res["density"][0] == 1.0
    for key in ("rules", "rates", "seed", "versions", "absorbed", "absorption_time", "events"):
        assert key in res.meta
    assert "A,0 -> A,A" in " ".join(res.meta["rules"])


def test_absorbing_state_stops_run():
    # subcritical contact process dies out quickly
    cp = rd.contact_process(kd.lattice.chain(20), rate=0.5)
    res = cp.run(1e6, rng=3, record_every=1.0)
    assert res.meta["absorbed"]
    t_abs = res.meta["absorption_time"]
    assert 0 < t_abs < res["t"][-1] <= t_abs + 1.0
    assert res["density"][-1] == 0.0 and res["density"][-2] > 0.0
    assert np.array_equal(cp.state, np.zeros(20))


def test_frozen_state_is_absorbing():
    s = rd.System(kd.lattice.chain(6, periodic=False), "A", ["A,A -> 0,0 @ 1"])
    res = s.run(1e9, rng=1, record_every=1e6, initial=[1, 0, 1, 0, 1, 0])
    assert res.meta["absorbed"] and res.meta["absorption_time"] == 0.0
    # the series end at the first recording time after absorption
    assert np.array_equal(res["t"], [0.0, 1e6]) and np.all(res["density"] == 0.5)


def test_stop_condition():
    cp = rd.contact_process(kd.lattice.chain(200), rate=4.0)
    res = cp.run(100.0, rng=1, record_every=0.1,
                 stop=lambda system, t: np.mean(system.state) < 0.8)
    assert res.meta["stopped_early"] and res["density"][-1] < 0.8 <= res["density"][-2]


def test_particle_conservation_under_hopping_and_exchange():
    s = rd.System(kd.lattice.triangular(6), "A,B", ["A,B -> B,A @ 1.0"], diffusion=2.0,
                  capacity=1)
    init = s.random_state({"A": 0.3, "B": 0.2}, rng=0)
    res = s.run(5.0, rng=1, record_every=1.0, initial=init)
    assert np.all(res["density_A"] == res["density_A"][0])
    assert np.all(res["density_B"] == res["density_B"][0])
    assert res.meta["events"] > 0


def test_capacity_respected_and_counts_state():
    s = rd.birth_death(kd.lattice.chain(10), birth=5.0, capacity=3, hopping=1.0)
    res = s.run(3.0, rng=2, record_every=1.0, snapshots=True)
    snaps = res["snapshot"]
    assert snaps.shape == (4, 10, 1)
    assert snaps.max() <= 3 and snaps.min() >= 0
    assert np.allclose(res["density"], snaps.sum(axis=(1, 2)) / 10)


def test_presets_build_and_run():
    lat = kd.lattice.square(8)
    systems = [rd.contact_process(lat, 1.7), rd.birth_death(lat, 3.0),
               rd.annihilation(lat), rd.annihilation(lat, coalescence=True),
               rd.two_species_annihilation(lat, rng=1), rd.two_species_annihilation(lat, rng=1,
                                                                                    balanced=True),
               rd.lotka_volterra(lat, rng=1), rd.lotka_volterra(lat, site_restriction=False, rng=1),
               rd.rock_paper_scissors(lat, mobility=1e-3, rng=1)]
    for s in systems:
        res = s.run(0.5, rng=1, record_every=0.25)
        assert len(res["t"]) >= 1
        for sp in s.species:
            assert f"density_{sp}" in res


def test_balanced_initial_state():
    s = rd.two_species_annihilation(kd.lattice.chain(100), rng=1, balanced=True, density=0.8)
    st = s.check_state(s.initial)
    assert (st == 1).sum() == (st == 2).sum() == 40


def test_mean_field_contact_process():
    cp = rd.contact_process(kd.lattice.square(4), rate=3.0)
    f = th.rate_equations(cp)
    rho = 0.3
    assert np.isclose(f(0, [rho])[0], 3.0 * rho * (1 - rho) - rho)
    sol = th.solve_rate_equations(cp, [0.0, 50.0], [1.0])
    assert np.isclose(sol[-1, 0], 1 - 1 / 3.0, atol=1e-6)


def test_mean_field_lotka_volterra_fixed_point():
    lv = rd.lotka_volterra(kd.lattice.square(4), predation=2.0, birth=1.0, death=0.5, rng=1)
    f = th.rate_equations(lv)
    # site-restricted MF: a' = lam a b - mu a ; b' = sig b (1 - a - b) - lam a b
    a, b = 0.2, 0.3
    da, db = f(0, [a, b])
    assert np.isclose(da, 2.0 * a * b - 0.5 * a)
    assert np.isclose(db, 1.0 * b * (1 - a - b) - 2.0 * a * b)


def test_correlation_function_of_checkerboard():
    s = rd.System(kd.lattice.square(8), "A", ["A -> 0 @ 1"])
    x, y = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
    lab = ((x + y) % 2).reshape(-1, order="F")
    r, c = rd.correlation(s, lab)
    assert np.allclose(c, 0.25 * (-1.0) ** r)


def test_annihilation_exact_density_limits():
    t = np.array([0.0, 1e4])
    rho = th.annihilation_chain_density(t, D=0.5, rho0=1.0)
    assert np.isclose(rho[0], 1.0)
    assert np.isclose(rho[1], th.annihilation_amplitude(0.5) / np.sqrt(1e4), rtol=1e-3)


def test_spreading_smoke_and_errors():
    from kadanoff.analysis.spreading import spreading
    sp = spreading(lambda: rd.contact_process(kd.lattice.chain(256), 3.3), 64, 20.0, rng=1,
                   blocks=8, n_times=8)
    assert sp.P[0] == 1.0 and sp.N[0] == 1.0 and sp.R2[0] == 0.0
    assert np.all(np.diff(sp.P) <= 0) and np.all(sp.P_err[1:] > 0)
    t, _s, _e = sp.local_slopes("N")
    assert len(t) == len(sp.t) - 2      # t = 0 is skipped
    with pytest.raises(ValueError, match="runs"):
        spreading(rd.contact_process(kd.lattice.chain(16), 3.3), 1, 5.0)


def test_pictures(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    from kadanoff.plot import figure, save
    rps = rd.rock_paper_scissors(kd.lattice.square(12), mobility=1e-3, rng=1)
    res = rps.run(1.0, rng=1, record_every=0.5, snapshots=True)
    fig, ax = figure()
    rd.plot_snapshot(rps, ax=ax, title="t = 1")
    save(fig, tmp_path / "snap.png")
    assert (tmp_path / "snap.png").stat().st_size > 0
    tri = rd.contact_process(kd.lattice.triangular(6), 2.0)
    fig, ax = figure()
    rd.plot_snapshot(tri, tri.full_state(), ax=ax)
    save(fig, tmp_path / "tri.png")
    chain = rd.contact_process(kd.lattice.chain(30), 3.3)
    cres = chain.run(5.0, rng=2, record_every=0.5, snapshots=True)
    fig, ax = figure()
    rd.plot_spacetime(chain, cres, ax=ax)
    save(fig, tmp_path / "st.png")
    with pytest.raises(ValueError, match="snapshots=True"):
        rd.plot_spacetime(chain, chain.run(1.0, rng=1))
    pytest.importorskip("PIL")
    rd.save_movie(rps, res, tmp_path / "movie.gif", fps=4)
    assert (tmp_path / "movie.gif").stat().st_size > 0


def test_ensemble_statistics_shapes():
    cp = rd.contact_process(kd.lattice.chain(10), rate=1.0)
    ens = cp.ensemble(50, [0.0, 1.0, 100.0], rng=3)
    p, _e = ens.survival()
    assert p[0] == 1.0 and p[-1] == 0.0
    mean, se = ens.density()
    assert mean[0] == 1.0 and se[0] == 0.0
    st = ens.absorption_statistics()
    assert st["fraction"] == 1.0 and st["mean"] > 0 and not st["censored"]
    with pytest.raises(ValueError, match="t_min"):
        ens.quasi_stationary(t_min=1000.0)


def test_ensemble_fresh_initial_states():
    s = rd.two_species_annihilation(kd.lattice.chain(40), rng=1)
    draw = lambda gen: s.random_state({"A": 0.5, "B": 0.5}, gen)  # noqa: E731
    e1 = s.ensemble(6, [0.0, 1.0], rng=2, initial=draw)
    e2 = s.ensemble(6, [0.0, 1.0], rng=2, initial=draw)
    assert np.array_equal(e1.counts, e2.counts)
    # every run starts from its own random state
    assert len({tuple(c) for c in e1.counts[:, 0, :]}) > 1
    fixed = s.ensemble(6, [0.0], rng=2)
    assert len({tuple(c) for c in fixed.counts[:, 0, :]}) == 1
