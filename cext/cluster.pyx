# Cluster updates for the Ising model.
#
# Bond rule (Fortuin-Kasteleyn, gauge-covariant form): the bond (i, j) with
# coupling J_ij is "satisfied" when J_ij s_i s_j > 0; a satisfied bond is
# activated with probability p_ij = 1 - exp(-2 beta |J_ij|).  Valid without a
# field; the Python layer only admits unfrustrated couplings (a gauge makes
# them all ferromagnetic), which Wolff's growth below relies on.
#
# Bond data come either per entry (arrays as long as the bond/entry list) or,
# for uniform couplings, as one value (arrays of length 1): the uniform case
# then reads no per-bond memory in the inner loop.
# Probabilities are 53-bit integer thresholds p * 2**53 (see rng.pxd).
from libc.stdint cimport uint64_t, int32_t
from libc.string cimport memcpy

from rng cimport next_u64, next_u53, next_index
from ising_common cimport ising_energy_magnetization


cdef enum:
    LO_BITS = 45       # a bond draw is 8 bits: U = r8 2**45 + r45 (see _field_below)


cdef inline bint _field_below(uint64_t r, uint64_t hi, uint64_t lo, uint64_t* st) noexcept nogil:
    """Bernoulli(thr / 2**53), exactly, from the fresh random byte r:
    hi = thr >> 45, lo = thr mod 2**45.  U = r 2**45 + r45 is uniform on
    [0, 2**53) and U < thr iff r < hi, or r == hi and r45 < lo; the 45
    further bits are drawn only on that tie (probability 2**-8), so a
    Bernoulli costs about 1/8 of a 64-bit draw.  thr = 2**53 (p = 1) gives
    hi = 256: always."""
    if r == hi:
        return (next_u64(st) >> (64 - LO_BITS)) < lo
    return r < hi


cdef inline bint _next_field_below(uint64_t* word, int* left, uint64_t hi, uint64_t lo,
                                   uint64_t* st) noexcept nogil:
    """_field_below with the next 8-bit field of *word (a fresh 64-bit draw
    every 8 fields; *left fields remain)."""
    cdef uint64_t r
    if left[0] == 0:
        word[0] = next_u64(st)
        left[0] = 8
    r = word[0] & 0xFF
    word[0] >>= 8
    left[0] -= 1
    return _field_below(r, hi, lo, st)


cdef inline Py_ssize_t _grow_uniform(signed char* s, const int32_t* nb, const Py_ssize_t count,
                                     signed char old, uint64_t hi, uint64_t lo,
                                     int32_t* queue, Py_ssize_t tail, uint64_t* word,
                                     int* left, uint64_t* st) noexcept nogil:
    """Offer the `count` neighbours nb[0..count) of a cluster site to the
    cluster (uniform ferromagnetic couplings): a neighbour with the seed's old
    spin joins with probability p0 = (hi 2**45 + lo) / 2**53, is flipped and
    queued; returns the new queue end.  Every neighbour takes one 8-bit field
    (_next_field_below), joining or not, so the add decision has no branch on
    the spin (it is a coin flip at T_c) and the generator, whose state update
    is a serial chain, runs once per eight neighbours."""
    cdef Py_ssize_t k, j
    cdef signed char sj
    cdef int add
    for k in range(count):
        j = nb[k]
        sj = s[j]
        add = (sj == old) & _next_field_below(word, left, hi, lo, st)
        s[j] = sj * <signed char>(1 - 2 * add)
        queue[tail] = <int32_t>j
        tail += add
    return tail


cdef inline Py_ssize_t _wolff_uniform_regular(signed char* s, Py_ssize_t n,
                                              const int32_t* indices, const Py_ssize_t z,
                                              uint64_t p0, int32_t* queue,
                                              uint64_t* st) noexcept nogil:
    # Every site has degree z (a literal at the call site: the k loop unrolls),
    # so the neighbours of i are indices[z i : z i + z].  Bond fields left
    # over at the end of a cluster are dropped, so the bits of a cluster
    # never depend on how runs are split into calls.
    cdef Py_ssize_t seed = next_index(st, n)
    cdef Py_ssize_t head = 0, tail = 1
    cdef signed char old = s[seed]
    cdef uint64_t word = 0, hi = p0 >> LO_BITS, lo = p0 & ((<uint64_t>1 << LO_BITS) - 1)
    cdef int left = 0
    queue[0] = <int32_t>seed
    s[seed] = -old
    while head < tail:
        tail = _grow_uniform(s, indices + z * queue[head], z, old, hi, lo, queue, tail,
                             &word, &left, st)
        head += 1
    return tail


cdef inline void _sort2(int32_t* a, int32_t* b) noexcept nogil:
    cdef int32_t lo = a[0] if a[0] < b[0] else b[0]
    cdef int32_t hi = b[0] if a[0] < b[0] else a[0]
    a[0] = lo
    b[0] = hi


cdef inline Py_ssize_t _wolff_square(signed char* s, Py_ssize_t n, Py_ssize_t Lx,
                                     uint64_t magic, int shift, uint64_t p0, int32_t* queue,
                                     uint64_t* st) noexcept nogil:
    """_wolff_uniform_regular on the periodic Lx x (n / Lx) square lattice
    (Lx, Ly >= 3) without the neighbour table, whose 16 bytes per site make
    it the slower choice from about 2**17 sites: the neighbours are computed from
    y = floor(i / Lx) = (i magic) >> shift (exact for i < 2**31, see
    square_wolff_constants) and offered in increasing index order, the
    order of kd.lattice.square's table, so the bits are those of the
    table path."""
    cdef Py_ssize_t seed = next_index(st, n)
    cdef Py_ssize_t head = 0, tail = 1, i, y, x
    cdef signed char old = s[seed]
    cdef uint64_t word = 0, hi = p0 >> LO_BITS, lo = p0 & ((<uint64_t>1 << LO_BITS) - 1)
    cdef int left = 0
    cdef int32_t nb[4]
    queue[0] = <int32_t>seed
    s[seed] = -old
    while head < tail:
        i = queue[head]
        head += 1
        y = <Py_ssize_t>((<uint64_t>i * magic) >> shift)
        x = i - y * Lx
        nb[0] = <int32_t>(i - Lx + (n if y == 0 else 0))
        nb[1] = <int32_t>(i - 1 + (Lx if x == 0 else 0))
        nb[2] = <int32_t>(i + 1 - (Lx if x == Lx - 1 else 0))
        nb[3] = <int32_t>(i + Lx - (n if i + Lx >= n else 0))
        # a sorting network: the wrapped neighbours change the order
        _sort2(&nb[0], &nb[1])
        _sort2(&nb[2], &nb[3])
        _sort2(&nb[0], &nb[2])
        _sort2(&nb[1], &nb[3])
        _sort2(&nb[1], &nb[2])
        tail = _grow_uniform(s, nb, 4, old, hi, lo, queue, tail, &word, &left, st)
    return tail


def square_wolff_constants(Py_ssize_t Lx):
    """(magic, shift) with floor(i / Lx) = (i magic) >> shift for 0 <= i < 2**31:
    shift = 31 + ceil(log2 Lx), magic = ceil(2**shift / Lx) < 2**33, so i magic
    < 2**64, and magic Lx - 2**shift < Lx <= 2**(shift - 31) makes the
    rounded-up reciprocal exact on 31-bit numerators."""
    if Lx < 1:
        raise ValueError(f"Lx must be >= 1, got {Lx}")
    shift = 31 + int(Lx - 1).bit_length()       # Python integers: 2**shift > 2**32
    return (2 ** shift + Lx - 1) // Lx, shift


cdef inline Py_ssize_t _wolff_cluster(signed char* s, Py_ssize_t n, const int32_t* indptr,
                                      const int32_t* indices, const uint64_t* padd,
                                      const signed char* bsign, bint uniform,
                                      int32_t* queue, uint64_t* st) noexcept nogil:
    """Grow one Wolff cluster from a uniformly drawn seed and flip it; return its size.

    Sites are flipped when they join, so a site is never added twice: for
    unfrustrated couplings every bond inside the cluster was satisfied before
    the update and is unsatisfied once either end has flipped.  Growth is
    breadth-first through a FIFO queue: the next site to grow from does not
    depend on the add decisions just made, so the processor overlaps the
    memory loads of consecutive sites (a depth-first stack chains them).
    With uniform ferromagnetic couplings every cluster site had the seed's
    spin, so the test is s_j == old without reading s_i; the add decision is
    branch-free (it is a coin flip at T_c).
    """
    cdef Py_ssize_t seed = next_index(st, n)
    cdef Py_ssize_t head = 0, tail = 1, k, i, j
    cdef signed char old = s[seed], old_i
    cdef uint64_t word = 0, hi = padd[0] >> LO_BITS
    cdef uint64_t lo = padd[0] & ((<uint64_t>1 << LO_BITS) - 1)
    cdef int left = 0
    queue[0] = <int32_t>seed
    s[seed] = -old
    while head < tail:
        i = queue[head]
        head += 1
        if uniform:
            tail = _grow_uniform(s, indices + indptr[i], indptr[i + 1] - indptr[i], old, hi,
                                 lo, queue, tail, &word, &left, st)
        else:
            old_i = -s[i]
            for k in range(indptr[i], indptr[i + 1]):
                j = indices[k]
                if s[j] == bsign[k] * old_i and next_u53(st) < padd[k]:
                    s[j] = -s[j]
                    queue[tail] = <int32_t>j
                    tail += 1
    return tail


cdef inline Py_ssize_t _wolff_clusters(signed char* s, Py_ssize_t n, const int32_t* indptr,
                                       const int32_t* indices, Py_ssize_t z,
                                       const uint64_t* padd, const signed char* bsign,
                                       bint uniform, const uint64_t* square, int32_t* queue,
                                       Py_ssize_t count, uint64_t* st) noexcept nogil:
    """`count` single-cluster updates; returns the number of spins flipped.
    z > 0: every site has degree z (unrolled path for uniform couplings);
    square[0] = Lx > 0: the table-free square-lattice path (square[1], [2]:
    square_wolff_constants)."""
    cdef Py_ssize_t c, flipped = 0
    cdef uint64_t p0 = padd[0]
    if uniform and square[0] > 0:
        for c in range(count):
            flipped += _wolff_square(s, n, <Py_ssize_t>square[0], square[1], <int>square[2],
                                     p0, queue, st)
    elif uniform and z == 4:
        for c in range(count):
            flipped += _wolff_uniform_regular(s, n, indices, 4, p0, queue, st)
    elif uniform and z == 6:
        for c in range(count):
            flipped += _wolff_uniform_regular(s, n, indices, 6, p0, queue, st)
    elif uniform and z == 3:
        for c in range(count):
            flipped += _wolff_uniform_regular(s, n, indices, 3, p0, queue, st)
    else:
        for c in range(count):
            flipped += _wolff_cluster(s, n, indptr, indices, padd, bsign, uniform, queue, st)
    return flipped


def wolff_run(signed char[::1] s, const int32_t[::1] indptr, const int32_t[::1] indices,
              Py_ssize_t degree, const uint64_t[::1] padd, const signed char[::1] bsign,
              const double[::1] weights, const double[::1] field,
              int32_t[::1] queue, uint64_t[::1] rng_state,
              Py_ssize_t n_measure, Py_ssize_t every, Py_ssize_t clusters_per_sweep,
              const double[::1] phase, double[:, ::1] out, Py_ssize_t flip_budget=0,
              const uint64_t[::1] square=None):
    """Run n_measure * every sweeps of `clusters_per_sweep` single-cluster
    updates, measuring after each block of `every` sweeps (n_measure = 0:
    run `every` sweeps without measuring).  `padd`, `bsign` hold one value
    per CSR entry, or one value in all for uniform couplings.  `degree` is
    the common degree of all sites, or 0 if degrees differ; `queue` is a work
    array of N + 1 int32 (the growth loop writes one slot past the last
    member without a branch).  flip_budget > 0 instead grows clusters,
    without measuring, until at least flip_budget spins have flipped (the
    thermalisation sweeps that measure the mean cluster size).  `square`
    (Lx, magic, shift) selects the table-free path for uniform couplings on
    kd.lattice.square's periodic Lx x Ly table (Lx, Ly >= 3, rows in
    increasing order), which the caller has checked; None: the table.
    Returns (spins flipped, clusters grown).
    """
    cdef uint64_t st[4]   # local copy: see spin.pyx
    st[0], st[1], st[2], st[3] = rng_state[0], rng_state[1], rng_state[2], rng_state[3]
    cdef Py_ssize_t m, t, c, n = s.shape[0]
    cdef Py_ssize_t blocks = n_measure if n_measure > 0 else 1
    cdef bint uniform = padd.shape[0] == 1
    cdef long long flipped = 0, clusters = 0
    cdef uint64_t sq[3]
    sq[0] = sq[1] = sq[2] = 0
    if queue.shape[0] < n + 1:
        raise ValueError(f"queue must have n_sites + 1 = {n + 1} entries, got {queue.shape[0]}")
    if square is not None:
        if square.shape[0] != 3 or square[0] < 3 or n % square[0] or n // square[0] < 3 \
                or n >= (1 << 31) or (square[1], square[2]) != square_wolff_constants(square[0]):
            raise ValueError("square must be (Lx, *square_wolff_constants(Lx)) with Lx, "
                             "Ly >= 3 and N < 2**31")
        sq[0], sq[1], sq[2] = square[0], square[1], square[2]
    with nogil:
        while flipped < flip_budget:
            flipped += _wolff_clusters(&s[0], n, &indptr[0], &indices[0], degree, &padd[0],
                                       &bsign[0], uniform, sq, &queue[0], 1, st)
            clusters += 1
        if flip_budget > 0:
            blocks = 0
        for m in range(blocks):
            for t in range(every):
                flipped += _wolff_clusters(&s[0], n, &indptr[0], &indices[0], degree,
                                           &padd[0], &bsign[0], uniform, sq, &queue[0],
                                           clusters_per_sweep, st)
                clusters += clusters_per_sweep
            if n_measure > 0:
                ising_energy_magnetization(s, indptr, indices, weights, field, phase, &out[m, 0])
    rng_state[0], rng_state[1], rng_state[2], rng_state[3] = st[0], st[1], st[2], st[3]
    return flipped, clusters


cdef inline int32_t _find(int32_t* parent, int32_t i) noexcept nogil:
    # Roots satisfy parent[r] == r and every other site points to a smaller
    # index (parent[i] < i); path halving keeps that true.
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


cdef inline int32_t _find3(int32_t* parent, int32_t i) noexcept nogil:
    # _find for trees that are nearly all of depth <= 2 (Swendsen-Wang
    # labels; below T_c the giant cluster is deeper): two loads and one
    # rarely-taken branch instead of a loop whose exit after 0, 1 or 2 steps
    # is mispredicted.  The slow path points i and its parent at the root.
    cdef int32_t p = parent[i], g = parent[p]
    if parent[g] != g:
        g = _find(parent, g)
        parent[i] = g
        parent[p] = g
    return g


cdef enum:
    SW_CHUNK = 2048    # bonds drawn (and active ones buffered) before they are merged


cdef inline void _activate_fields(signed char* a, Py_ssize_t m, uint64_t w,
                                  const uint64_t* thr, Py_ssize_t stride,
                                  uint64_t* st) noexcept nogil:
    """a[q] &= Bernoulli(thr[q stride] / 2**53) for q < m <= 8, exactly
    (_field_below), bond q taking the 8-bit field q of the 64-bit draw w.
    Fields and tie draws are used in bond order, so a seed fixes the bits."""
    cdef Py_ssize_t q
    cdef uint64_t t
    for q in range(m):
        t = thr[q * stride]
        a[q] &= <signed char>_field_below((w >> (8 * q)) & 0xFF, t >> LO_BITS,
                                          t & ((<uint64_t>1 << LO_BITS) - 1), st)


cdef inline void _activate(signed char* a, Py_ssize_t m, const uint64_t* thr, bint uniform,
                           uint64_t* st) noexcept nogil:
    """a[k] &= Bernoulli(p_k) for k < m (a[k] in {0, 1}: the bond is
    satisfied), eight bonds per 64-bit draw (_activate_fields); p_k =
    thr[0] / 2**53 for all k if uniform, else thr[k] / 2**53.  Uniform: a
    word-wide test finds the rare draws with a byte equal to thr >> 45, and
    all others compare eight bytes without a branch."""
    cdef Py_ssize_t g, q, groups = m // 8
    cdef uint64_t w, x, hi = thr[0] >> LO_BITS
    cdef uint64_t ones = <uint64_t>0x0101010101010101
    cdef uint64_t hib = hi * ones if hi < 256 else 0
    for g in range(groups):
        w = next_u64(st)
        if uniform:
            # does a byte of w equal hi, i.e. is a byte of x zero?  (exact
            # test; hi = 256, p = 1, never ties)
            x = w ^ hib
            if ((x - ones) & ~x & (ones << 7)) != 0 and hi < 256:
                _activate_fields(a + 8 * g, 8, w, thr, 0, st)
            else:
                for q in range(8):
                    a[8 * g + q] &= <signed char>(((w >> (8 * q)) & 0xFF) < hi)
        else:
            _activate_fields(a + 8 * g, 8, w, thr + 8 * g, 1, st)
    if m > 8 * groups:
        _activate_fields(a + 8 * groups, m - 8 * groups, next_u64(st),
                         thr if uniform else thr + 8 * groups, 0 if uniform else 1, st)


cdef Py_ssize_t _square_rows(const int32_t* bi, const int32_t* bj, Py_ssize_t n,
                             Py_ssize_t n_bonds) noexcept nogil:
    """Lx if the bond list is that of a periodic Lx x Ly square lattice in
    kadanoff.lattice.square's order (the x bond (i, i + 1 within the row) of
    every site i, then its y bond (i, i + Lx mod N)) with Lx, Ly >= 3;
    0 otherwise.  One pass over the list per kernel call (vectorised)."""
    cdef Py_ssize_t r, rows
    cdef int32_t b, c, Lx = 0, base, m
    cdef int32_t bad = 0
    if n_bonds != 2 * n or n < 9 or n > 0x3FFFFFFF:     # (bond indices fit int32)
        return 0
    m = <int32_t>n
    for b in range(m):
        if bj[b] != b + 1:
            Lx = b + 1
            break
    if Lx < 3 or m % Lx != 0 or m // Lx < 3:
        return 0
    rows = m // Lx
    for r in range(rows):
        base = <int32_t>r * Lx
        for c in range(Lx - 1):
            bad |= (bi[base + c] ^ (base + c)) | (bj[base + c] ^ (base + c + 1))
        bad |= (bi[base + Lx - 1] ^ (base + Lx - 1)) | (bj[base + Lx - 1] ^ base)
    for b in range(m - Lx):
        bad |= (bi[m + b] ^ b) | (bj[m + b] ^ (b + Lx))
    for c in range(Lx):
        bad |= (bi[2 * m - Lx + c] ^ (m - Lx + c)) | (bj[2 * m - Lx + c] ^ c)
    return 0 if bad else Lx


cdef inline void _sw_flip(signed char* s, Py_ssize_t n, const int32_t* parent,
                          signed char* flip, uint64_t* st) noexcept nogil:
    """Flip every cluster with probability 1/2: every site gets a fresh random
    bit (N / 64 draws), then one pass in index order sets flip[i] =
    flip[parent[i]], which is a root's own bit and otherwise already final
    (parent[i] < i): every cluster takes its root's bit.  No branch."""
    cdef Py_ssize_t i, k, q, words = n // 64
    cdef uint64_t w, y, ones = <uint64_t>0x0101010101010101
    for k in range(words):
        w = next_u64(st)
        for q in range(8):
            # byte t of y: bit t of the byte (w >> 8 q) & 0xFF, in place;
            # adding 0x7F per byte carries exactly the non-zero ones into bit 7
            y = (((w >> (8 * q)) & 0xFF) * ones) & <uint64_t>0x8040201008040201
            y = ((y + <uint64_t>0x7F7F7F7F7F7F7F7F) >> 7) & ones
            memcpy(flip + 64 * k + 8 * q, &y, 8)
    if n > 64 * words:
        w = next_u64(st)
        for i in range(n - 64 * words):
            flip[64 * words + i] = <signed char>((w >> i) & 1)
    for i in range(n):
        flip[i] = flip[parent[i]]
    for i in range(n):
        s[i] = s[i] * <signed char>(1 - 2 * flip[i])


cdef inline void _sw_square_sweep(signed char* s, Py_ssize_t n, Py_ssize_t Lx,
                                  const uint64_t* thr, int32_t* parent, signed char* flip,
                                  uint64_t* st) noexcept nogil:
    """One Swendsen-Wang update on the periodic Lx x (N / Lx) square lattice
    with uniform ferromagnetic couplings (activation probability thr[0] / 2**53).

    1. x bonds: flip[i] = (s_i == s_right) for all sites, activated by
       _activate; then a scan along each row carries the root of the current
       run of active bonds without a branch (parent = the run's first site,
       no union-find), and the wrap-around bond links the last run's root
       below the row's first site.
    2. y bonds (i, i + Lx mod N) in chunks: satisfied, activated, the active
       ones buffered branch-free and merged with union-find (larger root
       below the smaller, so parent[i] <= i).  A bond that closes a
       plaquette (y bond i - 1 and both x bonds (i - 1, i), (j - 1, j)
       active) is drawn but not merged: it cannot change the clusters, and
       at T_c it is about one active y bond in six (more below T_c).  Roots
       are the smallest site of their cluster whatever the merge order, so
       leaving such bonds out changes no bit of the result.
    3. _sw_flip (flip[] holds the x activations until then).
    Random numbers: the x bonds in site order, the y bonds in site order
    (each chunk starting a fresh draw), then the flip bits."""
    cdef Py_ssize_t r, c, i, b0, b1, e, k, n_active, rows = n // Lx, base, m
    cdef int32_t root, ri, rj, nxt, act
    cdef int32_t bx[SW_CHUNK]
    cdef signed char ay[SW_CHUNK]
    cdef signed char use[SW_CHUNK]
    cdef signed char prev = 0
    # 1. x bonds
    for r in range(rows):
        base = r * Lx
        for c in range(Lx - 1):
            flip[base + c] = s[base + c] == s[base + c + 1]
        flip[base + Lx - 1] = s[base + Lx - 1] == s[base]
    _activate(flip, n, thr, True, st)
    for r in range(rows):
        base = r * Lx
        root = <int32_t>base
        parent[base] = root
        for c in range(Lx - 1):
            nxt = <int32_t>(base + c + 1)
            act = flip[base + c]
            root = nxt ^ ((root ^ nxt) & -act)     # act ? root : nxt, branch-free
            parent[nxt] = root
        act = flip[base + Lx - 1]
        parent[root] = root ^ ((root ^ <int32_t>base) & -act)   # wrap-around bond
    # 2. y bonds
    b0 = 0
    while b0 < n:
        b1 = b0 + SW_CHUNK if b0 + SW_CHUNK < n else n
        m = b1 - b0
        # (two loops, so that each is a plain vectorisable comparison)
        e = b1 if b1 < n - Lx else (n - Lx if b0 < n - Lx else b0)
        for k in range(e - b0):
            ay[k] = s[b0 + k] == s[b0 + k + Lx]
        for k in range(e - b0, m):
            ay[k] = s[b0 + k] == s[b0 + k + Lx - n]
        _activate(ay, m, thr, True, st)
        # leave out bonds that close a plaquette: y bond i - 1 and the x bonds
        # (i - 1, i), (j - 1, j) active mean i and j are connected already
        use[0] = ay[0] & ~(prev & flip[b0 - 1 if b0 > 0 else 0] & flip[(b0 - 1 + Lx) % n])
        for k in range(1, e - b0):
            use[k] = ay[k] & ~(ay[k - 1] & flip[b0 + k - 1] & flip[b0 + k - 1 + Lx])
        for k in range(e - b0 + 1, m):    # (k = e - b0 is a row start: set below)
            use[k] = ay[k] & ~(ay[k - 1] & flip[b0 + k - 1] & flip[b0 + k - 1 + Lx - n])
        k = (Lx - b0 % Lx) % Lx        # row starts: no x bond from i - 1
        while k < m:
            use[k] = ay[k]
            k += Lx
        prev = ay[m - 1]
        n_active = 0
        for k in range(m):
            bx[n_active] = <int32_t>(b0 + k)
            n_active += use[k]
        for k in range(n_active):
            i = bx[k]
            ri = _find3(parent, <int32_t>i)
            rj = _find3(parent, <int32_t>(i + Lx if i + Lx < n else i + Lx - n))
            parent[ri if ri > rj else rj] = rj if ri > rj else ri
        b0 = b1
    _sw_flip(s, n, parent, flip, st)


cdef inline void _swendsen_wang_sweep(signed char* s, Py_ssize_t n, const int32_t* bond_i,
                                      const int32_t* bond_j, Py_ssize_t n_bonds,
                                      const uint64_t* padd, const signed char* bsign,
                                      bint uniform, int32_t* parent, signed char* flip,
                                      uint64_t* st) noexcept nogil:
    """One Swendsen-Wang update over any bond list: activate FK bonds, label
    clusters with union-find, flip each cluster with probability 1/2.

    1. Bonds are taken in list order in chunks: satisfied (a vectorisable
       pass), activated (_activate), and the active ones appended to a small
       buffer without a branch (the activation is a coin flip at T_c, so a
       branch on it would be mispredicted half the time).
    2. The buffered bonds are merged: union-find linking the larger root to
       the smaller one, so parent[i] <= i always.
    3. _sw_flip: every cluster takes the random bit of its root.
    """
    cdef Py_ssize_t i, b, b0, b1, k, m, n_active
    cdef int32_t ri, rj, x, y, last_site = -1, last_root = -1
    cdef signed char a[SW_CHUNK]
    cdef int32_t bx[SW_CHUNK]
    cdef int32_t by[SW_CHUNK]
    for i in range(n):
        parent[i] = <int32_t>i
    b0 = 0
    while b0 < n_bonds:
        b1 = b0 + SW_CHUNK if b0 + SW_CHUNK < n_bonds else n_bonds
        m = b1 - b0
        if uniform:
            for k in range(m):
                a[k] = s[bond_i[b0 + k]] == s[bond_j[b0 + k]]
        else:
            for k in range(m):
                a[k] = s[bond_j[b0 + k]] == bsign[b0 + k] * s[bond_i[b0 + k]]
        _activate(a, m, padd if uniform else padd + b0, uniform, st)
        n_active = 0
        for k in range(m):
            bx[n_active] = bond_i[b0 + k]
            by[n_active] = bond_j[b0 + k]
            n_active += a[k]
        for k in range(n_active):
            # a chain of bonds (a, b), (b, c), ... (a lattice row in order):
            # the root of b is the one the previous union left, no find
            ri = last_root if bx[k] == last_site else _find3(parent, bx[k])
            rj = _find3(parent, by[k])
            # link the larger root below the smaller (a no-op when ri == rj)
            last_root = rj if ri > rj else ri
            parent[ri if ri > rj else rj] = last_root
            last_site = by[k]
        b0 = b1
    _sw_flip(s, n, parent, flip, st)


def swendsen_wang_run(signed char[::1] s, const int32_t[::1] bond_i, const int32_t[::1] bond_j,
                      const uint64_t[::1] padd, const signed char[::1] bsign,
                      const int32_t[::1] indptr, const int32_t[::1] indices,
                      const double[::1] weights, const double[::1] field,
                      int32_t[::1] parent, signed char[::1] flip, uint64_t[::1] rng_state,
                      Py_ssize_t n_measure, Py_ssize_t every,
                      const double[::1] phase, double[:, ::1] out):
    """Run n_measure * every Swendsen-Wang sweeps over the bond list
    (bond_i, bond_j), measuring after each block of `every` sweeps
    (n_measure = 0: run `every` sweeps without measuring).  `padd`, `bsign`
    hold one value per bond, or one value in all for uniform couplings.
    `parent` (int32) and `flip` (int8) are work arrays of one entry per site."""
    cdef uint64_t st[4]   # local copy: see spin.pyx
    st[0], st[1], st[2], st[3] = rng_state[0], rng_state[1], rng_state[2], rng_state[3]
    cdef Py_ssize_t m, t, n = s.shape[0], n_bonds = bond_i.shape[0]
    cdef Py_ssize_t blocks = n_measure if n_measure > 0 else 1
    cdef bint uniform = padd.shape[0] == 1
    cdef const int32_t* bi = &bond_i[0] if n_bonds > 0 else NULL
    cdef const int32_t* bj = &bond_j[0] if n_bonds > 0 else NULL
    cdef Py_ssize_t Lx = 0
    with nogil:
        if uniform and bsign[0] > 0:
            Lx = _square_rows(bi, bj, n, n_bonds)
        for m in range(blocks):
            for t in range(every):
                if Lx > 0:
                    _sw_square_sweep(&s[0], n, Lx, &padd[0], &parent[0], &flip[0], st)
                else:
                    _swendsen_wang_sweep(&s[0], n, bi, bj, n_bonds, &padd[0], &bsign[0],
                                         uniform, &parent[0], &flip[0], st)
            if n_measure > 0:
                ising_energy_magnetization(s, indptr, indices, weights, field, phase, &out[m, 0])
    rng_state[0], rng_state[1], rng_state[2], rng_state[3] = st[0], st[1], st[2], st[3]


# ---------------------------------------------------------------------------
# Embedded-cluster Wolff for discrete q-state models (Potts, clock).
#
# A state involution g (g(g(a)) = a) that leaves the bond energy invariant,
# K[g a, g b] = K[a, b], plays the role of the Ising spin flip.  A cluster is
# grown from a random seed with state a0, for g drawn uniformly from
# choices[a0] (the involutions that move a0; the same number for every state,
# and g moves a0 iff it moves g(a0), so the choice is reversible).  The bond
# (i, j) joins j with probability
#     p = 1 - exp(min(0, beta J_ij D)),   D = K[g a_i, a_j] - K[a_i, a_j],
# i.e. 1 - exp(-beta dE) for dE the energy change of the bond if i alone were
# mapped by g; the cluster is mapped by g.  Potts: g = transposition (a0 b),
# which is the usual "seed state -> random other state" move; clock: g = a
# reflection n -> (m - n) mod q, Wolff's embedding through a mirror line.
# Sites are mapped when they join; for ferromagnetic couplings a mapped site
# has D > 0 towards every cluster site, so it is never offered again.
# Uniform couplings use a table of the join probability over (a_i, g a_i, a_j)
# as 53-bit thresholds, and a branch-free join.
# ---------------------------------------------------------------------------
from libc.math cimport exp, expm1, sqrt, log
from rng cimport next_double
from observe cimport Tables, tables_from, measure_discrete, measure_vector


cdef inline bint _join_general(int gi, int ai, int aj, double w, const double* K, int q,
                               double beta, uint64_t* st) noexcept nogil:
    """Does j (state aj) join from cluster site i (original state ai, mapped to gi)?"""
    cdef double x = beta * w * (K[gi * q + aj] - K[ai * q + aj])
    return x < 0.0 and next_double(st) < -expm1(x)


cdef inline Py_ssize_t _discrete_cluster(signed char* s, Py_ssize_t n, const Tables* t,
                                         const signed char* gmap, const int32_t* choices,
                                         Py_ssize_t n_choices, const uint64_t* thr,
                                         const double* K, int q, double beta,
                                         int32_t* queue, uint64_t* st) noexcept nogil:
    """Grow and map one cluster; returns its size.  thr != NULL (uniform
    couplings): thr[(ai q + gi) q + aj] is the 53-bit join threshold, and
    the join is branch-free (a coin flip near T_c would be mispredicted)."""
    cdef Py_ssize_t seed = next_index(st, n), head = 0, tail = 1, k, i, j
    cdef int a0 = s[seed], ai, gi, sj, add
    cdef const signed char* g = gmap + q * choices[a0 * n_choices + next_index(st, n_choices)]
    cdef const uint64_t* row
    queue[0] = <int32_t>seed
    s[seed] = g[a0]
    while head < tail:
        i = queue[head]
        head += 1
        gi = s[i]              # mapped state; the original is g(gi)
        ai = g[gi]
        if thr != NULL:
            row = thr + (ai * q + gi) * q
            for k in range(t.indptr[i], t.indptr[i + 1]):
                j = t.indices[k]
                sj = s[j]
                add = next_u53(st) < row[sj]
                s[j] = <signed char>(sj + add * (g[sj] - sj))
                queue[tail] = <int32_t>j
                tail += add
        else:
            for k in range(t.indptr[i], t.indptr[i + 1]):
                j = t.indices[k]
                if _join_general(gi, ai, s[j], t.weights[k], K, q, beta, st):
                    s[j] = g[s[j]]
                    queue[tail] = <int32_t>j
                    tail += 1
    return tail


def discrete_wolff_run(signed char[::1] s, const double[:, ::1] K, const uint64_t[::1] thr,
                       const signed char[:, ::1] gmap,
                       const int32_t[:, ::1] choices, double beta, object obs,
                       int32_t[::1] queue, uint64_t[::1] rng_state, Py_ssize_t n_measure,
                       Py_ssize_t every, Py_ssize_t clusters_per_sweep, double[:, ::1] out,
                       Py_ssize_t flip_budget=0):
    """Embedded-cluster Wolff sweeps of `clusters_per_sweep` clusters each;
    measurement rows as in cext/observe.pxd.  `thr` (q^3 53-bit thresholds,
    uniform couplings) or empty (per-bond couplings: exp per bond).
    flip_budget > 0: clusters until that many sites are mapped, as in wolff_run.
    Returns (sites mapped, clusters)."""
    cdef uint64_t st[4]
    st[0], st[1], st[2], st[3] = rng_state[0], rng_state[1], rng_state[2], rng_state[3]
    cdef Tables t = tables_from(obs)
    cdef Py_ssize_t m, sweep, c, n = s.shape[0], q = K.shape[0]
    cdef Py_ssize_t blocks = n_measure if n_measure > 0 else 1
    cdef long long flipped = 0, clusters = 0
    cdef const uint64_t* tp = &thr[0] if thr.shape[0] > 0 else NULL
    if queue.shape[0] < n + 1 or gmap.shape[1] != q or choices.shape[0] != q \
            or (tp != NULL and thr.shape[0] != q * q * q):
        raise ValueError("inconsistent table shapes")
    with nogil:
        while flipped < flip_budget:
            flipped += _discrete_cluster(&s[0], n, &t, &gmap[0, 0], &choices[0, 0],
                                         choices.shape[1], tp, &K[0, 0], q, beta, &queue[0], st)
            clusters += 1
        if flip_budget > 0:
            blocks = 0
        for m in range(blocks):
            for sweep in range(every):
                for c in range(clusters_per_sweep):
                    flipped += _discrete_cluster(&s[0], n, &t, &gmap[0, 0], &choices[0, 0],
                                                 choices.shape[1], tp, &K[0, 0], q, beta,
                                                 &queue[0], st)
                clusters += clusters_per_sweep
            if n_measure > 0:
                measure_discrete(&s[0], &t, beta, &out[m, 0])
    rng_state[0], rng_state[1], rng_state[2], rng_state[3] = st[0], st[1], st[2], st[3]
    return flipped, clusters


# ---------------------------------------------------------------------------
# Swendsen-Wang for the Potts model: a bond between equal states is occupied
# with probability p_ij = 1 - exp(-beta J_ij) (J_ij >= 0); every cluster of
# the occupied bonds gets a new state drawn uniformly from the q states.
# Union-find as in the Ising version (roots are the smallest index).
# ---------------------------------------------------------------------------

def potts_swendsen_wang_run(signed char[::1] s, Py_ssize_t q, const int32_t[::1] bond_i,
                            const int32_t[::1] bond_j, const uint64_t[::1] padd,
                            double beta, object obs, int32_t[::1] parent,
                            uint64_t[::1] rng_state, Py_ssize_t n_measure, Py_ssize_t every,
                            double[:, ::1] out):
    """Run n_measure * every Swendsen-Wang sweeps; `padd` holds one 53-bit
    threshold per bond, or one in all for uniform couplings."""
    cdef uint64_t st[4]
    st[0], st[1], st[2], st[3] = rng_state[0], rng_state[1], rng_state[2], rng_state[3]
    cdef Tables t = tables_from(obs)
    cdef Py_ssize_t m, sweep, b, i, n = s.shape[0], n_bonds = bond_i.shape[0]
    cdef Py_ssize_t blocks = n_measure if n_measure > 0 else 1
    cdef bint uniform = padd.shape[0] == 1
    cdef int32_t x, y, ri, rj, p
    cdef uint64_t thr
    with nogil:
        for m in range(blocks):
            for sweep in range(every):
                for i in range(n):
                    parent[i] = <int32_t>i
                for b in range(n_bonds):
                    x = bond_i[b]
                    y = bond_j[b]
                    thr = padd[0] if uniform else padd[b]
                    if s[x] == s[y] and next_u53(st) < thr:
                        ri = _find(&parent[0], x)
                        rj = _find(&parent[0], y)
                        parent[ri if ri > rj else rj] = rj if ri > rj else ri
                # roots draw a state; every other site copies its parent's,
                # which is final because parent[i] < i
                for i in range(n):
                    p = parent[i]
                    if p == i:
                        s[i] = <signed char>next_index(st, q)
                    else:
                        s[i] = s[p]
            if n_measure > 0:
                measure_discrete(&s[0], &t, beta, &out[m, 0])
    rng_state[0], rng_state[1], rng_state[2], rng_state[3] = st[0], st[1], st[2], st[3]


# ---------------------------------------------------------------------------
# Wolff for O(n) models: a uniformly random unit vector r defines the
# reflection s -> s - 2 (s . r) r.  From a random seed, the bond (i, j) joins
# j with probability 1 - exp(min(0, -2 beta J_ij (s_i . r)(s_j . r))) (s_i
# before reflection); joined sites are reflected at once (J_ij >= 0: a
# reflected site has the opposite projection and is never offered again).
# The accept test avoids most exponentials: a table of 1 - exp(-x) on a fine
# grid brackets the probability, and the join itself is branch-free.
# ---------------------------------------------------------------------------

cdef inline void _random_unit(const Py_ssize_t d, double* r, uint64_t* st) noexcept nogil:
    cdef double u = 1.0, v = 1.0, r2 = 2.0, z, rho
    while r2 > 1.0 or r2 < 1e-300:
        u = 2.0 * next_double(st) - 1.0
        v = 2.0 * next_double(st) - 1.0
        r2 = u * u + v * v
    if d == 2:
        r[0] = (u * u - v * v) / r2
        r[1] = 2.0 * u * v / r2
    else:   # Marsaglia (1972): uniform on the sphere from a point in the disc
        rho = 2.0 * sqrt(1.0 - r2)
        r[0] = u * rho
        r[1] = v * rho
        r[2] = 1.0 - 2.0 * r2


cdef inline Py_ssize_t _on_cluster(double* s, Py_ssize_t n, const Tables* t, double beta,
                                   const Py_ssize_t d, const double* tab, Py_ssize_t n_tab,
                                   double inv_h, int32_t* queue, uint64_t* st) noexcept nogil:
    cdef double r[3]
    cdef Py_ssize_t seed = next_index(st, n), head = 0, tail = 1, k, i, j, c, idx
    cdef double pi, pj, x, u, f
    cdef int join
    _random_unit(d, r, st)
    pi = 0.0
    for c in range(d):
        pi += s[seed * d + c] * r[c]
    for c in range(d):
        s[seed * d + c] -= 2.0 * pi * r[c]
    queue[0] = <int32_t>seed
    while head < tail:
        i = queue[head]
        head += 1
        pi = 0.0
        for c in range(d):
            pi -= s[i * d + c] * r[c]          # projection before the reflection
        for k in range(t.indptr[i], t.indptr[i + 1]):
            j = t.indices[k]
            pj = 0.0
            for c in range(d):
                pj += s[j * d + c] * r[c]
            x = 2.0 * beta * t.weights[k] * pi * pj
            if x < 0.0:
                x = 0.0
            # join iff u < f(x) = 1 - exp(-x); f is increasing, so the table
            # values at the ends of x's cell bound it: only a draw between them
            # (probability <= one cell of f) needs the exponential
            idx = <Py_ssize_t>(x * inv_h)
            if idx > n_tab - 2:
                idx = n_tab - 2
            u = next_double(st)
            join = u < tab[idx]
            if (1 - join) & (u < tab[idx + 1]):      # bitwise: one rarely-taken branch
                join = u < -expm1(-x)
            f = 2.0 * pj * join
            for c in range(d):
                s[j * d + c] -= f * r[c]
            queue[tail] = <int32_t>j
            tail += join
    return tail


def on_wolff_run(double[:, ::1] s, double beta, object obs, const double[::1] tab,
                 double inv_h, int32_t[::1] queue, uint64_t[::1] rng_state,
                 Py_ssize_t n_measure, Py_ssize_t every, Py_ssize_t clusters_per_sweep,
                 double[:, ::1] out, Py_ssize_t flip_budget=0):
    """Wolff sweeps of an O(n) model (n = 2, 3); returns (sites reflected, clusters).
    flip_budget > 0: clusters until that many sites are reflected, as in wolff_run.
    tab[k] = 1 - exp(-k / inv_h) on a grid covering [0, 2 beta max J] (at
    least two entries; x beyond the grid uses the last cell); `queue` has
    N + 1 entries (the growth loop writes one past the last member)."""
    cdef uint64_t st[4]
    st[0], st[1], st[2], st[3] = rng_state[0], rng_state[1], rng_state[2], rng_state[3]
    cdef Tables t = tables_from(obs)
    cdef Py_ssize_t m, sweep, c, n = s.shape[0], d = s.shape[1], n_tab = tab.shape[0]
    cdef Py_ssize_t blocks = n_measure if n_measure > 0 else 1
    cdef long long flipped = 0, clusters = 0
    if d != 2 and d != 3:
        raise ValueError("O(n) kernels support n = 2 and 3")
    if n_tab < 2 or queue.shape[0] < n + 1:
        raise ValueError("tab needs >= 2 entries and queue N + 1")
    with nogil:
        while flipped < flip_budget:
            if d == 2:
                flipped += _on_cluster(&s[0, 0], n, &t, beta, 2, &tab[0], n_tab, inv_h,
                                       &queue[0], st)
            else:
                flipped += _on_cluster(&s[0, 0], n, &t, beta, 3, &tab[0], n_tab, inv_h,
                                       &queue[0], st)
            clusters += 1
        if flip_budget > 0:
            blocks = 0
        for m in range(blocks):
            for sweep in range(every):
                for c in range(clusters_per_sweep):
                    if d == 2:
                        flipped += _on_cluster(&s[0, 0], n, &t, beta, 2, &tab[0], n_tab,
                                               inv_h, &queue[0], st)
                    else:
                        flipped += _on_cluster(&s[0, 0], n, &t, beta, 3, &tab[0], n_tab,
                                               inv_h, &queue[0], st)
                clusters += clusters_per_sweep
            if n_measure > 0:
                measure_vector(&s[0, 0], &t, beta, &out[m, 0])
    rng_state[0], rng_state[1], rng_state[2], rng_state[3] = st[0], st[1], st[2], st[3]
    return flipped, clusters
