"""Lattices: geometry plus a CSR neighbour table and bond weights.

Every kernel in kadanoff works on one representation of a lattice: the
compressed-sparse-row (CSR) neighbour table ``indptr``, ``indices`` (int32) in
which the neighbours of site ``i`` are ``indices[indptr[i]:indptr[i+1]]``.
Each undirected bond ``b = (i, j)`` of ``edges`` appears twice, once in each
row; ``bond_of_entry[k]`` names the bond of CSR entry ``k`` so per-bond data
(couplings) map onto the table with ``data[lattice.bond_of_entry]``.

Periodic lattices with a linear size of 2 have two bonds between the same
pair of sites (one each way round the torus); they are kept as two bonds, which
is what the periodic Hamiltonian means.

Factories::

    square(L, Ly=None, periodic=True)        # 4 neighbours, site = x + Lx*y
    triangular(L, Ly=None, periodic=True)    # 6 neighbours
    honeycomb(L, Ly=None, periodic=True)     # 3 neighbours, 2 sites per cell
    chain(L, periodic=True)                  # 2 neighbours
    cubic(L, Ly=None, Lz=None, periodic=True)
    from_edges(n_sites, edges, weights=None)
    from_graph(graph, weight=None)           # networkx graph or scipy sparse adjacency
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "Lattice",
    "chain",
    "cubic",
    "from_edges",
    "from_graph",
    "honeycomb",
    "square",
    "triangular",
]


def _check_size(name: str, value, minimum: int = 2) -> int:
    """Validate a linear size: an integer >= minimum (bool is not an integer here)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    if value > 2**31 - 1:
        raise ValueError(f"{name} is too large for 32-bit site indices, got {value}")
    return int(value)


def _check_periodic(periodic) -> bool:
    if not isinstance(periodic, (bool, np.bool_)):
        raise ValueError(f"periodic must be True or False, got {periodic!r}")
    return bool(periodic)


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


class Lattice:
    """A set of sites joined by undirected bonds, with optional bond weights.

    Parameters
    ----------
    n_sites : int
        Number of sites, ``N >= 1``.
    edges : array_like of int, shape (M, 2)
        Undirected bonds ``(i, j)``, ``0 <= i, j < N``, ``i != j``. A pair may
        repeat (multiple bonds).
    weights : array_like of float, shape (M,), optional
        Bond weights ``w_b``; models multiply their coupling by them
        (``J_b = J * w_b``). ``None`` means all weights are 1.
    coords : array_like of float, shape (N, d), optional
        Site positions, for pictures and distance-dependent couplings.
    shape : tuple of int, optional
        Linear sizes for Bravais lattices (``(Lx, Ly)`` for ``square``).
    periodic : bool, optional
        Whether the boundaries wrap around (``None`` for a general graph).
    name : str
        Short description, e.g. ``"square"``.
    bond_vectors : array_like of float, shape (M, d), optional
        Real-space vector from ``edges[b, 0]`` to ``edges[b, 1]`` of each bond
        (across the boundary for wrapped bonds): the direction of a bond for
        the helicity modulus. The factories set it.
    cells : array_like of int, shape (N, D), optional
        Unit-cell index of each site along the ``D = len(shape)`` axes of a
        Bravais lattice (for Fourier components such as the second-moment
        correlation length). The factories set it.

    Attributes
    ----------
    indptr, indices : ndarray of int32
        CSR neighbour table; each bond appears in both rows.
    bond_of_entry : ndarray of int64
        Bond index of each CSR entry.
    degree : ndarray of int32
        Number of bonds at each site.

    All arrays are read-only.
    """

    def __init__(self, n_sites, edges, *, weights=None, coords=None, shape=None,
                 periodic=None, name="graph", bond_vectors=None, cells=None):
        n_sites = _check_size("n_sites", n_sites, minimum=1)
        edges = np.asarray(edges)
        if edges.size == 0:
            edges = edges.reshape(0, 2)
        if edges.ndim != 2 or edges.shape[1] != 2:
            raise ValueError(f"edges must have shape (M, 2), got {edges.shape}")
        if not (np.issubdtype(edges.dtype, np.integer)):
            raise ValueError(f"edges must hold integer site indices, got dtype {edges.dtype}")
        edges = edges.astype(np.int64)
        if edges.size and (edges.min() < 0 or edges.max() >= n_sites):
            raise ValueError(f"edges must hold site indices in [0, {n_sites}), "
                             f"got values in [{edges.min()}, {edges.max()}]")
        if 2 * len(edges) > 2**31 - 1:
            raise ValueError(f"edges: {len(edges)} bonds are too many for 32-bit neighbour tables")
        if np.any(edges[:, 0] == edges[:, 1]):
            raise ValueError("edges must not contain self-loops (i, i)")
        if weights is not None:
            weights = np.asarray(weights, dtype=np.float64)
            if weights.shape != (len(edges),):
                raise ValueError(f"weights must have shape ({len(edges)},) (one per bond), "
                                 f"got {weights.shape}")
            if not np.all(np.isfinite(weights)):
                raise ValueError("weights must be finite")
            weights = _readonly(weights.copy())
        if coords is not None:
            coords = np.asarray(coords, dtype=np.float64)
            if coords.ndim != 2 or coords.shape[0] != n_sites:
                raise ValueError(f"coords must have shape ({n_sites}, d), got {coords.shape}")
            coords = _readonly(coords.copy())
        if bond_vectors is not None:
            bond_vectors = np.asarray(bond_vectors, dtype=np.float64)
            if bond_vectors.ndim != 2 or bond_vectors.shape[0] != len(edges) \
                    or not np.all(np.isfinite(bond_vectors)):
                raise ValueError(f"bond_vectors must be finite with shape ({len(edges)}, d), "
                                 f"got {bond_vectors.shape}")
            bond_vectors = _readonly(bond_vectors.copy())
        if cells is not None:
            cells = np.asarray(cells)
            if cells.ndim != 2 or cells.shape[0] != n_sites \
                    or not np.issubdtype(cells.dtype, np.integer):
                raise ValueError(f"cells must be integers with shape ({n_sites}, D), "
                                 f"got {cells.shape}")
            if shape is not None and cells.shape[1] != len(shape):
                raise ValueError(f"cells must have one column per axis of shape {tuple(shape)}")
            cells = _readonly(cells.astype(np.int64))

        self.n_sites = n_sites
        self.edges = _readonly(edges)
        self.weights = weights
        self.coords = coords
        self.shape = tuple(shape) if shape is not None else None
        self.periodic = periodic
        self.name = name
        self.bond_vectors = bond_vectors
        self.cells = cells

        # CSR: every bond b=(i,j) contributes entry j to row i and i to row j.
        m = len(edges)
        rows = np.concatenate([edges[:, 0], edges[:, 1]])
        cols = np.concatenate([edges[:, 1], edges[:, 0]])
        bond = np.concatenate([np.arange(m), np.arange(m)])
        order = np.lexsort((cols, rows))
        counts = np.bincount(rows, minlength=n_sites)
        self.indptr = _readonly(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
        self.indices = _readonly(cols[order].astype(np.int32))
        self.bond_of_entry = _readonly(bond[order].astype(np.int64))
        self.degree = _readonly(counts.astype(np.int32))

    @property
    def n_bonds(self) -> int:
        """Number of undirected bonds M."""
        return len(self.edges)

    @property
    def max_degree(self) -> int:
        return int(self.degree.max()) if self.n_sites else 0

    def bond_values(self, value, name="J") -> np.ndarray:
        """Per-bond values ``value * w_b`` as a float64 array of shape (M,).

        ``value`` is a scalar or an array with one entry per bond; ``name`` is
        used in error messages.
        """
        arr = np.asarray(value, dtype=np.float64) if not isinstance(value, (str, bytes)) else None
        if arr is None or (arr.ndim == 0 and not np.isfinite(arr)) or \
                (arr.ndim == 1 and not np.all(np.isfinite(arr))):
            raise ValueError(f"{name} must be a finite number or an array of {self.n_bonds} "
                             f"finite numbers (one per bond), got {value!r}")
        if arr.ndim == 0:
            arr = np.full(self.n_bonds, float(arr))
        elif arr.shape != (self.n_bonds,):
            raise ValueError(f"{name} must be a scalar or have shape ({self.n_bonds},) "
                             f"(one per bond of the lattice), got shape {arr.shape}")
        if self.weights is not None:
            arr = arr * self.weights
        return arr

    def entry_values(self, bond_values: np.ndarray) -> np.ndarray:
        """Map per-bond values of shape (M,) onto the CSR entries."""
        return np.ascontiguousarray(np.asarray(bond_values, dtype=np.float64)[self.bond_of_entry])

    @property
    def common_degree(self) -> int:
        """The degree z shared by every site, or 0 if degrees differ (open
        boundaries, general graphs). Kernels unroll neighbour loops when z > 0."""
        deg = self.degree
        return int(deg[0]) if len(deg) and np.all(deg == deg[0]) else 0

    def with_weights(self, weights) -> Lattice:
        """The same lattice with new bond weights (one per bond)."""
        return Lattice(self.n_sites, self.edges, weights=weights, coords=self.coords,
                       shape=self.shape, periodic=self.periodic, name=self.name,
                       bond_vectors=self.bond_vectors, cells=self.cells)

    def entry_vectors(self) -> np.ndarray | None:
        """Vector from site i to neighbour j for each CSR entry (row i), shape
        (2M, d); ``None`` when the lattice has no ``bond_vectors``."""
        if self.bond_vectors is None:
            return None
        rows = np.repeat(np.arange(self.n_sites), self.degree)
        forward = self.edges[self.bond_of_entry, 0] == rows
        v = self.bond_vectors[self.bond_of_entry]
        return np.ascontiguousarray(np.where(forward[:, None], v, -v))

    def two_coloring(self):
        """Sublattice labels 0/1 if the lattice is bipartite, else ``None``."""
        return _gauge(self.n_sites, self.indptr, self.indices,
                      -np.ones(len(self.indices), dtype=np.int8))

    def sweep_runs(self) -> np.ndarray:
        """A colour-by-colour visiting order of all sites, as runs ``(start, step, count)``.

        Sites are given a proper colouring (no bond joins two sites of one
        colour): the two sublattices if the lattice is bipartite, otherwise
        greedy colouring in index order (smallest colour not used by an
        earlier neighbour). The order lists colour 0, then colour 1, ...,
        each by increasing index, and is compressed into maximal arithmetic
        runs: run ``r`` visits ``start, start + step, ...`` (``count`` sites).
        On a periodic L x L square lattice with even L this is one run per
        row and colour, step 2.

        Local-update kernels sweep in this order: within a colour no site
        reads a spin written earlier in the same colour, so updates do not
        wait on each other. Computed once and cached; read-only int64 array of
        shape (R, 3).
        """
        runs = getattr(self, "_sweep_runs_cache", None)
        if runs is None:
            colour = self.two_coloring()
            if colour is None:
                colour = _greedy_coloring(self.n_sites, self.indptr, self.indices)
            sites = np.arange(self.n_sites, dtype=np.int64)
            runs = _readonly(np.concatenate(
                [_arithmetic_runs(sites[colour == c]) for c in range(int(colour.max()) + 1)]
                if self.n_sites else [np.zeros((0, 3), dtype=np.int64)]))
            self._sweep_runs_cache = runs
        return runs

    def describe(self) -> dict:
        """Plain-data description for metadata."""
        return {"name": self.name, "n_sites": self.n_sites, "n_bonds": self.n_bonds,
                "shape": list(self.shape) if self.shape else None,
                "periodic": self.periodic, "weighted": self.weights is not None}

    def __repr__(self) -> str:
        shape = f" shape={self.shape}" if self.shape else ""
        per = "" if self.periodic is None else (" periodic" if self.periodic else " open")
        return f"<Lattice {self.name}{shape}{per}: {self.n_sites} sites, {self.n_bonds} bonds>"


def _gauge(n_sites, indptr, indices, entry_sign):
    """Find labels tau_i in {0, 1} with equal labels across bonds of sign +1 and
    different labels across bonds of sign -1; ``None`` if impossible (for
    couplings: the bonds are frustrated).

    Uses the doubled graph with nodes (i, 0), (i, 1): a +1 bond joins
    (i, a)-(j, a), a -1 bond joins (i, a)-(j, 1-a). The constraints are
    contradictory exactly when (i, 0) and (i, 1) end up connected.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    rows = np.repeat(np.arange(n_sites), np.diff(np.asarray(indptr)))
    cols = np.asarray(indices, dtype=np.int64)
    flip = (np.asarray(entry_sign) < 0).astype(np.int64)
    src = np.concatenate([rows, rows + n_sites])
    dst = np.concatenate([cols + n_sites * flip, cols + n_sites * (1 - flip)])
    graph = coo_matrix((np.ones(len(src)), (src, dst)), shape=(2 * n_sites, 2 * n_sites))
    _, comp = connected_components(graph, directed=False)
    if np.any(comp[:n_sites] == comp[n_sites:]):
        return None
    # tau_i = 0 where (i, 0) shares a component with the smaller-numbered copy.
    return (comp[:n_sites] > comp[n_sites:]).astype(np.int8)


def _greedy_coloring(n_sites, indptr, indices) -> np.ndarray:
    """Proper colouring: site i (in index order) takes the smallest colour not
    held by a neighbour j < i. Uses at most max_degree + 1 colours."""
    indptr = np.asarray(indptr).tolist()
    indices = np.asarray(indices).tolist()
    colour = [0] * n_sites
    for i in range(n_sites):
        taken = {colour[j] for j in indices[indptr[i]:indptr[i + 1]] if j < i}
        c = 0
        while c in taken:
            c += 1
        colour[i] = c
    return np.asarray(colour, dtype=np.int64)


def _arithmetic_runs(order) -> np.ndarray:
    """Split a sequence of site indices into maximal arithmetic runs, greedily
    from the front: rows (start, step, count) that reproduce ``order``."""
    order = np.asarray(order, dtype=np.int64)
    n = len(order)
    if n == 0:
        return np.zeros((0, 3), dtype=np.int64)
    d = np.diff(order).tolist()
    runs = []
    a = 0
    while a < n:
        if a == n - 1:
            runs.append((order[a], 1, 1))
            break
        step = d[a]
        b = a + 1                       # order[a..b] is a run with this step
        while b < n - 1 and d[b] == step:
            b += 1
        runs.append((order[a], step, b - a + 1))
        a = b + 1
    return np.ascontiguousarray(np.array(runs, dtype=np.int64).reshape(-1, 3))


# ----------------------------------------------------------------- factories


def _grid_edges(sizes, offsets, periodic):
    """Bonds of a hypercubic-indexed grid: site (x0, x1, ...) -> x0 + L0*(x1 + L1*...),
    joined to (x + offset) for each offset, wrapped if periodic, dropped otherwise."""
    n_entries = 2 * max(1, len(offsets)) * int(np.prod([int(L) for L in sizes], dtype=object))
    if n_entries > 2**31 - 1:
        raise ValueError(f"L: a lattice of shape {tuple(sizes)} has too many sites for "
                         "32-bit neighbour tables")
    grids = np.meshgrid(*[np.arange(L) for L in sizes], indexing="ij")
    pos = np.stack([g.ravel(order="F") for g in grids], axis=1)  # site order x fastest
    strides = np.cumprod([1] + list(sizes[:-1]))
    edges, offs = [], []
    for off in offsets:
        nb = pos + np.asarray(off)
        if periodic:
            nb = nb % np.asarray(sizes)
            keep = np.ones(len(pos), dtype=bool)
        else:
            keep = np.all((nb >= 0) & (nb < np.asarray(sizes)), axis=1)
        src = pos[keep] @ strides
        dst = nb[keep] @ strides
        edges.append(np.stack([src, dst], axis=1))
        offs.append(np.broadcast_to(np.asarray(off, dtype=float), (len(src), len(sizes))))
    if not edges:
        return pos, np.zeros((0, 2), dtype=np.int64), np.zeros((0, len(sizes)))
    return pos, np.concatenate(edges), np.concatenate(offs)


def square(L, Ly=None, *, periodic=True) -> Lattice:
    """L x Ly square lattice (Ly defaults to L); site index ``x + L*y``."""
    Lx = _check_size("L", L)
    Ly = Lx if Ly is None else _check_size("Ly", Ly)
    periodic = _check_periodic(periodic)
    pos, edges, vec = _grid_edges((Lx, Ly), [(1, 0), (0, 1)], periodic)
    return Lattice(Lx * Ly, edges, coords=pos.astype(float), shape=(Lx, Ly),
                   periodic=periodic, name="square", bond_vectors=vec, cells=pos)


def triangular(L, Ly=None, *, periodic=True) -> Lattice:
    """L x Ly triangular lattice: primitive vectors a1 = (1, 0), a2 = (1/2, sqrt(3)/2);
    site ``x + L*y`` at ``x a1 + y a2`` joined to (x+1, y), (x, y+1), (x-1, y+1)."""
    Lx = _check_size("L", L)
    Ly = Lx if Ly is None else _check_size("Ly", Ly)
    periodic = _check_periodic(periodic)
    pos, edges, off = _grid_edges((Lx, Ly), [(1, 0), (0, 1), (-1, 1)], periodic)
    basis = np.array([[1.0, 0.0], [0.5, np.sqrt(3) / 2]])
    return Lattice(Lx * Ly, edges, coords=pos @ basis, shape=(Lx, Ly), periodic=periodic,
                   name="triangular", bond_vectors=off @ basis, cells=pos)


def honeycomb(L, Ly=None, *, periodic=True) -> Lattice:
    """Honeycomb lattice of L x Ly unit cells, two sites each (2 L Ly sites).

    Cell (x, y) holds site A = 2 (x + L y) at ``x a1 + y a2`` and site B = A + 1
    at ``A + (sqrt(3)/2, 1/2)``, with a1 = (sqrt(3), 0), a2 = (sqrt(3)/2, 3/2)
    (bond length 1). A(r) is joined to B(r), B(r - a1) and B(r - a2).
    """
    Lx = _check_size("L", L)
    Ly = Lx if Ly is None else _check_size("Ly", Ly)
    periodic = _check_periodic(periodic)
    pos, _, _ = _grid_edges((Lx, Ly), [], periodic)
    cell = pos[:, 0] + Lx * pos[:, 1]
    a1 = np.array([np.sqrt(3), 0.0])
    a2 = np.array([np.sqrt(3) / 2, 1.5])
    ab = np.array([np.sqrt(3) / 2, 0.5])        # from A to B in the same cell
    edges, vec = [], []
    for dx, dy in [(0, 0), (-1, 0), (0, -1)]:
        nb = pos + np.array([dx, dy])
        if periodic:
            nb = nb % np.array([Lx, Ly])
            keep = np.ones(len(pos), dtype=bool)
        else:
            keep = np.all((nb >= 0) & (nb < np.array([Lx, Ly])), axis=1)
        nb_cell = nb[keep, 0] + Lx * nb[keep, 1]
        edges.append(np.stack([2 * cell[keep], 2 * nb_cell + 1], axis=1))
        vec.append(np.broadcast_to(ab + dx * a1 + dy * a2, (int(keep.sum()), 2)))
    origin = pos[:, :1] * a1 + pos[:, 1:] * a2
    coords = np.empty((2 * Lx * Ly, 2))
    coords[0::2] = origin
    coords[1::2] = origin + np.array([np.sqrt(3) / 2, 0.5])
    return Lattice(2 * Lx * Ly, np.concatenate(edges), coords=coords, shape=(Lx, Ly),
                   periodic=periodic, name="honeycomb", bond_vectors=np.concatenate(vec),
                   cells=np.repeat(pos, 2, axis=0))


def chain(L, *, periodic=True) -> Lattice:
    """Linear chain of L sites (L bonds if periodic, L - 1 if open)."""
    L = _check_size("L", L)
    periodic = _check_periodic(periodic)
    pos, edges, vec = _grid_edges((L,), [(1,)], periodic)
    return Lattice(L, edges, coords=pos.astype(float), shape=(L,), periodic=periodic,
                   name="chain", bond_vectors=vec, cells=pos)


def cubic(L, Ly=None, Lz=None, *, periodic=True) -> Lattice:
    """L x Ly x Lz simple cubic lattice; site index ``x + Lx*(y + Ly*z)``."""
    Lx = _check_size("L", L)
    Ly = Lx if Ly is None else _check_size("Ly", Ly)
    Lz = Lx if Lz is None else _check_size("Lz", Lz)
    periodic = _check_periodic(periodic)
    pos, edges, vec = _grid_edges((Lx, Ly, Lz), [(1, 0, 0), (0, 1, 0), (0, 0, 1)], periodic)
    return Lattice(Lx * Ly * Lz, edges, coords=pos.astype(float), shape=(Lx, Ly, Lz),
                   periodic=periodic, name="cubic", bond_vectors=vec, cells=pos)


def from_edges(n_sites, edges, weights=None, *, coords=None) -> Lattice:
    """A lattice from an explicit bond list ``edges`` (M, 2) and optional ``weights`` (M,)."""
    return Lattice(n_sites, edges, weights=weights, coords=coords, name="graph")


def from_graph(graph, weight=None) -> Lattice:
    """A lattice from a networkx graph or a scipy sparse (symmetric) adjacency matrix.

    networkx: nodes are numbered in ``graph.nodes`` order; if ``weight`` names
    an edge attribute its values become bond weights. Sparse matrix: each
    nonzero ``A[i, j]`` with ``i < j`` is a bond with weight ``A[i, j]`` (all
    weights 1 -> unweighted); the matrix must be square and symmetric with an
    empty diagonal.
    """
    try:
        import scipy.sparse as sp
    except ImportError:  # pragma: no cover - scipy is a dependency
        sp = None
    if sp is not None and sp.issparse(graph):
        a = sp.coo_matrix(graph)
        if a.shape[0] != a.shape[1]:
            raise ValueError(f"graph adjacency must be square, got shape {a.shape}")
        if abs(a - a.T).max() if a.nnz else 0:
            raise ValueError("graph adjacency must be symmetric")
        if np.any((a.row == a.col) & (a.data != 0)):
            raise ValueError("graph adjacency must have an empty diagonal (no self-loops)")
        upper = (a.row < a.col) & (a.data != 0)
        edges = np.stack([a.row[upper], a.col[upper]], axis=1)
        w = np.asarray(a.data[upper], dtype=np.float64)
        return Lattice(a.shape[0], edges, weights=None if np.all(w == 1) else w, name="graph")
    if hasattr(graph, "nodes") and hasattr(graph, "edges"):
        nodes = list(graph.nodes)
        index = {node: k for k, node in enumerate(nodes)}
        if graph.is_directed():
            raise ValueError("graph must be undirected")
        edge_list, w = [], []
        for u, v, data in graph.edges(data=True):
            edge_list.append((index[u], index[v]))
            if weight is not None:
                if weight not in data:
                    raise ValueError(f"weight attribute {weight!r} missing on edge ({u!r}, {v!r})")
                w.append(data[weight])
        return Lattice(len(nodes), np.array(edge_list, dtype=np.int64).reshape(-1, 2),
                       weights=w if weight is not None else None, name="graph")
    raise TypeError("graph must be a networkx graph or a scipy sparse adjacency matrix, "
                    f"got {type(graph).__name__}")
