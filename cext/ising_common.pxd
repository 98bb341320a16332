# Shared measurement for Ising kernels on a CSR neighbour table.
from libc.stdint cimport int32_t


cdef inline void ising_energy_magnetization(
        const signed char[::1] s, const int32_t[::1] indptr, const int32_t[::1] indices,
        const double[::1] weights, const double[::1] field,
        double* energy, double* magnetization) noexcept nogil:
    """Total H = -sum_<ij> J_ij s_i s_j - sum_i h_i s_i and M = sum_i s_i.

    Each bond appears twice in the CSR table, hence the factor 1/2.
    """
    cdef Py_ssize_t i, k, n = s.shape[0]
    cdef double bond_sum = 0.0, field_sum = 0.0, local
    cdef long mag = 0
    for i in range(n):
        local = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            local += weights[k] * s[indices[k]]
        bond_sum += s[i] * local
        field_sum += field[i] * s[i]
        mag += s[i]
    energy[0] = -0.5 * bond_sum - field_sum
    magnetization[0] = <double>mag
