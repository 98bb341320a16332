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
                    const double[::1] phase, double[:, ::1] out):
    """Run n_measure * every sweeps; after each block of `every` sweeps store
    the measurement row (cext/ising_common.pxd) in out[m].  n_measure = 0 runs
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
                ising_energy_magnetization(s, indptr, indices, weights, field, phase, &out[m, 0])
    rng_state[0], rng_state[1], rng_state[2], rng_state[3] = st[0], st[1], st[2], st[3]


# ---------------------------------------------------------------------------
# Discrete q-state models (Potts, clock): states a in [0, q), int8.
#
#   H = -sum_<ij> J_ij K[s_i, s_j] - sum_i hf[i, s_i]
#
# K is symmetric (Potts: delta; clock: cos(2 pi (a - b) / q)).  The local
# weight of state a at site i is exp(beta x_a) with
#   x_a = sum_j J_ij K[a, s_j] + hf[i, a].
#   heatbath  : draw the new state from the exact conditional p_a ~ exp(beta x_a)
#   metropolis: propose one of the q - 1 other states uniformly (a symmetric
#               proposal), accept with min(1, exp(beta (x_new - x_old)))
# Uniform couplings (the table path) replace the exponentials by products of
# precomputed factors EJ[b, a] = exp(beta J (K[a, b] - c)) and
# HE[i, a] = exp(beta (hf[i, a] - max_a hf[i, a])), with c chosen so that
# every factor is <= 1; if the product underflows (beta |J| of several
# hundred) the site is redone in log space.
# ---------------------------------------------------------------------------
from libc.math cimport log
from observe cimport Tables, tables_from, measure_discrete, measure_vector

cdef extern from *:
    """
    /* _discrete_run and _on_sweep2/3 (below) must stay functions of their own
       with the site updates inlined into them, so that the generator state
       stays in registers; GCC's heuristics do neither in the large kernel entry
       point.  Cython cannot attach attributes, so the functions are declared
       here with them (the same signatures as Cython's prototypes; a mismatch
       is a compile error). */
    #if defined(__GNUC__)
    static void __pyx_f_8kadanoff_5_spin__discrete_run(signed char *, Py_ssize_t, Py_ssize_t,
        Py_ssize_t, int32_t const *, int32_t const *, double const *, int, double const *,
        double const *, int, double const *, double const *, int, double, int, double *,
        double const *, int, uint64_t *) __attribute__((noinline));
    #define KD_SITE_PROTO(name) static CYTHON_INLINE void name(signed char *, Py_ssize_t,    \
        int32_t const *, int32_t const *, double const *, int, double const *,              \
        double const *, int, double const *, double const *, double, double *,              \
        double const *, int, uint64_t *) __attribute__((always_inline))
    KD_SITE_PROTO(__pyx_f_8kadanoff_5_spin__discrete_metropolis);
    KD_SITE_PROTO(__pyx_f_8kadanoff_5_spin__discrete_heatbath);
    static CYTHON_INLINE int __pyx_f_8kadanoff_5_spin__on_site(double *, Py_ssize_t,
        int32_t const *, int32_t const *, double const *, double, double, int, double,
        Py_ssize_t const, Py_ssize_t const, uint64_t *) __attribute__((always_inline));
    #define KD_ON_SWEEP_PROTO(name) static PY_LONG_LONG name(double *, Py_ssize_t,           \
        int64_t const *, Py_ssize_t, int, int32_t const *, int32_t const *, double const *,  \
        double, double, int, double, Py_ssize_t, uint64_t *) __attribute__((noinline))
    KD_ON_SWEEP_PROTO(__pyx_f_8kadanoff_5_spin__on_sweep2);
    KD_ON_SWEEP_PROTO(__pyx_f_8kadanoff_5_spin__on_sweep3);
    #endif
    """

cdef enum:
    MAX_Q = 127


cdef inline int _sample(const double* w, int q, double total, uint64_t* st) noexcept nogil:
    """Index a with probability w[a] / total: the number of partial sums
    w[0] + ... + w[a] (a < q - 1) that do not exceed u total, counted without
    branches (the choice is unpredictable, a branch would be mispredicted)."""
    cdef double u = next_double(st) * total, cum = 0.0
    cdef int a, index = 0
    for a in range(q - 1):
        cum += w[a]
        index += cum <= u
    return index


cdef inline void _log_weights(const signed char* s, Py_ssize_t i, const int32_t* indptr,
                              const int32_t* indices, const double* weights, const double* K,
                              int q, const double* hrow, double beta, double* x) noexcept nogil:
    """x[a] = beta (sum_j J_ij K[a, s_j] + hf[i, a])."""
    cdef Py_ssize_t k
    cdef int a, b
    for a in range(q):
        x[a] = hrow[a]
    for k in range(indptr[i], indptr[i + 1]):
        b = s[indices[k]]
        for a in range(q):
            x[a] += weights[k] * K[b * q + a]
    for a in range(q):
        x[a] *= beta


cdef inline void _discrete_heatbath(signed char* s, Py_ssize_t i, const int32_t* indptr,
                                    const int32_t* indices, const double* weights, bint uniform,
                                    const double* K, const double* EJ, int q, const double* hrow,
                                    const double* erow, double beta, double* w,
                                    const double* potts, int zmax, uint64_t* st)noexcept nogil:
    """Heat-bath update of site i: the new state from its exact conditional."""
    cdef Py_ssize_t k
    cdef int a
    cdef double total, xmax, num
    if uniform:
        # candidate-major: each product stays in a register (a neighbour-
        # major loop would store and reload every w[a] once per neighbour)
        total = 0.0
        for a in range(q):
            num = erow[a]
            for k in range(indptr[i], indptr[i + 1]):
                num *= EJ[s[indices[k]] * q + a]
            w[a] = num
            total += num
        if total > 1e-250:
            s[i] = <signed char>_sample(w, q, total, st)
            return
    _log_weights(s, i, indptr, indices, weights, K, q, hrow, beta, w)
    xmax = w[0]
    for a in range(1, q):
        if w[a] > xmax:
            xmax = w[a]
    total = 0.0
    for a in range(q):
        w[a] = exp(w[a] - xmax)
        total += w[a]
    s[i] = <signed char>_sample(w, q, total, st)


cdef inline void _discrete_metropolis(signed char* s, Py_ssize_t i, const int32_t* indptr,
                                      const int32_t* indices, const double* weights, bint uniform,
                                      const double* K, const double* EJ, int q, const double* hrow,
                                      const double* erow, double beta, double* w,
                                      const double* potts, int zmax, uint64_t* st)noexcept nogil:
    """Metropolis update of site i, proposing one of the q - 1 other states.
    potts != NULL (Potts, uniform J): the energy change is an integer count n
    of equal neighbours, and potts[n + zmax] = exp(beta J n), n = -zmax .. zmax."""
    cdef Py_ssize_t k
    cdef int b, old = s[i], new, accept, n
    cdef double num, den, num1, den1
    new = old + 1 + <int>next_index(st, q - 1)      # uniform over the q - 1 others
    if new >= q:                                       # (no integer division)
        new -= q
    if potts != NULL:
        # integer energy: no floating-point chain per neighbour
        n = zmax
        for k in range(indptr[i], indptr[i + 1]):
            b = s[indices[k]]
            n += (b == new) - (b == old)
        accept = next_double(st) * erow[old] < erow[new] * potts[n]
        s[i] = <signed char>(old + accept * (new - old))
        return
    if uniform:
        # two partial products: half the multiply latency on the critical path
        num = erow[new]
        den = erow[old]
        num1 = 1.0
        den1 = 1.0
        k = indptr[i]
        while k + 1 < indptr[i + 1]:
            b = s[indices[k]]
            num *= EJ[b * q + new]
            den *= EJ[b * q + old]
            b = s[indices[k + 1]]
            num1 *= EJ[b * q + new]
            den1 *= EJ[b * q + old]
            k += 2
        if k < indptr[i + 1]:
            b = s[indices[k]]
            num *= EJ[b * q + new]
            den *= EJ[b * q + old]
        num *= num1
        den *= den1
        if den > 1e-250:
            # accept with min(1, num / den); u < 1 makes num >= den certain.
            # Branch-free: the outcome is unpredictable near T_c
            accept = next_double(st) * den < num
            s[i] = <signed char>(old + accept * (new - old))
            return
    num = hrow[new]
    den = hrow[old]
    for k in range(indptr[i], indptr[i + 1]):
        b = s[indices[k]]
        num += weights[k] * K[b * q + new]
        den += weights[k] * K[b * q + old]
    if num >= den or next_double(st) < exp(beta * (num - den)):
        s[i] = <signed char>new


cdef void _discrete_run(signed char* s, Py_ssize_t i, Py_ssize_t step, Py_ssize_t count,
                        const int32_t* indptr, const int32_t* indices, const double* weights,
                        bint uniform, const double* K, const double* EJ, int q,
                        const double* hf, const double* HE, bint site_field, double beta,
                        int method, double* w, const double* potts, int zmax,
                        uint64_t* rng) noexcept nogil:
    """Update the `count` sites i, i + step, ... of one run.  A function per
    run (not per site) lets the compiler inline the site update and keep the
    generator state in registers."""
    cdef uint64_t st[4]
    cdef Py_ssize_t c
    st[0], st[1], st[2], st[3] = rng[0], rng[1], rng[2], rng[3]
    if method == HEATBATH:
        for c in range(count):
            _discrete_heatbath(s, i, indptr, indices, weights, uniform, K, EJ, q,
                               hf + (i * q if site_field else 0),
                               HE + (i * q if site_field else 0), beta, w, potts, zmax, st)
            i += step
    else:
        for c in range(count):
            _discrete_metropolis(s, i, indptr, indices, weights, uniform, K, EJ, q,
                                 hf + (i * q if site_field else 0),
                                 HE + (i * q if site_field else 0), beta, w, potts, zmax, st)
            i += step
    rng[0], rng[1], rng[2], rng[3] = st[0], st[1], st[2], st[3]


def discrete_local_run(signed char[::1] s, const double[:, ::1] K, const double[:, ::1] EJ,
                       bint uniform, const double[:, ::1] hf, const double[:, ::1] HE,
                       double beta, int method, const int64_t[:, ::1] runs, bint random_sites,
                       object obs, uint64_t[::1] rng_state, Py_ssize_t n_measure,
                       Py_ssize_t every, double[:, ::1] out, const double[::1] potts):
    """Run n_measure * every local sweeps of a q-state model, writing one
    measurement row (cext/observe.pxd) into out[m] after each block of
    `every` sweeps (n_measure = 0: `every` sweeps, no measurement).
    hf, HE have one row per site, or one row for a uniform field.  `obs`
    holds the neighbour table, couplings and measurement tables.  potts:
    the Metropolis table of _discrete_site (2 zmax + 1 numbers), or empty."""
    cdef uint64_t st[4]
    st[0], st[1], st[2], st[3] = rng_state[0], rng_state[1], rng_state[2], rng_state[3]
    cdef Tables t = tables_from(obs)
    cdef Py_ssize_t m, sweep, r, c, i, step, n = s.shape[0], n_runs = runs.shape[0]
    cdef Py_ssize_t blocks = n_measure if n_measure > 0 else 1
    cdef int q = K.shape[0]
    cdef bint site_field = hf.shape[0] > 1
    cdef double w[MAX_Q]
    cdef const double* pt = &potts[0] if potts.shape[0] > 0 else NULL
    cdef int zmax = (potts.shape[0] - 1) // 2
    if q > MAX_Q or q < 2:
        raise ValueError(f"q must be in [2, {MAX_Q}]")
    with nogil:
        for m in range(blocks):
            for sweep in range(every):
                if random_sites:
                    for c in range(n):
                        i = next_index(st, n)
                        if method == HEATBATH:
                            _discrete_heatbath(&s[0], i, t.indptr, t.indices, t.weights,
                                               uniform, &K[0, 0], &EJ[0, 0], q,
                                               &hf[i if site_field else 0, 0],
                                               &HE[i if site_field else 0, 0], beta, w, pt,
                                               zmax, st)
                        else:
                            _discrete_metropolis(&s[0], i, t.indptr, t.indices, t.weights,
                                                 uniform, &K[0, 0], &EJ[0, 0], q,
                                                 &hf[i if site_field else 0, 0],
                                                 &HE[i if site_field else 0, 0], beta, w, pt,
                                                 zmax, st)
                    continue
                for r in range(n_runs):
                    _discrete_run(&s[0], runs[r, 0], runs[r, 1], runs[r, 2], t.indptr,
                                  t.indices, t.weights, uniform, &K[0, 0], &EJ[0, 0], q,
                                  &hf[0, 0], &HE[0, 0], site_field, beta, method, w, pt, zmax,
                                  st)
            if n_measure > 0:
                measure_discrete(&s[0], &t, beta, &out[m, 0])
    rng_state[0], rng_state[1], rng_state[2], rng_state[3] = st[0], st[1], st[2], st[3]


def measure_discrete_state(const signed char[::1] s, object obs, double beta, double[::1] row):
    """One measurement row of a discrete configuration (for tests and the initial state)."""
    cdef Tables t = tables_from(obs)
    measure_discrete(&s[0], &t, beta, &row[0])


def measure_vector_state(const double[:, ::1] s, object obs, double beta, double[::1] row):
    """One measurement row of an O(n) configuration."""
    cdef Tables t = tables_from(obs)
    measure_vector(&s[0, 0], &t, beta, &row[0])


# ---------------------------------------------------------------------------
# O(n) models (XY: n = 2, Heisenberg: n = 3): unit vectors s_i, float64 (N, n).
#
#   H = -sum_<ij> J_ij s_i . s_j - h sum_i s_i^x
#
# With the local field H_i = sum_j J_ij s_j + h x:
#   metropolis    : s' = (s + delta g) / |s + delta g|, g uniform in the unit
#                   ball; the proposal density depends on s . s' only, so it is
#                   symmetric; accept with min(1, exp(beta (s' - s) . H_i)).
#   heatbath      : s' from the exact conditional ~ exp(beta s' . H_i):
#                   n = 2: angle to H_i von Mises(kappa = beta |H_i|) (Best &
#                   Fisher 1979); n = 3: cos(angle) by inverting its CDF,
#                   azimuth uniform.
#   overrelaxation: s' = 2 (s . H_i) H_i / |H_i|^2 - s, the reflection about
#                   H_i: energy-conserving and its own inverse (microcanonical).
# A sweep is one local sweep followed by `n_over` overrelaxation sweeps.
# ---------------------------------------------------------------------------
from libc.math cimport sqrt, cos, sin, fabs

cdef enum:
    OVERRELAX = 2


cdef inline void _field(const double* s, Py_ssize_t i, const int32_t* indptr,
                        const int32_t* indices, const double* weights, double h,
                        const Py_ssize_t d, const Py_ssize_t z, double* H) noexcept nogil:
    """H = sum_j J_ij s_j + h x.  z > 0 (a literal at the call site): every
    site has degree z, row i of the CSR table starts at z i and the loop
    unrolls; z = 0: the general CSR loop."""
    cdef Py_ssize_t k, c, j, k0 = z * i if z > 0 else indptr[i]
    cdef Py_ssize_t k1 = k0 + z if z > 0 else indptr[i + 1]
    cdef double w
    for c in range(d):
        H[c] = 0.0
    for k in range(k0, k1):
        j = indices[k]
        w = weights[k]
        for c in range(d):
            H[c] += w * s[j * d + c]
    H[0] += h


cdef inline void _ball(const Py_ssize_t d, double* g, uint64_t* st) noexcept nogil:
    """g uniform in the d-dimensional unit ball (rejection from the cube)."""
    cdef Py_ssize_t c
    cdef double r2 = 2.0
    while r2 > 1.0:
        r2 = 0.0
        for c in range(d):
            g[c] = 2.0 * next_double(st) - 1.0
            r2 += g[c] * g[c]


cdef inline void _unit_circle(double* cs, double* sn, uint64_t* st) noexcept nogil:
    """A uniform point (cos phi, sin phi) on the unit circle without trig."""
    cdef double u = 1.0, v = 1.0, r2 = 2.0
    while r2 > 1.0 or r2 < 1e-300:
        u = 2.0 * next_double(st) - 1.0
        v = 2.0 * next_double(st) - 1.0
        r2 = u * u + v * v
    cs[0] = (u * u - v * v) / r2
    sn[0] = 2.0 * u * v / r2


cdef inline double _von_mises_cos(double kappa, double* sin_out, uint64_t* st) noexcept nogil:
    """cos(psi) of psi ~ von Mises(0, kappa); sin(psi) in sin_out (random sign).
    Best & Fisher (1979) wrapped-Cauchy rejection; kappa > 1e8: the Gaussian
    limit psi ~ N(0, 1/kappa) (relative error O(1/kappa))."""
    cdef double tau, rho, r, z, f, c, u2, psi, g1, g2
    if kappa > 1e8:
        # Box-Muller from two uniforms
        g1 = next_double(st)
        g2 = next_double(st)
        psi = sqrt(-2.0 * log(1.0 - g1)) * cos(KD_TWO_PI_S * g2) / sqrt(kappa)
        sin_out[0] = sin(psi)
        return cos(psi)
    tau = 1.0 + sqrt(1.0 + 4.0 * kappa * kappa)
    rho = (tau - sqrt(2.0 * tau)) / (2.0 * kappa)
    r = (1.0 + rho * rho) / (2.0 * rho)
    while True:
        z = cos(3.141592653589793 * next_double(st))
        f = (1.0 + r * z) / (r + z)
        c = kappa * (r - f)
        u2 = next_double(st)
        if c * (2.0 - c) - u2 > 0.0 or log(c / u2) + 1.0 - c >= 0.0:
            break
    if f > 1.0:
        f = 1.0
    elif f < -1.0:
        f = -1.0
    sin_out[0] = sqrt(1.0 - f * f) if next_u64(st) >> 63 else -sqrt(1.0 - f * f)
    return f


cdef extern from *:
    """
    #define KD_TWO_PI_S 6.283185307179586
    """
    double KD_TWO_PI_S


cdef inline int _on_site(double* s, Py_ssize_t i, const int32_t* indptr,
                         const int32_t* indices, const double* weights, double h,
                         double beta, int method, double delta, const Py_ssize_t d,
                         const Py_ssize_t z, uint64_t* st) noexcept nogil:
    """Update site i; returns 1 if a Metropolis proposal was accepted."""
    cdef double H[3]
    cdef double g[3]
    cdef double e1[3]
    cdef double e2[3]
    cdef double* si = s + i * d
    cdef double norm2, norm, dot, hn, kappa, x, sx, cs, sn, ex
    cdef Py_ssize_t c
    cdef int acc
    _field(s, i, indptr, indices, weights, h, d, z, H)
    if method == METROPOLIS:
        _ball(d, g, st)
        norm2 = 0.0
        for c in range(d):
            g[c] = si[c] + delta * g[c]
            norm2 += g[c] * g[c]
        if norm2 < 1e-300:
            return 0
        norm = 1.0 / sqrt(norm2)
        dot = 0.0
        for c in range(d):
            g[c] *= norm
            dot += (g[c] - si[c]) * H[c]
        ex = beta * dot
        # branch-free accept (the outcome is a coin flip at ~50% acceptance):
        # u < exp(min(ex, 0)) is always true for ex >= 0
        acc = next_double(st) < exp(ex if ex < 0.0 else 0.0)
        for c in range(d):
            si[c] = g[c] if acc else si[c]
        return acc
    norm2 = 0.0
    for c in range(d):
        norm2 += H[c] * H[c]
    if method == OVERRELAX:
        if norm2 > 1e-300:
            dot = 0.0
            for c in range(d):
                dot += si[c] * H[c]
            dot = 2.0 * dot / norm2
            norm2 = 0.0
            for c in range(d):
                si[c] = dot * H[c] - si[c]
                norm2 += si[c] * si[c]
            norm = 1.0 / sqrt(norm2)       # undo rounding drift of |s|
            for c in range(d):
                si[c] *= norm
        return 0
    # heat bath
    hn = sqrt(norm2)
    kappa = beta * hn
    if hn < 1e-300 or kappa < 1e-10:
        if d == 2:
            _unit_circle(&si[0], &si[1], st)
        else:
            x = 2.0 * next_double(st) - 1.0
            sx = sqrt(1.0 - x * x)
            _unit_circle(&cs, &sn, st)
            si[0] = sx * cs
            si[1] = sx * sn
            si[2] = x
        return 0
    for c in range(d):
        H[c] /= hn
    if d == 2:
        x = _von_mises_cos(kappa, &sn, st)
        si[0] = x * H[0] - sn * H[1]
        si[1] = sn * H[0] + x * H[1]
        return 0
    # d == 3: p(x) ~ exp(kappa x) on [-1, 1], x = cos(angle to H)
    x = 1.0 + log(next_double(st) * (1.0 - exp(-2.0 * kappa)) + exp(-2.0 * kappa)) / kappa
    if x > 1.0:
        x = 1.0
    elif x < -1.0:
        x = -1.0
    sx = sqrt(1.0 - x * x)
    # e1 = normalised (axis of H's smallest component) x H, e2 = H x e1
    if fabs(H[0]) <= fabs(H[1]) and fabs(H[0]) <= fabs(H[2]):
        e1[0], e1[1], e1[2] = 0.0, -H[2], H[1]
    elif fabs(H[1]) <= fabs(H[2]):
        e1[0], e1[1], e1[2] = H[2], 0.0, -H[0]
    else:
        e1[0], e1[1], e1[2] = -H[1], H[0], 0.0
    norm = 1.0 / sqrt(e1[0] * e1[0] + e1[1] * e1[1] + e1[2] * e1[2])
    for c in range(3):
        e1[c] *= norm
    e2[0] = H[1] * e1[2] - H[2] * e1[1]
    e2[1] = H[2] * e1[0] - H[0] * e1[2]
    e2[2] = H[0] * e1[1] - H[1] * e1[0]
    _unit_circle(&cs, &sn, st)
    for c in range(3):
        si[c] = x * H[c] + sx * (cs * e1[c] + sn * e2[c])
    return 0


cdef inline long long _on_sweep_z(double* s, Py_ssize_t n, const int64_t* runs,
                                  Py_ssize_t n_runs, bint random_sites, const int32_t* indptr,
                                  const int32_t* indices, const double* weights, double h,
                                  double beta, int method, double delta, const Py_ssize_t d,
                                  const Py_ssize_t z, uint64_t* st) noexcept nogil:
    """One sweep (d, z literals at the call sites), the site update inlined
    per method."""
    cdef Py_ssize_t r, c, i, step
    cdef long long accepted = 0
    if random_sites:
        for c in range(n):
            accepted += _on_site(s, next_index(st, n), indptr, indices, weights, h, beta,
                                 method, delta, d, z, st)
    elif method == METROPOLIS:
        for r in range(n_runs):
            i = runs[3 * r]
            step = runs[3 * r + 1]
            for c in range(runs[3 * r + 2]):
                accepted += _on_site(s, i, indptr, indices, weights, h, beta, METROPOLIS,
                                     delta, d, z, st)
                i += step
    elif method == OVERRELAX:
        for r in range(n_runs):
            i = runs[3 * r]
            step = runs[3 * r + 1]
            for c in range(runs[3 * r + 2]):
                _on_site(s, i, indptr, indices, weights, h, beta, OVERRELAX, delta, d, z, st)
                i += step
    else:
        for r in range(n_runs):
            i = runs[3 * r]
            step = runs[3 * r + 1]
            for c in range(runs[3 * r + 2]):
                _on_site(s, i, indptr, indices, weights, h, beta, method, delta, d, z, st)
                i += step
    return accepted


cdef inline long long _on_sweep(double* s, Py_ssize_t n, const int64_t* runs, Py_ssize_t n_runs,
                                bint random_sites, const int32_t* indptr, const int32_t* indices,
                                const double* weights, double h, double beta, int method,
                                double delta, const Py_ssize_t d, Py_ssize_t z,
                                uint64_t* rng) noexcept nogil:
    """z: common degree of all sites (unrolled neighbour loop for 4 and 6), or 0.
    The generator state is copied into a local array that stays in registers."""
    cdef uint64_t st[4]
    cdef long long accepted
    st[0], st[1], st[2], st[3] = rng[0], rng[1], rng[2], rng[3]
    if z == 4:
        accepted = _on_sweep_z(s, n, runs, n_runs, random_sites, indptr, indices, weights, h,
                               beta, method, delta, d, 4, st)
    elif z == 6:
        accepted = _on_sweep_z(s, n, runs, n_runs, random_sites, indptr, indices, weights, h,
                               beta, method, delta, d, 6, st)
    else:
        accepted = _on_sweep_z(s, n, runs, n_runs, random_sites, indptr, indices, weights, h,
                               beta, method, delta, d, 0, st)
    rng[0], rng[1], rng[2], rng[3] = st[0], st[1], st[2], st[3]
    return accepted


cdef long long _on_sweep2(double* s, Py_ssize_t n, const int64_t* runs, Py_ssize_t n_runs,
                          bint random_sites, const int32_t* indptr, const int32_t* indices,
                          const double* weights, double h, double beta, int method,
                          double delta, Py_ssize_t z, uint64_t* rng) noexcept nogil:
    """One sweep of unit vectors in 2 components (see the declarations at the top)."""
    return _on_sweep(s, n, runs, n_runs, random_sites, indptr, indices, weights, h, beta,
                     method, delta, 2, z, rng)


cdef long long _on_sweep3(double* s, Py_ssize_t n, const int64_t* runs, Py_ssize_t n_runs,
                          bint random_sites, const int32_t* indptr, const int32_t* indices,
                          const double* weights, double h, double beta, int method,
                          double delta, Py_ssize_t z, uint64_t* rng) noexcept nogil:
    """One sweep of unit vectors in 3 components."""
    return _on_sweep(s, n, runs, n_runs, random_sites, indptr, indices, weights, h, beta,
                     method, delta, 3, z, rng)


cdef Py_ssize_t _common_degree(const int32_t* indptr, Py_ssize_t n) noexcept nogil:
    """z if row i of the CSR table is [z i, z i + z) for every i, else 0."""
    cdef Py_ssize_t i, z = indptr[1] - indptr[0] if n > 0 else 0
    for i in range(n + 1):
        if indptr[i] != z * i:
            return 0
    return z


def on_local_run(double[:, ::1] s, double h, double beta, int method, double delta,
                 Py_ssize_t n_over, const int64_t[:, ::1] runs, bint random_sites, object obs,
                 uint64_t[::1] rng_state, Py_ssize_t n_measure, Py_ssize_t every,
                 double[:, ::1] out):
    """Run n_measure * every sweeps of an O(n) model (n = s.shape[1] in {2, 3});
    a sweep is one Metropolis (step `delta`) or heat-bath sweep, then `n_over`
    overrelaxation sweeps.  Measurement rows as in cext/observe.pxd.
    Returns the number of accepted Metropolis proposals."""
    cdef uint64_t st[4]
    st[0], st[1], st[2], st[3] = rng_state[0], rng_state[1], rng_state[2], rng_state[3]
    cdef Tables t = tables_from(obs)
    cdef Py_ssize_t m, sweep, o, n = s.shape[0], d = s.shape[1], n_runs = runs.shape[0]
    cdef Py_ssize_t blocks = n_measure if n_measure > 0 else 1
    cdef long long accepted = 0
    cdef const int64_t* rp = &runs[0, 0] if n_runs > 0 else NULL
    cdef Py_ssize_t z = _common_degree(t.indptr, n)
    if d != 2 and d != 3:
        raise ValueError("O(n) kernels support n = 2 and 3")
    with nogil:
        for m in range(blocks):
            for sweep in range(every):
                if d == 2:
                    accepted += _on_sweep2(&s[0, 0], n, rp, n_runs, random_sites, t.indptr,
                                           t.indices, t.weights, h, beta, method, delta, z, st)
                    for o in range(n_over):
                        _on_sweep2(&s[0, 0], n, rp, n_runs, False, t.indptr, t.indices,
                                   t.weights, h, beta, OVERRELAX, delta, z, st)
                else:
                    accepted += _on_sweep3(&s[0, 0], n, rp, n_runs, random_sites, t.indptr,
                                           t.indices, t.weights, h, beta, method, delta, z, st)
                    for o in range(n_over):
                        _on_sweep3(&s[0, 0], n, rp, n_runs, False, t.indptr, t.indices,
                                   t.weights, h, beta, OVERRELAX, delta, z, st)
            if n_measure > 0:
                measure_vector(&s[0, 0], &t, beta, &out[m, 0])
    rng_state[0], rng_state[1], rng_state[2], rng_state[3] = st[0], st[1], st[2], st[3]
    return accepted
