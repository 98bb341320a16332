"""Potts, clock, XY and Heisenberg kernel speed on the 2D square lattice, one core.

For every model and algorithm near its critical region (L = 128 by default)
prints ns per site update (local algorithms and Swendsen-Wang: per site per
sweep; Wolff: per flipped site), beside a plain-numpy checkerboard version of
the same local update measured in the same process, and the ratio (numpy time
/ kadanoff time: > 1 means kadanoff is faster).

    python benchmarks/spin_models.py [--L 128] [--seconds 1] [--repeat 3]

Each figure is the fastest of --repeat timings (the least disturbed by other
work on a shared machine).
"""
from __future__ import annotations

import argparse
import math
import time

import numpy as np
from _timing import ns_per_update

import kadanoff as kd

T_POTTS3 = 1.0 / math.log(1.0 + math.sqrt(3.0))      # exact T_c of the q = 3 Potts model

CASES = [
    # (label, model factory, T, algorithm, options, numpy baseline)
    ("Potts q=3", lambda lat: kd.Potts(lat, q=3), T_POTTS3, "metropolis", {}, "potts_metropolis"),
    ("Potts q=3", lambda lat: kd.Potts(lat, q=3), T_POTTS3, "heatbath", {}, "potts_heatbath"),
    ("Potts q=3", lambda lat: kd.Potts(lat, q=3), T_POTTS3, "wolff", {}, None),
    ("Potts q=3", lambda lat: kd.Potts(lat, q=3), T_POTTS3, "swendsen-wang", {}, None),
    ("clock q=6", lambda lat: kd.Clock(lat, q=6), 0.8, "metropolis", {}, "clock_metropolis"),
    ("clock q=6", lambda lat: kd.Clock(lat, q=6), 0.8, "heatbath", {}, "clock_heatbath"),
    ("clock q=6", lambda lat: kd.Clock(lat, q=6), 0.8, "wolff", {}, None),
    ("XY", kd.XY, 0.89, "metropolis", {}, "xy_metropolis"),
    ("XY", kd.XY, 0.89, "heatbath", {}, "xy_heatbath"),
    ("XY", kd.XY, 0.89, "heatbath", {"overrelaxation": 1}, None),
    ("XY", kd.XY, 0.89, "wolff", {}, None),
    ("Heisenberg", kd.Heisenberg, 0.7, "metropolis", {}, "heisenberg_metropolis"),
    ("Heisenberg", kd.Heisenberg, 0.7, "heatbath", {}, None),
    ("Heisenberg", kd.Heisenberg, 0.7, "wolff", {}, None),
]


# ------------------------------------------------------------ numpy baselines

def _masks(L):
    x, y = np.indices((L, L))
    return [(x + y) % 2 == 0, (x + y) % 2 == 1]


def _neighbours(a):
    return [np.roll(a, 1, 0), np.roll(a, -1, 0), np.roll(a, 1, 1), np.roll(a, -1, 1)]


def _discrete_baseline(L, T, sweeps, rng, q, clock, heatbath):
    """Checkerboard update of a q-state model with bond energy -cos or -delta."""
    s = rng.integers(0, q, size=(L, L))
    theta = 2 * np.pi * np.arange(q) / q
    K = np.cos(theta[:, None] - theta[None, :]) if clock else np.eye(q)
    beta = 1.0 / T
    masks = _masks(L)
    t0 = time.perf_counter()
    for _ in range(sweeps):
        for mask in masks:
            nb = _neighbours(s)
            # x[a] = sum_j K[a, s_j] for every candidate state a
            x = sum(K[:, n] for n in nb)                      # (q, L, L)
            if heatbath:
                w = np.exp(beta * (x - x.max(axis=0)))
                c = np.cumsum(w, axis=0)
                u = rng.random((L, L)) * c[-1]
                new = (u[None] > c).sum(axis=0)
            else:
                new = (s + 1 + rng.integers(0, q - 1, size=(L, L))) % q
                de = np.take_along_axis(x, s[None], 0)[0] - np.take_along_axis(x, new[None], 0)[0]
                ok = rng.random((L, L)) < np.exp(-beta * de)
                new = np.where(ok, new, s)
            s = np.where(mask, new, s)
    return (time.perf_counter() - t0) / (sweeps * L * L) * 1e9


def _vector_baseline(L, T, sweeps, rng, n, heatbath):
    """Checkerboard Metropolis (ball proposal) or XY heat bath (numpy von Mises)."""
    s = rng.normal(size=(L, L, n))
    s /= np.linalg.norm(s, axis=-1, keepdims=True)
    beta = 1.0 / T
    masks = _masks(L)
    t0 = time.perf_counter()
    for _ in range(sweeps):
        for mask in masks:
            H = sum(_neighbours(s))
            if heatbath:
                ang = np.arctan2(H[..., 1], H[..., 0])
                kappa = beta * np.linalg.norm(H, axis=-1)
                phi = ang + rng.vonmises(0.0, np.maximum(kappa, 1e-12))
                new = np.stack([np.cos(phi), np.sin(phi)], axis=-1)
            else:
                g = rng.normal(size=(L, L, n))
                g *= (rng.random((L, L, 1)) ** (1 / n)) / np.linalg.norm(g, axis=-1, keepdims=True)
                new = s + g
                new /= np.linalg.norm(new, axis=-1, keepdims=True)
                de = -np.sum((new - s) * H, axis=-1)
                ok = rng.random((L, L)) < np.exp(-beta * de)
                new = np.where(ok[..., None], new, s)
            s = np.where(mask[..., None], new, s)
    return (time.perf_counter() - t0) / (sweeps * L * L) * 1e9


BASELINES = {
    "potts_metropolis": lambda L, T, k, r: _discrete_baseline(L, T, k, r, 3, False, False),
    "potts_heatbath": lambda L, T, k, r: _discrete_baseline(L, T, k, r, 3, False, True),
    "clock_metropolis": lambda L, T, k, r: _discrete_baseline(L, T, k, r, 6, True, False),
    "clock_heatbath": lambda L, T, k, r: _discrete_baseline(L, T, k, r, 6, True, True),
    "xy_metropolis": lambda L, T, k, r: _vector_baseline(L, T, k, r, 2, False),
    "xy_heatbath": lambda L, T, k, r: _vector_baseline(L, T, k, r, 2, True),
    "heisenberg_metropolis": lambda L, T, k, r: _vector_baseline(L, T, k, r, 3, False),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--L", type=int, default=128)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    L = args.L
    print(f"2D square lattice L = {L}; fastest of {args.repeat} timings; "
          "ratio = numpy / kadanoff (same update, same process)")
    print(f"{'model':<12}{'algorithm':<26}{'T':>6}{'kadanoff ns':>13}{'numpy ns':>11}"
          f"{'ratio':>8}")
    baseline_cache = {}
    for label, factory, T, algorithm, options, base in CASES:
        ns = min(ns_per_update(factory(kd.lattice.square(L)), T, algorithm, args.seconds,
                               **options) for _ in range(args.repeat))
        name = algorithm + "".join(f" {k}={v}" for k, v in options.items())
        unit = " /flip" if algorithm == "wolff" else ""
        if base is not None:
            if base not in baseline_cache:
                rng = np.random.default_rng(0)
                baseline_cache[base] = min(BASELINES[base](L, T, 3, rng)
                                           for _ in range(args.repeat))
            b = baseline_cache[base]
            print(f"{label:<12}{name + unit:<26}{T:>6.3g}{ns:>13.2f}{b:>11.1f}{b / ns:>8.1f}")
        else:
            print(f"{label:<12}{name + unit:<26}{T:>6.3g}{ns:>13.2f}{'':>11}{'':>8}")


if __name__ == "__main__":
    main()
