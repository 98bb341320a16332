"""Exact enumeration of small q-state Potts and clock systems.

Every one of the q^N configurations is visited (in blocks, vectorised), so
the results are exact thermal averages; for tests and teaching. The
Hamiltonians are written out here from their definitions, independently of
the Monte Carlo models::

    Potts:  H = -sum_<ij> J delta(s_i, s_j) - h sum_i delta(s_i, 0)
    clock:  H = -sum_<ij> J cos(theta_i - theta_j) - h sum_i cos(theta_i),
            theta = 2 pi n / q
"""
from __future__ import annotations

import numpy as np

__all__ = ["enumerate_clock", "enumerate_potts"]

_MAX_STATES = 50_000_000


def _temperatures(T):
    T = np.atleast_1d(np.asarray(T, dtype=np.float64))
    if T.ndim != 1 or not np.all(np.isfinite(T)) or np.any(T <= 0):
        raise ValueError(f"T must be positive and finite, got {T}")
    return T


def _enumerate(lattice, q, T, pair, field, vectors, order, helicity):
    """Boltzmann averages over all q^N states.

    pair(a, b) -> bond energy / J, field(a) -> site energy, vectors[a] the
    spin vector of state a; order(counts) -> scalar order parameter ``m`` per
    configuration (or None); helicity: (cos, sin) tables of the angle
    differences, or None.
    """
    n, edges = lattice.n_sites, lattice.edges
    if q ** n > _MAX_STATES:
        raise ValueError(f"q^N = {q}^{n} states are too many to enumerate "
                         f"(limit {_MAX_STATES})")
    T = _temperatures(T)
    beta = 1.0 / T
    i, j = edges[:, 0], edges[:, 1]
    ev = lattice.bond_vectors if helicity is not None else None
    sums = Z = None        # running Boltzmann sums, shifted by exp(-log_shift) per T
    names = ["e", "e2", "abs_m", "m2", "m4"] + (["m"] if order else []) + \
        (["A", "B2"] if ev is not None else [])
    log_shift = None
    block = max(1, min(q ** n, 2_000_000 // max(n, 1)))
    total = q ** n
    digits = q ** np.arange(n)
    for start in range(0, total, block):
        idx = np.arange(start, min(start + block, total))
        s = (idx[:, None] // digits[None, :]) % q
        E = pair[s[:, i], s[:, j]].sum(axis=1) + field[s].sum(axis=1)
        M = vectors[s].sum(axis=1) / n
        m2 = np.einsum("ij,ij->i", M, M)
        obs = {"e": E / n, "e2": (E / n) ** 2, "abs_m": np.sqrt(m2), "m2": m2, "m4": m2 * m2}
        if order:
            counts = np.stack([(s == a).sum(axis=1) for a in range(q)], axis=1) / n
            obs["m"] = order(counts)
        if ev is not None:
            cos_t, sin_t = helicity
            c = cos_t[s[:, i], s[:, j]]
            sn = sin_t[s[:, i], s[:, j]]
            A = np.stack([(c * ev[:, a] ** 2).sum(axis=1) for a in range(ev.shape[1])], axis=1)
            B = np.stack([(sn * ev[:, a]).sum(axis=1) for a in range(ev.shape[1])], axis=1)
            obs["A"] = A
            obs["B2"] = B * B
        logw = -np.outer(beta, E)                         # (nT, block)
        shift = logw.max(axis=1)
        new = shift if log_shift is None else np.maximum(log_shift, shift)
        w = np.exp(logw - new[:, None])
        if log_shift is None:
            Z = w.sum(axis=1)
            sums = {k: w @ obs[k] for k in names}
        else:
            scale = np.exp(log_shift - new)
            Z = Z * scale + w.sum(axis=1)
            for k in names:
                val = w @ obs[k]
                sums[k] = sums[k] * scale.reshape((-1,) + (1,) * (val.ndim - 1)) + val
        log_shift = new
    avg = {k: (v / Z if np.ndim(v) < 2 else v / Z[:, None]) for k, v in sums.items()}
    out = {"T": T, "e": avg["e"], "e2": avg["e2"], "abs_m": avg["abs_m"], "m2": avg["m2"],
           "m4": avg["m4"], "log_Z": np.log(Z) + log_shift}
    out["C"] = beta ** 2 * n * (avg["e2"] - avg["e"] ** 2)
    out["chi"] = beta * n * (avg["m2"] - avg["abs_m"] ** 2)
    out["binder"] = 1.0 - avg["m4"] / (3.0 * avg["m2"] ** 2)
    if order:
        out["m"] = avg["m"]
    if ev is not None:
        out["helicity"] = (avg["A"] - beta[:, None] * avg["B2"]).mean(axis=1) / n
    if len(T) == 1:
        out = {k: float(v[0]) for k, v in out.items()}
    return out


def _check_lattice_q(lattice, q):
    from ..lattice import Lattice
    if not isinstance(lattice, Lattice):
        raise TypeError(f"lattice must be a kadanoff Lattice, got {type(lattice).__name__}")
    if isinstance(q, bool) or not isinstance(q, (int, np.integer)) or q < 2:
        raise ValueError(f"q must be an integer >= 2, got {q!r}")
    return int(q)


def enumerate_potts(lattice, q, T, J=1.0, h=0.0) -> dict:
    """Exact averages of the q-state Potts model on a small lattice.

    Returns a dict of per-site averages at each T (floats for a scalar T):
    ``e``, ``e2``, ``m`` (the order parameter (q max_a n_a - 1)/(q - 1)),
    ``abs_m``, ``m2``, ``m4`` of the simplex vector order parameter,
    ``C``, ``chi`` (``beta N (<m2> - <|m|>^2)``), ``binder``, ``log_Z``.
    """
    q = _check_lattice_q(lattice, q)
    pair = -float(J) * np.eye(q)
    field = np.zeros(q)
    field[0] = -float(h)
    vectors = np.sqrt(q / (q - 1)) * (np.eye(q) - 1.0 / q)
    def order(fractions):
        return (q * fractions.max(axis=1) - 1.0) / (q - 1)
    return _enumerate(lattice, q, T, pair, field, vectors, order, None)


def enumerate_clock(lattice, q, T, J=1.0, h=0.0) -> dict:
    """Exact averages of the q-state clock model on a small lattice.

    Keys as ``enumerate_potts`` (without ``m``) plus ``helicity``, the
    helicity modulus per site averaged over the axes (see ``kd.XY``), when
    the lattice has bond vectors.
    """
    q = _check_lattice_q(lattice, q)
    theta = 2 * np.pi * np.arange(q) / q
    diff = theta[:, None] - theta[None, :]
    pair = -float(J) * np.cos(diff)
    field = -float(h) * np.cos(theta)
    vectors = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    hel = (float(J) * np.cos(diff), float(J) * np.sin(diff)) \
        if lattice.bond_vectors is not None else None
    return _enumerate(lattice, q, T, pair, field, vectors, None, hel)
