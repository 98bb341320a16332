"""Spin models on any kd.lattice.

Ising:  H = -sum_<ij> J_ij s_i s_j - sum_i h_i s_i,   s_i = +-1.
"""
from __future__ import annotations

import math
import numbers
import threading

import numpy as np
from scipy.special import expit

from .. import _cluster, _multispin, _spin
from ..lattice import Lattice, _gauge
from .base import Model, Updater, check_discrete_states, check_spins, random_spins

__all__ = ["XY", "Clock", "Heisenberg", "Ising", "Potts"]

_METROPOLIS, _HEATBATH = 0, 1


def _check_lattice(lattice) -> Lattice:
    if not isinstance(lattice, Lattice):
        raise TypeError("lattice must be a kadanoff Lattice (e.g. kd.lattice.square(16)), "
                        f"got {type(lattice).__name__}")
    return lattice


def _site_values(value, n_sites, name) -> np.ndarray:
    """A finite scalar or per-site array of shape (N,) as float64 (N,)."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number or an array of {n_sites} finite "
                         f"numbers (one per site), got {value!r}") from None
    if arr.ndim == 0:
        arr = np.full(n_sites, float(arr))
    elif arr.shape != (n_sites,):
        raise ValueError(f"{name} must be a scalar or have shape ({n_sites},) (one per site), "
                         f"got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return np.ascontiguousarray(arr)


class Ising(Model):
    r"""Ising model on any lattice.

    .. math:: H = -\sum_{\langle ij\rangle} J_{ij} s_i s_j - \sum_i h_i s_i,
              \qquad s_i = \pm 1

    The sum runs over the bonds of ``lattice`` (each once); ``J_ij = J * w_ij``
    with ``w`` the lattice's bond weights (1 if it has none).

    Parameters
    ----------
    lattice : kd.Lattice
    J : float or array of shape (n_bonds,)
        Coupling (ferromagnetic for J > 0); an array gives one coupling per
        bond in ``lattice.edges`` order (random-bond models, +-J spin glass).
    h : float or array of shape (n_sites,)
        Magnetic field (uniform or per site).

    Algorithms
    ----------
    ``metropolis`` (flip with p = min(1, exp(-beta dE))) and ``heatbath``
    (Glauber, p = 1 / (1 + exp(beta dE))): single-site updates for any J and
    h. Option ``sweep="ordered"`` (default) visits the sites colour by colour
    (``lattice.sweep_runs()``: the two sublattices on a bipartite lattice);
    ``sweep="random"`` draws N sites at random. Metropolis on lattices of
    degree <= 2 (chains) always uses random sites: with a fixed order its
    certain acceptance of dE <= 0 moves domain walls deterministically and
    the chain is not ergodic. For the same reason ordered Metropolis mixes
    slowly at very high T (nearly every move is accepted): prefer
    ``sweep="random"`` or heat bath there.

    Option ``kernel`` (metropolis, heatbath): ``"auto"`` (default) runs the
    bit-packed multispin kernel (``kadanoff._multispin``: 64 spins per word,
    an independent 32-bit Bernoulli draw per spin, the same Markov chain in
    distribution; 6-13x faster) when the lattice is a periodic
    ``kd.lattice.square`` or ``cubic`` with Lx a multiple of 64 and the other
    sides even, J is uniform, h = 0 and the sweep is ordered; otherwise the
    general kernel. ``res.meta["algorithm_info"]["kernel"]`` says which ran
    (and ``kernel_note`` why). ``"general"`` forces the general kernel;
    ``"multispin"`` raises ValueError where it cannot run.

    ``wolff``, ``swendsen-wang``: Fortuin-Kasteleyn clusters, only for h = 0
    and unfrustrated couplings (any sign pattern that a gauge transformation
    s_i -> tau_i s_i makes ferromagnetic). Wolff takes the option
    ``clusters_per_sweep`` (default: estimated during thermalisation).

    A sweep is N attempted flips (local), one full decomposition (SW), or a
    fixed number n_c = ceil(N / <C>) of single-cluster updates (Wolff), with
    the mean cluster size <C> estimated during thermalisation and then frozen.
    Stopping after "N flipped spins" instead would bias every measurement.

    Observables (per spin): ``e`` = H/N, ``m`` = sum_i s_i / N, ``abs_m``,
    ``m2``, ``m4``; ``m2_k`` = |M(k_min)|^2 / N^2 averaged over the lattice
    axes (k_min = 2 pi / L), for the second-moment correlation length
    ``res.correlation_length()`` (Bravais lattices with equal sides).
    """

    algorithms = ("metropolis", "heatbath", "wolff", "swendsen-wang")
    observables = ("e", "m", "abs_m", "m2", "m4", "m2_k")

    def __init__(self, lattice, J=1.0, h=0.0):
        self.lattice = _check_lattice(lattice)
        self.n_sites = lattice.n_sites
        self.J = lattice.bond_values(J, "J")
        self.h = _site_values(h, self.n_sites, "h")
        self._J_user = J
        self._h_user = h
        self._weights = lattice.entry_values(self.J)
        self._n_axes, self._phase = _fourier_phases(lattice)

    # -- configurations --------------------------------------------------
    def random_state(self, generator: np.random.Generator) -> np.ndarray:
        """Infinite-temperature configuration: independent +-1 spins."""
        return random_spins(generator, self.n_sites)

    def check_state(self, state) -> np.ndarray:
        return check_spins(state, self.n_sites)

    # -- physics ---------------------------------------------------------
    def energy(self, state) -> float:
        """Total energy H of a configuration."""
        s = self.check_state(state).astype(np.float64)
        i, j = self.lattice.edges[:, 0], self.lattice.edges[:, 1]
        # np.sum rather than np.dot: a BLAS dot may start threads, which cost
        # milliseconds on a loaded machine for a sum of microseconds
        return float(-np.sum(self.J * s[i] * s[j]) - np.sum(self.h * s))

    def params(self) -> dict:
        def plain(x):
            return float(x) if np.ndim(x) == 0 else "per-bond" if np.ndim(x) == 1 else x
        return {"model": "Ising", "J": plain(self._J_user),
                "h": float(self._h_user) if np.ndim(self._h_user) == 0 else "per-site",
                "lattice": self.lattice.describe()}

    def observables_from_raw(self, raw: dict) -> dict:
        n = self.n_sites
        X = raw["X"]
        m = X[:, 1] / n
        m2 = m * m
        out = {"e": X[:, 0] / n, "m": m, "abs_m": np.abs(m), "m2": m2, "m4": m2 * m2}
        if self._n_axes:
            out["m2_k"] = X[:, 2] / (self._n_axes * n * n)
        return out

    # -- algorithms ------------------------------------------------------
    def updater(self, algorithm: str, beta: float, **options) -> Updater:
        algorithm = self.check_algorithm(algorithm)
        if algorithm in ("metropolis", "heatbath"):
            _check_options(algorithm, options, ("sweep", "kernel"))
            method = _METROPOLIS if algorithm == "metropolis" else _HEATBATH
            kernel = options.pop("kernel", "auto")
            if kernel not in ("auto", "general", "multispin"):
                raise ValueError("kernel must be 'auto' (multispin where supported), 'general' "
                                 f"(CSR kernel) or 'multispin' (bit-packed), got {kernel!r}")
            why_not = _multispin_unsupported(self, options.get("sweep"))
            if kernel == "multispin" and why_not is not None:
                raise ValueError(f"kernel='multispin' is not available: {why_not}; use "
                                 "kernel='auto' or 'general'")
            if kernel != "general" and why_not is None:
                return _IsingMultispin(self, beta, method)
            upd = _IsingLocal(self, beta, method, **options)
            upd.kernel_note = ("requested" if kernel == "general"
                               else f"multispin unavailable: {why_not}")
            return upd
        self._check_cluster(algorithm)
        if algorithm == "wolff":
            _check_options(algorithm, options, ("clusters_per_sweep",))
            return _IsingWolff(self, beta, **options)
        _check_options(algorithm, options)
        return _IsingSwendsenWang(self, beta)

    def _check_cluster(self, algorithm):
        if np.any(self.h != 0):
            raise ValueError(f"algorithm {algorithm!r} needs h = 0 (a field breaks the cluster "
                             "symmetry); use 'metropolis' or 'heatbath' with a field")
        if np.any(self.J < 0):
            sign = np.where(self._weights < 0, -1, 1).astype(np.int8)
            if _gauge(self.n_sites, self.lattice.indptr, self.lattice.indices, sign) is None:
                raise ValueError(f"algorithm {algorithm!r} needs unfrustrated couplings; these "
                                 "couplings are frustrated, use 'metropolis' or 'heatbath'")

    def _uniform(self) -> bool:
        return bool(np.all(self.J == self.J[0]) and np.all(self.h == self.h[0])) \
            if len(self.J) else bool(np.all(self.h == self.h[0]))


def _check_options(algorithm, options, allowed=()):
    """TypeError unless every option name is one ``algorithm`` accepts."""
    unknown = set(options) - set(allowed)
    if unknown:
        takes = f"the options {sorted(allowed)}" if allowed else "no options"
        raise TypeError(f"algorithm {algorithm!r} takes {takes}, got {sorted(unknown)}")


def _sweep_order(sweep, deterministic) -> str:
    """Validated visiting order; ``deterministic``: Metropolis with a forced
    proposal on a lattice of degree <= 2, where a fixed order moves domain
    walls deterministically (not ergodic), so sites are drawn at random."""
    if sweep is None:
        sweep = "random" if deterministic else "ordered"
    if sweep not in ("ordered", "random"):
        raise ValueError(f"sweep must be 'ordered' (colour by colour) or 'random' "
                         f"(random-site selection), got {sweep!r}")
    if sweep == "ordered" and deterministic:
        raise ValueError("sweep='ordered' with 'metropolis' is not ergodic on a lattice of "
                         "degree <= 2 (domain walls move deterministically); use "
                         "sweep='random' or algorithm='heatbath'")
    return sweep


class _IsingBase(Updater):
    raw_names = ("X",)              # rows (E, M, sum_t |M(k_t)|^2), cext/ising_common.pxd
    raw_shapes = {"X": (3,)}

    def __init__(self, model: Ising, beta: float):
        self.model = model
        self.beta = beta
        self.lat = model.lattice


class _IsingLocal(_IsingBase):
    """Metropolis or heat-bath sweeps, colour by colour (``Lattice.sweep_runs``);
    tabulated when J, h are uniform."""

    def __init__(self, model, beta, method, sweep=None):
        super().__init__(model, beta)
        self.method = method
        # Metropolis accepts dE <= 0 with certainty; on chains a fixed visiting
        # order then carries domain walls deterministically (non-ergodic), so
        # there a sweep draws its sites at random.
        self.sweep = _sweep_order(sweep, method == _METROPOLIS and model.lattice.max_degree <= 2)
        self.runs = self.lat.sweep_runs()      # colour-by-colour visiting order
        self.degree = self.lat.common_degree     # > 0: unrolled neighbour loop
        if model._uniform():
            J = model.J[0] if len(model.J) else 0.0
            h = model.h[0]
            zmax = model.lattice.max_degree
            k = np.arange(-zmax, zmax + 1)
            s = np.array([-1, 1])[:, None]
            with np.errstate(over="ignore"):         # beta dE = +-inf is fine below
                bde = 2.0 * (beta * (s * (J * k + h)))
                if method == _METROPOLIS:
                    p = np.exp(np.minimum(0.0, -bde))
                else:
                    p = expit(-bde)          # 1 / (1 + exp(beta dE))
            self.table = threshold(p, 32).reshape(2, -1)
        else:
            self.table = np.zeros((0, 1), dtype=np.uint64)

    def run(self, state, rng_state, n_measure, every, raw):
        m = self.model
        _spin.ising_local_run(state, self.lat.indptr, self.lat.indices, m._weights, m.h,
                              self.beta, self.method, self.table, self.runs, self.degree,
                              self.sweep == "random", rng_state, n_measure, every,
                              self.model._phase, raw["X"])

    def info(self):
        return {"sweep": self.sweep, "tabulated": self.table.shape[0] == 2, "kernel": "general",
                "kernel_note": getattr(self, "kernel_note", "")}


def _multispin_unsupported(model, sweep):
    """None if the bit-packed kernel (cext/multispin.pyx) can run ``model``,
    else the reason: it needs a periodic kd.lattice.square (Lx a multiple of
    64, Ly even) or cubic (Lx a multiple of 64, Ly and Lz even) lattice in
    the factories' site order, one uniform coupling J, h = 0 and the ordered
    (checkerboard) sweep."""
    lat = model.lattice
    if sweep not in (None, "ordered"):
        return "it sweeps the two sublattices in order (sweep='ordered')"
    if lat.name not in ("square", "cubic") or not lat.periodic or lat.shape is None:
        return "it needs a periodic square or cubic lattice"
    shape = lat.shape
    if shape[0] % 64 or any(L % 2 for L in shape[1:]):
        return (f"it needs Lx a multiple of 64 and even Ly{', Lz' if len(shape) == 3 else ''}, "
                f"got shape {tuple(shape)}")
    if np.any(model.h != 0):
        return "it needs h = 0"
    if len(model.J) and not np.all(model.J == model.J[0]):
        return "it needs one uniform coupling J"
    if lat.common_degree != 2 * len(shape) or not _factory_order(lat):
        return "the lattice's neighbour table is not the square/cubic factory's"
    return None


def _factory_order(lat) -> bool:
    """True if lat's CSR table is that of kd.lattice.square / cubic (site x + Lx (y + Ly z))."""
    cached = getattr(lat, "_kd_factory_order", None)
    if cached is not None:
        return cached
    shape = lat.shape
    n = lat.n_sites
    sites = np.arange(n)
    coord = np.stack(np.unravel_index(sites, shape, order="F"), axis=1)
    strides = np.cumprod([1] + list(shape[:-1]))
    nbrs = []
    for axis in range(len(shape)):
        for step in (1, -1):
            c = coord.copy()
            c[:, axis] = (c[:, axis] + step) % shape[axis]
            nbrs.append(c @ strides)
    expected = np.sort(np.stack(nbrs, axis=1), axis=1)
    got = np.sort(np.asarray(lat.indices).reshape(n, -1), axis=1)
    ok = bool(lat.n_sites == int(np.prod(shape)) and np.array_equal(expected, got))
    try:
        lat._kd_factory_order = ok
    except AttributeError:      # pragma: no cover - defensive
        pass
    return ok


class _IsingMultispin(_IsingBase):
    """Metropolis or heat bath with 64 spins per word (cext/multispin.pyx).

    The same checkerboard Markov chain as the general kernel: each lane gets
    its own Bernoulli draw at the flip probability rounded down to 2^-32
    (32-bit thresholds, as in the general table path). The int8 state is
    packed at the start of every run call and unpacked at its end, so
    ``sim.state`` is always the current configuration.
    """

    def __init__(self, model, beta, method):
        super().__init__(model, beta)
        self.method = method
        self.sweep = "ordered"
        shape = tuple(model.lattice.shape)
        self.W = shape[0] // 64
        self.Ly = shape[1]
        self.Lz = shape[2] if len(shape) == 3 else 1
        self.z = 2 * len(shape)
        J = float(model.J[0]) if len(model.J) else 0.0
        self.J = J
        self._rule(J, beta, method)
        self.words = np.zeros(self.W * self.Ly * self.Lz, dtype=np.uint64)
        self.n_axes = model._n_axes
        L = shape[0]
        if self.n_axes:
            arg = 2 * np.pi * np.arange(L) / L
            self.cs, self.sn = np.cos(arg), np.sin(arg)
            K = max(4, int(self.Ly * self.Lz).bit_length())
            self.cnt = np.zeros(self.W * (K + 4), dtype=np.uint64)    # see multispin_run
            self.sums = np.zeros(3 * L, dtype=np.int64)
        else:
            self.cs = self.sn = np.zeros(0)
            self.cnt = np.zeros(0, dtype=np.uint64)
            self.sums = np.zeros(0, dtype=np.int64)

    def _rule(self, J, beta, method):
        """Classes of the disagreement count d = 0..z: p_d = p(dE = 2 J (z - 2 d))."""
        z = self.z
        d = np.arange(z + 1)
        with np.errstate(over="ignore"):
            bde = 2.0 * beta * J * (z - 2 * d)
            p = np.exp(np.minimum(0.0, -bde)) if method == _METROPOLIS else expit(-bde)
        t = threshold(p, 32)
        cls_of = np.full(7, -1, dtype=np.int64)
        always = np.zeros(7, dtype=np.int64)
        inv = np.zeros(7, dtype=np.int64)
        thresholds = np.zeros(4, dtype=np.uint64)
        n_cls = 0
        for k in range(z + 1):
            if t[k] >= 2**32:
                always[k] = 1
            elif t[k] == 0:
                continue
            elif method == _HEATBATH and 2 * k > z and cls_of[z - k] >= 0 \
                    and t[k] + t[z - k] in (2**32 - 1, 2**32):
                # p_{z-d} = 1 - p_d: flip when U >= t_{z-d}, P = 1 - t_{z-d} / 2^32
                cls_of[k] = cls_of[z - k]
                inv[k] = 1
            else:
                cls_of[k] = n_cls
                thresholds[n_cls] = t[k]
                n_cls += 1
        assert n_cls <= 4
        self.cls_of, self.always, self.inv, self.thresholds = cls_of, always, inv, thresholds

    def run(self, state, rng_state, n_measure, every, raw):
        _multispin.pack(state, self.words, self.W)
        _multispin.multispin_run(self.words, self.W, self.Ly, self.Lz, self.cls_of, self.always,
                                 self.inv, self.thresholds, self.J, rng_state, n_measure, every,
                                 self.n_axes, self.cs, self.sn, self.cnt, self.sums, raw["X"])
        _multispin.unpack(self.words, state, self.W)

    def info(self):
        return {"sweep": "ordered", "tabulated": True, "kernel": "multispin",
                "kernel_note": f"64 spins per word, {self.W} words per row, 32-bit thresholds"}


def threshold(p, bits) -> np.ndarray:
    """Probabilities as integer thresholds floor(p 2^bits): a uniform integer
    u on [0, 2^bits) satisfies u < threshold with probability p (to 2^-bits).
    Local kernels use 32 bits, cluster kernels 53 (see cext/rng.pxd)."""
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    return np.ascontiguousarray(np.floor(p * 2.0**bits).astype(np.uint64))


class _ClusterBase(_IsingBase):
    """FK bond data: activation thresholds and coupling signs, per bond (or
    a single value when all couplings are equal and ferromagnetic)."""

    def __init__(self, model, beta):
        super().__init__(model, beta)
        self.uniform = bool(len(model.J) == 0 or
                            (np.all(model.J == model.J[0]) and model.J[0] >= 0))

    def bond_data(self, couplings):
        if self.uniform:
            couplings = couplings[:1] if len(couplings) else np.zeros(1)
        padd = threshold(-np.expm1(-2.0 * self.beta * np.abs(couplings)), 53)
        bsign = np.ascontiguousarray(np.where(couplings < 0, -1, 1).astype(np.int8))
        return padd, bsign


def _check_clusters_per_sweep(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError("clusters_per_sweep must be a positive integer or None "
                         f"(estimate during thermalisation), got {value!r}")
    return int(value)


class _WolffSchedule(Updater):
    """Sweeps of a fixed number n_c of single-cluster updates.

    n_c = ceil(N / <C>) with the mean cluster size <C> measured while
    thermalising (each thermalisation sweep grows clusters until N sites have
    flipped, which is harmless while nothing is measured) and frozen before
    the first measurement. Subclasses set ``n_sites`` and provide
    ``_call(state, rng_state, n_measure, every, clusters, raw, flip_budget=0)
    -> (sites flipped, clusters grown)``, where flip_budget > 0 grows
    clusters until that many sites have flipped, without measuring.
    """

    def _init_schedule(self, n_sites, clusters_per_sweep):
        self.n_sites = n_sites
        self.clusters_per_sweep = _check_clusters_per_sweep(clusters_per_sweep)
        self.history = []              # (flipped, clusters) per thermalisation sweep
        self.history_total = [0, 0]    # their sums
        self.estimation_sweeps = 0
        self.flipped = 0
        self.clusters = 0

    def _adaptive_sweep(self, state, rng_state):
        """Clusters until N spins have flipped: only ever used while not measuring."""
        flipped, count = self._call(state, rng_state, 0, 1, 0, self.raw_buffers(0),
                                    flip_budget=self.n_sites)
        self.history.append((flipped, count))
        self.history_total[0] += flipped
        self.history_total[1] += count

    def thermalize(self, state, rng_state, n_sweeps):
        if self.clusters_per_sweep is not None:
            super().thermalize(state, rng_state, n_sweeps)
            return
        for _ in range(n_sweeps):
            self._adaptive_sweep(state, rng_state)

    def freeze(self, state, rng_state):
        if self.clusters_per_sweep is not None:
            return
        while len(self.history) < 10:       # never thermalised: estimate first
            self._adaptive_sweep(state, rng_state)
            self.estimation_sweeps += 1
        recent = self.history[len(self.history) // 2:]
        mean_size = sum(f for f, _ in recent) / sum(c for _, c in recent)
        self.clusters_per_sweep = max(1, math.ceil(self.n_sites / mean_size))
        self.history, self.history_total = [], [0, 0]

    def run(self, state, rng_state, n_measure, every, raw):
        f, c = self._call(state, rng_state, n_measure, every, self.clusters_per_sweep, raw)
        self.flipped += f
        self.clusters += c

    def info(self):
        return {"clusters_per_sweep": self.clusters_per_sweep,
                "mean_cluster_size": self.flipped / self.clusters if self.clusters else None,
                "estimation_sweeps": self.estimation_sweeps}


class _IsingWolff(_WolffSchedule, _ClusterBase):
    """Single-cluster updates; n_c clusters per sweep, fixed before measuring."""

    def __init__(self, model, beta, clusters_per_sweep=None):
        _ClusterBase.__init__(self, model, beta)
        self._init_schedule(model.n_sites, clusters_per_sweep)
        self.padd, self.bsign = self.bond_data(model._weights)     # per CSR entry
        self.queue = np.zeros(model.n_sites + 1, dtype=np.int32)   # +1: see wolff_run
        self.degree = self.lat.common_degree     # > 0: unrolled neighbour loop
        self.square = _square_table_free(self.lat) if len(self.padd) == 1 else None

    def _call(self, state, rng_state, n_measure, every, clusters, raw, flip_budget=0):
        return _cluster.wolff_run(
            state, self.lat.indptr, self.lat.indices, self.degree, self.padd, self.bsign,
            self.model._weights, self.model.h, self.queue, rng_state,
            n_measure, every, clusters, self.model._phase, raw["X"], flip_budget, self.square)


def _square_table_free(lat, min_sites=2**17):
    """(Lx, magic, shift) for cext/cluster.pyx's table-free Wolff path if lat
    is kd.lattice.square's periodic Lx x Ly lattice (Lx, Ly >= 3) with each
    row of its table in increasing order (then the computed neighbours are
    offered in the table's order: same bits) and at least min_sites sites,
    else None.  Below about 2**17 sites the table (16 bytes per site) is
    served from the caches and loading it beats computing the neighbours
    (7.5 against 11 ns per flipped spin at L = 64, even at L = 384); at
    L = 1024 the computed ones win 2.2-2.8x (13 against 28-38 ns)."""
    shape = lat.shape
    if (lat.n_sites < min_sites or lat.name != "square" or not lat.periodic or shape is None
            or len(shape) != 2
            or min(shape) < 3 or lat.n_sites >= 2**31 or lat.common_degree != 4
            or not _factory_order(lat)
            or not np.all(np.diff(np.asarray(lat.indices).reshape(-1, 4), axis=1) > 0)):
        return None
    return np.array([shape[0], *_cluster.square_wolff_constants(shape[0])], dtype=np.uint64)


class _IsingSwendsenWang(_ClusterBase):
    """Swendsen-Wang over the bond list; one sweep = one full decomposition."""

    def __init__(self, model, beta):
        super().__init__(model, beta)
        n = model.n_sites
        edges = model.lattice.edges
        self.bond_i = np.ascontiguousarray(edges[:, 0], dtype=np.int32)
        self.bond_j = np.ascontiguousarray(edges[:, 1], dtype=np.int32)
        self.padd, self.bsign = self.bond_data(model.J)              # per bond
        self.parent = np.zeros(n, dtype=np.int32)
        self.flip = np.zeros(n, dtype=np.int8)

    def run(self, state, rng_state, n_measure, every, raw):
        _cluster.swendsen_wang_run(state, self.bond_i, self.bond_j, self.padd, self.bsign,
                                   self.lat.indptr, self.lat.indices, self.model._weights,
                                   self.model.h, self.parent, self.flip, rng_state,
                                   n_measure, every, self.model._phase, raw["X"])


# =========================================================================
# Potts, clock and O(n) models: one measurement layout (cext/observe.pxd)
# =========================================================================

def _fourier_phases(lat):
    """(number of axes, flattened cos/sin rows of 2 pi n_t / L_t per axis t) for
    Bravais lattices whose sides are equal; (0, empty) otherwise."""
    shape = lat.shape
    if lat.cells is None or not shape or len(set(shape)) != 1:
        return 0, np.zeros(0)
    arg = 2 * np.pi * lat.cells / np.asarray(shape)
    rows = np.concatenate([[np.cos(a), np.sin(a)] for a in arg.T])
    return len(shape), np.ascontiguousarray(rows).ravel()


class _Observables:
    """The arrays the kernels read to measure a configuration (one row of
    d + 4 numbers, see cext/observe.pxd): neighbour table and couplings,
    the state tables of discrete models, Fourier phases of the smallest wave
    vectors, bond vectors (helicity) and plaquettes (vortices)."""

    def __init__(self, model, *, q=0, K=None, KS=None, hf=None, V=None, d,
                 helicity=False, vortices=False):
        lat = model.lattice
        empty = np.zeros(0)
        self.n_sites = lat.n_sites
        self.q = q
        self.d = d
        self.indptr = lat.indptr
        self.indices = lat.indices
        self.weights = model._weights
        self.K = empty if K is None else np.ascontiguousarray(K, dtype=np.float64).ravel()
        self.KS = empty if KS is None else np.ascontiguousarray(KS, dtype=np.float64).ravel()
        hf = np.zeros(1) if hf is None else np.ascontiguousarray(hf, dtype=np.float64)
        self.site_field = hf.ndim == 2 and hf.shape[0] > 1
        self.hf = hf.ravel()
        self.V = empty if V is None else np.ascontiguousarray(V, dtype=np.float64).ravel()
        self.n_axes, self.phase = _fourier_phases(lat)
        evec = lat.entry_vectors() if helicity else None
        self.evec = empty if evec is None else evec.ravel()
        self.n_dirs = 0 if evec is None else evec.shape[1]
        plaq = _square_plaquettes(lat) if vortices else None
        self.plaquettes = np.zeros(0, dtype=np.int32) if plaq is None else plaq.ravel()
        self.n_plaquettes = 0 if plaq is None else len(plaq)
        self._angle_size = lat.n_sites if self.n_plaquettes else 0
        self._work_size = (2 * d * max(self.n_axes, 1) + 2 * max(self.n_dirs, 1)
                           + 2 * q + 4 * self.n_axes * q)
        self._scratch = threading.local()

    # The measurement scratch is written inside the kernels (without the GIL),
    # so every thread gets its own: Simulations of one model object (or the
    # replicas of ParallelTempering) may run in parallel threads.
    @property
    def work(self) -> np.ndarray:
        w = getattr(self._scratch, "work", None)
        if w is None:
            w = self._scratch.work = np.zeros(self._work_size)
        return w

    @property
    def angle(self) -> np.ndarray:
        a = getattr(self._scratch, "angle", None)
        if a is None:
            a = self._scratch.angle = np.zeros(self._angle_size)
        return a

    def __getstate__(self):           # pickling (process pools): no thread-local
        state = dict(self.__dict__)
        del state["_scratch"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._scratch = threading.local()

    def buffers(self):
        return {"X": (self.d + 4,)}


def _square_plaquettes(lat) -> np.ndarray | None:
    """Elementary squares (x, y), (x+1, y), (x+1, y+1), (x, y+1) of a square
    lattice, counter-clockwise (wrapped if periodic); None for other lattices."""
    if lat.name != "square" or lat.cells is None:
        return None
    Lx, Ly = lat.shape
    x, y = np.meshgrid(np.arange(Lx), np.arange(Ly), indexing="ij")
    x, y = x.ravel(), y.ravel()
    if not lat.periodic:
        keep = (x < Lx - 1) & (y < Ly - 1)
        x, y = x[keep], y[keep]
    def site(a, b):
        return (a % Lx) + Lx * (b % Ly)
    return np.ascontiguousarray(np.stack([site(x, y), site(x + 1, y), site(x + 1, y + 1),
                                          site(x, y + 1)], axis=1).astype(np.int32))


def _check_q(q) -> int:
    if isinstance(q, bool) or not isinstance(q, numbers.Integral):
        raise ValueError(f"q must be an integer number of states, 2 <= q <= 127, got {q!r}")
    if not 2 <= q <= 127:
        raise ValueError(f"q must satisfy 2 <= q <= 127, got {q}")
    return int(q)


def _check_option_count(name, value, minimum=0):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


class _SpinModel(Model):
    """Shared machinery of the Potts, clock and O(n) models: couplings per
    bond, the measurement rows and the observables computed from them."""

    d: int = 0                  # spin-vector dimension of the measurement rows
    has_helicity = False

    def _init_couplings(self, lattice, J):
        self.lattice = _check_lattice(lattice)
        self.n_sites = lattice.n_sites
        self.J = lattice.bond_values(J, "J")
        self._J_user = J
        self._weights = lattice.entry_values(self.J)

    def _uniform_J(self) -> bool:
        return len(self.J) == 0 or bool(np.all(self.J == self.J[0]))

    def _J0(self) -> float:
        return float(self.J[0]) if len(self.J) else 0.0

    def _check_cluster(self, algorithm, field_zero):
        if not field_zero:
            raise ValueError(f"algorithm {algorithm!r} needs h = 0 (a field breaks the cluster "
                             "symmetry); use 'metropolis' or 'heatbath' with a field")
        if np.any(self.J < 0):
            raise ValueError(f"algorithm {algorithm!r} needs ferromagnetic couplings J >= 0; "
                             "use 'metropolis' or 'heatbath'")

    def _plain_J(self):
        return float(self._J_user) if np.ndim(self._J_user) == 0 else "per-bond"

    # -- observables ---------------------------------------------------------
    def observables_from_raw(self, raw: dict) -> dict:
        X = raw["X"]
        n, d = self.n_sites, self.d
        mvec = X[:, 1:d + 1] / n
        m2 = np.einsum("ij,ij->i", mvec, mvec)
        out = {"e": X[:, 0] / n}
        out.update(self._order_parameters(mvec, m2))
        out["abs_m"] = np.sqrt(m2)
        out["m2"] = m2
        out["m4"] = m2 * m2
        obs = self._obs
        if obs.n_axes:
            out["m2_k"] = X[:, d + 1] / (obs.n_axes * n * n)
        if self.has_helicity and obs.n_dirs:
            out["helicity"] = X[:, d + 2] / n
        if obs.n_plaquettes:
            out["vortex_density"] = X[:, d + 3] / n
        return out

    def _order_parameters(self, mvec, m2) -> dict:
        return {"m": mvec}

    def measure(self, state, T=None, *, beta=None) -> dict:
        """All observables of one configuration (``beta`` matters for ``helicity`` only)."""
        from ..simulation import check_temperature
        beta = check_temperature(T, beta) if (T is not None or beta is not None) else 1.0
        row = np.zeros(self.d + 4)
        self._measure_row(self.check_state(state), beta, row)
        return {k: v[0] for k, v in self.observables_from_raw({"X": row[None, :]}).items()}

    def energy(self, state) -> float:
        """Total energy H of a configuration."""
        return float(self.measure(state)["e"] * self.n_sites)

    def correlation(self, state) -> np.ndarray:
        """Spin-spin correlation G(r) = (1/N) sum_i v_i . v_{i + r a_0} of one
        configuration along the first lattice axis, r = 0 .. L/2 (cells), by
        FFT. Needs a periodic Bravais lattice with one site per cell."""
        lat = self.lattice
        if lat.cells is None or not lat.periodic or lat.n_sites != int(np.prod(lat.shape)):
            raise ValueError("correlation needs a periodic Bravais lattice with one site per "
                             "cell (square, triangular, chain, cubic)")
        v = self._vectors(self.check_state(state))
        grid = np.zeros(tuple(lat.shape) + (v.shape[1],))
        grid[tuple(lat.cells.T)] = v
        f = np.fft.fftn(grid, axes=tuple(range(len(lat.shape))))
        corr = np.fft.ifftn(np.abs(f) ** 2, axes=tuple(range(len(lat.shape)))).real.sum(-1)
        line = corr[(slice(None),) + (0,) * (len(lat.shape) - 1)] / lat.n_sites
        return line[:lat.shape[0] // 2 + 1]


class _RowUpdater(Updater):
    """Kernels that write measurement rows (cext/observe.pxd)."""

    raw_names = ("X",)

    def __init__(self, model, beta):
        self.model = model
        self.beta = beta
        self.obs = model._obs
        self.raw_shapes = model._obs.buffers()


# ----------------------------------------------------------------- discrete

class _DiscreteModel(_SpinModel):
    """q-state model with H = -sum J_ij K[s_i, s_j] - sum_i hf[i, s_i]."""

    def _init_tables(self, K, KS, hf, V, helicity):
        self.K = np.ascontiguousarray(K, dtype=np.float64)
        self._hf = np.ascontiguousarray(np.atleast_2d(hf), dtype=np.float64)
        self._V = V
        self.d = V.shape[1]
        self._obs = _Observables(self, q=self.q, K=self.K, KS=KS, hf=self._hf, V=V, d=self.d,
                                 helicity=helicity)

    def random_state(self, generator: np.random.Generator) -> np.ndarray:
        """Infinite-temperature configuration: independent uniform states."""
        return generator.integers(0, self.q, size=self.n_sites, dtype=np.int8)

    def check_state(self, state) -> np.ndarray:
        return check_discrete_states(state, self.n_sites, self.q)

    def _vectors(self, state):
        return self._V[state]

    def _measure_row(self, state, beta, row):
        _spin.measure_discrete_state(state, self._obs, beta, row)

    def _field_zero(self) -> bool:
        return bool(np.all(self._hf == self._hf.max(axis=1, keepdims=True)))

    def _involutions(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def updater(self, algorithm: str, beta: float, **options) -> Updater:
        algorithm = self.check_algorithm(algorithm)
        if algorithm in ("metropolis", "heatbath"):
            _check_options(algorithm, options, ("sweep",))
            return _DiscreteLocal(self, beta, algorithm, **options)
        self._check_cluster(algorithm, self._field_zero())
        if algorithm == "wolff":
            _check_options(algorithm, options, ("clusters_per_sweep",))
            return _DiscreteWolff(self, beta, **options)
        _check_options(algorithm, options)
        return _PottsSwendsenWang(self, beta)

    def _exp_tables(self, beta):
        """EJ[b, a] = exp(beta J (K[a, b] - c)) (uniform J; c makes every factor
        <= 1) and HE[i, a] = exp(beta (hf[i, a] - max_a hf[i, a]))."""
        J = self._J0()
        c = self.K.max() if J >= 0 else self.K.min()
        with np.errstate(under="ignore"):
            EJ = np.exp(beta * J * (self.K.T - c))
            HE = np.exp(beta * (self._hf - self._hf.max(axis=1, keepdims=True)))
        return np.ascontiguousarray(EJ), np.ascontiguousarray(HE)


class _DiscreteLocal(_RowUpdater):
    def __init__(self, model, beta, algorithm, sweep=None):
        super().__init__(model, beta)
        self.method = _METROPOLIS if algorithm == "metropolis" else _HEATBATH
        # q = 2 Metropolis has a forced proposal: the chain caveat of Ising applies
        self.sweep = _sweep_order(sweep, self.method == _METROPOLIS and model.q == 2
                                  and model.lattice.max_degree <= 2)
        self.runs = model.lattice.sweep_runs()
        self.uniform = model._uniform_J()
        self.EJ, self.HE = model._exp_tables(beta)
        self.potts = np.zeros(0)
        if (self.method == _METROPOLIS and self.uniform
                and np.array_equal(model.K, np.eye(model.q))):
            # Potts: the energy change is an integer count n of equal neighbours
            z, J = model.lattice.max_degree, model._J0()
            with np.errstate(over="ignore", under="ignore"):
                self.potts = np.exp(beta * J * np.arange(-z, z + 1))

    def run(self, state, rng_state, n_measure, every, raw):
        m = self.model
        _spin.discrete_local_run(state, m.K, self.EJ, self.uniform, m._hf, self.HE, self.beta,
                                 self.method, self.runs, self.sweep == "random", self.obs,
                                 rng_state, n_measure, every, raw["X"], self.potts)

    def info(self):
        return {"sweep": self.sweep, "tabulated": self.uniform,
                "integer_energy": bool(len(self.potts))}


class _DiscreteWolff(_WolffSchedule, _RowUpdater):
    def __init__(self, model, beta, clusters_per_sweep=None):
        _RowUpdater.__init__(self, model, beta)
        self._init_schedule(model.n_sites, clusters_per_sweep)
        self.gmap, self.choices = model._involutions()
        q = model.q
        if model._uniform_J() and q <= 32:
            # join probability over (a_i, g(a_i), a_j): 1 - exp(min(0, beta J D)),
            # D = K[g a_i, a_j] - K[a_i, a_j]; pairs (a, b) that no g maps get 0
            K, J = model.K, model._J0()
            D = K[None, :, :] - K[:, None, :]                 # [a, b, c] = K[b, c] - K[a, c]
            p = -np.expm1(np.minimum(0.0, beta * J * D))
            self.thr = threshold(p, 53).ravel()
        else:
            self.thr = np.zeros(0, dtype=np.uint64)
        self.queue = np.zeros(model.n_sites + 1, dtype=np.int32)   # +1: branch-free growth

    def _call(self, state, rng_state, n_measure, every, clusters, raw, flip_budget=0):
        return _cluster.discrete_wolff_run(state, self.model.K, self.thr, self.gmap,
                                           self.choices, self.beta, self.obs, self.queue,
                                           rng_state, n_measure, every, clusters, raw["X"],
                                           flip_budget)


class _PottsSwendsenWang(_RowUpdater):
    def __init__(self, model, beta):
        super().__init__(model, beta)
        edges = model.lattice.edges
        self.bond_i = np.ascontiguousarray(edges[:, 0], dtype=np.int32)
        self.bond_j = np.ascontiguousarray(edges[:, 1], dtype=np.int32)
        J = model.J[:1] if model._uniform_J() and len(model.J) else model.J
        self.padd = threshold(-np.expm1(-beta * J), 53) if len(J) else np.zeros(1, np.uint64)
        self.parent = np.zeros(model.n_sites, dtype=np.int32)

    def run(self, state, rng_state, n_measure, every, raw):
        _cluster.potts_swendsen_wang_run(state, self.model.q, self.bond_i, self.bond_j,
                                         self.padd, self.beta, self.obs, self.parent,
                                         rng_state, n_measure, every, raw["X"])


class Potts(_DiscreteModel):
    r"""q-state Potts model on any lattice.

    .. math:: H = -\sum_{\langle ij\rangle} J_{ij}\,\delta(s_i, s_j)
              - \sum_i h_i\,\delta(s_i, 0), \qquad s_i \in \{0, \dots, q-1\}

    Parameters
    ----------
    lattice : kd.Lattice
    q : int, 2 <= q <= 127
    J : float or array of shape (n_bonds,)
        Coupling (ferromagnetic for J > 0), per bond like ``kd.Ising``.
    h : float, array of shape (n_sites,) or (n_sites, q)
        Field on state 0 (uniform or per site: the random-field Potts model);
        an (n_sites, q) array gives a field ``h[i, a]`` on every state, i.e.
        the energy ``-h[i, s_i]``.

    q = 2 is the Ising model with J_Ising = J / 2 (and an energy shift).

    Algorithms
    ----------
    ``metropolis`` (propose one of the q - 1 other states uniformly, accept
    with min(1, exp(-beta dE))), ``heatbath`` (draw from the exact conditional
    over the q states), ``wolff`` (seed state a -> random other state b, bonds
    between equal states join with p = 1 - exp(-beta J)) and
    ``swendsen-wang`` (same bonds, every cluster gets a random state);
    clusters need h = 0 and J >= 0. Sweeps as for ``kd.Ising``.

    Observables (per site)
    ----------------------
    ``e`` = H / N; ``m`` = (q max_a n_a - 1) / (q - 1), the usual order
    parameter from the fractions n_a of sites in state a; the vector order
    parameter M = (1/N) sum_i v_{s_i} with v_a the q unit vectors of a
    regular simplex (v_a . v_b = -1/(q-1)) gives ``abs_m`` = |M|, ``m2`` =
    |M|^2 = (q sum_a n_a^2 - 1) / (q - 1) and ``m4`` = |M|^4, so
    ``res.binder()`` is the standard Potts Binder cumulant; ``m2_k`` =
    |M(k_min)|^2 for the second-moment correlation length.
    """

    algorithms = ("metropolis", "heatbath", "wolff", "swendsen-wang")
    observables = ("e", "m", "abs_m", "m2", "m4", "m2_k")

    def __init__(self, lattice, q, J=1.0, h=0.0):
        self.q = _check_q(q)
        self._init_couplings(lattice, J)
        self._h_user = h
        self.h = self._check_field(h)
        V = np.sqrt(self.q / (self.q - 1)) * (np.eye(self.q) - 1.0 / self.q)
        self._init_tables(np.eye(self.q), None, self.h, V, helicity=False)

    def _check_field(self, h):
        q, n = self.q, self.n_sites
        try:
            arr = np.asarray(h, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"h must be a number, an array of shape ({n},) or ({n}, {q}), "
                             f"got {h!r}") from None
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"h must be finite, got {h!r}")
        if arr.ndim == 0:
            hf = np.zeros((1, q))
            hf[0, 0] = arr
        elif arr.shape == (n,):
            hf = np.zeros((n, q))
            hf[:, 0] = arr
        elif arr.shape == (n, q):
            hf = arr.copy()
        else:
            raise ValueError(f"h must be a scalar or have shape ({n},) (field on state 0 per "
                             f"site) or ({n}, {q}) (per site and state), got shape {arr.shape}")
        return hf

    def _order_parameters(self, mvec, m2):
        q = self.q
        fractions = mvec * np.sqrt((q - 1) / q) + 1.0 / q
        return {"m": (q * fractions.max(axis=1) - 1.0) / (q - 1)}

    def _involutions(self):
        """Transpositions (a b); choices[a] = the q - 1 that contain a."""
        q = self.q
        pairs = [(a, b) for a in range(q) for b in range(a + 1, q)]
        gmap = np.tile(np.arange(q, dtype=np.int8), (len(pairs), 1))
        choices = [[] for _ in range(q)]
        for g, (a, b) in enumerate(pairs):
            gmap[g, a], gmap[g, b] = b, a
            choices[a].append(g)
            choices[b].append(g)
        return np.ascontiguousarray(gmap), np.ascontiguousarray(choices, dtype=np.int32)

    def params(self) -> dict:
        return {"model": "Potts", "q": self.q, "J": self._plain_J(),
                "h": float(self._h_user) if np.ndim(self._h_user) == 0 else "per-site",
                "lattice": self.lattice.describe()}


class Clock(_DiscreteModel):
    r"""q-state clock model (discrete planar rotor) on any lattice.

    .. math:: H = -\sum_{\langle ij\rangle} J_{ij} \cos\theta_{ij}
              - h \sum_i \cos\theta_i, \qquad
              \theta_i = 2\pi n_i / q,\ n_i \in \{0, \dots, q-1\}

    with theta_ij = theta_i - theta_j. q = 2 is Ising with J; q = 4 is two
    decoupled Ising models with J / 2; q >= 5 has two BKT transitions in 2D.

    Algorithms: ``metropolis`` (one of the q - 1 other states, uniformly),
    ``heatbath`` (exact conditional over the q states) and ``wolff`` (Wolff's
    embedding: a random mirror line through the origin at angle pi m / q, a
    reflection n -> (m - n) mod q of the cluster; h = 0, J >= 0).

    Observables (per site): ``e``; ``m`` the magnetisation vector
    (cos, sin components, shape (n, 2)); ``abs_m``, ``m2``, ``m4``;
    ``cos_q_phi`` = cos(q phi) of the magnetisation angle phi (the phase
    order parameter of the clock anisotropy); ``helicity`` (the helicity
    modulus estimator, see ``kd.XY``); ``m2_k``.
    """

    algorithms = ("metropolis", "heatbath", "wolff")
    observables = ("e", "m", "abs_m", "m2", "m4", "cos_q_phi", "helicity", "m2_k")
    has_helicity = True

    def __init__(self, lattice, q, J=1.0, h=0.0):
        self.q = _check_q(q)
        self._init_couplings(lattice, J)
        try:
            h = float(h)
        except (TypeError, ValueError):
            raise ValueError(f"h must be a finite number, got {h!r}") from None
        if not math.isfinite(h):
            raise ValueError(f"h must be a finite number, got {h!r}")
        self.h = h
        # cos and sin of 2 pi k / q made exactly even / odd in k (mod q), so the
        # tables are exactly invariant under the reflections Wolff uses
        k = np.arange(self.q)
        c = np.cos(2 * np.pi * k / self.q)
        s = np.sin(2 * np.pi * k / self.q)
        c = 0.5 * (c + c[-k % self.q])
        s = 0.5 * (s - s[-k % self.q])
        diff = (k[:, None] - k[None, :]) % self.q
        V = np.stack([c, s], axis=1)
        self._init_tables(c[diff], s[diff], h * c[None, :], V, helicity=True)

    def _order_parameters(self, mvec, m2):
        phi = np.arctan2(mvec[:, 1], mvec[:, 0])
        return {"m": mvec, "cos_q_phi": np.cos(self.q * phi)}

    def _involutions(self):
        """Reflections n -> (m - n) mod q; choices[n] = the q - 1 that move n."""
        q = self.q
        n = np.arange(q)
        gmap = np.ascontiguousarray([(m - n) % q for m in range(q)], dtype=np.int8)
        choices = [[m for m in range(q) if (m - a) % q != a] for a in range(q)]
        return gmap, np.ascontiguousarray(choices, dtype=np.int32)

    def params(self) -> dict:
        return {"model": "Clock", "q": self.q, "J": self._plain_J(), "h": self.h,
                "lattice": self.lattice.describe()}


# ----------------------------------------------------------------- O(n)

class _ONModel(_SpinModel):
    """O(n) model of unit n-vectors, H = -sum J_ij s_i . s_j - h sum_i s_i^x."""

    algorithms = ("metropolis", "heatbath", "wolff")

    def _init_on(self, lattice, J, h, n, helicity, vortices):
        self._init_couplings(lattice, J)
        try:
            h = float(h)
        except (TypeError, ValueError):
            raise ValueError(f"h must be a finite number (field along x), got {h!r}") from None
        if not math.isfinite(h):
            raise ValueError(f"h must be a finite number (field along x), got {h!r}")
        self.h = h
        self.n = self.d = n
        self._obs = _Observables(self, hf=np.array([h]), d=n, helicity=helicity,
                                 vortices=vortices)

    def random_state(self, generator: np.random.Generator) -> np.ndarray:
        """Infinite-temperature configuration: independent uniform unit vectors."""
        v = generator.normal(size=(self.n_sites, self.n))
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    def check_state(self, state) -> np.ndarray:
        arr = np.asarray(state, dtype=np.float64) if not isinstance(state, np.ndarray) \
            else state
        if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
            raise ValueError(f"state must be a real array of shape ({self.n_sites}, {self.n})")
        arr = np.asarray(arr, dtype=np.float64)
        if self.n == 2 and arr.shape == (self.n_sites,):      # angles
            arr = np.stack([np.cos(arr), np.sin(arr)], axis=1)
        if arr.shape != (self.n_sites, self.n):
            raise ValueError(f"state must have shape ({self.n_sites}, {self.n}) (unit vectors)"
                             + (f" or ({self.n_sites},) (angles)" if self.n == 2 else "")
                             + f", got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError("state must be finite")
        norm = np.linalg.norm(arr, axis=1)
        if not np.all(np.abs(norm - 1.0) < 1e-6):
            raise ValueError("state must hold unit vectors (|s_i| = 1 within 1e-6), got norms "
                             f"in [{norm.min():.6g}, {norm.max():.6g}]")
        return np.ascontiguousarray(arr / norm[:, None])

    def _vectors(self, state):
        return state

    def _measure_row(self, state, beta, row):
        _spin.measure_vector_state(state, self._obs, beta, row)

    def updater(self, algorithm: str, beta: float, **options) -> Updater:
        algorithm = self.check_algorithm(algorithm)
        if algorithm in ("metropolis", "heatbath"):
            allowed = {"sweep", "overrelaxation"}
            if algorithm == "metropolis":
                allowed |= {"delta", "target_acceptance"}
            _check_options(algorithm, options, allowed)
            return _ONLocal(self, beta, algorithm, **options)
        self._check_cluster(algorithm, self.h == 0)
        _check_options(algorithm, options, ("clusters_per_sweep",))
        return _ONWolff(self, beta, **options)

    def params(self) -> dict:
        return {"model": type(self).__name__, "J": self._plain_J(), "h": self.h,
                "lattice": self.lattice.describe()}


class _ONLocal(_RowUpdater):
    """Metropolis (adaptive step, frozen before measuring) or heat bath,
    each sweep followed by ``overrelaxation`` microcanonical sweeps."""

    ADAPT_BATCH = 5          # sweeps between step-size adjustments

    def __init__(self, model, beta, algorithm, sweep="ordered", overrelaxation=0, delta=None,
                 target_acceptance=0.5):
        super().__init__(model, beta)
        self.method = _METROPOLIS if algorithm == "metropolis" else _HEATBATH
        self.sweep = _sweep_order(sweep, False)
        self.n_over = _check_option_count("overrelaxation", overrelaxation)
        if not (isinstance(target_acceptance, numbers.Real) and 0 < target_acceptance < 1):
            raise ValueError(f"target_acceptance must be in (0, 1), got {target_acceptance!r}")
        self.target = float(target_acceptance)
        self.adaptive = delta is None and self.method == _METROPOLIS
        if delta is None:
            delta = 1.0
        if not (isinstance(delta, numbers.Real) and 0 < delta <= 2 and math.isfinite(delta)):
            raise ValueError(f"delta (Metropolis step, radius of the proposal ball) must be in "
                             f"(0, 2], got {delta!r}")
        self.delta = float(delta)
        self.runs = model.lattice.sweep_runs()
        self.frozen = False
        self._batch = [0, 0, 0]          # sweeps, accepted, proposed in the open batch
        self.accepted = self.proposed = 0
        self.estimation_sweeps = 0

    def _call(self, state, rng_state, n_measure, every, raw):
        acc = _spin.on_local_run(state, self.model.h, self.beta, self.method, self.delta,
                                 self.n_over, self.runs, self.sweep == "random", self.obs,
                                 rng_state, n_measure, every, raw["X"])
        return acc, self.model.n_sites * every * max(n_measure, 1)

    def _adapt(self, state, rng_state, n_sweeps):
        """Metropolis sweeps that move the step towards the target acceptance.

        The step changes only at fixed batch boundaries counted across calls,
        so the chain does not depend on how a run is split into chunks."""
        empty = self.raw_buffers(0)
        done = 0
        while done < n_sweeps:
            k = min(self.ADAPT_BATCH - self._batch[0], n_sweeps - done)
            acc, prop = self._call(state, rng_state, 0, k, empty)
            self._batch = [self._batch[0] + k, self._batch[1] + acc, self._batch[2] + prop]
            done += k
            if self._batch[0] == self.ADAPT_BATCH:
                rate = self._batch[1] / self._batch[2]
                # smaller steps are accepted more often; the rate falls roughly like 1/delta
                factor = np.clip((rate + 0.02) / self.target, 0.5, 2.0)
                self.delta = float(np.clip(self.delta * factor, 1e-4, 2.0))
                self._batch = [0, 0, 0]

    def thermalize(self, state, rng_state, n_sweeps):
        if self.adaptive and not self.frozen:
            self._adapt(state, rng_state, n_sweeps)
        elif n_sweeps > 0:
            self._call(state, rng_state, 0, n_sweeps, self.raw_buffers(0))

    def freeze(self, state, rng_state):
        if self.adaptive and not self.frozen:
            if self.proposed == 0 and self.estimation_sweeps == 0:
                # never thermalised: tune the step before the first measurement
                self.estimation_sweeps = 10 * self.ADAPT_BATCH
                self._adapt(state, rng_state, self.estimation_sweeps)
            self.frozen = True

    def run(self, state, rng_state, n_measure, every, raw):
        acc, prop = self._call(state, rng_state, n_measure, every, raw)
        self.accepted += acc
        self.proposed += prop

    def info(self):
        out = {"sweep": self.sweep, "overrelaxation": self.n_over}
        if self.method == _METROPOLIS:
            out.update(delta=self.delta, adaptive=self.adaptive,
                       acceptance=self.accepted / self.proposed if self.proposed else None)
        return out


class _ONWolff(_WolffSchedule, _RowUpdater):
    def __init__(self, model, beta, clusters_per_sweep=None):
        _RowUpdater.__init__(self, model, beta)
        self._init_schedule(model.n_sites, clusters_per_sweep)
        self.queue = np.zeros(model.n_sites + 1, dtype=np.int32)   # +1: branch-free growth
        # 1 - exp(-x) on a grid over the possible x = 2 beta J_ij p_i p_j in
        # [0, 2 beta max J]; the kernel brackets the join probability with it
        cells = 1024
        x_max = max(2.0 * beta * (float(model.J.max()) if len(model.J) else 0.0), 1e-300)
        self.inv_h = cells / x_max
        self.tab = -np.expm1(-np.arange(cells + 2) / self.inv_h)

    def _call(self, state, rng_state, n_measure, every, clusters, raw, flip_budget=0):
        return _cluster.on_wolff_run(state, self.beta, self.obs, self.tab, self.inv_h,
                                     self.queue, rng_state, n_measure, every, clusters,
                                     raw["X"], flip_budget)


class XY(_ONModel):
    r"""XY model (planar rotators, O(2)) on any lattice.

    .. math:: H = -\sum_{\langle ij\rangle} J_{ij} \cos(\theta_i - \theta_j)
              - h \sum_i \cos\theta_i

    States are unit vectors, shape (N, 2) (``sim.state``); a state may also
    be given as N angles.

    Algorithms
    ----------
    ``metropolis``: s' = (s + delta g)/|s + delta g| with g uniform in the
    unit disc; the step delta adapts during thermalisation towards
    ``target_acceptance`` (default 0.5) and is frozen before measuring, so
    the measured chain has fixed, symmetric proposals (pass ``delta=`` to fix
    it yourself). ``heatbath``: the angle to the local field H_i drawn from
    the von Mises distribution with kappa = beta |H_i|. Both take
    ``overrelaxation=k``: each sweep is followed by k sweeps of s -> the
    reflection of s about H_i (energy-conserving; speeds up decorrelation).
    ``wolff``: reflections about random lines (h = 0, J >= 0).

    Observables (per site)
    ----------------------
    ``e``; ``m`` the magnetisation vector (n, 2); ``abs_m``, ``m2``, ``m4``;
    ``helicity``: the helicity modulus (spin stiffness) estimator averaged over
    the D axes x_a,
    Upsilon = (1/(N D)) sum_a [ sum_<ij> J_ij cos(theta_ij) (e_ij . x_a)^2
    - beta (sum_<ij> J_ij sin(theta_ij) (e_ij . x_a))^2 ]  (h = 0);
    ``vortex_density``: vortices plus antivortices per site (square lattice);
    ``m2_k`` = |M(k_min)|^2 (second-moment correlation length).
    """

    observables = ("e", "m", "abs_m", "m2", "m4", "helicity", "vortex_density", "m2_k")
    has_helicity = True

    def __init__(self, lattice, J=1.0, h=0.0):
        self._init_on(lattice, J, h, 2, helicity=True, vortices=True)


class Heisenberg(_ONModel):
    r"""Classical Heisenberg model (unit 3-vectors, O(3)) on any lattice.

    .. math:: H = -\sum_{\langle ij\rangle} J_{ij}\, \mathbf s_i \cdot \mathbf s_j
              - h \sum_i s_i^x

    Algorithms as for ``kd.XY`` (heat bath: cos of the angle to the local
    field from its exact exponential distribution). Observables: ``e``,
    ``m`` (n, 3), ``abs_m``, ``m2``, ``m4``, ``m2_k``.
    """

    observables = ("e", "m", "abs_m", "m2", "m4", "m2_k")

    def __init__(self, lattice, J=1.0, h=0.0):
        self._init_on(lattice, J, h, 3, helicity=False, vortices=False)
