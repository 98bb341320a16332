"""A parameter study on MPI ranks through mpi4py.futures (no home-made scheduler)
==============================================================================

    mpiexec -n 4 python -m mpi4py.futures examples/mpi_study.py ising_mpi.h5

Rank 0 runs this script and hands points to the other ranks through
``MPIPoolExecutor``; every point uses its own child of the study seed, so the
output is bit-identical to ``run_study(points, ProcessPoolExecutor())`` on a
laptop (or to any other number of ranks). Needs ``pip install mpi4py mpich``
(or an mpi4py built against the cluster's MPI) and h5py.
The same study from a TOML file: ``kadanoff run study.toml --executor mpi``
under ``mpiexec -n N python -m mpi4py.futures -m kadanoff.cli ...``.
"""
import argparse

from mpi4py.futures import MPIPoolExecutor

from kadanoff import io
from kadanoff.study import grid, run_study


def main():
    parser = argparse.ArgumentParser(description=__doc__,  # None when run by sphinx-gallery
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", help="HDF5 output file")
    parser.add_argument("--quick", action="store_true", help="tiny study (seconds)")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    sizes, sweeps = ([4, 6], 300) if args.quick else ([8, 16, 32], 20_000)
    points = grid({"model": "ising", "algorithm": "wolff", "sweeps": sweeps,
                   "thermalize": sweeps // 10},
                  L=sizes, T=[2.2, 2.25, 2.269, 2.3, 2.35], seeds=2)
    with MPIPoolExecutor() as executor:
        results = run_study(points, executor, seed=args.seed, output=args.output)
    for res in results[:: max(1, len(results) // 6)]:
        p = res.meta["point"]
        print(f"L={p['L']:3d} T={p['T']:.4f}  U = {res.binder()}")
    print(io.summary(args.output).splitlines()[0])


if __name__ == "__main__":
    main()
