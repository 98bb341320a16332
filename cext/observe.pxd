# Measurements shared by the Potts / clock / O(n) kernels.
#
# One measurement writes a row of d + 4 numbers (d = spin-vector dimension):
#   row[0]          total energy H
#   row[1 .. d]     total magnetisation vector  sum_i v_i
#   row[d + 1]      sum over cell axes t of |sum_i v_i exp(i k_t . n_i)|^2 with
#                   k_t . n_i = 2 pi n_{i,t} / L_t (the smallest non-zero
#                   wave vector along axis t; n_i the cell index of site i)
#   row[d + 2]      helicity estimator (total, not per site):
#                   (1/D) sum_a [ A_a - beta B_a^2 ],
#                   A_a = sum_<ij> J_ij cos(theta_i - theta_j) (e_ij . x_a)^2,
#                   B_a = sum_<ij> J_ij sin(theta_i - theta_j) (e_ij . x_a)
#                   over the D real-space axes x_a (e_ij the bond vector);
#                   its mean is the helicity modulus (spin stiffness) times N
#   row[d + 3]      vortices + antivortices: plaquettes whose angle winding is +-1
#
# For discrete states a in [0, q) the spin vector is v_a = V[a], the bond
# energy is -J_ij K[a, b] and sin(theta_a - theta_b) = KS[a, b]; for O(n)
# vectors v = s_i, K = s_i . s_j and KS = the z component of s_i x s_j (n = 2).
# Every array the tables point into is owned by the Python object passed in
# (kadanoff.models.spin._Observables), alive for the kernel call.
from libc.stdint cimport int32_t
from libc.math cimport atan2, floor, fabs

cdef extern from *:
    """
    #define KD_TWO_PI 6.283185307179586
    """
    double KD_TWO_PI


cdef struct Tables:
    Py_ssize_t n, q, d, n_axes, n_dirs, n_plaq
    bint site_field
    const int32_t* indptr
    const int32_t* indices
    const double* weights       # per CSR entry
    const double* K             # (q, q) discrete only
    const double* KS            # (q, q) discrete only
    const double* hf            # (1 or n, q): field energy is -hf[i, a]; O(n): hf[0] = h
    const double* V             # (q, d) discrete only
    const double* phase         # (2 n_axes, n): cos and sin rows per axis
    const double* evec          # (nnz, n_dirs) bond vector of each CSR entry
    const int32_t* plaq         # (n_plaq, 4) corners in cyclic order
    double* work                # scratch, >= 2 d n_axes + 2 n_dirs + 2 q + 4 n_axes q
    double* angle               # scratch, n (vortex counting)


cdef inline const double* _dptr(const double[::1] a):
    return &a[0] if a.shape[0] > 0 else NULL


cdef inline Tables tables_from(object obs):
    """Pointers into the arrays held by `obs` (a _Observables instance)."""
    cdef Tables t
    cdef const int32_t[::1] ip = obs.indptr
    cdef const int32_t[::1] ix = obs.indices
    cdef const int32_t[::1] pl = obs.plaquettes
    cdef double[::1] work = obs.work
    cdef double[::1] angle = obs.angle
    t.n = obs.n_sites
    t.q = obs.q
    t.d = obs.d
    t.n_axes = obs.n_axes
    t.n_dirs = obs.n_dirs
    t.n_plaq = obs.n_plaquettes
    t.site_field = obs.site_field
    t.indptr = &ip[0]
    t.indices = &ix[0] if ix.shape[0] > 0 else NULL
    t.weights = _dptr(obs.weights)
    t.K = _dptr(obs.K)
    t.KS = _dptr(obs.KS)
    t.hf = _dptr(obs.hf)
    t.V = _dptr(obs.V)
    t.phase = _dptr(obs.phase)
    t.evec = _dptr(obs.evec)
    t.plaq = &pl[0] if pl.shape[0] > 0 else NULL
    t.work = &work[0]
    t.angle = &angle[0] if angle.shape[0] > 0 else NULL
    return t


cdef inline void _finish(const Tables* t, double beta, double bond, double field,
                         double* mag, double* re, double* im, double* A, double* B,
                         double vortices, double* row) noexcept nogil:
    cdef Py_ssize_t c, a
    cdef double sk = 0.0, hel = 0.0
    row[0] = -0.5 * bond - field
    for c in range(t.d):
        row[1 + c] = mag[c]
    for a in range(t.n_axes * t.d):
        sk += re[a] * re[a] + im[a] * im[a]
    row[t.d + 1] = sk
    for a in range(t.n_dirs):
        # each bond was seen from both ends
        hel += 0.5 * A[a] - beta * (0.5 * B[a]) * (0.5 * B[a])
    row[t.d + 2] = hel / t.n_dirs if t.n_dirs > 0 else 0.0
    row[t.d + 3] = vortices


cdef inline void _store_helicity(double* A, double* B, Py_ssize_t n_dirs, double A0, double A1,
                                 double A2, double B0, double B1, double B2) noexcept nogil:
    """Write the helicity sums kept in registers (1-3 dimensions) to A, B;
    with more dimensions they were accumulated in A, B directly."""
    if 0 < n_dirs <= 3:
        A[0] = A0
        B[0] = B0
    if 1 < n_dirs <= 3:
        A[1] = A1
        B[1] = B1
    if n_dirs == 3:
        A[2] = A2
        B[2] = B2


cdef inline void measure_discrete(const signed char* s, const Tables* t, double beta,
                                  double* row) noexcept nogil:
    """One measurement row (layout above) of a discrete configuration s.

    Speed: the sums over sites are kept per state a (occupation numbers and
    per-state Fourier sums, in two copies for even and odd sites so that
    consecutive sites do not wait for each other's additions), per site in
    locals, and turned into vectors V[a] once at the end."""
    cdef Py_ssize_t i, k, c, a, ax, q = t.q, d = t.d, n = t.n, nax = t.n_axes
    cdef Py_ssize_t nw = nax * d
    cdef double* mag = row + 1           # accumulated in place, rewritten by _finish
    cdef double* re = t.work
    cdef double* im = t.work + nw
    cdef double* A = t.work + 2 * nw
    cdef double* B = A + t.n_dirs
    cdef double* occ = B + t.n_dirs      # [parity][state]: number of sites
    cdef double* fs = occ + 2 * q        # [parity][axis][cos, sin][state]: phase sums
    cdef double bond0 = 0.0, bond1 = 0.0, field0 = 0.0, field1 = 0.0, b, w, kab, e, v
    cdef double A0 = 0.0, A1 = 0.0, A2 = 0.0, B0 = 0.0, B1 = 0.0, B2 = 0.0
    cdef double* o
    cdef double* f
    cdef int si, par
    cdef Py_ssize_t n_dirs = t.n_dirs
    cdef const double* hf = t.hf
    cdef const double* K = t.K
    cdef const double* KS = t.KS
    cdef const double* weights = t.weights
    cdef const double* evec = t.evec
    cdef const double* phase = t.phase
    cdef const int32_t* indptr = t.indptr
    cdef const int32_t* indices = t.indices
    for a in range(2 * nw + 2 * n_dirs + 2 * q + 4 * nax * q):
        t.work[a] = 0.0
    for i in range(n):
        si = s[i]
        par = i & 1
        b = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            w = weights[k]
            kab = w * K[si * q + s[indices[k]]]
            b += kab
            if n_dirs > 3:                   # helicity in more than 3 dimensions
                for a in range(n_dirs):
                    e = evec[k * n_dirs + a]
                    A[a] += kab * e * e
                    B[a] += w * KS[si * q + s[indices[k]]] * e
            elif n_dirs > 0:                 # 1-3 dimensions: in registers
                e = evec[k * n_dirs]
                A0 += kab * e * e
                B0 += w * KS[si * q + s[indices[k]]] * e
                if n_dirs > 1:
                    e = evec[k * n_dirs + 1]
                    A1 += kab * e * e
                    B1 += w * KS[si * q + s[indices[k]]] * e
                if n_dirs > 2:
                    e = evec[k * n_dirs + 2]
                    A2 += kab * e * e
                    B2 += w * KS[si * q + s[indices[k]]] * e
        o = occ + par * q
        o[si] += 1.0
        f = fs + par * 2 * nax * q + si
        for ax in range(nax):
            f[2 * ax * q] += phase[2 * ax * n + i]
            f[(2 * ax + 1) * q] += phase[(2 * ax + 1) * n + i]
        if par:
            bond1 += b
            if t.site_field:
                field1 += hf[i * q + si]
        else:
            bond0 += b
            if t.site_field:
                field0 += hf[i * q + si]
    _store_helicity(A, B, n_dirs, A0, A1, A2, B0, B1, B2)
    for c in range(d):
        mag[c] = 0.0
    for a in range(q):
        occ[a] += occ[q + a]
        if not t.site_field:
            field0 += occ[a] * hf[a]
        for c in range(d):
            v = t.V[a * d + c]
            mag[c] += occ[a] * v
            for ax in range(nax):
                re[ax * d + c] += v * (fs[2 * ax * q + a] + fs[(2 * nax + 2 * ax) * q + a])
                im[ax * d + c] += v * (fs[(2 * ax + 1) * q + a]
                                       + fs[(2 * nax + 2 * ax + 1) * q + a])
    _finish(t, beta, bond0 + bond1, field0 + field1, mag, re, im, A, B, 0.0, row)


cdef inline double _pseudo_angle(double x, double y) noexcept nogil:
    """A monotonic stand-in for the angle of (x, y), in [0, 4): the diamond
    angle (no atan2).  Like the angle, it moves by exactly 2 (half a turn)
    under (x, y) -> (-x, -y), so a step is "the shorter way round" exactly
    when its angle step is, and windings are counted the same."""
    cdef double r = fabs(x) + fabs(y)
    if r == 0.0:
        return 0.0
    if y >= 0.0:
        return 1.0 - x / r
    return 3.0 + x / r


cdef inline double _wrap4(double x) noexcept nogil:
    """A pseudo-angle step reduced to [-2, 2)."""
    if x >= 2.0:
        return x - 4.0
    if x < -2.0:
        return x + 4.0
    return x


cdef inline void measure_vector(const double* s, const Tables* t, double beta,
                                double* row) noexcept nogil:
    """One measurement row of unit vectors s (n x d, row-major); field h = hf[0]
    along component 0; vortices from the plaquettes when d = 2 (a plaquette
    whose steps, each the shorter way round, add up to one full turn)."""
    cdef Py_ssize_t i, j, k, c, a, ax, p, d = t.d, n_dirs = t.n_dirs
    cdef Py_ssize_t nw = t.n_axes * d
    cdef double* mag = row + 1
    cdef double* re = t.work
    cdef double* im = t.work + nw
    cdef double* A = t.work + 2 * nw
    cdef double* B = A + n_dirs
    cdef double bond0 = 0.0, bond1 = 0.0, b, field = 0.0, w, dot, cross, e, v, wind
    cdef double vortices = 0.0
    cdef double A0 = 0.0, A1 = 0.0, A2 = 0.0, B0 = 0.0, B1 = 0.0, B2 = 0.0
    cdef double h = t.hf[0] if t.hf != NULL else 0.0
    cdef const int32_t* indptr = t.indptr
    cdef const int32_t* indices = t.indices
    cdef const double* weights = t.weights
    cdef const double* evec = t.evec
    for c in range(d):
        mag[c] = 0.0
    for a in range(2 * nw + 2 * n_dirs):
        t.work[a] = 0.0
    for i in range(t.n):
        b = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            w = weights[k]
            dot = 0.0
            for c in range(d):
                dot += s[i * d + c] * s[j * d + c]
            b += w * dot
            if n_dirs > 0:
                cross = s[i * d + 1] * s[j * d] - s[i * d] * s[j * d + 1]   # sin(th_i - th_j)
                if n_dirs > 3:
                    for a in range(n_dirs):
                        e = evec[k * n_dirs + a]
                        A[a] += w * dot * e * e
                        B[a] += w * cross * e
                else:                            # 1-3 dimensions: in registers
                    e = evec[k * n_dirs]
                    A0 += w * dot * e * e
                    B0 += w * cross * e
                    if n_dirs > 1:
                        e = evec[k * n_dirs + 1]
                        A1 += w * dot * e * e
                        B1 += w * cross * e
                    if n_dirs > 2:
                        e = evec[k * n_dirs + 2]
                        A2 += w * dot * e * e
                        B2 += w * cross * e
        if i & 1:
            bond1 += b
        else:
            bond0 += b
        field += h * s[i * d]
        for c in range(d):
            v = s[i * d + c]
            mag[c] += v
            for ax in range(t.n_axes):
                re[ax * d + c] += v * t.phase[2 * ax * t.n + i]
                im[ax * d + c] += v * t.phase[(2 * ax + 1) * t.n + i]
    _store_helicity(A, B, n_dirs, A0, A1, A2, B0, B1, B2)
    if t.n_plaq > 0 and d == 2:
        for i in range(t.n):
            t.angle[i] = _pseudo_angle(s[2 * i], s[2 * i + 1])
        for p in range(t.n_plaq):
            wind = 0.0
            for c in range(4):
                wind += _wrap4(t.angle[t.plaq[4 * p + (c + 1) % 4]] - t.angle[t.plaq[4 * p + c]])
            vortices += fabs(wind) > 2.0      # winding +-4 (one turn), else 0
    _finish(t, beta, bond0 + bond1, field, mag, re, im, A, B, vortices, row)
