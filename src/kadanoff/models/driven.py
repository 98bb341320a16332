r"""Dynamics that break detailed balance, with their entropy production.

Three families, each run through ``kd.Simulation`` like any other model
(``rng=``, ``Results``, checkpoints unchanged):

* :class:`DrivenLatticeGas` -- the Katz-Lebowitz-Spohn (KLS) driven lattice
  gas: Kawasaki particle-hole exchanges with a field along one axis.
* :class:`TwoTemperatureIsing` -- Kawasaki spin exchanges across bonds along
  axis 0 coupled to a bath at ``T_x``, across the other bonds to one at
  ``T_y``.
* :class:`KineticIsing` -- Glauber dynamics with arbitrary (asymmetric)
  couplings, sequential or synchronous, including the sequence-storing
  asymmetric Hopfield network (:meth:`KineticIsing.sequence`).

**Entropy production.** Every kernel is a discrete-time Markov chain and adds,
for each executed transition x -> x', the stochastic entropy production of
the medium

.. math:: \Delta s = \ln \frac{P(x \to x')}{P(x' \to x)}      \qquad (k_B = 1)

where P is the one-step transition probability of the chain: one
random-sequential step (a random site, or a random site and neighbour), or
for ``KineticIsing(algorithm="parallel")`` the whole synchronous step. The
observable ``entropy`` is the entropy produced per site per sweep, averaged
over the sweeps since the previous measurement, so ``res.mean("entropy")``
is the entropy production rate (EPR) per site per sweep with an honest
(autocorrelation-aware) error bar, and the measurements themselves sample
the distribution of the entropy produced in ``measure_every`` sweeps. In the
steady state the mean equals the Schnakenberg value of P (Schnakenberg 1976)

.. math:: \sigma = \sum_{x \ne x'} p(x) P(x\to x') \ln \frac{P(x\to x')}{P(x'\to x)}

per step: ``res.mean("entropy")`` = sigma for random-sequential dynamics
(N steps per sweep, per site: sigma) and sigma / N for parallel updates (one
step per sweep). This is the discrete-time (per-step) Schnakenberg value of
the transition matrix, not that of a continuous-time rate matrix; for
comparison with :func:`kadanoff.analysis.entropy.schnakenberg` use
``discrete=True``. (The system entropy -ln p(x) changes only by a boundary
term, so medium and total entropy production rates agree in the steady
state.) Dynamics with detailed balance (E = 0, T_x = T_y, symmetric
couplings) give zero within errors: the entropy produced is then a boundary
term (e.g. -beta Delta H), so its time series telescopes.

**Local decomposition.** With ``Simulation(..., entropy_map=True)`` each
measurement also records ``entropy_map``, shape (N, n_dir): the entropy
produced per sweep resolved by site and direction (see each model for the
attribution); it sums to N x ``entropy``. ``res.mean("entropy_map")`` is the
map of the steady-state EPR, :func:`plot_entropy_map` draws it.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..lattice import Lattice
from .base import Model, Updater, check_spins, random_spins

__all__ = ["DrivenLatticeGas", "TwoTemperatureIsing", "KineticIsing", "plot_entropy_map"]

_METROPOLIS, _HEATBATH = 0, 1


def _kernel():
    from .. import _driven
    return _driven


# ---------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------
def _real(name, value, positive=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    value = float(value)
    if positive and value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return value


def _options(algorithm, options, allowed):
    unknown = set(options) - set(allowed)
    if unknown:
        raise TypeError(f"algorithm {algorithm!r} takes the options {sorted(allowed)}, "
                        f"got {sorted(unknown)}")
    flag = options.get("entropy_map", False)
    if not isinstance(flag, (bool, np.bool_)):
        raise TypeError(f"entropy_map must be True or False, got {flag!r}")
    return bool(flag)


class _Geometry:
    """Per CSR entry (i -> j): the axis of the bond, its orientation (+1 if j
    is i + e_axis) and the map row (the site the bond leaves along +e_axis).
    Only for periodic chains, square and cubic lattices with every side >= 3."""

    def __init__(self, lattice, who, min_dim=1):
        if not isinstance(lattice, Lattice):
            raise TypeError(f"lattice must be a kadanoff Lattice (e.g. kd.lattice.square(16)), "
                            f"got {type(lattice).__name__}")
        if lattice.name not in ("chain", "square", "cubic") or not lattice.periodic:
            raise ValueError(f"{who} needs a periodic kd.lattice.chain, square or cubic lattice "
                             f"(the drive / baths act along lattice axes), got "
                             f"{lattice.name!r} with periodic={lattice.periodic}")
        d = len(lattice.shape)
        if d < min_dim:
            raise ValueError(f"{who} needs a lattice of dimension >= {min_dim}, got {d}")
        if min(lattice.shape) < 3:
            raise ValueError(f"{who} needs every side >= 3, got shape {lattice.shape}")
        self.lattice = lattice
        self.d = d
        self.z = lattice.common_degree
        vec = lattice.entry_vectors()
        self.axis = np.ascontiguousarray(np.argmax(np.abs(vec), axis=1).astype(np.int8))
        self.sign = np.ascontiguousarray(
            np.sign(vec[np.arange(len(vec)), self.axis]).astype(np.int8))
        rows = np.repeat(np.arange(lattice.n_sites), lattice.degree)
        self.site = np.ascontiguousarray(
            np.where(self.sign > 0, rows, lattice.indices).astype(np.int32))
        self.indices = np.ascontiguousarray(lattice.indices, dtype=np.int32)

    def phase(self, axis):
        """cos and sin rows of 2 pi x_axis / L_axis (the smallest wave vector)."""
        lat = self.lattice
        arg = 2 * np.pi * lat.cells[:, axis] / lat.shape[axis]
        return np.ascontiguousarray(np.concatenate([np.cos(arg), np.sin(arg)]))


class _DrivenUpdater(Updater):
    """Kernel call + per-sweep normalisation of the additive raw columns."""

    per_sweep = ()          # columns of X that are totals over the block

    def __init__(self, model, beta, entropy_map):
        self.model = model
        self.beta = beta
        self.entropy_map = entropy_map
        self.raw_names = ("X", "Smap") if entropy_map else ("X",)
        self.raw_shapes = {"X": (self.n_cols,), "Smap": (model.n_sites, model.n_dir)}
        self._nomap = np.zeros((0, model.n_sites, model.n_dir))

    def run(self, state, rng_state, n_measure, every, raw):
        smap = raw["Smap"] if self.entropy_map else self._nomap
        self._call(state, rng_state, n_measure, every, raw, smap)
        if n_measure > 0:
            X = raw["X"]
            X[:, list(self.per_sweep)] /= every
            if self.entropy_map:
                smap /= every

    def info(self):
        return {"entropy_map": self.entropy_map, "selection": "random-sequential"}


def _entropy_observables(model, raw, out):
    if "Smap" in raw:
        out["entropy_map"] = raw["Smap"]
    return out


# ---------------------------------------------------------------------------
# particle-hole exchange models: driven lattice gas, two-temperature model
# ---------------------------------------------------------------------------
class _ExchangeModel(Model):
    """Particles (n_i = 1) with H = -J sum_<ij> s_i s_j, s = 2 n - 1, moved by
    random-sequential particle-hole exchanges (cext/driven.pyx exchange_run)."""

    algorithms = ("metropolis",)

    def _setup(self, lattice, density, particles, J, min_dim, stripe_axis):
        who = type(self).__name__
        self.geometry = _Geometry(lattice, who, min_dim=min_dim)
        self.lattice = lattice
        self.n_sites = n = lattice.n_sites
        if particles is None:
            dens = _real("density", density)
            if not 0 < dens < 1:
                raise ValueError(f"density must be in (0, 1), got {dens}")
            particles = round(dens * n)
        elif isinstance(particles, bool) or not isinstance(particles, numbers.Integral):
            raise ValueError(f"particles must be an integer in [1, {n - 1}], got {particles!r}")
        if not 1 <= particles <= n - 1:
            raise ValueError(f"particles must be in [1, {n - 1}] (N = {n} sites; at least one "
                             f"particle and one hole), got {particles}")
        self.particles = int(particles)
        self.J = _real("J", J)
        self.n_dir = self.geometry.d
        if stripe_axis is not None:
            self._phase = self.geometry.phase(stripe_axis)
            self._Ly = lattice.shape[stripe_axis]
        else:
            self._phase, self._Ly = np.zeros(0), 0

    @property
    def density(self) -> float:
        return self.particles / self.n_sites

    def random_state(self, generator):
        """Particles on uniformly random distinct sites (int8 0/1)."""
        occ = np.zeros(self.n_sites, dtype=np.int8)
        occ[generator.permutation(self.n_sites)[:self.particles]] = 1
        return occ

    def check_state(self, state):
        arr = np.asarray(state)
        if arr.shape != (self.n_sites,):
            raise ValueError(f"state must have shape ({self.n_sites},), got {arr.shape}")
        if not np.all((arr == 0) | (arr == 1)):
            raise ValueError("state must contain only occupations 0 and 1")
        if int(np.sum(arr)) != self.particles:
            raise ValueError(f"state must hold exactly {self.particles} particles (the model's "
                             f"conserved number), got {int(np.sum(arr))}")
        return np.ascontiguousarray(arr, dtype=np.int8).copy()

    def energy(self, state) -> float:
        """H = -J sum_<ij> s_i s_j with s = 2 n - 1."""
        s = 2.0 * self.check_state(state) - 1.0
        e = self.lattice.edges
        return float(-self.J * np.sum(s[e[:, 0]] * s[e[:, 1]]))

    def updater(self, algorithm, beta, **options):
        algorithm = self.check_algorithm(algorithm)
        return _ExchangeUpdater(self, beta, _options(algorithm, options, ("entropy_map",)))

    def _common(self, raw):
        X = raw["X"]
        n = self.n_sites
        out = {"e": -self.J * X[:, 0] / n, "entropy": X[:, 2] / n}
        if self._Ly:
            Ly = self._Ly
            out["stripe"] = np.sqrt(X[:, 3]) * Ly * math.sin(math.pi / Ly) / (2 * n)
        return out


class _ExchangeUpdater(_DrivenUpdater):
    n_cols = 7
    per_sweep = (1, 2, 4, 5, 6)

    def __init__(self, model, beta, entropy_map):
        super().__init__(model, beta, entropy_map)
        z = model.geometry.z
        m = np.arange(1 - z, z)[:, None]            # dH = 4 J m
        betas, work = model._columns(beta)          # per table column
        with np.errstate(over="ignore"):
            self.dS = np.ascontiguousarray(-betas[None, :] * (4.0 * model.J * m - work[None, :]))
            self.prob = np.ascontiguousarray(np.exp(np.minimum(0.0, self.dS)))

    def _call(self, state, rng_state, n_measure, every, raw, smap):
        m, g = self.model, self.model.geometry
        _kernel().exchange_run(state, g.indices, g.z, m._dx, g.axis, g.site, m._col_fwd,
                               m._col_bwd, self.prob, self.dS, rng_state, n_measure, every,
                               m._phase, raw["X"], smap)


class DrivenLatticeGas(_ExchangeModel):
    r"""Katz-Lebowitz-Spohn driven lattice gas (Katz, Lebowitz & Spohn 1984).

    Particles (``n_i = 1``) on a periodic chain, square or cubic lattice, with
    nearest-neighbour attraction written in spin language (s = 2 n - 1)

    .. math:: H = -J \sum_{\langle ij\rangle} s_i s_j ,

    so at ``E = 0`` and half filling this is the Ising model at zero
    magnetisation (T_c = 2.269 J on the infinite square lattice).

    Dynamics (``algorithm="metropolis"``, random-sequential Kawasaki): a step
    picks a site and one of its z neighbours uniformly; if exactly one of the
    two holds a particle, the particle hops with probability

    .. math:: \min\{1, \exp[-\beta(\Delta H - E\,\delta x)]\}

    where ``dx = +1`` for a hop along ``+axis`` (the drive), ``-1`` against it
    and 0 across. The lattice is periodic, so the field does work E per hop
    along it and the steady state carries a current. A sweep is N steps.

    Entropy: ``ds = -beta (dH - E dx)`` per hop (the pair is proposed with
    the same probability either way); in the steady state EPR = beta E x
    (current), because the energy is bounded.

    Parameters
    ----------
    lattice : kd.lattice.chain, square or cubic, periodic, sides >= 3
    density : float in (0, 1)
        Fraction of occupied sites; the particle number round(density N)
        is conserved. Ignored if ``particles`` is given.
    particles : int, optional
        Number of particles (1 .. N - 1).
    J : float
        Coupling (attractive for J > 0); a hop changes H by 4 J m, m integer.
    E : float
        Drive (work done on a particle per hop along ``+axis``), finite;
        E = 0 is equilibrium Kawasaki dynamics.
    axis : int
        The lattice axis of the drive (default 0, x).

    Configurations are occupations (int8 0/1, shape (N,)).

    Observables
    -----------
    ``e`` (H / N), ``current`` (net hops along the drive per site per sweep),
    ``entropy`` (entropy production per site per sweep), ``stripe`` (d >= 2:
    ``|sum_i s_i exp(2 pi i y_i / L_y)| L_y sin(pi / L_y) / (2 N)`` with y the
    first axis across the drive; 1 for one perfect band of particles parallel
    to the drive, O(N^-1/2) when disordered) and, with ``entropy_map=True``,
    ``entropy_map`` (N, d): entropy per sweep produced by the hops across the
    bond from site i to i + e_a (column a).
    """

    def __init__(self, lattice, density=0.5, *, particles=None, J=1.0, E=0.0, axis=0):
        if not isinstance(lattice, Lattice):
            raise TypeError(f"lattice must be a kadanoff Lattice (e.g. kd.lattice.square(16)), "
                            f"got {type(lattice).__name__}")
        d = len(lattice.shape) if lattice.shape else 0
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral) \
                or not 0 <= axis < max(d, 1):
            raise ValueError(f"axis must be an integer in [0, {max(d, 1)}), got {axis!r}")
        self.axis = int(axis)
        across = [a for a in range(d) if a != self.axis]
        self._setup(lattice, density, particles, J, 1, across[0] if across else None)
        if isinstance(E, numbers.Real) and not isinstance(E, bool) and math.isinf(E):
            raise ValueError("E must be finite (an infinite drive forbids backward hops, so the "
                             "entropy production is infinite); use a large finite E such as 20")
        self.E = _real("E", E)
        g = self.geometry
        self._dx = np.ascontiguousarray(np.where(g.axis == self.axis, g.sign, 0).astype(np.int8))
        self._col_fwd = np.ascontiguousarray((self._dx + 1).astype(np.int8))
        self._col_bwd = np.ascontiguousarray((1 - self._dx).astype(np.int8))
        self.observables = ("e", "current", "entropy") + (("stripe",) if across else ())

    def _columns(self, beta):
        """(beta, work done by the drive) of the table columns dx = -1, 0, +1."""
        return np.full(3, beta), self.E * np.array([-1.0, 0.0, 1.0])

    def params(self):
        return {"model": "DrivenLatticeGas", "particles": self.particles, "J": self.J,
                "E": self.E, "axis": self.axis, "lattice": self.lattice.describe()}

    def observables_from_raw(self, raw):
        out = self._common(raw)
        out["current"] = raw["X"][:, 1] / self.n_sites
        return _entropy_observables(self, raw, out)


class TwoTemperatureIsing(_ExchangeModel):
    r"""Two-temperature lattice gas / Ising model with conserved magnetisation.

    Spin language s = 2 n - 1 (``n_i = 1``: spin up), on a periodic square or
    cubic lattice,

    .. math:: H = -J \sum_{\langle ij\rangle} s_i s_j ,

    with random-sequential Kawasaki exchanges of neighbouring unlike spins:
    an exchange across a bond along axis 0 is accepted with
    min(1, exp(-beta_x dH)), across any other bond with min(1, exp(-beta_y
    dH)) (Garrido, Lebowitz, Maes & Spohn 1990; Praestgaard, Schmittmann &
    Zia 2000). Each move exchanges energy with one bath only, so for
    T_x != T_y energy flows through the system from the hot to the cold bath
    and detailed balance is broken; T_x = T_y is the equilibrium Ising model
    at fixed magnetisation. (Splitting the energy change of one spin flip
    between two baths, exp(-beta_x dE_x - beta_y dE_y), would not do: that
    is detailed balance for the anisotropic weight exp(-beta_x H_x - beta_y
    H_y).)

    ``kd.Simulation(model, T=T_x, ...)``: the Simulation's temperature is
    that of the bath on the axis-0 bonds; ``T_y`` belongs to the model.

    Entropy: ``ds = -beta_bond dH`` per exchange (heat from that bath over
    its temperature, with a minus sign); in the steady state
    EPR = (beta_y - beta_x) x (heat flowing in from bath x).

    Parameters
    ----------
    lattice : kd.lattice.square or cubic, periodic, sides >= 3
    density : float in (0, 1)
        Fraction of up spins (conserved; magnetisation 2 density - 1), or
    particles : int
        their number.
    J : float
    T_y : float > 0
        Temperature of the bath on the bonds across axis 0.

    Configurations are occupations (int8 0/1 = spin down/up).

    Observables
    -----------
    ``e`` (H / N), ``entropy`` (per site per sweep), ``heat_x``, ``heat_y``
    (energy taken from bath x / y per site per sweep), ``stripe`` (as for
    :class:`DrivenLatticeGas`, bands parallel to axis 0) and, with
    ``entropy_map=True``, ``entropy_map`` (N, d): the entropy of the
    exchanges across the bond from site i to i + e_a (column a).
    """

    observables = ("e", "entropy", "heat_x", "heat_y", "stripe")

    def __init__(self, lattice, density=0.5, *, T_y, particles=None, J=1.0):
        self._setup(lattice, density, particles, J, 2, 1)
        self.T_y = _real("T_y", T_y, positive=True)
        g = self.geometry
        self._dx = np.ascontiguousarray(np.where(g.axis == 0, g.sign, 0).astype(np.int8))
        self._col_fwd = np.ascontiguousarray((g.axis != 0).astype(np.int8))
        self._col_bwd = self._col_fwd

    def _columns(self, beta):
        """(beta, work) of the table columns: bonds along axis 0, the others."""
        return np.array([beta, 1.0 / self.T_y]), np.zeros(2)

    def params(self):
        return {"model": "TwoTemperatureIsing", "particles": self.particles, "J": self.J,
                "T_y": self.T_y, "lattice": self.lattice.describe()}

    def observables_from_raw(self, raw):
        out = self._common(raw)
        X = raw["X"]
        out["heat_x"] = 4.0 * self.J * X[:, 4] / self.n_sites
        out["heat_y"] = 4.0 * self.J * X[:, 5] / self.n_sites
        return _entropy_observables(self, raw, out)


# ---------------------------------------------------------------------------
# kinetic Ising model
# ---------------------------------------------------------------------------
def _sequence_couplings(patterns):
    xi = np.asarray(patterns, dtype=np.float64)
    N = xi.shape[1]
    J = np.roll(xi, -1, axis=0).T @ xi / N       # J_ij = (1/N) sum_mu xi_i^{mu+1} xi_j^mu
    np.fill_diagonal(J, 0.0)
    return J


class KineticIsing(Model):
    r"""Kinetic Ising model with arbitrary, possibly asymmetric couplings.

    N spins s_i = +-1 with local fields

    .. math:: g_i(s) = h_i + \sum_{j \ne i} J_{ij} s_j ;

    J need not be symmetric, so in general there is no energy function and
    no detailed balance (Crisanti & Sompolinsky 1988).

    Algorithms
    ----------
    ``glauber`` (aliases ``heatbath``, ``sequential``): random-sequential
    heat bath, s_i -> +1 with probability e^{beta g_i} / (2 cosh beta g_i);
    a sweep is N steps; ``ds = -2 beta s_i g_i`` per flip (s_i before it).
    ``metropolis``: the same with min(1, e^{-2 beta s_i g_i}).
    ``parallel`` (alias ``synchronous``): all spins updated at once from
    g(s), P(s'|s) = prod_i e^{beta s'_i g_i(s)} / (2 cosh beta g_i(s)); a
    sweep is one such step, ``ds = ln P(s'|s) / P(s|s')``. For symmetric J
    the parallel dynamics has detailed balance with respect to Peretto's
    stationary distribution, so its EPR vanishes too.

    Parameters
    ----------
    J : array (N, N) or scipy.sparse matrix, finite, zero diagonal
        J[i, j] is the influence of spin j on spin i. A sparse matrix runs a
        kernel that touches only the stored couplings (O(row length) per
        update instead of O(N)); :meth:`on_lattice` builds one from a
        lattice.
    h : float or array (N,)
    patterns : array (P, N) of +-1, optional
        Patterns whose overlaps ``m_mu = (1/N) sum_i xi_i^mu s_i`` are
        recorded as ``overlap``.

    Notes
    -----
    Observables: ``m``, ``abs_m``, ``entropy`` (per spin per sweep),
    ``overlap`` (with patterns) and, with ``entropy_map=True``,
    ``entropy_map`` (N, 1): the entropy of the updates of spin i.
    """

    algorithms = ("glauber", "metropolis", "parallel")

    def __init__(self, J, h=0.0, *, patterns=None):
        self._csr = None
        if hasattr(J, "tocsr") and hasattr(J, "nnz"):          # scipy.sparse
            Jc = J.tocsr().astype(np.float64)
            Jc.sum_duplicates()
            Jc.eliminate_zeros()
            if Jc.ndim != 2 or Jc.shape[0] != Jc.shape[1] or Jc.shape[0] < 1:
                raise ValueError(f"J must be a square (N, N) matrix, got shape {Jc.shape}")
            if not np.all(np.isfinite(Jc.data)):
                raise ValueError("J must be finite")
            if np.any(Jc.diagonal() != 0):
                raise ValueError("J must have a zero diagonal (no self-couplings J_ii)")
            if Jc.nnz > 2**31 - 1:
                raise ValueError("J has too many couplings for 32-bit indices")
            Jc.sort_indices()
            self.J = Jc
            self._csr = (np.ascontiguousarray(Jc.indptr, dtype=np.int32),
                         np.ascontiguousarray(Jc.indices, dtype=np.int32),
                         np.ascontiguousarray(Jc.data, dtype=np.float64))
            self.n_sites = n = Jc.shape[0]
        else:
            try:
                Jm = np.array(J, dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError("J must be a square array of finite couplings") from None
            if Jm.ndim != 2 or Jm.shape[0] != Jm.shape[1] or Jm.shape[0] < 1:
                raise ValueError(f"J must be a square (N, N) array, got shape {Jm.shape}")
            if not np.all(np.isfinite(Jm)):
                raise ValueError("J must be finite")
            if np.any(np.diag(Jm) != 0):
                raise ValueError("J must have a zero diagonal (no self-couplings J_ii)")
            self.J = np.ascontiguousarray(Jm)
            self.n_sites = n = Jm.shape[0]
        try:
            harr = np.asarray(h, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"h must be a finite number or an array of {n} numbers") from None
        if harr.ndim == 0:
            harr = np.full(n, float(harr))
        if harr.shape != (n,) or not np.all(np.isfinite(harr)):
            raise ValueError(f"h must be a finite number or an array of shape ({n},)")
        self.h = np.ascontiguousarray(harr)
        self._h_user = h
        if patterns is None:
            self.patterns = np.zeros((0, n), dtype=np.int8)
        else:
            xi = np.asarray(patterns)
            if xi.ndim != 2 or xi.shape[1] != n or not np.all((xi == 1) | (xi == -1)):
                raise ValueError(f"patterns must be a (P, {n}) array of +1 and -1")
            self.patterns = np.ascontiguousarray(xi, dtype=np.int8)
        self.n_dir = 1
        self.observables = ("m", "abs_m", "entropy") + (("overlap",) if len(self.patterns)
                                                         else ())
        self._kind = "matrix"

    @classmethod
    def sequence(cls, patterns, h=0.0):
        r"""Asymmetric Hopfield network that recalls a cyclic sequence of patterns.

        .. math:: J_{ij} = \frac1N \sum_{\mu=1}^{P} \xi_i^{\mu+1} \xi_j^{\mu},
                  \qquad \xi^{P+1} = \xi^1, \quad J_{ii} = 0

        (Sompolinsky & Kanter 1986; Kleinfeld 1986): under parallel dynamics
        at low T the state steps from pattern mu to mu + 1 each sweep. The
        overlaps with ``patterns`` (P, N) are recorded as ``overlap``.
        """
        xi = np.asarray(patterns)
        if xi.ndim != 2 or xi.shape[0] < 1 or not np.all((xi == 1) | (xi == -1)):
            raise ValueError("patterns must be a (P, N) array of +1 and -1 with P >= 1")
        model = cls(_sequence_couplings(xi), h, patterns=xi)
        model._kind = "sequence"
        return model

    @classmethod
    def on_lattice(cls, lattice, J=1.0, h=0.0):
        r"""Kinetic Ising model on the bonds of ``lattice`` with directed couplings.

        ``J``: a scalar (symmetric, J_ij = J_ji = J: the equilibrium Ising
        model's Glauber dynamics), an array of shape (n_bonds,) (symmetric,
        one per bond in ``lattice.edges`` order), or an array of shape
        (2 n_bonds,) with one value per CSR entry: entry k of row i
        (``lattice.indptr[i] <= k < lattice.indptr[i+1]``) is J_ij for
        j = ``lattice.indices[k]``, the influence of j on i (asymmetric).
        Stored sparse; see :class:`KineticIsing`.
        """
        from scipy import sparse
        if not isinstance(lattice, Lattice):
            raise TypeError(f"lattice must be a kadanoff Lattice, got {type(lattice).__name__}")
        n_entries = len(lattice.indices)
        arr = np.asarray(J, dtype=np.float64) if not isinstance(J, bool) else None
        if arr is None or not (arr.ndim == 0 or arr.shape in ((lattice.n_bonds,), (n_entries,))):
            raise ValueError(f"J must be a scalar, one value per bond ({lattice.n_bonds}) or one "
                             f"per directed CSR entry ({n_entries}), got {J!r}")
        if arr.ndim == 0 or arr.shape == (lattice.n_bonds,):
            data = lattice.entry_values(np.broadcast_to(arr, (lattice.n_bonds,)))
        else:
            data = arr
        rows = np.repeat(np.arange(lattice.n_sites), lattice.degree)
        M = sparse.csr_matrix((data, (rows, np.asarray(lattice.indices))),
                              shape=(lattice.n_sites, lattice.n_sites))
        model = cls(M, h)
        model._kind = "lattice"
        return model

    def check_algorithm(self, algorithm):
        if isinstance(algorithm, str):
            name = algorithm.strip().lower().replace("_", "-")
            alias = {"heatbath": "glauber", "heat-bath": "glauber", "sequential": "glauber",
                     "synchronous": "parallel"}
            if alias.get(name, name) in self.algorithms:
                return alias.get(name, name)
        return super().check_algorithm(algorithm)

    def random_state(self, generator):
        return random_spins(generator, self.n_sites)

    def check_state(self, state):
        return check_spins(state, self.n_sites)

    def params(self):
        sym = bool((abs(self.J - self.J.T) > 0).nnz == 0) if self._csr is not None \
            else bool(np.array_equal(self.J, self.J.T))
        return {"model": "KineticIsing", "couplings": self._kind, "N": self.n_sites,
                "symmetric": sym, "P": len(self.patterns),
                "h": float(self._h_user) if np.ndim(self._h_user) == 0 else "per-site"}

    def updater(self, algorithm, beta, **options):
        algorithm = self.check_algorithm(algorithm)
        flag = _options(algorithm, options, ("entropy_map",))
        return _KineticUpdater(self, beta, algorithm, flag)

    def observables_from_raw(self, raw):
        X = raw["X"]
        n = self.n_sites
        m = X[:, 0] / n
        out = {"m": m, "abs_m": np.abs(m), "entropy": X[:, 1] / n}
        if len(self.patterns):
            out["overlap"] = raw["overlap"]
        return _entropy_observables(self, raw, out)


class _KineticUpdater(_DrivenUpdater):
    n_cols = 2
    per_sweep = (1,)

    def __init__(self, model, beta, algorithm, entropy_map):
        super().__init__(model, beta, entropy_map)
        self.algorithm = algorithm
        P = len(model.patterns)
        if P:
            self.raw_names = self.raw_names + ("overlap",)
            self.raw_shapes = {**self.raw_shapes, "overlap": (P,)}
        self._fields = np.zeros((3, model.n_sites))
        self._no_overlap = np.zeros((0, 0))

    def _call(self, state, rng_state, n_measure, every, raw, smap):
        m = self.model
        ov = raw.get("overlap", self._no_overlap)
        if m._csr is not None:
            method = _METROPOLIS if self.algorithm == "metropolis" else _HEATBATH
            ip, ix, dv = m._csr
            _kernel().kinetic_csr_run(state, ip, ix, dv, m.h, self.beta, method,
                                      self.algorithm == "parallel", rng_state, n_measure, every,
                                      m.patterns, raw["X"], ov, smap, self._fields)
        elif self.algorithm == "parallel":
            _kernel().kinetic_par_run(state, m.J, m.h, self.beta, rng_state, n_measure, every,
                                      m.patterns, raw["X"], ov, smap, self._fields)
        else:
            method = _METROPOLIS if self.algorithm == "metropolis" else _HEATBATH
            _kernel().kinetic_seq_run(state, m.J, m.h, self.beta, method, rng_state, n_measure,
                                      every, m.patterns, raw["X"], ov, smap, self._fields)

    def info(self):
        return {"entropy_map": self.entropy_map,
                "selection": "synchronous" if self.algorithm == "parallel"
                else "random-sequential"}


# ---------------------------------------------------------------------------
# pictures
# ---------------------------------------------------------------------------
def plot_entropy_map(res_or_map, lattice, *, ax=None, direction=None, cmap="magma"):
    """Draw the local entropy production of a 2D lattice model.

    ``res_or_map``: Results with ``entropy_map`` (its mean is used) or an
    array (N, n_dir). ``direction``: a column (bond axis / bath), or None for
    the sum over columns (the EPR attributed to each site). Returns the
    image. Sites are drawn with x horizontal (the drive axis of KLS).
    """
    import matplotlib.pyplot as plt

    from ..results import Results
    emap = res_or_map.mean("entropy_map") if isinstance(res_or_map, Results) \
        else np.asarray(res_or_map, dtype=float)
    if lattice.shape is None or len(lattice.shape) != 2:
        raise ValueError("plot_entropy_map draws 2D lattices (square) only")
    if emap.ndim != 2 or emap.shape[0] != lattice.n_sites:
        raise ValueError(f"the entropy map must have shape ({lattice.n_sites}, n_dir), "
                         f"got {emap.shape}")
    if direction is None:
        field = emap.sum(axis=1)
    else:
        if not 0 <= direction < emap.shape[1]:
            raise ValueError(f"direction must be in [0, {emap.shape[1]}), got {direction}")
        field = emap[:, direction]
    Lx, Ly = lattice.shape
    img = field.reshape(Ly, Lx)                     # site x + Lx y
    if ax is None:
        _, ax = plt.subplots()
    im = ax.imshow(img, origin="lower", cmap=cmap, interpolation="nearest")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    return im
