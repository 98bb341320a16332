"""Ising kernel speed on the 2D square lattice at T_c, one core.

Prints ns per attempted flip (Metropolis, heat bath), ns per flipped spin
(Wolff) and ns per spin per sweep (Swendsen-Wang), each beside a plain-numpy
checkerboard Metropolis measured in the same process, and the ratio
(baseline time / kadanoff time: > 1 means kadanoff is faster).

    python benchmarks/ising.py [--L 256] [--seconds 2] [--repeat 3]

Each figure is the fastest of --repeat timings (the least disturbed by other
work on a shared machine), so the ratios are stable to a few percent.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from _timing import ns_per_update

import kadanoff as kd
from kadanoff.theory import T_C_SQUARE


def numpy_checkerboard(L, T, sweeps, rng):
    """Vectorised Metropolis on the two sublattices of a periodic L x L square lattice."""
    s = rng.choice(np.array([-1, 1], dtype=np.int8), size=(L, L))
    x, y = np.indices((L, L))
    masks = [(x + y) % 2 == 0, (x + y) % 2 == 1]
    beta = 1.0 / T
    t0 = time.perf_counter()
    for _ in range(sweeps):
        for mask in masks:
            nb = (np.roll(s, 1, 0) + np.roll(s, -1, 0) + np.roll(s, 1, 1) + np.roll(s, -1, 1))
            de = 2.0 * s * nb
            accept = (rng.random((L, L)) < np.exp(-beta * de)) & mask
            s[accept] *= -1
    return (time.perf_counter() - t0) / (sweeps * L * L) * 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--L", type=int, default=256)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    L, T = args.L, T_C_SQUARE
    base = min(numpy_checkerboard(L, T, max(5, int(20 * (256 / L) ** 2)), np.random.default_rng(r))
               for r in range(args.repeat))
    print(f"2D Ising, L = {L}, T = T_c = {T:.6f}, one core")
    print(f"{'kernel':<16} {'ns':>8}  {'unit':<22} {'numpy ns/flip':>14} {'ratio':>7}")
    print(f"{'numpy baseline':<16} {base:8.2f}  {'per attempted flip':<22} {base:14.2f} {1:7.1f}")
    rows = [("metropolis", "per attempted flip"), ("heatbath", "per attempted flip"),
            ("wolff", "per flipped spin"), ("swendsen-wang", "per spin per sweep")]
    for algorithm, unit in rows:
        ns = min(ns_per_update(kd.Ising(kd.lattice.square(L)), T, algorithm, args.seconds)
                 for _ in range(args.repeat))
        print(f"{algorithm:<16} {ns:8.2f}  {unit:<22} {base:14.2f} {base / ns:7.1f}")


if __name__ == "__main__":
    main()
