r"""Mean-field theory of associative memories (no Monte Carlo).

Pairwise Hopfield model: the replica-symmetric equations of Amit, Gutfreund
and Sompolinsky (AGS; Phys. Rev. Lett. 55, 1530 (1985); Ann. Phys. 173, 30
(1987)) for :math:`H = -\frac N2 \sum_\mu m_\mu^2` with P = alpha N random
+-1 patterns, one of them condensed (k_B = 1, beta = 1/T):

.. math::
    m = \langle \tanh \beta(m + \sqrt{\alpha r}\, z) \rangle_z, \quad
    q = \langle \tanh^2 \beta(m + \sqrt{\alpha r}\, z) \rangle_z, \quad
    r = \frac{q}{(1 - \beta(1 - q))^2}

(z standard normal). m is the retrieval overlap, q the Edwards-Anderson
order parameter and alpha r the variance of the noise from the P - 1 other
patterns. At T = 0, with :math:`y = m / \sqrt{2 \alpha r}`,
:math:`\mathrm{erf}(y) = y (\sqrt{2\alpha} + \tfrac{2}{\sqrt\pi} e^{-y^2})`,
m = erf(y), C = beta(1 - q) = a / (1 + a), :math:`a = \sqrt{2/(\pi\alpha)}
e^{-y^2}`, r = (1 + a)^2. Landmarks: retrieval solutions exist below the line
:math:`T_M(\alpha)`, up to :math:`\alpha_c \approx 0.138` at T = 0 (where
m = 0.967); they are global minima below :math:`T_c(\alpha)` (alpha < 0.0518
at T = 0; slightly re-entrant in RS); the spin-glass transition is :math:`T_g = 1 + \sqrt\alpha`.

RS free energy per neuron (the AGS convention J_ii = 0 adds alpha/2):

.. math::
    f = \tfrac{\alpha}{2} + \tfrac{m^2}{2}
        + \tfrac{\alpha}{2\beta}\Big[\ln(1 - C) - \tfrac{\beta q}{1 - C}\Big]
        + \tfrac{\alpha\beta}{2} r (1 - q)
        - \tfrac1\beta \langle \ln 2\cosh\beta(m + \sqrt{\alpha r} z) \rangle,
    \qquad C = \beta(1 - q),

with internal energy :math:`u = \tfrac\alpha2 - \tfrac{m^2}{2} - \tfrac\alpha2
\big[\tfrac{1}{1-C} + \tfrac{C q}{(1-C)^2}\big]`.

Dense p-body networks at low load (P finite, N -> infinity), :math:`H = -N
\sum_\mu m_\mu^p`, one condensed pattern: :math:`m = \tanh(\beta p m^{p-1})`,
:math:`f = (p-1) m^p - T \ln 2\cosh(\beta p m^{p-1})`; for p >= 3 the
retrieval state appears discontinuously at a spinodal T_M(p) and becomes
stable below T_c(p) (f = -T ln 2).

Multitasking (diluted patterns, entries 0 with probability d) at low load:
:math:`m_\mu = \langle \xi^\mu \tanh(\beta \sum_\nu \xi^\nu m_\nu) \rangle_\xi`
(sign at T = 0), whose signal-to-noise solution from the hierarchical
(cascade) state :math:`m_k = (1 - d) d^{k-1}` is stable while the signal of
each pattern beats the sum of the weaker ones (d < 1/2 for many patterns).

Hebbian storage from examples of quality r: the zero-load, zero-noise state
of the supervised network is the majority vote of the M examples, whose
overlap with the archetype is :func:`supervised_overlap`.
"""
from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import numpy as np
from scipy import optimize, special

__all__ = ["AGSSolution", "ALPHA_C", "T_M", "T_c", "T_g", "alpha_M", "alpha_T_c", "alpha_c",
           "dense_free_energy", "dense_solve", "dense_transition", "free_energy",
           "hierarchical_amplitudes", "internal_energy", "multitasking_amplitudes",
           "retrieval_exists", "solve", "solve_T0", "supervised_overlap"]

ALPHA_C = 0.1379   # AGS capacity at T = 0 (RS), to the digits quoted in the literature


class AGSSolution(NamedTuple):
    """A solution of the RS equations: overlap m, EA parameter q, noise
    variance factor r, free energy f and internal energy u per neuron
    (AGS convention J_ii = 0), and C = beta (1 - q) (finite at T = 0)."""

    m: float
    q: float
    r: float
    f: float
    u: float
    C: float


# ---------------------------------------------------------------------------
# checks and Gaussian averages
# ---------------------------------------------------------------------------
def _nonneg(name, x, strict=False):
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not math.isfinite(x):
        raise ValueError(f"{name} must be a finite real number, got {x!r}")
    x = float(x)
    if x < 0 or (strict and x == 0):
        raise ValueError(f"{name} must be {'> 0' if strict else '>= 0'}, got {x}")
    return x


def _simpson(a, b, h):
    """Nodes and Simpson weights on [a, b] with spacing <= h."""
    n = max(2, math.ceil((b - a) / h))
    n += n % 2
    x = np.linspace(a, b, n + 1)
    w = np.ones(n + 1)
    w[1:-1:2] = 4.0
    w[2:-1:2] = 2.0
    return x, w * (b - a) / (3.0 * n)


def _avg(beta, m, sigma):
    """<tanh x>, <tanh^2 x>, <ln 2 cosh x> for x = beta (m + sigma z), z ~ N(0, 1).

    Each average is a closed form for the asymptote (sign x, 1, |x|) plus a
    correction localised within |x| < 30 (tanh x - sign x, -sech^2 x,
    ln(1 + e^{-2|x|})), integrated by Simpson's rule on each side of x = 0,
    so that steep (low T) and broad (large noise) cases are both accurate.
    """
    mu = beta * m
    s = beta * sigma
    if s < 1e-12:
        t = math.tanh(mu)
        return t, t * t, abs(mu) + math.log1p(math.exp(-2 * abs(mu)))
    e = special.erf(mu / (s * math.sqrt(2)))
    t_mean = float(e)
    t2_mean = 1.0
    l_mean = float(s * math.sqrt(2 / math.pi) * math.exp(-mu * mu / (2 * s * s)) + mu * e)
    a = max(-30.0, mu - 12 * s)
    b = min(30.0, mu + 12 * s)
    h = min(0.02, s / 40)
    for lo, hi, side in ((a, min(b, 0.0), -1.0), (max(a, 0.0), b, 1.0)):
        if hi <= lo:
            continue
        x, w = _simpson(lo, hi, h)
        w = w * np.exp(-0.5 * ((x - mu) / s) ** 2) / (s * math.sqrt(2 * math.pi))
        th = np.tanh(x)
        ax = np.abs(x)
        t_mean += float(w @ (th - side))
        t2_mean -= float(w @ (1.0 - th * th))
        l_mean += float(w @ np.log1p(np.exp(-2 * ax)))
    return t_mean, t2_mean, l_mean


# ---------------------------------------------------------------------------
# T = 0
# ---------------------------------------------------------------------------
def _t0_g(y, alpha):
    return special.erf(y) - y * (math.sqrt(2 * alpha) + 2 / math.sqrt(math.pi) * math.exp(-y * y))


def _t0_from_y(y, alpha, diagonal=True):
    m = float(special.erf(y))
    a = math.sqrt(2 / (math.pi * alpha)) * math.exp(-y * y)
    C = a / (1 + a)
    r = (1 + a) ** 2
    sigma = math.sqrt(alpha * r)
    mean_abs = m * special.erf(m / (sigma * math.sqrt(2))) + \
        sigma * math.sqrt(2 / math.pi) * math.exp(-m * m / (2 * sigma * sigma))
    e = (alpha / 2 if diagonal else 0.0) + m * m / 2 - alpha / (2 * (1 - C)) + \
        alpha * r * C / 2 - mean_abs
    u = (alpha / 2 if diagonal else 0.0) - m * m / 2 - alpha / 2 * (1 / (1 - C) + C / (1 - C) ** 2)
    return AGSSolution(m, 1.0, r, e, u, C)


def solve_T0(alpha, branch="retrieval") -> AGSSolution:
    """The T = 0 RS solution: the retrieval solution (largest y > 0) or, if
    there is none or ``branch="spin-glass"``, the m = 0 solution."""
    alpha = _nonneg("alpha", alpha, strict=True)
    if branch not in ("retrieval", "spin-glass"):
        raise ValueError(f"branch must be 'retrieval' or 'spin-glass', got {branch!r}")
    if branch == "retrieval":
        y = _t0_root(alpha)
        if y is not None:
            return _t0_from_y(y, alpha)
    return _t0_from_y(0.0, alpha)


def _t0_root(alpha):
    """Largest root y > 0 of the T = 0 equation, or None."""
    ys = np.linspace(max(6.0, 1.5 / math.sqrt(2 * alpha)), 0.02, 600)
    g = np.array([_t0_g(y, alpha) for y in ys])
    for k in range(1, len(ys)):
        if g[k - 1] <= 0 < g[k]:
            return optimize.brentq(_t0_g, ys[k], ys[k - 1], args=(alpha,), xtol=1e-14)
    # near alpha_c the positive part of g may fall between grid points
    k = int(np.argmax(g))
    lo, hi = ys[min(k + 1, len(ys) - 1)], ys[max(k - 1, 0)]
    res = optimize.minimize_scalar(lambda y: -_t0_g(y, alpha), bounds=(lo, hi),
                                   method="bounded", options={"xatol": 1e-12})
    if -res.fun > 0:
        return optimize.brentq(_t0_g, res.x, hi, args=(alpha,), xtol=1e-14)
    return None


# ---------------------------------------------------------------------------
# T > 0
# ---------------------------------------------------------------------------
def _q_of_m(m, alpha, beta):
    """EA parameter q solving q = <tanh^2> at fixed m (the physical root with
    C = beta (1 - q) < 1); 0 when only the trivial root exists."""
    qlo = max(0.0, 1.0 - 1.0 / beta)

    def psi(q):
        C = beta * (1 - q)
        r = q / (1 - C) ** 2
        return _avg(beta, m, math.sqrt(alpha * r))[1] - q

    a = qlo + 1e-13 if qlo > 0 else 1e-10
    b = 1.0 - 1e-15
    pa = psi(a)
    if pa <= 0:        # T >= 1 + sqrt(alpha) and m = 0: paramagnet
        return 0.0
    if psi(b) >= 0:    # frozen: q = 1 to double precision
        return b
    return optimize.brentq(psi, a, b, xtol=1e-14, rtol=1e-13)


def _solution(m, alpha, beta, diagonal=True):
    q = _q_of_m(m, alpha, beta)
    C = beta * (1 - q)
    r = q / (1 - C) ** 2
    f = free_energy(m, q, r, alpha, 1.0 / beta, diagonal=diagonal)
    u = (alpha / 2 if diagonal else 0.0) - m * m / 2 - alpha / 2 * (1 / (1 - C) + C * q / (1 - C) ** 2)
    return AGSSolution(float(m), float(q), float(r), f, float(u), float(C))


def _phi(m, alpha, beta):
    q = _q_of_m(m, alpha, beta)
    C = beta * (1 - q)
    r = q / (1 - C) ** 2
    return _avg(beta, m, math.sqrt(alpha * r))[0] - m


def _retrieval_m(alpha, beta):
    """Largest root m > 0 of m = <tanh>, or None."""
    grid = np.linspace(1.0, 0.005, 200)
    prev_m, prev = grid[0], _phi(grid[0], alpha, beta)
    best = (prev, prev_m)
    for m in grid[1:]:
        val = _phi(m, alpha, beta)
        if val > 0 >= prev:
            return optimize.brentq(_phi, m, prev_m, args=(alpha, beta), xtol=1e-13)
        best = max(best, (val, m))
        prev_m, prev = m, val
        if val < -0.5 and m < 0.3:
            break
    # a pair of roots closer than the grid: maximise phi near the best point
    m0 = best[1]
    res = optimize.minimize_scalar(lambda m: -_phi(m, alpha, beta),
                                   bounds=(max(m0 - 0.01, 1e-4), min(m0 + 0.01, 1.0)),
                                   method="bounded", options={"xatol": 1e-10})
    if -res.fun > 0:
        return optimize.brentq(_phi, res.x, min(m0 + 0.01, 1.0), args=(alpha, beta),
                               xtol=1e-13)
    return None


def solve(alpha, T, branch="retrieval", diagonal=True) -> AGSSolution:
    """Solve the AGS RS equations at load ``alpha`` = P / N and temperature T.

    ``branch="retrieval"``: the retrieval solution with the largest m (found
    by bracketing the m equation, with q solved at each m), or the m = 0
    solution if none exists; ``branch="spin-glass"``: the m = 0 solution
    (q > 0 below T_g = 1 + sqrt(alpha), else the paramagnet q = 0).
    ``diagonal=True`` uses the AGS convention J_ii = 0 for f and u (add
    -alpha/2 for ``kd.hopfield.Hopfield(remove_diagonal=False)``).
    alpha = 0 gives the Curie-Weiss solution m = tanh(beta m).
    """
    alpha = _nonneg("alpha", alpha)
    T = _nonneg("T", T)
    if branch not in ("retrieval", "spin-glass"):
        raise ValueError(f"branch must be 'retrieval' or 'spin-glass', got {branch!r}")
    if alpha == 0:
        return _curie_weiss(T if branch == "retrieval" else math.inf)
    if T == 0:
        sol = solve_T0(alpha, branch)
        return sol if diagonal else sol._replace(f=sol.f - alpha / 2, u=sol.u - alpha / 2)
    beta = 1.0 / T
    if branch == "retrieval":
        m = _retrieval_m(alpha, beta)
        if m is not None:
            return _solution(m, alpha, beta, diagonal)
    return _solution(0.0, alpha, beta, diagonal)


def _curie_weiss(T):
    if T >= 1:
        m = 0.0
    elif T == 0:
        m = 1.0
    else:
        m = optimize.brentq(lambda m: math.tanh(m / T) - m, 1e-12, 1.0, xtol=1e-15)
    if T == 0 or not math.isfinite(T):
        f = -m * m / 2 if T == 0 else -math.inf
        return AGSSolution(m, m * m, 0.0, f, -m * m / 2, 0.0)
    f = m * m / 2 - T * math.log(2 * math.cosh(m / T))
    return AGSSolution(m, m * m, 0.0, f, -m * m / 2, (1 - m * m) / T)


def free_energy(m, q, r, alpha, T, diagonal=True) -> float:
    """RS free energy per neuron f(m, q, r) (see the module docstring)."""
    if T == 0:
        raise ValueError("T must be > 0 (use solve_T0 for the ground-state energy)")
    beta = 1.0 / T
    C = beta * (1 - q)
    _, _, lc = _avg(beta, m, math.sqrt(alpha * r))
    f = m * m / 2 + alpha / (2 * beta) * (math.log(1 - C) - beta * q / (1 - C)) + \
        alpha * beta / 2 * r * (1 - q) - lc / beta
    return float(f + (alpha / 2 if diagonal else 0.0))


def internal_energy(alpha, T, branch="retrieval", diagonal=True) -> float:
    """RS internal energy per neuron u = <H> / N of the chosen branch."""
    return solve(alpha, T, branch, diagonal).u


def retrieval_exists(alpha, T) -> bool:
    """Whether a retrieval solution (m > 0) of the RS equations exists."""
    alpha = _nonneg("alpha", alpha)
    T = _nonneg("T", T)
    if alpha == 0:
        return T < 1
    if T == 0:
        return _t0_root(alpha) is not None
    return _retrieval_m(alpha, 1.0 / T) is not None


def alpha_M(T=0.0, tol=1e-6) -> float:
    """Largest load with a retrieval solution at temperature T (bisection):
    alpha_M(0) = alpha_c = 0.138; 0 for T >= 1."""
    T = _nonneg("T", T)
    if T >= 1:
        return 0.0
    lo, hi = 0.0, 0.2
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if mid > 0 and retrieval_exists(mid, T):
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def alpha_c(tol=1e-7) -> float:
    """AGS storage capacity at T = 0 (RS): 0.1379."""
    return alpha_M(0.0, tol)


def T_M(alpha, tol=1e-5) -> float:
    """Retrieval line: the highest temperature with a retrieval solution at
    load alpha (bisection in T); 1 at alpha = 0 and 0 beyond alpha_c. (The
    RS line is slightly re-entrant just below alpha_c; this returns the
    upper branch.)"""
    alpha = _nonneg("alpha", alpha)
    if alpha == 0:
        return 1.0
    # lower end: retrieval at some T in (0, 0.2]? (handles the re-entrance)
    lo = None
    for T in (0.0, 0.02, 0.05, 0.1, 0.2):
        if retrieval_exists(alpha, T):
            lo = T
    if lo is None:
        return 0.0
    hi = 1.0
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if retrieval_exists(alpha, mid):
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def T_g(alpha) -> float:
    """Spin-glass transition temperature T_g = 1 + sqrt(alpha)."""
    return 1.0 + math.sqrt(_nonneg("alpha", alpha))


def T_c(alpha, tol=1e-5) -> float:
    """Temperature below which the retrieval state has a lower free energy
    than the spin-glass state (0 for alpha > 0.0518, where they are equal at
    T = 0). The RS line is re-entrant: between alpha = 0.0518 and about
    0.0535 the retrieval state is the global minimum only in a window of
    T around 0.1 (a consequence of the negative entropy of the RS spin-glass
    solution); ``alpha_T_c(T)`` traces the line as alpha(T) including it.
    This function returns 0 there."""
    alpha = _nonneg("alpha", alpha)
    if alpha == 0:
        return 1.0

    def diff(T):
        r = solve(alpha, T, "retrieval")
        if r.m == 0:
            return math.inf
        return r.f - solve(alpha, T, "spin-glass").f

    if diff(0.0) > 0:
        return 0.0
    lo, hi = 0.0, T_M(alpha)
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if diff(mid) < 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def alpha_T_c(T, tol=1e-5) -> float:
    """The T_c line as a load: the largest alpha at which the retrieval state
    is the global minimum at temperature T (bisection in alpha; 0 for T >= 1).
    alpha_T_c(0) = 0.0518."""
    T = _nonneg("T", T)
    if T >= 1:
        return 0.0

    def below(alpha):
        r = solve(alpha, T, "retrieval")
        return r.m > 0 and r.f < solve(alpha, T, "spin-glass").f

    lo, hi = 0.0, min(0.08, alpha_M(T, 1e-4) + 1e-4)
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if mid > 0 and below(mid):
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


# ---------------------------------------------------------------------------
# dense p-body networks at low load
# ---------------------------------------------------------------------------
def _order(p):
    if isinstance(p, bool) or not isinstance(p, numbers.Integral) or p < 2:
        raise ValueError(f"p must be an integer >= 2, got {p!r}")
    return int(p)


def dense_free_energy(m, p, T) -> float:
    """Low-load mean-field free energy per neuron of H = -N sum_mu m_mu^p
    with one condensed pattern: f = (p - 1) m^p - T ln 2 cosh(beta p m^(p-1))."""
    p = _order(p)
    T = _nonneg("T", T, strict=True)
    h = abs(p * m ** (p - 1) / T)
    return float((p - 1) * m ** p - T * (h + math.log1p(math.exp(-2 * h))))


def dense_solve(p, T, stable=True) -> float:
    """Retrieval overlap of the dense network at low load: the largest root
    of m = tanh(beta p m^(p-1)) (T = 0: m = 1). With ``stable=True`` (the
    default) return 0 when the paramagnet (f = -T ln 2) has the lower free
    energy, i.e. above T_c(p); with ``stable=False`` the metastable
    retrieval solution up to the spinodal T_M(p)."""
    p = _order(p)
    T = _nonneg("T", T)
    if T == 0:
        return 1.0
    g = lambda m: math.tanh(p * m ** (p - 1) / T) - m
    ms = np.linspace(1.0, 1e-6, 4000)
    vals = np.array([g(m) for m in ms])
    idx = np.nonzero((vals[1:] > 0) & (vals[:-1] <= 0))[0]
    if len(idx) == 0:
        return 0.0
    k = idx[0]
    m = optimize.brentq(g, ms[k + 1], ms[k], xtol=1e-15)
    if stable and dense_free_energy(m, p, T) > -T * math.log(2):
        return 0.0
    return float(m)


def dense_transition(p):
    """(T_M, T_c) of the dense network at low load: the spinodal where the
    retrieval solution disappears and the temperature where it stops being
    the global minimum (equal for p = 2: T_M = T_c = 2)."""
    p = _order(p)
    if p == 2:
        return 2.0, 2.0

    def exists(T):
        return dense_solve(p, T, stable=False) > 0

    lo, hi = 0.01, 2.0 * p
    while hi - lo > 1e-9:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if exists(mid) else (lo, mid)
    T_spin = lo

    def df(T):
        m = dense_solve(p, T, stable=False)
        return dense_free_energy(m, p, T) + T * math.log(2)

    T_c_ = optimize.brentq(df, 0.01, T_spin - 1e-9, xtol=1e-12)
    return float(T_spin), float(T_c_)


# ---------------------------------------------------------------------------
# multitasking (diluted patterns) at low load
# ---------------------------------------------------------------------------
def hierarchical_amplitudes(d, P) -> np.ndarray:
    """Cascade state of a diluted network: m_k = (1 - d) d^(k-1), k = 1..P
    (each neuron follows the first pattern that is non-zero on it)."""
    d = _nonneg("dilution", d)
    if d >= 1:
        raise ValueError(f"dilution must be in [0, 1), got {d}")
    if isinstance(P, bool) or not isinstance(P, numbers.Integral) or P < 1:
        raise ValueError(f"P must be an integer >= 1, got {P!r}")
    return (1 - d) * d ** np.arange(P)


def multitasking_amplitudes(d, P, T=0.0, m0=None, tol=1e-12, maxiter=10_000) -> np.ndarray:
    r"""Low-load self-consistent overlaps of the multitasking network,
    :math:`m_\mu = \langle \xi^\mu \tanh(\beta \sum_\nu \xi^\nu m_\nu)\rangle`
    (T = 0: sign, with sign(0) = 0), the average running exactly over the
    3^P values of (xi^1..xi^P) (P(0) = d, P(+1) = P(-1) = (1 - d)/2).

    Solved by damped iteration from ``m0`` (default: the hierarchical
    cascade, see :func:`hierarchical_amplitudes`), so it returns the state
    that signal-to-noise analysis continues from the cascade: equal to it
    while every pattern's signal exceeds the sum of the weaker ones (d <
    1/2 for P -> infinity), flatter (parallel retrieval) beyond.
    """
    casc = hierarchical_amplitudes(d, P)
    if P > 12:
        raise ValueError(f"P must be at most 12 for the exact average (3^P terms), got {P}")
    T = _nonneg("T", T)
    vals = np.array(np.meshgrid(*[[-1, 0, 1]] * P, indexing="ij")).reshape(P, -1).T
    prob = np.prod(np.where(vals == 0, d, (1 - d) / 2), axis=1)
    m = casc.copy() if m0 is None else np.array(m0, dtype=np.float64)
    for _ in range(maxiter):
        h = vals @ m
        act = np.sign(np.where(np.abs(h) < 1e-12, 0.0, h)) if T == 0 else np.tanh(h / T)
        new = (prob * act) @ vals
        if np.max(np.abs(new - m)) < tol:
            return new
        m = 0.5 * (m + new)
    return m


# ---------------------------------------------------------------------------
# learning from examples
# ---------------------------------------------------------------------------
def supervised_overlap(M, r) -> float:
    r"""Overlap with the archetype of the majority vote of M examples of
    quality r: :math:`\langle \mathrm{sign} \sum_{a=1}^M \chi_a \rangle`,
    :math:`P(\chi = 1) = (1 + r)/2`, sign(0) = 0. This is the zero-noise,
    low-load retrieval overlap of ``kd.hopfield.Supervised`` (for odd M;
    for even M, ties are decided by the dynamics, on average 0)."""
    if isinstance(M, bool) or not isinstance(M, numbers.Integral) or M < 1:
        raise ValueError(f"M must be an integer >= 1, got {M!r}")
    r = _nonneg("r", r)
    if r > 1:
        raise ValueError(f"r must be in [0, 1], got {r}")
    k = np.arange(M + 1)
    pr = (1 + r) / 2
    with np.errstate(divide="ignore"):
        logp = (special.gammaln(M + 1) - special.gammaln(k + 1) - special.gammaln(M - k + 1)
                + special.xlogy(k, pr) + special.xlog1py(M - k, -pr))
    return float(np.exp(logp) @ np.sign(2 * k - M))
