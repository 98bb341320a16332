"""Ising kernel speed on the 2D square lattice at T_c, one core.

Prints ns per attempted flip (Metropolis, heat bath), ns per flipped spin
(Wolff) and ns per spin per sweep (Swendsen-Wang), each beside a plain-numpy
checkerboard Metropolis measured in the same process, and the ratio
(baseline time / kadanoff time: > 1 means kadanoff is faster).

    python benchmarks/ising.py [--L 256] [--seconds 2] [--repeat 3] [--kernel general]
    python benchmarks/ising.py --threads 2 [--L 256]

``--kernel general`` times the CSR kernel instead of the automatic choice
(the bit-packed multispin kernel for Metropolis / heat bath when L is a
multiple of 64). ``--threads K`` instead measures the thread speed-up: K
independent chains (seeds) run one after another and then in a
ThreadPoolExecutor(K), for Metropolis and Wolff, and a K-replica
ParallelTempering with threads=1 and threads=K; speed-up = sequential /
threaded wall time (ideal: K on K free cores).

Each figure is the fastest of --repeat timings (the least disturbed by other
work on a shared machine), so the ratios are stable to a few percent.
"""
from __future__ import annotations

import argparse
import os
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


def thread_speedup(L, K, repeat, seconds):
    """Wall time of K independent chains sequentially / in K threads."""
    import concurrent.futures as cf

    from kadanoff.tempering import ParallelTempering
    T = T_C_SQUARE
    print(f"Thread speed-up, {K} independent chains, 2D Ising L = {L} at T_c "
          f"({os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f})")
    for algorithm in ("metropolis", "wolff"):
        sims = [kd.Simulation(kd.Ising(kd.lattice.square(L)), T=T, algorithm=algorithm, rng=s)
                for s in range(K)]
        for sim in sims:
            sim.run(sweeps=5, thermalize=20)
        t0 = time.perf_counter()
        sims[0].run(sweeps=5)
        sweeps = max(5, int(seconds / max(time.perf_counter() - t0, 1e-6) * 5))
        best_seq = best_par = float("inf")
        busy = 0.0
        for _ in range(repeat):
            t0 = time.perf_counter()
            for sim in sims:
                sim.run(sweeps=sweeps)
            best_seq = min(best_seq, time.perf_counter() - t0)
            with cf.ThreadPoolExecutor(max_workers=K) as pool:
                t0, c0 = time.perf_counter(), time.process_time()
                list(pool.map(lambda sim, n=sweeps: sim.run(sweeps=n), sims))
                wall = time.perf_counter() - t0
                # CPU seconds per wall second: > 1 only if the threads ran at once
                busy = max(busy, (time.process_time() - c0) / wall)
                best_par = min(best_par, wall)
        print(f"  {algorithm:<12} sequential {best_seq:6.2f} s  threads {best_par:6.2f} s  "
              f"speed-up {best_seq / best_par:4.2f}  (CPU/wall in threads: {busy:.2f})")
    times = {}
    for threads in (1, K):
        best = float("inf")
        for _ in range(repeat):
            pt = ParallelTempering(kd.Ising(kd.lattice.square(L)),
                                   T=list(np.linspace(2.1, 2.5, K)), rng=1,
                                   sweeps_per_exchange=100, threads=threads)
            t0 = time.perf_counter()
            pt.run(max(10, int(100 * (256 / L) ** 2)))
            best = min(best, time.perf_counter() - t0)
        times[threads] = best
    print(f"  {'tempering':<12} threads=1 {times[1]:6.2f} s  threads={K} {times[K]:6.2f} s  "
          f"speed-up {times[1] / times[K]:4.2f}  (metropolis, 100 sweeps per exchange)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--L", type=int, default=256)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--kernel", default="auto", choices=["auto", "general", "multispin"])
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    L, T = args.L, T_C_SQUARE
    if args.threads:
        thread_speedup(L, args.threads, args.repeat, args.seconds)
        return
    base = min(numpy_checkerboard(L, T, max(5, int(20 * (256 / L) ** 2)), np.random.default_rng(r))
               for r in range(args.repeat))
    print(f"2D Ising, L = {L}, T = T_c = {T:.6f}, one core")
    print(f"{'kernel':<16} {'ns':>8}  {'unit':<22} {'numpy ns/flip':>14} {'ratio':>7}")
    print(f"{'numpy baseline':<16} {base:8.2f}  {'per attempted flip':<22} {base:14.2f} {1:7.1f}")
    rows = [("metropolis", "per attempted flip"), ("heatbath", "per attempted flip"),
            ("wolff", "per flipped spin"), ("swendsen-wang", "per spin per sweep")]
    for algorithm, unit in rows:
        opts = {"kernel": args.kernel} if algorithm in ("metropolis", "heatbath") else {}
        ns = min(ns_per_update(kd.Ising(kd.lattice.square(L)), T, algorithm, args.seconds,
                               **opts)
                 for _ in range(args.repeat))
        print(f"{algorithm:<16} {ns:8.2f}  {unit:<22} {base:14.2f} {base / ns:7.1f}")


if __name__ == "__main__":
    main()
