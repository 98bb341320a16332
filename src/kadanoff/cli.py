"""The ``kadanoff`` command: ``kadanoff demo``, ``kadanoff run STUDY.toml`` and
``kadanoff info [FILE]``."""
from __future__ import annotations

import argparse
import os
import sys


def _info(args) -> int:
    if getattr(args, "file", None):
        from . import io
        try:
            print(io.summary(args.file))
        except (OSError, ValueError) as exc:
            print(f"kadanoff info: {exc}", file=sys.stderr)
            return 1
        return 0
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


# -- kadanoff run ------------------------------------------------------------------
STUDY_KEYS = ("model", "lattice", "L", "periodic", "T", "beta", "algorithm", "sweeps",
              "thermalize", "measure_every", "seeds", "seed", "output", "workers",
              "checkpoint_every", "params", "options")
GRID_KEYS = ("start", "stop", "num")


class StudyFileError(ValueError):
    """A study file that cannot be run; the message names the file and the key."""


def _closest(word, choices):
    import difflib
    lower = {str(c).lower(): c for c in choices}
    close = difflib.get_close_matches(str(word).lower(), list(lower), n=1, cutoff=0.5)
    return f" (did you mean {lower[close[0]]!r}?)" if close else ""


def _temperature_grid(key, value, where):
    import numbers

    import numpy as np
    if isinstance(value, dict):
        for k in value:
            if k not in GRID_KEYS:
                raise StudyFileError(f"{where}: unknown key '{key}.{k}'{_closest(k, GRID_KEYS)}; "
                                     f"a grid is {{start = ..., stop = ..., num = ...}}")
        missing = [k for k in GRID_KEYS if k not in value]
        if missing:
            raise StudyFileError(f"{where}: '{key}' grid is missing {missing}")
        num = value["num"]
        if isinstance(num, bool) or not isinstance(num, int) or num < 1:
            raise StudyFileError(f"{where}: '{key}.num' must be a positive integer, got {num!r}")
        values = np.linspace(value["start"], value["stop"], num).tolist()
    elif isinstance(value, list):
        values = value
    else:
        values = [value]
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not v > 0:
            raise StudyFileError(f"{where}: '{key}' values must be positive numbers, got {v!r}")
    if not values:
        raise StudyFileError(f"{where}: '{key}' is empty")
    return [float(v) for v in values]


def load_study(path) -> dict:
    """Read and validate a study TOML file; return ``{"points", "seed", "output", ...}``.

    Raises StudyFileError naming the file and the offending key.
    """
    try:
        import tomllib
    except ImportError:  # pragma: no cover - Python 3.10
        try:
            import tomli as tomllib
        except ImportError:
            raise StudyFileError("reading study files on Python 3.10 needs tomli "
                                 "(pip install tomli)") from None

    from .study import build, check_point, grid
    where = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise StudyFileError(f"no such study file: {where!r}") from None
    except tomllib.TOMLDecodeError as exc:
        raise StudyFileError(f"{where}: malformed TOML: {exc}") from None
    for key in data:
        if key not in STUDY_KEYS:
            raise StudyFileError(f"{where}: unknown key {key!r}{_closest(key, STUDY_KEYS)}; "
                                 f"valid keys: {', '.join(STUDY_KEYS)}")
    for key in ("model", "L", "sweeps", "output"):
        if key not in data:
            raise StudyFileError(f"{where}: missing required key {key!r}")
    if ("T" in data) == ("beta" in data):
        raise StudyFileError(f"{where}: give exactly one of 'T' or 'beta'")
    tkey = "T" if "T" in data else "beta"
    temps = _temperature_grid(tkey, data[tkey], where)
    L = data["L"]
    sizes = L if isinstance(L, list) else [L]
    if not sizes:
        raise StudyFileError(f"{where}: 'L' is empty")
    for key in ("seeds", "seed", "workers", "checkpoint_every"):
        v = data.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0
                              or (v == 0 and key != "seed")):
            raise StudyFileError(f"{where}: '{key}' must be a positive integer, got {v!r}")
    if not isinstance(data["output"], str) or not data["output"]:
        raise StudyFileError(f"{where}: 'output' must be a file name, got {data['output']!r}")
    base = {k: data[k] for k in ("model", "lattice", "periodic", "algorithm", "sweeps",
                                 "thermalize", "measure_every", "params", "options")
            if k in data}
    points = grid(base, seeds=data.get("seeds", 1), L=sizes, **{tkey: temps})
    checked = []
    for i, p in enumerate(points):
        try:
            p = check_point(p, "")
            build(p, rng=0, where="")
        except (TypeError, ValueError) as exc:
            raise StudyFileError(f"{where}: key {str(exc).lstrip('.: ')}") from None
        checked.append(p)
    return {"points": checked, "seed": data.get("seed"), "output": data["output"],
            "workers": data.get("workers"), "checkpoint_every": data.get("checkpoint_every"),
            "raw": data}


def _task_slice(args, n_points):
    """Indices of this job-array task: i % n_tasks == task_id."""
    task = args.task_id
    env = os.environ
    if task is None and "SLURM_ARRAY_TASK_ID" in env:
        task = int(env["SLURM_ARRAY_TASK_ID"]) - int(env.get("SLURM_ARRAY_TASK_MIN", 0))
    if task is None:
        return None, None
    n_tasks = args.n_tasks
    if n_tasks is None and "SLURM_ARRAY_TASK_COUNT" in env:
        n_tasks = int(env["SLURM_ARRAY_TASK_COUNT"])
    if n_tasks is None:
        raise StudyFileError("--task-id needs --n-tasks (or SLURM_ARRAY_TASK_COUNT)")
    if n_tasks < 1 or not 0 <= task < n_tasks:
        raise StudyFileError(f"task id {task} out of range for {n_tasks} tasks")
    return task, [i for i in range(n_points) if i % n_tasks == task]


def _make_executor(kind, workers):
    import concurrent.futures as cf
    if kind == "process":
        return cf.ProcessPoolExecutor(max_workers=workers)
    if kind == "thread":
        return cf.ThreadPoolExecutor(max_workers=workers)
    try:
        from mpi4py.futures import MPIPoolExecutor
    except ImportError:
        raise StudyFileError("--executor mpi needs mpi4py (pip install mpi4py mpich)") from None
    return MPIPoolExecutor(max_workers=workers)


def _run(args) -> int:
    from . import study
    try:
        spec = load_study(args.study)
        output = args.output or spec["output"]
        task, indices = _task_slice(args, len(spec["points"]))
        if task is not None:
            stem, ext = os.path.splitext(output)
            output = f"{stem}.task{task}{ext or '.h5'}"
        folder = os.path.dirname(os.path.abspath(output))
        if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
            raise StudyFileError(f"output folder {folder!r} does not exist or is not writable "
                                 f"(key 'output' = {output!r})")
        if args.overwrite and args.resume:
            raise StudyFileError("give --overwrite or --resume, not both")
        if os.path.exists(output):
            if args.overwrite:
                os.remove(output)
            elif not args.resume:
                raise StudyFileError(f"output {output!r} exists; use --resume to continue it "
                                     "or --overwrite to replace it (nothing was changed)")
    except StudyFileError as exc:
        print(f"kadanoff run: {exc}", file=sys.stderr)
        return 2
    n = len(spec["points"]) if indices is None else len(indices)
    print(f"kadanoff run: {n} point(s) of {len(spec['points'])} -> {output}", file=sys.stderr)
    ck_every = spec["checkpoint_every"]
    ckdir = output + ".checkpoints" if ck_every else None
    workers = args.workers or spec["workers"]
    with _make_executor(args.executor, workers) as ex:
        study.run_study(spec["points"], ex, seed=spec["seed"], indices=indices, output=output,
                        resume=args.resume, progress=not args.no_progress,
                        checkpoint_dir=ckdir, checkpoint_every=ck_every)
    if ckdir and os.path.isdir(ckdir) and not os.listdir(ckdir):
        os.rmdir(ckdir)
    print(f"kadanoff run: wrote {output}", file=sys.stderr)
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
    p = sub.add_parser("info", help="versions and build information, or a summary of FILE")
    p.add_argument("file", nargs="?", help="an HDF5 output or checkpoint file to summarise")
    p.set_defaults(func=_info)
    p = sub.add_parser("run", help="run a study file (TOML)")
    p.add_argument("study", help="study file, see examples/study.toml")
    p.add_argument("--output", help="output file (default: the file's 'output' key)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.add_argument("--resume", action="store_true", help="continue an existing output")
    p.add_argument("--task-id", type=int, help="run only points i with i %% n_tasks == "
                   "task_id (default: $SLURM_ARRAY_TASK_ID); output gets .taskK")
    p.add_argument("--n-tasks", type=int, help="number of tasks (default: "
                   "$SLURM_ARRAY_TASK_COUNT)")
    p.add_argument("--executor", choices=("process", "thread", "mpi"), default="process",
                   help="where points run (mpi: mpi4py.futures.MPIPoolExecutor; start with "
                   "mpiexec -n N python -m mpi4py.futures -m kadanoff.cli run ...)")
    p.add_argument("--workers", type=int, help="worker count (default: the file's "
                   "'workers', else all cores)")
    p.add_argument("--no-progress", action="store_true", help="no progress output")
    p.set_defaults(func=_run)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
