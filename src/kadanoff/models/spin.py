"""Spin models on any kd.lattice.

Ising:  H = -sum_<ij> J_ij s_i s_j - sum_i h_i s_i,   s_i = +-1.
"""
from __future__ import annotations

import math
import numbers

import numpy as np
from scipy.special import expit

from .. import _cluster, _spin
from ..lattice import Lattice, _gauge
from .base import Model, Updater

__all__ = ["Ising"]

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

    ``wolff``, ``swendsen-wang``: Fortuin-Kasteleyn clusters, only for h = 0
    and unfrustrated couplings (any sign pattern that a gauge transformation
    s_i -> tau_i s_i makes ferromagnetic). Wolff takes the option
    ``clusters_per_sweep`` (default: estimated during thermalisation).

    A sweep is N attempted flips (local), one full decomposition (SW), or a
    fixed number n_c = ceil(N / <C>) of single-cluster updates (Wolff), with
    the mean cluster size <C> estimated during thermalisation and then frozen.
    Stopping after "N flipped spins" instead would bias every measurement.

    Observables (per spin): ``e`` = H/N, ``m`` = sum_i s_i / N, ``abs_m``,
    ``m2``, ``m4``.
    """

    algorithms = ("metropolis", "heatbath", "wolff", "swendsen-wang")
    observables = ("e", "m", "abs_m", "m2", "m4")

    def __init__(self, lattice, J=1.0, h=0.0):
        self.lattice = _check_lattice(lattice)
        self.n_sites = lattice.n_sites
        self.J = lattice.bond_values(J, "J")
        self.h = _site_values(h, self.n_sites, "h")
        self._J_user = J
        self._h_user = h
        self._weights = lattice.entry_values(self.J)

    # -- configurations --------------------------------------------------
    def random_state(self, generator: np.random.Generator) -> np.ndarray:
        """Infinite-temperature configuration: independent +-1 spins."""
        return (2 * generator.integers(0, 2, size=self.n_sites, dtype=np.int8) - 1).astype(np.int8)

    def check_state(self, state) -> np.ndarray:
        arr = np.asarray(state)
        if arr.shape != (self.n_sites,):
            raise ValueError(f"state must have shape ({self.n_sites},), got {arr.shape}")
        if not np.all((arr == 1) | (arr == -1)):
            raise ValueError("state must contain only +1 and -1")
        return np.ascontiguousarray(arr, dtype=np.int8).copy()

    # -- physics ---------------------------------------------------------
    def energy(self, state) -> float:
        """Total energy H of a configuration."""
        s = self.check_state(state).astype(np.float64)
        i, j = self.lattice.edges[:, 0], self.lattice.edges[:, 1]
        return float(-np.sum(self.J * s[i] * s[j]) - np.dot(self.h, s))

    def params(self) -> dict:
        def plain(x):
            return float(x) if np.ndim(x) == 0 else "per-bond" if np.ndim(x) == 1 else x
        return {"model": "Ising", "J": plain(self._J_user),
                "h": float(self._h_user) if np.ndim(self._h_user) == 0 else "per-site",
                "lattice": self.lattice.describe()}

    def observables_from_raw(self, raw: dict) -> dict:
        n = self.n_sites
        m = raw["M"] / n
        m2 = m * m
        return {"e": raw["E"] / n, "m": m, "abs_m": np.abs(m), "m2": m2, "m4": m2 * m2}

    # -- algorithms ------------------------------------------------------
    def updater(self, algorithm: str, beta: float, **options) -> Updater:
        algorithm = self.check_algorithm(algorithm)
        if algorithm in ("metropolis", "heatbath"):
            unknown = set(options) - {"sweep"}
            if unknown:
                raise TypeError(f"algorithm {algorithm!r} takes only the option 'sweep', "
                                f"got {sorted(unknown)}")
            return _IsingLocal(self, beta, _METROPOLIS if algorithm == "metropolis" else _HEATBATH,
                               **options)
        self._check_cluster(algorithm)
        if algorithm == "wolff":
            return _IsingWolff(self, beta, **options)
        _no_options(algorithm, options)
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


def _no_options(algorithm, options):
    if options:
        raise TypeError(f"algorithm {algorithm!r} takes no options, got {sorted(options)}")


class _IsingBase(Updater):
    raw_names = ("E", "M")

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
        deterministic_walls = method == _METROPOLIS and model.lattice.max_degree <= 2
        if sweep is None:
            sweep = "random" if deterministic_walls else "ordered"
        if sweep not in ("ordered", "random"):
            raise ValueError(f"sweep must be 'ordered' (colour by colour) or 'random' "
                             f"(random-site selection), got {sweep!r}")
        if sweep == "ordered" and deterministic_walls:
            raise ValueError("sweep='ordered' with 'metropolis' is not ergodic on a lattice of "
                             "degree <= 2 (domain walls move deterministically); use "
                             "sweep='random' or algorithm='heatbath'")
        self.sweep = sweep
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
                              self.sweep == "random", rng_state, n_measure, every, raw["E"],
                              raw["M"])

    def info(self):
        return {"sweep": self.sweep, "tabulated": self.table.shape[0] == 2}


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


class _IsingWolff(_ClusterBase):
    """Single-cluster updates; n_c clusters per sweep, fixed before measuring."""

    def __init__(self, model, beta, clusters_per_sweep=None):
        super().__init__(model, beta)
        self.padd, self.bsign = self.bond_data(model._weights)     # per CSR entry
        self.queue = np.zeros(model.n_sites + 1, dtype=np.int32)   # +1: see wolff_run
        self.degree = self.lat.common_degree     # > 0: unrolled neighbour loop
        self.history = []              # (flipped, clusters) per thermalisation sweep
        self.history_total = [0, 0]    # their sums
        self.estimation_sweeps = 0
        self.flipped = 0
        self.clusters = 0
        if clusters_per_sweep is not None:
            if isinstance(clusters_per_sweep, bool) or \
                    not isinstance(clusters_per_sweep, numbers.Integral) or clusters_per_sweep < 1:
                raise ValueError("clusters_per_sweep must be a positive integer or None "
                                 f"(estimate during thermalisation), got {clusters_per_sweep!r}")
            clusters_per_sweep = int(clusters_per_sweep)
        self.clusters_per_sweep = clusters_per_sweep

    def _call(self, state, rng_state, n_measure, every, clusters, raw):
        return _cluster.wolff_run(
            state, self.lat.indptr, self.lat.indices, self.degree, self.padd, self.bsign,
            self.model._weights, self.model.h, self.queue, rng_state,
            n_measure, every, clusters, raw["E"], raw["M"])

    def _adaptive_sweep(self, state, rng_state):
        """Clusters until N spins have flipped: only ever used while not measuring."""
        n = self.model.n_sites
        flipped = count = 0
        done_f, done_c = self.history_total
        empty = self.raw_buffers(0)
        while flipped < n:
            # batch size from the mean cluster size seen so far (1 cluster at first)
            mean = (done_f + flipped) / (done_c + count) if done_c + count else float(n)
            batch = max(1, math.ceil((n - flipped) / mean))
            f, c = self._call(state, rng_state, 0, 1, batch, empty)
            flipped += f
            count += c
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
        self.clusters_per_sweep = max(1, math.ceil(self.model.n_sites / mean_size))
        self.history, self.history_total = [], [0, 0]

    def run(self, state, rng_state, n_measure, every, raw):
        f, c = self._call(state, rng_state, n_measure, every, self.clusters_per_sweep, raw)
        self.flipped += f
        self.clusters += c

    def info(self):
        return {"clusters_per_sweep": self.clusters_per_sweep,
                "mean_cluster_size": self.flipped / self.clusters if self.clusters else None,
                "estimation_sweeps": self.estimation_sweeps}


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
                                   n_measure, every, raw["E"], raw["M"])
