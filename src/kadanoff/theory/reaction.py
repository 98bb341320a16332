"""References for stochastic reaction-diffusion systems (no Monte Carlo).

- :class:`MasterEquation`: the exact master equation of a small System
  (all configurations enumerated, rate matrix built from the rules,
  transient probabilities by ``scipy.linalg.expm``, mean absorption times by a
  linear solve). Independent of the engine's compiled tables.
- :func:`rate_equations` / :func:`solve_rate_equations`: mean-field rate
  equations of any System (and so of every preset), solved with scipy.
- :func:`annihilation_chain_density`: exact density of diffusion-limited
  A + A -> 0 on the infinite chain (Glauber mapping), and its asymptote.

Conventions are those of :mod:`kadanoff.models.reaction`: mass action over
slots (K per site, vacancies included); neighbour rules per pair of slots on a
bond, both orientations counted, a rule with two equal reactants once per pair.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

__all__ = ["MasterEquation", "rate_equations", "solve_rate_equations",
           "annihilation_chain_density", "annihilation_amplitude", "two_species_amplitude",
           "DP_1D", "CP_1D_CRITICAL"]

#: Directed-percolation exponents in 1+1 dimensions (Jensen 1999, series):
#: survival P ~ t^-delta, particles N ~ t^eta, spread R^2 ~ t^(2/z).
DP_1D = {"delta": 0.159464, "eta": 0.313686, "z": 1.580745}
#: Critical infection rate of the 1D contact process (Dickman & Jensen 1991; Jensen 1999).
CP_1D_CRITICAL = 3.29785


def _labels(system):
    return {"0": 0, **{s: 1 + k for k, s in enumerate(system.species)}}


def _transitions(system):
    """Rules as (kind, reactant labels, product labels, rate); site rules padded
    with vacancies to equal length."""
    lab = _labels(system)
    out = []
    for r in system.rules:
        if r.rate == 0:
            continue
        if r.kind == "pair":
            out.append(("pair", tuple(lab[s] for s in r.left), tuple(lab[s] for s in r.right),
                        r.rate))
        else:
            n = max(len(r.left), len(r.right))
            left = [lab[s] for s in r.left] + [0] * (n - len(r.left))
            right = [lab[s] for s in r.right] + [0] * (n - len(r.right))
            out.append(("site", tuple(left), tuple(right), r.rate))
    return out


class MasterEquation:
    """Exact master equation of a small ``System`` (a few sites).

    A configuration is the vector of occupation numbers n[i, a] (label a =
    1..S, vacancies n[i, 0] = K - sum). ``states`` (M, N, S) lists them,
    ``Q`` (M, M) is the generator (Q[x, y] = rate x -> y, rows sum to zero).
    """

    def __init__(self, system, max_states=20000):
        N, S, K = system.n_sites, len(system.species), system.capacity
        site_states = [c for c in itertools.product(range(K + 1), repeat=S) if sum(c) <= K]
        M = len(site_states) ** N
        if M > max_states:
            raise ValueError(f"{M} configurations exceed max_states={max_states}")
        self.states = np.array([np.array(cfg) for cfg in
                                itertools.product(site_states, repeat=N)]).reshape(M, N, S)
        self.index = {st.tobytes(): k for k, st in enumerate(self.states.astype(np.int64))}
        self.system = system
        edges = np.asarray(system.lattice.edges)
        Q = np.zeros((M, M))
        trans = _transitions(system)
        for x, st in enumerate(self.states.astype(np.int64)):
            full = np.concatenate([K - st.sum(axis=1, keepdims=True), st], axis=1)  # (N, S+1)
            for kind, left, right, k in trans:
                if kind == "site":
                    for i in range(N):
                        if len(left) == 1:
                            mult = full[i, left[0]]
                        elif left[0] != left[1]:
                            mult = full[i, left[0]] * full[i, left[1]]
                        else:
                            mult = full[i, left[0]] * (full[i, left[0]] - 1) / 2
                        if mult > 0:
                            new = full.copy()
                            for a in left:
                                new[i, a] -= 1
                            for a in right:
                                new[i, a] += 1
                            self._add(Q, x, new, k * mult)
                else:
                    (a, b), (a2, b2) = left, right
                    f = 0.5 if a == b else 1.0
                    for i, j in edges:
                        for u, v in ((i, j), (j, i)):
                            mult = full[u, a] * full[v, b]
                            if mult > 0:
                                new = full.copy()
                                new[u, a] -= 1
                                new[v, b] -= 1
                                new[u, a2] += 1
                                new[v, b2] += 1
                                self._add(Q, x, new, f * k * mult)
        np.fill_diagonal(Q, 0.0)
        np.fill_diagonal(Q, -Q.sum(axis=1))
        self.Q = Q

    def _add(self, Q, x, new_full, rate):
        y = self.index[np.ascontiguousarray(new_full[:, 1:]).tobytes()]
        if y != x:
            Q[x, y] += rate

    def state_index(self, state) -> int:
        """Index of a configuration given in any form System.check_state accepts."""
        slots = self.system.check_state(state).reshape(self.system.n_sites, -1)
        S = len(self.system.species)
        counts = np.stack([(slots == a).sum(axis=1) for a in range(1, S + 1)], axis=1)
        return self.index[counts.astype(np.int64).tobytes()]

    def probabilities(self, initial, t) -> np.ndarray:
        """p(t) = p(0) expm(Q t) for each time in ``t``; shape (len(t), M)."""
        from scipy.linalg import expm
        p0 = np.zeros(len(self.states))
        p0[self.state_index(initial)] = 1.0
        return np.array([p0 @ expm(self.Q * float(s)) for s in np.atleast_1d(t)])

    @property
    def absorbing(self) -> np.ndarray:
        """Boolean mask of absorbing configurations (no outgoing rate)."""
        return np.diag(self.Q) == 0

    def mean_absorption_time(self, initial) -> tuple[float, float]:
        """Mean and standard deviation of the absorption time from ``initial``
        (absorption must be certain)."""
        T = ~self.absorbing
        x0 = self.state_index(initial)
        if not T[x0]:
            return 0.0, 0.0
        A = -self.Q[np.ix_(T, T)]
        m1 = np.linalg.solve(A, np.ones(T.sum()))
        m2 = np.linalg.solve(A, 2 * m1)
        k = np.nonzero(T)[0].tolist().index(x0)
        return float(m1[k]), float(math.sqrt(max(m2[k] - m1[k] ** 2, 0.0)))

    def totals(self) -> np.ndarray:
        """(M, S) total particle numbers of each species per configuration."""
        return self.states.sum(axis=1)


# -------------------------------------------------------------- mean field


def rate_equations(system):
    """Mean-field right-hand side f(t, rho) for the per-site densities rho (S,).

    Slots are independent with occupation probabilities c_a = rho_a / K (c_0 =
    1 - sum). Fluxes per site: K k c_x (one slot), K(K-1) k c_x c_y or
    K(K-1)/2 k c_x^2 (on-site pairs), z K^2 k c_x c_y or z K^2/2 k c_x^2
    (neighbour rules; z = mean degree). E.g. contact process:
    d rho/dt = rate rho (1 - rho) - rho.
    """
    K = system.capacity
    z = 2.0 * system.lattice.n_bonds / system.n_sites
    S = len(system.species)
    terms = []
    for kind, left, right, k in _transitions(system):
        delta = np.zeros(S + 1)
        for a in left:
            delta[a] -= 1
        for a in right:
            delta[a] += 1
        if not np.any(delta):
            continue
        if kind == "site" and len(left) == 1:
            coef = K * k
        elif kind == "site":
            coef = K * (K - 1) * k * (0.5 if left[0] == left[1] else 1.0)
        else:
            coef = z * K * K * k * (0.5 if left[0] == left[1] else 1.0)
        terms.append((left, coef, delta[1:] ))

    def f(t, rho):
        c = np.empty(S + 1)
        c[1:] = np.asarray(rho) / K
        c[0] = 1.0 - c[1:].sum()
        out = np.zeros(S)
        for left, coef, delta in terms:
            flux = coef
            for a in left:
                flux = flux * c[a]
            out += flux * delta
        return out

    return f


def solve_rate_equations(system, t, rho0):
    """Solve the mean-field rate equations (scipy ``solve_ivp``, LSODA, rtol 1e-9).

    ``rho0``: initial densities per site, a sequence (S,) or a mapping
    {species: density}. Returns an array (len(t), S).
    """
    from scipy.integrate import solve_ivp
    S = len(system.species)
    if isinstance(rho0, dict):
        r = np.zeros(S)
        for k, v in rho0.items():
            r[system.species.index(k)] = v
        rho0 = r
    rho0 = np.asarray(rho0, dtype=float).reshape(S)
    t = np.asarray(t, dtype=float)
    sol = solve_ivp(rate_equations(system), (0.0, float(t.max())), rho0, t_eval=t,
                    method="LSODA", rtol=1e-9, atol=1e-12)
    if not sol.success:  # pragma: no cover
        raise RuntimeError(sol.message)
    return sol.y.T


# -------------------------------------------------------- exact 1D results


def annihilation_chain_density(t, D=1.0, rho0=1.0, kmax=None):
    """Exact density of A + A -> 0 on the infinite chain, diffusion-limited.

    Convention: particles hop to each empty neighbour at rate D and a
    neighbouring pair annihilates at rate 2D (= "a particle hopping onto an
    occupied site annihilates with it"; the default of
    ``kadanoff.reaction.annihilation``); initial sites occupied independently
    with probability rho0. The particles are the domain walls of the
    zero-temperature Glauber chain (Glauber 1963; Racz 1985; Amar & Family
    1990) in time units t_G = 2 D t, so rho = (1 - G_1)/2 with
    dG_k/dt_G = -2 G_k + G_(k-1) + G_(k+1), G_0 = 1, G_k(0) = (1 - 2 rho0)^k,
    solved here numerically (k <= kmax). Asymptotically
    rho -> 1/sqrt(8 pi D t) (:func:`annihilation_amplitude`).
    """
    from scipy.integrate import solve_ivp
    t = np.atleast_1d(np.asarray(t, dtype=float))
    tg = 2.0 * D * t
    c = 1.0 - 2.0 * rho0
    if kmax is None:
        kmax = int(60 + 12 * math.sqrt(tg.max() + 1))
    k = np.arange(1, kmax + 1)
    g0 = c ** k

    def far(s):   # bulk solution beyond kmax: G_k = c^k exp((c + 1/c - 2) s)
        if c == 0:
            return 0.0
        return c ** (kmax + 1) * math.exp((c + 1.0 / c - 2.0) * s)

    def rhs(s, g):
        left = np.concatenate([[1.0], g[:-1]])
        right = np.concatenate([g[1:], [far(s)]])
        return -2.0 * g + left + right

    sol = solve_ivp(rhs, (0.0, float(tg.max())), g0, t_eval=np.sort(tg), method="RK45",
                    rtol=1e-10, atol=1e-13)
    g1 = np.empty_like(tg)
    g1[np.argsort(tg)] = sol.y[0]
    return (1.0 - g1) / 2.0


def annihilation_amplitude(D=1.0, coalescence=False):
    """A with rho(t) ~ A t^(-1/2) on the chain: 1/sqrt(8 pi D) for A + A -> 0,
    1/sqrt(2 pi D) for A + A -> A (diffusion-limited; Torney & McConnell 1983,
    Spouge 1988; ben-Avraham & Havlin, Diffusion and Reactions in Fractals and
    Disordered Systems, ch. 13)."""
    return 1.0 / math.sqrt((2.0 if coalescence else 8.0) * math.pi * D)


def two_species_amplitude(D=1.0, density=1.0, d=1):
    """A with rho_A(t) ~ A t^(-d/4) for A + B -> 0 from a random mixture.

    Gaussian-field estimate (Toussaint & Wilczek 1983): with equal hopping
    rates and reaction rate 2D, phi = n_A - n_B obeys the lattice diffusion
    equation exactly on average; initial sites hold A or B with probability
    ``density``/2 each, so phi has variance ``density`` per site, and after
    segregation ``rho_A = <|phi|>/2`` with phi Gaussian of variance
    density / (8 pi D t)^(d/2):  A = (1/2) sqrt(2 density / pi) (8 pi D)^(-d/4).
    Approached slowly (relative corrections ~ t^(-1/4) on the chain).
    """
    return 0.5 * math.sqrt(2.0 * density / math.pi) * (8.0 * math.pi * D) ** (-d / 4.0)
