r"""Early-warning signals of critical transitions (critical slowing down) in a time series.

Pure numpy/scipy; works on any 1-D series and on Results (``compute(res, "density")``).

* :func:`detrend` -- Gaussian-kernel smoothing, LOWESS (own implementation,
  :func:`lowess`) or a straight line; returns trend and residuals.
* :func:`rolling_indicators` -- rolling-window variance, lag-1
  autocorrelation, skewness, kurtosis, return rate and power-spectrum
  reddening of a (detrended) series.
* :func:`kendall_tau` -- Kendall's :math:`\tau` of an indicator against time.
* :func:`surrogates` -- phase-randomised (same periodogram) and fitted AR(1)
  surrogate series for significance tests.
* :class:`EarlyWarning` -- all of the above in one compute object, with
  p-values of the trend statistics against surrogates and a ``plot`` method.

Conventions
-----------
These are the conventions of the R package *earlywarnings* and of
*ewstools*, so numbers can be compared; the package ``ewstools`` agrees to
rounding error (see tests/validation/test_warning_ews.py).

* **Fractions or points.** ``window``, ``bandwidth`` and ``span`` in
  :math:`(0, 1]` are fractions of the series length :math:`n`
  (``int(window * n)`` points for the window, ``bandwidth * n`` points for the
  kernel); values :math:`> 1` are numbers of points.
* **Gaussian bandwidth.** As in R's ``ksmooth``: the kernel's quartiles are at
  :math:`\pm 0.25\,b`, i.e. standard deviation
  :math:`0.25\,b / \Phi^{-1}(3/4) = 0.3707\,b` points; edges are handled by
  reflection (``scipy.ndimage.gaussian_filter1d(mode="reflect")``).
* **Right-aligned windows.** The indicator at index :math:`t` uses the
  :math:`w` points :math:`t-w+1, \dots, t` (no look-ahead); the first
  :math:`w-1` entries are NaN.
* **Estimators inside a window.** Variance with ``ddof=1``; lag-1
  autocorrelation is Pearson's correlation of the :math:`w-1` pairs
  :math:`(r_i, r_{i+1})`; skewness and (excess) kurtosis are the
  bias-adjusted :math:`G_1`, :math:`G_2` (``scipy.stats.skew/kurtosis`` with
  ``bias=False``, pandas' ``rolling().skew()/.kurt()``).
* **Return rate** :math:`= -\ln(\rho_1)/\Delta t` (NaN where
  :math:`\rho_1 \le 0`): for an Ornstein-Uhlenbeck process
  :math:`\dot x = -kx + \xi` sampled every :math:`\Delta t`,
  :math:`\rho_1 = e^{-k\Delta t}` and the return rate is :math:`k`; it
  **decreases** towards a transition.
* **Reddening** = fraction of the window's spectral power (mean removed,
  periodogram at Fourier frequencies :math:`k = 1..\lfloor w/2\rfloor`) in the
  lowest ``low_frequency`` fraction of those frequencies (at least one). For
  AR(1) noise it grows with the AR coefficient. Periodograms are costly, so
  this indicator is evaluated every ``spectrum_step`` points (NaN in between).
* **Kendall's** :math:`\tau` is :math:`\tau_b` (``scipy.stats.kendalltau``)
  of the finite indicator values against time.

References
----------
.. [Sc09] M. Scheffer et al., Nature 461, 53 (2009).
.. [Da12] V. Dakos et al., PLoS ONE 7, e41010 (2012) (methods, surrogates).
.. [Cl79] W. S. Cleveland, J. Am. Stat. Assoc. 74, 829 (1979) (LOWESS).
.. [TE92] J. Theiler et al., Physica D 58, 77 (1992) (phase-randomised surrogates).
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import numpy as np

from .errors import _check_int

__all__ = [
    "INDICATORS",
    "detrend",
    "lowess",
    "rolling_indicators",
    "kendall_tau",
    "surrogates",
    "EarlyWarning",
]

#: Indicator names and the direction of change that signals an approaching transition:
#: +1 increase, -1 decrease, 0 either (two-sided test).
INDICATORS = {"variance": +1, "ac1": +1, "skewness": 0, "kurtosis": +1, "return_rate": -1,
              "reddening": +1}

_MIN_LENGTH = 10
_QUARTILE = 0.6744897501960817          # Phi^{-1}(3/4)


# --------------------------------------------------------------------------
# input helpers
# --------------------------------------------------------------------------
def _series(x, name="series"):
    x = np.asarray(x)
    if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool) \
            or np.iscomplexobj(x):
        raise ValueError(f"{name} must be a real numeric 1-D array, got dtype {x.dtype}")
    x = np.asarray(x, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {x.shape}")
    if np.isnan(x).any():
        i = int(np.flatnonzero(np.isnan(x))[0])
        raise ValueError(f"{name} contains NaN (first at index {i}); remove or interpolate "
                         f"missing values first")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains infinite values")
    if len(x) < _MIN_LENGTH:
        raise ValueError(f"{name} too short: need at least {_MIN_LENGTH} points, got {len(x)}")
    return x


def _points(value, n, name, minimum):
    """Fraction in (0, 1] of n or a number of points > 1 -> number of points (validated)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) \
            or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a fraction of the series length in (0, 1] or a "
                         f"number of points > 1, got {value!r}")
    pts = value * n if value <= 1 else value
    if pts > n:
        raise ValueError(f"{name} = {value!r} is larger than the series ({n} points)")
    if pts < minimum:
        raise ValueError(f"{name} = {value!r} gives {pts:g} points; need at least {minimum} "
                         f"(series of {n} points)")
    return pts


# --------------------------------------------------------------------------
# detrending
# --------------------------------------------------------------------------
def lowess(x, y, frac=0.2, *, iterations=3):
    r"""LOWESS smoother (Cleveland 1979): locally weighted linear regression.

    For each :math:`x_i` the ``r = int(frac * n)`` nearest points (at least 2)
    get tricube weights :math:`(1 - (d/h_i)^3)^3`, :math:`h_i` the distance to
    the farthest of them, and a weighted straight line gives the fitted
    value. ``iterations`` robustifying passes then multiply the weights by
    bisquare weights :math:`(1 - (e_j / 6\,\mathrm{MAD})^2)^2` of the
    residuals (:math:`\mathrm{MAD}` = median absolute residual), as in R's
    ``lowess`` (default ``iter=3``). Degenerate cases follow statsmodels'
    ``lowess`` (with ``delta=0``): a point whose neighbourhood has fewer than
    two positive weights keeps its own value; if the median residual is 0,
    points with non-zero residual get robustness weight 0. Cost
    :math:`O(n r)` per pass. Returns the fitted values at ``x`` (ascending
    ``x`` required).
    """
    x = _series(x, "x")
    y = _series(y, "y")
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
    if np.any(np.diff(x) < 0):
        raise ValueError("x must be sorted in ascending order")
    iterations = _check_int(iterations, "iterations", 0)
    n = len(x)
    if isinstance(frac, bool) or not isinstance(frac, numbers.Real) or not 0 < frac <= 1:
        raise ValueError(f"frac must be in (0, 1], got {frac!r}")
    r = min(max(int(frac * n + 1e-10), 2), n)
    # window of the r nearest neighbours of each point: [lo, lo + r)
    lo = np.zeros(n, dtype=np.int64)
    left = 0
    for i in range(n):
        while left + r < n and x[i] - x[left] > x[left + r] - x[i]:
            left += 1
        lo[i] = left
    chunk = max(1, 2_000_000 // r)                 # rows per block: bounded memory

    def local_fit(rows, robust):
        idx = lo[rows, None] + np.arange(r)[None, :]
        xs, ys = x[idx], y[idx]
        d = np.abs(xs - x[rows, None])
        h = d.max(axis=1)
        u = d / np.where(h > 0, h, 1.0)[:, None]
        w = (1.0 - np.minimum(u, 1.0) ** 3) ** 3 * robust[idx]
        ok = (w > 1e-12).sum(axis=1) >= 2          # a line needs two points with weight
        w = w / np.where(ok, w.sum(axis=1), 1.0)[:, None]
        xm = (w * xs).sum(axis=1)
        ym = (w * ys).sum(axis=1)
        sxx = np.maximum((w * (xs - xm[:, None]) ** 2).sum(axis=1), 1e-12)
        sxy = (w * (xs - xm[:, None]) * (ys - ym[:, None])).sum(axis=1)
        return np.where(ok, ym + sxy / sxx * (x[rows] - xm), y[rows])

    robust = np.ones(n)
    fit = np.empty(n)
    for it in range(iterations + 1):
        for a in range(0, n, chunk):
            rows = np.arange(a, min(a + chunk, n))
            fit[rows] = local_fit(rows, robust)
        if it == iterations:
            break
        e = np.abs(y - fit)
        med = np.median(e)
        # bisquare of e / (6 median); if the median residual is 0, exact points keep weight 1
        v = np.minimum(e / (6.0 * med), 1.0) if med > 0 else (e > 0).astype(float)
        robust = (1.0 - v * v) ** 2
    return fit


def detrend(series, method="gaussian", *, bandwidth=0.2, span=0.2, iterations=3):
    r"""Trend and residuals ``(trend, series - trend)`` of a 1-D series.

    ``method``: ``"gaussian"`` (kernel smoothing; ``bandwidth`` as fraction of
    the length or points, kernel quartiles at :math:`\pm0.25\,b`, reflected
    edges), ``"lowess"`` (:func:`lowess` with ``span`` as fraction or points
    and ``iterations`` robustifying passes), ``"linear"`` (least-squares
    line) or ``None`` (trend = mean; residuals are centred).
    """
    x = _series(series)
    n = len(x)
    if method == "gaussian":
        bw = _points(bandwidth, n, "bandwidth", 1.0)
        from scipy.ndimage import gaussian_filter1d
        trend = gaussian_filter1d(x, sigma=0.25 * bw / _QUARTILE, mode="reflect")
    elif method == "lowess":
        pts = _points(span, n, "span", 2.0)
        trend = lowess(np.arange(n, dtype=float), x, pts / n, iterations=iterations)
    elif method == "linear":
        t = np.arange(n, dtype=float)
        trend = np.polyval(np.polyfit(t, x, 1), t)
    elif method is None:
        trend = np.full(n, x.mean())
    else:
        raise ValueError(f"method must be 'gaussian', 'lowess', 'linear' or None, got {method!r}")
    return trend, x - trend


# --------------------------------------------------------------------------
# rolling indicators
# --------------------------------------------------------------------------
def _rolling_sum(c, w):
    """Sums over windows of w consecutive terms, from the cumulative sum c (with leading 0)."""
    return c[..., w:] - c[..., :-w]


def _check_indicators(indicators):
    if isinstance(indicators, str):
        indicators = (indicators,)
    indicators = tuple(indicators)
    bad = [i for i in indicators if i not in INDICATORS]
    if bad or not indicators:
        raise ValueError(f"indicators must be a non-empty selection of {list(INDICATORS)}, "
                         f"got {list(indicators)}")
    return indicators


def _moments(r, w, indicators, dt):
    """Rolling indicators of the residual array(s) r (shape (..., n)), right-aligned, NaN-padded."""
    n = r.shape[-1]
    out = {}
    shift = r.mean(axis=-1, keepdims=True)
    z = r - shift                                     # centre globally: better cumulative sums
    pad = np.zeros(z.shape[:-1] + (1,))

    def csum(a):
        return np.concatenate([pad, np.cumsum(a, axis=-1)], axis=-1)

    S1 = _rolling_sum(csum(z), w)
    S2 = _rolling_sum(csum(z * z), w)
    m = S1 / w
    m2 = np.maximum(S2 / w - m * m, 0.0)
    nanpad = np.full(z.shape[:-1] + (w - 1,), np.nan)

    def full(a):
        return np.concatenate([nanpad, a], axis=-1)

    if "variance" in indicators:
        out["variance"] = full(m2 * w / (w - 1))
    if "skewness" in indicators or "kurtosis" in indicators:
        S3 = _rolling_sum(csum(z ** 3), w)
        m3 = S3 / w - 3 * m * S2 / w + 2 * m ** 3
        with np.errstate(divide="ignore", invalid="ignore"):
            if "skewness" in indicators:
                g1 = m3 / m2 ** 1.5
                out["skewness"] = full(np.sqrt(w * (w - 1.0)) / (w - 2) * g1)
            if "kurtosis" in indicators:
                S4 = _rolling_sum(csum(z ** 4), w)
                m4 = S4 / w - 4 * m * S3 / w + 6 * m * m * S2 / w - 3 * m ** 4
                g2 = m4 / (m2 * m2) - 3.0
                out["kurtosis"] = full(((w + 1) * g2 + 6) * (w - 1) / ((w - 2) * (w - 3.0)))
    if "ac1" in indicators or "return_rate" in indicators:
        first, last = z[..., :n - w + 1], z[..., w - 1:]
        Su, Sv = S1 - last, S1 - first
        Suu, Svv = S2 - last ** 2, S2 - first ** 2
        Suv = _rolling_sum(csum(z[..., :-1] * z[..., 1:]), w - 1)
        k = w - 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            cov = Suv - Su * Sv / k
            den = np.sqrt(np.maximum(Suu - Su * Su / k, 0) * np.maximum(Svv - Sv * Sv / k, 0))
            ac = np.clip(cov / den, -1.0, 1.0)
        ac = full(ac)
        if "ac1" in indicators:
            out["ac1"] = ac
        if "return_rate" in indicators:
            with np.errstate(divide="ignore", invalid="ignore"):
                out["return_rate"] = np.where(ac > 0, -np.log(np.where(ac > 0, ac, 1.0)) / dt,
                                              np.nan)
    return out


def _reddening(r, w, step, low_frequency):
    """Low-frequency power fraction of windows ending at w-1, w-1+step, ... (NaN elsewhere)."""
    from numpy.lib.stride_tricks import sliding_window_view
    n = r.shape[-1]
    out = np.full(r.shape, np.nan)
    ends = np.arange(w - 1, n, step)
    n_freq = w // 2
    k_low = max(1, int(low_frequency * n_freq))
    lead = int(np.prod(r.shape[:-1]))
    chunk = max(1, 4_000_000 // (w * lead))
    view = sliding_window_view(r, w, axis=-1)[..., ::step, :]
    for a in range(0, len(ends), chunk):
        seg = view[..., a:a + chunk, :]
        seg = seg - seg.mean(axis=-1, keepdims=True)
        power = np.abs(np.fft.rfft(seg, axis=-1)[..., 1:n_freq + 1]) ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            out[..., ends[a:a + chunk]] = power[..., :k_low].sum(axis=-1) / power.sum(axis=-1)
    return out


def rolling_indicators(residuals, window=0.5, *, indicators=tuple(INDICATORS), dt=1.0,
                       low_frequency=0.1, spectrum_step=None):
    r"""Rolling-window early-warning indicators of a (detrended) series.

    Returns a dict name -> array of the series' length, right-aligned (the
    value at index :math:`t` uses points :math:`t-w+1..t`; NaN before), for
    the requested ``indicators`` (see the module docstring for the
    estimators). ``window`` is a fraction of the length or a number of points
    (at least 4); ``dt`` is the sampling interval (for the return rate);
    ``spectrum_step`` (default: about 100 evaluations) thins the reddening.
    """
    r = _series(residuals, "residuals")
    indicators = _check_indicators(indicators)
    n = len(r)
    w = int(_points(window, n, "window", 4))
    if w < 4:
        raise ValueError(f"window = {window!r} gives {w} points; need at least 4")
    dt = _positive(dt, "dt")
    low_frequency = _fraction(low_frequency, "low_frequency")
    step = _spectrum_step(spectrum_step, n, w)
    return _indicators(r, w, indicators, dt, low_frequency, step)


def _indicators(r, w, indicators, dt, low_frequency, step):
    out = _moments(r, w, indicators, dt)
    if "reddening" in indicators:
        out["reddening"] = _reddening(r, w, step, low_frequency)
    return {k: out[k] for k in indicators}


def _positive(v, name):
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not (v > 0) \
            or not math.isfinite(v):
        raise ValueError(f"{name} must be a positive number, got {v!r}")
    return float(v)


def _fraction(v, name):
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not 0 < v <= 1:
        raise ValueError(f"{name} must be in (0, 1], got {v!r}")
    return float(v)


def _spectrum_step(step, n, w):
    if step is None:
        return max(1, (n - w + 1) // 100)
    return _check_int(step, "spectrum_step", 1)


# --------------------------------------------------------------------------
# trend statistics and surrogates
# --------------------------------------------------------------------------
def kendall_tau(values, time=None) -> float:
    r"""Kendall's :math:`\tau_b` of the finite entries of ``values`` against ``time``
    (default: the index); NaN if fewer than 3 finite entries."""
    from scipy.stats import kendalltau
    v = np.asarray(values, dtype=float)
    t = np.arange(len(v), dtype=float) if time is None else np.asarray(time, dtype=float)
    if v.shape != t.shape or v.ndim != 1:
        raise ValueError(f"values and time must be 1-D of equal length, got {v.shape} and "
                         f"{t.shape}")
    ok = np.isfinite(v)
    if ok.sum() < 3:
        return math.nan
    return float(kendalltau(t[ok], v[ok]).statistic)


def _rank_tau(v):
    """tau_b against the index for rows of v (..., m) that may hold NaN (loop over rows)."""
    v = np.atleast_2d(v)
    out = np.empty(v.shape[0])
    for i, row in enumerate(v):
        out[i] = kendall_tau(row)
    return out


def surrogates(series, n, kind="phase", *, rng=None):
    r"""``n`` surrogate series of the same length as ``series``, shape ``(n, len)``.

    ``kind="phase"``: Fourier phase randomisation [TE92]_ -- the discrete
    Fourier amplitudes (hence the periodogram, mean and variance) are kept,
    the phases of all non-zero, non-Nyquist frequencies are drawn uniformly;
    a stationary linear Gaussian process with the same autocorrelation.
    ``kind="ar1"``: the AR(1) process
    :math:`x_{t+1} - \mu = \phi (x_t - \mu) + \epsilon_t` fitted to the series
    (:math:`\phi` = lag-1 autocorrelation, innovation variance
    :math:`s^2(1-\phi^2)`), started in its stationary distribution [Da12]_.
    Either way the surrogates carry no trend: the null hypothesis of "no
    approaching transition".
    """
    from .._random import make_generator
    x = _series(series)
    n = _check_int(n, "n", 1)
    gen = make_generator(rng)[0]
    if kind == "phase":
        X = np.fft.rfft(x - x.mean())
        m = len(x)
        phases = gen.uniform(0.0, 2 * np.pi, (n, len(X)))
        phases[:, 0] = 0.0
        if m % 2 == 0:
            phases[:, -1] = 0.0
        return np.fft.irfft(X[None, :] * np.exp(1j * phases), m, axis=1) + x.mean()
    if kind == "ar1":
        from scipy.signal import lfilter
        mu, s2 = x.mean(), x.var()
        z = x - mu
        phi = float(np.dot(z[:-1], z[1:]) / np.dot(z, z)) if s2 > 0 else 0.0
        phi = min(max(phi, -0.999999), 0.999999)
        eps = gen.standard_normal((n, len(x))) * math.sqrt(s2 * (1 - phi * phi))
        eps[:, 0] = gen.standard_normal(n) * math.sqrt(s2)
        return lfilter([1.0], [1.0, -phi], eps, axis=1) + mu
    raise ValueError(f"kind must be 'phase' or 'ar1', got {kind!r}")


# --------------------------------------------------------------------------
# compute object
# --------------------------------------------------------------------------
class EarlyWarning:
    r"""Early-warning indicators of a time series, their Kendall-:math:`\tau` trends and
    surrogate p-values.

    Pipeline [Da12]_: detrend (``detrend``, ``bandwidth`` / ``span``), rolling
    indicators of the residuals in a right-aligned window (``window``),
    Kendall :math:`\tau` of each indicator against time, and, with
    ``n_surrogates > 0``, the same :math:`\tau` for surrogate residual series
    of each kind in ``surrogate`` ("phase", "ar1"). The p-value of an
    indicator is :math:`(1 + \#\{\tau_s \text{ at least as extreme}\})/(1 + N_s)`,
    one-sided in the direction that signals a transition (increase for
    variance, ac1, kurtosis, reddening; decrease for the return rate) and
    two-sided (:math:`|\tau|`) for skewness. Module docstring: estimators,
    window alignment, bandwidth convention.

    Parameters
    ----------
    window : float
        Rolling window, fraction of the length in (0, 1] or points (> 1).
    detrend : "gaussian", "lowess", "linear" or None
    bandwidth, span : float
        Gaussian bandwidth / LOWESS span, fraction or points.
    indicators : sequence of str
        Any of ``INDICATORS`` (default: all).
    dt : float
        Sampling interval (for the return rate; overridden by ``time`` in
        ``compute``).
    n_surrogates : int
        Surrogates per kind (0: no p-values).
    surrogate : str or sequence
        ``"phase"``, ``"ar1"`` or both.
    low_frequency, spectrum_step : see :func:`rolling_indicators`.
    rng : None, int, SeedSequence or Generator
        For the surrogates.

    Attributes (after compute)
    --------------------------
    time, series, trend, residuals : ndarray (n,)
    window_points : int
    indicators : dict name -> ndarray (n,)  (NaN before the first full window)
    kendall_tau : dict name -> float
    p_values : dict kind -> dict name -> float  (empty without surrogates)
    surrogate_tau : dict kind -> dict name -> ndarray (n_surrogates,)

    Examples
    --------
    >>> ew = EarlyWarning(window=0.5, n_surrogates=99, rng=1).compute(x)   # doctest: +SKIP
    >>> ew.kendall_tau["variance"], ew.p_values["phase"]["variance"]      # doctest: +SKIP
    >>> fig = ew.plot()                                                   # doctest: +SKIP
    """

    def __init__(self, window=0.5, *, detrend="gaussian", bandwidth=0.2, span=0.2,
                 indicators=tuple(INDICATORS), dt=1.0, n_surrogates=0,
                 surrogate=("phase", "ar1"), low_frequency=0.1, spectrum_step=None, rng=None):
        if detrend not in ("gaussian", "lowess", "linear", None):
            raise ValueError(f"detrend must be 'gaussian', 'lowess', 'linear' or None, got "
                             f"{detrend!r}")
        for name, v in (("window", window), ("bandwidth", bandwidth), ("span", span)):
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real) \
                    or not math.isfinite(v) or v <= 0:
                raise ValueError(f"{name} must be a fraction in (0, 1] or a number of points "
                                 f"> 1, got {v!r}")
        self._window, self._detrend = window, detrend
        self._bandwidth, self._span = bandwidth, span
        self._indicators = _check_indicators(indicators)
        self._dt = _positive(dt, "dt")
        self._n_sur = _check_int(n_surrogates, "n_surrogates", 0)
        kinds = (surrogate,) if isinstance(surrogate, str) else tuple(surrogate)
        if not kinds or any(k not in ("phase", "ar1") for k in kinds):
            raise ValueError(f"surrogate must be 'phase', 'ar1' or both, got {surrogate!r}")
        self._kinds = kinds
        self._low = _fraction(low_frequency, "low_frequency")
        if spectrum_step is not None:
            _check_int(spectrum_step, "spectrum_step", 1)
        self._step = spectrum_step
        self._rng = rng
        self._computed = False

    def compute(self, data, name=None, *, time=None) -> "EarlyWarning":
        """Indicators of ``data`` (1-D array, or Results/mapping with series ``name``).

        ``time`` (equally spaced) defaults to the series ``"t"`` of a Results that has one
        (reaction-diffusion runs), else to ``dt`` times the index. Returns self."""
        if isinstance(data, Mapping):
            if name is None:
                raise ValueError(f"data is a Results/mapping: give the series name, one of "
                                 f"{sorted(data)}")
            x = data[name]
            if time is None and name != "t" and "t" in data:
                time = data["t"]                    # e.g. reaction-diffusion Results
        else:
            if name is not None:
                raise ValueError("name is only used with Results (or another mapping of series)")
            x = data
        x = _series(x)
        n = len(x)
        dt = self._dt
        if time is None:
            t = np.arange(n) * dt
        else:
            t = np.asarray(time, dtype=float)
            if t.shape != x.shape:
                raise ValueError(f"time must have the series' shape {x.shape}, got {t.shape}")
            if not np.all(np.isfinite(t)):
                raise ValueError("time contains non-finite values")
            d = np.diff(t)
            if not np.all(d > 0) or np.ptp(d) > 1e-6 * abs(d.mean()):
                raise ValueError("time must be strictly increasing and equally spaced")
            dt = float(d.mean())
        w = int(_points(self._window, n, "window", 4))
        if w < 4:
            raise ValueError(f"window = {self._window!r} gives {w} points; need at least 4")
        trend, res = detrend(x, self._detrend, bandwidth=self._bandwidth, span=self._span)
        step = _spectrum_step(self._step, n, w)
        ind = _indicators(res, w, self._indicators, dt, self._low, step)
        tau = {k: kendall_tau(v, t) for k, v in ind.items()}
        p_values, sur_tau = {}, {}
        if self._n_sur:
            from .._random import make_generator
            gen = make_generator(self._rng)[0]
            batch = max(1, 1_000_000 // n)          # surrogates per block: bounded memory
            for kind in self._kinds:
                taus = {k: [] for k in self._indicators}
                for b0 in range(0, self._n_sur, batch):
                    S = surrogates(res, min(batch, self._n_sur - b0), kind, rng=gen)
                    sind = _indicators(S, w, self._indicators, dt, self._low, step)
                    for k in self._indicators:
                        taus[k].append(_rank_tau(sind[k]))
                sur_tau[kind], p_values[kind] = {}, {}
                for k in self._indicators:
                    ts = np.concatenate(taus[k])
                    ts.setflags(write=False)
                    sur_tau[kind][k] = ts
                    sign = INDICATORS[k]
                    if sign == 0:
                        hits = np.sum(np.abs(ts) >= abs(tau[k]))
                    else:
                        hits = np.sum(sign * ts >= sign * tau[k])
                    p_values[kind][k] = float((1 + hits) / (1 + self._n_sur)) \
                        if math.isfinite(tau[k]) else math.nan
        for a in (t, x, trend, res, *ind.values()):
            a.setflags(write=False)
        self._t, self._x, self._trend, self._res = t, x, trend, res
        self._w, self._ind, self._tau = w, ind, tau
        self._p, self._sur_tau = p_values, sur_tau
        self._computed = True
        return self

    def _need(self):
        if not self._computed:
            raise ValueError("call compute(data) first")

    @property
    def time(self):
        """Time of every sample (window values are labelled by their last sample)."""
        self._need()
        return self._t

    @property
    def series(self):
        """The input series."""
        self._need()
        return self._x

    @property
    def trend(self):
        """The trend removed by the detrending."""
        self._need()
        return self._trend

    @property
    def residuals(self):
        """series - trend, the input to the indicators."""
        self._need()
        return self._res

    @property
    def window_points(self) -> int:
        """Rolling-window length in points."""
        self._need()
        return self._w

    @property
    def indicators(self) -> dict:
        """dict name -> indicator series (NaN before the first full window)."""
        self._need()
        return dict(self._ind)

    @property
    def kendall_tau(self) -> dict:
        """dict name -> Kendall tau_b of the indicator against time."""
        self._need()
        return dict(self._tau)

    @property
    def p_values(self) -> dict:
        """dict surrogate kind -> dict name -> p-value (empty without surrogates)."""
        self._need()
        return {k: dict(v) for k, v in self._p.items()}

    @property
    def surrogate_tau(self) -> dict:
        """dict surrogate kind -> dict name -> Kendall tau of every surrogate."""
        self._need()
        return {k: dict(v) for k, v in self._sur_tau.items()}

    def summary(self) -> str:
        """A small table: Kendall tau and p-values of every indicator."""
        self._need()
        kinds = list(self._p)
        lines = [f"{'indicator':>12} {'tau':>8}" + "".join(f" {'p_' + k:>8}" for k in kinds)]
        for k, v in self._tau.items():
            lines.append(f"{k:>12} {v:8.3f}" + "".join(f" {self._p[q][k]:8.3g}" for q in kinds))
        return "\n".join(lines)

    def plot(self, *, xlabel="time", title=None):
        """Panel: series with trend (window marked), then one axis per indicator with its
        Kendall tau (and p-values) in the legend. Returns a matplotlib Figure (not shown)."""
        self._need()
        from matplotlib.figure import Figure
        names = list(self._ind)
        fig = Figure(figsize=(6.4, 1.7 * (len(names) + 1) + 0.4))
        axes = fig.subplots(len(names) + 1, 1, sharex=True, squeeze=False)[:, 0]
        ax = axes[0]
        ax.plot(self._t, self._x, lw=0.6, color="0.45", label="series")
        if self._detrend is not None:
            ax.plot(self._t, self._trend, lw=1.4, color="C3", label=f"trend ({self._detrend})")
        t0 = self._t[0]
        ax.axvspan(t0, self._t[self._w - 1], color="C0", alpha=0.12, label="window")
        ax.legend(frameon=False, fontsize="x-small", loc="best")
        if title:
            ax.set_title(title, fontsize="medium")
        for ax, k in zip(axes[1:], names):
            v = self._ind[k]
            ok = np.isfinite(v)
            lab = f"tau = {self._tau[k]:.2f}"
            for kind, p in self._p.items():
                lab += f", p({kind}) = {p[k]:.2g}"
            ax.plot(self._t[ok], v[ok], lw=1.2, marker="." if k == "reddening" else None,
                    ms=3, color="C0", label=lab)
            ax.set_ylabel(k.replace("_", " "))
            ax.legend(frameon=False, fontsize="small", loc="best")
        axes[-1].set_xlabel(xlabel)
        fig.tight_layout()
        return fig

    def __repr__(self):
        if not self._computed:
            return f"<EarlyWarning window={self._window!r} (not computed)>"
        taus = ", ".join(f"{k}={v:.2f}" for k, v in self._tau.items())
        return f"<EarlyWarning n={len(self._x)} window={self._w} tau: {taus}>"
