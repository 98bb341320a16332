r"""Associative memories: Hopfield, dense, exponential, multitasking and
Hebbian networks learnt from examples.

N binary neurons :math:`\sigma_i = \pm 1` store P vectors :math:`\xi^\mu`
(rows of ``patterns``, shape (P, N)); the Mattis overlaps are

.. math:: m_\mu(\sigma) = \frac1N \sum_i \xi^\mu_i \sigma_i .

Energies (lower is better; k_B = 1):

* ``Hopfield``: :math:`H = -\frac N2 \sum_\mu m_\mu^2` (Hebbian, pairwise)
* ``Multitasking``: the same with diluted patterns, :math:`\xi^\mu_i \in \{-1, 0, 1\}`
* ``DenseHopfield``: :math:`H = -N \sum_\mu m_\mu^p`, p = 2, 3, 4, ...
* ``ExponentialHopfield``: :math:`H = -\frac N\lambda \sum_\mu e^{\lambda (m_\mu - 1)}`
* ``Supervised``: :math:`H = -N \sum_\mu n_\mu^p`, :math:`n_\mu` the overlap
  with the mean of the examples labelled :math:`\mu`
* ``Unsupervised``: :math:`H = -\frac NM \sum_a n_a^p` over all examples

Every model runs through ``kd.Simulation(model, T=..., algorithm="glauber" |
"metropolis", rng=...)`` and records ``e`` (H / N) and ``overlap`` (one row
of overlaps per measurement). The energy change of a single flip is computed
from the overlaps in O(P) (cext/hopfield.pyx), never from an N x N matrix;
for P >= 256 most proposals are settled exactly from the few largest terms
and a bound on the rest (``res.meta["algorithm_info"]["screened"]`` is the
fraction), which makes retrieval-state sampling of dense networks with
P ~ N about as cheap per update as a small pairwise network. One sweep is N
proposals: neurons in index order (default for Glauber) or drawn at random
(default for Metropolis; option ``sweep=``).

Continuous modern Hopfield networks (Ramsauer et al. 2020) are in
:func:`modern_update` and :func:`modern_energy`.
"""
from __future__ import annotations

import math
import numbers
from math import comb
from typing import NamedTuple

import numpy as np

from .. import _hopfield, _random
from .base import Model, Updater, check_spins, random_spins

__all__ = ["DenseHopfield", "ExponentialHopfield", "Hopfield", "Multitasking", "Retrieval",
           "Supervised", "Unsupervised", "binarize", "correlated_patterns", "corrupt",
           "modern_energy", "modern_update", "noisy_examples", "random_patterns"]

_METROPOLIS, _GLAUBER = 0, 1
_POLY, _EXP = 0, 1
_ALIASES = {"heatbath": "glauber", "heat-bath": "glauber", "glauber": "glauber",
            "metropolis": "metropolis"}


# ---------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------
def _count(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def _real(name, value, lo=None, hi=None, lo_open=False, hi_open=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    value = float(value)
    bad_lo = lo is not None and (value <= lo if lo_open else value < lo)
    bad_hi = hi is not None and (value >= hi if hi_open else value > hi)
    if bad_lo or bad_hi:
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        raise ValueError(f"{name} must be in {left}{lo if lo is not None else '-inf'}, "
                         f"{hi if hi is not None else 'inf'}{right}, got {value}")
    return value


def _int_array(x, name, ndim, allowed, what):
    """x as an int8 array with ndim dimensions, every entry in `allowed`
    ((-1, 1) or (-1, 0, 1))."""
    arr = np.asarray(x)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.number)):
        raise ValueError(f"{name} must be a numeric array of {what}, got dtype {arr.dtype}")
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {arr.shape}")
    if arr.size:
        flat = arr.reshape(-1)
        step = 1 << 22                           # bounded temporaries for large arrays
        for k in range(0, flat.size, step):
            part = flat[k:k + step]
            ok = (part == 1) | (part == -1)
            if 0 in allowed:
                ok |= part == 0
            if not ok.all():
                bad = part[~ok][:3]
                raise ValueError(f"{name} must contain only {what}, found {bad.tolist()}")
    return np.ascontiguousarray(arr, dtype=np.int8)


def _patterns(patterns, allow_zero=False, name="patterns"):
    allowed = (-1, 0, 1) if allow_zero else (-1, 1)
    what = "-1, 0 and +1" if allow_zero else "+1 and -1"
    arr = np.asarray(patterns) if not isinstance(patterns, np.ndarray) else patterns
    if np.ndim(arr) != 2:
        raise ValueError(f"{name} must be a 2-D array of shape (P, N) (one pattern per row), "
                         f"got shape {np.shape(arr)}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one pattern (P >= 1), got shape {arr.shape}")
    if arr.shape[1] == 0:
        raise ValueError(f"{name} must have at least one neuron (N >= 1), got shape {arr.shape}")
    return _int_array(arr, name, 2, allowed, what)


def _order(p):
    if isinstance(p, bool) or not isinstance(p, numbers.Integral):
        raise ValueError(f"p must be an integer >= 2 (the interaction order), got {p!r}")
    if p < 2:
        raise ValueError(f"p must be an integer >= 2 (the interaction order), got {p}")
    if p > 32:
        raise ValueError(f"p must be at most 32, got {p}")
    return int(p)


def _temperature(T):
    if isinstance(T, bool) or not isinstance(T, numbers.Real) or not math.isfinite(T) or T < 0:
        raise ValueError(f"T must be a finite temperature >= 0, got {T!r}")
    return float(T)


# ---------------------------------------------------------------------------
# pattern generators
# ---------------------------------------------------------------------------
def random_patterns(P, N, bias=0.0, dilution=0.0, rng=None) -> np.ndarray:
    r"""P random patterns of N entries, shape (P, N), dtype int8.

    Each entry is 0 with probability ``dilution`` (d) and otherwise +1 with
    probability (1 + bias) / 2 and -1 with probability (1 - bias) / 2, all
    independent: :math:`\langle \xi \rangle = (1 - d)\, b`.

    Parameters
    ----------
    P, N : int >= 1
    bias : float in [-1, 1]
    dilution : float in [0, 1)
    rng : None, int, SeedSequence or Generator
    """
    P = _count("P", P, 1)
    N = _count("N", N, 1)
    bias = _real("bias", bias, -1.0, 1.0)
    dilution = _real("dilution", dilution, 0.0, 1.0, hi_open=True)
    gen, _ = _random.make_generator(rng)
    xi = np.empty((P, N), dtype=np.int8)
    rows = max(1, (1 << 22) // N)            # bounded temporary memory for large P N
    p_plus = (1.0 - dilution) * (1.0 + bias) / 2.0
    for r0 in range(0, P, rows):
        u = gen.random((min(rows, P - r0), N))
        block = np.where(u < p_plus, 1, -1).astype(np.int8)
        if dilution > 0:
            block[u >= 1.0 - dilution] = 0
        xi[r0:r0 + len(block)] = block
    return xi


def correlated_patterns(P, N, correlation, rng=None) -> np.ndarray:
    r"""P patterns that are noisy copies of one random ancestor a, shape (P, N).

    :math:`\xi^\mu_i = a_i` with probability (1 + c) / 2, else :math:`-a_i`,
    so :math:`\langle \xi^\mu_i a_i\rangle = c` and two patterns overlap by
    :math:`c^2` on average. ``correlation`` c in [0, 1].
    """
    P = _count("P", P, 1)
    N = _count("N", N, 1)
    c = _real("correlation", correlation, 0.0, 1.0)
    gen, _ = _random.make_generator(rng)
    ancestor = np.where(gen.random(N) < 0.5, 1, -1).astype(np.int8)
    keep = gen.random((P, N)) < (1.0 + c) / 2.0
    return np.where(keep, ancestor, -ancestor).astype(np.int8)


def noisy_examples(archetypes, M, r, rng=None) -> np.ndarray:
    r"""M noisy examples of each archetype, shape (P, M, N), dtype int8.

    :math:`\eta^{\mu a}_i = \xi^\mu_i \chi^{\mu a}_i` with independent
    :math:`\chi = +1` with probability (1 + r) / 2 and -1 otherwise: the
    quality r in [0, 1] is the mean overlap of an example with its archetype.
    """
    xi = _patterns(archetypes, allow_zero=True, name="archetypes")
    M = _count("M", M, 1)
    r = _real("r", r, 0.0, 1.0)
    gen, _ = _random.make_generator(rng)
    chi = np.where(gen.random((xi.shape[0], M, xi.shape[1])) < (1.0 + r) / 2.0, 1, -1)
    return (xi[:, None, :] * chi).astype(np.int8)


def binarize(images, threshold=None) -> np.ndarray:
    """User arrays (e.g. grey-scale images) as +-1 patterns of shape (P, N).

    ``images`` has shape (P, ...) (each item flattened to N entries); an
    entry becomes +1 when it is above ``threshold`` (default: the mean of
    its own image) and -1 otherwise.
    """
    arr = np.asarray(images, dtype=np.float64)
    if arr.ndim < 2 or arr.shape[0] == 0 or arr[0].size == 0:
        raise ValueError(f"images must have shape (P, ...) with P >= 1 and at least one "
                         f"entry each, got shape {arr.shape}")
    flat = arr.reshape(arr.shape[0], -1)
    if not np.all(np.isfinite(flat)):
        raise ValueError("images must be finite")
    if threshold is None:
        thr = flat.mean(axis=1, keepdims=True)
    else:
        thr = _real("threshold", threshold)
    return np.where(flat > thr, 1, -1).astype(np.int8)


def corrupt(pattern, fraction, rng=None) -> np.ndarray:
    """A copy of ``pattern`` (+-1 entries, any shape) with round(fraction * N)
    entries, chosen at random, sign-flipped: a cue at overlap 1 - 2 fraction."""
    x = np.array(pattern, dtype=np.int8, copy=True)
    f = _real("fraction", fraction, 0.0, 1.0)
    gen, _ = _random.make_generator(rng)
    flat = x.reshape(-1)
    k = round(f * flat.size)
    idx = gen.choice(flat.size, size=k, replace=False)
    flat[idx] = -flat[idx]
    return x


# ---------------------------------------------------------------------------
# modern (continuous) Hopfield networks
# ---------------------------------------------------------------------------
def _real_patterns(patterns):
    X = np.asarray(patterns, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"patterns must be a 2-D array of shape (P, N) with P, N >= 1, got "
                         f"shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("patterns must be finite")
    return X


def modern_update(patterns, query, beta=1.0, steps=1) -> np.ndarray:
    r"""Continuous modern-Hopfield update (Ramsauer et al. 2020):

    .. math:: \xi^{new} = X\, \mathrm{softmax}(\beta X^T \xi)

    with X the N x P matrix whose columns are the stored patterns (here the
    rows of ``patterns``, shape (P, N)); applied ``steps`` times. ``query``
    has shape (N,) or (K, N) for K queries at once. Each step does not
    increase :func:`modern_energy`; one step typically retrieves a pattern.
    """
    X = _real_patterns(patterns)
    beta = _real("beta", beta, 0.0, None, lo_open=True)
    steps = _count("steps", steps, 0)
    q = np.array(query, dtype=np.float64, copy=True)
    if q.shape[-1:] != (X.shape[1],) or q.ndim > 2:
        raise ValueError(f"query must have shape ({X.shape[1]},) or (K, {X.shape[1]}), got "
                         f"{q.shape}")
    for _ in range(steps):
        a = beta * (q @ X.T)                       # (..., P)
        a -= a.max(axis=-1, keepdims=True)
        w = np.exp(a)
        w /= w.sum(axis=-1, keepdims=True)
        q = w @ X
    return q


def modern_energy(patterns, state, beta=1.0) -> np.ndarray | float:
    r"""Modern-Hopfield energy of a real state (Ramsauer et al. 2020):

    .. math:: E = -\beta^{-1} \ln \sum_\mu e^{\beta\, \xi^\mu \cdot x}
              + \tfrac12 x \cdot x + \beta^{-1} \ln P + \tfrac12 \max_\mu |\xi^\mu|^2
    """
    X = _real_patterns(patterns)
    beta = _real("beta", beta, 0.0, None, lo_open=True)
    x = np.asarray(state, dtype=np.float64)
    if x.shape[-1:] != (X.shape[1],) or x.ndim > 2:
        raise ValueError(f"state must have shape ({X.shape[1]},) or (K, {X.shape[1]})")
    a = beta * (x @ X.T)
    amax = a.max(axis=-1)
    lse = (amax + np.log(np.exp(a - amax[..., None]).sum(axis=-1))) / beta
    M2 = (X * X).sum(axis=1).max()
    return -lse + 0.5 * (x * x).sum(axis=-1) + np.log(X.shape[0]) / beta + 0.5 * M2


# ---------------------------------------------------------------------------
# the binary models
# ---------------------------------------------------------------------------
class Retrieval(NamedTuple):
    """Result of ``model.retrieve``: the final configuration, its overlaps
    (the model's ``overlap`` observable), the sweeps (or synchronous steps)
    made, and whether a fixed point was reached (None at T > 0)."""

    state: np.ndarray
    overlap: np.ndarray
    sweeps: int
    converged: bool | None


class _Associative(Model):
    """Shared machinery: energies H = sum_mu U_mu(M_mu) + const of the integer
    overlaps M_mu = stored_mu . sigma, the kernel, observables, retrieval."""

    algorithms = ("glauber", "metropolis")
    observables = ("e", "overlap")
    # kernel screening (cext/hopfield.pyx): True = automatic (P >= 256),
    # "force" = whenever P > 8 (tests), False = always the full sum
    _screen = True

    # set by subclasses through _setup
    def _setup(self, stored, kind, p=2, A=None, lam=None, e_const=0.0, groups=None,
               qscale=None, targets=None):
        stored = np.ascontiguousarray(stored)
        self._stored = stored                       # (P_s, N), int8 or float64 (integers)
        self.n_sites = N = stored.shape[1]
        P = stored.shape[0]
        self._binary = stored.dtype == np.int8
        self._diluted = bool(self._binary and np.any(stored == 0))
        self._kind = kind
        self._p = p if kind == _POLY else 1
        self._A = np.ascontiguousarray(np.broadcast_to(np.asarray(A, dtype=np.float64), (P,)))
        self._lam = lam
        self._e_const = float(e_const)
        self._xT = np.ascontiguousarray(stored.T)   # (N, P): one neuron's entries contiguous
        if groups is None:
            groups = np.arange(P + 1, dtype=np.int64)
        self._groups = np.ascontiguousarray(groups, dtype=np.int64)
        if targets is not None:
            targets = _int_array(targets, "targets", 2, (-1, 0, 1), "-1, 0 and +1")
            if targets.shape[1] != N or targets.shape[0] == 0:
                raise ValueError(f"targets must have shape (K, {N}) with K >= 1, got "
                                 f"{targets.shape}")
            qscale = np.full(targets.shape[0], 1.0 / N)
        self._targets = targets
        self._n_q = len(qscale)
        self._qscale = np.asarray(qscale, dtype=np.float64)
        # kernel coefficients
        pp = self._p
        inv = 1.0 / N
        # G / A = x^((p-1)%2) sum_j gc[j] x^(2j), D / A = x^(p%2) sum_j dc[j] x^(2j):
        # U(M + 2e) - U(M) = A sum_k C(p,k) (2e/N)^k x^(p-k), odd k -> G, even k -> D
        gc = np.zeros(pp // 2 + 1)
        dc = np.zeros(pp // 2 + 1)
        if kind == _POLY:
            for k in range(1, pp + 1):
                c = comb(pp, k) * (2.0 * inv) ** k
                (gc if k % 2 else dc)[(pp - k) // 2] += c
        binom = np.array([float(comb(pp, k)) for k in range(pp + 1)])
        if kind == _EXP:
            M = np.arange(-N, N + 1, dtype=np.float64)
            self._etab = np.exp(lam * (M * inv - 1.0))
            esh = math.sinh(2.0 * lam * inv)
            ech1 = 2.0 * math.sinh(lam * inv) ** 2
        else:
            self._etab = np.zeros(1)
            esh = ech1 = 0.0
        self._coeffs = (gc, dc, binom, esh, ech1)

    def _net(self):
        gc, dc, binom, esh, ech1 = self._coeffs
        xb = self._xT if self._binary else None
        xd = None if self._binary else self._xT
        return _hopfield.OverlapNet(xb, xd, self._binary, self._diluted, self._kind, self._p,
                                    self._A, gc, dc, binom, self._etab, esh, ech1,
                                    self._e_const, self._groups, self._targets, 1e-9,
                                    2 if self._screen == "force" else int(bool(self._screen)))

    @property
    def N(self) -> int:
        """Number of neurons."""
        return self.n_sites

    # -- configurations --------------------------------------------------
    def random_state(self, generator: np.random.Generator) -> np.ndarray:
        """Infinite-temperature configuration: independent +-1 neurons."""
        return random_spins(generator, self.n_sites)

    def check_state(self, state) -> np.ndarray:
        return check_spins(state, self.n_sites)

    def _states(self, state):
        arr = np.asarray(state)
        if arr.ndim not in (1, 2) or arr.shape[-1] != self.n_sites:
            raise ValueError(f"state must have shape ({self.n_sites},) or (K, {self.n_sites}), "
                             f"got {arr.shape}")
        if not np.all((arr == 1) | (arr == -1)):
            raise ValueError("state must contain only +1 and -1")
        return arr.astype(np.float64)

    # -- physics ---------------------------------------------------------
    def _U(self, M):
        """Energy of each stored vector from its integer overlaps (numpy)."""
        x = M / self.n_sites
        if self._kind == _POLY:
            return self._A * x ** self._p
        return self._A * np.exp(self._lam * (x - 1.0))

    def energy(self, state) -> float | np.ndarray:
        """Total energy H of a configuration (shape (N,)) or of each row of a
        batch (shape (K, N)), computed directly from the overlaps."""
        s = self._states(state)
        M = s @ self._stored.T.astype(np.float64)
        e = self._U(M).sum(axis=-1) + self._e_const
        return float(e) if np.ndim(e) == 0 else e

    def overlaps(self, state) -> np.ndarray:
        """The ``overlap`` observable of a configuration (or of each row of a batch)."""
        s = self._states(state)
        if self._targets is not None:
            q = s @ self._targets.T.astype(np.float64)
        else:
            M = s @ self._stored.T.astype(np.float64)
            q = np.add.reduceat(M, self._groups[:-1], axis=-1)
        return q * self._qscale

    def observables_from_raw(self, raw: dict) -> dict:
        return {"e": raw["E"] / self.n_sites, "overlap": raw["Q"] * self._qscale}

    # -- algorithms ------------------------------------------------------
    def check_algorithm(self, algorithm) -> str:
        if not isinstance(algorithm, str):
            raise TypeError(f"algorithm must be a string, one of {list(self.algorithms)}, "
                            f"got {type(algorithm).__name__}")
        name = _ALIASES.get(algorithm.strip().lower().replace("_", "-"))
        if name is None:
            raise ValueError(f"algorithm {algorithm!r} is not available for "
                             f"{type(self).__name__}; choose one of {list(self.algorithms)} "
                             "('heatbath' is accepted for 'glauber')")
        return name

    def updater(self, algorithm: str, beta: float, **options) -> Updater:
        algorithm = self.check_algorithm(algorithm)
        unknown = set(options) - {"sweep"}
        if unknown:
            raise TypeError(f"algorithm {algorithm!r} takes only the option 'sweep', "
                            f"got {sorted(unknown)}")
        beta = _real("beta", beta, 0.0, None, lo_open=True)
        return _OverlapUpdater(self, beta, algorithm, options.get("sweep"))

    def retrieve(self, cue, T=0.0, *, synchronous=False, max_sweeps=1000, sweeps=100,
                 order="sequential", algorithm="glauber", rng=None) -> Retrieval:
        """Run the network from ``cue`` and return the final state and its overlaps.

        T = 0 (default): deterministic descent. Asynchronous (default): the
        neurons are visited in ``order`` ("sequential", or "random": one
        random permutation drawn from ``rng``, reused every sweep) and a
        neuron flips when its flip lowers H (ties, within rounding, do not
        flip) until a sweep flips nothing (``converged=True``) or after
        ``max_sweeps`` sweeps. ``synchronous=True``: every neuron whose
        single flip lowers H flips at once, until nothing flips or the
        state repeats with period 2 (``converged=False``).

        T > 0: ``sweeps`` Monte Carlo sweeps (``algorithm``) at temperature
        T from the cue; returns the last configuration (``converged=None``).
        """
        T = _temperature(T)
        state = self.check_state(cue)
        max_sweeps = _count("max_sweeps", max_sweeps, 1)
        if T > 0:
            sweeps = _count("sweeps", sweeps, 1)
            upd = self.updater(algorithm, 1.0 / T)
            gen, _ = _random.make_generator(rng)
            st = _random.kernel_state(gen)
            upd.run(state, st, 0, sweeps, upd.raw_buffers(0))
            return Retrieval(state, self.overlaps(state), sweeps, None)
        net = self._net()
        N = self.n_sites
        if synchronous:
            flip = np.zeros(N, dtype=np.int8)
            before = state.copy()
            steps = 0
            converged = False
            while steps < max_sweeps:
                previous = state.copy()
                n = net.sync_step(state, flip)
                steps += 1
                if n == 0:
                    converged = True
                    break
                if steps >= 2 and np.array_equal(state, before):
                    break                      # period-2 cycle
                before = previous
            return Retrieval(state, self.overlaps(state), steps, converged)
        if order == "sequential":
            idx = np.arange(N, dtype=np.int64)
        elif order == "random":
            gen, _ = _random.make_generator(rng)
            idx = gen.permutation(N).astype(np.int64)
        else:
            raise ValueError(f"order must be 'sequential' or 'random', got {order!r}")
        done, converged = net.descend(state, idx, max_sweeps)
        return Retrieval(state, self.overlaps(state), int(done), bool(converged))

    def params(self) -> dict:
        return {"model": type(self).__name__, "N": self.n_sites,
                "P": int(self._stored.shape[0]), **self._extra_params()}

    def _extra_params(self) -> dict:
        return {}

    def __repr__(self):
        extra = ", ".join(f"{k}={v}" for k, v in self._extra_params().items())
        return (f"<{type(self).__name__} N={self.n_sites} P={self._stored.shape[0]}"
                f"{', ' + extra if extra else ''}>")


class _OverlapUpdater(Updater):
    """Glauber or Metropolis sweeps with O(P) energy changes."""

    raw_names = ("E", "Q")

    def __init__(self, model: _Associative, beta, algorithm, sweep):
        self.model = model
        self.beta = beta
        self.method = _GLAUBER if algorithm == "glauber" else _METROPOLIS
        if sweep is None:
            sweep = "sequential" if self.method == _GLAUBER else "random"
        if sweep not in ("sequential", "random"):
            raise ValueError(f"sweep must be 'sequential' (neurons in index order) or 'random' "
                             f"(N uniformly drawn neurons), got {sweep!r}")
        self.sweep = sweep
        self.raw_shapes = {"Q": (model._n_q,)}
        self.net = model._net()
        self.accepted = 0
        self.proposed = 0
        self._last = None        # the state after the previous call (overlaps still valid)

    def run(self, state, rng_state, n_measure, every, raw):
        # the kernel keeps the overlaps between calls; rebuild them (O(N P))
        # only when the configuration was changed from outside
        rebuild = self._last is None or not np.array_equal(self._last, state)
        self.accepted += self.net.mc(state, self.beta, self.method, self.sweep == "random",
                                     rng_state, n_measure, every, raw["E"], raw["Q"], rebuild)
        self.proposed += max(n_measure, 1) * every * self.model.n_sites
        if self._last is None:
            self._last = state.copy()
        else:
            self._last[:] = state

    def info(self):
        screened, full = self.net.screening
        return {"sweep": self.sweep,
                "acceptance": self.accepted / self.proposed if self.proposed else None,
                "screened": screened / (screened + full) if screened + full else 0.0}


class Hopfield(_Associative):
    r"""Pairwise Hebbian Hopfield network.

    .. math:: H = -\frac N2 \sum_{\mu=1}^P m_\mu^2
              = -\frac{1}{2N} \sum_{i,j} \sum_\mu \xi^\mu_i \xi^\mu_j \sigma_i \sigma_j,
              \qquad m_\mu = \frac1N \sum_i \xi^\mu_i \sigma_i

    i.e. Hebbian couplings :math:`J_{ij} = N^{-1} \sum_\mu \xi^\mu_i \xi^\mu_j`.
    ``remove_diagonal=True`` drops the self-couplings :math:`J_{ii}`, which
    adds the constant :math:`+P/2` to H (the AGS convention, ``e`` then
    includes :math:`+\alpha/2`). Since :math:`\sigma_i^2 = 1` the diagonal
    never changes an energy difference: Monte Carlo and the zero-temperature
    rule (flip iff that lowers H, i.e. :math:`\sigma_i \to
    \mathrm{sign}\sum_{j\ne i} J_{ij}\sigma_j`) are the same either way.

    Parameters
    ----------
    patterns : array of shape (P, N) with entries +-1 (see ``random_patterns``)
    remove_diagonal : bool

    Algorithms ``glauber`` (heat bath, alias ``heatbath``) and
    ``metropolis``; option ``sweep="sequential"`` (default for Glauber) or
    ``"random"`` (default for Metropolis). One sweep is N proposals.
    Observables: ``e`` = H / N and ``overlap`` (the P overlaps m_mu).
    The load is alpha = P / N; compare with ``kd.theory.ags``.
    """

    _allow_zero = False       # diluted patterns (entries 0): Multitasking

    def __init__(self, patterns, remove_diagonal=False):
        xi = _patterns(patterns, allow_zero=self._allow_zero)
        self.patterns = xi
        self.remove_diagonal = bool(remove_diagonal)
        N = xi.shape[1]
        const = 0.5 * float(np.count_nonzero(xi)) / N if remove_diagonal else 0.0
        self._setup(xi, _POLY, p=2, A=-0.5 * N, e_const=const,
                    qscale=np.full(xi.shape[0], 1.0 / N))

    @property
    def P(self) -> int:
        return self.patterns.shape[0]

    @property
    def alpha(self) -> float:
        """Load P / N."""
        return self.P / self.n_sites

    def _extra_params(self):
        return {"remove_diagonal": self.remove_diagonal}


class Multitasking(Hopfield):
    r"""Hopfield network with diluted patterns (multitasking network).

    .. math:: H = -\frac N2 \sum_\mu m_\mu^2, \qquad \xi^\mu_i \in \{-1, 0, +1\}

    With patterns of dilution d (``random_patterns(P, N, dilution=d)``) a
    neuron left blank by one pattern is free to serve another, so several
    overlaps are non-zero at once: a hierarchical state
    :math:`m_k \approx (1-d)\,d^{k-1}` at mild dilution, more equal
    amplitudes (parallel retrieval) as d grows (Agliari et al., PRL 109,
    268101 (2012)); see ``kd.theory.ags.multitasking_amplitudes``. Overlaps
    are normalised by N (their maximum is the pattern's fraction 1 - d of
    non-zero entries).
    """

    _allow_zero = True

    @property
    def dilution(self) -> float:
        """Fraction of zero entries in the stored patterns."""
        return float(np.mean(self.patterns == 0))


class DenseHopfield(_Associative):
    r"""Dense associative memory with p-body interactions (Krotov & Hopfield 2016).

    .. math:: H = -N \sum_\mu m_\mu^p, \qquad p = 2, 3, 4, \ldots

    (for p = 2 this is twice the ``Hopfield`` energy: T_dense = 2 T_Hopfield).
    At low noise it stores of order :math:`N^{p-1}` random patterns, far
    more than N. Energy changes use the P overlaps only (O(P p) per
    accepted flip, O(P) per proposal); no coupling tensor is built.
    Low-load theory: ``kd.theory.ags.dense_solve``.

    Parameters
    ----------
    patterns : array of shape (P, N) with entries +-1
    p : int >= 2
    """

    def __init__(self, patterns, p):
        self.p = _order(p)
        xi = _patterns(patterns)
        self.patterns = xi
        N = xi.shape[1]
        self._setup(xi, _POLY, p=self.p, A=-float(N), qscale=np.full(xi.shape[0], 1.0 / N))

    @property
    def P(self) -> int:
        return self.patterns.shape[0]

    def _extra_params(self):
        return {"p": self.p}


class ExponentialHopfield(_Associative):
    r"""Exponential (modern) dense associative memory, binary neurons.

    .. math:: H = -\frac{N}{\lambda} \sum_\mu e^{\lambda (m_\mu - 1)}

    With :math:`\lambda = N` (the default) this is
    :math:`-e^{-N}\sum_\mu \exp(\xi^\mu\cdot\sigma)`, the energy of
    Demircigil et al. (J. Stat. Phys. 168, 288 (2017)) up to a positive
    factor, which stores exponentially many patterns; the scale N/lambda
    keeps single-flip energies of order 1 (a flip out of a retrieved
    pattern costs :math:`(N/\lambda)(1 - e^{-2\lambda/N})`). The
    continuous-state relative (Ramsauer et al. 2020) is
    :func:`modern_update`.

    Parameters
    ----------
    patterns : array of shape (P, N) with entries +-1
    lam : float > 0 or None (= N)
    """

    def __init__(self, patterns, lam=None):
        xi = _patterns(patterns)
        self.patterns = xi
        N = xi.shape[1]
        self.lam = float(N) if lam is None else _real("lam", lam, 0.0, None, lo_open=True)
        self._setup(xi, _EXP, A=-N / self.lam, lam=self.lam,
                    qscale=np.full(xi.shape[0], 1.0 / N))

    @property
    def P(self) -> int:
        return self.patterns.shape[0]

    def _extra_params(self):
        return {"lam": self.lam}


def _examples(examples, name="examples"):
    arr = np.asarray(examples)
    if arr.ndim not in (2, 3):
        raise ValueError(f"{name} must have shape (K, N) or (P, M, N), got {arr.shape}")
    if arr.size == 0 or arr.shape[-1] == 0:
        raise ValueError(f"{name} must hold at least one example (P >= 1) of N >= 1 "
                         f"entries, got shape {arr.shape}")
    return _int_array(arr, name, arr.ndim, (-1, 0, 1), "-1, 0 and +1")


class Supervised(_Associative):
    r"""Dense Hebbian network learnt from labelled examples (supervised).

    Examples :math:`\eta^{\mu a}` (a = 1..M_mu) of class mu are averaged,
    :math:`\bar\eta^\mu = M_\mu^{-1}\sum_a \eta^{\mu a}`, and

    .. math:: H = -N \sum_\mu n_\mu^p, \qquad
              n_\mu = \frac1N \sum_i \bar\eta^\mu_i \sigma_i

    (Agliari et al., "Dense Hebbian neural networks: a replica symmetric
    picture of supervised learning" (2023), without their 1/r
    normalisation, which only rescales T). For examples of quality r of
    archetypes :math:`\xi^\mu`, the zero-noise retrieved state is the
    majority vote :math:`\mathrm{sign}\,\bar\eta^\mu`, whose overlap with
    the archetype is ``kd.theory.ags.supervised_overlap(M, r)``.

    Parameters
    ----------
    examples : array (K, N) with ``labels`` (K,), or (P, M, N) (labels implied)
        Entries +-1 (0 allowed for blank entries).
    labels : array (K,) of class labels (any sortable values), or None
    p : int >= 2
    targets : array (K', N), optional
        If given, the ``overlap`` observable holds the overlaps with these
        vectors (e.g. the archetypes, unknown to the network) instead of
        :math:`n_\mu`.
    """

    def __init__(self, examples, labels=None, p=2, targets=None):
        self.p = _order(p)
        ex = _examples(examples)
        if ex.ndim == 3:
            if labels is not None:
                raise ValueError("labels must be None when examples have shape (P, M, N)")
            P, M, N = ex.shape
            labels = np.repeat(np.arange(P), M)
            ex = ex.reshape(P * M, N)
        else:
            if labels is None:
                raise ValueError("labels are required for examples of shape (K, N)")
            labels = np.asarray(labels)
            if labels.shape != (ex.shape[0],):
                raise ValueError(f"labels must have shape ({ex.shape[0]},) (one per example), "
                                 f"got {labels.shape}")
        N = ex.shape[1]
        self.classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
        P = len(self.classes)
        sums = np.zeros((P, N), dtype=np.int64)
        np.add.at(sums, inverse, ex.astype(np.int64))
        self.counts = counts
        self.means = sums / counts[:, None]
        if np.all(np.abs(sums) <= 1):
            stored = sums.astype(np.int8)           # binary kernel path
        else:
            stored = sums.astype(np.float64)        # integer path
        A = -float(N) / counts.astype(np.float64) ** self.p
        self._setup(stored, _POLY, p=self.p, A=A, targets=targets,
                    qscale=1.0 / (N * counts.astype(np.float64)))

    def _extra_params(self):
        return {"p": self.p, "examples": int(self.counts.sum())}


class Unsupervised(_Associative):
    r"""Dense Hebbian network learnt from unlabelled examples (unsupervised).

    .. math:: H = -\frac NM \sum_{a=1}^{K} n_a^p, \qquad
              n_a = \frac1N \sum_i \eta^a_i \sigma_i

    over all K examples, M the number of examples per archetype (examples
    of shape (P, M, N)) or 1 (shape (K, N)); for p = 2 the couplings are
    :math:`J_{ij} \propto \sum_a \eta^a_i \eta^a_j` (Agliari et al., "Dense
    Hebbian neural networks: a replica symmetric picture of unsupervised
    learning" (2023), without the r normalisation).

    The ``overlap`` observable is the mean of :math:`n_a` over each
    archetype's examples (shape (P, M, N)) or every :math:`n_a` (shape
    (K, N)); give ``targets`` (e.g. the archetypes) to record overlaps with
    those vectors instead.
    """

    def __init__(self, examples, p=2, targets=None):
        self.p = _order(p)
        ex = _examples(examples)
        if ex.ndim == 3:
            P, M, N = ex.shape
            groups = np.arange(0, P * M + 1, M, dtype=np.int64)
            qscale = np.full(P, 1.0 / (N * M))
        else:
            K, N = ex.shape
            M = 1
            groups = None
            qscale = np.full(K, 1.0 / N)
        self.M = M
        stored = ex.reshape(-1, N)
        self._setup(stored, _POLY, p=self.p, A=-float(N) / M, groups=groups, qscale=qscale,
                    targets=targets)

    def _extra_params(self):
        return {"p": self.p, "M": self.M}
