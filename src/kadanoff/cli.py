"""The ``kadanoff`` command: ``kadanoff demo`` and ``kadanoff info``."""
from __future__ import annotations

import argparse
import sys


def _info(args) -> int:
    import platform

    import numpy as np

    from . import __version__, _cluster, _spin
    print(f"kadanoff {__version__}")
    print(f"python   {platform.python_version()} ({platform.platform()})")
    print(f"numpy    {np.__version__}")
    print(f"kernels  {_spin.__name__} ({_spin.__file__})")
    print(f"         {_cluster.__name__} ({_cluster.__file__})")
    import os
    print(f"cores    {os.cpu_count()}")
    return 0


def _demo(args) -> int:
    from .demo import run_demo
    run_demo(out=args.out, quick=args.quick, seed=args.seed, progress=not args.no_progress)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="kadanoff", description="Monte Carlo for lattice statistical physics.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("demo", help="finite-size scaling of the 2D Ising model (< 2 min)")
    p.add_argument("--out", default="kadanoff-demo", help="folder for the figures "
                   "(default: ./kadanoff-demo)")
    p.add_argument("--quick", action="store_true", help="small sizes, short runs (seconds)")
    p.add_argument("--seed", type=int, default=2024, help="random seed (default 2024)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_demo)
    p = sub.add_parser("info", help="versions and build information")
    p.set_defaults(func=_info)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
