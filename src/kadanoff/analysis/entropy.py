r"""Entropy production: exact values for small Markov chains and model-free estimators.

Pure numpy/scipy; works on plain arrays (simulation output, experimental data,
other codes' data) and on Results.

* :func:`schnakenberg` -- exact steady-state entropy production rate (EPR) of a
  finite Markov chain from its rate matrix (continuous time) or transition
  matrix (discrete time), with the stationary distribution, the probability
  currents and the per-edge contributions. For validation and teaching.
* :func:`generator` -- build a generator (fill the diagonal) from off-diagonal
  rates.
* :class:`KLD` / :func:`kld_epr` -- model-free estimate of the EPR from an
  observed sequence of discrete states (or a binned coarse-grained
  observable): plug-in Kullback-Leibler divergence between forward and
  time-reversed n-gram statistics, with dropped-mass bookkeeping, a
  jackknife bias correction and block-jackknife error bars.
* :func:`tur_bound`, :func:`tur_bound_from_increments` -- the
  thermodynamic-uncertainty-relation lower bound on the EPR from a
  time-integrated current's mean and variance.

Conventions used throughout
---------------------------
* **Units.** :math:`k_B = 1`; entropy in nats. The EPR is in nats per unit time
  for continuous-time chains and in nats per step for discrete-time chains.
* **Matrix orientation.** ``convention="rows"`` (default): ``W[x, y]`` is the
  rate (or probability) of the jump :math:`x \to y`, rows sum to 0 (generator)
  or 1 (stochastic matrix), and the master equation reads
  :math:`\dot p = p W` with ``p`` a row vector. ``convention="columns"``:
  ``W[y, x]`` is the rate of :math:`x \to y`, columns sum to 0 or 1,
  :math:`\dot p = W p`. Either way, every result is reported in the rows
  orientation: ``current[x, y]`` is the net probability flow :math:`x\to y`.
"""
from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .errors import _check_int

__all__ = [
    "EntropyWarning",
    "Schnakenberg",
    "schnakenberg",
    "generator",
    "KLD",
    "kld_epr",
    "tur_bound",
    "tur_bound_from_increments",
]


class EntropyWarning(UserWarning):
    """An entropy-production estimate is infinite or unreliable (the message says why)."""


# --------------------------------------------------------------------------
# exact Schnakenberg entropy production
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Schnakenberg:
    r"""Exact steady-state entropy production of a finite Markov chain (see :func:`schnakenberg`).

    Attributes
    ----------
    stationary : ndarray (n,)
        The unique stationary distribution :math:`p` (zero on transient states).
    current : ndarray (n, n)
        Probability currents :math:`J_{xy} = p_x W_{xy} - p_y W_{yx}`
        (antisymmetric; positive when the net flow goes :math:`x \to y`).
        Per unit time (continuous) or per step (discrete).
    affinity : ndarray (n, n)
        :math:`A_{xy} = \ln\frac{p_x W_{xy}}{p_y W_{yx}}` (antisymmetric) on edges
        with both directions allowed; ``+-inf`` on one-way edges that carry
        flow, 0 where no flow passes either way.
    edge_epr : ndarray (n, n)
        Per-edge contributions :math:`\sigma_{xy} = J_{xy} A_{xy} \ge 0`
        (symmetric; each unordered edge appears twice), so
        ``epr = edge_epr[np.triu_indices(n, 1)].sum() = edge_epr.sum() / 2``.
    epr : float
        :math:`\sigma = \tfrac12\sum_{x,y} J_{xy}\ln\frac{p_xW_{xy}}{p_yW_{yx}}
        \ge 0` in nats per unit time (continuous) or per step (discrete);
        ``inf`` if a one-way edge carries flow. Zero iff detailed balance holds.
    discrete : bool
        Whether the input was a stochastic (discrete-time) matrix.
    """

    stationary: np.ndarray
    current: np.ndarray
    affinity: np.ndarray
    edge_epr: np.ndarray
    epr: float
    discrete: bool

    @property
    def n_states(self) -> int:
        return len(self.stationary)

    def __repr__(self):
        unit = "per step" if self.discrete else "per unit time"
        return f"<Schnakenberg n_states={self.n_states} epr={self.epr:.6g} nats {unit}>"


def _square_matrix(W, name="W"):
    try:
        import scipy.sparse as sp
        if sp.issparse(W):
            W = W.toarray()
    except ImportError:  # pragma: no cover
        pass
    W = np.asarray(W)
    if W.dtype == object or not (np.issubdtype(W.dtype, np.number) or W.dtype == bool):
        raise ValueError(f"{name} must be a numeric square matrix, got dtype {W.dtype}")
    if np.iscomplexobj(W):
        raise ValueError(f"{name} must be real, got a complex matrix")
    W = np.array(W, dtype=float)
    if W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty square matrix, got shape {W.shape}")
    if not np.all(np.isfinite(W)):
        raise ValueError(f"{name} contains non-finite values (nan or inf)")
    return W


def _orient(convention):
    if convention not in ("rows", "columns"):
        raise ValueError(f"convention must be 'rows' (W[x, y] = rate x->y, rows sum to 0) or "
                         f"'columns' (W[y, x] = rate x->y, columns sum to 0), got {convention!r}")
    return convention == "columns"


def generator(rates, *, convention="rows") -> np.ndarray:
    r"""Generator with the given off-diagonal rates and :math:`W_{xx} = -\sum_{y\ne x} W_{xy}`.

    ``rates`` is a square matrix of non-negative jump rates (its diagonal is
    ignored); ``convention`` as in :func:`schnakenberg` (for ``"columns"`` the
    columns are made to sum to zero). Returns a new float array.
    """
    W = _square_matrix(rates, "rates")
    transpose = _orient(convention)
    if transpose:
        W = W.T.copy()
    np.fill_diagonal(W, 0.0)
    if np.any(W < 0):
        raise ValueError("rates must be non-negative off the diagonal")
    np.fill_diagonal(W, -W.sum(axis=1))
    return W.T.copy() if transpose else W


def _closed_classes(A):
    """Strongly connected components of the graph ``A[x, y] != 0`` with no edge leaving them."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components
    n_comp, labels = connected_components(csr_matrix(A), directed=True, connection="strong")
    xs, ys = np.nonzero(A)
    leaving = np.zeros(n_comp, dtype=bool)
    cross = labels[xs] != labels[ys]
    leaving[labels[xs[cross]]] = True
    return [np.flatnonzero(labels == c) for c in range(n_comp) if not leaving[c]]


def _stationary(Q):
    """Stationary row vector of the generator Q (rows sum to 0) supported on one closed class.

    Solves Q^T p = 0 with one (redundant) equation replaced by sum(p) = 1; least squares if
    that system is numerically singular."""
    n = Q.shape[0]
    A = Q.T.copy()
    A[-1, :] = 1.0
    b = np.zeros(n)
    b[-1] = 1.0
    try:
        p = np.linalg.solve(A, b)
    except np.linalg.LinAlgError:
        A = np.vstack([Q.T, np.ones((1, n))])
        p, *_ = np.linalg.lstsq(A, np.r_[np.zeros(n), 1.0], rcond=None)
    p = np.clip(p, 0.0, None)
    return p / p.sum()


def schnakenberg(W, *, discrete=False, convention="rows", tol=1e-9) -> Schnakenberg:
    r"""Exact steady-state entropy production of a finite Markov chain (Schnakenberg 1976).

    Continuous time (``discrete=False``): ``W`` is a generator, off-diagonal
    entries :math:`W_{xy} \ge 0` are jump rates :math:`x\to y` and each row sums
    to zero. Discrete time (``discrete=True``): ``W`` is a stochastic matrix
    :math:`P`, entries in :math:`[0, 1]`, rows summing to one (the diagonal,
    staying put, never contributes). With the unique stationary distribution
    :math:`p` and currents :math:`J_{xy} = p_xW_{xy} - p_yW_{yx}`,

    .. math:: \sigma = \frac12\sum_{x\ne y} J_{xy}\,
              \ln\frac{p_x W_{xy}}{p_y W_{yx}}
              = \sum_{x\ne y} p_x W_{xy} \ln\frac{W_{xy}}{W_{yx}} \;\ge 0,

    in nats per unit time (continuous) or per step (discrete; this is the
    Kullback-Leibler divergence per step between the forward and the
    time-reversed stationary path measures, the rate that
    :func:`kld_epr` estimates from data). :math:`\sigma = 0` iff detailed
    balance holds.

    Parameters
    ----------
    W : (n, n) array_like (dense, or a scipy sparse matrix; converted to dense)
        Generator or stochastic matrix, oriented as ``convention`` says.
    discrete : bool
        ``True`` for a stochastic (transition-probability) matrix.
    convention : ``"rows"`` or ``"columns"``
        ``"rows"``: ``W[x, y]`` is the rate/probability of :math:`x\to y`
        (rows sum to 0, or 1 if discrete). ``"columns"``: ``W[y, x]`` is, and
        columns sum to 0 (or 1); :math:`\dot p = W p`.
    tol : float
        Allowed deviation of the row (column) sums from 0 (or 1), relative to
        the largest absolute entry of ``W`` (at least 1 for discrete).

    Returns
    -------
    Schnakenberg
        ``stationary``, ``current``, ``affinity``, ``edge_epr``, ``epr``
        (always in the rows orientation).

    Raises
    ------
    ValueError
        ``W`` not square, empty, non-finite; negative off-diagonal entries
        (or entries outside [0, 1] when discrete); row (column) sums off by
        more than ``tol``; a reducible chain with more than one closed
        class, i.e. without a unique stationary state. Transient states are
        allowed (they get probability 0 and contribute nothing).

    Warns
    -----
    EntropyWarning
        If an edge with :math:`W_{xy} > 0` but :math:`W_{yx} = 0` carries
        probability flow (:math:`p_x > 0`): the reverse path has probability
        zero and the EPR is **infinite**; ``epr`` (and that edge's
        ``edge_epr``) is ``inf``, the finite edges are still reported.

    Examples
    --------
    Three-state ring driven clockwise with rates k+ = 2, k- = 1:
    :math:`p = 1/3`, current :math:`J = (2-1)/3`, affinity :math:`\ln 2` per
    jump, :math:`\sigma = 3 J \ln 2 = \ln 2`.

    >>> W = generator([[0, 2, 1], [1, 0, 2], [2, 1, 0]])
    >>> round(schnakenberg(W).epr, 12) == round(math.log(2), 12)
    True
    """
    Q = _square_matrix(W)
    if _orient(convention):
        Q = Q.T.copy()
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not tol >= 0:
        raise ValueError(f"tol must be a non-negative number, got {tol!r}")
    n = Q.shape[0]
    off = ~np.eye(n, dtype=bool)
    side = "rows" if convention == "rows" else "columns"
    if discrete:
        if np.any(Q < 0) or np.any(Q > 1 + tol):
            raise ValueError("a stochastic matrix (discrete=True) must have entries in [0, 1]")
        sums = Q.sum(axis=1)
        bad = np.abs(sums - 1.0) > tol * max(1.0, float(np.abs(Q).max()))
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"W is not a stochastic matrix: its {side} must sum to 1 "
                             f"(discrete=True), but {side[:-1]} {i} sums to {sums[i]:.12g}")
    else:
        if np.any(Q[off] < 0):
            x, y = np.argwhere((Q < 0) & off)[0]
            raise ValueError(f"W is not a generator: off-diagonal rates must be >= 0, but the "
                             f"rate {x}->{y} is {Q[x, y]:.6g} (convention={convention!r})")
        sums = Q.sum(axis=1)
        scale = float(np.abs(Q).max()) or 1.0
        bad = np.abs(sums) > tol * scale
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"W is not a generator: its {side} must sum to 0, but "
                             f"{side[:-1]} {i} sums to {sums[i]:.6g} (use generator(rates) to "
                             f"fill the diagonal, or discrete=True for a stochastic matrix)")
    R = np.where(off, Q, 0.0)          # jump rates / probabilities, zero diagonal
    classes = _closed_classes(R)
    if len(classes) != 1:
        raise ValueError(f"the chain is reducible with {len(classes)} closed classes (e.g. states "
                         f"{classes[0][:5].tolist()} and {classes[1][:5].tolist()}); it has no "
                         f"unique stationary state")
    cls = classes[0]
    p = np.zeros(n)
    G = R[np.ix_(cls, cls)]
    np.fill_diagonal(G, -G.sum(axis=1))
    p[cls] = _stationary(G)

    flow = p[:, None] * R               # p_x W_xy
    J = flow - flow.T
    with np.errstate(divide="ignore", invalid="ignore"):
        A = np.log(flow) - np.log(flow.T)
    both = (flow > 0) & (flow.T > 0)
    oneway = (flow > 0) & ~(flow.T > 0)
    A = np.where(both, A, 0.0)
    A[oneway] = np.inf
    A[oneway.T] = -np.inf
    with np.errstate(invalid="ignore"):
        S = np.where(both, J * A, 0.0)
    S[oneway | oneway.T] = np.inf
    if np.any(oneway):
        x, y = np.argwhere(oneway)[0]
        warnings.warn(f"the transition {x}->{y} carries probability flow but its reverse "
                      f"{y}->{x} has rate 0: the entropy production is infinite "
                      f"({int(oneway.sum())} such edge(s))", EntropyWarning, stacklevel=2)
        epr = math.inf
    else:
        # sum_{x != y} p_x W_xy ln(W_xy / W_yx): same value, better conditioned for tiny currents
        epr = float(np.sum(np.where(both, flow * A, 0.0)))
        epr = max(epr, 0.0)
    for arr in (p, J, A, S):
        arr.setflags(write=False)
    return Schnakenberg(stationary=p, current=J, affinity=A, edge_epr=S, epr=epr,
                        discrete=bool(discrete))


# --------------------------------------------------------------------------
# model-free estimators: Kullback-Leibler divergence of n-gram statistics
# --------------------------------------------------------------------------
def _estimate(value, error):
    from ..results import Estimate
    return Estimate(float(value), float(error))


def _series_from(data, name):
    """The array behind ``data`` (an array, or a Results/mapping and a series name)."""
    if isinstance(data, Mapping):
        if name is None:
            raise ValueError(f"data is a Results/mapping: give the series name, one of "
                             f"{sorted(data)}")
        return np.asarray(data[name])
    if name is not None:
        raise ValueError("name is only used with Results (or another mapping of series)")
    return np.asarray(data)


def _discretise(x, bins):
    """Integer state labels 0..m-1 of ``x`` (after binning if ``bins`` is given) and m."""
    if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise ValueError(f"data must be a numeric array of states, got dtype {x.dtype}")
    if np.iscomplexobj(x):
        raise ValueError("data must be real")
    if x.size and np.issubdtype(x.dtype, np.inexact) and not np.all(np.isfinite(x)):
        raise ValueError("data contains non-finite values (nan or inf); remove or fill them "
                         "first (a gap splits a trajectory: pass the pieces as rows)")
    if bins is not None:
        if isinstance(bins, numbers.Integral) and not isinstance(bins, bool):
            if bins < 2:
                raise ValueError(f"bins must be >= 2 (or an increasing array of edges), got {bins}")
            edges = np.histogram_bin_edges(x, bins=int(bins))
        else:
            edges = np.asarray(bins, dtype=float)
            if edges.ndim != 1 or len(edges) < 3 or not np.all(np.diff(edges) > 0) \
                    or not np.all(np.isfinite(edges)):
                raise ValueError("bins must be an integer >= 2 or a strictly increasing finite "
                                 "array of at least 3 bin edges")
        # values outside the outer edges go into the first / last bin
        labels = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    else:
        if np.issubdtype(x.dtype, np.inexact) and np.any(x != np.round(x)):
            raise ValueError("data has non-integer values: these estimators need discrete "
                             "states; give bins= to coarse-grain a continuous observable")
        labels = x
    uniq, inv = np.unique(labels, return_inverse=True)
    return inv.reshape(x.shape).astype(np.int64), len(uniq)


def _ngram_ids(x, valid, k, m):
    """Ids of forward and reversed k-grams at every valid start position (shared vocabulary)."""
    pos = np.flatnonzero(valid)
    if m ** k < 2 ** 62:
        fwd = np.zeros(len(pos), dtype=np.int64)
        rev = np.zeros(len(pos), dtype=np.int64)
        w = 1
        for i in range(k):
            fwd = fwd * m + x[pos + i]
            rev = rev + x[pos + i] * w
            w *= m
        both = np.concatenate([fwd, rev])
        _, inv = np.unique(both, return_inverse=True)
    else:
        grams = np.stack([x[pos + i] for i in range(k)], axis=1)
        both = np.concatenate([grams, grams[:, ::-1]])
        _, inv = np.unique(both, axis=0, return_inverse=True)
    inv = inv.ravel()
    return pos, inv[:len(pos)], inv[len(pos):], int(inv.max()) + 1 if len(inv) else 0


def _kl_counts(c, rev_of):
    """Plug-in D(P || P_reversed) from counts c and the reverse map; also the dropped mass."""
    n = c.sum()
    if n == 0:
        return np.nan, np.nan
    seen = c > 0
    cr = np.where(rev_of >= 0, c[np.maximum(rev_of, 0)], 0)
    both = seen & (cr > 0)
    d = float(np.sum(c[both] * np.log(c[both] / cr[both]))) / n
    return d, float(c[seen & ~both].sum()) / n


class KLD:
    r"""Model-free entropy-production rate from forward vs time-reversed n-gram statistics.

    From a sequence of discrete states :math:`x_1, x_2, \dots` (or a
    continuous observable binned into states with ``bins``), the empirical
    distribution :math:`P_k` of the overlapping k-grams
    :math:`w = (x_t, \dots, x_{t+k-1})` gives the plug-in divergence

    .. math:: D_k = \sum_w P_k(w)\,\ln\frac{P_k(w)}{P_k(w^R)},\qquad
              w^R = (x_{t+k-1}, \dots, x_t),

    (:math:`D_1 = 0`), and the entropy-production rate per step is estimated
    by the increment :math:`\hat\sigma = D_n - D_{n-1}` of the highest order
    :math:`n` = ``order``. For a stationary Markov chain of order :math:`r`,
    :math:`D_k - D_{k-1}` equals the exact EPR
    (:func:`schnakenberg` with ``discrete=True``) for every :math:`k \ge r+1`;
    a first-order chain needs ``order=2``. For anything else (hidden states,
    coarse-grained observables) each :math:`D_k - D_{k-1}` is a **lower
    bound** on the true EPR that grows with :math:`k` [RP12]_; compare the
    orders in ``rate_by_order``. Divide by ``dt`` for a rate per unit time.
    A continuous-time jump process recorded jump by jump (the sequence of
    visited states, no waiting times) gives the EPR per jump: the escape-rate
    terms :math:`\ln(\lambda_x/\lambda_y)` telescope and average to zero.

    **Unseen reverses.** A k-gram that occurs while its reverse never does
    would contribute :math:`+\infty`. Such k-grams are dropped from the sum;
    their total probability is reported as ``dropped`` (one entry per order)
    and an :class:`EntropyWarning` is issued if it exceeds ``max_dropped`` at
    the highest order (a truly irreversible transition, or a series too short
    for this order: the estimate is then biased low).

    **Bias and errors.** The series is cut into ``n_blocks`` contiguous
    blocks (k-grams are assigned to the block where they start; with 2-D
    input, rows are independent trajectories, concatenated, and no k-gram
    crosses a row boundary). Delete-one-block jackknife estimates
    :math:`\hat\sigma_{(b)}` from the counts without block :math:`b` give the
    error :math:`\sqrt{\tfrac{B-1}{B}\sum_b(\hat\sigma_{(b)} - \bar\sigma)^2}`
    and, with ``correction="jackknife"`` (default), the bias-corrected value
    :math:`B\hat\sigma - (B-1)\bar\sigma`, which removes the :math:`O(1/N)`
    upward bias of the plug-in estimate (about (number of distinct
    :math:`w \ne w^R` pairs)/N for a reversible chain). ``correction=None``
    reports the plain plug-in value. Blocks must be much longer than the
    correlation time of the series.

    Parameters
    ----------
    order : int >= 2
        Highest n-gram length :math:`n` (2 for a first-order Markov chain).
    bins : int or array of edges, optional
        Coarse-grain a continuous observable into states (equal-width bins
        over the data range for an int; values outside given edges go into
        the outer bins). Without ``bins`` the data must be integer-valued.
    dt : float
        Time between consecutive samples; ``epr`` is per ``dt`` units of time.
    n_blocks : int >= 2
        Jackknife blocks.
    correction : ``"jackknife"`` or None
    max_dropped : float
        Dropped probability mass above which an :class:`EntropyWarning` is issued.

    Attributes (after compute)
    --------------------------
    epr : Estimate
        :math:`\hat\sigma/dt` with its jackknife error (nats per unit time).
    divergence, divergence_error : ndarray (order,)
        :math:`D_k` for :math:`k = 1..n` (plug-in, bias-corrected as configured).
    rate_by_order, rate_error : ndarray (order,)
        :math:`(D_k - D_{k-1})/dt` for :math:`k = 1..n` (first entry 0).
    dropped : ndarray (order,)
        Probability mass of dropped k-grams (unseen reverse) for each k.
    n_states, n_samples : int
        Distinct states seen; number of samples used.

    References
    ----------
    .. [RP12] E. Roldan and J. M. R. Parrondo, Phys. Rev. E 85, 031129 (2012).

    Examples
    --------
    >>> x = np.random.default_rng(1).integers(0, 3, 10_000)   # i.i.d.: reversible
    >>> abs(KLD(order=2).compute(x).epr.value) < 0.01
    True
    """

    def __init__(self, order=2, *, bins=None, dt=1.0, n_blocks=20, correction="jackknife",
                 max_dropped=0.01):
        self._order = _check_int(order, "order", 2)
        if self._order > 16:
            raise ValueError(f"order must be <= 16, got {order}")
        if bins is not None and not (isinstance(bins, numbers.Integral)
                                     or np.ndim(bins) == 1) or isinstance(bins, bool):
            raise ValueError(f"bins must be None, an integer or an array of edges, got {bins!r}")
        self._bins = bins
        if isinstance(dt, bool) or not isinstance(dt, numbers.Real) or not (dt > 0) \
                or not math.isfinite(dt):
            raise ValueError(f"dt must be a positive number, got {dt!r}")
        self._dt = float(dt)
        self._n_blocks = _check_int(n_blocks, "n_blocks", 2)
        if correction not in ("jackknife", None):
            raise ValueError(f"correction must be 'jackknife' or None, got {correction!r}")
        self._correction = correction
        if isinstance(max_dropped, bool) or not isinstance(max_dropped, numbers.Real) \
                or not 0 <= max_dropped <= 1:
            raise ValueError(f"max_dropped must be in [0, 1], got {max_dropped!r}")
        self._max_dropped = float(max_dropped)
        self._computed = False

    def compute(self, data, name=None) -> "KLD":
        """Estimate from ``data``: 1-D sequence, 2-D (independent trajectories as rows), or
        Results with the series ``name``. Returns self."""
        x = _series_from(data, name)
        if x.ndim not in (1, 2):
            raise ValueError(f"data must be 1-D (one trajectory) or 2-D (trajectories as rows), "
                             f"got shape {x.shape}")
        x2 = np.atleast_2d(x)
        n_traj, length = x2.shape
        n, B = self._order, self._n_blocks
        if length < n + 1:
            raise ValueError(f"series too short: order={n} needs trajectories of at least "
                             f"{n + 1} samples, got {length}")
        labels, m = _discretise(x2, self._bins)
        flat = labels.ravel()
        total = flat.size
        if total - n_traj * (n - 1) < 10 * B:
            raise ValueError(f"series too short: {total} samples give fewer than 10 {n}-grams "
                             f"per jackknife block (n_blocks={B})")
        t_in_row = np.tile(np.arange(length), n_traj)
        D_full = np.zeros(n)
        D_loo = np.zeros((B, n))
        dropped = np.zeros(n)
        for k in range(2, n + 1):
            valid = t_in_row <= length - k
            pos, fid, rid, K = _ngram_ids(flat, valid, k, m)
            block = (np.arange(len(pos)) * B) // len(pos)
            counts = np.bincount(block * K + fid, minlength=B * K).reshape(B, K)
            rev_of = np.full(K, -1, dtype=np.int64)
            rev_of[fid] = rid
            C = counts.sum(axis=0)
            D_full[k - 1], dropped[k - 1] = _kl_counts(C, rev_of)
            for b in range(B):
                D_loo[b, k - 1], _ = _kl_counts(C - counts[b], rev_of)
        rate_full = np.diff(D_full, prepend=0.0)
        rate_loo = np.diff(D_loo, axis=1, prepend=0.0)

        def jk(full, loo):
            mean = loo.mean(axis=0)
            err = np.sqrt((B - 1) / B * ((loo - mean) ** 2).sum(axis=0))
            val = B * full - (B - 1) * mean if self._correction == "jackknife" else full
            return val, err

        self._D, self._D_err = jk(D_full, D_loo)
        self._rate, self._rate_err = jk(rate_full, rate_loo)
        self._rate /= self._dt
        self._rate_err /= self._dt
        self._dropped = dropped
        self._n_states = m
        self._n_samples = total
        for a in (self._D, self._D_err, self._rate, self._rate_err, self._dropped):
            a.setflags(write=False)
        self._computed = True
        if dropped[-1] > self._max_dropped:
            warnings.warn(f"{100 * dropped[-1]:.3g}% of the {n}-gram probability has an unseen "
                          f"reverse and was dropped: the process may be irreversible (infinite "
                          f"EPR) or the series too short for order={n}; the estimate is biased "
                          f"low", EntropyWarning, stacklevel=2)
        return self

    def _need(self):
        if not self._computed:
            raise ValueError("call compute(data) first")

    @property
    def epr(self):
        """Estimated EPR (per unit time, i.e. per ``dt``) with its jackknife error."""
        self._need()
        return _estimate(self._rate[-1], self._rate_err[-1])

    @property
    def divergence(self) -> np.ndarray:
        """D_k for k = 1..order (nats; bias-corrected as configured)."""
        self._need()
        return self._D

    @property
    def divergence_error(self) -> np.ndarray:
        """Jackknife errors of ``divergence``."""
        self._need()
        return self._D_err

    @property
    def rate_by_order(self) -> np.ndarray:
        """(D_k - D_{k-1}) / dt for k = 1..order (first entry 0)."""
        self._need()
        return self._rate

    @property
    def rate_error(self) -> np.ndarray:
        """Jackknife errors of ``rate_by_order``."""
        self._need()
        return self._rate_err

    @property
    def dropped(self) -> np.ndarray:
        """Probability mass of k-grams with an unseen reverse (dropped), per order."""
        self._need()
        return self._dropped

    @property
    def n_states(self) -> int:
        """Number of distinct states seen."""
        self._need()
        return self._n_states

    @property
    def n_samples(self) -> int:
        """Number of samples used."""
        self._need()
        return self._n_samples

    def __repr__(self):
        if not self._computed:
            return f"<KLD order={self._order} (not computed)>"
        return f"<KLD order={self._order} epr={self.epr} n_states={self._n_states}>"


def kld_epr(data, order=2, **config):
    """EPR estimate (an Estimate: value, error) from ``KLD(order, **config).compute(data)``;
    ``data`` may be a Results if ``name=`` is among ``config``."""
    name = config.pop("name", None)
    return KLD(order, **config).compute(data, name).epr


# --------------------------------------------------------------------------
# thermodynamic uncertainty relation
# --------------------------------------------------------------------------
def tur_bound(samples, t):
    r"""Thermodynamic-uncertainty-relation lower bound on the steady-state EPR.

    For any time-integrated current :math:`J_t` of a continuous-time Markov
    process in its steady state (Barato-Seifert 2015, Gingrich et al. 2016),

    .. math:: \frac{\operatorname{Var} J_t}{\langle J_t\rangle^2} \ge
              \frac{2}{\sigma t}
              \quad\Longleftrightarrow\quad
              \sigma \ge \frac{2\langle J_t\rangle^2}{t\,\operatorname{Var}J_t}
              \qquad (k_B = 1,\ \sigma \text{ in nats per unit time}).

    ``samples`` are independent realisations of :math:`J_t` over the same
    duration ``t`` (e.g. net jumps across an edge, displacement, work), all
    started in the steady state. Returns ``Estimate(bound, error)``, the
    error from the delete-one jackknife (sample variance with ``ddof=1``).
    The bound does not hold in general for discrete-time chains (use small
    time steps) nor for non-steady initial conditions.
    """
    J = np.asarray(samples, dtype=float)
    if J.ndim != 1:
        raise ValueError(f"samples must be a 1-D array of J_t values, got shape {J.shape}")
    if len(J) < 3:
        raise ValueError(f"need at least 3 samples of the integrated current, got {len(J)}")
    if not np.all(np.isfinite(J)):
        raise ValueError("samples contain non-finite values (nan or inf)")
    if isinstance(t, bool) or not isinstance(t, numbers.Real) or not (t > 0) \
            or not math.isfinite(t):
        raise ValueError(f"t must be a positive duration, got {t!r}")
    n = len(J)
    S, Q = J.sum(), (J * J).sum()
    mean = S / n
    var = J.var(ddof=1)
    if var <= 0:
        raise ValueError("the samples have zero variance: the TUR bound is undefined")
    m_i = (S - J) / (n - 1)
    v_i = (Q - J * J - (n - 1) * m_i ** 2) / (n - 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        b_i = 2.0 * m_i ** 2 / (t * v_i)
    bound = 2.0 * mean ** 2 / (t * var)
    err = math.sqrt((n - 1) / n * float(np.sum((b_i - b_i.mean()) ** 2)))
    return _estimate(bound, err)


def tur_bound_from_increments(increments, window, *, dt=1.0):
    r"""TUR bound from one long steady-state series of current increments.

    ``increments[i]`` is the current's increment during sample interval
    :math:`i` (length ``dt``). The series is cut into non-overlapping windows
    of ``window`` samples (surplus dropped at the start); their sums are
    treated as independent samples of :math:`J_t`, :math:`t` =
    ``window * dt``, and passed to :func:`tur_bound`. Windows must be much
    longer than the correlation time of the increments.
    """
    x = np.asarray(increments, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"increments must be 1-D, got shape {x.shape}")
    w = _check_int(window, "window", 1)
    if len(x) < 3 * w:
        raise ValueError(f"series too short: {len(x)} increments give fewer than 3 windows of "
                         f"{w}")
    if isinstance(dt, bool) or not isinstance(dt, numbers.Real) or not (dt > 0):
        raise ValueError(f"dt must be a positive number, got {dt!r}")
    k = len(x) // w
    sums = x[len(x) - k * w:].reshape(k, w).sum(axis=1)
    return tur_bound(sums, w * float(dt))
