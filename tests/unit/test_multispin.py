"""Bit-packed (multispin) Ising kernel: packing, reproducibility, bookkeeping,
and when Simulation chooses it."""
import numpy as np
import pytest

import kadanoff as kd
from kadanoff import _multispin
from kadanoff.models.spin import _multispin_unsupported


@pytest.mark.parametrize("shape", [(64, 2), (128, 4), (192, 6), (64, 4, 2), (128, 2, 4)])
def test_pack_round_trip(shape):
    n = int(np.prod(shape))
    rng = np.random.default_rng(0)
    s = (2 * rng.integers(0, 2, n) - 1).astype(np.int8)
    W = shape[0] // 64
    words = np.zeros(n // 64, dtype=np.uint64)
    _multispin.pack(s, words, W)
    back = np.zeros(n, dtype=np.int8)
    _multispin.unpack(words, back, W)
    np.testing.assert_array_equal(back, s)
    # layout: bit b of word j of row r is site x = j + b W of row r; bit 1 means s = -1
    r, j, b = 1, W - 1, 63
    x = j + b * W
    assert bool((int(words[r * W + j]) >> b) & 1) == (s[r * shape[0] + x] == -1)


def _sim(lat, algorithm="metropolis", T=2.4, seed=5, **kw):
    return kd.Simulation(kd.Ising(lat, **kw.pop("model", {})), T=T, algorithm=algorithm,
                         rng=seed, **kw)


@pytest.mark.parametrize("algorithm", ["metropolis", "heatbath"])
def test_same_seed_same_bits_and_chunking(algorithm):
    lat = kd.lattice.square(128)
    a = _sim(lat, algorithm)
    ra = a.run(sweeps=40, thermalize=10)
    b = _sim(lat, algorithm)
    rb = b.run(sweeps=40, thermalize=10)
    np.testing.assert_array_equal(a.state, b.state)
    np.testing.assert_array_equal(ra["e"], rb["e"])
    assert ra.meta["rng_state"] == rb.meta["rng_state"]
    assert ra.meta["algorithm_info"]["kernel"] == "multispin"
    # the same sweeps split over several calls give the same chain
    c = _sim(lat, algorithm)
    c.thermalize(10)
    r1 = c.run(sweeps=15)
    r2 = c.run(sweeps=25)
    np.testing.assert_array_equal(c.state, a.state)
    np.testing.assert_array_equal(np.concatenate([r1["e"], r2["e"]]), ra["e"])
    # a different seed gives a different chain
    d = _sim(lat, algorithm, seed=6)
    d.run(sweeps=40, thermalize=10)
    assert not np.array_equal(d.state, a.state)


def _m2k(model, s):
    n = model.n_sites
    ph = model._phase.reshape(-1, n)
    s = s.astype(float)
    sk = sum((s @ ph[2 * t]) ** 2 + (s @ ph[2 * t + 1]) ** 2 for t in range(model._n_axes))
    return sk / (model._n_axes * n * n)


@pytest.mark.parametrize("lat, J, algorithm", [
    (kd.lattice.square(64), 1.0, "metropolis"),
    (kd.lattice.square(128), -0.7, "heatbath"),
    (kd.lattice.square(192, 6), 1.3, "metropolis"),
    (kd.lattice.cubic(64), 1.0, "heatbath"),
    (kd.lattice.cubic(64, 4, 6), 0.5, "metropolis"),
    (kd.lattice.square(1024, 4), 1.0, "metropolis"),    # 4-word vector path
    (kd.lattice.square(576, 6), 1.0, "metropolis"),     # W = 9 (odd)
    (kd.lattice.square(640, 2), 1.0, "metropolis"),     # W = 10: groups and a remainder
    (kd.lattice.square(1024, 4), 1.0, "heatbath"),      # generic vector path
    (kd.lattice.square(512, 2), -1.0, "metropolis"),    # generic vector path, J < 0
    (kd.lattice.square(256), 1.0, "metropolis"),        # W = 4: rows y, y + 2 paired
    (kd.lattice.square(256, 4), 0.8, "heatbath"),
    (kd.lattice.square(256, 6), 1.0, "metropolis"),     # Ly % 4 != 0: scalar path
    (kd.lattice.square(64, 8), -1.0, "metropolis"),     # W = 1: blocks of 8 rows
    (kd.lattice.square(64, 16), 0.9, "heatbath"),
    (kd.lattice.square(128, 8), 1.0, "metropolis"),     # W = 2: blocks of 8 rows
    (kd.lattice.square(128, 16), -0.6, "heatbath"),
    (kd.lattice.square(128, 6), 1.0, "metropolis"),     # Ly % 8 != 0: scalar path
    (kd.lattice.cubic(64, 8, 4), 1.0, "metropolis"),    # cubic vector paths
    (kd.lattice.cubic(128, 8, 2), 0.8, "heatbath"),
    (kd.lattice.cubic(256, 4, 2), -1.0, "metropolis"),
    (kd.lattice.cubic(1024, 2, 2), 1.0, "heatbath"),
])
def test_measurements_match_from_scratch(lat, J, algorithm):
    model = kd.Ising(lat, J=J)
    sim = kd.Simulation(model, T=3.0, algorithm=algorithm, rng=2)
    res = sim.run(sweeps=3)
    assert res.meta["algorithm_info"]["kernel"] == "multispin"
    s = sim.state
    assert set(np.unique(s)) <= {-1, 1} and s.dtype == np.int8
    assert res["e"][-1] * model.n_sites == pytest.approx(model.energy(s), abs=1e-9)
    assert res["m"][-1] == pytest.approx(s.mean(), abs=1e-12)
    if model._n_axes:
        assert res["m2_k"][-1] == pytest.approx(_m2k(model, s), rel=1e-9, abs=1e-15)
    else:
        assert "m2_k" not in set(res)          # unequal sides: no Fourier component


def _zero_temperature_sweep(s, shape, J):
    """One checkerboard sweep at T -> 0 in numpy: a spin of colour c flips iff
    its energy change 2 J s_i sum_j s_j is <= 0 (Metropolis, p = 1)."""
    a = s.reshape(shape[::-1]).copy()               # (Lz,) Ly, Lx: x fastest
    idx = np.indices(a.shape).sum(axis=0) % 2
    for colour in (0, 1):
        h = sum(np.roll(a, k, axis) for axis in range(a.ndim) for k in (1, -1))
        flip = (idx == colour) & (J * a * h <= 0)
        a[flip] *= -1
    return a.ravel()


@pytest.mark.parametrize("shape, J", [
    ((64, 8), 1.0), ((64, 16), -1.0), ((128, 8), 1.0), ((128, 6), -1.0), ((256, 4), 1.0),
    ((256, 6), 1.0), ((512, 4), -1.0), ((640, 2), 1.0), ((1024, 4), 1.0), ((1024, 2), -1.0),
    ((1536, 2), 1.0), ((2048, 2), 1.0), ((192, 6), 1.0), ((576, 2), -1.0),
    ((64, 4, 2), 1.0), ((128, 2, 4), -1.0),
    # cubic vector paths: 8-row blocks (W = 1, 2), paired rows, 4- and 8-word groups
    ((64, 8, 4), 1.0), ((64, 16, 2), -1.0), ((128, 8, 2), 1.0), ((128, 8, 4), -1.0),
    ((256, 4, 4), 1.0), ((512, 2, 4), -1.0), ((1024, 2, 4), 1.0), ((1536, 2, 2), -1.0),
])
def test_zero_temperature_sweep_is_exact(shape, J):
    # At T -> 0 Metropolis is deterministic (flip iff dE <= 0), so every code
    # path's neighbour bookkeeping, row-end wrap and colour masks can be
    # checked bit for bit against numpy, sweep after sweep.
    lat = kd.lattice.square(*shape) if len(shape) == 2 else kd.lattice.cubic(*shape)
    sim = kd.Simulation(kd.Ising(lat, J=J), T=1e-3, algorithm="metropolis", rng=5)
    s = sim.state.copy()
    for _ in range(3):
        res = sim.run(sweeps=1)
        assert res.meta["algorithm_info"]["kernel"] == "multispin"
        s = _zero_temperature_sweep(s, shape, J)
        np.testing.assert_array_equal(sim.state, s)


def test_state_setter_is_used():
    lat = kd.lattice.square(64)
    sim = _sim(lat, T=1.0)
    sim.state = np.ones(lat.n_sites, dtype=np.int8)
    res = sim.run(sweeps=1)
    assert res["m"][0] > 0.9        # started from the ordered state at low T


def test_automatic_choice():
    sq = kd.lattice.square(64)
    assert _multispin_unsupported(kd.Ising(sq), None) is None
    assert _multispin_unsupported(kd.Ising(kd.lattice.cubic(64, 2, 2)), None) is None
    cases = {
        "square(32)": (kd.Ising(kd.lattice.square(32)), None),
        "odd Ly": (kd.Ising(kd.lattice.square(64, 5)), None),
        "open": (kd.Ising(kd.lattice.square(64, periodic=False)), None),
        "triangular": (kd.Ising(kd.lattice.triangular(64)), None),
        "field": (kd.Ising(sq, h=0.1), None),
        "random J": (kd.Ising(sq, J=np.random.default_rng(0).choice([-1.0, 1.0], sq.n_bonds)),
                     None),
        "random sweep": (kd.Ising(sq), "random"),
        "graph": (kd.Ising(kd.lattice.from_edges(sq.n_sites, sq.edges)), None),
    }
    for label, (model, sweep) in cases.items():
        assert _multispin_unsupported(model, sweep) is not None, label
        opts = {"sweep": sweep} if sweep else {}
        sim = kd.Simulation(model, T=2.5, rng=1, **opts)
        info = sim.run(sweeps=1).meta["algorithm_info"]
        assert info["kernel"] == "general", label
        assert info["kernel_note"].startswith("multispin unavailable"), label
    # explicit choices
    info = kd.Simulation(kd.Ising(sq), T=2.5, rng=1, kernel="general").run(sweeps=1)
    assert info.meta["algorithm_info"]["kernel"] == "general"
    info = kd.Simulation(kd.Ising(sq), T=2.5, algorithm="heatbath", rng=1,
                         kernel="multispin").run(sweeps=1)
    assert info.meta["algorithm_info"]["kernel"] == "multispin"


def test_bad_options_raise():
    with pytest.raises(ValueError, match="kernel='multispin' is not available"):
        kd.Simulation(kd.Ising(kd.lattice.square(32)), T=2.5, kernel="multispin")
    with pytest.raises(ValueError, match="h = 0"):
        kd.Simulation(kd.Ising(kd.lattice.square(64), h=0.2), T=2.5, kernel="multispin")
    with pytest.raises(ValueError, match="kernel must be"):
        kd.Simulation(kd.Ising(kd.lattice.square(64)), T=2.5, kernel="fast")
    with pytest.raises(TypeError, match="kernel"):
        kd.Simulation(kd.Ising(kd.lattice.square(64)), T=2.5, algorithm="wolff",
                      kernel="multispin")


def test_rule_classes():
    from kadanoff.models.spin import _HEATBATH, _METROPOLIS, _IsingMultispin
    model = kd.Ising(kd.lattice.square(64))
    met = _IsingMultispin(model, 0.44, _METROPOLIS)
    # d = 0, 1 disagreeing neighbours cost energy; d >= 2 always flip
    assert list(met.cls_of[:5]) == [0, 1, -1, -1, -1]
    assert list(met.always[:5]) == [0, 0, 1, 1, 1]
    assert met.thresholds[0] == np.floor(np.exp(-8 * 0.44) * 2**32)
    hb = _IsingMultispin(model, 0.44, _HEATBATH)
    assert list(hb.cls_of[:5]) == [0, 1, 2, 1, 0]
    assert list(hb.inv[:5]) == [0, 0, 0, 1, 1]
    assert hb.thresholds[2] == 2**31
    cub = _IsingMultispin(kd.Ising(kd.lattice.cubic(64, 2, 2)), 0.2, _HEATBATH)
    assert list(cub.cls_of) == [0, 1, 2, 3, 2, 1, 0]


def test_checkpoint_continues_bit_identically(tmp_path):
    lat = kd.lattice.square(128)
    a = _sim(lat, "heatbath", seed=4)
    a.run(sweeps=10)
    path = tmp_path / "chain.h5"
    a.checkpoint(path)
    ra = a.run(sweeps=20)
    b = _sim(lat, "heatbath", seed=99)
    b.restore(path)
    rb = b.run(sweeps=20)
    np.testing.assert_array_equal(ra["e"], rb["e"])
    np.testing.assert_array_equal(a.state, b.state)
