"""Unit tests for kadanoff.analysis.fss: crossings, peaks, curves, data collapse.

Reweighted curves are replaced by small stand-ins with known curves and known jackknife
replicas, so every crossing, peak and error has a closed form.
"""
import math
import warnings

import numpy as np
import pytest

from kadanoff.analysis import fss
from kadanoff.analysis.fss import Collapse, Crossing, _hh_quality, _parabola_peak


class FakeHistogram:
    """Stand-in for SingleHistogram: value(T) = f(T); replica b = f(T) + shift[b]."""

    def __init__(self, f, shifts, trusted=(2.0, 2.5)):
        self.f = f
        self.shifts = np.asarray(shifts, dtype=float)
        self.trusted_range = trusted

    def replicas(self, quantity, T=None, *, beta=None, warn=True):
        T = np.atleast_1d(np.asarray(T, dtype=float))
        v = self.f(T)
        return T, v, v[None, :] + self.shifts[:, None]


def jk(x):
    x = np.asarray(x, dtype=float)
    return math.sqrt((len(x) - 1) / len(x) * np.sum((x - x.mean()) ** 2))


TC = 2.269


def linear(slope, a=0.6):
    return lambda T: a - slope * (T - TC)


# ------------------------------------------------------------------ crossings
def test_reweighted_crossings_exact():
    rng = np.random.default_rng(0)
    s1, s2 = rng.normal(0, 1e-3, 16), rng.normal(0, 2e-3, 12)
    h1, h2 = FakeHistogram(linear(1.0), s1), FakeHistogram(linear(3.0), s2)
    (c,) = fss.reweighted_crossings([h1, h2], [8, 16])
    assert isinstance(c, Crossing) and (c.L1, c.L2) == (8, 16)
    assert c.T == pytest.approx(TC, abs=1e-12)
    # shifting curve 1 by d moves the crossing by d / (3 - 1); curve 2 by -d / 2
    expected = math.hypot(jk(s1) / 2, jk(s2) / 2)
    assert c.T_err == pytest.approx(expected, rel=1e-9)


def test_reweighted_crossings_pairs_and_curvature():
    # curved, non-linear curves all crossing at TC: the cubic refinement is exact for cubics
    def curve(L):
        return lambda T: 0.6 - L * (T - TC) + 3 * (T - TC) ** 2 - 5 * (T - TC) ** 3
    hs = [FakeHistogram(curve(L), np.zeros(4) + 1e-9 * np.arange(4)) for L in (8, 16, 32)]
    cs = fss.reweighted_crossings(hs, [8, 16, 32], T_range=(2.2, 2.33), n_grid=7)
    assert len(cs) == 2
    for c in cs:
        assert c.T == pytest.approx(TC, abs=1e-9)
    assert len(fss.reweighted_crossings(hs, [8, 16, 32], pairs="all")) == 3


def test_reweighted_crossings_no_crossing_and_bad_input():
    h1 = FakeHistogram(linear(1.0), [0, 1e-3])
    h2 = FakeHistogram(lambda T: linear(1.0)(T) + 0.1, [0, 1e-3])
    with pytest.warns(RuntimeWarning, match="do not cross"):
        (c,) = fss.reweighted_crossings([h1, h2], [8, 16])
    assert math.isnan(c.T)
    with pytest.raises(ValueError, match="at least 2 system sizes"):
        fss.reweighted_crossings([h1], [8])
    with pytest.raises(ValueError, match="mismatched"):
        fss.reweighted_crossings([h1, h2], [8, 16, 32])
    with pytest.raises(ValueError, match="increasing"):
        fss.reweighted_crossings([h1, h2], [16, 8])
    with pytest.raises(ValueError, match="not a computed"):
        fss.reweighted_crossings([h1, "x"], [8, 16])
    far = FakeHistogram(linear(2.0), [0, 1], trusted=(3.0, 3.5))
    with pytest.raises(ValueError, match="do not overlap"):
        fss.reweighted_crossings([h1, far], [8, 16])
    with pytest.raises(ValueError, match="T_range"):
        fss.reweighted_crossings([h1, h2], [8, 16], T_range=(2.5, 2.0))


def test_binder_crossings_single_size_and_nan():
    T = np.linspace(2.2, 2.3, 5)
    with pytest.raises(ValueError, match="at least 2 system sizes"):
        fss.binder_crossings(T, [8], np.ones((1, 5)), np.ones((1, 5)))
    U = np.vstack([T, T[::-1]])
    U[0, 2] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        fss.binder_crossings(T, [8, 16], U, np.ones((2, 5)))


def test_extrapolate_crossings():
    sizes = np.array([8.0, 16, 32, 64])
    Ts = TC + 0.3 * sizes[:-1] ** -2.0
    cs = [Crossing(a, b, t, 1e-4) for a, b, t in zip(sizes[:-1], sizes[1:], Ts)]
    r = fss.extrapolate_crossings(cs, exponent=2.0)
    assert r.exponent.value == pytest.approx(TC, abs=1e-10)
    assert r["a"].value == pytest.approx(0.3, abs=1e-8)
    assert r.dof == 1
    cs4 = cs + [Crossing(64, 128, TC + 0.3 * 64.0 ** -2, 1e-4)]
    free = fss.extrapolate_crossings(cs4)
    assert free.names == ("Tc", "a", "x")
    assert free["x"].value == pytest.approx(2.0, abs=1e-5)
    assert free["Tc"].value == pytest.approx(TC, abs=1e-8)
    mean = fss.extrapolate_crossings(cs, exponent=2.0, size="mean")
    assert mean["Tc"].value == pytest.approx(TC, abs=1e-10)
    with pytest.raises(ValueError, match="at least 2 finite"):
        fss.extrapolate_crossings(cs[:1] + [Crossing(8, 16, float("nan"), float("nan"))])
    with pytest.raises(ValueError, match="3 crossings"):
        fss.extrapolate_crossings(cs[:2])
    with pytest.raises(ValueError, match="exponent"):
        fss.extrapolate_crossings(cs, exponent=-1)


# ------------------------------------------------------------------ peaks
def test_parabola_peak_exact():
    x = np.linspace(0.0, 1.0, 11) ** 1.3  # uneven grid
    Y = np.vstack([5 - 4 * (x - c) ** 2 for c in (0.333, 0.5, 0.71)])
    xp, yp, edge = _parabola_peak(x, Y)
    np.testing.assert_allclose(xp, [0.333, 0.5, 0.71], atol=1e-12)
    np.testing.assert_allclose(yp, 5.0, atol=1e-12)
    assert not edge.any()
    xp, _, edge = _parabola_peak(x, x[None, :])
    assert edge[0] and xp[0] == 1.0


def test_peak_location_height_and_errors():
    Tp, H = 2.31, 12.0
    f = lambda T: H - 500 * (T - Tp) ** 2  # noqa: E731
    h = FakeHistogram(f, np.random.default_rng(3).normal(0, 0.1, 20))
    p = fss.peak(h, "susceptibility", L=16)
    assert p.L == 16
    assert p.T == pytest.approx(Tp, abs=1e-10)
    assert p.height == pytest.approx(H, abs=1e-10)
    # constant shifts move the height but not the position
    assert p.T_err == pytest.approx(0.0, abs=1e-9)
    assert p.height_err == pytest.approx(jk(h.shifts), rel=1e-9)
    ps = fss.peaks([h, h], [16, 32], "susceptibility", T_range=[(2.2, 2.4), (2.25, 2.45)])
    assert [q.L for q in ps] == [16, 32] and ps[1].T == pytest.approx(Tp, abs=1e-10)
    with pytest.warns(RuntimeWarning, match="edge"):
        fss.peak(h, T_range=(2.0, 2.2))
    with pytest.raises(ValueError, match="n_grid"):
        fss.peak(h, n_grid=2)


class MovingPeak:
    """Replica b has its peak at Tp + d[b]: the position error is the jackknife of d."""

    trusted_range = (2.2, 2.4)

    def __init__(self, d):
        self.d = np.asarray(d)

    def replicas(self, quantity, T=None, *, beta=None, warn=True):
        T = np.asarray(T, dtype=float)
        f = lambda c: 10 - 300 * (T - c) ** 2  # noqa: E731
        return T, f(2.3), np.vstack([f(2.3 + x) for x in self.d])


def test_peak_position_error():
    d = np.random.default_rng(4).normal(0, 0.002, 16)
    p = fss.peak(MovingPeak(d))
    assert p.T == pytest.approx(2.3, abs=1e-10)
    assert p.T_err == pytest.approx(jk(d), rel=1e-6)


def test_curves_and_values_at():
    hs = [FakeHistogram(linear(s), [0.0, 0.01, -0.01]) for s in (1, 2)]
    c = fss.curves(hs, "binder", [np.linspace(2.2, 2.3, 4), np.linspace(2.25, 2.28, 3)])
    assert [len(t) for t in c.T] == [4, 3]
    np.testing.assert_allclose(c.error[0], jk([0, 0.01, -0.01]))
    shared = fss.curves(hs, "binder", np.linspace(2.2, 2.3, 5))
    assert all(len(v) == 5 for v in shared.value)
    v, e = fss.values_at(hs, "binder", TC)
    np.testing.assert_allclose(v, 0.6)
    with pytest.raises(ValueError, match="single temperature"):
        fss.values_at(hs, "binder", [2.2, 2.3])


# ------------------------------------------------------------------ collapse
def scaling_data(Tc=2.269, inv_nu=1.0, kappa=1.75, sizes=(8, 16, 32, 64), noise=0.01, seed=0,
                 n=(11, 13, 15, 17)):
    rng = np.random.default_rng(seed)
    Ts, As, dAs = [], [], []
    for L, k in zip(sizes, n):
        T = 2.27 + np.linspace(-1.2, 1.2, k) / L  # grids not aligned with the true x
        x = (T - Tc) * L ** inv_nu
        F = 1.0 / (1.0 + np.exp(1.5 * x)) + 0.2
        A = L ** kappa * F
        dA = noise * A
        Ts.append(T)
        As.append(A + dA * rng.standard_normal(k))
        dAs.append(dA)
    return Ts, list(sizes), As, dAs


def test_hh_quality_values():
    Ts, sizes, As, dAs = scaling_data(noise=0.0)
    xs = [(t - 2.269) * L for t, L in zip(Ts, sizes)]
    ys = [a * L ** -1.75 for a, L in zip(As, sizes)]
    ds = [np.full(len(a), 1e-2) for a in As]
    S, n = _hh_quality(xs, ys, ds)
    assert n > 30 and S < 0.05  # only the (small) linear-interpolation error
    S_line, _ = _hh_quality(xs, ys, ds, master="line")
    assert S_line < 0.05
    bad = [(t - 2.30) * L for t, L in zip(Ts, sizes)]
    assert _hh_quality(bad, ys, ds)[0] > 100 * S
    # disjoint curves have nothing to compare
    assert _hh_quality([np.array([0.0, 1.0]), np.array([2.0, 3.0])], ys[:2], ds[:2]) == \
        (math.inf, 0)


def test_collapse_recovers_parameters():
    Ts, sizes, As, dAs = scaling_data(noise=0.01, seed=1)
    col = Collapse(Tc=2.27, inv_nu=0.9, exponent=1.6, n_boot=30, rng=0).compute(
        Ts, sizes, As, dAs)
    for got, true in ((col.Tc, 2.269), (col.inv_nu, 1.0), (col.exponent, 1.75)):
        assert got.error > 0
        assert abs(got.value - true) < 4 * got.error, (got, true)
    assert col.Tc.error < 0.002 and col.inv_nu.error < 0.05
    assert 0.2 < col.quality < 3.0
    assert col.samples.shape == (30, 3)
    assert col.nu.value == pytest.approx(1 / col.inv_nu.value)
    assert col.quality_at(2.30, 1.0, 1.75) > 10 * col.quality
    assert len(col.scaled()) == 4 and "Collapse" in repr(col)
    with pytest.raises(ValueError):
        col.samples[0, 0] = 1.0


def test_collapse_fixed_parameters_and_replicas():
    Ts, sizes, As, dAs = scaling_data(kappa=0.0, noise=0.005, seed=2)
    col = Collapse(Tc=2.269, exponent=0.0, fix=["Tc", "exponent"], n_boot=20, rng=1)
    col.compute(Ts, sizes, As, dAs)
    assert col.Tc == (2.269, 0.0) and col.exponent == (0.0, 0.0)
    assert abs(col.inv_nu.value - 1) < 4 * col.inv_nu.error
    # jackknife replicas whose spread equals dA give errors like the bootstrap
    rng = np.random.default_rng(3)
    B = 20
    reps = [a + d * rng.standard_normal((B, len(a))) / math.sqrt(B - 1) for a, d in zip(As, dAs)]
    jk_col = Collapse(Tc=2.269, exponent=0.0, fix=["Tc", "exponent"]).compute(
        Ts, sizes, As, dAs, replicas=reps)
    assert jk_col.samples.shape == (4 * B, 3)
    assert 0.5 < jk_col.inv_nu.error / col.inv_nu.error < 2.0


def test_collapse_shared_grid_and_window():
    sizes = [16, 32]
    T = np.linspace(2.2, 2.34, 15)
    A = np.vstack([1 / (1 + np.exp((T - 2.269) * L)) for L in sizes])
    col = Collapse(exponent=0.0, fix="exponent", x_range=(-2, 2), n_boot=5, rng=0).compute(
        T, sizes, A, np.full(A.shape, 1e-3))
    assert col.Tc.value == pytest.approx(2.269, abs=2e-3)


@pytest.mark.parametrize("kw, cfg, match", [
    (dict(sizes=[16]), {}, "at least 2 different system sizes"),
    (dict(sizes=[16, 16]), {}, "at least 2 different system sizes"),
    (dict(A="drop"), {}, "one row per size"),
    (dict(dA="zero"), {}, "positive"),
    (dict(A="nan"), {}, "non-finite"),
    (dict(T="short"), {}, "mismatched"),
    ({}, dict(fix=["Tc", "inv_nu", "exponent"], Tc=2.0), "nothing to fit"),
    ({}, dict(fix=["nu"]), "fix may contain"),
    ({}, dict(fix=["Tc"]), "no Tc value"),
    ({}, dict(inv_nu=-1.0), "inv_nu"),
    ({}, dict(x_range=(1, 0)), "x_range"),
    ({}, dict(master="spline"), "master"),
])
def test_collapse_bad_input(kw, cfg, match):
    Ts, sizes, As, dAs = scaling_data(sizes=(8, 16), n=(5, 6))
    args = dict(T=Ts, sizes=sizes, A=As, dA=dAs)
    if kw.get("A") == "drop":
        kw = dict(A=As[:1])
    elif kw.get("dA") == "zero":
        kw = dict(dA=[d * 0 for d in dAs])
    elif kw.get("A") == "nan":
        kw = dict(A=[np.where(np.arange(len(a)) == 2, np.nan, a) for a in As])
    elif kw.get("T") == "short":
        kw = dict(T=[t[:-1] for t in Ts])
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        Collapse(**cfg).compute(args["T"], args["sizes"], args["A"], args["dA"])


def test_collapse_not_computed():
    with pytest.raises(RuntimeError, match="compute"):
        Collapse().Tc


def test_fssa_cross_check():
    fssa = pytest.importorskip("fssa", exc_type=ImportError)
    Ts, sizes, As, dAs = scaling_data(noise=0.005, seed=5, n=(15, 15, 15, 15))
    T = Ts[0]  # fssa needs one shared grid
    rng = np.random.default_rng(6)
    A = np.vstack([L ** 1.75 * (1 / (1 + np.exp(1.5 * (T - 2.269) * L)) + 0.2) for L in sizes])
    dA = 0.005 * A
    A = A + dA * rng.standard_normal(A.shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = fssa.autoscale(np.array(sizes, float), T, A, dA, 2.27, 1.0, 1.6)
    ours = Collapse(Tc=2.27, inv_nu=1.0, exponent=1.6, n_boot=10, rng=0).compute(
        T, sizes, A, dA)
    # fssa (pyfssa, Houdayer-Hartmann quality with the joint-line master curve) fits
    # rho_c, nu, zeta for y = L^{-zeta/nu} A against x = L^{1/nu} (T - rho_c)
    assert ours.Tc.value == pytest.approx(ref.rho, abs=3 * max(ref.drho, ours.Tc.error))
    assert ours.nu.value == pytest.approx(ref.nu, abs=3 * max(ref.dnu, ours.nu.error))
    # fssa's zeta is kappa * nu
    assert ours.exponent.value == pytest.approx(ref.zeta / ref.nu, abs=0.05)
