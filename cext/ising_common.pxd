# Shared measurement for Ising kernels on a CSR neighbour table.
from libc.stdint cimport int32_t


cdef inline void ising_energy_magnetization(
        const signed char[::1] s, const int32_t[::1] indptr, const int32_t[::1] indices,
        const double[::1] weights, const double[::1] field, const double[::1] phase,
        double* row) noexcept nogil:
    """row[0] = H = -sum_<ij> J_ij s_i s_j - sum_i h_i s_i, row[1] = M = sum_i s_i,
    row[2] = sum_t |sum_i s_i exp(i k_t . n_i)|^2 over the axes t whose cos and
    sin rows `phase` holds (2 n_axes rows of N; empty: 0).

    Each bond appears twice in the CSR table, hence the factor 1/2.
    """
    cdef Py_ssize_t i, k, t, n = s.shape[0], n_axes = phase.shape[0] // (2 * n) if n else 0
    cdef double bond_sum = 0.0, field_sum = 0.0, local, re, im, sk = 0.0
    cdef long mag = 0
    for i in range(n):
        local = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            local += weights[k] * s[indices[k]]
        bond_sum += s[i] * local
        field_sum += field[i] * s[i]
        mag += s[i]
    for t in range(n_axes):
        re = 0.0
        im = 0.0
        for i in range(n):
            re += s[i] * phase[2 * t * n + i]
            im += s[i] * phase[(2 * t + 1) * n + i]
        sk += re * re + im * im
    row[0] = -0.5 * bond_sum - field_sum
    row[1] = <double>mag
    row[2] = sk
