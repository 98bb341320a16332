r"""Statistical errors of correlated Monte Carlo time series.

Markov-chain Monte Carlo produces *correlated* samples, so the textbook
standard error :math:`\sigma/\sqrt{n}` underestimates the true uncertainty.
This module provides the standard tools to do it right:

* :func:`autocorrelation` -- normalized autocorrelation function
  :math:`\rho(t)` (FFT based).
* :func:`tau_int` -- integrated autocorrelation time with the automatic
  (Madras-Sokal) window and its statistical error; :func:`tau_int_analysis`
  also returns the window and :math:`\rho(t)` (for plots).
* :func:`error_of_mean` -- standard error of the mean of a correlated series,
  :math:`\sqrt{2\tau_\mathrm{int}\,s^2/n}`.
* :func:`binning_analysis`, :func:`binning_error`, :func:`binning_plateau` --
  Flyvbjerg-Petersen blocking (repeated pairwise averaging) with an automatic
  plateau choice.
* :func:`blocks` -- block means of a series.
* :func:`jackknife`, :func:`bootstrap` -- errors of arbitrary (non-linear)
  functions of one or several series measured together, via blocked
  delete-one jackknife and circular block bootstrap.
* :func:`default_block_size` -- a block length safely longer than the
  autocorrelation time of the given series.

Conventions used throughout
---------------------------
* **Time axis.** Axis 0 is always the Monte Carlo time (sample index). A 2-D
  array of shape ``(n, k)`` holds ``k`` observables (columns) measured at
  ``n`` times; column-wise functions return arrays of shape ``(k,)``.
* **Units of time.** Autocorrelation times are in units of the *sampling
  interval*, i.e. of consecutive entries of the series (not of Monte Carlo
  sweeps, unless one sample was stored per sweep).
* **Autocorrelation time.** :math:`\tau_\mathrm{int} = \tfrac12 +
  \sum_{t\ge1}\rho(t)`, so that uncorrelated data have
  :math:`\tau_\mathrm{int}=1/2` and
  :math:`\operatorname{Var}(\bar x) \simeq 2\tau_\mathrm{int}\sigma^2/n`.
* **Remainders.** Whenever a series is cut into blocks of equal length and
  ``n`` is not a multiple of the block length, the surplus samples are
  dropped at the **start** of the series (the oldest, least equilibrated
  samples), never at the end.
* **Constant series.** A series with zero variance is perfectly legitimate
  (e.g. a frozen order parameter): it has :math:`\tau_\mathrm{int}=1/2`,
  error 0 and produces no warning.

References
----------
.. [MS88] N. Madras and A. D. Sokal, J. Stat. Phys. 50, 109 (1988).
.. [So97] A. D. Sokal, "Monte Carlo methods in statistical mechanics:
   foundations and new algorithms", Cargese lectures (1996/1997).
.. [FP89] H. Flyvbjerg and H. G. Petersen, J. Chem. Phys. 91, 461 (1989).
.. [Le11] R. M. Lee, G. J. Conduit, N. Nemec, P. Lopez Rios and
   N. D. Drummond, Phys. Rev. E 83, 066706 (2011) (optimal reblocking
   criterion).
.. [Ku89] H. R. Kuensch, Ann. Stat. 17, 1217 (1989) (block jackknife and
   bootstrap).
.. [PR92] D. N. Politis and J. P. Romano, "A circular block-resampling
   procedure for stationary data" (1992).
.. [FM+13] D. Foreman-Mackey et al., PASP 125, 306 (2013) (emcee; the
   ``n >= 50 tau`` reliability rule).
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any, Callable, NamedTuple

import numpy as np

__all__ = [
    "AutocorrelationError",
    "AutocorrelationWarning",
    "MIN_LENGTH_FACTOR",
    "autocorrelation",
    "tau_int",
    "tau_int_analysis",
    "TauIntResult",
    "error_of_mean",
    "binning_analysis",
    "binning_error",
    "binning_plateau",
    "BinningResult",
    "blocks",
    "jackknife",
    "bootstrap",
    "default_block_size",
]

#: A series is considered long enough to estimate :math:`\tau_\mathrm{int}`
#: only if ``n >= MIN_LENGTH_FACTOR * tau_int`` (the rule used by emcee).
MIN_LENGTH_FACTOR = 50.0

#: Block length used by :func:`default_block_size`, in units of
#: :math:`\tau_\mathrm{int}`.
_BLOCK_TAU_FACTOR = 10.0

#: Minimum number of samples accepted by the autocorrelation routines.
_MIN_SAMPLES = 4


class AutocorrelationError(ValueError):
    """The series is too short to estimate its autocorrelation time reliably.

    Raised by :func:`tau_int` (unless ``quiet=True``). Subclasses
    :class:`ValueError`, so ``except ValueError`` also catches it.
    """


class AutocorrelationWarning(UserWarning):
    """Issued instead of :class:`AutocorrelationError` in quiet mode.

    The returned value is then only the best estimate available from a series
    that is too short; treat it (and any error bar built on it) as a lower
    bound.
    """


# --------------------------------------------------------------------------
# input helpers
# --------------------------------------------------------------------------
def _as_samples(x: Any, name: str = "x") -> tuple[np.ndarray, bool]:
    """Validate a 1-D or 2-D sample array; return it as 2-D float + 1-D flag."""
    arr = np.asarray(x)
    if np.iscomplexobj(arr):
        raise ValueError(f"{name} must be real-valued, got a complex array")
    try:
        arr = arr.astype(float, copy=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array-like") from exc
    if arr.ndim not in (1, 2):
        raise ValueError(
            f"{name} must be 1-D (n,) or 2-D (n, k) with time along axis 0, "
            f"got an array with shape {arr.shape}"
        )
    if arr.shape[0] < _MIN_SAMPLES:
        raise ValueError(
            f"{name} must contain at least {_MIN_SAMPLES} samples along axis 0, "
            f"got {arr.shape[0]}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains non-finite values (nan or inf)")
    one_d = arr.ndim == 1
    if one_d:
        arr = arr[:, None]
    return arr, one_d


def _constant_columns(x2: np.ndarray) -> np.ndarray:
    """Boolean mask of columns with exactly zero spread (robust to rounding)."""
    return np.all(x2 == x2[:1], axis=0)


def _check_int(value: Any, name: str, minimum: int) -> int:
    """Validate an integer parameter ``>= minimum`` and return it as int."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def _as_series(series: tuple[Any, ...]) -> tuple[list[np.ndarray], int]:
    """Validate the ``*series`` of jackknife/bootstrap; return arrays and n."""
    if len(series) == 0:
        raise ValueError("series: at least one time series must be given")
    arrays = []
    for i, s in enumerate(series):
        a = np.asarray(s)
        if a.ndim < 1:
            raise ValueError(
                f"series[{i}] must be an array with time along axis 0, got a scalar"
            )
        if np.issubdtype(a.dtype, np.number) and a.size and not np.all(np.isfinite(a)):
            raise ValueError(f"series[{i}] contains non-finite values (nan or inf)")
        arrays.append(a)
    lengths = [a.shape[0] for a in arrays]
    if len(set(lengths)) != 1:
        raise ValueError(
            f"series must all have the same length along axis 0, got lengths {lengths}"
        )
    n = lengths[0]
    if n < 2:
        raise ValueError(f"series must contain at least 2 samples, got {n}")
    return arrays, n


def _squeeze(values: np.ndarray, one_d: bool) -> Any:
    return float(values[0]) if one_d else values


# --------------------------------------------------------------------------
# autocorrelation
# --------------------------------------------------------------------------
def _acf_2d(x2: np.ndarray) -> np.ndarray:
    """Normalized autocorrelation of each column of a validated 2-D array."""
    n = x2.shape[0]
    dx = x2 - x2.mean(axis=0)
    # zero padding to >= 2n - 1 removes the circular wrap-around of the FFT
    nfft = 1 << (2 * n - 1).bit_length()
    f = np.fft.rfft(dx, n=nfft, axis=0)
    acov = np.fft.irfft(f.real**2 + f.imag**2, n=nfft, axis=0)[:n]
    const = _constant_columns(x2)
    c0 = acov[0].copy()
    c0[const] = 1.0
    rho = acov / c0
    rho[:, const] = 0.0
    rho[0, :] = 1.0
    return rho


def autocorrelation(x: Any) -> np.ndarray:
    r"""Normalized autocorrelation function of a time series.

    .. math::

        C(t) = \frac1n \sum_{i=0}^{n-1-t} (x_i - \bar x)(x_{i+t} - \bar x),
        \qquad \rho(t) = \frac{C(t)}{C(0)}, \qquad t = 0, \dots, n-1,

    i.e. the standard (biased, ``1/n``-normalized) estimator, which is
    positive semi-definite and has smaller variance at large ``t`` than the
    ``1/(n-t)`` version. It is evaluated in :math:`O(n\log n)` with an FFT
    zero-padded to at least ``2n - 1`` points, so there is no circular
    wrap-around.

    Parameters
    ----------
    x : array_like, shape (n,) or (n, k)
        Time series (time along axis 0); 2-D input is processed column-wise.
        Needs at least 4 finite samples.

    Returns
    -------
    rho : ndarray, shape (n,) or (n, k)
        :math:`\rho(t)` with ``rho[0] == 1``. For a constant series (zero
        variance) ``rho = [1, 0, 0, ...]``, consistent with
        :math:`\tau_\mathrm{int} = 1/2`.

    Raises
    ------
    ValueError
        If ``x`` is not 1-D/2-D, has fewer than 4 samples or non-finite values.
    """
    x2, one_d = _as_samples(x)
    rho = _acf_2d(x2)
    return rho[:, 0] if one_d else rho


def _tau_columns(x2: np.ndarray, c: float):
    """Windowed tau for each column.

    Returns (tau, window, found) arrays; ``found`` is False where no
    self-consistent window exists (then tau/window are the best-effort values).
    """
    n, k = x2.shape
    rho = _acf_2d(x2)
    # only windows M < n/2 are considered: rho(t) is meaningless for larger t
    # (with the 1/n estimator tau(M) even returns to exactly 0 at M = n - 1)
    m_max = max(1, (n - 1) // 2)
    taus = 0.5 + np.cumsum(rho[1 : m_max + 1], axis=0)  # taus[M-1] = tau(M)
    windows = np.arange(1, m_max + 1)
    ok = windows[:, None] >= c * taus
    found = ok.any(axis=0)
    first = np.argmax(ok, axis=0)
    best = np.argmax(taus, axis=0)  # fallback: largest partial sum
    idx = np.where(found, first, best)
    cols = np.arange(k)
    tau = taus[idx, cols]
    window = windows[idx]
    const = _constant_columns(x2)
    tau[const] = 0.5
    window[const] = 0
    found[const] = True
    return tau, window, found


def tau_int(x: Any, c: float = 5.0, quiet: bool = False, return_error: bool = False):
    r"""Integrated autocorrelation time with automatic windowing.

    Convention (Sokal):

    .. math::

        \tau_\mathrm{int} = \frac12 + \sum_{t=1}^{\infty} \rho(t),
        \qquad \operatorname{Var}(\bar x) \simeq \frac{2\tau_\mathrm{int}\,\sigma^2}{n},

    so independent samples have :math:`\tau_\mathrm{int} = 1/2`. The result is
    in units of the **sampling interval** (one step of the stored series).

    The infinite sum is truncated self-consistently (Madras & Sokal 1988):
    with :math:`\hat\tau(M) = \tfrac12 + \sum_{t=1}^{M}\hat\rho(t)` the
    window is the smallest :math:`M \ge 1` with :math:`M \ge c\,\hat\tau(M)`,
    and :math:`\hat\tau = \hat\tau(M)`. Its statistical error is

    .. math:: \sigma_\tau = \hat\tau \sqrt{2(2M+1)/n}.

    For an AR(1) process :math:`x_t = a x_{t-1} + \eta_t` the exact value is
    :math:`(1+a)/(2(1-a))`.

    **Too-short criterion.** The estimate is considered unreliable, and
    :class:`AutocorrelationError` is raised, if either

    * no window with :math:`M \ge c\,\hat\tau(M)` exists with
      :math:`M < n/2` (beyond that :math:`\hat\rho(t)` is meaningless), or
    * :math:`n < 50\,\hat\tau` (``MIN_LENGTH_FACTOR``; the rule used by emcee).

    With ``quiet=True`` an :class:`AutocorrelationWarning` is issued instead
    and the current best estimate is returned: :math:`\hat\tau(M)` at the
    self-consistent window if there is one, otherwise the largest partial sum
    :math:`\max_{M<n/2} \hat\tau(M)` (with its ``M`` used in
    :math:`\sigma_\tau`).
    Such values are typically underestimates.

    A constant series (zero variance) returns exactly ``0.5`` (error ``0``)
    without any warning.

    Parameters
    ----------
    x : array_like, shape (n,) or (n, k)
        Time series, time along axis 0; 2-D input is processed column-wise.
        At least 4 finite samples.
    c : float, optional
        Window constant, ``c > 0``. ``5`` is adequate for roughly exponential
        decay; use larger values (up to ~10) for slower-than-exponential tails.
    quiet : bool, optional
        Warn instead of raising when the series is too short.
    return_error : bool, optional
        Also return :math:`\sigma_\tau`.

    Returns
    -------
    tau : float or ndarray, shape (k,)
        Integrated autocorrelation time (float for 1-D input).
    sigma_tau : float or ndarray, shape (k,)
        Only if ``return_error``: the Madras-Sokal error estimate.

    Raises
    ------
    ValueError
        Invalid ``x`` (shape, fewer than 4 samples, non-finite values) or
        invalid ``c``.
    AutocorrelationError
        Series too short (see above) and ``quiet`` is False.

    Warns
    -----
    AutocorrelationWarning
        Series too short and ``quiet`` is True.
    """
    x2, one_d = _as_samples(x)
    tau, sigma, _, _ = _tau_core(x2, one_d, c, quiet)
    if return_error:
        return _squeeze(tau, one_d), _squeeze(sigma, one_d)
    return _squeeze(tau, one_d)


def _tau_core(x2: np.ndarray, one_d: bool, c: Any, quiet: bool, stacklevel: int = 3):
    """tau, sigma, window, too_short for a validated 2-D array (see tau_int)."""
    try:
        c = float(c)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"c must be a positive number, got {c!r}") from exc
    if not (math.isfinite(c) and c > 0):
        raise ValueError(f"c must be a positive finite number, got {c!r}")
    n = x2.shape[0]
    tau, window, found = _tau_columns(x2, c)
    too_short = (~found) | (n < MIN_LENGTH_FACTOR * tau)
    if np.any(too_short):
        msgs = []
        for j in np.flatnonzero(too_short):
            where = "" if one_d else f"column {j}: "
            if not found[j]:
                reason = (
                    f"no self-consistent window M >= c*tau(M) (c={c:g}) exists "
                    f"for M < n/2"
                )
            else:
                reason = (
                    f"reliable estimation needs n >= {MIN_LENGTH_FACTOR:g}*tau = "
                    f"{MIN_LENGTH_FACTOR * tau[j]:.0f} samples"
                )
            msgs.append(
                f"{where}series of length n={n} is too short to estimate the "
                f"integrated autocorrelation time: current estimate "
                f"tau_int={tau[j]:.4g}; {reason}"
            )
        msg = "; ".join(msgs)
        if not quiet:
            raise AutocorrelationError(msg)
        warnings.warn(msg, AutocorrelationWarning, stacklevel=stacklevel)
    sigma = np.abs(tau) * np.sqrt(2.0 * (2.0 * window + 1.0) / n)
    sigma[_constant_columns(x2)] = 0.0
    return tau, sigma, window, too_short


class TauIntResult(NamedTuple):
    r"""Everything :func:`tau_int_analysis` measured about one series.

    Attributes
    ----------
    tau : float
        :math:`\hat\tau_\mathrm{int}` in units of the sampling interval.
    error : float
        Madras-Sokal error :math:`\hat\tau\sqrt{2(2M+1)/n}`.
    window : int
        The self-consistent window :math:`M` (0 for a constant series).
    rho : ndarray
        :math:`\hat\rho(t)` for :math:`t = 0 \ldots n-1`.
    reliable : bool
        False if the series is too short (see :func:`tau_int`).
    n : int
        Number of samples.
    """

    tau: float
    error: float
    window: int
    rho: np.ndarray
    reliable: bool
    n: int


def tau_int_analysis(x: Any, c: float = 5.0, quiet: bool = False) -> TauIntResult:
    r""":func:`tau_int` of a 1-D series with its error, window and :math:`\rho(t)`.

    Same estimator, window rule, too-short criterion and errors as
    :func:`tau_int` (:math:`\tau_\mathrm{int} = \tfrac12 + \sum_{t=1}^{M}
    \hat\rho(t)`, smallest :math:`M \ge c\,\hat\tau(M)`,
    :math:`\sigma_\tau = \hat\tau\sqrt{2(2M+1)/n}`); returns everything
    a plot of the autocorrelation function needs
    (:func:`kadanoff.plot.autocorrelation_plot`).

    Parameters
    ----------
    x : array_like, shape (n,)
        One time series, at least 4 finite samples.
    c : float, optional
        Window constant.
    quiet : bool, optional
        Warn (:class:`AutocorrelationWarning`) instead of raising
        :class:`AutocorrelationError` when the series is too short; the
        result then has ``reliable=False``.

    Returns
    -------
    TauIntResult
    """
    x2, one_d = _as_samples(x)
    if not one_d:
        raise ValueError(f"x must be a 1-D series for tau_int_analysis, got shape "
                         f"{np.shape(x)}; use tau_int for several columns")
    tau, sigma, window, too_short = _tau_core(x2, True, c, quiet)
    return TauIntResult(float(tau[0]), float(sigma[0]), int(window[0]), _acf_2d(x2)[:, 0],
                        not bool(too_short[0]), x2.shape[0])


# --------------------------------------------------------------------------
# error of the mean
# --------------------------------------------------------------------------
def error_of_mean(x: Any, quiet: bool = True):
    r"""Standard error of the mean of a correlated time series.

    .. math::

        \epsilon_{\bar x} = \sqrt{\frac{2\,\tau_\mathrm{int}\, s^2}{n}},
        \qquad s^2 = \frac{1}{n-1}\sum_i (x_i - \bar x)^2 ,

    i.e. the sample variance uses ``ddof=1``, so that for uncorrelated data
    (:math:`\tau_\mathrm{int} = 1/2`) this reduces exactly to the usual
    :math:`s/\sqrt n` (``scipy.stats.sem``). :math:`\tau_\mathrm{int}` comes
    from :func:`tau_int` with its default window and ``quiet=quiet``; a
    negative estimate (possible for strongly anti-correlated data) is clipped
    to 0, since the true :math:`\tau_\mathrm{int}` of a stationary process is
    non-negative.

    Parameters
    ----------
    x : array_like, shape (n,) or (n, k)
        Time series, time along axis 0; 2-D input is processed column-wise.
    quiet : bool, optional
        Passed to :func:`tau_int`. Default True: a too-short series gives an
        :class:`AutocorrelationWarning` (and an underestimated error) rather
        than an exception.

    Returns
    -------
    float or ndarray, shape (k,)
        Standard error of the mean; exactly ``0.0`` for a constant series.

    Raises
    ------
    ValueError, AutocorrelationError
        As :func:`tau_int`.
    """
    x2, one_d = _as_samples(x)
    tau = np.atleast_1d(tau_int(x2, quiet=quiet))
    tau = np.clip(tau, 0.0, None)
    n = x2.shape[0]
    var = x2.var(axis=0, ddof=1)
    const = _constant_columns(x2)
    var[const] = 0.0
    err = np.sqrt(2.0 * tau * var / n)
    return _squeeze(err, one_d)


# --------------------------------------------------------------------------
# blocking
# --------------------------------------------------------------------------
def _block_means(x: np.ndarray, block_size: int) -> np.ndarray:
    """Means of consecutive blocks along axis 0, remainder dropped at start."""
    nb = x.shape[0] // block_size
    start = x.shape[0] - nb * block_size
    trimmed = x[start:]
    return trimmed.reshape((nb, block_size) + x.shape[1:]).mean(axis=1)


def blocks(x: Any, n_blocks: int) -> np.ndarray:
    r"""Means of ``n_blocks`` consecutive, equally long blocks.

    The block length is :math:`L = \lfloor n / n_\mathrm{blocks} \rfloor`;
    the ``n - n_blocks * L`` surplus samples are dropped at the **start** of
    the series (the oldest, least equilibrated ones).

    Parameters
    ----------
    x : array_like, shape (n,) or (n, k)
        Time series, time along axis 0.
    n_blocks : int
        Number of blocks, ``1 <= n_blocks <= n``.

    Returns
    -------
    ndarray, shape (n_blocks,) or (n_blocks, k)
        Block means, in time order.

    Raises
    ------
    ValueError
        If ``x`` is not a 1-D/2-D finite array or ``n_blocks`` is not an
        integer in ``[1, n]``.
    """
    arr = np.asarray(x)
    if np.iscomplexobj(arr):
        raise ValueError("x must be real-valued, got a complex array")
    arr = arr.astype(float, copy=False)
    if arr.ndim not in (1, 2) or arr.shape[0] < 1:
        raise ValueError(
            f"x must be a non-empty 1-D or 2-D array with time along axis 0, "
            f"got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError("x contains non-finite values (nan or inf)")
    n = arr.shape[0]
    n_blocks = _check_int(n_blocks, "n_blocks", 1)
    if n_blocks > n:
        raise ValueError(f"n_blocks must be <= the number of samples n={n}, got {n_blocks}")
    return _block_means(arr, n // n_blocks)


def binning_analysis(x: Any):
    r"""Flyvbjerg-Petersen blocking (binning) analysis.

    Starting from the data (level 0, block size 1) the series is repeatedly
    replaced by the means of neighbouring pairs, :math:`x'_i = (x_{2i} +
    x_{2i+1})/2`; when the current length is odd, its **first** element is
    dropped. At each level with :math:`n_b \ge 2` blocks of size
    :math:`m = 2^\ell` the naive error of the mean of the blocks and its
    uncertainty are

    .. math::

        \epsilon(m) = \sqrt{\frac{1}{n_b (n_b - 1)} \sum_{i}
        (x^{(m)}_i - \bar x^{(m)})^2}, \qquad
        \delta\epsilon(m) = \frac{\epsilon(m)}{\sqrt{2(n_b - 1)}}.

    :math:`\epsilon(m)` increases with :math:`m` (for positively correlated
    data) and reaches a plateau at the true error of the mean once
    :math:`m \gg \tau_\mathrm{int}`; at level 0 it is :math:`s/\sqrt n`.

    Parameters
    ----------
    x : array_like, shape (n,) or (n, k)
        Time series (time along axis 0), at least 4 finite samples.

    Returns
    -------
    block_sizes : ndarray of int, shape (L,)
        ``1, 2, 4, ...`` up to the largest size leaving at least 2 blocks.
    errors : ndarray, shape (L,) or (L, k)
        :math:`\epsilon(m)` for each block size.
    error_of_errors : ndarray, shape (L,) or (L, k)
        :math:`\delta\epsilon(m)`.
    """
    x2, one_d = _as_samples(x)
    const = _constant_columns(x2)
    sizes, errs, derrs = [], [], []
    data = x2
    m = 1
    while data.shape[0] >= 2:
        nb = data.shape[0]
        var = data.var(axis=0, ddof=1)
        var[const] = 0.0
        e = np.sqrt(var / nb)
        sizes.append(m)
        errs.append(e)
        derrs.append(e / np.sqrt(2.0 * (nb - 1)))
        if nb % 2:
            data = data[1:]
        data = 0.5 * (data[0::2] + data[1::2])
        m *= 2
    errors = np.array(errs)
    error_of_errors = np.array(derrs)
    if one_d:
        errors, error_of_errors = errors[:, 0], error_of_errors[:, 0]
    return np.array(sizes, dtype=np.int64), errors, error_of_errors


def binning_error(x: Any, min_blocks: int = 32):
    r"""Error of the mean from the plateau of a binning analysis.

    **Plateau rule.** Among the levels of :func:`binning_analysis` that keep
    at least ``min_blocks`` blocks, choose the smallest block size :math:`m`
    satisfying the criterion of Lee et al. (2011)

    .. math:: m^3 > 2\, n \left(\epsilon(m) / \epsilon(1)\right)^4 ,

    and return :math:`\epsilon(m)`. Since :math:`(\epsilon(m)/\epsilon(1))^2
    \to 2\tau_\mathrm{int}`, this picks :math:`m \propto (n\tau^2)^{1/3}`,
    the block size balancing the systematic :math:`O(\tau/m)` underestimate
    of small blocks against the :math:`O(\sqrt{m/n})` statistical noise of
    large ones; it is robust because it never relies on comparing noisy
    large-block values with each other. If no admissible level satisfies the
    criterion (series too short for a plateau), an
    :class:`AutocorrelationWarning` is issued and the error at the largest
    block size keeping ``min_blocks`` blocks is returned (likely an
    underestimate).

    Parameters
    ----------
    x : array_like, shape (n,) or (n, k)
        Time series (time along axis 0); 2-D input is processed column-wise,
        each column with its own plateau.
    min_blocks : int, optional
        Minimum number of blocks for a level to be admissible
        (``>= 2``, and ``n >= min_blocks``). With 32 blocks the error estimate
        itself is uncertain by about 13 %.

    Returns
    -------
    float or ndarray, shape (k,)
        Error of the mean; exactly ``0.0`` for a constant series.

    Raises
    ------
    ValueError
        Invalid ``x`` or ``min_blocks``.

    Warns
    -----
    AutocorrelationWarning
        If no plateau is reached.
    """
    x2, one_d = _as_samples(x)
    out = _plateau(x2, one_d, min_blocks, stacklevel=3)[0]
    return _squeeze(out, one_d)


def _plateau(x2, one_d, min_blocks, stacklevel):
    """Plateau errors, chosen level index, sizes, errors, error_of_errors."""
    min_blocks = _check_int(min_blocks, "min_blocks", 2)
    n = x2.shape[0]
    if n < min_blocks:
        raise ValueError(
            f"min_blocks={min_blocks} exceeds the number of samples n={n}"
        )
    sizes, errs, derrs = binning_analysis(x2)
    # exact block counts of the repeated pairwise reduction
    counts = [n]
    for _ in range(1, len(sizes)):
        counts.append(counts[-1] // 2)
    nbs = np.array(counts)
    admissible = nbs >= min_blocks
    const = _constant_columns(x2)
    out = np.zeros(x2.shape[1])
    level = np.zeros(x2.shape[1], dtype=int)
    bad = []
    for j in range(x2.shape[1]):
        if const[j]:
            continue
        e = errs[:, j]
        ratio4 = (e / e[0]) ** 4
        crit = admissible & (sizes.astype(float) ** 3 > 2.0 * n * ratio4)
        if crit.any():
            level[j] = np.argmax(crit)
        else:
            level[j] = np.flatnonzero(admissible)[-1]
            bad.append(j)
        out[j] = e[level[j]]
    if bad:
        where = "" if one_d else f" (columns {bad})"
        warnings.warn(
            f"binning analysis did not reach a plateau{where}: series of length "
            f"n={n} is too short for min_blocks={min_blocks}; returning the error "
            f"at the largest admissible block size, likely an underestimate",
            AutocorrelationWarning,
            stacklevel=stacklevel,
        )
    return out, level, sizes, errs, derrs, bad


class BinningResult(NamedTuple):
    r"""A binning analysis with its plateau (see :func:`binning_plateau`).

    Attributes
    ----------
    block_sizes : ndarray of int
        :math:`m = 1, 2, 4, \ldots`
    errors, error_of_errors : ndarray
        :math:`\epsilon(m)` and :math:`\delta\epsilon(m)`.
    plateau_block_size : int
        The block size chosen by the plateau rule of :func:`binning_error`
        (0 for a constant series).
    error : float
        :math:`\epsilon` at the plateau: the error of the mean.
    tau : float
        :math:`\tau_\mathrm{int} = \tfrac12 (\epsilon/\epsilon(1))^2`,
        the autocorrelation time implied by the plateau (0.5 for a constant
        series).
    plateau_reached : bool
        False if the criterion was met at no admissible level.
    """

    block_sizes: np.ndarray
    errors: np.ndarray
    error_of_errors: np.ndarray
    plateau_block_size: int
    error: float
    tau: float
    plateau_reached: bool


def binning_plateau(x: Any, min_blocks: int = 32) -> BinningResult:
    r"""Binning analysis of one series plus the plateau chosen by :func:`binning_error`.

    Combines :func:`binning_analysis` (:math:`\epsilon(m)` for
    :math:`m = 2^\ell`) and the plateau rule of :func:`binning_error`
    (smallest admissible :math:`m` with :math:`m^3 > 2n(\epsilon(m)/
    \epsilon(1))^4`), and reports the implied
    :math:`\tau_\mathrm{int} = \tfrac12(\epsilon/\epsilon(1))^2` (from
    :math:`\epsilon^2 \simeq 2\tau\,\sigma^2/n`). Used by
    :func:`kadanoff.plot.binning_plot`.

    Parameters
    ----------
    x : array_like, shape (n,)
        One time series.
    min_blocks : int, optional
        As in :func:`binning_error`.

    Returns
    -------
    BinningResult

    Warns
    -----
    AutocorrelationWarning
        If no plateau is reached.
    """
    x2, one_d = _as_samples(x)
    if not one_d:
        raise ValueError(f"x must be a 1-D series for binning_plateau, got shape {np.shape(x)}")
    out, level, sizes, errs, derrs, bad = _plateau(x2, True, min_blocks, stacklevel=3)
    e, d = errs[:, 0], derrs[:, 0]
    const = bool(_constant_columns(x2)[0])
    tau = 0.5 if const else 0.5 * float((out[0] / e[0]) ** 2)
    return BinningResult(sizes, e, d, 0 if const else int(sizes[level[0]]), float(out[0]),
                         tau, not bad)


# --------------------------------------------------------------------------
# resampling
# --------------------------------------------------------------------------
def default_block_size(*series: Any) -> int:
    r"""A block length safely longer than the autocorrelation time.

    .. math:: L = \max\left(1, \lceil 10 \max_j \tau_{\mathrm{int},j} \rceil\right),

    where the maximum runs over all series (and over all trailing components
    of multi-dimensional series), each estimated with
    ``tau_int(..., quiet=True)``. Blocked jackknife / bootstrap variances are
    biased low by roughly :math:`\tau/L` relative, i.e. about 10 % in the
    variance (5 % in the error) for this choice. The result is capped at
    ``n // 2`` so that at least two blocks exist; if the cap is active the
    series is far too short and :func:`tau_int` has already warned.

    Parameters
    ----------
    *series : array_like
        Equally long time series (time along axis 0), at least 4 samples.

    Returns
    -------
    int

    Warns
    -----
    AutocorrelationWarning
        If a series is too short for a reliable :math:`\tau_\mathrm{int}`.
    """
    arrays, n = _as_series(series)
    tmax = 0.5
    for a in arrays:
        a2 = np.asarray(a, dtype=float).reshape(n, -1)
        if a2.shape[1] == 0:
            continue
        t = np.atleast_1d(tau_int(a2, quiet=True))
        tmax = max(tmax, float(np.max(t)))
    size = max(1, math.ceil(_BLOCK_TAU_FACTOR * tmax))
    return int(min(size, max(1, n // 2)))


def _resolve_blocking(n: int, n_blocks: Any, block_size: Any, arrays) -> tuple[int, int]:
    """Return (number of blocks B, block length L) for the jackknife."""
    if block_size is None:
        n_blocks = _check_int(n_blocks, "n_blocks", 2)
        if n_blocks > n:
            raise ValueError(
                f"n_blocks must be <= the number of samples n={n}, got {n_blocks}"
            )
        return n_blocks, n // n_blocks
    if isinstance(block_size, str):
        if block_size != "auto":
            raise ValueError(
                f"block_size must be None, 'auto' or a positive integer, got {block_size!r}"
            )
        block_size = default_block_size(*arrays)
    block_size = _check_int(block_size, "block_size", 1)
    if n // block_size < 2:
        raise ValueError(
            f"block_size={block_size} leaves fewer than 2 blocks for n={n} samples"
        )
    return n // block_size, block_size


def jackknife(
    f: Callable[..., Any],
    *series: Any,
    n_blocks: int = 64,
    block_size: int | str | None = None,
):
    r"""Blocked delete-one jackknife estimate and error of ``f(*series)``.

    The time axis (axis 0, shared by all series, which are measurements taken
    together) is cut into :math:`B` contiguous blocks of equal length
    :math:`L`: ``B = n_blocks`` and ``L = n // n_blocks`` by default, or
    ``L = block_size`` and ``B = n // block_size`` if ``block_size`` is given
    (``"auto"`` uses :func:`default_block_size`). The ``n - B L`` surplus
    samples are dropped at the **start**, and all quantities below refer to
    the remaining ``B L`` samples. With :math:`f_\mathrm{all} = f(\text{all
    data})` and :math:`f_k = f(\text{data with block } k \text{ removed})`
    (``f`` receives the *raw samples* of every series, concatenated in time
    order around the gap, not block means),

    .. math::

        \bar f = \frac1B \sum_k f_k, \qquad
        \hat f = B f_\mathrm{all} - (B - 1)\bar f, \qquad
        \epsilon = \sqrt{\frac{B-1}{B} \sum_{k=1}^{B} (f_k - \bar f)^2 }.

    :math:`\hat f` removes the :math:`O(1/n)` bias of non-linear ``f``. With
    ``B = n`` (``L = 1``) this is the ordinary jackknife, e.g. for
    ``f = np.mean`` the error is exactly :math:`s/\sqrt n`. Blocks must be
    much longer than :math:`\tau_\mathrm{int}` for the error to be valid.

    ``f`` may be any function (e.g. ``lambda e: np.var(e)`` or
    ``lambda m, m2: m2.mean() - m.mean()**2``) returning a scalar or an array
    of fixed shape; it is called ``B + 1`` times.

    Parameters
    ----------
    f : callable
        ``f(*samples) -> float or ndarray``.
    *series : array_like
        One or more time series of equal length ``n`` along axis 0 (1-D, or
        n-D with time on axis 0).
    n_blocks : int, optional
        Number of blocks ``B``, ``2 <= n_blocks <= n``. Ignored if
        ``block_size`` is given.
    block_size : int, "auto" or None, optional
        Block length ``L``; must leave at least 2 blocks.

    Returns
    -------
    estimate : float or ndarray
        Bias-corrected :math:`\hat f`.
    error : float or ndarray
        Jackknife standard error :math:`\epsilon`.

    Raises
    ------
    ValueError
        No series, unequal lengths, invalid ``n_blocks`` or ``block_size``.
    """
    if not callable(f):
        raise ValueError(f"f must be callable, got {f!r}")
    arrays, n = _as_series(series)
    B, L = _resolve_blocking(n, n_blocks, block_size, arrays)
    start = n - B * L
    data = [a[start:] for a in arrays]
    f_all = np.asarray(f(*data), dtype=float)
    fk = np.empty((B,) + f_all.shape)
    for k in range(B):
        lo, hi = k * L, (k + 1) * L
        reduced = [np.concatenate((d[:lo], d[hi:]), axis=0) for d in data]
        val = np.asarray(f(*reduced), dtype=float)
        if val.shape != f_all.shape:
            raise ValueError(
                f"f must return values of a fixed shape, got {val.shape} "
                f"and {f_all.shape}"
            )
        fk[k] = val
    fbar = fk.mean(axis=0)
    estimate = B * f_all - (B - 1) * fbar
    error = np.sqrt((B - 1) / B * np.sum((fk - fbar) ** 2, axis=0))
    if estimate.ndim == 0:
        return float(estimate), float(error)
    return estimate, error


def bootstrap(
    f: Callable[..., Any],
    *series: Any,
    n_boot: int = 1000,
    block_size: int | str | None = None,
    rng: Any = None,
):
    r"""Circular block bootstrap estimate and error of ``f(*series)``.

    Each of the ``n_boot`` replicas is a series of length ``n`` built by
    concatenating :math:`\lceil n/L \rceil` blocks of ``L`` consecutive
    samples whose starting points are drawn uniformly, with replacement, from
    ``0 .. n-1``, wrapping around the end of the series (circular moving-block
    bootstrap, Politis & Romano; wrapping makes every sample equally likely,
    so the resampled mean is unbiased), then cut to length ``n``. The *same*
    time indices are used for all series, preserving their cross
    correlations. ``f`` receives the resampled raw samples.

    .. math::

        \hat f = f(\text{original data}), \qquad
        \epsilon = \sqrt{\frac{1}{N_b - 1}\sum_{r=1}^{N_b}
        (f^*_r - \bar f^*)^2 }.

    Parameters
    ----------
    f : callable
        ``f(*samples) -> float or ndarray``.
    *series : array_like
        One or more equally long time series (time along axis 0).
    n_boot : int, optional
        Number of bootstrap replicas ``N_b >= 2``.
    block_size : int, "auto" or None, optional
        Block length ``L`` (``1 <= L <= n``); ``None`` or ``"auto"`` uses
        :func:`default_block_size` (``ceil(10 * max tau_int)``). ``L = 1`` is
        the ordinary i.i.d. bootstrap.
    rng : None, int, numpy.random.SeedSequence or numpy.random.Generator
        Anything accepted by :func:`numpy.random.default_rng`. The same seed
        gives bit-identical results.

    Returns
    -------
    estimate : float or ndarray
        ``f(*series)`` on the full data (no bias correction).
    error : float or ndarray
        Bootstrap standard error.

    Raises
    ------
    ValueError
        No series, unequal lengths, invalid ``n_boot`` or ``block_size``.
    """
    if not callable(f):
        raise ValueError(f"f must be callable, got {f!r}")
    arrays, n = _as_series(series)
    n_boot = _check_int(n_boot, "n_boot", 2)
    if block_size is None or (isinstance(block_size, str) and block_size == "auto"):
        L = default_block_size(*arrays)
    elif isinstance(block_size, str):
        raise ValueError(
            f"block_size must be None, 'auto' or a positive integer, got {block_size!r}"
        )
    else:
        L = _check_int(block_size, "block_size", 1)
        if L > n:
            raise ValueError(f"block_size must be <= n={n}, got {L}")
    gen = np.random.default_rng(rng)
    estimate = np.asarray(f(*arrays), dtype=float)
    n_per = -(-n // L)
    offsets = np.arange(L)
    reps = np.empty((n_boot,) + estimate.shape)
    for r in range(n_boot):
        starts = gen.integers(0, n, size=n_per)
        idx = ((starts[:, None] + offsets) % n).ravel()[:n]
        val = np.asarray(f(*[a[idx] for a in arrays]), dtype=float)
        if val.shape != estimate.shape:
            raise ValueError(
                f"f must return values of a fixed shape, got {val.shape} "
                f"and {estimate.shape}"
            )
        reps[r] = val
    error = reps.std(axis=0, ddof=1)
    if estimate.ndim == 0:
        return float(estimate), float(error)
    return estimate, error
