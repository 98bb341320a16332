"""Finite-size scaling.

``binder_crossings``: the Binder cumulant U_L(T) = 1 - <m^4>/(3 <m^2>^2) is
scale invariant at a continuous transition, so the curves of successive
sizes cross near T_c (corrections vanish as L grows).
"""
from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

__all__ = ["Crossing", "binder_crossings", "curve_crossing"]


class Crossing(NamedTuple):
    """Where the curves of sizes ``L1`` < ``L2`` cross: ``T`` with error ``T_err``."""

    L1: float
    L2: float
    T: float
    T_err: float


def curve_crossing(x, y1, y2) -> float:
    """First crossing of two curves sampled on the same increasing grid ``x``.

    Linear interpolation of d = y2 - y1 between the two grid points where it
    changes sign; NaN if it never does.
    """
    x = np.asarray(x, dtype=float)
    d = np.asarray(y2, dtype=float) - np.asarray(y1, dtype=float)
    sign_change = np.nonzero(np.signbit(d[:-1]) != np.signbit(d[1:]))[0]
    if len(sign_change) == 0:
        return float("nan")
    k = sign_change[0]
    return float(x[k] - d[k] * (x[k + 1] - x[k]) / (d[k + 1] - d[k]))


def binder_crossings(T, sizes, U, U_err, *, n_boot=2000, rng=None) -> list[Crossing]:
    """Crossings of Binder-cumulant curves of successive sizes, with errors.

    Parameters
    ----------
    T : array (n_T,)
        Increasing temperatures at which every size was simulated.
    sizes : array (n_L,)
        Linear sizes, increasing.
    U, U_err : arrays (n_L, n_T)
        Binder cumulant and its standard error per size and temperature.
    n_boot : int
        Parametric-bootstrap replicas: each U is redrawn from a normal
        distribution with its error and the crossing found again; the spread
        of those crossings is ``T_err``.
    rng : None, int, SeedSequence or Generator

    Returns
    -------
    list of Crossing, one per pair (sizes[k], sizes[k+1]); T = NaN (with a
    warning) when the curves do not cross inside the grid.
    """
    T = np.asarray(T, dtype=float)
    sizes = np.asarray(sizes, dtype=float)
    U = np.asarray(U, dtype=float)
    U_err = np.asarray(U_err, dtype=float)
    if T.ndim != 1 or len(T) < 2 or np.any(np.diff(T) <= 0):
        raise ValueError("T must be a strictly increasing 1-D array with at least 2 entries")
    if sizes.ndim != 1 or len(sizes) < 2:
        raise ValueError("sizes must hold at least 2 system sizes")
    if U.shape != (len(sizes), len(T)) or U_err.shape != U.shape:
        raise ValueError(f"U and U_err must have shape (len(sizes), len(T)) = "
                         f"{(len(sizes), len(T))}, got {U.shape} and {U_err.shape}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 2:
        raise ValueError(f"n_boot must be an integer >= 2, got {n_boot!r}")
    gen = np.random.default_rng(rng)
    out = []
    for k in range(len(sizes) - 1):
        t0 = curve_crossing(T, U[k], U[k + 1])
        if np.isnan(t0):
            warnings.warn(f"Binder curves of L={sizes[k]:g} and L={sizes[k + 1]:g} do not "
                          "cross inside the temperature grid", RuntimeWarning, stacklevel=2)
            out.append(Crossing(sizes[k], sizes[k + 1], float("nan"), float("nan")))
            continue
        y1 = U[k] + U_err[k] * gen.standard_normal((n_boot, len(T)))
        y2 = U[k + 1] + U_err[k + 1] * gen.standard_normal((n_boot, len(T)))
        boots = np.array([curve_crossing(T, a, b) for a, b in zip(y1, y2)])
        boots = boots[np.isfinite(boots)]
        err = float(np.std(boots, ddof=1)) if len(boots) > 1 else float("nan")
        out.append(Crossing(sizes[k], sizes[k + 1], t0, err))
    return out
