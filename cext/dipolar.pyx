# Local updates of the six-state clock model with long-range dipolar coupling
# between the emergent Ising dipoles sigma_i = (-1)^{n_i} (kadanoff.models.dipolar).
#
#   H = -sum_<ij> J_ij cos(2 pi (n_i - n_j) / 6) + (D / 2) sum_{i != j} K(r_i - r_j) sigma_i sigma_j
#
# K is the periodic lattice sum of 1 / r^3 (Ewald, computed once in Python).
# The kernel keeps the dipolar field h_i = sum_{j != i} K(r_i - r_j) sigma_j up
# to date, so a proposal n_i -> n' costs O(z) (clock bonds) + O(1) (dipolar):
#   dE_dip = D (sigma' - sigma_i) h_i       (0 when n' has the parity of n_i)
# and an accepted parity change adds (sigma' - sigma_i) K(r_j - r_i) to every
# h_j: one O(N) pass over a contiguous, vectorisable row per lattice row.
#
# Geometry: sites are x + Lx y (cells of a periodic Bravais lattice).  The
# field table arrives doubled, K2[(dy + Ly), (dx + Lx)] = K(dx, dy) for
# dx in (-Lx, Lx), dy in (-Ly, Ly) (shape (2 Ly, 2 Lx), K(0, 0) = 0), so the
# row of site (xi, yi) at lattice row y is the contiguous slice
# K2[y - yi + Ly, Lx - xi : 2 Lx - xi] -- no modulo in the inner loop.
#
# With D = 0 the field is not needed and not updated (the plain clock model).
#
# A sweep is N single-site updates: sites 0 .. N-1 in index order, or N
# uniformly drawn sites (random_sites).  Each step satisfies detailed balance:
#   metropolis: n' uniform among the 5 other states, accept min(1, exp(-beta dE))
#   heatbath  : n' drawn from the exact conditional over the 6 states
from libc.stdint cimport uint64_t, int32_t
from libc.math cimport exp, cos, sin

from rng cimport next_double, next_index
from observe cimport Tables, tables_from, measure_discrete

cdef enum:
    METROPOLIS = 0
    HEATBATH = 1
    Q = 6


cdef inline void _add_row(double* h, const double* K2, Py_ssize_t Lx, Py_ssize_t Ly,
                          Py_ssize_t xi, Py_ssize_t yi, double ds) noexcept nogil:
    """h_j += ds K(r_j - r_i) for every site j (i = xi + Lx yi; K(0) = 0)."""
    cdef Py_ssize_t x, y
    cdef double* hrow
    cdef const double* krow
    for y in range(Ly):
        hrow = h + y * Lx
        krow = K2 + (y - yi + Ly) * 2 * Lx + (Lx - xi)
        for x in range(Lx):
            hrow[x] += ds * krow[x]


cdef inline double _field_at(const signed char* s, const double* K2, Py_ssize_t Lx,
                             Py_ssize_t Ly, Py_ssize_t xi, Py_ssize_t yi) noexcept nogil:
    """h_i = sum_j K(r_i - r_j) sigma_j from scratch (the naive O(N) recomputation)."""
    cdef Py_ssize_t x, y
    cdef const double* krow
    cdef const signed char* srow
    cdef double acc = 0.0
    for y in range(Ly):
        srow = s + y * Lx
        krow = K2 + (y - yi + Ly) * 2 * Lx + (Lx - xi)
        for x in range(Lx):
            acc += krow[x] * (1 - 2 * (srow[x] & 1))
    return acc


cdef inline double _clock_local(const signed char* s, Py_ssize_t i, const int32_t* indptr,
                                const int32_t* indices, const double* weights,
                                const double* C, int a) noexcept nogil:
    """sum_j J_ij cos(theta_a - theta_j) over the bonds of i (C[a * 6 + b] = cos)."""
    cdef Py_ssize_t k
    cdef double acc = 0.0
    for k in range(indptr[i], indptr[i + 1]):
        acc += weights[k] * C[a * Q + s[indices[k]]]
    return acc


cdef inline int _site(signed char* s, double* h, Py_ssize_t i, const Tables* t,
                      const double* K2, Py_ssize_t Lx, Py_ssize_t Ly, double D, double beta,
                      int method, bint naive, double* dE, uint64_t* st) noexcept nogil:
    """One update of site i; returns 0 (rejected or unchanged), 1 (accepted, same
    parity) or 3 (accepted, sigma_i flipped)."""
    cdef int old = s[i], new, a, accept, flip
    cdef Py_ssize_t xi = i % Lx, yi = i // Lx
    cdef double x[Q]
    cdef double hi, xmax, total, u, cum, de
    cdef int sig_old = 1 - 2 * (old & 1)
    if naive:
        hi = _field_at(s, K2, Lx, Ly, xi, yi)
    else:
        hi = h[i]
    if method == HEATBATH:
        # log-weights beta (sum_j J_ij cos(theta_a - theta_j) - D sigma_a h_i)
        for a in range(Q):
            x[a] = beta * (_clock_local(s, i, t.indptr, t.indices, t.weights, t.K, a)
                           - D * (1 - 2 * (a & 1)) * hi)
        xmax = x[0]
        for a in range(1, Q):
            if x[a] > xmax:
                xmax = x[a]
        total = 0.0
        for a in range(Q):
            x[a] = exp(x[a] - xmax)
            total += x[a]
        u = next_double(st) * total
        cum = 0.0
        new = 0
        for a in range(Q - 1):
            cum += x[a]
            new += cum <= u
        if new == old:
            return 0
        de = (_clock_local(s, i, t.indptr, t.indices, t.weights, t.K, old)
              - _clock_local(s, i, t.indptr, t.indices, t.weights, t.K, new))
    else:
        new = old + 1 + <int>next_index(st, Q - 1)
        if new >= Q:
            new -= Q
        de = (_clock_local(s, i, t.indptr, t.indices, t.weights, t.K, old)
              - _clock_local(s, i, t.indptr, t.indices, t.weights, t.K, new))
        if (new - old) & 1:
            de += -2.0 * D * sig_old * hi
        accept = de <= 0.0 or next_double(st) < exp(-beta * de)
        if not accept:
            return 0
        s[i] = <signed char>new
        dE[0] += de
        flip = (new - old) & 1
        if flip and not naive and D != 0.0:
            _add_row(h, K2, Lx, Ly, xi, yi, -2.0 * sig_old)
        return 1 + 2 * flip
    flip = (new - old) & 1
    if flip:
        de += -2.0 * D * sig_old * hi
    s[i] = <signed char>new
    dE[0] += de
    if flip and not naive and D != 0.0:
        _add_row(h, K2, Lx, Ly, xi, yi, -2.0 * sig_old)
    return 1 + 2 * flip


cdef inline void _measure_dipoles(const signed char* s, const double* h, Py_ssize_t n,
                                  const double* phase, Py_ssize_t n_q, double* row) noexcept nogil:
    """row[0] = sum_i sigma_i h_i, row[1] = sum_i sigma_i,
    row[2 + a] = |sum_i sigma_i exp(-i Q_a . r_i)|^2 for the n_q stripe vectors."""
    cdef Py_ssize_t i, a
    cdef double eh = 0.0, ms = 0.0, sg, re, im
    for i in range(n):
        sg = 1 - 2 * (s[i] & 1)
        eh += sg * h[i]
        ms += sg
    row[0] = eh
    row[1] = ms
    for a in range(n_q):
        re = 0.0
        im = 0.0
        for i in range(n):
            sg = 1 - 2 * (s[i] & 1)
            re += sg * phase[(2 * a) * n + i]
            im += sg * phase[(2 * a + 1) * n + i]
        row[2 + a] = re * re + im * im


def dipolar_run(signed char[::1] s, double[::1] h, const double[:, ::1] K2, double D,
                double beta, int method, bint random_sites, bint naive, object obs,
                const double[:, ::1] phase, uint64_t[::1] rng_state, Py_ssize_t n_measure,
                Py_ssize_t every, double[:, ::1] out_x, double[:, ::1] out_y):
    """Run n_measure * every sweeps (n_measure = 0: `every` sweeps, no
    measurement), writing the clock row (cext/observe.pxd, field-free) into
    out_x[m] and the dipole row (_measure_dipoles) into out_y[m] after each
    block of `every` sweeps.  `h` must hold the field of `s` on entry and is
    kept up to date (naive: h is not used; the field is recomputed per
    proposal, the O(N)-per-proposal baseline).  `phase` holds cos and sin
    rows of the stripe wave vectors, shape (2 n_q, N).
    Returns (accepted moves, accepted parity changes, sum of accepted dE)."""
    cdef uint64_t st[4]
    st[0], st[1], st[2], st[3] = rng_state[0], rng_state[1], rng_state[2], rng_state[3]
    cdef Tables t = tables_from(obs)
    cdef Py_ssize_t n = s.shape[0], Lx = K2.shape[1] // 2, Ly = K2.shape[0] // 2
    cdef Py_ssize_t n_q = phase.shape[0] // 2
    cdef Py_ssize_t m, sweep, c, i
    cdef Py_ssize_t blocks = n_measure if n_measure > 0 else 1
    cdef long long flips = 0, accepted = 0
    cdef double dE = 0.0
    cdef int r
    cdef double* hp = &h[0]
    if Lx * Ly != n or h.shape[0] != n or t.q != Q or t.n != n or phase.shape[1] != n:
        raise ValueError("dipolar_run: inconsistent array shapes")
    with nogil:
        for m in range(blocks):
            for sweep in range(every):
                for c in range(n):
                    i = next_index(st, n) if random_sites else c
                    r = _site(&s[0], hp, i, &t, &K2[0, 0], Lx, Ly, D, beta, method,
                              naive, &dE, st)
                    accepted += r & 1
                    flips += r >> 1
            if n_measure > 0:
                measure_discrete(&s[0], &t, beta, &out_x[m, 0])
                if naive:
                    for i in range(n):
                        hp[i] = _field_at(&s[0], &K2[0, 0], Lx, Ly, i % Lx, i // Lx)
                _measure_dipoles(&s[0], hp, n, &phase[0, 0], n_q, &out_y[m, 0])
    rng_state[0], rng_state[1], rng_state[2], rng_state[3] = st[0], st[1], st[2], st[3]
    return accepted, flips, dE
