"""Swendsen-Wang speed on the 2D Ising square lattice: kadanoff against mcising
(and optionally against other builds of the kernel), in one process.

Prints ns per site per sweep of a thermalised chain at each L and T for
kadanoff, for mcising if it is installed (timed as in ``compare.py``), and
the ratio (mcising time / kadanoff time: > 1 means kadanoff is faster).
Timings alternate between the contestants and each figure is the fastest of
``--repeat`` rounds, so a busy machine slows all of them alike.

    python benchmarks/sw_profile.py [--L 64 256] [--T 2.269 1.5 3.0] [--repeat 5]
                                    [--ab DIR:MODULE ...]

``--ab DIR:MODULE`` adds a kernel build to the comparison: a module in DIR
that exports ``swendsen_wang_run`` with the signature of
``kadanoff._cluster.swendsen_wang_run`` (e.g. ``cext/cluster.pyx`` of an
older commit compiled under another name). It runs on the same thermalised
state and bond arrays as kadanoff's updater, so only the kernel differs.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from compare import NotAvailable, mcising_ns

import kadanoff as kd
from kadanoff.theory import T_C_SQUARE


def kernel_ns(fn, sim, seconds):
    """ns per site per sweep of the kernel `fn` on copies of sim's state and RNG state."""
    u = sim._updater
    n = sim.model.n_sites
    out = np.zeros((1, 16))
    sweeps = 4
    while True:
        state, rng_state = sim._state.copy(), np.array(sim._rng_state, dtype=np.uint64)
        t0 = time.perf_counter()
        fn(state, u.bond_i, u.bond_j, u.padd, u.bsign, u.lat.indptr, u.lat.indices,
           u.model._weights, u.model.h, u.parent, u.flip, rng_state, 0, sweeps,
           u.model._phase, out)
        dt = time.perf_counter() - t0
        if dt > seconds / 4 or sweeps > 10**6:
            return dt / (sweeps * n) * 1e9
        sweeps *= 4


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--L", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--T", type=float, nargs="+", default=[T_C_SQUARE])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.5, help="per timing")
    parser.add_argument("--ab", nargs="*", default=[], metavar="DIR:MODULE")
    args = parser.parse_args()
    kernels = {"kadanoff": None}
    for spec in args.ab:
        folder, name = spec.rsplit(":", 1)
        sys.path.insert(0, folder)
        kernels[name] = importlib.import_module(name).swendsen_wang_run
    from kadanoff import _cluster
    kernels["kadanoff"] = _cluster.swendsen_wang_run
    print(f"Swendsen-Wang, 2D Ising square lattice, ns per site per sweep "
          f"(load average {os.getloadavg()[0]:.2f})")
    for T in args.T:
        for L in args.L:
            sim = kd.Simulation(kd.Ising(kd.lattice.square(L)), T=T,
                                algorithm="swendsen-wang", rng=1)
            sim.run(sweeps=10, thermalize=200)
            best = {name: [] for name in kernels}
            peer = []
            for _ in range(args.repeat):
                for name, fn in kernels.items():
                    best[name].append(kernel_ns(fn, sim, args.seconds))
                try:
                    peer.append(mcising_ns(L, T, "swendsen-wang", args.seconds))
                except NotAvailable:
                    pass
            line = f"L = {L:4d}  T = {T:.4f}: " + "  ".join(
                f"{name} {min(v):6.2f}" for name, v in best.items())
            if peer:
                line += f"  mcising {min(peer):6.2f}  ratio " + "  ".join(
                    f"{name} {min(peer) / min(v):.2f}" for name, v in best.items())
            print(line, flush=True)


if __name__ == "__main__":
    main()
