# Local (single-site) updates for spin models on a CSR neighbour table.
#
# Ising: a sweep visits every site once, colour by colour (the order of
# Lattice.sweep_runs(): a proper colouring, sites of one colour by increasing
# index; the two sublattices of a bipartite lattice), and flips s_i with
# probability p(dE), dE = 2 s_i (sum_j J_ij s_j + h_i):
#   metropolis: p = min(1, exp(-beta dE))
#   heatbath  : p = 1 / (1 + exp(beta dE))   (Glauber = exact conditional)
# Each single-site step satisfies detailed balance, so any fixed composition
# of them leaves the Boltzmann distribution invariant; the colour order is
# chosen for speed: no site reads a spin written earlier in the same colour,
# so consecutive updates do not wait on each other's store.
#
# Alternatively a sweep is N updates of uniformly drawn sites (random-site
# selection).  Metropolis needs it on chains: it accepts dE <= 0 with
# probability 1, so under any fixed visiting order the domain walls of a ring
# are carried along deterministically and never annihilate (non-ergodic).
#
# The order arrives as runs (start, step, count): run r visits start,
# start + step, ... (a row of one sublattice on the square lattice), so the
# kernel reads no per-site order array.
#
# Two paths share one runner:
#   table   : uniform J and h; the neighbour sum is an integer k in [-z, z], so
#             p is looked up in a (2, 2 z_max + 1) table precomputed in Python,
#             stored as 32-bit integer thresholds floor(p * 2**32): the accept
#             test is an integer compare of a 32-bit uniform (one 64-bit draw
#             serves two sites; p is resolved to 2**-32, far below any
#             statistical resolution) and the flip is branch-free.  When every
#             site has the same degree z (periodic Bravais lattices), row i of
#             the CSR table starts at z i and the neighbour sum is unrolled for
#             z = 2, 3, 4, 6; otherwise the CSR loop is used.
#   general : per-bond J_ij and per-site h_i; p is evaluated with exp().
from libc.stdint cimport uint64_t, int32_t, int64_t
from libc.math cimport exp

from rng cimport next_double, next_u64, next_index
from ising_common cimport ising_energy_magnetization

cdef enum:
    METROPOLIS = 0
    HEATBATH = 1


cdef inline void _flip_table(signed char* s, Py_ssize_t i, int nsum, const uint64_t* table,
                             Py_ssize_t width, Py_ssize_t zmax, uint64_t u32) noexcept nogil:
    """Flip s_i when the 32-bit uniform u32 < p * 2**32 (table entry), branch-free."""
    cdef signed char si = s[i]
    cdef uint64_t threshold = table[((si + 1) >> 1) * width + nsum + zmax]
    # s -> s * (1 - 2 [u < p])
    s[i] = si * <signed char>(1 - 2 * <int>(u32 < threshold))


cdef inline int _neighbour_sum(const signed char* s, const int32_t* nb,
                               const Py_ssize_t z) noexcept nogil:
    cdef Py_ssize_t k
    cdef int nsum = 0
    for k in range(z):
        nsum += s[nb[k]]
    return nsum


cdef inline void _run_table_regular(signed char* s, Py_ssize_t i, const Py_ssize_t step,
                                    Py_ssize_t count, const int32_t* indices,
                                    const Py_ssize_t z, const uint64_t* table,
                                    uint64_t* st) noexcept nogil:
    # z (and step, on the hot path) are literals at the call site: after
    # inlining the k loop unrolls and the table shape (2, 2 z + 1) is constant.
    # One 64-bit draw serves two sites (low and high 32 bits).
    cdef Py_ssize_t q = 0
    cdef uint64_t u
    while q + 1 < count:
        u = next_u64(st)
        _flip_table(s, i, _neighbour_sum(s, indices + z * i, z), table, 2 * z + 1, z,
                    u & 0xFFFFFFFFu)
        i += step
        _flip_table(s, i, _neighbour_sum(s, indices + z * i, z), table, 2 * z + 1, z, u >> 32)
        i += step
        q += 2
    if q < count:
        _flip_table(s, i, _neighbour_sum(s, indices + z * i, z), table, 2 * z + 1, z,
                    next_u64(st) >> 32)


cdef inline void _sweep_table_regular(signed char* s, const int64_t* runs, Py_ssize_t n_runs,
                                      const int32_t* indices, const Py_ssize_t z,
                                      const uint64_t* table, uint64_t* st) noexcept nogil:
    cdef Py_ssize_t r
    cdef uint64_t ls[4]       # register copy of the state (see ising_local_run)
    ls[0], ls[1], ls[2], ls[3] = st[0], st[1], st[2], st[3]
    for r in range(n_runs):
        if runs[3 * r + 1] == 2:      # sublattice rows: the common case
            _run_table_regular(s, runs[3 * r], 2, runs[3 * r + 2], indices, z, table, ls)
        else:
            _run_table_regular(s, runs[3 * r], runs[3 * r + 1], runs[3 * r + 2], indices, z,
                               table, ls)
    st[0], st[1], st[2], st[3] = ls[0], ls[1], ls[2], ls[3]


cdef inline void _sweep_table_csr(signed char* s, const int64_t* runs, Py_ssize_t n_runs,
                                  const int32_t* indptr, const int32_t* indices,
                                  const uint64_t* table, Py_ssize_t width, Py_ssize_t zmax,
                                  uint64_t* st) noexcept nogil:
    cdef Py_ssize_t r, q, i, step, k
    cdef int nsum
    for r in range(n_runs):
        i = runs[3 * r]
        step = runs[3 * r + 1]
        for q in range(runs[3 * r + 2]):
            nsum = 0
            for k in range(indptr[i], indptr[i + 1]):
                nsum += s[indices[k]]
            _flip_table(s, i, nsum, table, width, zmax, next_u64(st) >> 32)
            i += step


cdef inline void _sweep_table(signed char* s, const int64_t* runs, Py_ssize_t n_runs,
                              const int32_t* indptr, const int32_t* indices, Py_ssize_t z,
                              const uint64_t* table, Py_ssize_t width, Py_ssize_t zmax,
                              uint64_t* st) noexcept nogil:
    """z > 0: every site has degree z; z = 0: mixed degrees (CSR loop)."""
    if z != zmax:
        z = 0
    if z == 4:
        _sweep_table_regular(s, runs, n_runs, indices, 4, table, st)
    elif z == 6:
        _sweep_table_regular(s, runs, n_runs, indices, 6, table, st)
    elif z == 3:
        _sweep_table_regular(s, runs, n_runs, indices, 3, table, st)
    elif z == 2:
        _sweep_table_regular(s, runs, n_runs, indices, 2, table, st)
    else:
        _sweep_table_csr(s, runs, n_runs, indptr, indices, table, width, zmax, st)


cdef inline void _update_general(signed char* s, Py_ssize_t i, const int32_t* indptr,
                                 const int32_t* indices, const double* weights,
                                 const double* field, double beta, int method,
                                 uint64_t* st) noexcept nogil:
    cdef Py_ssize_t k
    cdef double local = field[i], bde, p
    for k in range(indptr[i], indptr[i + 1]):
        local += weights[k] * s[indices[k]]
    bde = 2.0 * beta * s[i] * local
    if method == METROPOLIS and bde <= 0.0:
        s[i] = -s[i]
    else:
        p = exp(-bde) if method == METROPOLIS else 1.0 / (1.0 + exp(bde))
        if next_double(st) < p:
            s[i] = -s[i]


cdef inline void _sweep_general(signed char* s, const int64_t* runs, Py_ssize_t n_runs,
                                const int32_t* indptr, const int32_t* indices,
                                const double* weights, const double* field, double beta,
                                int method, uint64_t* st) noexcept nogil:
    cdef Py_ssize_t r, q, i, step
    for r in range(n_runs):
        i = runs[3 * r]
        step = runs[3 * r + 1]
        for q in range(runs[3 * r + 2]):
            _update_general(s, i, indptr, indices, weights, field, beta, method, st)
            i += step


cdef inline void _sweep_random(signed char* s, Py_ssize_t n, const int32_t* indptr,
                               const int32_t* indices, const double* weights,
                               const double* field, double beta, int method,
                               const uint64_t* table, Py_ssize_t width, Py_ssize_t zmax,
                               uint64_t* st) noexcept nogil:
    """N updates of uniformly drawn sites (random-site selection)."""
    cdef Py_ssize_t q, i, k
    cdef int nsum
    for q in range(n):
        i = next_index(st, n)
        if table != NULL:
            nsum = 0
            for k in range(indptr[i], indptr[i + 1]):
                nsum += s[indices[k]]
            _flip_table(s, i, nsum, table, width, zmax, next_u64(st) >> 32)
        else:
            _update_general(s, i, indptr, indices, weights, field, beta, method, st)


def ising_local_run(signed char[::1] s, const int32_t[::1] indptr, const int32_t[::1] indices,
                    const double[::1] weights, const double[::1] field,
                    double beta, int method, const uint64_t[:, ::1] table,
                    const int64_t[:, ::1] runs, Py_ssize_t degree, bint random_sites,
                    uint64_t[::1] rng_state, Py_ssize_t n_measure, Py_ssize_t every,
                    double[::1] out_energy, double[::1] out_magnetization):
    """Run n_measure * every sweeps; after each block of `every` sweeps store
    the total energy and magnetisation in out_*[m].  n_measure = 0 runs
    `every` sweeps without measuring.  `table` (2, 2 z_max + 1) of 32-bit
    thresholds selects the tabulated path; a table with zero rows selects the
    general (exp) path.  `runs` (R, 3) is the visiting order (start, step,
    count) covering every site once (Lattice.sweep_runs()); `degree` is the
    common degree of all sites, or 0 if degrees differ.  random_sites: a
    sweep is N updates of uniformly drawn sites instead (`runs` unused).
    """
    # Work on a local copy of the generator state: a pointer into the numpy
    # buffer may alias the int8 spins, which would force the compiler to
    # store and reload the state around every spin write.
    cdef uint64_t st[4]
    st[0], st[1], st[2], st[3] = rng_state[0], rng_state[1], rng_state[2], rng_state[3]
    cdef Py_ssize_t m, t, n = s.shape[0], n_runs = runs.shape[0]
    cdef Py_ssize_t width = table.shape[1], zmax = (table.shape[1] - 1) // 2
    cdef bint use_table = table.shape[0] == 2
    cdef Py_ssize_t blocks = n_measure if n_measure > 0 else 1
    cdef const uint64_t* tab = &table[0, 0] if use_table else NULL
    cdef const int64_t* rp = &runs[0, 0] if n_runs > 0 else NULL
    with nogil:
        for m in range(blocks):
            for t in range(every):
                if random_sites:
                    _sweep_random(&s[0], n, &indptr[0], &indices[0], &weights[0], &field[0],
                                  beta, method, tab, width, zmax, st)
                elif use_table:
                    _sweep_table(&s[0], rp, n_runs, &indptr[0], &indices[0], degree,
                                 tab, width, zmax, st)
                else:
                    _sweep_general(&s[0], rp, n_runs, &indptr[0], &indices[0], &weights[0],
                                   &field[0], beta, method, st)
            if n_measure > 0:
                ising_energy_magnetization(s, indptr, indices, weights, field,
                                           &out_energy[m], &out_magnetization[m])
    rng_state[0], rng_state[1], rng_state[2], rng_state[3] = st[0], st[1], st[2], st[3]
