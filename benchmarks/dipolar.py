"""kd.DipolarClock: cost of a local update with the incrementally updated
dipolar field against the naive O(N)-per-proposal recomputation, one core.

Both run in this process on the same kernel (cext/dipolar.pyx): the fast path
keeps h_i = sum_j K(r_i - r_j) sigma_j and pays O(1) per proposal plus one
vectorised O(N) pass per accepted parity change; the baseline recomputes h_i
from the K table for every proposal (O(N) per proposal, O(N^2) per sweep) and
walks the same Markov chain (same seed -> same states, tested). For each L
and temperature it prints ns per proposal and ms per sweep of both, the
fraction of proposals that flip a dipole, and the ratio (baseline / fast:
> 1 means the field bookkeeping wins).

    python benchmarks/dipolar.py [--L 12 24 48 96] [--seconds 1] [--repeat 3]

Temperatures: T = 2.5 (paramagnet, many dipole flips: the worst case for the
field update), 1.0 (critical clock phase) and 0.4 (stripe liquid, few flips),
at J = 1, D = 0.1 on the triangular lattice. Each figure is the fastest of
--repeat timings.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import kadanoff as kd

TEMPS = (2.5, 1.0, 0.4)


def _time(model, T, naive, seconds, repeat, state):
    """(ns per proposal, flips per proposal) of a thermalised chain."""
    upd = model.updater("metropolis", 1.0 / T)
    upd.naive = naive
    rng_state = np.array([5, 6, 7, 8], dtype=np.uint64)
    s = state.copy()
    empty = upd.raw_buffers(0)
    sweeps = 1
    while True:                              # grow until one call takes seconds / 4
        t0 = time.perf_counter()
        upd.run(s, rng_state, 0, sweeps, empty)
        dt = time.perf_counter() - t0
        if dt > seconds / 4 or sweeps > 10**6:
            break
        sweeps *= 2
    best = dt
    for _ in range(repeat - 1):
        t0 = time.perf_counter()
        upd.run(s, rng_state, 0, sweeps, empty)
        best = min(best, time.perf_counter() - t0)
    return best / (sweeps * model.n_sites) * 1e9, upd.flips / upd.proposed


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--L", type=int, nargs="+", default=[12, 24, 48, 96])
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    print(f"{'L':>4} {'N':>6} {'T':>5} {'flips/prop':>10} {'fast ns/prop':>13} "
          f"{'fast ms/sweep':>14} {'naive ns/prop':>14} {'naive ms/sweep':>15} {'ratio':>7}")
    for L in args.L:
        model = kd.DipolarClock(kd.lattice.triangular(L), J=1.0, D=0.1)
        n = model.n_sites
        for T in TEMPS:
            sim = kd.Simulation(model, T=T, algorithm="metropolis", rng=1)
            sim.run(sweeps=0, thermalize=200 if L <= 48 else 50)
            fast, rate = _time(model, T, False, args.seconds, args.repeat, sim.state)
            slow, _ = _time(model, T, True, args.seconds, args.repeat, sim.state)
            print(f"{L:4d} {n:6d} {T:5.2f} {rate:10.3f} {fast:13.1f} {fast * n * 1e-6:14.3f} "
                  f"{slow:14.1f} {slow * n * 1e-6:15.3f} {slow / fast:7.1f}", flush=True)


if __name__ == "__main__":
    main()
