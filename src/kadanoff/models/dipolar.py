r"""The six-state clock model with long-range dipolar interaction between
emergent Ising dipoles (Simmons, Lin & Chern, arXiv:2412.09550).

.. math::

    H = -J \sum_{\langle ij\rangle} \cos(\theta_i - \theta_j)
        + D \sum_{i<j} \frac{\sigma_i \sigma_j}{r_{ij}^3},
    \qquad \theta_i = \frac{2\pi n_i}{6},\quad \sigma_i = (-1)^{n_i}

on a periodic two-dimensional Bravais lattice (the triangular lattice of the
paper; the square lattice also works), the dipolar sum running over all
pairs and all periodic images (Ewald summation, see :func:`dipolar_kernel`).

Public names: :class:`DipolarClock`, :func:`dipolar_kernel`,
:func:`image_sum`, :func:`structure_factor`, :func:`plot_structure_factor`,
:func:`plot_snapshot`.
"""
from __future__ import annotations

import math
import numbers

import numpy as np
from scipy.special import erfc

from .. import _dipolar, _spin
from ..lattice import Lattice
from .base import Model, Updater, check_discrete_states
from .spin import _check_options, _Observables

__all__ = ["DipolarClock", "dipolar_kernel", "image_sum", "plot_snapshot",
           "plot_structure_factor", "structure_factor"]

Q = 6
_METROPOLIS, _HEATBATH = 0, 1
_SUPPORTED = ("square", "triangular")
_A1 = (1.0, 0.0)                       # triangular primitive vectors (kd.lattice.triangular)
_A2 = (0.5, math.sqrt(3) / 2)


# ---------------------------------------------------------------- lattice sums

def _geometry(lattice):
    """(Lx, Ly, a1, a2) of a supported lattice, or ValueError."""
    if not isinstance(lattice, Lattice):
        raise TypeError("lattice must be a kadanoff Lattice (e.g. kd.lattice.triangular(24)), "
                        f"got {type(lattice).__name__}")
    if lattice.name not in _SUPPORTED or lattice.shape is None or len(lattice.shape) != 2:
        raise ValueError("the dipolar lattice sum needs a periodic 2D Bravais lattice with one "
                         f"site per cell: kd.lattice.triangular(L) or kd.lattice.square(L); got "
                         f"{lattice.name!r}")
    if not lattice.periodic:
        raise ValueError("the dipolar lattice sum (Ewald) needs periodic boundaries; got an "
                         "open lattice (use periodic=True)")
    Lx, Ly = lattice.shape
    if Lx != Ly:
        raise ValueError(f"DipolarClock needs an L x L lattice (the stripe order parameter uses "
                         f"the lattice's point symmetry), got shape {lattice.shape}")
    if lattice.name == "square":
        a1, a2 = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    else:
        a1, a2 = np.array([1.0, 0.0]), np.array([0.5, math.sqrt(3) / 2])
    return Lx, Ly, a1, a2


def _check_basis(Lx, Ly, a1, a2):
    for name, v in (("Lx", Lx), ("Ly", Ly)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    a1 = np.asarray(a1, dtype=float)
    a2 = np.asarray(a2, dtype=float)
    if a1.shape != (2,) or a2.shape != (2,) or not np.all(np.isfinite([a1, a2])):
        raise ValueError("a1, a2 must be finite 2-vectors")
    if abs(a1[0] * a2[1] - a1[1] * a2[0]) < 1e-12:
        raise ValueError("a1, a2 must be linearly independent")
    return int(Lx), int(Ly), a1, a2


def _displacements(Lx, Ly, a1, a2):
    """Real-space vectors r(dx, dy) = dx a1 + dy a2, shape (Lx, Ly, 2)."""
    dx, dy = np.meshgrid(np.arange(Lx), np.arange(Ly), indexing="ij")
    return dx[..., None] * a1 + dy[..., None] * a2


def dipolar_kernel(Lx, Ly, a1=_A1, a2=_A2, *, alpha=None,
                   tol=1e-15) -> np.ndarray:
    r"""Periodic lattice sum of 1/r^3 for every displacement, by Ewald summation.

    .. math::

        K(\mathbf r) = {\sum_{\mathbf R}}' \frac{1}{|\mathbf r + \mathbf R|^3},
        \qquad \mathbf R = m L_x \mathbf a_1 + n L_y \mathbf a_2,

    for r = dx a1 + dy a2 (dx < Lx, dy < Ly); the prime omits the term
    r + R = 0, so K(0) is the interaction of a dipole with its own periodic
    images. Returns an array of shape (Lx, Ly) indexed [dx, dy].

    The sum converges absolutely (the tail beyond radius R_c is
    2 pi / (A R_c), A = Lx Ly |a1 x a2| the supercell area), so there is no
    shape-dependent surface term. With 1/r^3 = (2/sqrt(pi)) int_0^inf
    t^{1/2} exp(-r^2 t) dt split at t = alpha^2 and Poisson summation of the
    Gaussian part::

        K(r) = sum_R [erfc(alpha rho) + (2 alpha rho / sqrt(pi)) exp(-alpha^2 rho^2)] / rho^3
               (rho = |r + R|, the term rho = 0 omitted)
             + (2 sqrt(pi) / A) sum_G cos(G . r) [2 alpha exp(-G^2 / 4 alpha^2)
                                                  - sqrt(pi) |G| erfc(|G| / 2 alpha)]
             - [r = 0] 4 alpha^3 / (3 sqrt(pi))

    with G the reciprocal vectors of the supercell (G = 0 gives 4 sqrt(pi)
    alpha / A). Both sums are cut where their terms fall below ``tol``;
    the result does not depend on alpha (tested). See :func:`image_sum` for
    the brute-force check.
    """
    Lx, Ly, a1, a2 = _check_basis(Lx, Ly, a1, a2)
    A1, A2 = Lx * a1, Ly * a2
    area = abs(A1[0] * A2[1] - A1[1] * A2[0])
    if alpha is None:
        alpha = math.sqrt(math.pi / area)       # balances the two sums
    r = _displacements(Lx, Ly, a1, a2).reshape(-1, 2)
    # real space: images until erfc(alpha rho) ~ tol
    rc = 6.0 / alpha                  # erfc(6) * (...) ~ 2e-17 relative
    hmin = area / max(np.linalg.norm(A1), np.linalg.norm(A2))   # smaller supercell height
    n_img = math.ceil(rc / hmin) + 1
    real = np.zeros(len(r))
    for m in range(-n_img, n_img + 1):
        for n in range(-n_img, n_img + 1):
            v = r + m * A1 + n * A2
            rho = np.hypot(v[:, 0], v[:, 1])
            ok = (rho > 1e-12) & (rho < rc + np.linalg.norm(A1 + A2))
            x = alpha * rho[ok]
            real[ok] += (erfc(x) + 2.0 / math.sqrt(math.pi) * x * np.exp(-x * x)) / rho[ok] ** 3
    # reciprocal space
    B = 2 * np.pi * np.linalg.inv(np.stack([A1, A2])).T       # rows b1, b2: Ai . bj = 2 pi d_ij
    gc = 2 * alpha * 6.5                                       # exp(-42), erfc(6.5)
    bmin = (2 * np.pi) / max(np.linalg.norm(A1), np.linalg.norm(A2))
    n_g = math.ceil(gc / bmin * 1.2) + 1
    recip = np.full(len(r), 4 * math.sqrt(math.pi) * alpha / area)
    for m in range(-n_g, n_g + 1):
        for n in range(-n_g, n_g + 1):
            if m == 0 and n == 0:
                continue
            G = m * B[0] + n * B[1]
            g = math.hypot(*G)
            if g > gc:
                continue
            w = (2 * math.sqrt(math.pi) / area) * (
                2 * alpha * math.exp(-g * g / (4 * alpha * alpha))
                - math.sqrt(math.pi) * g * math.erfc(g / (2 * alpha)))
            recip += w * np.cos(r @ G)
    K = real + recip
    K[0] -= 4 * alpha ** 3 / (3 * math.sqrt(math.pi))
    return K.reshape(Lx, Ly)


def image_sum(Lx, Ly, a1=_A1, a2=_A2, *, shells=200,
              tail=True) -> np.ndarray:
    """Brute-force periodic sum of 1/r^3 over the images |m|, |n| <= ``shells``
    inside the disc of radius shells * (smaller supercell height), shape
    (Lx, Ly) like :func:`dipolar_kernel`. ``tail=True`` adds the continuum
    estimate 2 pi / (A R_c) of the images beyond the disc (A the supercell
    area), which makes the error O(1/R_c^2) instead of O(1/R_c). For checks
    only: it costs O(N shells^2)."""
    Lx, Ly, a1, a2 = _check_basis(Lx, Ly, a1, a2)
    A1, A2 = Lx * a1, Ly * a2
    area = abs(A1[0] * A2[1] - A1[1] * A2[0])
    hmin = area / max(np.linalg.norm(A1), np.linalg.norm(A2))
    rc = shells * hmin
    r = _displacements(Lx, Ly, a1, a2).reshape(-1, 2)
    m = np.arange(-shells, shells + 1)
    M, N = np.meshgrid(m, m, indexing="ij")
    R = M.ravel()[:, None] * A1 + N.ravel()[:, None] * A2
    R = R[np.hypot(R[:, 0], R[:, 1]) <= rc]
    out = np.zeros(len(r))
    for k, v in enumerate(r):
        w = v + R
        rho2 = w[:, 0] ** 2 + w[:, 1] ** 2
        rho2 = rho2[rho2 > 1e-24]
        out[k] = np.sum(rho2 ** -1.5)
    if tail:
        out += 2 * np.pi / (area * rc)
    return out.reshape(Lx, Ly)


# ---------------------------------------------------------------- model

def _check_real(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")  # noqa: TRY004
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    return value


class DipolarClock(Model):
    r"""Six-state clock model with dipolar coupling of its emergent Ising dipoles.

    .. math::

        H = -J \sum_{\langle ij\rangle} \cos(\theta_i - \theta_j)
            + \frac{D}{2} \sum_{i \ne j} K(\mathbf r_i - \mathbf r_j)\,
              \sigma_i \sigma_j + \frac{D}{2} N K(0),

    with theta_i = 2 pi n_i / 6, n_i in {0, ..., 5}, and the emergent Ising
    dipole sigma_i = (-1)^{n_i} (even clock states carry an up, odd states a
    down polarisation). K(r) is the periodic lattice sum of 1/r^3
    (:func:`dipolar_kernel`, Ewald, computed once), so the second term is
    D sum_{i<j} sigma_i sigma_j / r_ij^3 over all pairs *and* all periodic
    images, in units of the lattice spacing; the last term (each dipole with
    its own images) is a constant. D > 0 is the antiferro-like dipolar
    coupling of parallel out-of-plane dipoles, which frustrates the clock
    ferromagnet and produces stripes.

    Relation to the paper (Simmons, Lin & Chern, arXiv:2412.09550): ``J`` is
    their nearest-neighbour clock coupling and ``D`` their dipolar strength
    multiplying sigma_i sigma_j / r_ij^3 (k_B = 1, lattice constant 1, the
    triangular lattice of the hexagonal manganites). The full text of the
    paper was not available while this was written: the Hamiltonian above
    is reconstructed from its abstract (clock coupling, sigma = (-1)^n,
    1/r^3 between all pairs, three-fold degenerate stripe ground state,
    which fixes the triangular lattice); normalisation conventions of the
    paper may differ by constant factors, and its D/J was not available.
    ``examples/dipolar_clock_phases.py`` uses D/J = 0.1, whose stripe
    period (12 rows) fits L = 36 and which shows the abstract's phase
    sequence.

    Parameters
    ----------
    lattice : kd.lattice.triangular(L) or kd.lattice.square(L), periodic, L x L
    J : float
        Clock coupling (ferromagnetic for J > 0).
    D : float
        Dipolar strength (D > 0: antiparallel dipoles preferred).
    stripe_period : int, optional
        Period p (in lattice rows, even) of the stripe wave vectors used by
        the ``stripe`` observable; default: the period of the lowest-energy
        straight-stripe state compatible with L (:meth:`stripe_energies`),
        2 when D = 0 or when no even p divides L. A p that does not divide L
        gives wave vectors off the lattice's FFT grid (allowed, e.g. for tiny
        test lattices; psi of an ideal stripe state is then not exactly 1).

    Algorithms
    ----------
    ``metropolis``: n_i -> one of the 5 other states, uniformly, accepted
    with min(1, exp(-beta dE)); ``heatbath``: n_i drawn from its exact
    conditional distribution over the 6 states. Both keep the dipolar field
    h_i = sum_{j != i} K(r_i - r_j) sigma_j, so a proposal costs O(z + 1)
    and an accepted change of sigma_i costs one O(N) vectorised update of h
    (parity-preserving moves n -> n +- 2 do not touch it). The field is
    recomputed from scratch (FFT) at the start of every kernel call (and
    not kept at all when D = 0), so
    replacing the state (``sim.state = ...``, parallel-tempering swaps) is
    safe. Option ``sweep="ordered"`` (default: sites in index order) or
    ``"random"`` (N random sites). Option ``structure_factor=True`` records
    ``sq`` after every measurement (an (L, L) array each; memory!).
    A sweep is N single-site updates.

    Observables (per site)
    ----------------------
    ``e`` = H / N; ``e_dip`` = dipolar part of H / N; ``m`` the clock
    magnetisation vector (1/N) sum_i (cos theta_i, sin theta_i), shape (n, 2);
    ``abs_m``, ``m2``, ``m4``; ``cos_q_phi`` = cos(6 phi), phi the angle of
    ``m`` (+1: m along a clock state, -1: m halfway between two adjacent
    states, as in the stripe phase); ``helicity``: the helicity modulus
    estimator of the clock bonds (as ``kd.Clock``; the dipolar term depends
    on the parities only and does not enter); ``m2_k`` = |M(k_min)|^2;
    ``sigma`` = (1/N) sum_i sigma_i (net polarisation);
    ``stripe``: the stripe order parameter

    .. math::

        \psi = \frac{1}{c_p N}\Big(\sum_{a} |\tilde\sigma(\mathbf Q_a)|^2\Big)^{1/2},
        \qquad \tilde\sigma(\mathbf q) = \sum_i \sigma_i e^{-i \mathbf q\cdot\mathbf r_i},

    over the stripe wave vectors Q_a = (2 pi / p) b_a of stripes of period
    p running along the lattice directions: b_a the three reciprocal
    vectors of the triangular lattice that are normal to a1, a2 and a2 - a1
    (two, normal to a1 and a2, on the square lattice). In cell coordinates
    Q_a . r = 2 pi (y / p, x / p, (x + y) / p). c_p normalises psi to 1 in
    the ideal stripe state of period p (bands of p/2 rows with sigma = +1,
    p/2 with -1), so psi -> 1 in the stripe-ordered phase and psi =
    O(N^{-1/2}) in the paramagnet and in the maze (stripe liquid), whose
    weight is spread over a ring of wave vectors; ``stripe2`` = psi^2 and
    ``stripe4`` = psi^4 (Binder cumulant); c_p = 2 / (p sin(pi / p)). ``sq`` (option): the dipole
    structure factor S(q) = |sigma~(q)|^2 / N on the FFT grid
    q = (2 pi k1 / L) b1 + (2 pi k2 / L) b2, array [k1, k2].
    """

    algorithms = ("metropolis", "heatbath")
    observables = ("e", "e_dip", "m", "abs_m", "m2", "m4", "cos_q_phi", "helicity", "m2_k",
                   "sigma", "stripe", "stripe2", "stripe4")
    q = Q

    def __init__(self, lattice, J=1.0, D=1.0, *, stripe_period=None):
        Lx, Ly, a1, a2 = _geometry(lattice)
        self.lattice = lattice
        self.n_sites = lattice.n_sites
        self.L = Lx
        self.J = _check_real(J, "J")
        self.D = _check_real(D, "D")
        self._a = (a1, a2)
        # clock part: the tables of kd.Clock(q=6), no field
        k = np.arange(Q)
        c = np.cos(2 * np.pi * k / Q)
        s = np.sin(2 * np.pi * k / Q)
        c = 0.5 * (c + c[-k % Q])
        s = 0.5 * (s - s[-k % Q])
        diff = (k[:, None] - k[None, :]) % Q
        self._V = np.stack([c, s], axis=1)
        self._C = np.ascontiguousarray(c[diff])
        self._weights = np.full(len(lattice.indices), self.J)
        self._obs = _Observables(self, q=Q, K=self._C, KS=s[diff], hf=np.zeros((1, Q)),
                                 V=self._V, d=2, helicity=True)
        # dipolar part
        self.kernel = dipolar_kernel(Lx, Ly, a1, a2)            # [dx, dy]
        self.self_energy = 0.5 * self.n_sites * self.kernel[0, 0]   # (1/2) N K(0), times D
        kf = self.kernel.copy()
        kf[0, 0] = 0.0
        self._kfield_hat = np.fft.rfft2(kf.T)                    # grid [y, x]
        idx_x = (np.arange(2 * Lx) - Lx) % Lx
        idx_y = (np.arange(2 * Ly) - Ly) % Ly
        self._K2 = np.ascontiguousarray(kf.T[np.ix_(idx_y, idx_x)])   # [dy + Ly, dx + Lx]
        # stripe wave vectors
        self._n_stripe = 3 if lattice.name == "triangular" else 2
        if stripe_period is None:
            energies = self.stripe_energies()
            stripe_period = min(energies, key=energies.get) if energies else 2
        self.stripe_period = self._check_period(stripe_period)
        self._stripe_phase, self._c_p = self._stripe_tables(self.stripe_period)

    # -- geometry helpers --------------------------------------------------
    def _grid(self, values):
        """Per-site values as an [x, y] grid (site index x + L y)."""
        return np.asarray(values).reshape(self.L, self.L).T

    def _check_period(self, p):
        if isinstance(p, bool) or not isinstance(p, numbers.Integral) or p < 2 or p % 2:
            raise ValueError(f"stripe_period must be an even integer >= 2, got {p!r}")
        return int(p)

    def _stripe_profiles(self, p):
        """The ideal stripe state of period p along each stripe direction, (n_dir, N)."""
        cells = self.lattice.cells
        x, y = cells[:, 0], cells[:, 1]
        coords = [y, x, x + y][:self._n_stripe]
        return np.array([np.where((c % p) < p // 2, 1, -1) for c in coords])

    def _stripe_tables(self, p):
        cells = self.lattice.cells
        x, y = cells[:, 0], cells[:, 1]
        coords = [y, x, x + y][:self._n_stripe]
        rows = []
        for c in coords:
            arg = 2 * np.pi * c / p
            rows += [np.cos(arg), np.sin(arg)]
        phase = np.ascontiguousarray(rows, dtype=np.float64)
        # |sigma~(Q)| / N of the ideal square-wave stripe state (p/2 rows up, p/2 down)
        c_p = 2.0 / (p * math.sin(math.pi / p))
        return phase, c_p

    def stripe_energies(self) -> dict:
        """Energy per site of the ideal straight-stripe states, {period p: e}.

        The stripe state of period p (p even, p | L) has bands of p/2 rows
        with n = 0 and p/2 rows with n = 1 (adjacent clock states: the
        cheapest clock domain wall, J (1 - cos 60) = J/2 per broken bond;
        sigma = +1 / -1). p = L would be no stripe; the uniform state (all
        n = 0) is listed under the key 0. Used to choose the default
        ``stripe_period``.
        """
        out = {0: self.energy(np.zeros(self.n_sites, dtype=np.int8)) / self.n_sites}
        for p in range(2, self.L + 1, 2):
            if self.L % p:
                continue
            prof = self._stripe_profiles(p)[0]
            state = np.where(prof > 0, 0, 1).astype(np.int8)
            out[p] = self.energy(state) / self.n_sites
        if self.D == 0:
            return {p: e for p, e in out.items() if p == 2}
        return {p: e for p, e in out.items() if p != 0}

    # -- configurations ------------------------------------------------------
    def random_state(self, generator: np.random.Generator) -> np.ndarray:
        """Infinite-temperature configuration: independent uniform n_i in 0..5."""
        return generator.integers(0, Q, size=self.n_sites, dtype=np.int8)

    def check_state(self, state) -> np.ndarray:
        return check_discrete_states(state, self.n_sites, Q)

    # -- physics -------------------------------------------------------------
    @staticmethod
    def dipoles(state) -> np.ndarray:
        """sigma_i = (-1)^{n_i} as float64."""
        return 1.0 - 2.0 * (np.asarray(state) & 1)

    def field(self, state) -> np.ndarray:
        """Dipolar field h_i = sum_{j != i} K(r_i - r_j) sigma_j (FFT convolution; K
        is translation invariant, so this is exact up to rounding)."""
        sig = self.dipoles(self.check_state(state)).reshape(self.L, self.L)   # [y, x]
        h = np.fft.irfft2(np.fft.rfft2(sig) * self._kfield_hat, s=sig.shape)
        return np.ascontiguousarray(h.ravel())

    def dipolar_energy(self, state) -> float:
        """D [ (1/2) sum_{i != j} K(r_i - r_j) sigma_i sigma_j + (1/2) N K(0) ]."""
        if self.D == 0:
            return 0.0
        sig = self.dipoles(self.check_state(state))
        return float(self.D * (0.5 * sig @ self.field(state) + self.self_energy))

    def clock_energy(self, state) -> float:
        """-J sum_<ij> cos(theta_i - theta_j)."""
        s = self.check_state(state)
        i, j = self.lattice.edges[:, 0], self.lattice.edges[:, 1]
        return float(-self.J * np.sum(self._C[s[i], s[j]]))

    def energy(self, state) -> float:
        """Total energy H of a configuration (O(N log N))."""
        return self.clock_energy(state) + self.dipolar_energy(state)

    def measure(self, state, T=None, *, beta=None) -> dict:
        """All observables of one configuration (``beta`` matters for ``helicity``)."""
        from ..simulation import check_temperature
        beta = check_temperature(T, beta) if (T is not None or beta is not None) else 1.0
        s = self.check_state(state)
        X = np.zeros((1, 6))
        Y = np.zeros((1, 2 + self._n_stripe))
        _spin.measure_discrete_state(s, self._obs, beta, X[0])
        h = self.field(s)
        sig = self.dipoles(s)
        Y[0, 0] = sig @ h
        Y[0, 1] = sig.sum()
        ph = self._stripe_phase
        for a in range(self._n_stripe):
            Y[0, 2 + a] = (sig @ ph[2 * a]) ** 2 + (sig @ ph[2 * a + 1]) ** 2
        out = self.observables_from_raw({"X": X, "Y": Y, "sq": self.structure_factor(s)[None]})
        return {k: v[0] for k, v in out.items()}

    def structure_factor(self, state) -> np.ndarray:
        """S(q) = |sum_i sigma_i exp(-i q . r_i)|^2 / N of one configuration, on
        the FFT grid q = (2 pi / L)(k1 b1 + k2 b2), array [k1, k2] (k = 0 first;
        np.fft.fftshift centres it)."""
        sig = self._grid(self.dipoles(self.check_state(state)))
        return np.abs(np.fft.fft2(sig)) ** 2 / self.n_sites

    def params(self) -> dict:
        return {"model": "DipolarClock", "q": Q, "J": self.J, "D": self.D,
                "stripe_period": self.stripe_period, "lattice": self.lattice.describe()}

    def observables_from_raw(self, raw: dict) -> dict:
        X, Y = raw["X"], raw["Y"]
        n = self.n_sites
        mvec = X[:, 1:3] / n
        m2 = np.einsum("ij,ij->i", mvec, mvec)
        phi = np.arctan2(mvec[:, 1], mvec[:, 0])
        e_dip = self.D * (0.5 * Y[:, 0] + self.self_energy) / n
        stripe2 = Y[:, 2:].sum(axis=1) / (n * self._c_p) ** 2
        out = {"e": X[:, 0] / n + e_dip, "e_dip": e_dip, "m": mvec, "abs_m": np.sqrt(m2),
               "m2": m2, "m4": m2 * m2, "cos_q_phi": np.cos(Q * phi),
               "helicity": X[:, 4] / n, "m2_k": X[:, 3] / (2 * n * n),
               "sigma": Y[:, 1] / n, "stripe": np.sqrt(stripe2), "stripe2": stripe2,
               "stripe4": stripe2 * stripe2}
        if "sq" in raw:
            out["sq"] = raw["sq"]
        return out

    # -- algorithms ----------------------------------------------------------
    def updater(self, algorithm: str, beta: float, **options) -> Updater:
        algorithm = self.check_algorithm(algorithm)
        _check_options(algorithm, options, ("sweep", "structure_factor"))
        return _DipolarLocal(self, beta, algorithm, **options)


class _DipolarLocal(Updater):
    """Metropolis or heat-bath sweeps with the incrementally updated dipolar field."""

    def __init__(self, model, beta, algorithm, sweep="ordered", structure_factor=False,
                 naive=False):
        self.model = model
        self.beta = beta
        self.method = _METROPOLIS if algorithm == "metropolis" else _HEATBATH
        if sweep not in ("ordered", "random"):
            raise ValueError(f"sweep must be 'ordered' (sites in index order) or 'random' "
                             f"(random-site selection), got {sweep!r}")
        self.sweep = sweep
        if not isinstance(structure_factor, (bool, np.bool_)):
            raise ValueError(  # noqa: TRY004 - an option value, like sweep=
                f"structure_factor must be True or False, got {structure_factor!r}")
        self.record_sq = bool(structure_factor)
        self.naive = bool(naive)            # O(N) per proposal baseline (benchmarks, tests)
        self.raw_names = ("X", "Y", "sq") if self.record_sq else ("X", "Y")
        L = model.L
        self.raw_shapes = {"X": (6,), "Y": (2 + model._n_stripe,), "sq": (L, L)}
        self.field = np.zeros(model.n_sites)
        self.energy = None          # running total energy of the last state (bookkeeping)
        self.accepted = self.proposed = self.flips = 0

    def run(self, state, rng_state, n_measure, every, raw):
        m = self.model
        # the field of this state (D = 0: not needed, the kernel leaves it alone)
        self.field = m.field(state) if m.D != 0 else np.zeros(m.n_sites)
        energy = m.energy(state)
        # structure factor: one kernel call per measurement, S(q) from the state
        calls = [(n_measure, every)] if not self.record_sq or n_measure == 0 else \
            [(1, every)] * n_measure
        done = 0
        for nm, ev in calls:
            X = raw["X"][done:done + nm] if nm else np.zeros((1, 6))
            Y = raw["Y"][done:done + nm] if nm else np.zeros((1, 2 + m._n_stripe))
            acc, flips, dE = _dipolar.dipolar_run(
                state, self.field, m._K2, m.D, self.beta, self.method, self.sweep == "random",
                self.naive, m._obs, m._stripe_phase, rng_state, nm, ev, X, Y)
            energy += dE
            self.accepted += acc
            self.flips += flips
            self.proposed += m.n_sites * ev * max(nm, 1)
            if self.record_sq and nm:
                raw["sq"][done] = m.structure_factor(state)
            done += nm
        self.energy = energy

    def info(self):
        return {"sweep": self.sweep,
                "acceptance": self.accepted / self.proposed if self.proposed else None,
                "parity_flip_rate": self.flips / self.proposed if self.proposed else None}


# ---------------------------------------------------------------- analysis & pictures

def structure_factor(model, states) -> np.ndarray:
    """Mean S(q) = <|sigma~(q)|^2> / N over configurations (an (L, L) array
    [k1, k2], q = (2 pi / L)(k1 b1 + k2 b2)); ``states`` is one state or a
    sequence of states. For S(q) averaged along a run, pass
    ``structure_factor=True`` to the Simulation and average ``res["sq"]``."""
    states = np.asarray(states)
    if states.ndim == 1:
        states = states[None]
    return np.mean([model.structure_factor(s) for s in states], axis=0)


def _reciprocal(model):
    a1, a2 = model._a
    return 2 * np.pi * np.linalg.inv(np.stack([a1, a2])).T       # rows b1, b2


def _voronoi_cell(vectors) -> np.ndarray:
    """Corners of the Voronoi cell of a 2D lattice spanned by ``vectors`` (2 x 2),
    counter-clockwise, relative to the lattice point."""
    u, v = vectors
    cand = np.array([u, -u, v, -v, u + v, -u - v, u - v, v - u])
    length = np.hypot(cand[:, 0], cand[:, 1])
    near = cand[length < length.min() * (1 + 1e-9)]
    near = near[np.argsort(np.arctan2(near[:, 1], near[:, 0]))]
    corners = []
    for a, b in zip(near, np.roll(near, -1, axis=0)):
        # circumcentre of (0, a, b): |x|^2 = 2 x . a = 2 x . b
        M = 2 * np.array([a, b])
        corners.append(np.linalg.solve(M, [a @ a, b @ b]))
    return np.array(corners)


def plot_structure_factor(model, sq, ax=None, *, log=False, q_max=None, title=None):
    """Picture of S(q) (an (L, L) array from ``res["sq"].mean(0)`` or
    :func:`structure_factor`): every wave vector q = (k1 b1 + k2 b2) / L of the
    FFT grid drawn as its Voronoi cell (hexagons on the triangular lattice),
    repeated periodically over |q_x|, |q_y| <= ``q_max`` (default: the first
    Brillouin zone, 4 pi / 3 for the triangular lattice, pi for the square).
    ``log=True`` colours by log10 S(q). Returns the matplotlib Axes."""
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection
    sq = np.asarray(sq, dtype=float)
    L = model.L
    if sq.shape != (L, L):
        raise ValueError(f"sq must have shape ({L}, {L}), got {sq.shape}")
    B = _reciprocal(model)
    if q_max is None:
        q_max = 4 * np.pi / 3 if model.lattice.name == "triangular" else np.pi
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 4))
    cell = _voronoi_cell(B / L)
    reach = int(np.ceil(q_max / (np.min(np.hypot(*B.T)) / L) * 2)) + 2
    k = np.arange(-reach, reach + 1)
    k1, k2 = np.meshgrid(k, k, indexing="ij")
    q = (k1[..., None] * B[0] + k2[..., None] * B[1]) / L
    keep = (np.abs(q[..., 0]) <= q_max + 1e-9) & (np.abs(q[..., 1]) <= q_max + 1e-9)
    centres = q[keep]
    vals = sq[k1[keep] % L, k2[keep] % L]
    if log:
        vals = np.log10(np.maximum(vals, 1e-3))
    coll = PolyCollection(centres[:, None, :] + cell[None], array=vals, cmap="magma",
                          edgecolors="none")
    ax.add_collection(coll)
    ax.set_xlim(-q_max, q_max)
    ax.set_ylim(-q_max, q_max)
    ax.set_aspect("equal")
    ax.set_xlabel("$q_x$")
    ax.set_ylabel("$q_y$")
    plt.colorbar(coll, ax=ax, label="log10 S(q)" if log else "S(q)", shrink=0.8)
    if title:
        ax.set_title(title)
    return ax


def plot_snapshot(model, state, ax=None, *, field="clock", title=None):
    """Picture of one configuration at the real site positions: ``field="clock"``
    colours each site by its clock state n_i (a cyclic colour map, arrows
    would be too small), ``"dipole"`` by sigma_i = (-1)^n_i (red +1, blue -1).
    Returns the matplotlib Axes."""
    import matplotlib.pyplot as plt
    if field not in ("clock", "dipole"):
        raise ValueError(f"field must be 'clock' or 'dipole', got {field!r}")
    s = model.check_state(state)
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4))
    xy = model.lattice.coords
    # marker area from the axes' width in points and the extent of the sites
    fig = ax.figure
    width_pt = ax.get_position().width * fig.get_figwidth() * 72
    extent = max(np.ptp(xy[:, 0]), np.ptp(xy[:, 1])) + 1.0
    size = (1.15 * width_pt / extent) ** 2
    marker = "h" if model.lattice.name == "triangular" else "s"
    if field == "clock":
        sc = ax.scatter(xy[:, 0], xy[:, 1], c=s, cmap="hsv", vmin=-0.5, vmax=5.5, s=size,
                        marker=marker, linewidths=0)
        cb = plt.colorbar(sc, ax=ax, ticks=range(6), shrink=0.8)
        cb.set_label("clock state n")
    else:
        ax.scatter(xy[:, 0], xy[:, 1], c=model.dipoles(s), cmap="coolwarm", vmin=-1.6,
                   vmax=1.6, s=size, marker=marker, linewidths=0)
    ax.set_aspect("equal")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax
