# Kernels for dynamics that break detailed balance (kadanoff.models.driven),
# each accumulating the stochastic entropy production of the medium.
#
# Every kernel is a discrete-time Markov chain of single steps; for each
# executed transition x -> x' it adds
#     ds = ln P(x -> x') / P(x' -> x)
# (k_B = 1), which for these steps is a table or closed-form value:
#   exchange_run random-sequential Kawasaki exchange with a drive (KLS):
#                a step picks a site i and one of its z neighbours j uniformly
#                (probability 1 / (N z)); if exactly one of them holds a
#                particle it hops with p = min(1, exp(-beta (dH - E dx))),
#                dx = +-1 its displacement along the drive axis (0 across).
#                The pair {i, j} is proposed with the same probability in both
#                directions, so ds = -beta (dH - E dx).
#                The same kernel (exchange_run) runs the two-temperature
#                model: exchanges across bonds along axis 0 at beta_x, across
#                the others at beta_y, ds = -beta_bond dH.
#   kinetic_seq_run  random-sequential Glauber (or Metropolis) for a dense,
#                possibly asymmetric coupling matrix: local field
#                g_i = h_i + sum_j J_ij s_j (J_ii = 0), flip with
#                f(-2 beta s_i g_i); ds = -2 beta s_i g_i.
#   kinetic_par_run  synchronous (parallel) Glauber: all spins at once,
#                P(s' | s) = prod_i exp(beta s'_i g_i(s)) / (2 cosh beta g_i(s));
#                ds = sum_i [beta s'_i g_i(s) - lc(g_i(s))] - [beta s_i g_i(s') - lc(g_i(s'))]
#                with lc(g) = ln 2 cosh(beta g); g(s') is computed once and
#                serves the next step too.
#   kinetic_csr_run  both, for sparse couplings (CSR rows).
#
# Each kernel runs n_measure blocks of `every` sweeps (n_measure = 0: `every`
# unmeasured sweeps) and writes per block the entropy produced in the block,
# and, when `smap` has rows, the entropy resolved by (site, direction) (see
# the Python models for the attribution).  Nothing is allocated per step.
from libc.stdint cimport uint64_t, int32_t
from libc.math cimport exp, fabs, log1p

from rng cimport next_double, next_index

cdef enum:
    METROPOLIS = 0
    HEATBATH = 1


cdef inline double _accept(double a, int method) noexcept nogil:
    """Acceptance probability of a move with log ratio a = ln(w_f / w_b)."""
    if method == METROPOLIS:
        return 1.0 if a >= 0.0 else exp(a)
    return 1.0 / (1.0 + exp(-a))


cdef inline double _lc(double x) noexcept nogil:
    """ln(2 cosh x), without overflow."""
    cdef double ax = fabs(x)
    return ax + log1p(exp(-2.0 * ax))


cdef inline void _zero_map(double[:, :, ::1] smap, Py_ssize_t m) noexcept nogil:
    cdef Py_ssize_t i, d
    for i in range(smap.shape[1]):
        for d in range(smap.shape[2]):
            smap[m, i, d] = 0.0


cdef inline double _fourier2(const signed char* s, Py_ssize_t n, const double[::1] phase,
                             bint occupation) noexcept nogil:
    """|sum_i s_i exp(i k . r_i)|^2 for the cos / sin rows in `phase` (2 N or
    empty); occupation: s holds 0/1, use the spin 2 n - 1."""
    cdef Py_ssize_t i
    cdef double re = 0.0, im = 0.0, v
    if phase.shape[0] < 2 * n:
        return 0.0
    for i in range(n):
        v = <double>(2 * s[i] - 1) if occupation else <double>s[i]
        re += v * phase[i]
        im += v * phase[n + i]
    return re * re + im * im


cdef inline long _bond_sum(const signed char* s, Py_ssize_t n, const int32_t* indices,
                           Py_ssize_t z, bint occupation) noexcept nogil:
    """sum over bonds of s_i s_j (spins; 2 n - 1 for occupations)."""
    cdef Py_ssize_t i, k
    cdef long total = 0, si, loc
    for i in range(n):
        si = (2 * s[i] - 1) if occupation else s[i]
        loc = 0
        for k in range(z):
            loc += (2 * s[indices[z * i + k]] - 1) if occupation else s[indices[z * i + k]]
        total += si * loc
    return total // 2


# ---------------------------------------------------------------------------
# particle-hole exchanges: driven lattice gas (KLS), two-temperature model
# ---------------------------------------------------------------------------
def exchange_run(signed char[::1] occ, const int32_t[::1] indices, Py_ssize_t z,
                 const signed char[::1] entry_dx, const signed char[::1] entry_dir,
                 const int32_t[::1] entry_site, const signed char[::1] col_fwd,
                 const signed char[::1] col_bwd, const double[:, ::1] prob,
                 const double[:, ::1] dS, uint64_t[::1] rng_state, Py_ssize_t n_measure,
                 Py_ssize_t every, const double[::1] phase, double[:, ::1] out,
                 double[:, :, ::1] smap):
    """Random-sequential particle-hole exchanges on a periodic hypercubic lattice.

    occ: occupations 0/1 (N,); indices: CSR neighbours, row i at z i.  For
    CSR entry e (site i -> j = indices[e]): entry_dx[e] in {-1, 0, 1} the
    displacement along the drive axis, entry_dir[e] the axis of the bond,
    entry_site[e] the site the bond leaves along +axis (the map row), and
    col_fwd[e] / col_bwd[e] the table column of a hop i -> j / j -> i.
    prob, dS: (2 z - 1, n_col) tables indexed [m + z - 1, column] with
    m = nb(p) - nb(h) + 1 (occupied neighbours of the particle's site p and of
    the hole h), so that dH = 4 J m for H = -J sum s_i s_j, s = 2 n - 1.
    out[m] = (sum_<ij> s_i s_j, net hops along the drive, entropy produced,
    |sum_i s_i e^{i k.r}|^2, sum of m over the accepted hops of column 0, 1, 2).
    """
    cdef uint64_t st[4]
    st[0], st[1], st[2], st[3] = rng_state[0], rng_state[1], rng_state[2], rng_state[3]
    cdef Py_ssize_t n = occ.shape[0], nz = occ.shape[0] * z
    cdef Py_ssize_t blocks = n_measure if n_measure > 0 else 1
    cdef Py_ssize_t m, t, q, e, i, j, p, h, k, mm, c
    cdef int nbp, nbh, dx
    cdef bint domap = smap.shape[0] > 0 and n_measure > 0
    cdef double S, ds
    cdef long cur
    cdef long msum[3]
    cdef signed char* s = &occ[0]
    cdef const int32_t* nb = &indices[0]
    with nogil:
        for m in range(blocks):
            S = 0.0
            cur = 0
            msum[0] = 0
            msum[1] = 0
            msum[2] = 0
            if domap:
                _zero_map(smap, m)
            for t in range(every):
                for q in range(n):
                    e = next_index(st, nz)
                    i = e // z
                    j = nb[e]
                    if s[i] == s[j]:
                        continue
                    if s[i]:
                        p = i
                        h = j
                        dx = entry_dx[e]
                        c = col_fwd[e]
                    else:
                        p = j
                        h = i
                        dx = -entry_dx[e]
                        c = col_bwd[e]
                    nbp = 0
                    nbh = 0
                    for k in range(z):
                        nbp += s[nb[z * p + k]]
                        nbh += s[nb[z * h + k]]
                    mm = nbp - nbh + z
                    if next_double(st) < prob[mm, c]:
                        s[p] = 0
                        s[h] = 1
                        ds = dS[mm, c]
                        S += ds
                        cur += dx
                        msum[c] += mm - z + 1
                        if domap:
                            smap[m, entry_site[e], entry_dir[e]] += ds
            if n_measure > 0:
                out[m, 0] = <double>_bond_sum(s, n, nb, z, True)
                out[m, 1] = <double>cur
                out[m, 2] = S
                out[m, 3] = _fourier2(s, n, phase, True)
                out[m, 4] = <double>msum[0]
                out[m, 5] = <double>msum[1]
                out[m, 6] = <double>msum[2]
    rng_state[0], rng_state[1], rng_state[2], rng_state[3] = st[0], st[1], st[2], st[3]


# ---------------------------------------------------------------------------
# kinetic Ising model with dense (asymmetric) couplings
# ---------------------------------------------------------------------------
cdef inline double _field(const double* Jrow, const double* x, Py_ssize_t n,
                          double h) noexcept nogil:
    """h + sum_j Jrow[j] x[j] with four independent partial sums (the spins
    as doubles, so the loop needs no conversion and pipelines)."""
    cdef Py_ssize_t j = 0
    cdef double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    while j + 4 <= n:
        s0 += Jrow[j] * x[j]
        s1 += Jrow[j + 1] * x[j + 1]
        s2 += Jrow[j + 2] * x[j + 2]
        s3 += Jrow[j + 3] * x[j + 3]
        j += 4
    while j < n:
        s0 += Jrow[j] * x[j]
        j += 1
    return h + ((s0 + s1) + (s2 + s3))


cdef inline void _measure_kinetic(const signed char* s, Py_ssize_t n,
                                  const signed char[:, ::1] patterns, double* row,
                                  double[:, ::1] ov, Py_ssize_t m) noexcept nogil:
    cdef Py_ssize_t i, mu
    cdef long tot = 0
    for i in range(n):
        tot += s[i]
    row[0] = <double>tot
    for mu in range(patterns.shape[0]):
        tot = 0
        for i in range(n):
            tot += patterns[mu, i] * s[i]
        ov[m, mu] = <double>tot / n


def kinetic_seq_run(signed char[::1] spin, const double[:, ::1] J, const double[::1] h,
                    double beta, int method, uint64_t[::1] rng_state, Py_ssize_t n_measure,
                    Py_ssize_t every, const signed char[:, ::1] patterns, double[:, ::1] out,
                    double[:, ::1] ov, double[:, :, ::1] smap, double[:, ::1] fields):
    """Random-sequential single-spin updates with local field
    g_i = h_i + sum_j J_ij s_j (J_ii = 0).  out[m] = (sum_i s_i, entropy);
    ov[m, mu] = overlap with patterns[mu]; smap[m, i, 0] entropy of site i;
    fields (3, N) scratch (row 2: the spins as doubles)."""
    cdef uint64_t st[4]
    st[0], st[1], st[2], st[3] = rng_state[0], rng_state[1], rng_state[2], rng_state[3]
    cdef Py_ssize_t n = spin.shape[0]
    cdef Py_ssize_t blocks = n_measure if n_measure > 0 else 1
    cdef Py_ssize_t m, t, q, i
    cdef bint domap = smap.shape[0] > 0 and n_measure > 0
    cdef double S, a
    cdef signed char* s = &spin[0]
    cdef double* x = &fields[2, 0]
    with nogil:
        for i in range(n):
            x[i] = s[i]
        for m in range(blocks):
            S = 0.0
            if domap:
                _zero_map(smap, m)
            for t in range(every):
                for q in range(n):
                    i = next_index(st, n)
                    a = -2.0 * beta * s[i] * _field(&J[i, 0], x, n, h[i])
                    if next_double(st) < _accept(a, method):
                        s[i] = -s[i]
                        x[i] = -x[i]
                        S += a
                        if domap:
                            smap[m, i, 0] += a
            if n_measure > 0:
                _measure_kinetic(s, n, patterns, &out[m, 0], ov, m)
                out[m, 1] = S
    rng_state[0], rng_state[1], rng_state[2], rng_state[3] = st[0], st[1], st[2], st[3]


def kinetic_par_run(signed char[::1] spin, const double[:, ::1] J, const double[::1] h,
                    double beta, uint64_t[::1] rng_state, Py_ssize_t n_measure,
                    Py_ssize_t every, const signed char[:, ::1] patterns, double[:, ::1] out,
                    double[:, ::1] ov, double[:, :, ::1] smap, double[:, ::1] fields):
    """Synchronous Glauber steps (one step = one sweep).  fields (3, N) is
    scratch space (local fields, old spins, new spins as doubles); see kinetic_seq_run for out / ov / smap."""
    cdef uint64_t st[4]
    st[0], st[1], st[2], st[3] = rng_state[0], rng_state[1], rng_state[2], rng_state[3]
    cdef Py_ssize_t n = spin.shape[0]
    cdef Py_ssize_t blocks = n_measure if n_measure > 0 else 1
    cdef Py_ssize_t m, t, i
    cdef bint domap = smap.shape[0] > 0 and n_measure > 0
    cdef double S, g, g2, ds
    cdef signed char* s = &spin[0]
    cdef double* x = &fields[2, 0]
    with nogil:
        for i in range(n):
            x[i] = s[i]
        for i in range(n):
            fields[0, i] = _field(&J[i, 0], x, n, h[i])
        for m in range(blocks):
            S = 0.0
            if domap:
                _zero_map(smap, m)
            for t in range(every):
                # s' from g(s) (fields[0]); the old spins go to fields[1]
                for i in range(n):
                    fields[1, i] = <double>s[i]
                    s[i] = 1 if next_double(st) * (1.0 + exp(-2.0 * beta * fields[0, i])) < 1.0 \
                        else -1
                    x[i] = s[i]
                # ds_i = beta s'_i g_i(s) - lc(g_i(s)) - beta s_i g_i(s') + lc(g_i(s'))
                for i in range(n):
                    g = fields[0, i]
                    g2 = _field(&J[i, 0], x, n, h[i])
                    ds = (beta * s[i] * g - _lc(beta * g)) - (beta * fields[1, i] * g2
                                                               - _lc(beta * g2))
                    S += ds
                    if domap:
                        smap[m, i, 0] += ds
                    fields[0, i] = g2
            if n_measure > 0:
                _measure_kinetic(s, n, patterns, &out[m, 0], ov, m)
                out[m, 1] = S
    rng_state[0], rng_state[1], rng_state[2], rng_state[3] = st[0], st[1], st[2], st[3]


# ---------------------------------------------------------------------------
# kinetic Ising model with sparse couplings (CSR rows: J_ij for j in row i)
# ---------------------------------------------------------------------------
cdef inline double _field_csr(const int32_t* indptr, const int32_t* indices,
                              const double* data, Py_ssize_t i, const signed char* s,
                              double h) noexcept nogil:
    cdef Py_ssize_t k
    cdef double g = h
    for k in range(indptr[i], indptr[i + 1]):
        g += data[k] * s[indices[k]]
    return g


def kinetic_csr_run(signed char[::1] spin, const int32_t[::1] indptr,
                    const int32_t[::1] indices, const double[::1] data, const double[::1] h,
                    double beta, int method, bint parallel, uint64_t[::1] rng_state,
                    Py_ssize_t n_measure, Py_ssize_t every,
                    const signed char[:, ::1] patterns, double[:, ::1] out, double[:, ::1] ov,
                    double[:, :, ::1] smap, double[:, ::1] fields):
    """kinetic_seq_run (parallel = False) or kinetic_par_run (parallel = True;
    method ignored) for couplings in CSR form: row i holds J_ij at
    indices[indptr[i]:indptr[i+1]].  fields (3, N) scratch."""
    cdef uint64_t st[4]
    st[0], st[1], st[2], st[3] = rng_state[0], rng_state[1], rng_state[2], rng_state[3]
    cdef Py_ssize_t n = spin.shape[0]
    cdef Py_ssize_t blocks = n_measure if n_measure > 0 else 1
    cdef Py_ssize_t m, t, q, i
    cdef bint domap = smap.shape[0] > 0 and n_measure > 0
    cdef double S, a, g, g2, ds
    cdef signed char* s = &spin[0]
    cdef const int32_t* ip = &indptr[0]
    cdef const int32_t* ix = &indices[0] if indices.shape[0] > 0 else NULL
    cdef const double* dv = &data[0] if data.shape[0] > 0 else NULL
    with nogil:
        if parallel:
            for i in range(n):
                fields[0, i] = _field_csr(ip, ix, dv, i, s, h[i])
        for m in range(blocks):
            S = 0.0
            if domap:
                _zero_map(smap, m)
            for t in range(every):
                if not parallel:
                    for q in range(n):
                        i = next_index(st, n)
                        a = -2.0 * beta * s[i] * _field_csr(ip, ix, dv, i, s, h[i])
                        if next_double(st) < _accept(a, method):
                            s[i] = -s[i]
                            S += a
                            if domap:
                                smap[m, i, 0] += a
                else:
                    for i in range(n):
                        fields[1, i] = <double>s[i]
                        s[i] = 1 if next_double(st) * (1.0 + exp(-2.0 * beta * fields[0, i])) \
                            < 1.0 else -1
                    for i in range(n):
                        g = fields[0, i]
                        g2 = _field_csr(ip, ix, dv, i, s, h[i])
                        ds = (beta * s[i] * g - _lc(beta * g)) - (beta * fields[1, i] * g2
                                                                   - _lc(beta * g2))
                        S += ds
                        if domap:
                            smap[m, i, 0] += ds
                        fields[0, i] = g2
            if n_measure > 0:
                _measure_kinetic(s, n, patterns, &out[m, 0], ov, m)
                out[m, 1] = S
    rng_state[0], rng_state[1], rng_state[2], rng_state[3] = st[0], st[1], st[2], st[3]
