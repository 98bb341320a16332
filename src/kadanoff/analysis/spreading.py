"""Spreading from a single seed: survival P(t), particle number N(t), spread R^2(t).

At an absorbing-state transition (directed percolation and relatives), runs
started from one active site obey, at the critical point::

    P(t)   ~ t^(-delta)      probability that the run is still active
    N(t)   ~ t^(eta)         mean number of particles, over all runs
    R^2(t) ~ t^(2/z)         mean square distance of particles from the seed,
                             averaged over the particles of surviving runs
                             (sum over runs of sum_i r_i^2 / sum over runs of N)

(Grassberger & de la Torre 1979). Off criticality the local slopes
(effective exponents) bend: down (P levels off) above the critical rate, up
below it; :func:`critical_point` locates the rate where the late-time
curvature of log P vs log t vanishes.

Runs are split into blocks with independent random streams; every error bar
(and the errors of local slopes and fits, which are correlated across times)
is a jackknife over those blocks.

The experiment itself only needs an object with ``seed_state``,
``ensemble`` and ``lattice`` (a ``kadanoff.reaction.System``); this module
imports nothing from the simulation layer.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..results import Estimate

__all__ = ["spreading", "Spreading", "local_slopes", "critical_point", "exponents_at",
           "squared_distances"]


def squared_distances(lattice, site) -> np.ndarray:
    """Squared distance of every site from ``site``.

    Chains, square and cubic lattices with a ``shape``: Euclidean, with the
    minimum image on periodic lattices. Any other lattice: squared graph
    distance (number of bonds on a shortest path).
    """
    n = lattice.n_sites
    if lattice.shape and lattice.coords is not None and lattice.name in ("chain", "square",
                                                                         "cubic"):
        d = np.asarray(lattice.coords, dtype=float) - lattice.coords[site]
        if lattice.periodic:
            L = np.asarray(lattice.shape, dtype=float)
            d = d - L * np.round(d / L)
        return (d ** 2).sum(axis=1)
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import shortest_path
    adj = csr_matrix((np.ones(len(lattice.indices)), lattice.indices, lattice.indptr),
                     shape=(n, n))
    dist = shortest_path(adj, unweighted=True, indices=[site])[0]
    if not np.all(np.isfinite(dist)):
        dist = np.where(np.isfinite(dist), dist, 0.0)
    return dist ** 2


def _jackknife(f, *block_arrays):
    """Value and jackknife error of f(*sums) from per-block arrays (B, ...)."""
    totals = [a.sum(axis=0) for a in block_arrays]
    value = f(*totals)
    B = block_arrays[0].shape[0]
    if B < 2:
        return value, np.full_like(np.asarray(value, dtype=float), np.nan)
    leave = np.array([f(*[t - a[b] for t, a in zip(totals, block_arrays)]) for b in range(B)])
    err = np.sqrt((B - 1) / B * ((leave - leave.mean(axis=0)) ** 2).sum(axis=0))
    return value, err


class Spreading:
    """Result of :func:`spreading`: read-only arrays over the recording times.

    Attributes
    ----------
    t : (T,) times
    P, P_err : survival probability and error
    N, N_err : mean particle number (all runs) and error
    R2, R2_err : mean square spread (particles of surviving runs) and error
    runs : number of runs; meta : parameters of the experiment
    """

    def __init__(self, t, alive, particles, weights, runs_per_block, meta):
        self.t = np.asarray(t)
        self._alive = alive            # (B, T) surviving runs per block
        self._n = particles            # (B, T) sum of particles per block
        self._w = weights              # (B, T) sum of squared distances per block
        self._runs = runs_per_block    # (B,)
        self.meta = meta
        r = self._runs[:, None].astype(float)
        self.P, self.P_err = _jackknife(lambda a, n: a / n, alive, r + 0 * alive)
        self.N, self.N_err = _jackknife(lambda n, rr: n / rr, particles, r + 0 * particles)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.R2, self.R2_err = _jackknife(lambda w, n: w / n, weights, particles)

    @property
    def runs(self) -> int:
        return int(self._runs.sum())

    def _quantity(self, name):
        r = self._runs[:, None].astype(float) + 0 * self._alive
        if name == "P":
            return (lambda a, rr: a / rr), (self._alive, r)
        if name == "N":
            return (lambda n, rr: n / rr), (self._n, r)
        if name == "R2":
            return (lambda w, n: w / n), (self._w, self._n)
        raise ValueError(f"quantity must be 'P', 'N' or 'R2', got {name!r}")

    def local_slopes(self, name="P", step=1):
        """Effective exponent d ln y / d ln t between times k and k + step.

        Returns (t_mid, slope, error) with t_mid the geometric mean of the two
        times; for P the slope is -delta(t), for N eta(t), for R2 2/z(t).
        Errors: jackknife over run blocks.
        """
        f, arrays = self._quantity(name)
        t = self.t
        k0 = np.arange(len(t) - step)
        k1 = k0 + step
        keep = t[k0] > 0
        k0, k1 = k0[keep], k1[keep]
        lt = np.log(t[k1] / t[k0])

        def slope(*sums):
            y = f(*sums)
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.log(y[k1] / y[k0]) / lt

        s, e = _jackknife(slope, *arrays)
        return np.sqrt(t[k0] * t[k1]), s, e

    def fit(self, name="P", t_min=None, t_max=None) -> Estimate:
        """Power-law exponent of ``name`` from a least-squares line of ln y vs
        ln t over t_min <= t <= t_max, with a jackknife error over run blocks."""
        f, arrays = self._quantity(name)
        t = self.t
        lo = t[t > 0].min() if t_min is None else t_min
        hi = t.max() if t_max is None else t_max
        sel = (t >= lo) & (t <= hi) & (t > 0)
        if sel.sum() < 2:
            raise ValueError(f"fewer than 2 times in [{lo}, {hi}]")
        x = np.log(t[sel])

        def slope(*sums):
            y = np.log(f(*sums)[sel])
            return np.polyfit(x, y, 1)[0]

        v, e = _jackknife(slope, *arrays)
        return Estimate(float(v), float(e))

    def curvature(self, name="P", t_min=None, t_max=None) -> Estimate:
        """Late-minus-early slope: the fitted exponent over the upper half of
        [t_min, t_max] (in ln t) minus that over the lower half. Zero at a
        critical point (pure power law); for P positive above the critical
        rate (P levels off, the slope -delta(t) rises towards 0), negative
        below."""
        t = self.t
        lo = t[t > 0].min() if t_min is None else t_min
        hi = t.max() if t_max is None else t_max
        mid = math.sqrt(lo * hi)
        f, arrays = self._quantity(name)
        sel1 = (t >= lo) & (t <= mid)
        sel2 = (t >= mid) & (t <= hi)
        if sel1.sum() < 2 or sel2.sum() < 2:
            raise ValueError("too few recording times for a curvature estimate")

        def diff(*sums):
            y = np.log(f(*sums))
            s1 = np.polyfit(np.log(t[sel1]), y[sel1], 1)[0]
            s2 = np.polyfit(np.log(t[sel2]), y[sel2], 1)[0]
            return s2 - s1

        v, e = _jackknife(diff, *arrays)
        return Estimate(float(v), float(e))

    def exponents(self, t_min=None, t_max=None) -> dict:
        """Fitted delta, eta, z (z = 2 / slope of R^2) with jackknife errors."""
        d = self.fit("P", t_min, t_max)
        e = self.fit("N", t_min, t_max)
        r = self.fit("R2", t_min, t_max)
        return {"delta": Estimate(-d.value, d.error), "eta": e,
                "z": Estimate(2.0 / r.value, 2.0 * r.error / r.value ** 2)}

    def __repr__(self):
        return f"<Spreading {self.meta.get('model', '?')}: {self.runs} runs, t <= {self.t[-1]:g}>"


def local_slopes(t, y, step=1):
    """Plain effective exponents d ln y / d ln t of arrays (no errors)."""
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    k0 = np.arange(len(t) - step)
    k1 = k0 + step
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(t[k0] * t[k1]), np.log(y[k1] / y[k0]) / np.log(t[k1] / t[k0])


def spreading(system_factory, runs, t_max, rng=None, *, times=None, n_times=40, species=None,
              site=None, blocks=32, progress=False) -> Spreading:
    """Spreading experiment: ``runs`` independent runs from a single seed.

    Parameters
    ----------
    system_factory : System, or a callable returning one (called once)
        e.g. ``lambda: kd.reaction.contact_process(kd.lattice.chain(4096), 3.2978)``.
        Choose the lattice larger than the spread reached by ``t_max``.
    runs : int
        Number of runs, split into ``blocks`` blocks (independent streams
        spawned from ``rng``) for jackknife errors.
    t_max : float
    times : array_like, optional
        Recording times (default ``n_times`` geometrically spaced from 1 to
        t_max, plus t = 0).
    species, site : optional
        The seed particle (default: the first species, centre site).

    Returns
    -------
    Spreading
        P, N, R2 (and errors), local slopes, fits and a curvature measure.
    """
    system = system_factory if hasattr(system_factory, "ensemble") else system_factory()
    if not hasattr(system, "ensemble"):
        raise TypeError("system_factory must be a reaction System or return one")
    if isinstance(runs, bool) or not isinstance(runs, numbers.Integral) or runs < 2:
        raise ValueError(f"runs must be an integer >= 2, got {runs!r}")
    if isinstance(blocks, bool) or not isinstance(blocks, numbers.Integral) or blocks < 2:
        raise ValueError(f"blocks must be an integer >= 2, got {blocks!r}")
    t_max = float(t_max)
    if not t_max > 0 or not math.isfinite(t_max):
        raise ValueError(f"t_max must be positive and finite, got {t_max}")
    if times is None:
        times = np.concatenate([[0.0], np.geomspace(min(1.0, t_max), t_max, n_times)])
    times = np.unique(np.asarray(times, dtype=float))
    blocks = min(int(blocks), int(runs))
    seed = system.seed_state(species, site)
    site = system.centre_site() if site is None else int(site)
    w = squared_distances(system.lattice, site)
    from .. import _random
    ss = _random._seed_sequence(rng)
    children = ss.spawn(blocks) if ss is not None else _random.spawn(rng, blocks)
    sizes = np.full(blocks, runs // blocks)
    sizes[: runs % blocks] += 1
    alive = np.zeros((blocks, len(times)))
    parts = np.zeros((blocks, len(times)))
    wsum = np.zeros((blocks, len(times)))
    bar = None
    if progress:
        import sys

        from tqdm.auto import tqdm
        bar = tqdm(total=runs, desc="spreading", unit="run", file=sys.stderr, leave=False)
    for b in range(blocks):
        ens = system.ensemble(int(sizes[b]), times, rng=children[b], initial=seed,
                              site_weights=w)
        alive[b] = (~ens.absorbed).sum(axis=0)
        parts[b] = ens.particles().sum(axis=0)
        wsum[b] = ens.weights.sum(axis=0)
        if bar is not None:
            bar.update(int(sizes[b]))
    if bar is not None:
        bar.close()
    meta = {**system.describe(), "runs": int(runs), "blocks": blocks, "seed_site": site,
            "t_max": t_max, "seed": ss is not None and _random.seed_info(ss) or None}
    return Spreading(times, alive, parts, wsum, sizes, meta)


def _poly_root(params, y, e, degree):
    """Root (inside the bracket) of a weighted polynomial fit y(params), with
    its error from the fit covariance (linear propagation)."""
    x0 = params.mean()
    scale = max(np.ptp(params), 1e-300)
    u = (params - x0) / scale
    X = np.vander(u, degree + 1, increasing=True)
    w = 1.0 / e ** 2
    cov = np.linalg.inv(X.T @ (X * w[:, None]))
    coef = cov @ (X.T @ (w * y))

    def root(c):
        r = np.roots(c[::-1])
        r = r[np.abs(r.imag) < 1e-9].real
        lo, hi = u.min() - 0.25, u.max() + 0.25
        r = r[(r >= lo) & (r <= hi)]
        if r.size == 0:
            raise ValueError("the fitted curvature has no zero inside the bracketed "
                             "parameter range: bracket the critical point")
        return r[np.argmin(np.abs(r))]

    r0 = root(coef)
    h = 1e-6 * (1 + np.abs(coef))
    grad = np.array([(root(coef + h[k] * np.eye(len(coef))[k]) - r0) / h[k]
                     for k in range(len(coef))])
    err = math.sqrt(max(grad @ cov @ grad, 0.0))
    return x0 + scale * r0, scale * err


def critical_point(params, spreadings, name="P", t_min=None, t_max=None,
                   degree=1) -> Estimate:
    """Locate the critical control parameter from spreading runs at several values.

    For each run set the curvature (late minus early fitted slope of
    ``name``, see :meth:`Spreading.curvature`) is computed with its error; a
    weighted polynomial of ``degree`` (1: a straight line) through curvature
    vs parameter gives the zero and its error (propagated from the fit's
    covariance). Bracket the critical point closely: far from it the
    curvature is not linear in the parameter.
    """
    params = np.asarray(params, dtype=float)
    if len(params) != len(spreadings) or len(params) < degree + 1:
        raise ValueError(f"need at least {degree + 1} parameter values, one Spreading each")
    c = [s.curvature(name, t_min, t_max) for s in spreadings]
    y = np.array([x.value for x in c])
    e = np.array([x.error for x in c])
    if not np.all(e > 0):
        raise ValueError("zero curvature errors: too few runs")
    root, err = _poly_root(params, y, e, degree)
    return Estimate(float(root), float(err))


def exponents_at(params, spreadings, value, t_min=None, t_max=None, degree=1) -> dict:
    """Exponents (delta, eta, z) interpolated to ``value`` (an Estimate, e.g.
    from :func:`critical_point`) by weighted polynomials of ``degree`` through
    the fitted exponents vs parameter; errors combine the fit covariance and
    the uncertainty of ``value`` (times the fitted slope there)."""
    params = np.asarray(params, dtype=float)
    v, ve = (value.value, value.error) if isinstance(value, tuple) else (float(value), 0.0)
    fits = [s.exponents(t_min, t_max) for s in spreadings]
    out = {}
    for key in ("delta", "eta", "z"):
        y = np.array([f[key].value for f in fits])
        e = np.array([f[key].error for f in fits])
        X = np.vander(params - v, degree + 1, increasing=True)
        w = 1.0 / e ** 2
        cov = np.linalg.inv(X.T @ (X * w[:, None]))
        coef = cov @ (X.T @ (w * y))
        out[key] = Estimate(float(coef[0]), float(math.sqrt(cov[0, 0] + (coef[1] * ve) ** 2)))
    return out
