r"""Finite-size scaling: crossings, peaks, data collapse.

Near a continuous transition at :math:`T_c` a quantity measured on systems of
linear size :math:`L` obeys the scaling form

.. math:: A(T, L) = L^{\kappa}\, \mathcal F\big((T - T_c)\, L^{1/\nu}\big)
          \,\big(1 + O(L^{-\omega})\big),

with :math:`\kappa = \gamma/\nu` for the susceptibility, :math:`-\beta/\nu`
for :math:`\langle|m|\rangle` and 0 for the Binder cumulant
:math:`U = 1 - \langle m^4\rangle/(3\langle m^2\rangle^2)`. Hence

* curves of scale-invariant quantities (:math:`\kappa = 0`) of different
  :math:`L` cross at :math:`T_c` up to corrections
  :math:`T^*(L) - T_c \propto L^{-1/\nu-\omega}`: :func:`binder_crossings`
  (curves from independent runs on a common grid, parametric bootstrap),
  :func:`reweighted_crossings` (continuous curves from histogram reweighting,
  jackknife), :func:`extrapolate_crossings`;
* peaks of :math:`\chi` or :math:`C` sit at :math:`T^*(L) = T_c + aL^{-1/\nu}`
  with heights :math:`\propto L^{\gamma/\nu}` (:math:`L^{\alpha/\nu}`):
  :func:`peak`, :func:`peaks`;
* all curves collapse onto :math:`\mathcal F` when plotted as
  :math:`L^{-\kappa}A` against :math:`(T-T_c)L^{1/\nu}`: :class:`Collapse`
  finds :math:`T_c`, :math:`1/\nu`, :math:`\kappa` that make the collapse best
  (Houdayer-Hartmann quality).

Histogram inputs are :class:`kadanoff.analysis.reweighting.SingleHistogram`
or ``MultiHistogram`` objects (one per size); quantities are named as in their
``replicas`` method (``"binder"``, ``"susceptibility"``, ``"specific_heat"``,
``"binder_derivative"``, ``"dlog_abs_m"``, an observable name, or ``(f, names)``).
Errors of anything computed from reweighted curves (a crossing, a peak, a
collapse) come from the jackknife: the same computation is repeated with
each delete-one-block replica of one size while the other sizes keep their
full-data curves, and the variances of the independent sizes add.

References
----------
.. [Bi81] K. Binder, Z. Phys. B 43, 119 (1981).
.. [HH04] J. Houdayer and A. K. Hartmann, Phys. Rev. B 70, 014418 (2004).
.. [FL91] A. M. Ferrenberg and D. P. Landau, Phys. Rev. B 44, 5081 (1991).
"""
from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from . import exponents as _exp

__all__ = ["Crossing", "binder_crossings", "curve_crossing", "reweighted_crossings",
           "extrapolate_crossings", "Peak", "peak", "peaks", "CurveSet", "curves", "values_at",
           "Collapse"]


class Crossing(NamedTuple):
    """Where the curves of sizes ``L1`` < ``L2`` cross: ``T`` with error ``T_err``."""

    L1: float
    L2: float
    T: float
    T_err: float


def curve_crossing(x, y1, y2) -> float:
    """First crossing of two curves sampled on the same increasing grid ``x``.

    Linear interpolation of d = y2 - y1 between the two grid points where it
    changes sign; NaN if it never does.
    """
    x = np.asarray(x, dtype=float)
    d = np.asarray(y2, dtype=float) - np.asarray(y1, dtype=float)
    sign_change = np.nonzero(np.signbit(d[:-1]) != np.signbit(d[1:]))[0]
    if len(sign_change) == 0:
        return float("nan")
    k = sign_change[0]
    return float(x[k] - d[k] * (x[k + 1] - x[k]) / (d[k + 1] - d[k]))


def binder_crossings(T, sizes, U, U_err, *, n_boot=2000, rng=None) -> list[Crossing]:
    """Crossings of Binder-cumulant curves of successive sizes, with errors.

    Parameters
    ----------
    T : array (n_T,)
        Increasing temperatures at which every size was simulated.
    sizes : array (n_L,)
        Linear sizes, increasing.
    U, U_err : arrays (n_L, n_T)
        Binder cumulant and its standard error per size and temperature.
    n_boot : int
        Parametric-bootstrap replicas: each U is redrawn from a normal
        distribution with its error and the crossing found again; the spread
        of those crossings is ``T_err``.
    rng : None, int, SeedSequence or Generator

    Returns
    -------
    list of Crossing, one per pair (sizes[k], sizes[k+1]); T = NaN (with a
    warning) when the curves do not cross inside the grid.
    """
    T = np.asarray(T, dtype=float)
    sizes = np.asarray(sizes, dtype=float)
    U = np.asarray(U, dtype=float)
    U_err = np.asarray(U_err, dtype=float)
    if T.ndim != 1 or len(T) < 2 or np.any(np.diff(T) <= 0):
        raise ValueError("T must be a strictly increasing 1-D array with at least 2 entries")
    if sizes.ndim != 1 or len(sizes) < 2:
        raise ValueError(f"sizes must hold at least 2 system sizes for a crossing, got "
                         f"{sizes.tolist()}")
    if U.shape != (len(sizes), len(T)) or U_err.shape != U.shape:
        raise ValueError(f"U and U_err must have shape (len(sizes), len(T)) = "
                         f"{(len(sizes), len(T))}, got {U.shape} and {U_err.shape}")
    if not (np.all(np.isfinite(U)) and np.all(np.isfinite(U_err))):
        raise ValueError("U and U_err contain non-finite values (nan or inf)")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 2:
        raise ValueError(f"n_boot must be an integer >= 2, got {n_boot!r}")
    gen = np.random.default_rng(rng)
    out = []
    for k in range(len(sizes) - 1):
        t0 = curve_crossing(T, U[k], U[k + 1])
        if np.isnan(t0):
            warnings.warn(f"Binder curves of L={sizes[k]:g} and L={sizes[k + 1]:g} do not "
                          "cross inside the temperature grid", RuntimeWarning, stacklevel=2)
            out.append(Crossing(sizes[k], sizes[k + 1], float("nan"), float("nan")))
            continue
        y1 = U[k] + U_err[k] * gen.standard_normal((n_boot, len(T)))
        y2 = U[k + 1] + U_err[k + 1] * gen.standard_normal((n_boot, len(T)))
        boots = np.array([curve_crossing(T, a, b) for a, b in zip(y1, y2)])
        boots = boots[np.isfinite(boots)]
        err = float(np.std(boots, ddof=1)) if len(boots) > 1 else float("nan")
        out.append(Crossing(sizes[k], sizes[k + 1], t0, err))
    return out


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def _jk_var(reps):
    """Jackknife variance along axis 0, ignoring NaN replicas."""
    reps = np.asarray(reps, dtype=float)
    B = reps.shape[0]
    ok = np.isfinite(reps)
    n_ok = ok.sum(axis=0)
    mean = np.nanmean(np.where(ok, reps, np.nan), axis=0)
    return (B - 1) / B * np.nansum(np.where(ok, (reps - mean) ** 2, np.nan), axis=0), n_ok


def _check_histograms(histograms, sizes, min_sizes=1):
    if isinstance(histograms, (str, bytes)) or not isinstance(histograms, Sequence):
        raise ValueError("histograms must be a sequence with one reweighting object per size")
    for i, h in enumerate(histograms):
        if not hasattr(h, "replicas") or not hasattr(h, "trusted_range"):
            raise ValueError(f"histograms[{i}] is not a computed SingleHistogram/MultiHistogram")
    if sizes is None:
        return np.full(len(histograms), np.nan)
    L = np.asarray(sizes, dtype=float)
    if L.ndim != 1 or len(L) != len(histograms):
        raise ValueError(f"sizes must give one size per histogram: {len(histograms)} histograms, "
                         f"sizes {np.shape(sizes)} (mismatched shapes)")
    if not np.all(np.isfinite(L)) or np.any(L <= 0):
        raise ValueError("sizes must be positive")
    if len(L) < min_sizes:
        raise ValueError(f"need at least {min_sizes} system sizes, got {len(L)}")
    return L


def _n_grid(n, name="n_grid", minimum=3):
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {n!r}")
    return int(n)


def _range(T_range, default):
    lo, hi = default if T_range is None else T_range
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
        raise ValueError(f"T_range must be (T_low, T_high) with 0 < T_low < T_high, got "
                         f"{(lo, hi)}")
    return lo, hi


def _parabola_peak(x, Y):
    """Maximum of each row of Y on grid x, refined by the parabola through the 3 points
    around the grid maximum. Returns (x_peak, y_peak, at_edge) arrays over rows."""
    Y = np.atleast_2d(Y)
    i = np.argmax(Y, axis=1)
    edge = (i == 0) | (i == len(x) - 1)
    j = np.clip(i, 1, len(x) - 2)
    r = np.arange(len(Y))
    x0, x1, x2 = x[j - 1], x[j], x[j + 1]
    y0, y1, y2 = Y[r, j - 1], Y[r, j], Y[r, j + 1]
    # vertex of the parabola through three (not necessarily equidistant) points
    d0, d2 = x0 - x1, x2 - x1
    s0, s2 = (y0 - y1) / d0, (y2 - y1) / d2
    curv = (s2 - s0) / (d2 - d0)              # = coefficient of (x - x1)^2
    lin = s0 - curv * d0                       # slope at x1
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(curv < 0, -lin / (2 * curv), 0.0)
    shift = np.clip(shift, d0, d2)
    xp = x1 + shift
    yp = y1 + lin * shift + curv * shift ** 2
    xp = np.where(edge, x[i], xp)
    yp = np.where(edge, Y[r, i], yp)
    return xp, yp, edge


def _smooth_crossing(x, y1, y2) -> float:
    """First crossing of two smooth curves on grid x: the linear-interpolation bracket of
    :func:`curve_crossing`, refined with the cubic through the 4 surrounding grid points."""
    d = np.asarray(y2, dtype=float) - np.asarray(y1, dtype=float)
    sign_change = np.nonzero(np.signbit(d[:-1]) != np.signbit(d[1:]))[0]
    if len(sign_change) == 0:
        return float("nan")
    k = int(sign_change[0])
    lin = float(x[k] - d[k] * (x[k + 1] - x[k]) / (d[k + 1] - d[k]))
    if k < 1 or k > len(x) - 3:
        return lin
    xs = x[k - 1:k + 3] - x[k]
    c = np.polyfit(xs, d[k - 1:k + 3], 3)
    a, b = 0.0, float(x[k + 1] - x[k])
    fa = d[k]
    for _ in range(60):
        m = 0.5 * (a + b)
        fm = np.polyval(c, m)
        if np.signbit(fm) == np.signbit(fa):
            a, fa = m, fm
        else:
            b = m
    return float(x[k] + 0.5 * (a + b))


# --------------------------------------------------------------------------
# crossings of reweighted curves
# --------------------------------------------------------------------------
def reweighted_crossings(histograms, sizes, quantity="binder", *, T_range=None, n_grid=80,
                         pairs="successive") -> list[Crossing]:
    r"""Crossings of a reweighted scale-invariant quantity between sizes, with jackknife errors.

    For each pair :math:`(L_1, L_2)` the curves :math:`A_{L_1}(T)` and
    :math:`A_{L_2}(T)` are evaluated on ``n_grid`` temperatures spanning the
    overlap of both trusted ranges (or ``T_range``) and the first sign change
    of :math:`A_{L_2} - A_{L_1}` is bracketed on the grid and located with
    the cubic through the four surrounding grid points (interpolation error
    far below the statistical one for smooth curves). The error is

    .. math:: \sigma_{T^*}^2 = \sum_{s\in\{1,2\}} \frac{B_s-1}{B_s}
              \sum_b \big(T^*_{s,b} - \bar T^*_s\big)^2 ,

    where :math:`T^*_{s,b}` is the crossing with size :math:`s` replaced by its
    b-th jackknife replica (the two runs are independent).

    Parameters
    ----------
    histograms : sequence of SingleHistogram or MultiHistogram
        One per size, already computed.
    sizes : sequence of float
        Linear sizes, increasing, at least 2.
    quantity : str or (f, names)
        Default the Binder cumulant.
    T_range : (T_low, T_high), optional
    n_grid : int
    pairs : "successive" or "all"
        Successive sizes (L_k, L_k+1) or every pair.

    Returns
    -------
    list of Crossing
        ``T`` = NaN with a RuntimeWarning where the curves do not cross in range.
    """
    L = _check_histograms(histograms, sizes)
    if len(L) < 2:
        raise ValueError(f"a crossing needs at least 2 system sizes, got {L.tolist()}")
    if np.any(np.diff(L) <= 0):
        raise ValueError(f"sizes must be strictly increasing, got {L.tolist()}")
    n_grid = _n_grid(n_grid)
    if pairs == "successive":
        todo = [(k, k + 1) for k in range(len(L) - 1)]
    elif pairs == "all":
        todo = [(a, b) for a in range(len(L)) for b in range(a + 1, len(L))]
    else:
        raise ValueError(f"pairs must be 'successive' or 'all', got {pairs!r}")
    out = []
    for a, b in todo:
        ha, hb = histograms[a], histograms[b]
        lo = max(ha.trusted_range[0], hb.trusted_range[0])
        hi = min(ha.trusted_range[1], hb.trusted_range[1])
        if T_range is None and not lo < hi:
            raise ValueError(f"the trusted ranges of L={L[a]:g} and L={L[b]:g} do not overlap; "
                             "give T_range or runs at closer temperatures")
        lo, hi = _range(T_range, (lo, hi))
        grid = np.linspace(lo, hi, n_grid)
        _, va, ra = ha.replicas(quantity, grid, warn=T_range is not None)
        _, vb, rb = hb.replicas(quantity, grid, warn=T_range is not None)
        t0 = _smooth_crossing(grid, va, vb)
        if math.isnan(t0):
            warnings.warn(f"the curves of L={L[a]:g} and L={L[b]:g} do not cross in "
                          f"T = {lo:.6g} .. {hi:.6g}", RuntimeWarning, stacklevel=2)
            out.append(Crossing(L[a], L[b], float("nan"), float("nan")))
            continue
        ta = np.array([_smooth_crossing(grid, r, vb) for r in ra])
        tb = np.array([_smooth_crossing(grid, va, r) for r in rb])
        var = 0.0
        for t in (ta, tb):
            v, n_ok = _jk_var(t[:, None])
            if n_ok[0] < len(t):
                warnings.warn(f"{len(t) - n_ok[0]} jackknife replicas of L={L[a]:g}/{L[b]:g} "
                              "do not cross in range; the error ignores them (widen T_range)",
                              RuntimeWarning, stacklevel=2)
            var += float(v[0])
        out.append(Crossing(L[a], L[b], t0, math.sqrt(var)))
    return out


def extrapolate_crossings(crossings, *, exponent=None, size="L1", scale_errors=False):
    r"""Extrapolate crossing temperatures to :math:`L \to \infty`.

    .. math:: T^*(L) = T_c + a L^{-x}

    with :math:`L` the smaller size of each pair (``size="L1"``) or the
    geometric mean (``"mean"``). For pairs with a fixed ratio
    :math:`L_2/L_1` scaling theory gives :math:`x = 1/\nu + \omega`. With
    ``exponent`` given, :math:`x` is fixed and the fit is linear (2
    parameters, at least 2 crossings); otherwise :math:`x` is fitted too (at
    least 3 crossings, 4 for a chi^2). NaN crossings are skipped.

    Returns
    -------
    exponents.FitResult
        Parameters ``("Tc", "a")`` or ``("Tc", "a", "x")``;
        ``result.exponent`` is ``Tc``.
    """
    rows = [c for c in crossings if math.isfinite(c.T) and math.isfinite(c.T_err)]
    if len(rows) < 2:
        raise ValueError(f"extrapolating crossings needs at least 2 finite crossings, got "
                         f"{len(rows)}")
    if size == "L1":
        L = np.array([c.L1 for c in rows])
    elif size == "mean":
        L = np.sqrt(np.array([c.L1 * c.L2 for c in rows]))
    else:
        raise ValueError(f"size must be 'L1' or 'mean', got {size!r}")
    T = np.array([c.T for c in rows])
    dT = np.array([c.T_err for c in rows])
    if np.any(dT <= 0):
        raise ValueError("crossing errors must be positive")
    if exponent is not None:
        x = float(exponent)
        if not (math.isfinite(x) and x > 0):
            raise ValueError(f"exponent must be positive, got {exponent!r}")

        def f(size, tc, a):
            return tc + a * size ** (-x)
        return _exp.fit(f, L, T, dT, [float(T[np.argmax(L)]), 0.0], ["Tc", "a"],
                        scale_errors=scale_errors, model=f"T* = Tc + a L^-{x:g}", main="Tc")
    if len(rows) < 3:
        raise ValueError("fitting the exponent too needs at least 3 crossings; give exponent=")
    res = _exp.peak_shift(L, T, dT, scale_errors=scale_errors)
    names = ["Tc", "a", "x"]
    return _exp.FitResult(names, res.values, res.cov, res.chi2, res.dof, res.x, res.y, res.dy,
                          res._func, "T* = Tc + a L^-x", main="Tc")


# --------------------------------------------------------------------------
# peaks
# --------------------------------------------------------------------------
class Peak(NamedTuple):
    """Maximum of a reweighted curve: position ``T`` and ``height``, with jackknife errors."""

    L: float
    T: float
    T_err: float
    height: float
    height_err: float


def peak(histogram, quantity="susceptibility", *, T_range=None, n_grid=200, L=float("nan"),
         n_fine=81) -> Peak:
    r"""Location and height of the maximum of a reweighted quantity, with jackknife errors.

    The curve is evaluated on ``n_grid`` temperatures over ``T_range``
    (default: the trusted range), then on ``n_fine`` temperatures around the
    maxima of the full-data curve and of all its jackknife replicas; each
    maximum is refined by the parabola through the three grid points around
    it. The errors of :math:`T^*` and :math:`A(T^*)` are the jackknife spreads
    of the replicas' maxima, :math:`\sqrt{\tfrac{B-1}{B}\sum_b(T^*_b-\bar T^*)^2}`.

    A maximum on the edge of the range gives a RuntimeWarning (widen
    ``T_range`` or add a run closer to the peak).
    """
    if not hasattr(histogram, "replicas"):
        raise ValueError("histogram must be a computed SingleHistogram or MultiHistogram")
    n_grid, n_fine = _n_grid(n_grid), _n_grid(n_fine, "n_fine")
    lo, hi = _range(T_range, histogram.trusted_range)
    grid = np.linspace(lo, hi, n_grid)
    _, v, r = histogram.replicas(quantity, grid, warn=T_range is not None)
    xs, _, edges = _parabola_peak(grid, np.vstack([v, r]))
    if edges[0]:
        warnings.warn(f"the maximum of {quantity!r} (L={L:g}) lies on the edge of "
                      f"T = {lo:.6g} .. {hi:.6g}; widen T_range", RuntimeWarning, stacklevel=2)
    h = grid[1] - grid[0]
    flo, fhi = max(lo, np.nanmin(xs) - 2 * h), min(hi, np.nanmax(xs) + 2 * h)
    fine = np.linspace(flo, fhi, n_fine)
    _, v2, r2 = histogram.replicas(quantity, fine, warn=False)
    xs, ys, _ = _parabola_peak(fine, np.vstack([v2, r2]))
    varT, _ = _jk_var(xs[1:, None])
    varH, _ = _jk_var(ys[1:, None])
    return Peak(float(L), float(xs[0]), math.sqrt(float(varT[0])), float(ys[0]),
                math.sqrt(float(varH[0])))


def peaks(histograms, sizes, quantity="susceptibility", **kw) -> list[Peak]:
    """:func:`peak` for each size; keywords as there (``T_range`` may be a list per size)."""
    L = _check_histograms(histograms, sizes)
    rng = kw.pop("T_range", None)
    if rng is not None and len(rng) == len(L) and np.ndim(rng[0]) == 1:
        ranges = list(rng)
    else:
        ranges = [rng] * len(L)
    return [peak(h, quantity, L=size, T_range=r, **kw)
            for h, size, r in zip(histograms, L, ranges)]


# --------------------------------------------------------------------------
# curves for scaling analyses
# --------------------------------------------------------------------------
class CurveSet(NamedTuple):
    """Per-size reweighted curves: lists (one entry per size) of arrays."""

    T: list
    value: list
    error: list
    replicas: list


def curves(histograms, quantity, T) -> CurveSet:
    r"""Evaluate ``quantity`` for every size: on one shared grid ``T`` or one grid per size.

    Returns values, jackknife errors and jackknife replicas (for
    :class:`Collapse`). Temperatures outside a histogram's trusted range
    give a ReweightingWarning.
    """
    _check_histograms(histograms, None)
    per_size = isinstance(T, Sequence) and not isinstance(T, (str, bytes)) and \
        len(T) == len(histograms) and all(np.ndim(t) == 1 for t in T)
    grids = list(T) if per_size else [T] * len(histograms)
    Ts, vs, es, rs = [], [], [], []
    for h, g in zip(histograms, grids):
        t, v, r = h.replicas(quantity, np.asarray(g, dtype=float))
        var, _ = _jk_var(r)
        Ts.append(t)
        vs.append(v)
        es.append(np.sqrt(var))
        rs.append(r)
    return CurveSet(Ts, vs, es, rs)


def values_at(histograms, quantity, T):
    """``quantity`` at one temperature ``T`` for every size: (values, errors) arrays.

    The input of fixed-temperature scaling fits (e.g. ``chi(T_c, L)`` for
    :func:`kadanoff.analysis.exponents.gamma_over_nu`).
    """
    if np.ndim(T) != 0:
        raise ValueError("T must be a single temperature")
    c = curves(histograms, quantity, np.array([float(T)]))
    return np.array([v[0] for v in c.value]), np.array([e[0] for e in c.error])


# --------------------------------------------------------------------------
# data collapse
# --------------------------------------------------------------------------
_PARAMS = ("Tc", "inv_nu", "exponent")



def _brackets(xs, ys, dys, X, cid):
    """For each curve p with >= 2 points: the points of the other curves
    (mask ``ok`` over X) that lie inside p's x range, and the index ``kk`` of
    p's right neighbour of each: (x_p, y_p, dy_p, ok, kk)."""
    for p, (xp, yp, dp) in enumerate(zip(xs, ys, dys)):
        if len(xp) < 2:
            continue
        k = np.searchsorted(xp, X)
        ok = (k > 0) & (k < len(xp)) & (cid != p)
        if ok.any():
            yield xp, yp, dp, ok, k[ok]

def _hh_quality(xs, ys, dys, window=None, master="interp"):
    r"""Houdayer-Hartmann quality S and the number of points that entered it.

    For each point of each curve, every *other* curve whose x-range brackets
    it contributes its two neighbouring points. ``master="line"``: a weighted
    straight line through all those points gives the master-curve estimate Y
    and its variance dY^2 (Houdayer & Hartmann's prescription).
    ``master="interp"``: each other curve's linear interpolation
    :math:`Y_p = (1-t)y_{k-1} + t y_k`, variance
    :math:`(1-t)^2\delta y_{k-1}^2 + t^2\delta y_k^2`, is averaged with
    inverse-variance weights, :math:`\delta Y^2 = 1/\sum_p \mathrm{Var}(Y_p)^{-1}`;
    unlike the joint line this is continuous in the scaling parameters, which
    the minimiser and the error analysis need. Each curve's x must be increasing.
    """
    if window is not None:
        lo, hi = window
        sel = [(x >= lo) & (x <= hi) for x in xs]
        xs = [x[s] for x, s in zip(xs, sel)]
        ys = [y[s] for y, s in zip(ys, sel)]
        dys = [d[s] for d, s in zip(dys, sel)]
    X = np.concatenate(xs)
    Yd = np.concatenate(ys)
    Dd = np.concatenate(dys)
    cid = np.concatenate([np.full(len(x), i) for i, x in enumerate(xs)])
    P = len(X)
    if master == "interp":
        W, WY = np.zeros(P), np.zeros(P)
        for xp, yp, dp, ok, kk in _brackets(xs, ys, dys, X, cid):
            x0, x1 = xp[kk - 1], xp[kk]
            t = (X[ok] - x0) / (x1 - x0)
            Yp = (1 - t) * yp[kk - 1] + t * yp[kk]
            Vp = (1 - t) ** 2 * dp[kk - 1] ** 2 + t ** 2 * dp[kk] ** 2
            W[ok] += 1.0 / Vp
            WY[ok] += Yp / Vp
        good = W > 0
        n = int(good.sum())
        if n == 0:
            return math.inf, 0
        Y = WY[good] / W[good]
        dY2 = 1.0 / W[good]
        y, dy = Yd[good], Dd[good]
        return float(np.sum((y - Y) ** 2 / (dy * dy + dY2)) / n), n
    K = np.zeros(P)
    Kx, Kxx, Ky, Kxy = np.zeros(P), np.zeros(P), np.zeros(P), np.zeros(P)
    for xp, yp, dp, ok, kk in _brackets(xs, ys, dys, X, cid):
        wp = 1.0 / (dp * dp)
        for j in (kk - 1, kk):
            w, xj, yj = wp[j], xp[j], yp[j]
            K[ok] += w
            Kx[ok] += w * xj
            Kxx[ok] += w * xj * xj
            Ky[ok] += w * yj
            Kxy[ok] += w * xj * yj
    D = K * Kxx - Kx * Kx
    good = (K > 0) & (D > 0)
    n = int(good.sum())
    if n == 0:
        return math.inf, 0
    x, K, Kx, Kxx, Ky, Kxy, D = (a[good] for a in (X, K, Kx, Kxx, Ky, Kxy, D))
    Y = (Kxx * Ky - Kx * Kxy) / D + x * (K * Kxy - Kx * Ky) / D
    dY2 = (Kxx - 2 * x * Kx + x * x * K) / D
    y, dy = Yd[good], Dd[good]
    return float(np.sum((y - Y) ** 2 / (dy * dy + dY2)) / n), n


class Collapse:
    r"""Finite-size-scaling data collapse with the Houdayer-Hartmann quality function.

    Scaling form :math:`A(T, L) = L^{\kappa}\,\mathcal F\big((T-T_c)L^{1/\nu}\big)`:
    with :math:`x_{ij} = (T_{ij} - T_c)L_i^{1/\nu}`,
    :math:`y_{ij} = L_i^{-\kappa}A_{ij}`, :math:`\delta y_{ij} = L_i^{-\kappa}\delta A_{ij}`,
    the quality (Houdayer & Hartmann 2004)

    .. math:: S = \frac{1}{\mathcal N}\sum_{i,j}
              \frac{(y_{ij} - Y_{ij})^2}{\delta y_{ij}^2 + \delta Y_{ij}^2}

    compares every point with the master curve :math:`Y_{ij} \pm \delta Y_{ij}`
    estimated from the *other* sizes (weighted straight line through the two
    points of each other curve that bracket :math:`x_{ij}`); :math:`\mathcal N`
    counts the points with such an estimate. :math:`S \approx 1` for a
    collapse within the error bars, :math:`S \gg 1` for a bad one.
    :math:`T_c`, :math:`1/\nu` and :math:`\kappa` (``exponent``) minimise
    :math:`S` (Nelder-Mead); any of them can be fixed.

    Errors: with jackknife ``replicas`` of the curves (from :func:`curves`,
    correct for reweighted curves whose points are correlated) the
    minimisation is repeated with each replica of one size, the others at
    their full-data values, and the jackknife variances of the independent
    sizes add. Without replicas a parametric bootstrap redraws every point
    independently from :math:`A_{ij} + \delta A_{ij}\,\mathcal N(0,1)`
    (right for independent runs at each (T, L)); ``n_boot`` replicas.

    Compute-object shape: configure here, ``compute(...)`` returns self,
    results are read-only attributes.

    Parameters
    ----------
    Tc, inv_nu, exponent : float, optional
        Starting values (defaults: middle of the data's T range, 1, 0), or
        the fixed values of the parameters named in ``fix``.
    fix : iterable of str
        Any of ``"Tc"``, ``"inv_nu"``, ``"exponent"`` held fixed.
    x_range : (x_low, x_high), optional
        Use only points with scaling variable in this window (re-selected at
        every trial parameter set).
    n_boot : int
        Parametric-bootstrap replicas (when no jackknife replicas are given).
    rng : None, int, SeedSequence or Generator
        For the bootstrap.

    Attributes (after compute)
    --------------------------
    Tc, inv_nu, nu, exponent : exponents.Param
        Best values with errors (a fixed parameter has error 0).
    quality : float
        :math:`S` at the minimum.
    n_points : int
        :math:`\mathcal N` at the minimum.
    samples : ndarray (n_samples, 3)
        (Tc, inv_nu, exponent) of every bootstrap / jackknife replica.

    Examples
    --------
    >>> grids = [Tc + np.linspace(-1, 1, 21) / L for L in sizes]        # doctest: +SKIP
    >>> d = fss.curves(hists, "binder", grids)                          # doctest: +SKIP
    >>> col = fss.Collapse(Tc=2.27, exponent=0.0, fix=["exponent"]).compute(
    ...     d.T, sizes, d.value, d.error, replicas=d.replicas)          # doctest: +SKIP
    >>> col.Tc, col.nu                                                  # doctest: +SKIP
    """

    def __init__(self, *, Tc=None, inv_nu=1.0, exponent=0.0, fix=(), x_range=None, n_boot=100,
                 rng=None, master="interp"):
        if master not in ("interp", "line"):
            raise ValueError(f"master must be 'interp' or 'line', got {master!r}")
        self._master = master
        fix = tuple(fix) if not isinstance(fix, str) else (fix,)
        bad = [f for f in fix if f not in _PARAMS]
        if bad:
            raise ValueError(f"fix may contain only {_PARAMS}, got {bad}")
        if len(set(fix)) == 3:
            raise ValueError("all three parameters fixed: nothing to fit")
        if "Tc" in fix and Tc is None:
            raise ValueError("fix contains 'Tc' but no Tc value was given")
        for name, v in (("Tc", Tc), ("inv_nu", inv_nu), ("exponent", exponent)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, numbers.Real)
                                  or not math.isfinite(v)):
                raise ValueError(f"{name} must be a finite number, got {v!r}")
        if inv_nu is not None and inv_nu <= 0:
            raise ValueError(f"inv_nu must be positive, got {inv_nu}")
        if x_range is not None:
            lo, hi = (float(v) for v in x_range)
            if not lo < hi:
                raise ValueError(f"x_range must be (low, high) with low < high, got {x_range}")
            x_range = (lo, hi)
        self._init = {"Tc": Tc, "inv_nu": 1.0 if inv_nu is None else float(inv_nu),
                      "exponent": 0.0 if exponent is None else float(exponent)}
        self._fix = fix
        self._x_range = x_range
        self._n_boot = _n_grid(n_boot, "n_boot", 2)
        self._rng = rng
        self._done = False

    # -- input ----------------------------------------------------------------
    @staticmethod
    def _ragged(values, n_L, name):
        if isinstance(values, np.ndarray) and values.ndim == 2:
            rows = list(values)
        elif isinstance(values, Sequence) and not isinstance(values, (str, bytes)):
            rows = [np.asarray(v, dtype=float) for v in values]
        else:
            raise ValueError(f"{name} must be a 2-D array (n_L, n_T) or one 1-D array per size")
        if len(rows) != n_L:
            raise ValueError(f"{name} must have one row per size: {n_L} sizes, {len(rows)} rows "
                             "(mismatched shapes)")
        out = []
        for r in rows:
            r = np.asarray(r, dtype=float)
            if r.ndim != 1:
                raise ValueError(f"each row of {name} must be 1-D")
            if not np.all(np.isfinite(r)):
                raise ValueError(f"{name} contains non-finite values (nan or inf)")
            out.append(r)
        return out

    def compute(self, T, sizes, A, dA, *, replicas=None):
        """Find the best collapse of ``A(T, L)``.

        Parameters
        ----------
        T : array (n_T,) shared by all sizes, or one array per size
        sizes : array (n_L,), at least 2 different sizes
        A, dA : arrays (n_L, n_T) or one array per size
            Values and standard errors (dA > 0).
        replicas : list of arrays (B_i, n_T_i), optional
            Jackknife replicas of each size's curve (see :func:`curves`).

        Returns
        -------
        self
        """
        L = np.asarray(sizes, dtype=float)
        if L.ndim != 1 or len(np.unique(L)) < 2:
            raise ValueError(f"a collapse needs at least 2 different system sizes, got "
                             f"{np.atleast_1d(L).tolist()}")
        if np.any(L <= 0) or not np.all(np.isfinite(L)):
            raise ValueError("sizes must be positive")
        n_L = len(L)
        if isinstance(T, np.ndarray) and T.ndim == 1 or (
                isinstance(T, Sequence) and len(T) and np.ndim(T[0]) == 0):
            Ts = [np.asarray(T, dtype=float)] * n_L
        else:
            Ts = self._ragged(T, n_L, "T")
        As = self._ragged(A, n_L, "A")
        dAs = self._ragged(dA, n_L, "dA")
        for i in range(n_L):
            if not (len(Ts[i]) == len(As[i]) == len(dAs[i])):
                raise ValueError(f"size {L[i]:g}: T, A and dA have lengths {len(Ts[i])}, "
                                 f"{len(As[i])}, {len(dAs[i])} (mismatched shapes)")
            if len(Ts[i]) < 2:
                raise ValueError(f"size {L[i]:g} has fewer than 2 points")
            if np.any(dAs[i] <= 0):
                raise ValueError("dA must be positive standard errors")
        order = [np.argsort(t) for t in Ts]
        Ts = [t[o] for t, o in zip(Ts, order)]
        As = [a[o] for a, o in zip(As, order)]
        dAs = [d[o] for d, o in zip(dAs, order)]
        reps = None
        if replicas is not None:
            reps = self._ragged_reps(replicas, n_L, [len(t) for t in Ts])
            reps = [r[:, o] for r, o in zip(reps, order)]
        self._L, self._T, self._A, self._dA = L, Ts, As, dAs
        init = dict(self._init)
        if init["Tc"] is None:
            allT = np.concatenate(Ts)
            init["Tc"] = 0.5 * (allT.min() + allT.max())
        self._free = [p for p in _PARAMS if p not in self._fix]
        self._fixed = {p: init[p] for p in self._fix}
        start = np.array([init[p] for p in self._free])
        span = np.ptp(np.concatenate(Ts)) or 1.0
        self._steps = np.array([{"Tc": 0.1 * span, "inv_nu": 0.1, "exponent": 0.1}[p]
                                for p in self._free])
        best = self._minimise(As, start)
        self._best = best
        self._S, self._n_points = self._quality(best, As)
        if not math.isfinite(self._S):
            raise ValueError("no collapse possible: the curves do not overlap in the scaling "
                             "variable for any parameters tried (check x_range and the data)")
        samples = []
        if reps is not None:
            var = np.zeros(len(self._free))
            for i, R in enumerate(reps):
                ps = []
                for r in R:
                    trial = list(As)
                    trial[i] = r
                    ps.append(self._minimise(trial, best, local=True))
                ps = np.array(ps)
                v, _ = _jk_var(ps)
                var += v
                samples.extend(ps)
            err = np.sqrt(var)
        else:
            gen = np.random.default_rng(self._rng)
            for _ in range(self._n_boot):
                trial = [a + d * gen.standard_normal(len(a)) for a, d in zip(As, dAs)]
                samples.append(self._minimise(trial, best, local=True))
            samples = np.array(samples)
            err = samples.std(axis=0, ddof=1)
        self._samples = self._full(np.array(samples)) if len(samples) else np.empty((0, 3))
        vals = self._full(best[None])[0]
        errs = dict(zip(self._free, err))
        self._params = {p: _exp.Param(float(vals[k]), float(errs.get(p, 0.0)))
                        for k, p in enumerate(_PARAMS)}
        self._done = True
        return self

    @staticmethod
    def _ragged_reps(replicas, n_L, lengths):
        if len(replicas) != n_L:
            raise ValueError(f"replicas must hold one (B, n_T) array per size ({n_L})")
        out = []
        for r, n in zip(replicas, lengths):
            r = np.asarray(r, dtype=float)
            if r.ndim != 2 or r.shape[1] != n or r.shape[0] < 2:
                raise ValueError(f"each replicas entry must have shape (B >= 2, {n}), got "
                                 f"{r.shape}")
            if not np.all(np.isfinite(r)):
                raise ValueError("replicas contain non-finite values (nan or inf)")
            out.append(r)
        return out

    # -- internals --------------------------------------------------------------
    def _full(self, free_rows):
        rows = np.asarray(free_rows, dtype=float)
        out = np.empty((len(rows), 3))
        for k, p in enumerate(_PARAMS):
            out[:, k] = rows[:, self._free.index(p)] if p in self._free else self._fixed[p]
        return out

    def _scaled(self, params, As, dAs=None):
        tc, inu, kap = params
        dAs = self._dA if dAs is None else dAs
        xs, ys, ds = [], [], []
        for L, t, a, d in zip(self._L, self._T, As, dAs):
            f = L ** (-kap)
            xs.append((t - tc) * L ** inu)
            ys.append(a * f)
            ds.append(d * f)
        return xs, ys, ds

    def _quality(self, free, As):
        params = self._full(np.asarray(free)[None])[0]
        if params[1] <= 0:
            return math.inf, 0
        xs, ys, ds = self._scaled(params, As)
        S, n = _hh_quality(xs, ys, ds, self._x_range, self._master)
        if n < len(self._free) + 2:
            return math.inf, n
        return S, n

    def _minimise(self, As, start, local=False):
        def obj(p):
            S = self._quality(p, As)[0]
            return S if math.isfinite(S) else 1e30

        start = np.asarray(start, dtype=float)
        simplex = np.vstack([start] + [start + np.eye(len(start))[k] * self._steps[k]
                                       for k in range(len(start))])
        if local:  # replicas: start near the optimum with a small simplex, no restart
            simplex = np.vstack([start] + [start + np.eye(len(start))[k] * self._steps[k] * 0.2
                                           for k in range(len(start))])
        from scipy import optimize       # imported here: keeps `import kadanoff` fast
        res = optimize.minimize(obj, start, method="Nelder-Mead",
                                options={"initial_simplex": simplex, "xatol": 1e-7,
                                         "fatol": 1e-10, "maxiter": 4000, "maxfev": 8000})
        if local:
            return res.x
        # one restart from the optimum guards against a collapsed simplex
        simplex = np.vstack([res.x] + [res.x + np.eye(len(start))[k] * self._steps[k] * 0.1
                                       for k in range(len(start))])
        res2 = optimize.minimize(obj, res.x, method="Nelder-Mead",
                                 options={"initial_simplex": simplex, "xatol": 1e-8,
                                          "fatol": 1e-11, "maxiter": 4000, "maxfev": 8000})
        return res2.x if res2.fun <= res.fun else res.x

    # -- results ------------------------------------------------------------------
    def _need(self):
        if not self._done:
            raise RuntimeError("call Collapse.compute(...) first")

    @property
    def Tc(self) -> _exp.Param:
        """Critical temperature."""
        self._need()
        return self._params["Tc"]

    @property
    def inv_nu(self) -> _exp.Param:
        r""":math:`1/\nu`."""
        self._need()
        return self._params["inv_nu"]

    @property
    def nu(self) -> _exp.Param:
        r""":math:`\nu = 1/(1/\nu)`, error by propagation."""
        v, e = self.inv_nu
        return _exp.Param(1.0 / v, e / v ** 2)

    @property
    def exponent(self) -> _exp.Param:
        r""":math:`\kappa` (:math:`\gamma/\nu`, :math:`-\beta/\nu`, 0 for U)."""
        self._need()
        return self._params["exponent"]

    @property
    def quality(self) -> float:
        """Houdayer-Hartmann S at the optimum (about 1 for a collapse within errors)."""
        self._need()
        return self._S

    @property
    def n_points(self) -> int:
        """Number of points with a master-curve estimate at the optimum."""
        self._need()
        return self._n_points

    @property
    def samples(self) -> np.ndarray:
        """(Tc, inv_nu, exponent) of each bootstrap / jackknife replica."""
        self._need()
        out = self._samples.copy()
        out.setflags(write=False)
        return out

    @property
    def sizes(self) -> np.ndarray:
        self._need()
        return self._L.copy()

    def scaled(self, Tc=None, inv_nu=None, exponent=None):
        """Scaled data ``[(x, y, dy), ...]`` per size at the optimum (or given parameters)."""
        self._need()
        p = [self._params[k].value if v is None else float(v)
             for k, v in zip(_PARAMS, (Tc, inv_nu, exponent))]
        xs, ys, ds = self._scaled(p, self._A)
        return list(zip(xs, ys, ds))

    def quality_at(self, Tc, inv_nu, exponent) -> float:
        """Houdayer-Hartmann S for arbitrary parameters (for scans and plots)."""
        self._need()
        xs, ys, ds = self._scaled((Tc, inv_nu, exponent), self._A)
        return _hh_quality(xs, ys, ds, self._x_range, self._master)[0]

    def plot(self, ax=None, **kw):
        """The collapsed curves (``kadanoff.plot.collapse_plot``); returns a matplotlib Figure."""
        from .. import plot
        return plot.collapse_plot(self, ax=ax, **kw)

    def __repr__(self):
        if not self._done:
            return "<Collapse (not computed)>"
        p = self._params
        return (f"<Collapse Tc={p['Tc']} 1/nu={p['inv_nu']} exponent={p['exponent']} "
                f"S={self._S:.3g} n={self._n_points}>")
