# How kernels draw random numbers.
#
# Kernels use xoshiro256** (Blackman & Vigna 2018): 256 bits of state, period
# 2^256 - 1, passes BigCrush, and is a handful of instructions inline, which
# matters at ~2 ns per spin update.  The state is a C-contiguous uint64[4]
# array owned by the Python Simulation and seeded from a numpy Generator
# (kadanoff._random.seed_state), so the kernel has no global state, the same
# seed gives the same bits, and the state can be saved to continue a chain.
from libc.stdint cimport uint64_t


cdef inline uint64_t _rotl(const uint64_t x, int k) noexcept nogil:
    return (x << k) | (x >> (64 - k))


cdef inline uint64_t next_u64(uint64_t* s) noexcept nogil:
    """Next 64 random bits; advances the state s[0..3] in place."""
    cdef uint64_t result = _rotl(s[1] * 5, 7) * 9
    cdef uint64_t t = s[1] << 17
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], 45)
    return result


cdef inline double next_double(uint64_t* s) noexcept nogil:
    """Uniform double in [0, 1) with 53 random bits."""
    return <double>(next_u64(s) >> 11) * (1.0 / 9007199254740992.0)


cdef inline Py_ssize_t next_index(uint64_t* s, Py_ssize_t n) noexcept nogil:
    """Uniform integer in [0, n) for n < 2**53 (relative non-uniformity n / 2**53)."""
    return <Py_ssize_t>(next_double(s) * n)


cdef inline uint64_t next_u53(uint64_t* s) noexcept nogil:
    """53 random bits as an integer in [0, 2**53).

    Compare with ``threshold53(p)`` for a Bernoulli(p) draw without an
    int-to-double conversion or a branch on p (p = 1 gives 2**53: always).
    """
    return next_u64(s) >> 11
