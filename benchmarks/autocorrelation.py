"""Autocorrelation times and wall time per independent sample, one core.

Prints the two tables of docs/algorithms.rst ("Measured autocorrelation
times"): for 2D Ising at T_c (L = 16, 32, 64) and for Potts, clock, XY and
Heisenberg on the 32 x 32 square lattice, the integrated autocorrelation times
tau(e) and tau(m2) in sweeps (``res.tau``), the wall time per sweep including
one measurement per sweep, and for Ising the wall time per independent m2
sample, 2 tau(m2) x (time per sweep).

    python benchmarks/autocorrelation.py [--sweeps 20000] [--seed 1]

Each run: 2000 thermalisation sweeps, then --sweeps measured sweeps (4x that
for Metropolis and heat bath of Ising at L = 64 and Heisenberg Metropolis,
whose tau is in the hundreds).  Wall times move with the machine's load;
compare ratios, not seconds.
"""
from __future__ import annotations

import argparse
import math
import time

import kadanoff as kd
from kadanoff.theory import T_C_SQUARE

T_POTTS3 = 1.0 / math.log(1.0 + math.sqrt(3.0))
ISING = ("metropolis", "heatbath", "wolff", "swendsen-wang")
OTHERS = [
    # (label, model factory, T label, T, algorithm, options)
    ("Potts q = 3", lambda lat: kd.Potts(lat, q=3), "T_c", T_POTTS3, "metropolis", {}),
    ("Potts q = 3", lambda lat: kd.Potts(lat, q=3), "T_c", T_POTTS3, "heatbath", {}),
    ("Potts q = 3", lambda lat: kd.Potts(lat, q=3), "T_c", T_POTTS3, "wolff", {}),
    ("Potts q = 3", lambda lat: kd.Potts(lat, q=3), "T_c", T_POTTS3, "swendsen-wang", {}),
    ("clock q = 6", lambda lat: kd.Clock(lat, q=6), "0.8", 0.8, "metropolis", {}),
    ("clock q = 6", lambda lat: kd.Clock(lat, q=6), "0.8", 0.8, "heatbath", {}),
    ("clock q = 6", lambda lat: kd.Clock(lat, q=6), "0.8", 0.8, "wolff", {}),
    ("XY", kd.XY, "0.9", 0.9, "metropolis", {}),
    ("XY", kd.XY, "0.9", 0.9, "heatbath", {}),
    ("XY", kd.XY, "0.9", 0.9, "heatbath", {"overrelaxation": 2}),
    ("XY", kd.XY, "0.9", 0.9, "wolff", {}),
    ("Heisenberg", kd.Heisenberg, "0.7", 0.7, "metropolis", {}),
    ("Heisenberg", kd.Heisenberg, "0.7", 0.7, "heatbath", {}),
    ("Heisenberg", kd.Heisenberg, "0.7", 0.7, "wolff", {}),
]


def measure(model, T, algorithm, sweeps, seed, **options):
    """(tau(e), tau(m2), ms per sweep, kernel) of one chain, measuring every sweep."""
    sim = kd.Simulation(model, T=T, algorithm=algorithm, rng=seed, **options)
    sim.run(sweeps=2000)
    t0 = time.perf_counter()
    res = sim.run(sweeps=sweeps)
    ms = (time.perf_counter() - t0) / sweeps * 1e3
    kernel = res.meta["algorithm_info"].get("kernel", "")
    return float(res.tau("e")), float(res.tau("m2")), ms, kernel


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweeps", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    print("2D Ising at T_c")
    print(f"{'L':>4}  {'algorithm':<22} {'tau(e)':>8} {'tau(m2)':>8} {'ms/sweep':>9} "
          f"{'ms/indep. m2':>13}  kernel")
    for L in (16, 32, 64):
        for algorithm in ISING:
            slow = algorithm in ("metropolis", "heatbath") and L == 64
            sweeps = 4 * args.sweeps if slow else args.sweeps
            te, tm, ms, kernel = measure(kd.Ising(kd.lattice.square(L)), T_C_SQUARE, algorithm,
                                         sweeps, args.seed)
            print(f"{L:>4}  {algorithm:<22} {te:8.3g} {tm:8.3g} {ms:9.2g} {2 * tm * ms:13.2g}"
                  f"  {kernel}", flush=True)

    print("\nOther models on the 32 x 32 square lattice")
    print(f"{'model':<12} {'T':>4}  {'algorithm':<22} {'tau(e)':>8} {'tau(m2)':>8} "
          f"{'ms/sweep':>9}")
    for label, factory, T_label, T, algorithm, options in OTHERS:
        slow = label == "Heisenberg" and algorithm == "metropolis"
        sweeps = 4 * args.sweeps if slow else args.sweeps
        te, tm, ms, _ = measure(factory(kd.lattice.square(32)), T, algorithm, sweeps,
                                args.seed, **options)
        name = algorithm + (" + OR2" if options else "")
        print(f"{label:<12} {T_label:>4}  {name:<22} {te:8.3g} {tm:8.3g} {ms:9.2g}", flush=True)


if __name__ == "__main__":
    main()
