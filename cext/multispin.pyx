# Multispin-coded (bit-packed) Ising kernels for periodic square and cubic
# lattices: 64 spins in one machine word, updated together.
#
# Hamiltonian and conventions are those of the general kernel (cext/spin.pyx):
#   H = -J sum_<ij> s_i s_j,  s_i = +-1, uniform J, no field;
#   a spin flips with p(dE), dE = 2 J s_i sum_j s_j,
#   metropolis: p = min(1, exp(-beta dE)),  heatbath: p = 1 / (1 + exp(beta dE)).
#
# Layout.  An Lx x Ly (x Lz) lattice with Lx = 64 W is stored as Ly Lz rows
# of W words; bit b of word j of row r = y + Ly z holds the site
#   x = j + b W,  i.e. site index x + Lx r  (kd.lattice.square / cubic order),
# with bit 1 for s = -1.  The x neighbours of word j are words j -+ 1 of the
# same row, except at the row ends, where they are the last / first word
# rotated by one lane; the y (z) neighbours are word j of the rows y -+ 1
# (z -+ 1), periodic.  The sublattice (colour) of a site is (x + y + z) mod 2:
# if W is even all 64 lanes of a word share one colour and a colour sweep
# visits every other word; if W is odd (Lx = 64, 192, ...) colours alternate
# between lanes and a colour sweep updates the even or odd lanes of every
# word (half the work per word, still exact).
#
# One sweep updates colour 0, then colour 1: no lane of a colour is the
# neighbour of another lane of the same colour, so the 64 (or 32) updates of a
# word are the same as doing them one after another, and a sweep is exactly
# the checkerboard sweep of the general kernel (in a different visiting
# order within a colour, which does not matter: those updates commute).
#
# Per word: the number d of neighbours that disagree with each lane (0..z) is
# computed with bit-sliced adders (three bit-planes n0, n1, n2); the flip
# probability depends on d only, p_d = p(2 J (z - 2 d)).  Each lane gets an
# independent Bernoulli(p_d) draw from its own 32-bit uniform number U_b,
# compared with the 32-bit threshold t_d = floor(p_d 2^32) bit-sliced from the
# most significant bit: bit k of every lane's U comes from one 64-bit random
# word, a lane is decided at the first bit where U and t differ (accept when
# U has 0 and t has 1), and further random words are drawn only while some
# lane is undecided (on average about log2(64) + 1.3 words for 64 lanes).
# Lanes still tied after 32 bits have U = t and are rejected, so
# P(accept) = t_d / 2^32 exactly, the same 32-bit resolution as the general
# kernel's table path.  Classes with p_d = 1 flip without drawing; heat bath
# uses p_{z-d} = 1 - p_d: lanes of class z - d flip when U >= t_d.  The
# lanes' uniforms are made of disjoint bits of the random words, so the 64
# decisions are independent -- not one shared number (which would correlate
# the lanes and break the Boltzmann distribution).
#
# Random words: sixteen xoshiro256** streams (Blackman & Vigna; the generator
# of cext/rng.pxd) run side by side as vectors and fill a block of 256 words at
# a time; they are reseeded at the start of every sweep from 64 outputs of the
# caller's xoshiro256** state, and consumed in a fixed order, so the same seed
# gives the same bits however the sweeps are split between calls.
#
# Speed: on the square lattice several words of one colour are updated per
# step with vector operations -- the same per-lane arithmetic, only the order
# in which random words are consumed differs from the scalar path:
# W >= 16: the 8 colour words of each aligned group of 16 words (kd_row_v8;
# one 512-bit vector on AVX-512 CPUs, two 256-bit halves elsewhere); W >= 8,
# the rest: the 4 colour words of aligned groups of 8 (kd_row_v4); W = 4 with
# Ly a multiple of 4: the two colour words of rows y and y+2 (kd_pair_w4);
# W = 1 or 2 with Ly a multiple of 8: rows y0, y0+2, y0+4, y0+6 and then the
# odd rows of a block of 8 (kd_block8_w1, flips masked to the colour's lanes;
# kd_block8_w2, a 4 x 4 transpose of the block's 16 words).  On the cubic
# lattice the same routines run layer by layer with the front and back
# neighbours loaded like the up and down ones.  Other shapes (odd W > 1,
# W = 4 or <= 2 with Ly not a multiple of 4 or 8) use the scalar word
# routine.  The vector code and the block generator are compiled for
# x86-64-v4, AVX2 and baseline x86-64 (GCC target_clones or a CPU check; the
# best the CPU has runs) and give the same bits on all three (tested by
# building each alone).
#
# Measurements (per block of `every` sweeps), the row of the general kernel
# (cext/ising_common.pxd): H = -J (n_bonds - 2 n_disagreeing bonds) with
# popcounts, M = N - 2 (number of set bits), and
# sum_t |sum_i s_i exp(2 pi i n_{i,t} / L)|^2 over the axes (when all sides
# are equal) from the column, row and layer sums of the spins.
from libc.stdint cimport uint64_t, int64_t

from rng cimport next_u64

cdef extern from *:
    """
    #include <stdint.h>
    #if defined(__GNUC__) || defined(__clang__)
    #define KD_POPCOUNT64(x) __builtin_popcountll(x)
    #else
    static int KD_POPCOUNT64(uint64_t x) {      /* SWAR */
        x = x - ((x >> 1) & 0x5555555555555555ULL);
        x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
        x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
        return (int)((x * 0x0101010101010101ULL) >> 56);
    }
    #endif
    /* Popcounts of one packed row: set bits (spins -1), and disagreeing bonds
       to the right (x + 1, wrapping by one lane at the row end), up (y + 1)
       and, if fr != NULL, front (z + 1).  On x86-64 GCC a clone using the
       popcnt instruction is picked at load time when the CPU has it. */
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__)
    #define KD_POPCNT_CLONES __attribute__((target_clones("popcnt", "default")))
    #else
    #define KD_POPCNT_CLONES
    #endif
    KD_POPCNT_CLONES
    static void kd_row_counts(const uint64_t *row, const uint64_t *up, const uint64_t *fr,
                              long W, int64_t *ones, int64_t *dis) {
        int64_t o = 0, d = 0;
        long j;
        for (j = 0; j < W; j++) {
            uint64_t s = row[j];
            uint64_t right = j < W - 1 ? row[j + 1] : ((row[0] >> 1) | (row[0] << 63));
            o += KD_POPCOUNT64(s);
            d += KD_POPCOUNT64(s ^ right) + KD_POPCOUNT64(s ^ up[j]);
            if (fr) d += KD_POPCOUNT64(s ^ fr[j]);
        }
        *ones = o;
        *dis += d;
    }
    """
    void kd_row_counts(const uint64_t* row, const uint64_t* up, const uint64_t* fr, long W,
                       int64_t* ones, int64_t* dis) noexcept nogil

cdef extern from *:
    """
    #include <stdint.h>
    /* Sixteen xoshiro256** streams side by side (state in structure-of-
       arrays order: s[16 w + l] is word w of stream l), n outputs (a multiple
       of 16) written as out[16 i + l].  The generator's steps form a short
       dependency chain, so independent vectors in flight matter more than the
       vector width: on CPUs with AVX-512 two 8-lane vectors (kd_fill16_z),
       elsewhere four 4-lane vectors (kd_fill16_y, AVX2 and baseline clones).
       Both compute the same 16 streams, so the bits do not depend on the CPU. */
    #define KD_NSTREAM 16
    #define KD_ROTL(x, k) (((x) << (k)) | ((x) >> (64 - (k))))
    /* one xoshiro256** step of a vector of streams; r receives the output */
    #define KD_XOSHIRO_STEP(a, b, c, d, x, t, r) do {                              \
            x = ((b) << 2) + (b);                      /* b * 5 */                  \
            x = KD_ROTL(x, 7);                                                      \
            r = (x << 3) + x;                          /* * 9 */                    \
            t = (b) << 17;                                                          \
            c ^= a; d ^= b; b ^= c; a ^= d; c ^= t;                                 \
            d = KD_ROTL(d, 45);                                                     \
        } while (0)
    #if defined(__GNUC__) && !defined(__clang__)
    /* GCC: vector extensions (the 4-word kernels below); elsewhere plain C
       with the same generator, and only the scalar word routine. */
    #define KD_HAVE_VEC 1
    #if defined(__x86_64__) && defined(__GLIBC__)   /* target_clones needs ifunc */
    #define KD_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
    #define KD_HAVE_Z 1
    #else
    #define KD_CLONES
    #define KD_HAVE_Z 0
    #endif
    typedef uint64_t kd_v4 __attribute__((vector_size(32)));
    #define KD_LOAD(v, p) __builtin_memcpy(&(v), (p), sizeof(v))
    #define KD_STORE(p, v) __builtin_memcpy((p), &(v), sizeof(v))
    #if KD_HAVE_Z
    typedef uint64_t kd_v8 __attribute__((vector_size(64)));
    __attribute__((target("arch=x86-64-v4")))
    static void kd_fill16_z(uint64_t *restrict s, uint64_t *restrict out, long n) {
        kd_v8 a0, b0, c0, d0, a1, b1, c1, d1, x, t, r;
        long i;
        KD_LOAD(a0, s); KD_LOAD(a1, s + 8);
        KD_LOAD(b0, s + 16); KD_LOAD(b1, s + 24);
        KD_LOAD(c0, s + 32); KD_LOAD(c1, s + 40);
        KD_LOAD(d0, s + 48); KD_LOAD(d1, s + 56);
        for (i = 0; i < n; i += 16) {
            KD_XOSHIRO_STEP(a0, b0, c0, d0, x, t, r);
            KD_STORE(out + i, r);
            KD_XOSHIRO_STEP(a1, b1, c1, d1, x, t, r);
            KD_STORE(out + i + 8, r);
        }
        KD_STORE(s, a0); KD_STORE(s + 8, a1);
        KD_STORE(s + 16, b0); KD_STORE(s + 24, b1);
        KD_STORE(s + 32, c0); KD_STORE(s + 40, c1);
        KD_STORE(s + 48, d0); KD_STORE(s + 56, d1);
    }
    #endif
    __attribute__((target_clones("avx2", "default")))
    static void kd_fill16_y(uint64_t *restrict s, uint64_t *restrict out, long n) {
        kd_v4 a[4], b[4], c[4], d[4], x, t, r;
        long i;
        int v;
        for (v = 0; v < 4; v++) {
            KD_LOAD(a[v], s + 4 * v); KD_LOAD(b[v], s + 16 + 4 * v);
            KD_LOAD(c[v], s + 32 + 4 * v); KD_LOAD(d[v], s + 48 + 4 * v);
        }
        for (i = 0; i < n; i += 16) {
            #pragma GCC unroll 4
            for (v = 0; v < 4; v++) {
                KD_XOSHIRO_STEP(a[v], b[v], c[v], d[v], x, t, r);
                KD_STORE(out + i + 4 * v, r);
            }
        }
        for (v = 0; v < 4; v++) {
            KD_STORE(s + 4 * v, a[v]); KD_STORE(s + 16 + 4 * v, b[v]);
            KD_STORE(s + 32 + 4 * v, c[v]); KD_STORE(s + 48 + 4 * v, d[v]);
        }
    }
    #if KD_HAVE_Z
    /* 1 if the CPU runs x86-64-v4 code (the AVX-512 subsets GCC's level
       names), checked once; a benign race: every thread stores the same value */
    static int kd_use_z(void) {
        static int use_z = -1;
        if (use_z < 0) {
            __builtin_cpu_init();
            use_z = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")
                    && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq")
                    && __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx2")
                    && __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("fma");
        }
        return use_z;
    }
    #endif
    static void kd_xoshiro16_fill(uint64_t *s, uint64_t *out, long n) {
    #if KD_HAVE_Z
        if (kd_use_z()) {
            kd_fill16_z(s, out, n);
            return;
        }
    #endif
        kd_fill16_y(s, out, n);
    }
    #else
    #define KD_HAVE_VEC 0
    static void kd_xoshiro16_fill(uint64_t *s, uint64_t *out, long n) {
        long i;
        int l;
        uint64_t x, t, r;
        for (i = 0; i < n; i += KD_NSTREAM) {
            for (l = 0; l < KD_NSTREAM; l++) {
                KD_XOSHIRO_STEP(s[l], s[16 + l], s[32 + l], s[48 + l], x, t, r);
                out[i + l] = r;
            }
        }
    }
    #endif
    """
    int KD_HAVE_VEC
    void kd_xoshiro16_fill(uint64_t* s, uint64_t* out, long n) noexcept nogil

cdef extern from *:
    """
    #if KD_HAVE_VEC
    #define KD_BLOCK 256
    #define KD_VFIXED4 12
    #define KD_VFIXED8 13
    #pragma GCC diagnostic ignored "-Wpsabi"   /* the decide functions are always inlined */
    /* NAME(s, l, r, u, d, f, ...): flip masks f of NH vectors of type VT (NW
       words in all) from their neighbours: the bit-sliced neighbour count, the
       rule's classes and the exact per-lane Bernoulli draws (NFIXED levels
       without a branch, then while some lane of the NW words is undecided).
       Level k uses the NW random words at block position pos + NW k (fixed
       part) or the next NW (tail), vector h the VL words at offset VL h; so
       one 8-lane vector and two 4-lane halves consume the same words and
       give the same bits.  Defined for 4 words (kd_decide4: the W = 1, 2, 4,
       8-15 paths) and 8 words (kd_decide8 on AVX-512, kd_decide8y elsewhere:
       rows of 16 k words). */
    /* Threshold level lev of vector h, random word(s) at src: lanes still
       undecided are accepted where t has 1 and U has 0, and stay undecided
       where U and t agree. */
    #define KD_LEVEL(h, lev, src) do {                                                      \
            __builtin_memcpy(&rv, (src), sizeof(rv));                                       \
            t = (cl0[h] & planes[lev]) | (cl1[h] & planes[32 + (lev)])                      \
                | (cl2[h] & planes[64 + (lev)]) | (cl3[h] & planes[96 + (lev)]);            \
            acc[h] |= und[h] & t & ~rv;                                                     \
            und[h] &= ~(rv ^ t);                                                            \
        } while (0)
    #define KD_DEFINE_DECIDE(NAME, VT, NH, NFIXED)                                          \
    static inline __attribute__((always_inline)) void NAME(                                 \
            const VT *s, const VT *l, const VT *r, const VT *u, const VT *d, const VT *fr,  \
            const VT *bk, VT *out, int cubic, int metro, const uint64_t *always_m,          \
            const uint64_t *inv_m,                                                          \
            const uint64_t *cls_m, const uint64_t *planes, uint64_t *gen_s, uint64_t *buf,  \
            Py_ssize_t *pos) {                                                              \
        enum { VL = sizeof(VT) / 8, NW = VL * (NH) };                                       \
        VT always[NH], inv[NH], cl0[NH], cl1[NH], cl2[NH], cl3[NH], und[NH], rnd[NH];       \
        VT acc[NH], rv, t;                                                                  \
        int dd, lev, h, q;                                                                  \
        uint64_t any;                                                                       \
        for (h = 0; h < (NH); h++) {                                                        \
            VT a = s[h] ^ l[h], b = s[h] ^ r[h], c = s[h] ^ u[h], e = s[h] ^ d[h];          \
            VT s1, c1, s2, c2, n0, n1, n2, k, zero = {0}, eq;                               \
            if (cubic) {              /* count of 6: two full adders, then add */           \
                VT g = s[h] ^ fr[h], m = s[h] ^ bk[h];                                      \
                s1 = a ^ b ^ c;                                                             \
                c1 = (a & b) | (c & (a ^ b));                                               \
                s2 = e ^ g ^ m;                                                             \
                c2 = (e & g) | (m & (e ^ g));                                               \
            } else {                  /* count of 4: two half adders, then add */           \
                s1 = a ^ b;                                                                 \
                c1 = a & b;                                                                 \
                s2 = c ^ e;                                                                 \
                c2 = c & e;                                                                 \
            }                                                                               \
            n0 = s1 ^ s2;                                                                   \
            k = s1 & s2;                                                                    \
            n1 = c1 ^ c2 ^ k;                                                               \
            n2 = (c1 & c2) | (k & (c1 ^ c2));                                               \
            always[h] = inv[h] = cl0[h] = cl1[h] = cl2[h] = cl3[h] = acc[h] = zero;         \
            if (metro && !cubic) {    /* d = 0, 1 random, d >= 2 always */                  \
                VT low = ~(n1 | n2);                                                        \
                cl0[h] = low & ~n0;                                                         \
                cl1[h] = low & n0;                                                          \
                always[h] = ~low;                                                           \
            } else if (metro) {       /* d = 0, 1, 2 random, d >= 3 always */               \
                VT low = ~(n2 | (n1 & n0));                                                 \
                cl0[h] = low & ~n1 & ~n0;                                                   \
                cl1[h] = low & ~n1 & n0;                                                    \
                cl2[h] = low & n1 & ~n0;                                                    \
                always[h] = ~low;                                                           \
            } else {                                                                        \
                for (dd = 0; dd <= (cubic ? 6 : 4); dd++) {                                 \
                    eq = ((dd & 1) ? n0 : ~n0) & ((dd & 2) ? n1 : ~n1)                      \
                         & ((dd & 4) ? n2 : ~n2);                                           \
                    always[h] |= eq & always_m[dd];                                         \
                    inv[h] |= eq & inv_m[dd];                                               \
                    cl0[h] |= eq & cls_m[dd];                                               \
                    cl1[h] |= eq & cls_m[7 + dd];                                           \
                    cl2[h] |= eq & cls_m[14 + dd];                                          \
                    cl3[h] |= eq & cls_m[21 + dd];                                          \
                }                                                                           \
            }                                                                               \
            und[h] = rnd[h] = cl0[h] | cl1[h] | cl2[h] | cl3[h];                            \
        }                                                                                   \
        if (*pos > KD_BLOCK - NW * (NFIXED)) {                                              \
            kd_xoshiro16_fill(gen_s, buf, KD_BLOCK);                                        \
            *pos = 0;                                                                       \
        }                                                                                   \
        for (h = 0; h < (NH); h++)                                                          \
            for (lev = 0; lev < (NFIXED); lev++)                                            \
                KD_LEVEL(h, lev, buf + *pos + NW * lev + VL * h);                           \
        *pos += NW * (NFIXED);                                                              \
        for (lev = (NFIXED); lev < 32; lev++) {                                             \
            any = 0;                                                                        \
            for (h = 0; h < (NH); h++)                                                      \
                for (q = 0; q < VL; q++)                                                    \
                    any |= und[h][q];                                                       \
            if (any == 0)                                                                   \
                break;                                                                      \
            if (*pos > KD_BLOCK - NW) {                                                     \
                kd_xoshiro16_fill(gen_s, buf, KD_BLOCK);                                    \
                *pos = 0;                                                                   \
            }                                                                               \
            for (h = 0; h < (NH); h++)                                                      \
                KD_LEVEL(h, lev, buf + *pos + VL * h);                                      \
            *pos += NW;                                                                     \
        }                                                                                   \
        for (h = 0; h < (NH); h++)                                                          \
            out[h] = ((acc[h] ^ inv[h]) & rnd[h]) | always[h];                              \
    }
    typedef uint64_t kd_v8 __attribute__((vector_size(64)));
    KD_DEFINE_DECIDE(kd_decide4_, kd_v4, 1, KD_VFIXED4)
    KD_DEFINE_DECIDE(kd_decide8, kd_v8, 1, KD_VFIXED8)
    KD_DEFINE_DECIDE(kd_decide8y, kd_v4, 2, KD_VFIXED8)
    /* the 4-word paths call the decision by value */
    static inline __attribute__((always_inline)) kd_v4 kd_decide4(
            kd_v4 s, kd_v4 l, kd_v4 r, kd_v4 u, kd_v4 d, kd_v4 fr, kd_v4 bk, int cubic,
            int metro, const uint64_t *always_m, const uint64_t *inv_m, const uint64_t *cls_m,
            const uint64_t *planes, uint64_t *gen_s, uint64_t *buf, Py_ssize_t *pos) {
        kd_v4 f;
        kd_decide4_(&s, &l, &r, &u, &d, &fr, &bk, &f, cubic, metro, always_m, inv_m, cls_m,
                    planes, gen_s, buf, pos);
        return f;
    }

    /* Rows of a square lattice, W >= 8 words: the colour words of aligned
       groups of 8 nh words (g .. g + 8 nh - 1) at once, 4 nh words: nh = 1,
       four words in one 4-lane vector (kd_row_v4); nh = 2, eight words
       (kd_row_v8: one 8-lane vector when wide, i.e. on AVX-512, else two
       4-lane halves with the same bits).  Each 8-word half is split by
       shuffles into its even words E[h] and odd words O[h]; the colour words
       are E (par = 0; right neighbours O, left neighbours O shifted by one
       word, in from word g - 1) or O (par = 1; left E, right E shifted, in
       from the word after the group); the row ends wrap by one lane.  Starts
       at the aligned word g, returns the first word of the rest (fewer than
       8 nh words left).  metro: the ferromagnetic Metropolis class masks. */
    typedef union { kd_v8 v; kd_v4 h[2]; } kd_v4x2;
    /* the even (par = 0) or odd (par = 1) words of the 8 words lo, hi */
    #define KD_PICK(par, lo, hi) ((par) ? __builtin_shuffle(lo, hi, (kd_v4){1, 3, 5, 7})    \
                                        : __builtin_shuffle(lo, hi, (kd_v4){0, 2, 4, 6}))
    static inline __attribute__((always_inline))
    long kd_row_impl(uint64_t *row, const uint64_t *up, const uint64_t *dn,
                     const uint64_t *fr, const uint64_t *bk, long W, long g, long par,
                     int nh, int wide, int cubic, int metro, const uint64_t *always_m,
                     const uint64_t *inv_m, const uint64_t *cls_m, const uint64_t *planes,
                     uint64_t *gen_s, uint64_t *buf, Py_ssize_t *pos) {
        const kd_v4 even = {0, 2, 4, 6}, odd = {1, 3, 5, 7};
        const kd_v4 mix_lo = {0, 4, 1, 5}, mix_hi = {2, 6, 3, 7};
        int h;
        for (; g + 8 * nh - 1 < W; g += 8 * nh) {
            kd_v4x2 E, O, S, L, R, U, D, Fr, Bk, F;
            kd_v4 lo, hi, X;
            for (h = 0; h < nh; h++) {
                KD_LOAD(lo, row + g + 8 * h);
                KD_LOAD(hi, row + g + 8 * h + 4);
                E.h[h] = __builtin_shuffle(lo, hi, even);
                O.h[h] = __builtin_shuffle(lo, hi, odd);
                KD_LOAD(lo, up + g + 8 * h);
                KD_LOAD(hi, up + g + 8 * h + 4);
                U.h[h] = KD_PICK(par, lo, hi);
                KD_LOAD(lo, dn + g + 8 * h);
                KD_LOAD(hi, dn + g + 8 * h + 4);
                D.h[h] = KD_PICK(par, lo, hi);
                if (cubic) {
                    KD_LOAD(lo, fr + g + 8 * h);
                    KD_LOAD(hi, fr + g + 8 * h + 4);
                    Fr.h[h] = KD_PICK(par, lo, hi);
                    KD_LOAD(lo, bk + g + 8 * h);
                    KD_LOAD(hi, bk + g + 8 * h + 4);
                    Bk.h[h] = KD_PICK(par, lo, hi);
                } else {
                    Fr.h[h] = Bk.h[h] = E.h[h];     /* unused */
                }
            }
            if (par == 0) {
                uint64_t w0 = g > 0 ? row[g - 1] : ((row[W - 1] << 1) | (row[W - 1] >> 63));
                X = (kd_v4){0} + w0;
                S = E;
                R = O;
                L.h[0] = __builtin_shuffle(O.h[0], X, (kd_v4){4, 0, 1, 2});
                if (nh == 2)
                    L.h[1] = __builtin_shuffle(O.h[1], O.h[0], (kd_v4){7, 0, 1, 2});
            } else {
                long n = g + 8 * nh;
                uint64_t w1 = n < W ? row[n] : ((row[0] >> 1) | (row[0] << 63));
                X = (kd_v4){0} + w1;
                S = O;
                L = E;
                R.h[nh - 1] = __builtin_shuffle(E.h[nh - 1], X, (kd_v4){1, 2, 3, 4});
                if (nh == 2)
                    R.h[0] = __builtin_shuffle(E.h[0], E.h[1], (kd_v4){1, 2, 3, 4});
            }
            if (nh == 1)
                kd_decide4_(S.h, L.h, R.h, U.h, D.h, Fr.h, Bk.h, F.h, cubic, metro, always_m,
                            inv_m, cls_m, planes, gen_s, buf, pos);
            else if (wide)
                kd_decide8(&S.v, &L.v, &R.v, &U.v, &D.v, &Fr.v, &Bk.v, &F.v, cubic, metro,
                           always_m, inv_m, cls_m, planes, gen_s, buf, pos);
            else
                kd_decide8y(S.h, L.h, R.h, U.h, D.h, Fr.h, Bk.h, F.h, cubic, metro, always_m,
                            inv_m, cls_m, planes, gen_s, buf, pos);
            for (h = 0; h < nh; h++) {
                if (par == 0)
                    E.h[h] ^= F.h[h];
                else
                    O.h[h] ^= F.h[h];
                lo = __builtin_shuffle(E.h[h], O.h[h], mix_lo);
                hi = __builtin_shuffle(E.h[h], O.h[h], mix_hi);
                KD_STORE(row + g + 8 * h, lo);
                KD_STORE(row + g + 8 * h + 4, hi);
            }
        }
        return g;
    }
    /* The row bodies are compiled for the Metropolis class masks (metro = 1,
       the common case, about 7 % faster than testing metro per group) and for
       the table-driven rule. */
    #define KD_ROW_ARGS row, up, dn, fr, bk, W, g, par
    #define KD_RULE_ARGS always_m, inv_m, cls_m, planes, gen_s, buf, pos
    #define KD_ROW_PARAMS uint64_t *row, const uint64_t *up, const uint64_t *dn,             \
            const uint64_t *fr, const uint64_t *bk, long W, long g, long par, int metro,     \
            const uint64_t *always_m, const uint64_t *inv_m, const uint64_t *cls_m,          \
            const uint64_t *planes, uint64_t *gen_s, uint64_t *buf, Py_ssize_t *pos
    /* one body per (lattice, rule pattern): fr == NULL on the square lattice */
    #define KD_ROW_BODIES(NH, WIDE)                                                         \
        if (fr == NULL && metro)                                                            \
            return kd_row_impl(KD_ROW_ARGS, NH, WIDE, 0, 1, KD_RULE_ARGS);                  \
        if (fr == NULL)                                                                     \
            return kd_row_impl(KD_ROW_ARGS, NH, WIDE, 0, 0, KD_RULE_ARGS);                  \
        if (metro)                                                                          \
            return kd_row_impl(KD_ROW_ARGS, NH, WIDE, 1, 1, KD_RULE_ARGS);                  \
        return kd_row_impl(KD_ROW_ARGS, NH, WIDE, 1, 0, KD_RULE_ARGS);
    KD_CLONES
    static long kd_row_v4(KD_ROW_PARAMS) { KD_ROW_BODIES(1, 0) }
    #if KD_HAVE_Z
    __attribute__((target("arch=x86-64-v4")))
    static long kd_row_v8_z(KD_ROW_PARAMS) { KD_ROW_BODIES(2, 1) }
    #endif
    __attribute__((target_clones("avx2", "default")))
    static long kd_row_v8_y(KD_ROW_PARAMS) { KD_ROW_BODIES(2, 0) }
    static long kd_row_v8(KD_ROW_PARAMS) {
    #if KD_HAVE_Z
        if (kd_use_z())
            return kd_row_v8_z(KD_ROW_ARGS, metro, KD_RULE_ARGS);
    #endif
        return kd_row_v8_y(KD_ROW_ARGS, metro, KD_RULE_ARGS);
    }
    /* The layer routines below update a block of rows of one layer w (the
       whole lattice on the square lattice); on the cubic lattice fr and bk
       are the layers z + 1 and z - 1 (else NULL), and `colour` is the colour
       shifted by the layer's parity, (colour + z) mod 2.  One body per
       lattice (cubic = fr != NULL); metro as in kd_row_v4. */
    #define KD_LAYER_PARAMS uint64_t *w, const uint64_t *fr, const uint64_t *bk, long y,     \
            long Ly, long colour, int metro, const uint64_t *always_m,                        \
            const uint64_t *inv_m, const uint64_t *cls_m, const uint64_t *planes,             \
            uint64_t *gen_s, uint64_t *buf, Py_ssize_t *pos
    #define KD_LAYER_ARGS w, fr, bk, y, Ly, colour, metro, always_m, inv_m, cls_m, planes,    \
            gen_s, buf, pos
    #define KD_LAYER_FUNCTION(NAME)                                                          \
        KD_CLONES static void NAME(KD_LAYER_PARAMS) {                                        \
            if (fr == NULL) NAME##_impl(KD_LAYER_ARGS, 0);                                   \
            else NAME##_impl(KD_LAYER_ARGS, 1);                                              \
        }
    /* W = 4 (L = 256): the two colour words of rows y and y + 2 (same
       colour pattern) make one 4-lane vector; the neighbours come from whole
       rows (one 256-bit load each) by shuffles, rotating the lanes that wrap
       around the row end. */
    static inline __attribute__((always_inline)) void kd_pair_w4_impl(KD_LAYER_PARAMS,
                                                                      int cubic) {
        long ya = y, yb = y + 2, p = (colour + y) & 1;
        kd_v4 Ra, Rb, Ua, Ub, Da, Db, X, s, l, r, u, d, f = {0}, b = {0};
        const kd_v4 m02 = {~0ULL, 0, ~0ULL, 0}, m13 = {0, ~0ULL, 0, ~0ULL};
        KD_LOAD(Ra, w + 4 * ya);
        KD_LOAD(Rb, w + 4 * yb);
        KD_LOAD(Ua, w + 4 * ((ya + 1) % Ly));
        KD_LOAD(Ub, w + 4 * ((yb + 1) % Ly));
        KD_LOAD(Da, w + 4 * ((ya + Ly - 1) % Ly));
        KD_LOAD(Db, w + 4 * ((yb + Ly - 1) % Ly));
        s = KD_PICK(p, Ra, Rb);
        u = KD_PICK(p, Ua, Ub);
        d = KD_PICK(p, Da, Db);
        if (cubic) {
            KD_LOAD(Ua, fr + 4 * ya);
            KD_LOAD(Ub, fr + 4 * yb);
            f = KD_PICK(p, Ua, Ub);
            KD_LOAD(Da, bk + 4 * ya);
            KD_LOAD(Db, bk + 4 * yb);
            b = KD_PICK(p, Da, Db);
        }
        if (p == 0) {
            X = __builtin_shuffle(Ra, Rb, (kd_v4){3, 1, 7, 5});       /* left: word 3 wraps */
            l = ((((X << 1) | (X >> 63))) & m02) | (X & ~m02);
            r = __builtin_shuffle(Ra, Rb, (kd_v4){1, 3, 5, 7});
        } else {
            l = __builtin_shuffle(Ra, Rb, (kd_v4){0, 2, 4, 6});
            X = __builtin_shuffle(Ra, Rb, (kd_v4){2, 0, 6, 4});       /* right: word 0 wraps */
            r = ((((X >> 1) | (X << 63))) & m13) | (X & ~m13);
        }
        s ^= kd_decide4(s, l, r, u, d, f, b, cubic, metro, always_m, inv_m, cls_m, planes,
                        gen_s, buf, pos);
        if (p == 0) {
            Ra = __builtin_shuffle(s, Ra, (kd_v4){0, 5, 1, 7});
            Rb = __builtin_shuffle(s, Rb, (kd_v4){2, 5, 3, 7});
        } else {
            Ra = __builtin_shuffle(s, Ra, (kd_v4){4, 0, 6, 1});
            Rb = __builtin_shuffle(s, Rb, (kd_v4){4, 2, 6, 3});
        }
        KD_STORE(w + 4 * ya, Ra);
        KD_STORE(w + 4 * yb, Rb);
    }
    KD_LAYER_FUNCTION(kd_pair_w4)

    /* W = 1 (L = 64), Ly a multiple of 8: rows y .. y + 7 as two vectors
       (even rows E, odd rows O); colour lanes alternate within a word, so
       each group's flips are masked to the lanes of the colour. */
    static inline __attribute__((always_inline)) void kd_block8_w1_impl(KD_LAYER_PARAMS,
                                                                        int cubic) {
        kd_v4 A, B, E, O, P, Q, fe, fo, FE = {0}, FO = {0}, BE = {0}, BO = {0};
        const kd_v4 ev = {0, 2, 4, 6}, od = {1, 3, 5, 7};
        uint64_t even_lanes = 0x5555555555555555ULL, odd_lanes = ~even_lanes;
        /* lanes b of row y with colour c: b = c + y (mod 2); y is even */
        uint64_t me = colour ? odd_lanes : even_lanes, mo = ~me;
        KD_LOAD(A, w + y);
        KD_LOAD(B, w + y + 4);
        E = __builtin_shuffle(A, B, ev);
        O = __builtin_shuffle(A, B, od);
        if (cubic) {
            KD_LOAD(A, fr + y);
            KD_LOAD(B, fr + y + 4);
            FE = __builtin_shuffle(A, B, ev);
            FO = __builtin_shuffle(A, B, od);
            KD_LOAD(A, bk + y);
            KD_LOAD(B, bk + y + 4);
            BE = __builtin_shuffle(A, B, ev);
            BO = __builtin_shuffle(A, B, od);
        }
        P = (kd_v4){0, 0, 0, 0} + w[(y + Ly - 1) % Ly];      /* row y - 1 */
        Q = (kd_v4){0, 0, 0, 0} + w[(y + 8) % Ly];           /* row y + 8 */
        fe = kd_decide4(E, (E << 1) | (E >> 63), (E >> 1) | (E << 63), O,
                        __builtin_shuffle(O, P, (kd_v4){4, 0, 1, 2}), FE, BE, cubic, metro,
                        always_m, inv_m, cls_m, planes, gen_s, buf, pos) & me;
        fo = kd_decide4(O, (O << 1) | (O >> 63), (O >> 1) | (O << 63),
                        __builtin_shuffle(E, Q, (kd_v4){1, 2, 3, 4}), E, FO, BO, cubic, metro,
                        always_m, inv_m, cls_m, planes, gen_s, buf, pos) & mo;
        E ^= fe;
        O ^= fo;
        A = __builtin_shuffle(E, O, (kd_v4){0, 4, 1, 5});
        B = __builtin_shuffle(E, O, (kd_v4){2, 6, 3, 7});
        KD_STORE(w + y, A);
        KD_STORE(w + y + 4, B);
    }
    KD_LAYER_FUNCTION(kd_block8_w1)
    /* 4 x 4 transpose: rows a, b, c, d -> columns */
    static inline __attribute__((always_inline)) void kd_transpose4(kd_v4 *a, kd_v4 *b,
                                                                    kd_v4 *c, kd_v4 *d) {
        kd_v4 t0 = __builtin_shuffle(*a, *b, (kd_v4){0, 4, 1, 5});
        kd_v4 t1 = __builtin_shuffle(*c, *d, (kd_v4){0, 4, 1, 5});
        kd_v4 t2 = __builtin_shuffle(*a, *b, (kd_v4){2, 6, 3, 7});
        kd_v4 t3 = __builtin_shuffle(*c, *d, (kd_v4){2, 6, 3, 7});
        *a = __builtin_shuffle(t0, t1, (kd_v4){0, 1, 4, 5});
        *b = __builtin_shuffle(t0, t1, (kd_v4){2, 3, 6, 7});
        *c = __builtin_shuffle(t2, t3, (kd_v4){0, 1, 4, 5});
        *d = __builtin_shuffle(t2, t3, (kd_v4){2, 3, 6, 7});
    }
    /* the 16 words of rows y .. y + 7 (W = 2) as columns col[row parity][word] */
    static inline __attribute__((always_inline)) void kd_columns_w2(const uint64_t *w, long y,
                                                                    kd_v4 col[2][2]) {
        KD_LOAD(col[0][0], w + 2 * y);
        KD_LOAD(col[0][1], w + 2 * y + 4);
        KD_LOAD(col[1][0], w + 2 * y + 8);
        KD_LOAD(col[1][1], w + 2 * y + 12);
        kd_transpose4(&col[0][0], &col[0][1], &col[1][0], &col[1][1]);
    }

    /* W = 2 (L = 128), Ly a multiple of 8: a block of 8 rows is 16 words,
       four vectors of two rows each; transposed, they are the columns
       (word 0 / word 1 of the even rows, of the odd rows).  The colour word
       of an even row is word c, of an odd row word 1 - c; its x neighbours
       are the row's other word (rotated by one lane across the row end). */
    static inline __attribute__((always_inline)) void kd_block8_w2_impl(KD_LAYER_PARAMS,
                                                                        int cubic) {
        kd_v4 col[2][2], fcol[2][2], bcol[2][2], s, o, l, r, u, d, P, Q, V0, V1, V2, V3;
        long c = colour;
        kd_columns_w2(w, y, col);
        if (cubic) {
            kd_columns_w2(fr, y, fcol);
            kd_columns_w2(bk, y, bcol);
        } else {
            fcol[0][0] = fcol[0][1] = fcol[1][0] = fcol[1][1] = col[0][0];     /* unused */
            bcol[0][0] = bcol[0][1] = bcol[1][0] = bcol[1][1] = col[0][0];
        }
        /* even rows y, y+2, ...: colour word c */
        s = col[0][c];
        o = col[0][1 - c];
        if (c == 0) { l = (o << 1) | (o >> 63); r = o; }
        else { l = o; r = (o >> 1) | (o << 63); }
        u = col[1][c];
        P = (kd_v4){0, 0, 0, 0} + w[2 * ((y + Ly - 1) % Ly) + c];
        d = __builtin_shuffle(col[1][c], P, (kd_v4){4, 0, 1, 2});
        kd_v4 fe = kd_decide4(s, l, r, u, d, fcol[0][c], bcol[0][c], cubic, metro, always_m,
                              inv_m, cls_m, planes, gen_s, buf, pos);
        /* odd rows y+1, y+3, ...: colour word 1 - c (neighbours: old words,
           which are not of this colour and so unchanged) */
        s = col[1][1 - c];
        o = col[1][c];
        if (c == 1) { l = (o << 1) | (o >> 63); r = o; }
        else { l = o; r = (o >> 1) | (o << 63); }
        d = col[0][1 - c];
        Q = (kd_v4){0, 0, 0, 0} + w[2 * ((y + 8) % Ly) + 1 - c];
        u = __builtin_shuffle(col[0][1 - c], Q, (kd_v4){1, 2, 3, 4});
        kd_v4 fo = kd_decide4(s, l, r, u, d, fcol[1][1 - c], bcol[1][1 - c], cubic, metro,
                              always_m, inv_m, cls_m, planes, gen_s, buf, pos);
        col[0][c] ^= fe;
        col[1][1 - c] ^= fo;
        V0 = col[0][0];
        V1 = col[0][1];
        V2 = col[1][0];
        V3 = col[1][1];
        kd_transpose4(&V0, &V1, &V2, &V3);
        KD_STORE(w + 2 * y, V0);
        KD_STORE(w + 2 * y + 4, V1);
        KD_STORE(w + 2 * y + 8, V2);
        KD_STORE(w + 2 * y + 12, V3);
    }
    KD_LAYER_FUNCTION(kd_block8_w2)
    #else
    /* no vector extensions: never called (KD_HAVE_VEC gates the calls) */
    #define KD_ROW_PARAMS uint64_t *row, const uint64_t *up, const uint64_t *dn,             \
            const uint64_t *fr, const uint64_t *bk, long W, long g, long par, int metro,     \
            const uint64_t *always_m, const uint64_t *inv_m, const uint64_t *cls_m,          \
            const uint64_t *planes, uint64_t *gen_s, uint64_t *buf, Py_ssize_t *pos
    #define KD_LAYER_PARAMS uint64_t *w, const uint64_t *fr, const uint64_t *bk, long y,     \
            long Ly, long colour, int metro, const uint64_t *always_m,                        \
            const uint64_t *inv_m, const uint64_t *cls_m, const uint64_t *planes,             \
            uint64_t *gen_s, uint64_t *buf, Py_ssize_t *pos
    static long kd_row_v4(KD_ROW_PARAMS) { return g; }
    static long kd_row_v8(KD_ROW_PARAMS) { return g; }
    static void kd_pair_w4(KD_LAYER_PARAMS) {}
    static void kd_block8_w1(KD_LAYER_PARAMS) {}
    static void kd_block8_w2(KD_LAYER_PARAMS) {}
    #endif
    """
    void kd_block8_w2(uint64_t* w, const uint64_t* fr, const uint64_t* bk, long y, long Ly,
                      long colour, int metro, const uint64_t* always_m, const uint64_t* inv_m,
                      const uint64_t* cls_m, const uint64_t* planes, uint64_t* gen_s,
                      uint64_t* buf, Py_ssize_t* pos) noexcept nogil
    void kd_block8_w1(uint64_t* w, const uint64_t* fr, const uint64_t* bk, long y, long Ly,
                      long colour, int metro, const uint64_t* always_m, const uint64_t* inv_m,
                      const uint64_t* cls_m, const uint64_t* planes, uint64_t* gen_s,
                      uint64_t* buf, Py_ssize_t* pos) noexcept nogil
    void kd_pair_w4(uint64_t* w, const uint64_t* fr, const uint64_t* bk, long y, long Ly,
                    long colour, int metro, const uint64_t* always_m, const uint64_t* inv_m,
                    const uint64_t* cls_m, const uint64_t* planes, uint64_t* gen_s,
                    uint64_t* buf, Py_ssize_t* pos) noexcept nogil
    long kd_row_v4(uint64_t* row, const uint64_t* up, const uint64_t* dn, const uint64_t* fr,
                   const uint64_t* bk, long W, long g, long par, int metro,
                   const uint64_t* always_m, const uint64_t* inv_m, const uint64_t* cls_m,
                   const uint64_t* planes, uint64_t* gen_s, uint64_t* buf,
                   Py_ssize_t* pos) noexcept nogil
    long kd_row_v8(uint64_t* row, const uint64_t* up, const uint64_t* dn, const uint64_t* fr,
                   const uint64_t* bk, long W, long g, long par, int metro,
                   const uint64_t* always_m, const uint64_t* inv_m, const uint64_t* cls_m,
                   const uint64_t* planes, uint64_t* gen_s, uint64_t* buf,
                   Py_ssize_t* pos) noexcept nogil

cdef enum:
    MAXZ = 6          # cubic lattice
    NCLS = 4          # random probability classes (heat bath, cubic: d = 0/6, 1/5, 2/4, 3)
    TBITS = 32        # threshold precision in bits

cdef uint64_t EVEN_LANES = 0x5555555555555555ULL
cdef uint64_t ODD_LANES = 0xAAAAAAAAAAAAAAAAULL


cdef struct Rule:
    int z
    int cls_of[MAXZ + 1]        # random class of count d, or -1 (never / always)
    int always[MAXZ + 1]        # 1: lanes with count d always flip
    int inv[MAXZ + 1]           # 1: flip when U >= t (heat bath, d > z / 2)
    uint64_t planes[NCLS][TBITS]   # all-ones iff bit (31 - k) of threshold c is set
    uint64_t cls_m[NCLS][MAXZ + 1]  # all-ones iff count d is in random class c
    uint64_t always_m[MAXZ + 1]
    uint64_t inv_m[MAXZ + 1]
    int ncls
    int mode                    # -z/2: ferromagnetic Metropolis pattern (see _flips), else 0


cdef enum:
    BLOCK = 256       # random words generated at a time
    FIXED = 8         # threshold bits compared without a data-dependent branch


cdef struct Source:
    uint64_t s[64]            # sixteen xoshiro256** streams, seeded each sweep
    uint64_t buf[BLOCK]
    Py_ssize_t pos


cdef inline void _seed_source(Source* src, uint64_t* st) noexcept nogil:
    """Fresh sub-stream states for one sweep: 64 words of the caller's stream
    (a zero state is impossible in practice: 2^-256)."""
    cdef int i
    for i in range(64):
        src.s[i] = next_u64(st)
    src.pos = BLOCK


cdef inline uint64_t _threshold_bits(const Rule* R, int k, uint64_t c0, uint64_t c1, uint64_t c2,
                                     uint64_t c3, const int ncls) noexcept nogil:
    """Bit k (from the top) of each lane's threshold: lanes of class c take
    bit k of t_c; ncls as in _flips (classes unused by the rule are skipped)."""
    cdef uint64_t t = c0 & R.planes[0][k]
    if ncls > 1 or ncls < 0:
        t |= c1 & R.planes[1][k]
    if ncls > 2 or ncls == -3:
        t |= c2 & R.planes[2][k]
    if ncls > 3:
        t |= c3 & R.planes[3][k]
    return t


cdef inline uint64_t _draw(Source* src) noexcept nogil:
    if src.pos == BLOCK:
        kd_xoshiro16_fill(src.s, src.buf, BLOCK)
        src.pos = 0
    src.pos += 1
    return src.buf[src.pos - 1]


cdef inline uint64_t _rotl1(uint64_t x) noexcept nogil:
    return (x << 1) | (x >> 63)


cdef inline uint64_t _rotr1(uint64_t x) noexcept nogil:
    return (x >> 1) | (x << 63)


cdef inline uint64_t _flips(uint64_t n0, uint64_t n1, uint64_t n2, const Rule* R,
                            Source* st, const int ncls) noexcept nogil:
    """Lanes that flip, given the bit-planes (n0, n1, n2) of the disagreement
    count; ncls (a literal at the call site) random classes are in use, or
    ncls = -2 / -3: ferromagnetic Metropolis on the square / cubic lattice
    (random classes d = 0 .. z/2 - 1, the rest always flip), with the class
    masks written out instead of assembled from the rule tables."""
    cdef uint64_t eq, always = 0, inv = 0, und, rnd, acc = 0, r, t, low
    cdef uint64_t c0 = 0, c1 = 0, c2 = 0, c3 = 0
    cdef int d, c, k
    if ncls == -2:              # d = 0, 1 random; d >= 2 always
        low = ~(n1 | n2)
        c0 = low & ~n0
        c1 = low & n0
        always = ~low
    elif ncls == -3:            # d = 0, 1, 2 random; d >= 3 always
        low = ~(n2 | (n1 & n0))
        c0 = low & ~n1 & ~n0
        c1 = low & ~n1 & n0
        c2 = low & n1 & ~n0
        always = ~low
    else:
        for d in range(R.z + 1):
            eq = ((n0 if d & 1 else ~n0) & (n1 if d & 2 else ~n1) & (n2 if d & 4 else ~n2))
            always |= eq & R.always_m[d]
            inv |= eq & R.inv_m[d]
            c0 |= eq & R.cls_m[0][d]
            if ncls > 1:
                c1 |= eq & R.cls_m[1][d]
            if ncls > 2:
                c2 |= eq & R.cls_m[2][d]
            if ncls > 3:
                c3 |= eq & R.cls_m[3][d]
    rnd = c0 | c1 | c2 | c3
    und = rnd
    # The first FIXED levels unconditionally (no unpredictable branch; some
    # lane of ~50 is nearly always still undecided there), then lazily.
    if st.pos > BLOCK - FIXED:
        kd_xoshiro16_fill(st.s, st.buf, BLOCK)
        st.pos = 0
    for k in range(FIXED):
        r = st.buf[st.pos + k]
        t = _threshold_bits(R, k, c0, c1, c2, c3, ncls)
        acc |= und & t & ~r            # first differing bit: U has 0, t has 1
        und &= ~(r ^ t)
    st.pos += FIXED
    k = FIXED
    while und != 0 and k < TBITS:
        r = _draw(st)
        t = _threshold_bits(R, k, c0, c1, c2, c3, ncls)
        acc |= und & t & ~r
        und &= ~(r ^ t)
        k += 1
    return ((acc ^ inv) & rnd) | always


cdef inline void _word(uint64_t* row, Py_ssize_t j, Py_ssize_t W, const uint64_t* up,
                       const uint64_t* dn, const uint64_t* fr, const uint64_t* bk,
                       uint64_t mask, const Rule* R, Source* st, const int ncls) noexcept nogil:
    cdef uint64_t s = row[j], left, right, a, b, c, d, e, f, s1, c1, s2, c2, k
    cdef uint64_t n0, n1, n2
    left = row[j - 1] if j > 0 else _rotl1(row[W - 1])
    right = row[j + 1] if j < W - 1 else _rotr1(row[0])
    a = s ^ left
    b = s ^ right
    c = s ^ up[j]
    d = s ^ dn[j]
    if fr == NULL:
        s1 = a ^ b
        c1 = a & b
        s2 = c ^ d
        c2 = c & d
        n0 = s1 ^ s2
        k = s1 & s2
        n1 = c1 ^ c2 ^ k
        n2 = (c1 & c2) | (k & (c1 ^ c2))
    else:
        e = s ^ fr[j]
        f = s ^ bk[j]
        s1 = a ^ b ^ c
        c1 = (a & b) | (c & (a ^ b))
        s2 = d ^ e ^ f
        c2 = (d & e) | (f & (d ^ e))
        n0 = s1 ^ s2
        k = s1 & s2
        n1 = c1 ^ c2 ^ k
        n2 = (c1 & c2) | (k & (c1 ^ c2))
    row[j] = s ^ (_flips(n0, n1, n2, R, st, ncls) & mask)


cdef inline void _sweep(uint64_t* w, Py_ssize_t W, Py_ssize_t Ly, Py_ssize_t Lz, bint cubic,
                        const Rule* R, Source* st) noexcept nogil:
    cdef Py_ssize_t colour, y, z, j, g, par
    cdef uint64_t* row
    cdef const uint64_t* up
    cdef const uint64_t* dn
    cdef const uint64_t* fr = NULL
    cdef const uint64_t* bk = NULL
    cdef uint64_t mask
    cdef bint pair_rows = KD_HAVE_VEC and W == 4 and Ly % 4 == 0
    cdef bint block8 = KD_HAVE_VEC and W <= 2 and Ly % 8 == 0
    cdef uint64_t* layer
    cdef const uint64_t* front = NULL
    cdef const uint64_t* back = NULL
    cdef int metro = R.mode < 0       # the ferromagnetic Metropolis pattern
    for colour in range(2):
        for z in range(Lz):
            layer = w + z * Ly * W
            if cubic:
                front = w + ((z + 1) % Lz) * Ly * W
                back = w + ((z + Lz - 1) % Lz) * Ly * W
            if block8:
                # W = 1, 2: blocks of 8 rows, 4 words per vector step
                for y in range(0, Ly, 8):
                    if W == 1:
                        kd_block8_w1(layer, front, back, y, Ly, colour ^ (z & 1), metro,
                                     R.always_m, R.inv_m, &R.cls_m[0][0], &R.planes[0][0],
                                     st.s, st.buf, &st.pos)
                    else:
                        kd_block8_w2(layer, front, back, y, Ly, colour ^ (z & 1), metro,
                                     R.always_m, R.inv_m, &R.cls_m[0][0], &R.planes[0][0],
                                     st.s, st.buf, &st.pos)
                continue
            for y in range(Ly):
                if pair_rows:
                    # W = 4: rows y and y + 2 together (y mod 4 in {0, 1})
                    if (y & 3) < 2:
                        kd_pair_w4(layer, front, back, y, Ly, colour ^ (z & 1), metro,
                                   R.always_m, R.inv_m, &R.cls_m[0][0], &R.planes[0][0],
                                   st.s, st.buf, &st.pos)
                    continue
                row = w + (z * Ly + y) * W
                up = w + (z * Ly + (y + 1) % Ly) * W
                dn = w + (z * Ly + (y + Ly - 1) % Ly) * W
                if cubic:
                    fr = w + (((z + 1) % Lz) * Ly + y) * W
                    bk = w + (((z + Lz - 1) % Lz) * Ly + y) * W
                par = (colour + y + z) & 1
                if W % 2 == 0:
                    # word j holds colour (j + y + z) mod 2 in all lanes
                    g = 0
                    if KD_HAVE_VEC and W >= 16:
                        # 8 colour words per step (aligned groups of 16 words)
                        g = kd_row_v8(row, up, dn, fr, bk, W, g, par, metro, R.always_m,
                                      R.inv_m, &R.cls_m[0][0], &R.planes[0][0], st.s, st.buf,
                                      &st.pos)
                    if KD_HAVE_VEC and W >= 8:
                        # 4 colour words per step (aligned groups of 8 words)
                        g = kd_row_v4(row, up, dn, fr, bk, W, g, par, metro, R.always_m,
                                      R.inv_m, &R.cls_m[0][0], &R.planes[0][0], st.s, st.buf,
                                      &st.pos)
                    j = g + par
                    while j < W:
                        if R.mode == -2:
                            _word(row, j, W, up, dn, fr, bk, <uint64_t>(-1), R, st, -2)
                        elif R.mode == -3:
                            _word(row, j, W, up, dn, fr, bk, <uint64_t>(-1), R, st, -3)
                        elif R.ncls <= 1:
                            _word(row, j, W, up, dn, fr, bk, <uint64_t>(-1), R, st, 1)
                        elif R.ncls == 2:
                            _word(row, j, W, up, dn, fr, bk, <uint64_t>(-1), R, st, 2)
                        elif R.ncls == 3:
                            _word(row, j, W, up, dn, fr, bk, <uint64_t>(-1), R, st, 3)
                        else:
                            _word(row, j, W, up, dn, fr, bk, <uint64_t>(-1), R, st, 4)
                        j += 2
                else:
                    # lane b of word j has colour (j + b + y + z) mod 2
                    for j in range(W):
                        mask = EVEN_LANES if (par + j) & 1 == 0 else ODD_LANES
                        if R.mode == -2:
                            _word(row, j, W, up, dn, fr, bk, mask, R, st, -2)
                        elif R.mode == -3:
                            _word(row, j, W, up, dn, fr, bk, mask, R, st, -3)
                        elif R.ncls <= 1:
                            _word(row, j, W, up, dn, fr, bk, mask, R, st, 1)
                        elif R.ncls == 2:
                            _word(row, j, W, up, dn, fr, bk, mask, R, st, 2)
                        elif R.ncls == 3:
                            _word(row, j, W, up, dn, fr, bk, mask, R, st, 3)
                        else:
                            _word(row, j, W, up, dn, fr, bk, mask, R, st, 4)


cdef inline void _measure(const uint64_t* w, Py_ssize_t W, Py_ssize_t Ly, Py_ssize_t Lz,
                          bint cubic, double J, Py_ssize_t n_axes, const double* cs,
                          const double* sn, uint64_t* cnt, Py_ssize_t K, int64_t* sums,
                          double* out) noexcept nogil:
    """out[0] = H, out[1] = M, out[2] = sum_t |M(k_t)|^2 (see the header)."""
    cdef Py_ssize_t Lx = 64 * W, nrows = Ly * Lz, n = Lx * nrows
    cdef Py_ssize_t r, y, z, j, b, l, x, i, t, Lt
    cdef const uint64_t* row
    cdef const uint64_t* up
    cdef const uint64_t* fr
    cdef uint64_t carry, tmp, a
    cdef uint64_t* small = cnt + W * K
    cdef int n_small = 0
    cdef int64_t ones = 0, dis = 0, rowones, count
    cdef double re, im, sk = 0.0
    cdef int64_t* sx = sums
    cdef int64_t* sy = sums + Lx
    cdef int64_t* sz = sums + 2 * Lx
    if n_axes > 0:
        for i in range(W * (K + 4)):
            cnt[i] = 0
        for i in range(3 * Lx):
            sums[i] = 0
    for z in range(Lz):
        for y in range(Ly):
            r = z * Ly + y
            row = w + r * W
            up = w + (z * Ly + (y + 1) % Ly) * W
            fr = w + (((z + 1) % Lz) * Ly + y) * W
            kd_row_counts(row, up, fr if cubic else NULL, W, &rowones, &dis)
            if n_axes > 0:
                # bit-sliced column counters, branch-free: a 4-plane counter
                # per word (small[4 j + l] = bit l of each lane's count) takes
                # up to 15 rows, then is added into the K-plane total
                # cnt[j K + l]
                for j in range(W):
                    carry = row[j]
                    for l in range(4):
                        tmp = small[4 * j + l] & carry
                        small[4 * j + l] ^= carry
                        carry = tmp
                n_small += 1
                if n_small == 15 or r == nrows - 1:
                    for j in range(W):
                        carry = 0
                        for l in range(K):
                            a = small[4 * j + l] if l < 4 else 0
                            tmp = cnt[j * K + l]
                            cnt[j * K + l] = tmp ^ a ^ carry
                            carry = (tmp & a) | (carry & (tmp ^ a))
                        for l in range(4):
                            small[4 * j + l] = 0
                    n_small = 0
            ones += rowones
            if n_axes > 0:
                sy[y] += Lx - 2 * rowones
                sz[z] += Lx - 2 * rowones
    out[0] = -J * (<double>((2 + cubic) * n) - 2.0 * dis)
    out[1] = <double>(n - 2 * ones)
    if n_axes > 0:
        for j in range(W):
            for b in range(64):
                count = 0
                for l in range(K):
                    count |= <int64_t>((cnt[j * K + l] >> b) & 1) << l
                sx[j + b * W] = nrows - 2 * count
        for t in range(n_axes):
            Lt = Lx if t == 0 else (Ly if t == 1 else Lz)
            re = 0.0
            im = 0.0
            for x in range(Lt):
                re += sums[t * Lx + x] * cs[x]
                im += sums[t * Lx + x] * sn[x]
            sk += re * re + im * im
    out[2] = sk


def pack(const signed char[::1] s, uint64_t[::1] words, Py_ssize_t W):
    """words[r W + j] bit b = [s[x + 64 W r] == -1] with x = j + b W."""
    cdef Py_ssize_t Lx = 64 * W, nrows = words.shape[0] // W, r, j, b
    cdef uint64_t v
    with nogil:
        for r in range(nrows):
            for j in range(W):
                v = 0
                for b in range(64):
                    v |= (<uint64_t>(s[r * Lx + j + b * W] < 0)) << b
                words[r * W + j] = v


def unpack(const uint64_t[::1] words, signed char[::1] s, Py_ssize_t W):
    """Inverse of pack: s = 1 - 2 bit."""
    cdef Py_ssize_t Lx = 64 * W, nrows = words.shape[0] // W, r, j, b
    cdef uint64_t v
    with nogil:
        for r in range(nrows):
            for j in range(W):
                v = words[r * W + j]
                for b in range(64):
                    s[r * Lx + j + b * W] = <signed char>(1 - 2 * <int>((v >> b) & 1))


def multispin_run(uint64_t[::1] words, Py_ssize_t W, Py_ssize_t Ly, Py_ssize_t Lz,
                  const int64_t[::1] cls_of, const int64_t[::1] always, const int64_t[::1] inv,
                  const uint64_t[::1] thresholds, double J, uint64_t[::1] rng_state,
                  Py_ssize_t n_measure, Py_ssize_t every, Py_ssize_t n_axes,
                  const double[::1] cs, const double[::1] sn, uint64_t[::1] cnt,
                  int64_t[::1] sums, double[:, ::1] out):
    """Run n_measure * every sweeps of the packed lattice `words` (layout in
    the module header; Lz = 1: square, Lz > 1: cubic); after each block of
    `every` sweeps store (H, M, sum_t |M(k_t)|^2) in out[m].  n_measure = 0
    runs `every` sweeps without measuring.

    Count d = 0..z of disagreeing neighbours -> cls_of[d] (random class
    0..3 or -1), always[d] (flip without drawing), inv[d] (flip when
    U >= t); thresholds[c] = floor(p 2^32) < 2^32 of class c.  cs, sn: cos and
    sin of 2 pi x / L (x < L, all sides L) when n_axes > 0; cnt (W (K + 4)
    words, 2^K > Ly Lz, K >= 4) and sums (3 Lx) are scratch for the Fourier sums.
    """
    cdef Rule R
    cdef Source src
    cdef Py_ssize_t d, c, k, m, t
    cdef bint cubic = Lz > 1
    cdef uint64_t st[4]
    cdef Py_ssize_t blocks = n_measure if n_measure > 0 else 1
    cdef Py_ssize_t K = cnt.shape[0] // W - 4 if W > 0 and cnt.shape[0] > 0 else 0
    R.z = 6 if cubic else 4
    for d in range(MAXZ + 1):
        R.cls_of[d] = <int>cls_of[d] if d <= R.z else -1
        R.always[d] = <int>always[d] if d <= R.z else 0
        R.inv[d] = <int>inv[d] if d <= R.z else 0
    R.ncls = 0
    for d in range(MAXZ + 1):
        R.always_m[d] = <uint64_t>(-1) if R.always[d] else 0
        R.inv_m[d] = <uint64_t>(-1) if R.inv[d] else 0
        for c in range(NCLS):
            R.cls_m[c][d] = <uint64_t>(-1) if R.cls_of[d] == c else 0
        if R.cls_of[d] >= R.ncls:
            R.ncls = R.cls_of[d] + 1
    # the ferromagnetic Metropolis pattern: class d for d < z/2, always above
    R.mode = -(R.z // 2)
    for d in range(R.z + 1):
        if d < R.z // 2:
            if R.cls_of[d] != d or R.always[d] or R.inv[d]:
                R.mode = 0
        elif R.cls_of[d] != -1 or not R.always[d] or R.inv[d]:
            R.mode = 0
    for c in range(NCLS):
        for k in range(TBITS):
            R.planes[c][k] = <uint64_t>(-1) if (thresholds[c] >> (TBITS - 1 - k)) & 1 else 0
    st[0], st[1], st[2], st[3] = rng_state[0], rng_state[1], rng_state[2], rng_state[3]
    cdef const double* csp = &cs[0] if cs.shape[0] > 0 else NULL
    cdef const double* snp = &sn[0] if sn.shape[0] > 0 else NULL
    cdef uint64_t* cntp = &cnt[0] if cnt.shape[0] > 0 else NULL
    cdef int64_t* sump = &sums[0] if sums.shape[0] > 0 else NULL
    with nogil:
        for m in range(blocks):
            for t in range(every):
                _seed_source(&src, st)
                _sweep(&words[0], W, Ly, Lz, cubic, &R, &src)
            if n_measure > 0:
                _measure(&words[0], W, Ly, Lz, cubic, J, n_axes, csp, snp, cntp, K, sump,
                         &out[m, 0])
    rng_state[0], rng_state[1], rng_state[2], rng_state[3] = st[0], st[1], st[2], st[3]
