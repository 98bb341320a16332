# Continuous-time reaction-diffusion engine on a CSR neighbour table.
#
# State.  Every site i holds K "slots" (K = carrying capacity; K = 1 is site
# restriction); slot i*K + k carries a label: 0 = vacancy, 1..S = species.
# All rules are mass action over slots (vacancies count as label 0), compiled
# in Python (kadanoff.models.reaction) into tables:
#   single-slot   a -> a'                     rate per slot holding a
#   on-site pair  {a, b} -> {a', b'}          rate per unordered pair of distinct
#                                             slots of one site
#   neighbour     (a at i, b at j) -> (a', b') rate per pair of slots on a bond
# Each transition is attributed to one "initiator" slot (its first non-vacancy
# reactant); a pair rule with two equal reactants enters the directed table at
# half its rate, so that either slot may initiate it.
#
# Algorithm (uniformisation / thinning, exact in continuous time).  A slot with
# label a proposes events at the constant rate
#     R[a] = u[a] + (K - 1) o[a] + zmax K p[a]
# u[a]: total single-slot rate; o[a] (p[a]): the largest total on-site
# (neighbour) pair rate over partner labels b.  Proposals arrive at total rate
# Lambda_c = sum_a n_a R[a] (n_a = slots with label a), with exponential waiting
# times (evaluated in bulk, see _advance).  A proposal picks a label class with
# probability n_a R[a] / Lambda_c, a uniform slot of that class (class member
# lists), and one uniform y in [0, R[a]) that selects the channel: a single-slot
# rule, or a partner (another slot of the site / a neighbour direction d < zmax
# and a slot of that site) plus a residual that is compared with the cumulative
# rates of the rules for (a, b); a residual above the total, or d >= degree(i),
# is a rejection.  Every transition x -> y thus fires at exactly its rate, so the
# trajectory law is the master equation's.
#
# Dense states (Lambda_c >= SLOT_FRACTION * n_slots * Rmax, Rmax = max_a R[a])
# use the equivalent "slot mode": every slot proposes at rate Rmax (total
# Lambda = n_slots Rmax), a uniform slot is picked directly, and y uniform in
# [0, Rmax) is rejected at once if y >= R[label]; otherwise y, uniform in
# [0, R[label]), selects the channel as above.  This skips the class choice and
# the member-list lookup (a cache miss on large lattices) at the price of the
# proposals of vacancies and slower classes.  The mode is a function of the
# class counts, chosen whenever Lambda_c is recomputed (after each accepted
# event), so a run's bits do not depend on how it is split into calls.
#
# Proposal rate.  In class mode proposals arrive at Lambda = Lambda_c rounded up
# to 5 explicit mantissa bits (a uniform x in [0, Lambda) above Lambda_c is
# a rejection, at most 1/33 of the proposals), in slot mode at n_slots Rmax.  Both
# change only occasionally, and while Lambda stays the same the waiting times
# of successive events need no log each (see _advance).
#
# Absorbing states: Lambda_c = 0, or (checked exactly, after a long run of
# rejections) no initiator slot has any rule whose partner label is present
# next to it.  The absorption time is the time of the last accepted event.
#
# Nothing is allocated per step; all buffers come from Python.
from libc.stdint cimport uint64_t, int32_t, int64_t, uint8_t
from libc.math cimport exp, log, INFINITY
from libc.string cimport memcpy

from rng cimport next_double

# slot mode while Lambda_c >= SLOT_FRACTION * n_slots * Rmax (see the header);
# a module variable so that tests and benchmarks can force either mode
cdef double SLOT_FRACTION = 0.7


def set_slot_fraction(double f):
    """Set the class-rate fraction above which proposals pick slots directly
    (default 0.7; 0: always slot mode, > 1: never). Returns the old value.
    The trajectory law does not depend on it (both modes are exact); the bits do."""
    global SLOT_FRACTION
    old = SLOT_FRACTION
    SLOT_FRACTION = f
    return old


cdef enum:
    STATUS_TIME = 0
    STATUS_ABSORBED = 1
    STATUS_PROPOSALS = 2

# per-label parameter columns (R, u, (K-1) o, o, p and the inverses of R, o, p;
# an inverse is 0 where the rate is 0)
cdef enum:
    P_R = 0
    P_U = 1
    P_ONW = 2
    P_O = 3
    P_P = 4
    P_IR = 5       # 1 / R
    P_IO = 6       # 1 / o
    P_IP = 7       # 1 / p
    P_NCOL = 8


ctypedef struct Engine:
    uint8_t* labels
    int32_t* members          # L x n_slots
    int32_t* pos
    int64_t* count            # L
    Py_ssize_t n_slots, K, L, zmax
    bint regular              # every site has degree zmax
    int grid_dim              # 1 or 2: periodic chain / square grid, neighbours by arithmetic
    Py_ssize_t Lx, n_sites
    bint Lx_pow2
    const int32_t* indptr
    const int32_t* indices
    const double* par         # L x P_NCOL
    const int32_t* ptr        # L + 2 L^2 + 1 channel pointers
    const double* cum
    const uint8_t* prod       # n_channels x 2
    const double* site_w      # per-site weight (NULL: not tracked)
    double wsum               # sum of site_w over particle slots
    uint8_t* dirty            # NULL: no journal
    int32_t* journal
    Py_ssize_t n_journal
    const double* lnr         # per channel ln(w_forward / w_backward) (NULL: not tracked)
    double entropy            # sum of lnr over the executed events
    double rmax               # max_a R[a]
    bint slot_mode            # proposals pick uniform slots (see the header)
    double t, t_last
    double pend, logacc       # waiting-time uniforms since the last accepted event
    int64_t events, proposals, since_accept
    uint64_t rng[4]


cdef inline void _set_label(Engine* e, Py_ssize_t slot, uint8_t new) noexcept nogil:
    cdef uint8_t old = e.labels[slot]
    cdef Py_ssize_t p, last_slot
    cdef int64_t last
    if old == new:
        return
    # remove from class old (swap with its last member)
    p = e.pos[slot]
    last = e.count[old] - 1
    last_slot = e.members[old * e.n_slots + last]
    e.members[old * e.n_slots + p] = <int32_t>last_slot
    e.pos[last_slot] = <int32_t>p
    e.count[old] = last
    # append to class new
    e.members[new * e.n_slots + e.count[new]] = <int32_t>slot
    e.pos[slot] = <int32_t>e.count[new]
    e.count[new] += 1
    e.labels[slot] = new
    if e.site_w != NULL and (old == 0) != (new == 0):
        if new == 0:
            e.wsum -= e.site_w[slot // e.K]
        else:
            e.wsum += e.site_w[slot // e.K]
    if e.dirty != NULL and not e.dirty[slot]:
        e.dirty[slot] = 1
        e.journal[e.n_journal] = <int32_t>slot
        e.n_journal += 1


cdef inline double _total_rate(Engine* e) noexcept nogil:
    """Lambda_c = sum_a n_a R[a], the total rate of the class-mode proposals."""
    cdef Py_ssize_t a
    cdef double lam = 0.0
    for a in range(e.L):
        lam += e.count[a] * e.par[a * P_NCOL + P_R]
    return lam


cdef inline double _proposal_rate(Engine* e, double lam_c) noexcept nogil:
    """Choose the proposal mode for the class rate lam_c; the proposal rate:
    n_slots Rmax in slot mode, else lam_c rounded up to 5 explicit
    mantissa bits (at most 1/32 above it), a function of lam_c that changes
    only when lam_c crosses one of these levels (proposals above lam_c are
    rejected)."""
    cdef double lam_s = e.n_slots * e.rmax
    cdef uint64_t bits
    e.slot_mode = lam_c > 0.0 and lam_c >= SLOT_FRACTION * lam_s
    if e.slot_mode:
        return lam_s
    if lam_c <= 0.0:
        return 0.0
    # round the bit pattern of the positive double up to a multiple of 2^47
    # (the low 47 of the 52 mantissa bits zero; a carry moves the exponent)
    memcpy(&bits, &lam_c, 8)
    bits = (bits + ((<uint64_t>1 << 47) - 1)) & ~((<uint64_t>1 << 47) - 1)
    memcpy(&lam_s, &bits, 8)
    return lam_s


cdef bint _can_move(Engine* e) noexcept nogil:
    """Exact check: can any transition fire in the current state?"""
    cdef Py_ssize_t a, m, slot, site, k, q, j, b, L = e.L, K = e.K
    cdef const int32_t* ptr = e.ptr
    for a in range(L):
        if e.par[a * P_NCOL + P_R] == 0.0 or e.count[a] == 0:
            continue
        if ptr[a + 1] > ptr[a]:
            return True                      # a single-slot rule always applies
        for m in range(e.count[a]):
            slot = e.members[a * e.n_slots + m]
            site = slot // K
            for k in range(K):
                if site * K + k != slot:
                    b = e.labels[site * K + k]
                    q = L + a * L + b
                    if ptr[q + 1] > ptr[q]:
                        return True
            for q in range(e.indptr[site], e.indptr[site + 1]):
                j = e.indices[q]
                for k in range(K):
                    b = e.labels[j * K + k]
                    if ptr[L + L * L + a * L + b + 1] > ptr[L + L * L + a * L + b]:
                        return True
    return False


cdef Py_ssize_t* _GRID_DX = [1, -1, 0, 0]
cdef Py_ssize_t* _GRID_DY = [0, 0, 1, -1]


cdef inline Py_ssize_t _grid_neighbour(Engine* e, Py_ssize_t site, Py_ssize_t d) noexcept nogil:
    """Neighbour d of a periodic chain (d = 0, 1: x +- 1) or square lattice
    (also d = 2, 3: y +- 1), site = x + Lx y.  The same multiset of neighbours
    as the CSR row (in another order, which a uniform direction does not see),
    without reading the neighbour table: one cache miss less per proposal.
    Written without branches on d (a uniform direction would mispredict them):
    the wrap-arounds are conditional adds."""
    cdef Py_ssize_t x, xn, j, Lx = e.Lx, n = e.n_sites
    if e.Lx_pow2:
        x = site & (Lx - 1)
    else:
        x = <Py_ssize_t>(<uint64_t>site % <uint64_t>Lx)
    xn = x + _GRID_DX[d]
    xn += Lx & -(<Py_ssize_t>(xn < 0))
    xn -= Lx & -(<Py_ssize_t>(xn >= Lx))
    j = site - x + xn + Lx * _GRID_DY[d]
    j += n & -(<Py_ssize_t>(j < 0))
    j -= n & -(<Py_ssize_t>(j >= n))
    return j


cdef inline double _elapsed(double logacc, double prod, double lam) noexcept nogil:
    """Sum of the exponential waiting times of the proposals whose uniforms
    multiply to exp(logacc) * prod."""
    return -(logacc + log(prod)) / lam


cdef inline double _stop_threshold(double t, double t_stop, double lam,
                                   double logacc) noexcept nogil:
    """Proposals whose uniforms multiply (times exp(logacc)) to less than
    this lie beyond t_stop, with the clock at t and proposal rate lam."""
    return exp(-(t_stop - t) * lam - logacc)


cdef int _advance(Engine* e, double t_stop, int64_t max_proposals) noexcept nogil:
    """Run until time t_stop, an absorbing state, or max_proposals proposals.

    Waiting times: the time of the n proposals since the clock e.t was last
    set (the proposal rate Lambda is constant meanwhile) is
    -ln(u_1 ... u_n) / Lambda, a sum of n independent Exp(Lambda) variables.
    Lambda (_proposal_rate) changes only when the mode changes or, in class
    mode, when Lambda_c crosses a level of its rounding; only then is the
    clock set (one log). Otherwise the product of uniforms simply runs on
    across accepted events (its logarithm banked in logacc before it
    underflows); whether an accepted proposal lies beyond t_stop is a
    comparison of the product with a threshold, and the time of the last
    event is evaluated only on leaving. Every 64 rejections the time is
    evaluated to notice t_stop. An accepted
    proposal whose time lies beyond t_stop is discarded and the clock set to
    t_stop: proposal marks are independent of the times, and the proposal
    process is memoryless, so the continuation from t_stop is exact.
    """
    cdef double lam_c = _total_rate(e), x, w, y, pa, dt, base
    cdef double lam = _proposal_rate(e, lam_c)
    cdef double prod = e.pend, logacc = e.logacc
    # proposals with prod < thr lie beyond t_stop; the uniforms of the last
    # accepted event (its time, evaluated lazily)
    cdef double thr = _stop_threshold(e.t, t_stop, lam, logacc)
    cdef double last_prod = 1.0, last_logacc = 0.0
    cdef bint pending = False
    cdef Py_ssize_t a, idx, slot, site, d, k, partner, b, q, deg, c, c0, c1
    cdef Py_ssize_t L = e.L, K = e.K, zmax = e.zmax, n_slots = e.n_slots
    cdef int64_t n_prop = 0, active, threshold, n_rej = 0
    cdef const double* par
    cdef uint64_t st[4]
    cdef int status = STATUS_TIME
    # the engine's arrays in locals: stores through the uint8 labels may alias
    # anything, so fields read through e would be reloaded after each of them
    cdef const uint8_t* labels = e.labels
    cdef const int32_t* members = e.members
    cdef const int64_t* count = e.count
    cdef const double* P = e.par
    cdef const int32_t* ptr = e.ptr
    cdef const double* cum = e.cum
    cdef double rmax = e.rmax
    cdef bint slot_mode = e.slot_mode
    st[0], st[1], st[2], st[3] = e.rng[0], e.rng[1], e.rng[2], e.rng[3]
    while True:
        if lam_c <= 0.0:
            status = STATUS_ABSORBED
            break
        if e.since_accept > 0 and (e.since_accept & 63) == 0 and n_rej > 0:
            # a run of rejections: is t_stop behind us?  is the state frozen?
            dt = _elapsed(logacc, prod, lam)
            if e.t + dt > t_stop:
                if pending:
                    e.t_last = e.t + _elapsed(last_logacc, last_prod, lam)
                    pending = False
                e.t = t_stop
                status = STATUS_TIME
                break
            n_rej = 0
            if e.since_accept >= 256:
                active = 0
                for a in range(L):
                    if P[a * P_NCOL + P_R] > 0.0:
                        active += count[a]
                threshold = <int64_t>((256 + 16 * active * (zmax + 1) * K) * (lam / lam_c)) + 1
                if e.since_accept >= threshold:
                    if not _can_move(e):
                        status = STATUS_ABSORBED
                        break
                    e.since_accept = 0
        if n_prop >= max_proposals:
            # pause: keep the pending uniforms, so that where the caller
            # splits a run into calls never changes a single bit
            if pending:
                e.t_last = e.t + _elapsed(last_logacc, last_prod, lam)
            e.pend = prod
            e.logacc = logacc
            e.rng[0], e.rng[1], e.rng[2], e.rng[3] = st[0], st[1], st[2], st[3]
            return STATUS_PROPOSALS
        prod *= 1.0 - next_double(st)
        if prod < 1e-280:
            logacc += log(prod)
            prod = 1.0
            thr = _stop_threshold(e.t, t_stop, lam, logacc)
        n_prop += 1
        e.proposals += 1
        e.since_accept += 1
        n_rej += 1
        if slot_mode:
            # a uniform slot; y uniform in [0, Rmax), kept if below R[label]
            x = next_double(st) * n_slots
            slot = <Py_ssize_t>x
            if slot >= n_slots:
                slot = n_slots - 1           # rounding at the top end only
            a = labels[slot]
            par = P + a * P_NCOL
            y = next_double(st) * rmax
            if y >= par[P_R]:
                continue                     # rejected
        else:
            # class, then a uniform member of it; y from the same uniform
            # the class (a linear scan: L is small), then a uniform member
            x = next_double(st) * lam
            if x >= lam_c:
                continue                     # rejected: above the class rate
            a = 0
            while True:
                w = count[a] * P[a * P_NCOL + P_R]
                if x < w or a == L - 1:
                    break
                x -= w
                a += 1
            while count[a] == 0 or P[a * P_NCOL + P_R] == 0.0:
                a -= 1                       # rounding at the top end only
            par = P + a * P_NCOL
            x *= par[P_IR]                   # uniform in [0, n_a)
            idx = <Py_ssize_t>x
            if idx >= count[a]:
                idx = count[a] - 1
            slot = members[a * n_slots + idx]
            y = next_double(st) * par[P_R]
        # channel
        partner = -1
        if y < par[P_U]:
            q = a
        else:
            y -= par[P_U]
            site = slot if K == 1 else slot // K
            if y < par[P_ONW]:
                pa = par[P_O]
                k = <Py_ssize_t>(y * par[P_IO])
                if k >= K - 1:
                    k = K - 2
                y -= k * pa
                partner = site * K + k
                if partner >= slot:
                    partner += 1
                b = labels[partner]
                q = L + a * L + b
            else:
                y -= par[P_ONW]
                pa = par[P_P]
                if pa <= 0.0:
                    continue
                if K == 1:
                    d = <Py_ssize_t>(y * par[P_IP])
                    if d >= zmax:
                        d = zmax - 1
                    y -= d * pa
                    k = 0
                else:
                    k = <Py_ssize_t>(y * par[P_IP])      # k + K d
                    d = k // K
                    if d >= zmax:
                        d = zmax - 1
                        k = d * K + K - 1
                    y -= k * pa
                    k -= d * K
                if e.grid_dim > 0:
                    partner = _grid_neighbour(e, site, d) * K + k
                elif e.regular:                  # every row has zmax entries
                    partner = e.indices[site * zmax + d] * K + k
                else:
                    deg = e.indptr[site + 1] - e.indptr[site]
                    if d >= deg:
                        continue
                    partner = e.indices[e.indptr[site] + d] * K + k
                b = labels[partner]
                q = L + L * L + a * L + b
        c0 = ptr[q]
        c1 = ptr[q + 1]
        c = c0
        while c < c1 and y >= cum[c]:
            c += 1
        if c == c1:
            continue                         # rejected
        # accepted: its time decides whether it happens before t_stop
        if prod < thr:
            if pending:
                e.t_last = e.t + _elapsed(last_logacc, last_prod, lam)
                pending = False
            e.t = t_stop
            e.proposals -= 1                 # the discarded proposal
            status = STATUS_TIME
            break
        last_prod = prod
        last_logacc = logacc
        pending = True
        n_rej = 0
        _set_label(e, slot, e.prod[2 * c])
        if e.lnr != NULL:
            e.entropy += e.lnr[c]
        if partner >= 0:
            _set_label(e, partner, e.prod[2 * c + 1])
        e.events += 1
        e.since_accept = 0
        lam_c = _total_rate(e)
        dt = lam                             # the proposal rate so far
        lam = _proposal_rate(e, lam_c)
        slot_mode = e.slot_mode
        if lam == dt:
            continue                         # the clock runs on
        # a new proposal rate: set the clock to this event
        e.t += _elapsed(logacc, prod, dt)
        e.t_last = e.t
        pending = False
        prod = 1.0
        logacc = 0.0
        thr = _stop_threshold(e.t, t_stop, lam, 0.0)
    if pending:
        e.t_last = e.t + _elapsed(last_logacc, last_prod, lam)
    e.pend = 1.0
    e.logacc = 0.0
    e.rng[0], e.rng[1], e.rng[2], e.rng[3] = st[0], st[1], st[2], st[3]
    return status


cdef void _init_engine(Engine* e, uint8_t[::1] labels, int32_t[:, ::1] members,
                       int32_t[::1] pos, int64_t[::1] count, Py_ssize_t K, Py_ssize_t zmax,
                       const int32_t[::1] indptr, const int32_t[::1] indices,
                       const double[:, ::1] par, const int32_t[::1] ptr,
                       const double[::1] cum, const uint8_t[:, ::1] prod,
                       const double[::1] site_w, uint64_t[::1] rng_state,
                       const int64_t[::1] grid, const double[::1] lnr):
    cdef Py_ssize_t a
    e.labels = &labels[0]
    e.members = &members[0, 0]
    e.pos = &pos[0]
    e.count = &count[0]
    e.n_slots = labels.shape[0]
    e.K = K
    e.L = count.shape[0]
    e.zmax = zmax
    e.regular = indptr[indptr.shape[0] - 1] == zmax * (indptr.shape[0] - 1)
    e.n_sites = indptr.shape[0] - 1
    e.grid_dim = <int>grid.shape[0]
    e.Lx = grid[0] if grid.shape[0] > 0 else 0
    e.Lx_pow2 = e.Lx > 0 and (e.Lx & (e.Lx - 1)) == 0
    e.indptr = &indptr[0]
    e.indices = &indices[0] if indices.shape[0] > 0 else NULL
    e.par = &par[0, 0]
    e.rmax = 0.0
    for a in range(e.L):
        if par[a, P_R] > e.rmax:
            e.rmax = par[a, P_R]
    e.slot_mode = False
    e.ptr = &ptr[0]
    e.cum = &cum[0] if cum.shape[0] > 0 else NULL
    e.prod = &prod[0, 0] if prod.shape[0] > 0 else NULL
    e.site_w = &site_w[0] if site_w.shape[0] > 0 else NULL
    e.wsum = 0.0
    e.lnr = &lnr[0] if lnr.shape[0] > 0 else NULL
    e.entropy = 0.0
    e.dirty = NULL
    e.journal = NULL
    e.n_journal = 0
    e.pend = 1.0
    e.logacc = 0.0
    e.events = 0
    e.proposals = 0
    e.since_accept = 0
    e.rng[0], e.rng[1], e.rng[2], e.rng[3] = rng_state[0], rng_state[1], rng_state[2], rng_state[3]


def build_classes(const uint8_t[::1] labels, int32_t[:, ::1] members, int32_t[::1] pos,
                  int64_t[::1] count):
    """Fill the class member lists, positions and counts from the labels."""
    cdef Py_ssize_t s, a, n = labels.shape[0]
    with nogil:
        for a in range(count.shape[0]):
            count[a] = 0
        for s in range(n):
            a = labels[s]
            members[a, count[a]] = <int32_t>s
            pos[s] = <int32_t>count[a]
            count[a] += 1


def advance(uint8_t[::1] labels, int32_t[:, ::1] members, int32_t[::1] pos,
            int64_t[::1] count, Py_ssize_t K, Py_ssize_t zmax,
            const int32_t[::1] indptr, const int32_t[::1] indices,
            const double[:, ::1] par, const int32_t[::1] ptr, const double[::1] cum,
            const uint8_t[:, ::1] prod, uint64_t[::1] rng_state,
            double[::1] clock, int64_t[::1] counters, double t_stop, int64_t max_proposals,
            const int64_t[::1] grid, const double[::1] lnr=None):
    """Advance one trajectory from clock[0] towards t_stop.

    clock = [t, t_last_event, logacc, prod] (the last two: pending waiting-time
    uniforms of a paused run; start with 0, 1), optionally followed by
    clock[4] = the entropy produced so far: with a non-empty `lnr` (one
    ln(w_forward / w_backward) per channel, in `cum` order) every executed
    event adds its channel's value; counters = [events, proposals, since_accept]
    (both updated in place).  Returns 0 (reached t_stop), 1 (absorbing state;
    clock[1] is the absorption time) or 2 (max_proposals used up).
    """
    cdef Engine e
    cdef double[::1] no_w = clock[:0]
    cdef bint track = lnr is not None and lnr.shape[0] > 0 and clock.shape[0] > 4
    cdef const double[::1] use_lnr = no_w
    if track:
        use_lnr = lnr
    _init_engine(&e, labels, members, pos, count, K, zmax, indptr, indices, par, ptr, cum,
                 prod, no_w, rng_state, grid, use_lnr)
    if track:
        e.entropy = clock[4]
    e.t = clock[0]
    e.t_last = clock[1]
    e.logacc = clock[2]
    e.pend = clock[3]
    e.since_accept = counters[2]
    cdef int status
    with nogil:
        status = _advance(&e, t_stop, max_proposals)
    clock[0] = e.t
    clock[1] = e.t_last
    clock[2] = e.logacc
    clock[3] = e.pend
    if track:
        clock[4] = e.entropy
    counters[0] += e.events
    counters[1] += e.proposals
    counters[2] = e.since_accept
    rng_state[0], rng_state[1], rng_state[2], rng_state[3] = e.rng[0], e.rng[1], e.rng[2], e.rng[3]
    return status


def ensemble(uint8_t[::1] labels, int32_t[:, ::1] members, int32_t[::1] pos,
             int64_t[::1] count, Py_ssize_t K, Py_ssize_t zmax,
             const int32_t[::1] indptr, const int32_t[::1] indices,
             const double[:, ::1] par, const int32_t[::1] ptr, const double[::1] cum,
             const uint8_t[:, ::1] prod, uint64_t[::1] rng_state,
             const double[::1] site_w, uint8_t[::1] dirty, int32_t[::1] journal,
             const double[::1] times, Py_ssize_t n_runs,
             int64_t[:, :, ::1] out_count, double[:, ::1] out_w, double[::1] out_absorbed,
             int64_t[::1] counters, const int64_t[::1] grid, const double[::1] lnr=None,
             double[:, ::1] out_s=None):
    """n_runs independent trajectories from the configuration in `labels`
    (with its class lists), recorded at the increasing `times` (from t = 0).
    With a non-empty `lnr` (see advance), out_s[r, m] is the entropy
    produced by run r up to times[m].

    out_count[r, m, a]: slots with label a at times[m]; out_w[r, m]: sum of
    site_w over particle slots (if site_w is non-empty); out_absorbed[r]: the
    absorption time, or +inf.  After each run only the slots that changed are
    reset (journal), so a sparse run on a large lattice costs what it touches.
    The configuration is restored on return.
    """
    cdef Engine e
    cdef bint track = lnr is not None and lnr.shape[0] > 0 and out_s is not None
    cdef const double[::1] use_lnr = times[:0]
    if track:
        use_lnr = lnr
    _init_engine(&e, labels, members, pos, count, K, zmax, indptr, indices, par, ptr, cum,
                 prod, site_w, rng_state, grid, use_lnr)
    cdef uint8_t* init_labels = NULL
    cdef Py_ssize_t r, m, a, i, slot, n_times = times.shape[0], L = count.shape[0]
    cdef int status
    cdef double w0 = 0.0
    cdef bint track_w = site_w.shape[0] > 0
    import numpy as np
    init = np.array(labels, copy=True)
    cdef uint8_t[::1] init_view = init
    init_labels = &init_view[0]
    if track_w:
        for slot in range(labels.shape[0]):
            if labels[slot] != 0:
                w0 += site_w[slot // K]
    e.dirty = &dirty[0]
    e.journal = &journal[0]
    with nogil:
        for r in range(n_runs):
            e.t = 0.0
            e.t_last = 0.0
            e.pend = 1.0
            e.logacc = 0.0
            e.since_accept = 0
            e.wsum = w0
            e.entropy = 0.0
            status = STATUS_TIME
            out_absorbed[r] = INFINITY
            for m in range(n_times):
                if status == STATUS_TIME:
                    status = _advance(&e, times[m], 9223372036854775807)
                    if status == STATUS_ABSORBED:
                        out_absorbed[r] = e.t_last
                for a in range(L):
                    out_count[r, m, a] = e.count[a]
                if track_w:
                    out_w[r, m] = e.wsum
                if track:
                    out_s[r, m] = e.entropy
            # restore the initial configuration
            for i in range(e.n_journal):
                slot = e.journal[i]
                _set_label(&e, slot, init_labels[slot])
                e.dirty[slot] = 0
            e.n_journal = 0
    counters[0] += e.events
    counters[1] += e.proposals
    rng_state[0], rng_state[1], rng_state[2], rng_state[3] = e.rng[0], e.rng[1], e.rng[2], e.rng[3]
