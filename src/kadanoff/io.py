"""HDF5 output and checkpoint/restart (needs h5py: ``pip install kadanoff[hdf5]``).

Output files
------------
One HDF5 group per parameter point (``point_0000``, ``point_0001``, ...)::

    /point_0003/series/<name>     one dataset per observable (one row per measurement)
    /point_0003/final_state       the configuration at the end of the run (if known)
    /point_0003.attrs["meta"]     the Results metadata as a JSON string
    /point_0003.attrs[<key>]      scalar metadata copied as plain attributes
                                  (T, beta, algorithm, model, ...) for h5ls / h5py browsing

``write`` and ``append`` never modify a file in place: they build the new file
under a temporary name in the same folder and ``os.replace`` it over the old
one, so a crash leaves either the old or the new file, never a corrupt one.

Checkpoints
-----------
``save_checkpoint(sim, path)`` records everything needed to continue a chain
bit for bit: configuration, the kernel's xoshiro256** state, the updater's
adaptive/frozen parameters (e.g. Wolff clusters per sweep, XY Metropolis
step), sweeps done, and (from ``run_checkpointed``) the series measured so far
and how far the run got. ``run_checkpointed`` runs a Simulation in segments
with a checkpoint after each one; rerunning it after a crash continues from
the last checkpoint and returns Results bit-identical to an uninterrupted run.
"""
from __future__ import annotations

import contextlib
import json
import math
import numbers
import os
from collections.abc import Mapping

import numpy as np

from .results import Results

__all__ = ["write", "append", "read", "read_all", "point_names", "summary",
           "save_checkpoint", "restore_checkpoint", "load_checkpoint", "run_checkpointed",
           "CheckpointMismatchError"]

FORMAT = "kadanoff-results"
CHECKPOINT_FORMAT = "kadanoff-checkpoint"
FORMAT_VERSION = 1


class CheckpointMismatchError(ValueError):
    """A checkpoint that belongs to a different model, temperature, algorithm or run plan."""


def _h5py():
    try:
        import h5py
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("kadanoff.io needs h5py: pip install h5py "
                          "(or pip install 'kadanoff[hdf5]')") from exc
    return h5py


def plain(obj):
    """``obj`` as JSON-able plain data (numpy scalars/arrays -> numbers/lists)."""
    if isinstance(obj, Mapping):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return plain(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, numbers.Integral):
        return int(obj)
    if isinstance(obj, numbers.Real):
        return float(obj)
    if obj is None or isinstance(obj, str):
        return obj
    return repr(obj)


def _is_plain(obj) -> bool:
    if obj is None or isinstance(obj, (bool, str, np.bool_)):
        return True
    if isinstance(obj, numbers.Number) and not isinstance(obj, np.ndarray):
        return not isinstance(obj, complex)
    if isinstance(obj, (list, tuple)):
        return all(_is_plain(v) for v in obj)
    return False


def _dumps(obj) -> str:
    # floats survive a JSON round trip exactly (repr); nan/inf allowed
    return json.dumps(plain(obj))


# -- atomic writes -------------------------------------------------------------
def _check_writable(path) -> str:
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(f"output folder {folder!r} does not exist (output path {path!r})")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"output folder {folder!r} is not writable (output path {path!r})")
    if os.path.isdir(path):
        raise ValueError(f"output path {path!r} is a folder, expected a file name")
    return path


@contextlib.contextmanager
def _atomic_h5(path, copy_from=None):
    """Yield an h5py.File under a temporary name next to ``path``; on success
    flush it to disk and ``os.replace`` it over ``path``; on any error remove
    the temporary file and leave ``path`` untouched."""
    h5py = _h5py()
    path = _check_writable(path)
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        if copy_from is not None:
            import shutil
            shutil.copyfile(copy_from, tmp)
            f = h5py.File(tmp, "a")
        else:
            f = h5py.File(tmp, "w")
        try:
            yield f
        finally:
            f.close()
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


# -- results files -------------------------------------------------------------
def _write_series(group, series):
    g = group.require_group("series")
    for name, arr in series.items():
        g.create_dataset(name, data=np.asarray(arr))


def _write_point(f, name, res: Results):
    if not isinstance(res, Results):
        raise TypeError(f"expected Results for point {name!r}, got {type(res).__name__}")
    g = f.create_group(name)
    meta = dict(res.meta)
    state = meta.pop("final_state", None)
    _write_series(g, res)
    if state is not None:
        g.create_dataset("final_state", data=np.asarray(state))
    g.attrs["meta"] = _dumps(meta)
    g.attrs["observables"] = json.dumps(list(res))
    for key, value in meta.items():
        if isinstance(value, (str, bool, numbers.Real)) and not isinstance(value, complex):
            g.attrs[key] = value
    g.attrs["complete"] = True


def _as_items(results):
    if isinstance(results, Results):
        return [("point_0000", results)]
    if isinstance(results, Mapping):
        return [(str(k), v) for k, v in results.items()]
    items = []
    for i, res in enumerate(results):
        idx = res.meta.get("point_index", i) if isinstance(res, Results) else i
        items.append((f"point_{int(idx):04d}", res))
    return items


def write(path, results, *, overwrite=False) -> str:
    """Write Results to a new HDF5 file, one group per point.

    ``results``: one Results, a list of them (groups ``point_NNNN`` named by
    ``meta["point_index"]`` when present, else by position) or a mapping
    ``{group name: Results}``. An existing file is refused unless
    ``overwrite=True``. The file appears atomically.
    """
    path = _check_writable(path)
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{path!r} exists; pass overwrite=True to replace it")
    items = _as_items(results)
    with _atomic_h5(path) as f:
        f.attrs["format"] = FORMAT
        f.attrs["format_version"] = FORMAT_VERSION
        for name, res in items:
            _write_point(f, name, res)
    return path


def append(path, results, *, study=None) -> str:
    """Add points to ``path`` (created if missing), atomically (copy, add, replace).

    Points already in the file are replaced. ``study`` (plain data) is stored
    as the file's ``study`` attribute when given.
    """
    path = _check_writable(path)
    items = _as_items(results)
    exists = os.path.exists(path)
    with _atomic_h5(path, copy_from=path if exists else None) as f:
        f.attrs["format"] = FORMAT
        f.attrs["format_version"] = FORMAT_VERSION
        if study is not None:
            f.attrs["study"] = _dumps(study)
        for name, res in items:
            if name in f:
                del f[name]
            _write_point(f, name, res)
    return path


def _open_results(path):
    h5py = _h5py()
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file: {path!r}")
    f = h5py.File(path, "r")
    fmt = f.attrs.get("format")
    if fmt != FORMAT:
        f.close()
        what = "a checkpoint" if fmt == CHECKPOINT_FORMAT else "not a kadanoff results file"
        raise ValueError(f"{path!r} is {what} (format attribute {fmt!r})")
    return f


def _read_point(g) -> Results:
    series = {name: ds[()] for name, ds in g["series"].items()}
    meta = json.loads(g.attrs["meta"])
    # series were written in insertion order; h5py lists them alphabetically
    order = json.loads(g.attrs.get("observables", "[]"))
    if order and set(order) == set(series):
        series = {k: series[k] for k in order}
    if "final_state" in g:
        meta["final_state"] = g["final_state"][()]
    return Results(series, meta)


def point_names(path) -> list[str]:
    """Names of the complete points in an output file, sorted."""
    with _open_results(path) as f:
        return sorted(k for k in f if f[k].attrs.get("complete", False))


def read_all(path) -> dict:
    """``{group name: Results}`` for every complete point in an output file."""
    with _open_results(path) as f:
        return {k: _read_point(f[k]) for k in sorted(f) if f[k].attrs.get("complete", False)}


def read(path, point=None) -> Results:
    """Results of one point of an HDF5 output file.

    ``point``: group name (``"point_0003"``) or index (3); may be omitted when
    the file holds one point. ``meta["final_state"]`` holds the last
    configuration when it was saved.
    """
    with _open_results(path) as f:
        names = sorted(k for k in f if f[k].attrs.get("complete", False))
        if point is None:
            if len(names) != 1:
                raise ValueError(f"{os.fspath(path)!r} holds {len(names)} points; pass point= "
                                 f"(one of {names[:5]}{'...' if len(names) > 5 else ''}) "
                                 "or use read_all()")
            point = names[0]
        if isinstance(point, numbers.Integral) and not isinstance(point, bool):
            point = f"point_{int(point):04d}"
        if point not in names:
            raise KeyError(f"no point {point!r} in {os.fspath(path)!r}; it holds {names[:10]}")
        return _read_point(f[point])


def summary(path) -> str:
    """A human-readable summary of an output file or checkpoint."""
    h5py = _h5py()
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file: {path!r}")
    with h5py.File(path, "r") as f:
        fmt = f.attrs.get("format")
        if fmt == CHECKPOINT_FORMAT:
            a = f.attrs
            prog = json.loads(a.get("extra", "{}")).get("progress", {})
            return (f"{path}: kadanoff checkpoint\n  {json.loads(a['model'])} T={a['T']:.6g} "
                    f"algorithm={a['algorithm']} sweeps_done={a['sweeps_done']}\n"
                    f"  progress {prog}")
        if fmt != FORMAT:
            raise ValueError(f"{path!r} is not a kadanoff results file (format attribute {fmt!r})")
        names = sorted(f)
        done = [k for k in names if f[k].attrs.get("complete", False)]
        lines = [f"{path}: kadanoff results, {len(done)} point(s)"]
        if "study" in f.attrs:
            study = json.loads(f.attrs["study"])
            lines.append(f"  study: {study.get('n_points', '?')} points in total, "
                         f"seed {study.get('seed')}")
        lines.append(f"  {'point':<11} {'model':<10} {'L':>9} {'T':>9} {'algorithm':<14} "
                     f"{'n':>7} {'<e>':>11} {'<|m|>':>9}")
        for k in done:
            g = f[k]
            meta = json.loads(g.attrs["meta"])
            shape = (meta.get("lattice") or {}).get("shape")
            L = "x".join(str(s) for s in shape) if shape else "?"
            n = g["series"][next(iter(g["series"]))].shape[0] if len(g["series"]) else 0

            def avg(name):
                return (f"{float(np.mean(g['series'][name][()])):.6g}"
                        if name in g["series"] and n else "-")
            lines.append(f"  {k:<11} {str(meta.get('model', '?')):<10} {L:>9} "
                         f"{meta.get('T', float('nan')):9.5g} "
                         f"{str(meta.get('algorithm')):<14} {n:7d} {avg('e'):>11} "
                         f"{avg('abs_m'):>9}")
        return "\n".join(lines)


# -- checkpoints ---------------------------------------------------------------
def _updater_params(upd) -> dict:
    """The updater's plain-valued attributes (adaptive and frozen parameters,
    counters). Arrays are derived from the model and temperature and are
    rebuilt by the constructor, so they are not stored."""
    return {k: plain(v) for k, v in vars(upd).items() if _is_plain(v)}


def _identity(sim) -> dict:
    return {"model": json.loads(_dumps(sim.model.params())), "beta": sim.beta,
            "algorithm": sim.algorithm}


def save_checkpoint(sim, path, *, series=None, **extra) -> str:
    """Atomically write the full state of ``sim`` (and optional ``series``,
    a mapping of arrays, plus JSON-able ``extra``) to ``path``."""
    ident = _identity(sim)
    with _atomic_h5(path) as f:
        a = f.attrs
        a["format"] = CHECKPOINT_FORMAT
        a["format_version"] = FORMAT_VERSION
        a["model"] = json.dumps(ident["model"])
        a["T"] = sim.T
        a["beta"] = sim.beta
        a["algorithm"] = sim.algorithm
        a["sweeps_done"] = sim.sweeps_done
        a["frozen"] = bool(sim._frozen)
        a["seed"] = _dumps(sim.seed)
        a["updater"] = _dumps(_updater_params(sim._updater))
        a["extra"] = _dumps(extra)
        f.create_dataset("state", data=np.asarray(sim.state))
        f.create_dataset("rng_state", data=np.asarray(sim._rng_state, dtype=np.uint64))
        if series is not None:
            _write_series(f, series)
    return os.fspath(path)


def load_checkpoint(path) -> dict:
    """The raw content of a checkpoint as a dict (attributes decoded, arrays loaded)."""
    h5py = _h5py()
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such checkpoint: {path!r}")
    with h5py.File(path, "r") as f:
        if f.attrs.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"{path!r} is not a kadanoff checkpoint")
        a = f.attrs
        return {
            "model": json.loads(a["model"]), "T": float(a["T"]), "beta": float(a["beta"]),
            "algorithm": str(a["algorithm"]), "sweeps_done": int(a["sweeps_done"]),
            "frozen": bool(a["frozen"]), "seed": json.loads(a["seed"]),
            "updater": json.loads(a["updater"]), "extra": json.loads(a["extra"]),
            "state": f["state"][()], "rng_state": f["rng_state"][()],
            "series": ({k: v[()] for k, v in f["series"].items()} if "series" in f else None),
        }


def restore_checkpoint(sim, path) -> dict:
    """Load checkpoint ``path`` into ``sim`` (built with the same model,
    temperature and algorithm). Returns the checkpoint dict (see
    ``load_checkpoint``); raises CheckpointMismatchError if it belongs to
    another chain."""
    ck = load_checkpoint(path)
    ident = _identity(sim)
    for key in ("model", "algorithm"):
        if ck[key] != ident[key]:
            raise CheckpointMismatchError(
                f"checkpoint {os.fspath(path)!r} has {key} {ck[key]!r}, this Simulation has "
                f"{ident[key]!r}")
    if not math.isclose(ck["beta"], sim.beta, rel_tol=0, abs_tol=0):
        raise CheckpointMismatchError(f"checkpoint {os.fspath(path)!r} is at beta={ck['beta']!r}, "
                                      f"this Simulation at beta={sim.beta!r}")
    sim.state = ck["state"]
    sim._rng_state[:] = np.asarray(ck["rng_state"], dtype=np.uint64)
    upd = sim._updater
    for key, value in ck["updater"].items():
        old = getattr(upd, key, None)
        if isinstance(old, tuple) and isinstance(value, list):
            value = tuple(value)
        setattr(upd, key, value)
    sim.sweeps_done = ck["sweeps_done"]
    sim._frozen = ck["frozen"]
    return ck


def run_checkpointed(sim, path, sweeps, thermalize=0, measure_every=1, every=1000,
                     resume=True, progress=None) -> Results:
    """``sim.run(sweeps, thermalize, measure_every)`` with a checkpoint at
    ``path`` after every ``every`` sweeps (rounded to whole measurements).

    If ``path`` exists and ``resume`` is true, the run continues from it (the
    checkpoint must come from the same model, temperature, algorithm and run
    plan), so a killed job rerun with the same arguments returns Results
    bit-identical to an uninterrupted run. Thermalisation is done in segments
    with ``Simulation.thermalize`` (adaptive parameters keep adapting; they
    freeze before the first measurement as in ``run``). ``progress``: optional
    callable ``progress(done_sweeps, total_sweeps)`` after each segment.
    """
    from .simulation import _check_count
    sweeps = _check_count("sweeps", sweeps, 0)
    thermalize = _check_count("thermalize", thermalize, 0)
    measure_every = _check_count("measure_every", measure_every, 1)
    every = _check_count("every", every, 1)
    plan = {"sweeps": sweeps, "thermalize": thermalize, "measure_every": measure_every,
            "every": every}
    therm_done = measured = 0
    parts = []
    path = _check_writable(path)
    if os.path.exists(path):
        if not resume:
            raise FileExistsError(f"checkpoint {path!r} exists; pass resume=True to continue it "
                                  "or remove it")
        ck = restore_checkpoint(sim, path)
        info = ck["extra"].get("progress", {})
        if ck["extra"].get("plan") != plan:
            raise CheckpointMismatchError(f"checkpoint {path!r} was written for the run plan "
                                          f"{ck['extra'].get('plan')}, not {plan}")
        therm_done, measured = int(info["thermalized"]), int(info["measured"])
        if ck["series"] is not None:
            order = ck["extra"].get("observables") or list(ck["series"])
            parts.append(Results({k: ck["series"][k] for k in order}))

    def save():
        series = Results.concatenate(parts) if parts else None
        save_checkpoint(sim, path, series=series, plan=plan,
                        progress={"thermalized": therm_done, "measured": measured},
                        observables=list(series) if series is not None else None)
        if progress is not None:
            progress(therm_done + measured, thermalize + sweeps)

    while therm_done < thermalize:
        n = min(every, thermalize - therm_done)
        sim.thermalize(n)
        therm_done += n
        save()
    segment = max(1, every // measure_every) * measure_every
    last = None
    while measured < sweeps:
        n = min(segment, sweeps - measured)
        if sweeps - measured - n < measure_every:
            n = sweeps - measured          # the unmeasured remainder goes with the last segment
        last = sim.run(n, measure_every=measure_every)
        parts.append(last)
        measured += n
        save()
    if last is None:                       # nothing measured in this call
        last = sim.run(0)
        if not parts:
            parts.append(last)
    res = Results.concatenate(parts)
    meta = dict(last.meta)
    meta.update(sweeps=sweeps - sweeps % measure_every,
                thermalize=thermalize, measure_every=measure_every,
                sweeps_total=sim.sweeps_done, checkpoint=path)
    return Results(dict(res), meta)
