"""Parallel tempering of the 2D Ising model with the replicas spread over MPI ranks
================================================================================

    mpiexec -n 2 python examples/mpi_tempering.py out.npz --seed 5

Each rank holds a contiguous block of the replicas (configurations never move
between ranks); at every exchange step the ranks allgather the K energies and
make the same swap decisions, so the temperatures travel instead of the
configurations. The result is bit-identical to the single-process run with the
same seed (``comm=None``), for any number of ranks <= K. Every rank gets the
full list of Results; rank 0 prints a summary and writes the energy series
(``e_<k>``), replica labels (``replica_<k>``) and the ladder to ``out.npz``.
"""
import argparse

import numpy as np

import kadanoff as kd
from kadanoff.tempering import ParallelTempering


def main(argv=None):
    from mpi4py import MPI
    ap = argparse.ArgumentParser(description=__doc__,  # None when run by sphinx-gallery
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("output", help="npz file written by rank 0")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--L", type=int, default=8)
    ap.add_argument("--T", type=float, nargs="+", default=[2.0, 2.2, 2.4, 2.6])
    ap.add_argument("--algorithm", default="metropolis")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--thermalize", type=int, default=50)
    args = ap.parse_args(argv)
    comm = MPI.COMM_WORLD
    pt = ParallelTempering(kd.Ising(kd.lattice.square(args.L)), T=args.T,
                           algorithm=args.algorithm, rng=args.seed, comm=comm)
    runs = pt.run(args.steps, thermalize=args.thermalize)
    if comm.Get_rank() == 0:
        np.savez(args.output, T=[r.T for r in runs],
                 acceptance=pt.acceptance, flow=pt.flow,
                 **{f"e_{k}": r["e"] for k, r in enumerate(runs)},
                 **{f"replica_{k}": r["replica"] for k, r in enumerate(runs)})
        print(f"{pt!r}")
        for r, acc in zip(runs, list(pt.acceptance) + [float("nan")]):
            print(f"T={r.T:.3f}  <e>={r.mean('e'):+.4f}  swap acceptance to next {acc:.3f}")


if __name__ == "__main__":
    main()
