r"""Histogram reweighting: single histogram (Ferrenberg-Swendsen) and multi-histogram (MBAR).

A Monte Carlo run at inverse temperature :math:`\beta_0` samples configurations
with weight :math:`\propto e^{-\beta_0 E}`. Reweighting each sample by
:math:`e^{-(\beta-\beta_0)E}` turns its averages into averages at a nearby
:math:`\beta` (Ferrenberg & Swendsen 1988):

.. math::

    \langle O\rangle_\beta = \frac{\sum_i O_i\, e^{-(\beta-\beta_0)E_i}}
                                  {\sum_i e^{-(\beta-\beta_0)E_i}} .

Several runs at :math:`\beta_1 \ldots \beta_K` (or the output of parallel
tempering) are combined by the multi-histogram method in its sample-based form,
MBAR (Ferrenberg & Swendsen 1989; Shirts & Chodera 2008): the dimensionless free
energies :math:`f_k = -\ln Z_k` solve

.. math::

    e^{-f_k} = \sum_{n} \frac{e^{-\beta_k E_n}}{\sum_l N_l\, e^{f_l - \beta_l E_n}},

the sum over all samples of all runs, :math:`N_l` samples at :math:`\beta_l`;
then any :math:`\beta` gets the sample weights
:math:`w_n(\beta) \propto e^{-\beta E_n} / \sum_l N_l e^{f_l-\beta_l E_n}`.

Conventions
-----------
* **Energies.** ``energy`` arguments are *per-site* energies :math:`e_i`
  (the ``"e"`` series of :class:`kadanoff.Results`) together with ``n_sites``
  :math:`N`; the total energy entering the Boltzmann factor is
  :math:`E_i = N e_i`. To pass total energies, give ``n_sites=1``.
  ``n_sites`` has no default for plain arrays: getting it wrong reweights to
  the wrong temperature silently, so it must be said.
* **Results.** A :class:`kadanoff.Results` supplies ``res["e"]``,
  ``res.meta["beta"]``, ``res.meta["n_sites"]`` and every other 1-D series as
  an observable.
* **Temperatures.** Every method takes ``T`` or ``beta`` (exactly one), a
  scalar or a 1-D array; :math:`k_B = 1`.
* **Stability.** All sums of Boltzmann factors are log-sum-exp: per block of
  samples the largest log weight is factored out, and blocks are combined
  with their own maxima, so nothing overflows or underflows however far the
  temperatures are apart (far outside the trusted range the *statistics* fail,
  not the arithmetic).
* **Errors.** Blocked delete-one jackknife: the time series is cut into
  ``n_blocks`` contiguous blocks (for MBAR, the same block index of every
  run forms one jackknife group and the free energies are solved again
  without it); the error of any reweighted quantity :math:`g` is
  :math:`\sqrt{\tfrac{B-1}{B}\sum_b (g_b - \bar g)^2}`. Blocks are made at
  least ``ceil(10 tau_int)`` long (fewer blocks if necessary). The value
  returned is the plain (not bias-corrected) estimate from all data.
* **Trusted range.** Reweighting is reliable while the reweighted energy
  distribution still lies inside the sampled one. With the Kish effective
  sample size :math:`n_\mathrm{eff}(\beta) = (\sum_i w_i)^2 / \sum_i w_i^2`,
  the trusted range is where :math:`n_\mathrm{eff}/n \ge e^{-k^2}` (``trust``
  :math:`= k`, default 1). For a Gaussian energy histogram of width
  :math:`\sigma_E` this is exactly :math:`|\beta-\beta_0|\,\sigma_E \le k`,
  the classic rule :math:`|\Delta T| \lesssim T^2/\sigma_E`.

References
----------
.. [FS88] A. M. Ferrenberg and R. H. Swendsen, Phys. Rev. Lett. 61, 2635 (1988).
.. [FS89] A. M. Ferrenberg and R. H. Swendsen, Phys. Rev. Lett. 63, 1195 (1989).
.. [SC08] M. R. Shirts and J. D. Chodera, J. Chem. Phys. 129, 124105 (2008).
.. [Ki65] L. Kish, Survey Sampling (1965) (effective sample size).
"""
from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Callable, NamedTuple

import numpy as np

from . import errors as _err

__all__ = ["Curve", "SingleHistogram", "MultiHistogram", "ReweightingWarning", "reweight",
           "beta_grid", "logsumexp"]

#: Upper bound on (number of temperatures) x (number of samples) per chunk.
_CHUNK = 1 << 21


def logsumexp(a, axis=None):
    r""":math:`\ln\sum_i e^{a_i}` without overflow: :math:`m + \ln\sum_i e^{a_i - m}`.

    :math:`m = \max_i a_i`.

    Entries of ``-inf`` are allowed (they contribute nothing); an all ``-inf``
    slice gives ``-inf``.
    """
    a = np.asarray(a, dtype=float)
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    if axis is None:
        return float(out.reshape(()))
    return np.squeeze(out, axis=axis)


class ReweightingWarning(UserWarning):
    """Reweighting outside the trusted range, or runs whose histograms do not overlap."""


class Curve(NamedTuple):
    """A reweighted quantity: ``value`` and jackknife ``error`` at temperatures ``T``.

    Fields are floats when a scalar temperature was asked for, else arrays.
    Unpacks as ``T, value, error``.
    """

    T: Any
    value: Any
    error: Any


# --------------------------------------------------------------------------
# input helpers
# --------------------------------------------------------------------------
def beta_grid(T=None, beta=None, name_T="T", name_beta="beta"):
    """Inverse temperatures from exactly one of ``T`` or ``beta``; (betas, scalar flag)."""
    if (T is None) == (beta is None):
        raise ValueError(f"give exactly one of {name_T} or {name_beta}")
    name, val = (name_T, T) if T is not None else (name_beta, beta)
    arr = np.asarray(val, dtype=float)
    if arr.ndim > 1 or arr.size == 0:
        raise ValueError(f"{name} must be a number or a non-empty 1-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"{name} must be positive and finite, got {val!r}")
    betas = 1.0 / arr if name == name_T else arr
    return np.atleast_1d(betas).astype(float), arr.ndim == 0


def _is_results(obj) -> bool:
    return hasattr(obj, "meta") and isinstance(obj, Mapping) and "e" in obj


def _finite_1d(values, name) -> np.ndarray:
    arr = np.asarray(values)
    if np.iscomplexobj(arr):
        raise ValueError(f"{name} must be real-valued")
    try:
        arr = arr.astype(float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric 1-D array") from exc
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D time series, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains non-finite values (nan or inf)")
    return arr


def _positive(value, name) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be positive and finite, got {value!r}")
    return value


def _check_config(n_blocks, block_size, trust):
    n_blocks = _err._check_int(n_blocks, "n_blocks", 2)
    if block_size is not None:
        block_size = _err._check_int(block_size, "block_size", 1)
    trust = _positive(trust, "trust")
    return n_blocks, block_size, trust


def _run_from_results(res, where=""):
    meta = res.meta
    for key in ("beta", "n_sites"):
        if key not in meta:
            raise ValueError(f"Results{where} lack meta[{key!r}], needed for reweighting")
    obs = {name: np.asarray(res[name], dtype=float) for name in res
           if name != "e" and np.ndim(res[name]) == 1}
    return np.asarray(res["e"], dtype=float), float(meta["beta"]), float(meta["n_sites"]), obs


def _observables(observables, n, where=""):
    out = {}
    if observables is None:
        return out
    if not isinstance(observables, Mapping):
        raise ValueError(f"observables{where} must be a mapping of names to 1-D arrays")
    for name, values in observables.items():
        if not isinstance(name, str):
            raise ValueError(f"observable names must be strings, got {name!r}")
        if name in ("beta", "T", "e"):
            raise ValueError(f"observable name {name!r} is reserved (the energy is 'e')")
        arr = _finite_1d(values, f"observables[{name!r}]{where}")
        if len(arr) != n:
            raise ValueError(f"observables[{name!r}]{where} has {len(arr)} samples but the "
                             f"energy has {n}: mismatched shapes")
        out[name] = arr
    return out


def _block_layout(lengths, n_blocks, block_size, series_per_run):
    """Common number of blocks B and per-run block lengths.

    Blocks are at least ``default_block_size`` (10 tau_int) long; B is reduced if needed.
    """
    min_len = []
    for run in series_per_run:
        min_len.append(_err.default_block_size(*run))
    if block_size is not None:
        B = min(n // block_size for n in lengths)
    else:
        B = min(n_blocks, min(n // max(m, 1) for n, m in zip(lengths, min_len)))
    if B < 2:
        raise ValueError(
            f"the series are too short for a jackknife: {lengths} samples, blocks must be at "
            f"least {min_len if block_size is None else block_size} long (about 10 tau_int) "
            f"and at least 2 are needed")
    if B < 8 and block_size is None:
        warnings.warn(f"only {B} jackknife blocks fit into series of {lengths} samples with "
                      f"blocks of 10 tau_int; the error bars are rough",
                      _err.AutocorrelationWarning, stacklevel=3)
    return B, [n // B for n in lengths]


# --------------------------------------------------------------------------
# core: block sums of Boltzmann weights, log-sum-exp throughout
# --------------------------------------------------------------------------
def _block_sums(lw, X, starts, ends):
    """Per-block maxima ``m`` (nb, B) and sums ``S`` (nb, B, k+1) of exp(lw - m) [1, X]."""
    nb = lw.shape[0]
    B = len(starts)
    m = np.maximum.reduceat(lw, starts, axis=1)
    S = np.empty((nb, B, X.shape[1] + 1))
    for b in range(B):
        s, e = starts[b], ends[b]
        w = np.exp(lw[:, s:e] - m[:, b:b + 1])
        S[:, b, 0] = w.sum(axis=1)
        S[:, b, 1:] = w @ X[s:e]
    return m, S


def _combine_all(m, S):
    """Weighted means (nb, k) and log of the total weight (nb,) from block sums."""
    M = m.max(axis=1, keepdims=True)
    tot = np.einsum("tb,tbk->tk", np.exp(m - M), S)
    return tot[:, 1:] / tot[:, :1], M[:, 0] + np.log(tot[:, 0])


def _combine_loo(m, S):
    """Leave-one-block-out means (B, nb, k) and log total weights (B, nb)."""
    B = m.shape[1]
    mm = np.where(np.eye(B, dtype=bool)[None], -np.inf, m[:, None, :])  # (nb, B_out, B)
    Mb = mm.max(axis=2, keepdims=True)
    ex = np.einsum("tbc,tck->btk", np.exp(mm - Mb), S)
    return ex[..., 1:] / ex[..., :1], Mb[..., 0].T + np.log(ex[..., 0])


def _jackknife_error(reps):
    B = reps.shape[0]
    return np.sqrt((B - 1) / B * np.sum((reps - reps.mean(axis=0)) ** 2, axis=0))


def _curve(betas, value, reps, scalar):
    """Curve(T, value, jackknife error from the leave-one-block-out replicas);
    plain floats when a single temperature was asked for."""
    err = _jackknife_error(reps)
    if scalar:
        return Curve(float(1.0 / betas[0]), float(value[0]), float(err[0]))
    return Curve(1.0 / betas, value, err)


def _kish_interval(E, beta0, trust):
    """(T_low, T_high) around 1/beta0 where the Kish fraction of one run is >= exp(-trust^2)."""
    E = np.asarray(E, dtype=float)
    E = E - E.min()
    n = len(E)
    sigma = float(E.std())
    if sigma == 0:
        return (1.0 / beta0, 1.0 / beta0)
    target = -trust ** 2

    def g(b):  # >= 0 inside the trusted range
        lw = -(b - beta0) * E
        return 2 * logsumexp(lw) - logsumexp(2 * lw) - math.log(n) - target

    ends = []
    for sign in (+1, -1):  # +1: larger beta (lower T)
        inside, outside, step = beta0, None, trust / sigma
        for _ in range(200):
            cand = beta0 + sign * step
            if cand <= 0:
                cand = 0.5 * inside
                if cand < 1e-12 * beta0:
                    break
            if g(cand) < 0:
                outside = cand
                break
            inside = cand
            step *= 2
        if outside is None:  # the range extends to T = 0 or T = infinity
            ends.append(math.inf if sign > 0 else 0.0)
            continue
        a, b = inside, outside
        for _ in range(100):
            mid = 0.5 * (a + b)
            if g(mid) >= 0:
                a = mid
            else:
                b = mid
            if abs(b - a) <= 1e-13 * beta0:
                break
        ends.append(a)
    b_cold, b_hot = ends
    return (1.0 / b_cold if b_cold > 0 else 0.0, 1.0 / b_hot if b_hot > 0 else math.inf)


class _Reweighter:
    """Shared machinery: subclasses set the samples and define ``_log_weights``."""

    def __init__(self, n_blocks=32, block_size=None, trust=1.0):
        self._n_blocks, self._block_size_cfg, self._trust = _check_config(n_blocks, block_size,
                                                                          trust)
        self._computed = False

    # -- read-only results -------------------------------------------------
    def _need(self):
        if not self._computed:
            raise RuntimeError(f"call {type(self).__name__}.compute(...) first")

    @property
    def n_sites(self) -> float:
        """N: the total energy is N times the per-site energy."""
        self._need()
        return self._n_sites

    @property
    def n_samples(self) -> int:
        """Number of samples used (after dropping block remainders at the start)."""
        self._need()
        return len(self._E)

    @property
    def n_blocks(self) -> int:
        """Number of jackknife blocks B actually used."""
        self._need()
        return len(self._starts)

    @property
    def names(self) -> tuple:
        """Observables available (``"e"`` is always there)."""
        self._need()
        return tuple(self._obs)

    @property
    def trusted_range(self) -> tuple:
        """(T_low, T_high): where the effective sample fraction is at least exp(-trust^2)."""
        self._need()
        return self._trusted

    # -- columns -------------------------------------------------------------
    def _column(self, name):
        if isinstance(name, tuple):
            if not name:
                raise ValueError("an empty tuple is not an observable")
            out = np.ones(len(self._E))
            for part in name:
                out = out * self._column(part)
            return out
        if not isinstance(name, str):
            raise ValueError(f"observable names must be strings or tuples of strings, got "
                             f"{name!r}")
        if name not in self._obs:
            raise ValueError(f"unknown observable {name!r}; available: {sorted(self._obs)} "
                             f"(and tuples of them for products)")
        return self._obs[name]

    # -- the engine -------------------------------------------------------------
    def _stats(self, betas, X):
        """Means of the columns of X at each beta: full (nb, k), jackknife reps (B, nb, k),
        and log total weights (nb,), (B, nb)."""
        raise NotImplementedError

    def _chunks(self, betas):
        step = max(1, _CHUNK // max(len(self._E), 1))
        for i in range(0, len(betas), step):
            yield slice(i, i + step)

    def _warn_range(self, betas):
        lo, hi = self._trusted
        T = 1.0 / betas
        bad = (T < lo * (1 - 1e-12)) | (T > hi * (1 + 1e-12))
        if np.any(bad):
            warnings.warn(
                f"reweighting to T = {T[bad].min():.6g} .. {T[bad].max():.6g} outside the trusted "
                f"range T = {lo:.6g} .. {hi:.6g} (effective sample fraction < "
                f"exp(-{self._trust:g}^2)); values and errors there are unreliable",
                ReweightingWarning, stacklevel=4)

    def _replicas(self, f, names, betas):
        """Value (nb,...) and jackknife replicas (B, nb, ...) of f(*means)."""
        if not callable(f):
            raise ValueError(f"f must be callable, got {f!r}")
        if isinstance(names, (str, tuple)):
            names = [names]
        names = list(names)
        cols, slots = [], []
        for name in names:
            if isinstance(name, str) and name in ("beta", "T"):
                slots.append(name)
            else:
                slots.append(len(cols))
                cols.append(self._column(name))
        X = np.column_stack(cols) if cols else np.empty((len(self._E), 0))
        full, reps, _, _ = self._stats(betas, X)

        def args(means, b):
            out = []
            for s in slots:
                if s == "beta":
                    out.append(b)
                elif s == "T":
                    out.append(1.0 / b)
                else:
                    out.append(means[..., s])
            return out

        value = np.asarray(f(*args(full, betas)), dtype=float)
        rep = np.asarray(f(*args(reps, betas[None, :])), dtype=float)
        if value.shape[:1] != betas.shape or rep.shape[:2] != (reps.shape[0], len(betas)):
            raise ValueError("f must act elementwise on the reweighted means (numpy "
                             "broadcasting): it got arrays over temperatures and must return "
                             "one value per temperature")
        return value, rep

    def _curve(self, f, names, T, beta, warn=True):
        betas, scalar = beta_grid(T, beta)
        self._need()
        if warn:
            self._warn_range(betas)
        value, reps = self._replicas(f, names, betas)
        return _curve(betas, value, reps, scalar)

    # -- named quantities -------------------------------------------------------
    def _spec(self, quantity):
        """(f, names) of a named quantity, an observable name, or an (f, names) pair."""
        if isinstance(quantity, tuple) and len(quantity) == 2 and callable(quantity[0]):
            return quantity
        if not isinstance(quantity, str):
            raise ValueError(f"quantity must be a name or a pair (f, names), got {quantity!r}")
        N = self._n_sites_checked()
        if quantity == "binder":
            return (lambda m2, m4: 1.0 - m4 / (3.0 * m2 * m2), ["m2", "m4"])
        if quantity == "susceptibility":
            return (lambda b, m2, x: b * N * (m2 - x * x), ["beta", "m2", "abs_m"])
        if quantity == "specific_heat":
            return (lambda b, e, e2: b * b * N * (e2 - e * e), ["beta", "e", ("e", "e")])
        if quantity == "binder_derivative":
            def f(m2, m4, e, m2e, m4e):
                d2 = -N * (m2e - m2 * e)
                d4 = -N * (m4e - m4 * e)
                return -d4 / (3 * m2 * m2) + 2 * m4 * d2 / (3 * m2 ** 3)
            return (f, ["m2", "m4", "e", ("m2", "e"), ("m4", "e")])
        if quantity.startswith("dlog_"):
            name = quantity[5:]
            return (lambda o, e, oe: -N * (oe / o - e), [name, "e", (name, "e")])
        return (lambda x: x, [quantity])

    def replicas(self, quantity, T=None, *, beta=None, warn=True):
        r"""A quantity on a temperature grid together with its jackknife replicas.

        ``quantity`` is ``"binder"``, ``"susceptibility"`` (X = abs_m),
        ``"specific_heat"``, ``"binder_derivative"`` (:math:`\partial U/\partial\beta`),
        ``"dlog_<name>"`` (:math:`\partial\ln\langle O\rangle/\partial\beta`), an
        observable name, or a pair ``(f, names)`` as for :meth:`evaluate`.

        Returns
        -------
        T : ndarray (n_T,)
        value : ndarray (n_T,)
            From all data.
        replicas : ndarray (B, n_T)
            Delete-one-block values; the jackknife error is
            :math:`\sqrt{\tfrac{B-1}{B}\sum_b (g_b - \bar g)^2}`. Functions of
            several reweighted curves (crossings, peaks, collapse) get their
            errors by applying the same function to every replica.
        """
        betas, _ = beta_grid(T, beta)
        self._need()
        if warn:
            self._warn_range(betas)
        f, names = self._spec(quantity)
        value, reps = self._replicas(f, names, betas)
        return 1.0 / betas, value, reps

    # -- public evaluation ----------------------------------------------------
    def evaluate(self, f: Callable, names, T=None, *, beta=None) -> Curve:
        r"""Any function of reweighted averages, with its jackknife error.

        ``f(*args)`` receives, for each entry of ``names``, the reweighted
        average :math:`\langle O\rangle_\beta` of that observable as an array
        over the temperatures (``"beta"`` and ``"T"`` give the grid itself;
        a tuple of names gives the average of their product, e.g.
        ``("e", "e")`` is :math:`\langle e^2\rangle`). ``f`` must work
        elementwise (numpy broadcasting): the jackknife calls it once with
        arrays of shape (B, n_T).

        Example: the susceptibility per site,
        ``h.evaluate(lambda b, m2, am: b * N * (m2 - am**2), ["beta", "m2", "abs_m"], T=Ts)``.
        """
        return self._curve(f, names, T, beta)

    def mean(self, name, T=None, *, beta=None) -> Curve:
        r"""Reweighted average :math:`\langle O\rangle_\beta = \sum_i w_i O_i / \sum_i w_i`."""
        return self._curve(lambda x: x, [name], T, beta)

    def specific_heat(self, T=None, *, beta=None) -> Curve:
        r"""Specific heat per site, :math:`C = \beta^2 N(\langle e^2\rangle-\langle e\rangle^2)`."""
        return self._curve(*self._spec("specific_heat"), T, beta)

    def susceptibility(self, T=None, *, beta=None, subtract="abs_m") -> Curve:
        r"""Susceptibility per site, :math:`\chi = \beta N(\langle m^2\rangle-\langle X\rangle^2)`.

        ``subtract`` is X: ``"abs_m"`` (default, the finite-size estimator
        at h = 0), ``"m"`` (connected), or None (:math:`\beta N\langle m^2\rangle`).
        Needs the observables ``m2`` and X. Same convention as
        ``Results.susceptibility``.
        """
        N = self._n_sites_checked()
        if subtract is None:
            return self._curve(lambda b, m2: b * N * m2, ["beta", "m2"], T, beta)
        if subtract not in ("abs_m", "m"):
            raise ValueError(f"subtract must be 'abs_m', 'm' or None, got {subtract!r}")
        return self._curve(lambda b, m2, x: b * N * (m2 - x * x), ["beta", "m2", subtract],
                           T, beta)

    def binder(self, T=None, *, beta=None) -> Curve:
        r"""Binder cumulant :math:`U = 1 - \langle m^4\rangle / (3\langle m^2\rangle^2)`."""
        return self._curve(*self._spec("binder"), T, beta)

    def derivative(self, name, T=None, *, beta=None) -> Curve:
        r"""Temperature derivative of an average.

        :math:`\partial\langle O\rangle/\partial\beta
        = -N(\langle O e\rangle - \langle O\rangle\langle e\rangle)`.
        """
        N = self._n_sites_checked()
        return self._curve(lambda o, e, oe: -N * (oe - o * e), [name, "e", (name, "e")], T, beta)

    def log_derivative(self, name, T=None, *, beta=None) -> Curve:
        r"""Logarithmic temperature derivative of an average.

        :math:`\partial\ln\langle O\rangle/\partial\beta
        = -N(\langle O e\rangle/\langle O\rangle - \langle e\rangle)`.

        For :math:`O = |m|` or :math:`m^2` its value at :math:`T_c` scales as
        :math:`L^{1/\nu}`.
        """
        return self._curve(*self._spec("dlog_" + name), T, beta)

    def binder_derivative(self, T=None, *, beta=None) -> Curve:
        r"""Derivative :math:`\partial U/\partial\beta` of the Binder cumulant (~ L^{1/nu} at T_c).

        With :math:`D_X = \partial\langle X\rangle/\partial\beta = -N(\langle Xe\rangle
        - \langle X\rangle\langle e\rangle)`:
        :math:`\partial U/\partial\beta = -\frac{D_{m^4}}{3\langle m^2\rangle^2}
        + \frac{2\langle m^4\rangle D_{m^2}}{3\langle m^2\rangle^3}`.
        """
        return self._curve(*self._spec("binder_derivative"), T, beta)

    def effective_sample_fraction(self, T=None, *, beta=None):
        r"""Kish effective sample fraction :math:`(\sum w)^2 / (n \sum w^2)` at each temperature.

        1 for equal weights; :math:`e^{-(\Delta\beta\,\sigma_E)^2}` for a
        single Gaussian histogram. The trusted range is where it is at least
        :math:`e^{-\mathrm{trust}^2}`.
        """
        betas, scalar = beta_grid(T, beta)
        self._need()
        out = self._ess(betas)
        return float(out[0]) if scalar else out

    def _ess(self, betas):
        out = np.empty(len(betas))
        for sl in self._chunks(betas):
            lw = self._log_weights(betas[sl])
            out[sl] = np.exp(2 * logsumexp(lw, axis=1) - logsumexp(2 * lw, axis=1))
        return out / len(self._E)

    def _n_sites_checked(self):
        self._need()
        return self._n_sites

    def _finish_samples(self, E_total, obs, n_sites):
        self._E = E_total
        self._n_sites = n_sites
        self._obs = {"e": E_total / n_sites, **obs}
        self._computed = True


# --------------------------------------------------------------------------
# single histogram
# --------------------------------------------------------------------------
class SingleHistogram(_Reweighter):
    r"""Single-histogram (Ferrenberg-Swendsen) reweighting of one run to nearby temperatures.

    .. math::

        \langle O\rangle_\beta = \frac{\sum_i O_i\, e^{-(\beta-\beta_0)E_i}}
        {\sum_i e^{-(\beta-\beta_0)E_i}}, \qquad E_i = N e_i ,

    evaluated with log-sum-exp; errors from a blocked jackknife (see the module
    docstring). Compute-object shape: configure here, ``compute(...)`` returns
    self, then evaluate with :meth:`mean`, :meth:`evaluate`,
    :meth:`specific_heat`, :meth:`susceptibility`, :meth:`binder`,
    :meth:`derivative`, :meth:`binder_derivative`, :meth:`free_energy`.

    Parameters
    ----------
    n_blocks : int
        Number of jackknife blocks (at most; blocks are kept at least
        ``ceil(10 tau_int)`` long, so a short or slow series gets fewer).
    block_size : int, optional
        Fixed block length instead (overrides ``n_blocks``).
    trust : float
        :math:`k` of the trusted range :math:`n_\mathrm{eff}/n \ge e^{-k^2}`
        (:math:`|\Delta\beta|\sigma_E \le k` for Gaussian histograms).

    Examples
    --------
    >>> h = SingleHistogram().compute(res)                                 # doctest: +SKIP
    >>> T, C, dC = h.specific_heat(T=np.linspace(*h.trusted_range, 50))    # doctest: +SKIP
    >>> h = SingleHistogram().compute(e, beta=0.44, n_sites=L * L,
    ...                               observables={"m2": m2, "m4": m4})    # doctest: +SKIP
    """

    def compute(self, data, *, T=None, beta=None, n_sites=None, observables=None):
        """Take the samples of one run.

        Parameters
        ----------
        data : Results or array_like (n,)
            A :class:`kadanoff.Results` (then ``T``, ``beta``, ``n_sites`` and
            ``observables`` come from it and must not be given), or the
            per-site energy series :math:`e_i`.
        T, beta : float
            Temperature of the run (exactly one), for array input.
        n_sites : float
            N, so that :math:`E_i = N e_i`; use 1 if ``data`` holds total
            energies. Required for array input.
        observables : mapping of str to array_like (n,), optional
            Further series measured together with the energy.

        Returns
        -------
        self
        """
        if _is_results(data):
            if any(v is not None for v in (T, beta, n_sites, observables)):
                raise ValueError("with Results, T, beta, n_sites and observables come from the "
                                 "Results; do not pass them")
            e, b0, N, obs = _run_from_results(data)
            e = _finite_1d(e, "Results['e']")
            obs = _observables(obs, len(e))
        else:
            e = _finite_1d(data, "energy")
            b, _ = beta_grid(T, beta)
            if len(b) != 1:
                raise ValueError("T (or beta) of a single run must be a scalar")
            b0 = float(b[0])
            if n_sites is None:
                raise ValueError("n_sites is required with array input: energies are per site "
                                 "and E = n_sites * e (use n_sites=1 for total energies)")
            N = _positive(n_sites, "n_sites")
            obs = _observables(observables, len(e))
        if len(e) < 4:
            raise ValueError(f"energy must contain at least 4 samples, got {len(e)}")
        B, (L,) = _block_layout([len(e)], self._n_blocks, self._block_size_cfg,
                                [[e, *obs.values()]])
        start = len(e) - B * L
        e = e[start:]
        obs = {k: v[start:] for k, v in obs.items()}
        self._beta0 = b0
        self._starts = np.arange(B) * L
        self._ends = self._starts + L
        self._finish_samples(N * e, obs, N)
        self._Emin = float(self._E.min())
        self._sigma_E = float(self._E.std())
        self._trusted = _kish_interval(self._E, b0, self._trust)
        return self

    @property
    def beta0(self) -> float:
        """Inverse temperature of the run."""
        self._need()
        return self._beta0

    @property
    def T0(self) -> float:
        """Temperature of the run."""
        return 1.0 / self.beta0

    @property
    def energy_std(self) -> float:
        r""":math:`\sigma_E`, standard deviation of the total energy in the run."""
        self._need()
        return self._sigma_E

    def _log_weights(self, betas):
        # shifted by the smallest energy so that exponents stay moderate (exactness unaffected)
        return -np.outer(betas - self._beta0, self._E - self._Emin)

    def _stats(self, betas, X):
        nb = len(betas)
        B = len(self._starts)
        full = np.empty((nb, X.shape[1]))
        reps = np.empty((B, nb, X.shape[1]))
        logz = np.empty(nb)
        logz_r = np.empty((B, nb))
        for sl in self._chunks(betas):
            m, S = _block_sums(self._log_weights(betas[sl]), X, self._starts, self._ends)
            full[sl], logz[sl] = _combine_all(m, S)
            reps[:, sl], logz_r[:, sl] = _combine_loo(m, S)
        return full, reps, logz, logz_r

    def free_energy(self, T=None, *, beta=None) -> Curve:
        r"""Dimensionless free-energy difference :math:`\beta F(\beta) - \beta_0 F(\beta_0)`.

        .. math:: \beta F - \beta_0 F_0 = -\ln Z(\beta)/Z(\beta_0)
                  = -\ln \Big\langle e^{-(\beta-\beta_0)E}\Big\rangle_{\beta_0}.
        """
        betas, scalar = beta_grid(T, beta)
        self._need()
        self._warn_range(betas)
        X = np.empty((len(self._E), 0))
        _, _, logz, logz_r = self._stats(betas, X)
        n = len(self._E)
        L = self._ends[0] - self._starts[0]
        shift = (betas - self._beta0) * self._Emin
        value = -(logz - math.log(n)) + shift
        reps = -(logz_r - math.log(n - L)) + shift
        return _curve(betas, value, reps, scalar)

    def __repr__(self):
        if not self._computed:
            return "<SingleHistogram (not computed)>"
        lo, hi = self._trusted
        return (f"<SingleHistogram T0={self.T0:.6g} n={self.n_samples} blocks={self.n_blocks} "
                f"trusted T={lo:.6g}..{hi:.6g}>")


# --------------------------------------------------------------------------
# multi histogram / MBAR
# --------------------------------------------------------------------------
def _mbar_objective(U, logN, N, f):
    a = logN + f + U
    logden = logsumexp(a, axis=1)
    return logden.sum() - np.dot(N, f), a, logden


def _solve_mbar(U, N, f0, tol=1e-10, maxiter=200):
    r"""Newton iteration on the convex MBAR objective
    :math:`A(f) = \sum_n \ln\sum_l N_l e^{f_l + U_{nl}} - \sum_l N_l f_l` with :math:`f_0 = 0`.

    ``U[n, l] = -beta_l E_n``; returns f (K,)."""
    K = U.shape[1]
    logN = np.log(N)
    f = np.array(f0, dtype=float)
    f -= f[0]
    if K == 1:
        return f
    A, a, logden = _mbar_objective(U, logN, N, f)
    for _ in range(maxiter):
        W = np.exp(a - logden[:, None])
        colsum = W.sum(axis=0)
        g = colsum - N
        if np.max(np.abs(g) / N) < tol:
            return f
        H = np.diag(colsum) - W.T @ W
        try:
            step = np.linalg.solve(H[1:, 1:], g[1:])
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H[1:, 1:], g[1:], rcond=None)[0]
        t = 1.0
        for _ in range(50):
            fn = f.copy()
            fn[1:] -= t * step
            An, an, logdenn = _mbar_objective(U, logN, N, fn)
            if An <= A + 1e-12 * abs(A):
                break
            t *= 0.5
        if np.max(np.abs(fn - f)) < 1e-13 * max(1.0, np.max(np.abs(f))):
            return fn
        f, A, a, logden = fn, An, an, logdenn
    raise RuntimeError(f"MBAR free energies did not converge in {maxiter} Newton steps "
                       f"(largest relative gradient {np.max(np.abs(g) / N):.3g}); do the runs' "
                       "energy histograms overlap?")


class MultiHistogram(_Reweighter):
    r"""Multi-histogram reweighting (MBAR) over runs at several temperatures.

    The dimensionless free energies :math:`f_k = \beta_k F_k` (relative to the
    highest temperature, :math:`f_0 = 0`) solve

    .. math::

        f_k = -\ln \sum_{n=1}^{N_\mathrm{tot}} \frac{e^{-\beta_k E_n}}
              {\sum_l N_l\, e^{f_l - \beta_l E_n}},

    found by Newton's method on the equivalent convex problem (warm-started
    from Bennett-like neighbour estimates); runs at the same temperature are
    merged into one state (so parallel-tempering output per temperature can
    be passed directly). Any :math:`\beta` then has sample weights
    :math:`w_n(\beta) = e^{-\beta E_n} / \sum_l N_l e^{f_l-\beta_l E_n}`,
    :math:`\langle O\rangle_\beta = \sum_n w_n O_n / \sum_n w_n` and
    :math:`f(\beta) = -\ln\sum_n w_n(\beta)`. Everything is log-sum-exp.

    Errors: blocked jackknife where group b holds block b of *every* run; the
    free energies are solved again for each group left out (warm start), so
    their uncertainty propagates into every reweighted quantity.

    Parameters
    ----------
    n_blocks : int
        Number of jackknife groups (at most; every run's blocks are kept at
        least ``ceil(10 tau_int)`` long).
    block_size : int, optional
        Fixed block length for every run instead.
    trust : float
        The trusted range is the union of the runs' single-histogram ranges
        :math:`n_\mathrm{eff}/n \ge e^{-\mathrm{trust}^2}`; a gap between
        neighbouring runs gives a :class:`ReweightingWarning`.
    tol : float
        Convergence: largest :math:`|\partial A/\partial f_l|/N_l`.
    """

    def __init__(self, n_blocks=20, block_size=None, trust=1.0, tol=1e-10):
        super().__init__(n_blocks, block_size, trust)
        self._tol = _positive(tol, "tol")

    def compute(self, data, *, T=None, beta=None, n_sites=None, observables=None):
        """Take the samples of several runs.

        Parameters
        ----------
        data : sequence of Results, or sequence of array_like
            One :class:`kadanoff.Results` per run (same model and size), or
            one per-site energy series per run.
        T, beta : sequence of float
            Temperature of each run (exactly one of them), for array input.
        n_sites : float
            N with :math:`E = N e` (1 for total energies); required for arrays.
        observables : mapping of str to sequence of array_like, optional
            For array input: ``{name: [series of run 1, series of run 2, ...]}``.

        Returns
        -------
        self
        """
        if isinstance(data, (str, bytes)) or not isinstance(data, Sequence) or _is_results(data):
            raise ValueError("data must be a sequence of runs (Results or energy arrays)")
        if len(data) < 1:
            raise ValueError("data must hold at least one run")
        runs = []
        if all(_is_results(r) for r in data):
            if any(v is not None for v in (T, beta, n_sites, observables)):
                raise ValueError("with Results, T, beta, n_sites and observables come from the "
                                 "Results; do not pass them")
            Ns = set()
            names = None
            for i, r in enumerate(data):
                e, b0, N, obs = _run_from_results(r, f"[{i}]")
                e = _finite_1d(e, f"data[{i}]['e']")
                obs = _observables(obs, len(e), f" of run {i}")
                Ns.add(N)
                if names is None:
                    names = set(obs)
                names &= set(obs)
                runs.append((e, b0, obs))
            if len(Ns) != 1:
                raise ValueError(f"all runs must have the same n_sites, got {sorted(Ns)}")
            N = Ns.pop()
            runs = [(e, b, {k: v for k, v in o.items() if k in names}) for e, b, o in runs]
        elif any(_is_results(r) for r in data):
            raise ValueError("data must be all Results or all arrays, not a mix")
        else:
            if n_sites is None:
                raise ValueError("n_sites is required with array input: energies are per site "
                                 "and E = n_sites * e (use n_sites=1 for total energies)")
            N = _positive(n_sites, "n_sites")
            betas, _ = beta_grid(T, beta)
            if len(betas) != len(data):
                raise ValueError(f"T (or beta) must give one temperature per run: {len(data)} "
                                 f"runs, {len(betas)} temperatures (mismatched shapes)")
            if observables is not None and not isinstance(observables, Mapping):
                raise ValueError("observables must map names to one series per run")
            for name, per_run in (observables or {}).items():
                if isinstance(per_run, np.ndarray) and per_run.ndim == 1 or \
                        not isinstance(per_run, (Sequence, np.ndarray)) or \
                        len(per_run) != len(data):
                    raise ValueError(f"observables[{name!r}] must hold one series per run "
                                     f"({len(data)} runs)")
            for i, e in enumerate(data):
                e = _finite_1d(e, f"energy of run {i}")
                obs = _observables({k: v[i] for k, v in (observables or {}).items()}, len(e),
                                   f" of run {i}")
                runs.append((e, float(betas[i]), obs))
        for i, (e, _, _) in enumerate(runs):
            if len(e) < 4:
                raise ValueError(f"run {i} has {len(e)} samples; at least 4 are needed")
        B, Ls = _block_layout([len(e) for e, _, _ in runs], self._n_blocks,
                              self._block_size_cfg, [[e, *o.values()] for e, _, o in runs])
        # states: unique temperatures
        run_betas = np.array([b for _, b, _ in runs])
        state_betas, state_of_run = np.unique(run_betas, return_inverse=True)
        K = len(state_betas)
        # order samples block by block: group b = block b of every run
        names = list(runs[0][2])
        E_parts, obs_parts, state_parts = [], {k: [] for k in names}, []
        starts, ends, pos = [], [], 0
        for b in range(B):
            starts.append(pos)
            for (e, _, obs), L, k in zip(runs, Ls, state_of_run):
                s = len(e) - B * L + b * L
                E_parts.append(N * e[s:s + L])
                for name in names:
                    obs_parts[name].append(obs[name][s:s + L])
                state_parts.append(np.full(L, k))
                pos += L
            ends.append(pos)
        E = np.concatenate(E_parts)
        obs = {k: np.concatenate(v) for k, v in obs_parts.items()}
        state = np.concatenate(state_parts)
        self._starts, self._ends = np.array(starts), np.array(ends)
        self._state = state
        self._Emin = float(E.min())
        self._finish_samples(E, obs, N)
        self._betas_k = state_betas
        # per state counts, full and per left-out group
        counts = np.bincount(state, minlength=K).astype(float)
        per_group = np.array([np.bincount(state[s:e], minlength=K) for s, e in
                              zip(starts, ends)], dtype=float)
        self._N = counts
        self._N_rep = counts[None, :] - per_group
        U = -np.outer(E - self._Emin, state_betas)
        f_init = self._initial_f(E - self._Emin, state, state_betas)
        self._f = _solve_mbar(U, counts, f_init, self._tol)
        self._f_rep = np.empty((B, K))
        for b in range(B):
            keep = np.ones(len(E), dtype=bool)
            keep[starts[b]:ends[b]] = False
            self._f_rep[b] = _solve_mbar(U[keep], self._N_rep[b], self._f, self._tol)
        self._logden = logsumexp(np.log(counts) + self._f + U, axis=1)
        self._logden_rep = [logsumexp(np.log(self._N_rep[b]) + self._f_rep[b] + U, axis=1)
                            for b in range(B)]
        # replica weights are the full-data weights times a temperature-independent factor
        # c[r, n] = exp(logden_n - logden^(r)_n) (zero inside the left-out block r)
        C = np.exp(self._logden[None, :] - np.array(self._logden_rep))
        for b in range(B):
            C[b, starts[b]:ends[b]] = 0.0
        self._Ct = np.ascontiguousarray(C.T)  # (n, B)
        self._trusted = self._trusted_union(E, state, state_betas)
        return self

    @staticmethod
    def _initial_f(E, state, betas):
        """Neighbour free-energy differences: mean of forward and backward exponential averages."""
        K = len(betas)
        f = np.zeros(K)
        for k in range(1, K):
            d = betas[k] - betas[k - 1]
            Ep, En = E[state == k - 1], E[state == k]
            fwd = -(logsumexp(-d * Ep) - math.log(len(Ep)))
            bwd = logsumexp(d * En) - math.log(len(En))
            f[k] = f[k - 1] + 0.5 * (fwd + bwd)
        return f

    def _trusted_union(self, E, state, betas):
        target = math.exp(-self._trust ** 2)
        intervals = []
        for k, b0 in enumerate(betas):
            intervals.append(_kish_interval(E[state == k], b0, self._trust))
        intervals.sort()
        gaps = []
        hi = intervals[0][1]
        for lo_k, hi_k in intervals[1:]:
            if lo_k > hi:
                gaps.append((hi, lo_k))
            hi = max(hi, hi_k)
        if gaps:
            txt = ", ".join(f"{a:.5g}..{b:.5g}" for a, b in gaps)
            warnings.warn(f"the runs' energy histograms leave gaps in T ({txt}) where the "
                          f"effective sample fraction of every run is below {target:.3g}; add "
                          f"runs there, reweighted values inside the gaps are unreliable",
                          ReweightingWarning, stacklevel=3)
        self._gaps = gaps
        return (intervals[0][0], max(iv[1] for iv in intervals))

    # -- results -------------------------------------------------------------
    @property
    def betas(self) -> np.ndarray:
        """Inverse temperatures of the states (unique, increasing)."""
        self._need()
        return self._betas_k.copy()

    @property
    def temperatures(self) -> np.ndarray:
        """Temperatures of the states (decreasing, matching ``betas``)."""
        return 1.0 / self.betas

    @property
    def free_energies(self) -> np.ndarray:
        r"""Dimensionless :math:`f_k = \beta_k F_k - \beta_0 F_0` of the states (``betas`` order,
        so the reference state 0 is the highest temperature)."""
        self._need()
        # the samples are stored with energies shifted by E_min: undo it
        return self._f + (self._betas_k - self._betas_k[0]) * self._Emin

    @property
    def free_energy_errors(self) -> np.ndarray:
        """Jackknife errors of ``free_energies`` (0 for the reference state)."""
        self._need()
        return _jackknife_error(self._f_rep)

    @property
    def gaps(self) -> list:
        """Temperature intervals (T_a, T_b) between runs that no run's histogram covers."""
        self._need()
        return list(self._gaps)

    def _log_weights(self, betas, rep=None):
        logden = self._logden if rep is None else self._logden_rep[rep]
        return -np.outer(betas, self._E - self._Emin) - logden[None, :]

    def _stats(self, betas, X):
        r"""Full-data and leave-one-group-out weighted means.

        Replica r has weights :math:`w^{(r)}_n = w_n c_{rn}` with the
        temperature-independent :math:`c_{rn} = e^{\ln D_n - \ln D^{(r)}_n}`
        (0 in group r), so every replica costs one matrix product per block
        instead of new exponentials; per-block maxima keep it log-sum-exp safe.
        """
        nb = len(betas)
        B = len(self._starts)
        k = X.shape[1]
        Xa = np.column_stack([np.ones(len(self._E)), X])
        full = np.empty((nb, k))
        reps = np.empty((B, nb, k))
        logz = np.empty(nb)
        logz_r = np.empty((B, nb))
        eye = np.eye(B, dtype=bool)
        for sl in self._chunks(betas):
            lw = self._log_weights(betas[sl])
            t = lw.shape[0]
            m = np.maximum.reduceat(lw, self._starts, axis=1)          # (t, B)
            S = np.empty((t, B, k + 1))                                 # full-data block sums
            R = np.empty((t, B, B, k + 1))                              # [t, block, replica, col]
            for b in range(B):
                s, e = self._starts[b], self._ends[b]
                w = np.exp(lw[:, s:e] - m[:, b:b + 1])
                wx = w[:, None, :] * Xa[s:e].T[None]                   # (t, k+1, L_b)
                S[:, b, :] = wx.sum(axis=2)
                # one matrix product for every temperature, column and replica
                R[:, b, :, :] = (wx.reshape(t * (k + 1), e - s) @ self._Ct[s:e]).reshape(
                    t, k + 1, B).transpose(0, 2, 1)
            full[sl], logz[sl] = _combine_all(m, S)
            mm = np.where(eye[None], -np.inf, m[:, None, :])           # (t, replica, block)
            Mr = mm.max(axis=2, keepdims=True)
            ex = np.einsum("trb,tbrk->rtk", np.exp(mm - Mr), R)         # (B, t, k+1)
            reps[:, sl] = ex[..., 1:] / ex[..., :1]
            logz_r[:, sl] = Mr[..., 0].T + np.log(ex[..., 0])
        return full, reps, logz, logz_r

    def free_energy(self, T=None, *, beta=None) -> Curve:
        r"""Dimensionless free energy :math:`f(\beta) = \beta F(\beta) - \beta_0 F(\beta_0)`
        on any temperature grid, :math:`f(\beta) = -\ln\sum_n w_n(\beta)`, relative to
        state 0 (the highest temperature, smallest :math:`\beta`)."""
        betas, scalar = beta_grid(T, beta)
        self._need()
        self._warn_range(betas)
        X = np.empty((len(self._E), 0))
        _, _, logz, logz_r = self._stats(betas, X)
        shift = (betas - self._betas_k[0]) * self._Emin
        value = -logz + shift
        reps = -logz_r + shift[None, :]
        return _curve(betas, value, reps, scalar)

    def __repr__(self):
        if not self._computed:
            return "<MultiHistogram (not computed)>"
        lo, hi = self._trusted
        return (f"<MultiHistogram states={len(self._betas_k)} n={self.n_samples} "
                f"blocks={self.n_blocks} trusted T={lo:.6g}..{hi:.6g}>")


# --------------------------------------------------------------------------
# convenience
# --------------------------------------------------------------------------
_DERIVED = {"specific_heat", "susceptibility", "binder", "binder_derivative"}


def reweight(data, observable, T=None, *, beta=None, **config) -> Curve:
    """Reweight ``observable`` of one run (single histogram) or several runs (MBAR).

    Parameters
    ----------
    data : Results, or sequence of Results
        One run -> :class:`SingleHistogram`; several -> :class:`MultiHistogram`.
    observable : str
        A series name (``"e"``, ``"abs_m"``, ...) or one of ``"specific_heat"``,
        ``"susceptibility"``, ``"binder"``, ``"binder_derivative"``.
    T, beta : float or array
        Target temperatures.
    **config
        Passed to the histogram class (``n_blocks``, ``trust``, ...).

    Returns
    -------
    Curve
        ``(T, value, error)``.
    """
    if _is_results(data):
        h = SingleHistogram(**config).compute(data)
    else:
        h = MultiHistogram(**config).compute(data)
    if observable in _DERIVED:
        return getattr(h, observable)(T, beta=beta)
    return h.mean(observable, T, beta=beta)
