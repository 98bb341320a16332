r"""Critical exponents from finite-size scaling fits.

At a continuous transition the finite-size values at (or near) :math:`T_c` scale as
powers of the linear size :math:`L`:

* susceptibility :math:`\chi(T_c)` or its peak height: :math:`a L^{\gamma/\nu}`
  (:func:`gamma_over_nu`);
* order parameter :math:`\langle|m|\rangle(T_c)`: :math:`a L^{-\beta/\nu}`
  (:func:`beta_over_nu`);
* :math:`\partial U/\partial\beta` or :math:`\partial\ln\langle|m|\rangle/\partial\beta`
  at :math:`T_c`: :math:`a L^{1/\nu}` (:func:`inv_nu`);
* peak (or crossing) position: :math:`T^*(L) = T_c + a L^{-1/\nu}` (:func:`peak_shift`);
* autocorrelation time :math:`\tau(T_c)`: :math:`a L^{z}` (:func:`dynamic_exponent`).

Every power law may carry a correction-to-scaling factor
:math:`(1 + b L^{-\omega})` (``omega=`` fixed, or ``fit_omega=True``).
Fits are weighted least squares on the quantities themselves (not their
logarithms), :math:`\chi^2 = \sum_i (y_i - f(L_i))^2/\sigma_i^2`; the
covariance is :math:`(J^T W J)^{-1}` at the minimum, i.e. the errors are
those implied by the input error bars (``scale_errors=True`` multiplies them
by :math:`\sqrt{\chi^2/\mathrm{dof}}` when that exceeds 1). Every fit returns a
:class:`FitResult` with the parameters, their covariance, :math:`\chi^2`, the
degrees of freedom and the p-value.

For Berezinskii-Kosterlitz-Thouless transitions (XY-like models) the helicity
modulus jumps from :math:`2T_\mathrm{BKT}/\pi` to 0:
:func:`helicity_crossing` finds where :math:`\Upsilon_L(T) = 2T/\pi`, and
:func:`bkt_extrapolate` removes the logarithmic finite-size drift
:math:`T^*(L) = T_\mathrm{BKT} + c/\ln^2(L/l_0)`.
"""
from __future__ import annotations

import math
import numbers
import warnings
from typing import Callable, NamedTuple

import numpy as np

__all__ = ["Param", "FitResult", "fit", "power_law", "gamma_over_nu", "beta_over_nu", "inv_nu",
           "dynamic_exponent", "peak_shift", "helicity_crossing", "bkt_extrapolate",
           "weber_minnhagen"]


class Param(NamedTuple):
    """A fitted parameter: ``value`` and one-standard-error ``error``."""

    value: float
    error: float

    def __format__(self, spec):
        return f"{format(self.value, spec)} ± {format(self.error, spec)}"

    def __str__(self):
        return f"{self.value:.6g} ± {self.error:.2g}"


class FitResult:
    """A weighted least-squares fit: parameters, covariance, chi^2.

    Attributes
    ----------
    names : tuple of str
    values, errors : ndarray
    cov : ndarray (p, p)
    chi2 : float
    dof : int
        Number of points minus number of free parameters.
    pvalue : float
        Probability of a chi^2 at least this large (NaN for dof = 0).
    x, y, dy : ndarray
        The data that were fitted.
    model : str
        The fitted formula.

    Notes
    -----
    ``fit["gamma/nu"]`` returns a :class:`Param`; ``fit(x)`` evaluates the
    fitted function; ``fit.exponent`` is the parameter the function was
    named after (e.g. gamma/nu for :func:`gamma_over_nu`).
    """

    def __init__(self, names, values, cov, chi2, dof, x, y, dy, func, model, main=None):
        self.names = tuple(names)
        self.values = np.asarray(values, dtype=float)
        self.cov = np.asarray(cov, dtype=float)
        self.errors = np.sqrt(np.clip(np.diag(self.cov), 0, None))
        self.chi2 = float(chi2)
        self.dof = int(dof)
        from scipy.special import chdtrc      # chi^2 survival function (scipy.stats is slow to import)
        self.pvalue = float(chdtrc(dof, chi2)) if dof > 0 else float("nan")
        self.x, self.y, self.dy = x, y, dy
        self._func = func
        self.model = model
        self._main = main
        for a in (self.values, self.cov, self.errors):
            a.setflags(write=False)

    def __getitem__(self, name) -> Param:
        try:
            i = self.names.index(name)
        except ValueError:
            raise KeyError(f"no parameter {name!r}; this fit has {self.names}") from None
        return Param(float(self.values[i]), float(self.errors[i]))

    def __call__(self, x):
        return self._func(np.asarray(x, dtype=float), *self.values)

    @property
    def exponent(self) -> Param:
        """The parameter this fit is about (see the function that made it)."""
        if self._main is None:
            raise AttributeError("this fit has no designated exponent")
        return self[self._main]

    @property
    def params(self) -> dict:
        """{name: Param}."""
        return {n: self[n] for n in self.names}

    def __repr__(self):
        ps = ", ".join(f"{n}={v:.6g}±{e:.2g}" for n, v, e in
                       zip(self.names, self.values, self.errors))
        return f"<FitResult {self.model}: {ps}; chi2/dof={self.chi2:.3g}/{self.dof}>"


# --------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------
def _data(x, y, dy, names=("L", "y", "dy"), positive_x=True):
    nx, ny, nd = names
    arrs = []
    for v, n in ((x, nx), (y, ny), (dy, nd)):
        a = np.asarray(v, dtype=float)
        if a.ndim != 1:
            raise ValueError(f"{n} must be a 1-D array, got shape {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{n} contains non-finite values (nan or inf)")
        arrs.append(a)
    x, y, dy = arrs
    if not (len(x) == len(y) == len(dy)):
        raise ValueError(f"{nx}, {ny} and {nd} must have the same length, got "
                         f"{len(x)}, {len(y)}, {len(dy)} (mismatched shapes)")
    if np.any(dy <= 0):
        raise ValueError(f"{nd} must be positive standard errors")
    if positive_x and np.any(x <= 0):
        raise ValueError(f"{nx} must be positive")
    return x, y, dy


def _need_points(n, p, what):
    if n < p:
        raise ValueError(f"{what} has {p} free parameters and needs at least {p} data points, "
                         f"got {n}")
    if n == p:
        warnings.warn(f"{what}: as many parameters as points (dof = 0); the fit passes through "
                      "the data and chi^2 says nothing", RuntimeWarning, stacklevel=3)


# --------------------------------------------------------------------------
# generic fit
# --------------------------------------------------------------------------
def fit(func: Callable, x, y, dy, p0, names, *, scale_errors=False, model="", main=None,
        bounds=(-np.inf, np.inf)) -> FitResult:
    r"""Weighted least squares :math:`\min_p \sum_i (y_i - f(x_i; p))^2/\sigma_i^2`.

    Levenberg-Marquardt (or trust-region with ``bounds``) from ``p0``; the
    covariance is :math:`(J^TJ)^{-1}` with :math:`J_{ij} = \partial r_i/\partial p_j`
    of the weighted residuals :math:`r_i = (y_i - f_i)/\sigma_i`, multiplied by
    :math:`\max(1, \chi^2/\mathrm{dof})` if ``scale_errors``.

    Parameters
    ----------
    func : callable
        ``func(x, *params) -> y``.
    x, y, dy : array_like (n,)
        Data and standard errors (``dy > 0``).
    p0 : sequence of float
        Starting values.
    names : sequence of str
        Parameter names.
    """
    x = np.asarray(x, dtype=float)
    y, dy = _data(x, y, dy, ("x", "y", "dy"), positive_x=False)[1:]
    p0 = np.asarray(p0, dtype=float)
    _need_points(len(x), len(p0), model or "fit")

    def resid(p):
        return (y - func(x, *p)) / dy

    method = "lm" if np.all(np.isinf(bounds[0])) and np.all(np.isinf(bounds[1])) and \
        len(x) >= len(p0) else "trf"
    from scipy import optimize       # imported here: keeps `import kadanoff` fast
    sol = optimize.least_squares(resid, p0, method=method, bounds=bounds, x_scale="jac",
                                 xtol=1e-14, ftol=1e-14, gtol=1e-14, max_nfev=20000)
    J = sol.jac
    cov = np.linalg.pinv(J.T @ J)
    chi2 = float(np.sum(sol.fun ** 2))
    dof = len(x) - len(p0)
    if scale_errors and dof > 0 and chi2 > dof:
        cov = cov * chi2 / dof
    return FitResult(names, sol.x, cov, chi2, dof, x, y, dy, func, model, main)


# --------------------------------------------------------------------------
# power laws
# --------------------------------------------------------------------------
def _check_omega(omega, fit_omega):
    if omega is not None:
        if isinstance(omega, bool) or not isinstance(omega, numbers.Real) or \
                not (math.isfinite(omega) and omega > 0):
            raise ValueError(f"omega must be a positive number, got {omega!r}")
    if fit_omega and omega is None:
        omega = 1.0
    return omega


def power_law(L, y, dy, *, sign=1, name="exponent", omega=None, fit_omega=False,
              L_min=None, scale_errors=False) -> FitResult:
    r"""Fit :math:`y = a L^{s p}\,(1 + b L^{-\omega})`; ``sign`` :math:`s = \pm 1`.

    Without ``omega`` the correction term is absent (two parameters ``a`` and
    ``p``); with ``omega`` fixed, ``b`` is fitted too; with ``fit_omega=True``
    :math:`\omega` is fitted as well (``omega`` is then its starting value,
    default 1). Starting values come from a straight line through
    :math:`(\ln L, \ln|y|)`.

    Parameters
    ----------
    L, y, dy : array_like (n,)
        Sizes, values and their standard errors.
    sign : +1 or -1
        -1 for decaying quantities so that the reported exponent is positive
        (e.g. :math:`\beta/\nu` from :math:`\langle|m|\rangle \propto L^{-\beta/\nu}`).
    name : str
        Name of :math:`p` in the result.
    L_min : float, optional
        Use only sizes :math:`L \ge L_\mathrm{min}`.

    Returns
    -------
    FitResult
        Parameters ``("amplitude", name[, "correction"[, "omega"]])``;
        ``result.exponent`` is :math:`p`.
    """
    L, y, dy = _data(L, y, dy)
    if sign not in (1, -1):
        raise ValueError(f"sign must be +1 or -1, got {sign!r}")
    if L_min is not None:
        keep = L >= L_min
        L, y, dy = L[keep], y[keep], dy[keep]
    if len(np.unique(L)) < 2:
        raise ValueError(f"a power-law fit needs at least 2 different sizes L, got {np.unique(L)}")
    if np.any(y == 0) or (np.any(y > 0) and np.any(y < 0)):
        raise ValueError("y must be non-zero and of one sign for a power-law fit")
    omega = _check_omega(omega, fit_omega)
    slope, icpt = np.polyfit(np.log(L), np.log(np.abs(y)), 1, w=np.abs(y) / dy)
    a0, p0 = math.copysign(math.exp(icpt), y[0]), sign * slope
    desc = f"y = a L^({'+' if sign > 0 else '-'}{name})"
    if omega is None:
        def f(x, a, p):
            return a * x ** (sign * p)
        return fit(f, L, y, dy, [a0, p0], ["amplitude", name], scale_errors=scale_errors,
                   model=desc, main=name)
    if not fit_omega:
        def g(x, a, p, b):
            return a * x ** (sign * p) * (1 + b * x ** (-omega))
        return fit(g, L, y, dy, [a0, p0, 0.0], ["amplitude", name, "correction"],
                   scale_errors=scale_errors, model=desc + f" (1 + b L^-{omega:g})", main=name)

    def h(x, a, p, b, w):
        return a * x ** (sign * p) * (1 + b * x ** (-w))
    return fit(h, L, y, dy, [a0, p0, 0.0, omega], ["amplitude", name, "correction", "omega"],
               scale_errors=scale_errors, model=desc + " (1 + b L^-omega)", main=name)


def gamma_over_nu(L, chi, dchi, **kw) -> FitResult:
    r""":math:`\gamma/\nu` from :math:`\chi(L) = a L^{\gamma/\nu}(1 + bL^{-\omega})`.

    ``chi`` at a fixed temperature (:math:`T_c`, or a Binder crossing) or the
    peak heights of the finite-size susceptibility. Keywords as :func:`power_law`.
    """
    return power_law(L, chi, dchi, sign=1, name="gamma/nu", **kw)


def beta_over_nu(L, m, dm, **kw) -> FitResult:
    r""":math:`\beta/\nu` from :math:`\langle|m|\rangle(L) = a L^{-\beta/\nu}(1 + bL^{-\omega})`.

    ``m`` at :math:`T_c` (or at a Binder crossing). Keywords as :func:`power_law`.
    """
    return power_law(L, m, dm, sign=-1, name="beta/nu", **kw)


def inv_nu(L, d, dd, **kw) -> FitResult:
    r""":math:`1/\nu` from a temperature derivative, :math:`D(L) = a L^{1/\nu}(1+bL^{-\omega})`.

    Suitable :math:`D`: :math:`\partial U/\partial\beta` of the Binder
    cumulant, :math:`\partial\ln\langle|m|\rangle/\partial\beta`,
    :math:`\partial\ln\langle m^2\rangle/\partial\beta` (see
    ``SingleHistogram.binder_derivative`` / ``log_derivative``). Its sign
    does not matter (:math:`\partial U/\partial\beta > 0`, the others too).
    """
    return power_law(L, d, dd, sign=1, name="1/nu", **kw)


def dynamic_exponent(L, tau, dtau, **kw) -> FitResult:
    r"""Dynamic exponent :math:`z` from :math:`\tau_\mathrm{int}(L) = a L^{z}(1 + bL^{-\omega})`.

    Use the autocorrelation time of a slow observable (energy, :math:`m^2`)
    in sweeps, with its Madras-Sokal error (``tau_int(x, return_error=True)``).
    """
    return power_law(L, tau, dtau, sign=1, name="z", **kw)


def peak_shift(L, T_peak, dT, *, Tc=None, inv_nu=None, scale_errors=False) -> FitResult:
    r"""Fit peak (or crossing) positions :math:`T^*(L) = T_c + a L^{-1/\nu}`.

    ``Tc`` and/or ``inv_nu`` may be fixed to known values; the remaining
    parameters (``"Tc"``, ``"a"``, ``"1/nu"``) are fitted. With both free at
    least 3 sizes are needed (4 for a meaningful chi^2).

    Returns
    -------
    FitResult
        ``exponent`` is ``1/nu`` if fitted, else ``Tc``.
    """
    L, T_peak, dT = _data(L, T_peak, dT, ("L", "T_peak", "dT"))
    if len(np.unique(L)) < 2:
        raise ValueError(f"peak_shift needs at least 2 different sizes L, got {np.unique(L)}")
    T_inf = float(T_peak[np.argmax(L)])
    if Tc is None and inv_nu is None:
        # starting values: 1/nu = 1, then linear in L^-1
        A = np.column_stack([np.ones_like(L), L ** -1.0])
        c0, a0 = np.linalg.lstsq(A / dT[:, None], T_peak / dT, rcond=None)[0]

        def f(x, tc, a, p):
            return tc + a * x ** (-p)
        return fit(f, L, T_peak, dT, [c0, a0, 1.0], ["Tc", "a", "1/nu"],
                   scale_errors=scale_errors, model="T* = Tc + a L^(-1/nu)", main="1/nu",
                   bounds=([-np.inf, -np.inf, 1e-3], [np.inf, np.inf, 20.0]))
    if Tc is None:
        p = float(inv_nu)

        def g(x, tc, a):
            return tc + a * x ** (-p)
        return fit(g, L, T_peak, dT, [T_inf, 0.0], ["Tc", "a"], scale_errors=scale_errors,
                   model=f"T* = Tc + a L^(-{p:g})", main="Tc")
    tc = float(Tc)
    d = T_peak - tc
    if np.any(d == 0) or (np.any(d > 0) and np.any(d < 0)):
        raise ValueError("with Tc fixed, T_peak - Tc must be non-zero and of one sign")
    if inv_nu is None:
        slope, icpt = np.polyfit(np.log(L), np.log(np.abs(d)), 1)

        def h(x, a, p):
            return tc + a * x ** (-p)
        return fit(h, L, T_peak, dT, [math.copysign(math.exp(icpt), d[0]), max(-slope, 1e-2)],
                   ["a", "1/nu"], scale_errors=scale_errors,
                   model=f"T* = {tc:g} + a L^(-1/nu)", main="1/nu",
                   bounds=([-np.inf, 1e-3], [np.inf, 20.0]))
    raise ValueError("Tc and inv_nu cannot both be fixed: nothing would be fitted but a")


# --------------------------------------------------------------------------
# BKT
# --------------------------------------------------------------------------
def helicity_crossing(T, Upsilon, dUpsilon=None, *, replicas=None, n_boot=1000, rng=None):
    r"""Temperature where the helicity modulus crosses the universal line :math:`2T/\pi`.

    The root of :math:`\Upsilon_L(T) - 2T/\pi` (first sign change on the
    increasing grid ``T``, linear interpolation). Error: from jackknife
    ``replicas`` of :math:`\Upsilon` (shape (B, n_T), e.g. from
    ``SingleHistogram.replicas("helicity", T)``) if given, else a parametric
    bootstrap drawing each point from a normal distribution with ``dUpsilon``
    (independent points, e.g. independent runs).

    Returns
    -------
    Param
        ``(T*, error)``; NaN if there is no crossing on the grid.
    """
    from .fss import curve_crossing
    T = np.asarray(T, dtype=float)
    U = np.asarray(Upsilon, dtype=float)
    if T.ndim != 1 or len(T) < 2 or np.any(np.diff(T) <= 0):
        raise ValueError("T must be a strictly increasing 1-D array with at least 2 entries")
    if U.shape != T.shape or not np.all(np.isfinite(U)):
        raise ValueError(f"Upsilon must be finite with the shape of T {T.shape}, got {U.shape}")
    line = 2.0 * T / math.pi
    t0 = curve_crossing(T, line, U)
    if math.isnan(t0):
        warnings.warn("the helicity modulus does not cross 2T/pi on this temperature grid",
                      RuntimeWarning, stacklevel=2)
        return Param(float("nan"), float("nan"))
    if replicas is not None:
        R = np.asarray(replicas, dtype=float)
        if R.ndim != 2 or R.shape[1] != len(T):
            raise ValueError(f"replicas must have shape (B, {len(T)}), got {R.shape}")
        ts = np.array([curve_crossing(T, line, r) for r in R])
        ts = ts[np.isfinite(ts)]
        B = len(R)
        err = math.sqrt((B - 1) / B * np.sum((ts - ts.mean()) ** 2)) if len(ts) > 1 else math.nan
        return Param(t0, err)
    if dUpsilon is None:
        raise ValueError("give dUpsilon (standard errors) or jackknife replicas")
    dU = np.asarray(dUpsilon, dtype=float)
    if dU.shape != T.shape or not np.all(np.isfinite(dU)) or np.any(dU < 0):
        raise ValueError("dUpsilon must be non-negative finite errors with the shape of T")
    gen = np.random.default_rng(rng)
    draws = U + dU * gen.standard_normal((n_boot, len(T)))
    ts = np.array([curve_crossing(T, line, d) for d in draws])
    ts = ts[np.isfinite(ts)]
    return Param(t0, float(np.std(ts, ddof=1)) if len(ts) > 1 else math.nan)


def bkt_extrapolate(L, T_star, dT, *, l0=1.0, scale_errors=False) -> FitResult:
    r"""Extrapolate finite-size BKT estimates with the logarithmic correction.

    .. math:: T^*(L) = T_\mathrm{BKT} + \frac{c}{\ln^2(L/l_0)}

    (Kosterlitz-Thouless renormalisation flow; :math:`l_0` is a
    non-universal length of order the lattice spacing, fixed here). Linear
    weighted least squares in :math:`1/\ln^2(L/l_0)`; ``result.exponent`` is
    ``T_BKT``.
    """
    L, T_star, dT = _data(L, T_star, dT, ("L", "T_star", "dT"))
    l0 = float(l0)
    if not (l0 > 0) or np.any(L <= l0):
        raise ValueError(f"l0 must be positive and smaller than every L, got l0={l0}")
    if len(np.unique(L)) < 2:
        raise ValueError("bkt_extrapolate needs at least 2 different sizes L")

    def f(x, tb, c):
        return tb + c / np.log(x / l0) ** 2
    return fit(f, L, T_star, dT, [float(T_star[np.argmax(L)]), 0.0], ["T_BKT", "c"],
               scale_errors=scale_errors, model="T* = T_BKT + c / ln^2(L/l0)", main="T_BKT")


def weber_minnhagen(T, sizes, Upsilon, dUpsilon):
    r"""Weber-Minnhagen fit of the helicity modulus at each temperature.

    At :math:`T_\mathrm{BKT}` the size dependence is
    :math:`\Upsilon(L) = \frac{2T}{\pi}\big(1 + \frac{1}{2\ln L + C}\big)`
    with one free constant :math:`C`; at other temperatures this form fits
    badly. For every temperature the best :math:`C` is found and the
    :math:`\chi^2` recorded; :math:`T_\mathrm{BKT}` is where
    :math:`\chi^2(T)` is smallest (parabolic refinement between grid points).

    Parameters
    ----------
    T : array (n_T,)
    sizes : array (n_L,), at least 3 sizes
    Upsilon, dUpsilon : arrays (n_L, n_T)

    Returns
    -------
    T_BKT : float
    chi2 : ndarray (n_T,)
        Minimal chi^2 at each temperature (dof = n_L - 1).
    C : ndarray (n_T,)
    """
    T = np.asarray(T, dtype=float)
    L = np.asarray(sizes, dtype=float)
    U = np.asarray(Upsilon, dtype=float)
    dU = np.asarray(dUpsilon, dtype=float)
    if T.ndim != 1 or len(T) < 3 or np.any(np.diff(T) <= 0):
        raise ValueError("T must be a strictly increasing 1-D array with at least 3 entries")
    if L.ndim != 1 or len(np.unique(L)) < 3 or np.any(L <= 1):
        raise ValueError("sizes must hold at least 3 different sizes L > 1")
    if U.shape != (len(L), len(T)) or dU.shape != U.shape:
        raise ValueError(f"Upsilon and dUpsilon must have shape (len(sizes), len(T)) = "
                         f"{(len(L), len(T))}, got {U.shape} and {dU.shape}")
    if not (np.all(np.isfinite(U)) and np.all(np.isfinite(dU)) and np.all(dU > 0)):
        raise ValueError("Upsilon must be finite and dUpsilon positive")
    chi2 = np.empty(len(T))
    Cs = np.empty(len(T))
    lnL = np.log(L)
    for k, t in enumerate(T):
        y, dy = U[:, k], dU[:, k]
        a = 2 * t / math.pi

        def c2(C):
            return float(np.sum(((y - a * (1 + 1 / (2 * lnL + C))) / dy) ** 2))
        # 2 ln L + C must stay positive for the form to make sense
        lo = -2 * lnL.min() + 1e-6
        from scipy import optimize
        res = optimize.minimize_scalar(lambda C: c2(C), bounds=(lo, lo + 1e4), method="bounded",
                                       options={"xatol": 1e-10})
        chi2[k], Cs[k] = res.fun, res.x
    i = int(np.argmin(chi2))
    if 0 < i < len(T) - 1:
        y0, y1, y2 = chi2[i - 1:i + 2]
        den = y0 - 2 * y1 + y2
        h = T[i + 1] - T[i]
        t_best = T[i] + (0.5 * h * (y0 - y2) / den if den > 0 else 0.0)
    else:
        warnings.warn("the chi^2 minimum is at the edge of the temperature grid",
                      RuntimeWarning, stacklevel=2)
        t_best = T[i]
    return float(t_best), chi2, Cs
