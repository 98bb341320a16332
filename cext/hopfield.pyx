# Overlap-based single-neuron updates for associative memories.
#
# Every energy here is a sum over stored vectors x^mu (mu = 0..P-1) of a
# function of the integer overlap M_mu = sum_i x_i^mu s_i, s_i = +-1:
#
#     H(s) = sum_mu U_mu(M_mu) + const
#
#   POLY: U_mu(M) = A_mu (M / N)^p       (pairwise p = 2, dense p-body p >= 3)
#   EXP : U_mu(M) = A_mu exp(lam (M / N - 1))   (exponential / modern energy)
#
# (the Python models choose A_mu, p, lam; see kadanoff/models/hopfield.py).
# Flipping s_i changes M_mu by y_mu = -2 s_i x_i^mu, so the energy change is
# a sum of P terms and costs O(P) per proposal, never O(N^2); the overlaps
# M_mu are maintained incrementally (O(P) per accepted flip) and rebuilt
# from scratch (O(N P)) at the start of every kernel call.
#
# Two paths:
#   binary : x_i^mu in {-1, 0, +1} (int8, layout (N, P)).  With
#            eps = -s_i x_i^mu in {-1, 0, 1},
#                U(M + 2 eps) - U(M) = eps G(M) + eps^2 D(M),
#                G = (U(M+2) - U(M-2)) / 2,  D = (U(M+2) + U(M-2)) / 2 - U(M),
#            exactly, so dH_i = -s_i sum_mu x_i^mu G_mu + sum_mu (x_i^mu)^2 D_mu:
#            one int8 x double dot product per proposal (the second sum is a
#            maintained total when no entry is 0).  G and D are kept per
#            pattern and refreshed for the patterns touched by an accepted
#            flip.  POLY: G, D are the odd / even parts of the binomial
#            expansion A sum_k C(p,k) (2/N)^k x^(p-k), x = M / N (Horner in
#            x, coefficients from Python); EXP: G = U sinh(2 lam / N), D = U 2 sinh^2(lam / N),
#            with exp(lam (M/N - 1)) read from a table over M in [-N, N].
#   integer: integer-valued entries (float64, e.g. sums of M_mu examples for
#            the supervised model), POLY only:
#                U(M + y) - U(M) = sum_{k=1..p} z^k W_k,  W_k = A C(p,k) x^(p-k),
#            z = y / N, x = M / N, evaluated by Horner in z with W_1..W_{p-1}
#            kept per pattern.
#
# Dynamics (one sweep = N proposals, sites in index order or drawn uniformly):
#   metropolis: flip with probability min(1, exp(-beta dH))
#   glauber   : flip with probability 1 / (1 + exp(beta dH))   (heat bath)
# with one uniform u per proposal; a cubic lower bound of exp() settles most
# proposals far from the acceptance threshold without calling exp().
# Screening (binary path, P >= 256): the K_TOP patterns with the largest
# |G| (+ |D|) are summed exactly and the rest is bounded by the sum of
# their |G| (+ |D|), kept up to date with every accepted flip; when the
# proposal is accepted at dH_hi or rejected at dH_lo (the acceptance falls
# with dH) the decision is taken without the O(P) dot product.  It is the decision the
# full sum would give (up to rounding at the 1e-9 relative level, where the
# bound is widened), so the chain is unchanged; deep in a retrieval state
# of a dense network almost every proposal is decided this way.
#   zero temperature, asynchronous: flip iff dH < 0 (beyond rounding), sites
#            in a given order, until a sweep flips nothing (a fixed point);
#   zero temperature, synchronous: all dH_i from the same state, then every
#            neuron with dH_i < 0 flips at once.
# Kernels run nogil, allocate nothing per step and never call Python.
from libc.stdint cimport uint64_t, int64_t
from libc.math cimport exp, fabs, log, INFINITY

import numpy as np
cimport numpy as cnp

from rng cimport next_double, next_index

cnp.import_array()

cdef enum:
    POLY = 0
    EXP = 1
    METROPOLIS = 0
    GLAUBER = 1
    MAXP = 64
    K_TOP = 8


cdef extern from *:
    """
    /* Dot products over the P patterns of one neuron, sum_k x[k] g[k] and
       sum_k x[k]^2 g[k] with x in {-1, 0, 1}.  Every product x g is exact,
       and the summation order is fixed: element k goes to partial sum
       S[k % 16] in increasing k, then a fixed reduction tree.  The AVX2 path
       (chosen at run time on x86-64) follows exactly this order, so both
       paths give the same bits. */
    #if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
    #define HOP_X86 1
    #include <immintrin.h>
    #endif

    static inline double hop_reduce16(const double *S) {
        double v0 = (S[0] + S[4]) + (S[8] + S[12]);
        double v1 = (S[1] + S[5]) + (S[9] + S[13]);
        double v2 = (S[2] + S[6]) + (S[10] + S[14]);
        double v3 = (S[3] + S[7]) + (S[11] + S[15]);
        return (v0 + v1) + (v2 + v3);
    }

    static double hop_dot_generic(const signed char *x, const double *g, Py_ssize_t n, int sq) {
        double S[16] = {0.0};
        Py_ssize_t k;
        if (sq) {
            for (k = 0; k < n; ++k) S[k & 15] += (double)(x[k] * x[k]) * g[k];
        } else {
            for (k = 0; k < n; ++k) S[k & 15] += (double)x[k] * g[k];
        }
        return hop_reduce16(S);
    }

    #ifdef HOP_X86
    __attribute__((target("avx2")))
    static double hop_dot_avx2(const signed char *x, const double *g, Py_ssize_t n, int sq) {
        __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
        __m256d a2 = _mm256_setzero_pd(), a3 = _mm256_setzero_pd();
        double S[16];
        Py_ssize_t k = 0;
        for (; k + 16 <= n; k += 16) {
            __m128i b = _mm_loadu_si128((const __m128i *)(x + k));
            if (sq) b = _mm_abs_epi8(b);          /* x^2 = |x| for x in {-1, 0, 1} */
            __m256i lo = _mm256_cvtepi8_epi32(b);
            __m256i hi = _mm256_cvtepi8_epi32(_mm_srli_si128(b, 8));
            __m256d x0 = _mm256_cvtepi32_pd(_mm256_castsi256_si128(lo));
            __m256d x1 = _mm256_cvtepi32_pd(_mm256_extracti128_si256(lo, 1));
            __m256d x2 = _mm256_cvtepi32_pd(_mm256_castsi256_si128(hi));
            __m256d x3 = _mm256_cvtepi32_pd(_mm256_extracti128_si256(hi, 1));
            a0 = _mm256_add_pd(a0, _mm256_mul_pd(x0, _mm256_loadu_pd(g + k)));
            a1 = _mm256_add_pd(a1, _mm256_mul_pd(x1, _mm256_loadu_pd(g + k + 4)));
            a2 = _mm256_add_pd(a2, _mm256_mul_pd(x2, _mm256_loadu_pd(g + k + 8)));
            a3 = _mm256_add_pd(a3, _mm256_mul_pd(x3, _mm256_loadu_pd(g + k + 12)));
        }
        _mm256_storeu_pd(S, a0);
        _mm256_storeu_pd(S + 4, a1);
        _mm256_storeu_pd(S + 8, a2);
        _mm256_storeu_pd(S + 12, a3);
        if (sq) {
            for (; k < n; ++k) S[k & 15] += (double)(x[k] * x[k]) * g[k];
        } else {
            for (; k < n; ++k) S[k & 15] += (double)x[k] * g[k];
        }
        return hop_reduce16(S);
    }
    static int hop_has_avx2 = -1;
    #endif

    static inline double hop_dot(const signed char *x, const double *g, Py_ssize_t n, int sq) {
    #ifdef HOP_X86
        if (hop_has_avx2 < 0) hop_has_avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
        if (hop_has_avx2) return hop_dot_avx2(x, g, n, sq);
    #endif
        return hop_dot_generic(x, g, n, sq);
    }
    static inline double hop_dot_i8(const signed char *x, const double *g, Py_ssize_t n) {
        return hop_dot(x, g, n, 0);
    }
    static inline double hop_dot_abs_i8(const signed char *x, const double *g, Py_ssize_t n) {
        return hop_dot(x, g, n, 1);
    }
    static void hop_force_generic(int yes) {
    #ifdef HOP_X86
        hop_has_avx2 = yes ? 0 : (__builtin_cpu_supports("avx2") ? 1 : 0);
    #endif
    }
    static int hop_simd(void) {
    #ifdef HOP_X86
        if (hop_has_avx2 < 0) hop_has_avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
        return hop_has_avx2;
    #else
        return 0;
    #endif
    }
    """
    double hop_dot_i8(const signed char* x, const double* g, Py_ssize_t n) noexcept nogil
    double hop_dot_abs_i8(const signed char* x, const double* g, Py_ssize_t n) noexcept nogil
    void hop_force_generic(int yes) noexcept nogil
    int hop_simd() noexcept nogil


def simd_path():
    """Name of the dot-product path in use: 'avx2' or 'generic'."""
    return "avx2" if hop_simd() else "generic"


def force_generic(bint yes):
    """Use the portable dot product even where AVX2 exists (tests: both
    paths must give the same bits)."""
    hop_force_generic(yes)


cdef struct Net:
    Py_ssize_t N, P
    int binary, diluted, kind, p
    const signed char* xb      # (N, P) int8, binary path
    const double* xd           # (N, P) float64, integer path
    const double* A            # (P,)
    const double* gc           # G / A = x^((p-1)%2) sum_j gc[j] x^(2j), x = M / N (binary POLY)
    const double* dc           # D / A = x^(p%2) sum_j dc[j] x^(2j)
    int ng, nd                 # lengths of gc, dc
    const double* binom        # (p + 1,) C(p, k)
    const double* etab         # (2 N + 1,) exp(lam (M / N - 1)) at M + N (EXP)
    double esh, ech1           # sinh(2 lam / N), cosh(2 lam / N) - 1 (EXP)
    double e_const
    double inv                 # 1 / N
    double* M                  # (P,) overlaps (integers held in doubles)
    double* G                  # (P,)
    double* D                  # (P,)
    double* W                  # (p - 1, P), integer path
    double Dsum
    const int64_t* gptr        # (n_q + 1,) groups of patterns summed into an observable
    Py_ssize_t n_q
    const signed char* targets # (n_q, N) int8, or NULL: observable = targets . s
    double tol                 # relative tie tolerance of the zero-temperature rule
    int screen                 # binary path: screening allowed
    int active                 # screening in use this sweep
    Py_ssize_t ntop
    Py_ssize_t top[K_TOP]      # patterns with the largest |G| (+ |D|) at the sweep start
    unsigned char* in_top      # (P,) 1 for the patterns in top
    double rest_w, rest_d, total_w   # over the rest: sum of weights, centre of the D part; all weights
    const double* dself        # (N,) sum_mu x_i^2 D_mu for constant D (p = 2 with blanks), or NULL
    double widen               # relative widening of the bound (rounding)
    long screened, full        # proposals decided by the bound / by the full sum


cdef inline double _horner(const double* c, int deg, double x) noexcept nogil:
    cdef double v = c[deg]
    cdef int j
    for j in range(deg - 1, -1, -1):
        v = v * x + c[j]
    return v


cdef inline double _ipow(double x, int n) noexcept nogil:
    cdef double r = 1.0
    while n > 0:
        if n & 1:
            r *= x
        x *= x
        n >>= 1
    return r


cdef inline void _poly_gd(Net* net, double x, double* g, double* d, double a) noexcept nogil:
    """G and D of U = A x^p (binary path): odd and even parts of the
    binomial expansion, as polynomials in x^2."""
    cdef double y = x * x
    cdef double gv = _horner(net.gc, net.ng - 1, y)
    cdef double dv = _horner(net.dc, net.nd - 1, y)
    if (net.p - 1) & 1:
        gv *= x
    if net.p & 1:
        dv *= x
    g[0] = a * gv
    d[0] = a * dv


cdef inline void _refresh_one(Net* net, Py_ssize_t mu) noexcept nogil:
    """G, D (binary) or W (integer) of pattern mu from its overlap M_mu."""
    cdef double m = net.M[mu], a = net.A[mu], x = net.M[mu] * net.inv, e, xp
    cdef int k
    if net.binary:
        if net.kind == POLY:
            _poly_gd(net, x, &net.G[mu], &net.D[mu], a)
        else:
            e = a * net.etab[<Py_ssize_t>m + net.N]
            net.G[mu] = e * net.esh
            net.D[mu] = e * net.ech1
    else:
        # W_k = A C(p, k) x^(p - k), k = 1 .. p - 1
        xp = x
        for k in range(net.p - 1, 0, -1):
            net.W[(k - 1) * net.P + mu] = a * net.binom[k] * xp
            xp *= x


cdef inline void _refresh_all(Net* net) noexcept nogil:
    cdef Py_ssize_t mu
    cdef double dsum = 0.0
    for mu in range(net.P):
        _refresh_one(net, mu)
        if net.binary:
            dsum += net.D[mu]
    net.Dsum = dsum
    if net.active:
        _screen_prepare(net)


cdef void _rebuild(Net* net, const signed char* s) noexcept nogil:
    """M_mu = sum_i x_i^mu s_i from scratch, then G, D / W."""
    cdef Py_ssize_t i, mu, P = net.P
    cdef double si
    cdef const signed char* xb
    cdef const double* xd
    for mu in range(P):
        net.M[mu] = 0.0
    for i in range(net.N):
        si = s[i]
        if net.binary:
            xb = net.xb + i * P
            for mu in range(P):
                net.M[mu] += si * xb[mu]
        else:
            xd = net.xd + i * P
            for mu in range(P):
                net.M[mu] += si * xd[mu]
    _refresh_all(net)


cdef inline double _delta(Net* net, const signed char* s, Py_ssize_t i,
                          double* scale) noexcept nogil:
    """Energy change of flipping s_i; *scale gets the size of the summed terms
    (for the zero-temperature tie tolerance)."""
    cdef Py_ssize_t mu, P = net.P
    cdef double si = s[i], dot, dd, z, acc, de = 0.0, c = -2.0 * s[i] * net.inv
    cdef const double* xd
    cdef int k
    if net.binary:
        dot = hop_dot_i8(net.xb + i * P, net.G, P)
        if not net.diluted:
            dd = net.Dsum
        elif net.dself != NULL:
            dd = net.dself[i]
        else:
            dd = hop_dot_abs_i8(net.xb + i * P, net.D, P)
        scale[0] = fabs(dot) + fabs(dd)
        return -si * dot + dd
    xd = net.xd + i * P
    cdef double sc = 0.0, term
    if net.p == 2:
        for mu in range(P):
            z = c * xd[mu]
            term = z * (net.W[mu] + z * net.A[mu])
            de += term
            sc += fabs(term)
    else:
        for mu in range(P):
            z = c * xd[mu]
            acc = net.A[mu]
            for k in range(net.p - 1, 0, -1):
                acc = acc * z + net.W[(k - 1) * P + mu]
            term = acc * z
            de += term
            sc += fabs(term)
    scale[0] = sc
    return de


cdef inline double _weight(Net* net, Py_ssize_t mu) noexcept nogil:
    """Half-width of the interval of pattern mu's term -s x G + x^2 D over
    the unknown x: |G|, + |D| / 2 with blank entries (x^2 D in {0, D})
    unless the D part is known per neuron (dself)."""
    if net.diluted and net.dself == NULL:
        return fabs(net.G[mu]) + 0.5 * fabs(net.D[mu])
    return fabs(net.G[mu])


cdef inline double _rest_centre(Net* net, double top_d) noexcept nogil:
    """Centre of the rest's D part: sum_R D (no blanks), sum_R D / 2 (blanks)."""
    if not net.diluted:
        return net.Dsum - top_d
    return 0.5 * (net.Dsum - top_d)


cdef void _screen_prepare(Net* net) noexcept nogil:
    """Choose the K_TOP largest terms and sum the weights of the rest (O(P))."""
    cdef Py_ssize_t mu, j, n = 0
    cdef double w, total = 0.0, top_w = 0.0, top_d = 0.0
    cdef double wt[K_TOP]
    for mu in range(net.P):
        net.in_top[mu] = 0
        w = _weight(net, mu)
        total += w
        if n < K_TOP:
            j = n
            n += 1
        elif w > wt[K_TOP - 1]:
            j = K_TOP - 1
        else:
            continue
        while j > 0 and wt[j - 1] < w:       # insertion into the sorted top list
            wt[j] = wt[j - 1]
            net.top[j] = net.top[j - 1]
            j -= 1
        wt[j] = w
        net.top[j] = mu
    net.ntop = n
    for j in range(n):
        net.in_top[net.top[j]] = 1
        top_w += wt[j]
        top_d += net.D[net.top[j]]
    net.total_w = total
    net.rest_w = total - top_w
    net.rest_d = _rest_centre(net, top_d)


cdef inline double _exp_lower(double x) noexcept nogil:
    """1 + x + x^2/2 + x^3/6 <= exp(x) for x >= 0."""
    return 1.0 + x * (1.0 + x * (0.5 + x * (1.0 / 6.0)))


cdef inline int _accept(double u, double x, int method) noexcept nogil:
    """Whether a proposal with beta dH = x is accepted for the uniform u:
    Metropolis u < exp(-x) (always for x <= 0), Glauber u (1 + exp(x)) < 1.
    A cubic lower bound of exp decides most cases without calling exp()."""
    cdef double L
    if method == METROPOLIS:
        if x <= 0.0:
            return 1
        if u * _exp_lower(x) >= 1.0:            # u >= 1 / L >= exp(-x)
            return 0
        return u < exp(-x)
    if x >= 0.0:
        if u * (1.0 + _exp_lower(x)) >= 1.0:    # exp(x) >= L
            return 0
    else:
        L = _exp_lower(-x)                      # exp(x) <= 1 / L
        if u * (1.0 + 1.0 / L) < 1.0:
            return 1
    return u * (1.0 + exp(x)) < 1.0


cdef inline int _decide(Net* net, const signed char* s, Py_ssize_t i, double beta,
                        double u, int method) noexcept nogil:
    """1: flip, 0: keep, for the uniform u.

    Screening: dH = sum_top(-s x G + x^2 D) + rest, and the rest lies within
    rest_w of its centre: sum_R D without blank entries; with blanks
    dself_i - sum_top x^2 D when the D part is known per neuron, else
    sum_R D / 2.  Acceptance falls with dH, so accepting at the top of the
    interval or rejecting at its bottom decides."""
    cdef double scale, de, et = 0.0, topd = 0.0, bound, si = s[i]
    cdef Py_ssize_t j, mu
    cdef const signed char* x
    cdef double xm
    if net.active:
        x = net.xb + i * net.P
        for j in range(net.ntop):
            mu = net.top[j]
            xm = x[mu]
            et += -si * xm * net.G[mu] + xm * xm * net.D[mu]
            topd += xm * xm * net.D[mu]
        if net.diluted and net.dself != NULL:
            et += net.dself[i] - topd
        else:
            et += net.rest_d
        bound = net.rest_w + net.widen * net.total_w + 1e-300
        if _accept(u, beta * (et + bound), method):
            net.screened += 1
            return 1
        if not _accept(u, beta * (et - bound), method):
            net.screened += 1
            return 0
    net.full += 1
    de = _delta(net, s, i, &scale)
    return _accept(u, beta * de, method)


cdef inline void _flip(Net* net, signed char* s, Py_ssize_t i) noexcept nogil:
    """Flip s_i and update the overlaps it touches (and G, D / W, and the
    screening sums, recomputed from the new terms: no drift)."""
    cdef Py_ssize_t mu, j, P = net.P
    cdef double snew = -s[i], dold, dsum = 0.0, total = 0.0, top_w = 0.0, top_d = 0.0
    cdef double two_s = 2.0 * snew, x, y, g, d, inv = net.inv
    cdef double g0, g1, d0, d1
    cdef signed char xm
    cdef const signed char* xb
    cdef const double* xd
    cdef double* M = net.M
    cdef double* G = net.G
    cdef double* D = net.D
    cdef const double* A = net.A
    s[i] = -s[i]
    if net.binary:
        xb = net.xb + i * P
        if net.kind == POLY and not net.diluted and net.p <= 4:
            # tight loops (no blank entries): p = 2, 3, 4 written out
            if net.p == 2:       # G = A gc0 x, D constant
                g0 = net.gc[0]
                for mu in range(P):
                    M[mu] += two_s * xb[mu]
                    G[mu] = A[mu] * (g0 * (M[mu] * inv))
                    total += fabs(G[mu])
            elif net.p == 3:     # G = A (g0 + g1 x^2), D = A x (d0 + d1 x^2)
                g0, g1, d0, d1 = net.gc[0], net.gc[1], net.dc[0], net.dc[1]
                for mu in range(P):
                    M[mu] += two_s * xb[mu]
                    x = M[mu] * inv
                    y = x * x
                    G[mu] = A[mu] * (g0 + g1 * y)
                    D[mu] = A[mu] * (x * (d0 + d1 * y))
                    dsum += D[mu]
                    total += fabs(G[mu])
                net.Dsum = dsum
            else:                # p = 4: G = A x (g0 + g1 x^2), D = A (d0 + d1 x^2 + d2 x^4)
                g0, g1, d0, d1 = net.gc[0], net.gc[1], net.dc[0], net.dc[1]
                for mu in range(P):
                    M[mu] += two_s * xb[mu]
                    x = M[mu] * inv
                    y = x * x
                    G[mu] = A[mu] * (x * (g0 + g1 * y))
                    D[mu] = A[mu] * (d0 + y * (d1 + y * net.dc[2]))
                    dsum += D[mu]
                    total += fabs(G[mu])
                net.Dsum = dsum
        else:
            for mu in range(P):
                xm = xb[mu]
                if xm != 0:
                    M[mu] += two_s * xm
                    dold = D[mu]
                    _refresh_one(net, mu)
                    dsum += D[mu] - dold
                total += _weight(net, mu)
            net.Dsum += dsum
        if net.active:
            for j in range(net.ntop):
                top_w += _weight(net, net.top[j])
                top_d += D[net.top[j]]
            net.total_w = total
            net.rest_w = total - top_w
            net.rest_d = _rest_centre(net, top_d)
    else:
        xd = net.xd + i * P
        for mu in range(P):
            if xd[mu] != 0.0:
                M[mu] += two_s * xd[mu]
                _refresh_one(net, mu)


cdef double _energy(Net* net) noexcept nogil:
    """H = sum_mu U_mu(M_mu) + const from the current overlaps."""
    cdef Py_ssize_t mu
    cdef double e = 0.0
    for mu in range(net.P):
        if net.kind == POLY:
            e += net.A[mu] * _ipow(net.M[mu] * net.inv, net.p)
        else:
            e += net.A[mu] * net.etab[<Py_ssize_t>net.M[mu] + net.N]
    return e + net.e_const


cdef void _measure(Net* net, const signed char* s, double* out_q) noexcept nogil:
    cdef Py_ssize_t g, mu, i
    cdef double acc
    cdef long tot
    cdef const signed char* t
    if net.targets != NULL:
        for g in range(net.n_q):
            t = net.targets + g * net.N
            tot = 0
            for i in range(net.N):
                tot += t[i] * s[i]
            out_q[g] = <double>tot
    else:
        for g in range(net.n_q):
            acc = 0.0
            for mu in range(net.gptr[g], net.gptr[g + 1]):
                acc += net.M[mu]
            out_q[g] = acc


cdef class OverlapNet:
    """Kernel state of one associative memory (buffers for M, G, D, W).

    Built by kadanoff.models.hopfield, which validates every array; the
    methods trust their inputs (C-contiguous, right shapes and values).
    """
    cdef Net net
    cdef object _refs
    cdef double[::1] _M, _G, _D
    cdef double[:, ::1] _W
    cdef unsigned char[::1] _in_top
    cdef double[::1] _dself
    cdef long _sweeps

    def __init__(self, xb, xd, bint binary, bint diluted, int kind, int p, A, gc, dc, binom,
                 etab, double esh, double ech1, double e_const, gptr, targets, double tol,
                 int screen=1):
        cdef Py_ssize_t N, P
        if binary:
            N, P = xb.shape[0], xb.shape[1]
        else:
            N, P = xd.shape[0], xd.shape[1]
        if p < 1 or p > MAXP:
            raise ValueError(f"p must be in [1, {MAXP}], got {p}")
        self._refs = (xb, xd, A, gc, dc, binom, etab, gptr, targets)
        self._M = np.zeros(P)
        self._G = np.zeros(P)
        self._D = np.zeros(P)
        self._W = np.zeros((max(p - 1, 1), P))
        self.net.N = N
        self.net.P = P
        self.net.binary = binary
        self.net.diluted = diluted
        self.net.kind = kind
        self.net.p = p
        self.net.xb = NULL
        self.net.xd = NULL
        cdef const signed char[:, ::1] vxb
        cdef const double[:, ::1] vxd
        cdef const signed char[:, ::1] vt
        if binary:
            vxb = xb
            self.net.xb = &vxb[0, 0]
        else:
            vxd = xd
            self.net.xd = &vxd[0, 0]
        cdef const double[::1] vA = A, vgc = gc, vdc = dc, vb = binom, ve = etab
        cdef const int64_t[::1] vg = gptr
        self.net.A = &vA[0]
        self.net.gc = &vgc[0]
        self.net.ng = vgc.shape[0]
        self.net.nd = vdc.shape[0]
        self.net.dc = &vdc[0]
        self.net.binom = &vb[0]
        self.net.etab = &ve[0]
        self.net.esh = esh
        self.net.ech1 = ech1
        self.net.e_const = e_const
        self.net.inv = 1.0 / N
        self.net.M = &self._M[0]
        self.net.G = &self._G[0]
        self.net.D = &self._D[0]
        self.net.W = &self._W[0, 0]
        self.net.gptr = &vg[0]
        self.net.tol = tol
        # screening pays when the dot product it saves is long: automatic
        # for P >= 256 (screen=1), forced for P > K_TOP (screen=2, tests)
        self.net.screen = binary and ((screen == 1 and P >= 256) or
                                      (screen == 2 and P > K_TOP))
        self.net.active = 0
        self.net.ntop = 0
        self._in_top = np.zeros(P, dtype=np.uint8)
        self.net.in_top = &self._in_top[0]
        self.net.widen = 1e-9
        # pairwise with blank entries: D_mu = A_mu dc[0] is constant, so the
        # D part of dH is a per-neuron constant
        cdef Py_ssize_t i, mu
        cdef double acc
        self.net.dself = NULL
        if binary and diluted and kind == POLY and p == 2:
            self._dself = np.zeros(N)
            for i in range(N):
                acc = 0.0
                for mu in range(P):
                    acc += (vxb[i, mu] * vxb[i, mu]) * (vA[mu] * vdc[0])
                self._dself[i] = acc
            self.net.dself = &self._dself[0]
        self.net.screened = 0
        self.net.full = 0
        if targets is None:
            self.net.targets = NULL
            self.net.n_q = vg.shape[0] - 1
        else:
            vt = targets
            self.net.targets = &vt[0, 0]
            self.net.n_q = vt.shape[0]

    @property
    def overlaps(self):
        """The integer overlaps M_mu after the last call (a copy)."""
        return np.asarray(self._M).copy()

    def energy(self, signed char[::1] s):
        """Total energy H of configuration s."""
        cdef double e
        with nogil:
            _rebuild(&self.net, &s[0])
            e = _energy(&self.net)
        return e

    def mc(self, signed char[::1] s, double beta, int method, bint random_sites,
           uint64_t[::1] rng_state, Py_ssize_t n_measure, Py_ssize_t every,
           double[::1] out_e, double[:, ::1] out_q, bint rebuild=True):
        """n_measure blocks of `every` sweeps at inverse temperature beta
        (method 0 Metropolis, 1 Glauber); after each block store H in
        out_e[m] and the observable sums in out_q[m, :].  n_measure = 0 runs
        `every` sweeps without measuring.  rebuild=False trusts the overlaps
        left by the previous call (the caller guarantees s is unchanged).
        Returns the number of accepted flips."""
        cdef uint64_t st[4]
        st[0], st[1], st[2], st[3] = rng_state[0], rng_state[1], rng_state[2], rng_state[3]
        cdef Net* net = &self.net
        cdef Py_ssize_t m, t, q, i, N = net.N
        cdef Py_ssize_t blocks = n_measure if n_measure > 0 else 1
        cdef signed char* sp = &s[0]
        cdef double u
        cdef long accepted = 0, scr0, full0
        with nogil:
            if rebuild:
                _rebuild(net, sp)
            for m in range(blocks):
                for t in range(every):
                    # screening is tried every 8th sweep and kept while it
                    # decides at least a quarter of the proposals (it only
                    # changes the cost, never the decisions)
                    if net.screen and (net.active or self._sweeps % 8 == 0):
                        net.active = 1
                    _refresh_all(net)            # no drift in the running totals
                    scr0 = net.screened
                    full0 = net.full
                    for q in range(N):
                        i = next_index(st, N) if random_sites else q
                        u = next_double(st)
                        if _decide(net, sp, i, beta, u, method):
                            _flip(net, sp, i)
                            accepted += 1
                    if net.active and 4 * (net.screened - scr0) < net.screened - scr0 + net.full - full0:
                        net.active = 0
                    self._sweeps += 1
                if n_measure > 0:
                    out_e[m] = _energy(net)
                    _measure(net, sp, &out_q[m, 0])
        rng_state[0], rng_state[1], rng_state[2], rng_state[3] = st[0], st[1], st[2], st[3]
        return accepted

    @property
    def screening(self):
        """(proposals decided by the bound, proposals that needed the full sum)."""
        return self.net.screened, self.net.full

    def descend(self, signed char[::1] s, const int64_t[::1] order, Py_ssize_t max_sweeps):
        """Zero-temperature asynchronous dynamics: visit the neurons in `order`
        and flip each one whose flip lowers H, until a sweep flips nothing or
        max_sweeps sweeps.  Returns (sweeps, converged)."""
        cdef Net* net = &self.net
        cdef Py_ssize_t sweep = 0, q, i, flips = 0, n = order.shape[0]
        cdef signed char* sp = &s[0]
        cdef double de, scale
        cdef bint converged = False
        with nogil:
            _rebuild(net, sp)
            while sweep < max_sweeps:
                flips = 0
                for q in range(n):
                    i = order[q]
                    de = _delta(net, sp, i, &scale)
                    if de < -net.tol * scale:
                        _flip(net, sp, i)
                        flips += 1
                sweep += 1
                _refresh_all(net)
                if flips == 0:
                    converged = True
                    break
        return sweep, converged

    def sync_step(self, signed char[::1] s, signed char[::1] flip):
        """Zero-temperature synchronous step: every neuron whose single flip
        lowers H (computed from the same state) flips at once.  Returns the
        number of flipped neurons."""
        cdef Net* net = &self.net
        cdef Py_ssize_t i, n = 0, N = net.N
        cdef signed char* sp = &s[0]
        cdef double de, scale
        with nogil:
            _rebuild(net, sp)
            for i in range(N):
                de = _delta(net, sp, i, &scale)
                flip[i] = de < -net.tol * scale
            for i in range(N):
                if flip[i]:
                    sp[i] = -sp[i]
                    n += 1
        return n

    def delta_energies(self, signed char[::1] s, double[::1] out):
        """dH_i of flipping each neuron alone (for tests and diagnostics)."""
        cdef Net* net = &self.net
        cdef Py_ssize_t i
        cdef double scale
        with nogil:
            _rebuild(net, &s[0])
            for i in range(net.N):
                out[i] = _delta(net, &s[0], i, &scale)
