r"""Entropy production: exact values for small Markov chains and model-free estimators.

Pure numpy/scipy; works on plain arrays (simulation output, experimental data,
other codes' data) and on Results.

* :func:`schnakenberg` -- exact steady-state entropy production rate (EPR) of a
  finite Markov chain from its rate matrix (continuous time) or transition
  matrix (discrete time), with the stationary distribution, the probability
  currents and the per-edge contributions. For validation and teaching.
* :func:`generator` -- build a generator (fill the diagonal) from off-diagonal
  rates.

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
from dataclasses import dataclass

import numpy as np

__all__ = [
    "EntropyWarning",
    "Schnakenberg",
    "schnakenberg",
    "generator",
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
    r"""Generator with the given off-diagonal rates and diagonal :math:`W_{xx} = -\sum_{y\ne x} W_{xy}`.

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
    """Stationary row vector of the generator Q (rows sum to 0) supported on one closed class."""
    n = Q.shape[0]
    A = np.vstack([Q.T, np.ones((1, n))])
    b = np.zeros(n + 1)
    b[-1] = 1.0
    p, *_ = np.linalg.lstsq(A, b, rcond=None)
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
