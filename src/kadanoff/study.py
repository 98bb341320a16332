"""Parameter studies over any ``concurrent.futures.Executor``.

A study is a list of *points*, plain dicts such as::

    {"model": "ising", "L": 16, "T": 2.3, "algorithm": "wolff",
     "sweeps": 10_000, "thermalize": 1_000}

``run_study(points, executor=...)`` runs every point as one Simulation and
returns their Results in point order. Point ``i`` draws its random stream
from the ``i``-th child of the study's SeedSequence
(``SeedSequence(seed).spawn(n)[i]``, built directly from ``spawn_key=(i,)``),
so a point's result depends only on the study seed and its index: not on the
executor (process pool, thread pool, ``mpi4py.futures.MPIPoolExecutor``, a
Dask client's executor), the number of workers, scheduling order or which
slice of a job array ran it.

Point keys
----------
model         "ising", "potts", "clock", "xy", "heisenberg" (case-insensitive)
lattice       "square" (default), "triangular", "honeycomb", "chain", "cubic"
L             linear size (int) or a list of sides
periodic      bool (default True)
params        model parameters, e.g. {"J": 1.0, "h": 0.0} or {"q": 3}
T | beta      temperature or inverse temperature (exactly one)
algorithm     one of the model's algorithms (default: the model's first)
options       algorithm options, e.g. {"clusters_per_sweep": 4}
sweeps        measured sweeps (required)
thermalize    unmeasured sweeps first (default 0)
measure_every default 1
label         any JSON-able tag, copied to the metadata
"""
from __future__ import annotations

import concurrent.futures as cf
import difflib
import itertools
import numbers
import os
import sys
import time
from collections.abc import Mapping

import numpy as np

from .results import Results

__all__ = ["run_study", "run_point", "grid", "point_seed", "check_point", "POINT_KEYS",
           "MODELS", "LATTICES"]

POINT_KEYS = ("model", "lattice", "L", "periodic", "params", "T", "beta", "algorithm",
              "options", "sweeps", "thermalize", "measure_every", "label")
MODELS = ("ising", "potts", "clock", "xy", "heisenberg", "dipolar_clock", "driven_lattice_gas",
          "two_temperature_ising")
LATTICES = ("square", "triangular", "honeycomb", "chain", "cubic")


def _suggest(word, choices) -> str:
    lower = {str(c).lower(): c for c in choices}
    close = difflib.get_close_matches(str(word).lower(), list(lower), n=1, cutoff=0.5)
    return f" (did you mean {lower[close[0]]!r}?)" if close else ""


def check_point(point, where="point") -> dict:
    """Validate one point's keys and value types; return a normalised copy.

    Raises ValueError naming ``where.key`` for an unknown key (with the
    closest valid one), a missing key or a bad value. Physics checks
    (algorithm available for the model, positive T, ...) happen when the
    point is built (``build``), also with the key named.
    """
    if not isinstance(point, Mapping):
        raise TypeError(f"{where} must be a dict of parameters, got {type(point).__name__}")
    out = dict(point)
    for key in out:
        if key not in POINT_KEYS:
            raise ValueError(f"{where}: unknown key {key!r}{_suggest(key, POINT_KEYS)}; "
                             f"valid keys: {', '.join(POINT_KEYS)}")
    for key in ("model", "sweeps", "L"):
        if key not in out:
            raise ValueError(f"{where}: missing required key {key!r}")
    if ("T" in out) == ("beta" in out):
        raise ValueError(f"{where}: give exactly one of 'T' or 'beta'")
    model = out["model"]
    if not isinstance(model, str) or model.lower() not in MODELS:
        raise ValueError(f"{where}.model: unknown model {model!r}{_suggest(model, MODELS)}; "
                         f"choose one of {list(MODELS)}")
    out["model"] = model.lower()
    lattice = out.setdefault("lattice", "square")
    if not isinstance(lattice, str) or lattice.lower() not in LATTICES:
        raise ValueError(f"{where}.lattice: unknown lattice {lattice!r}"
                         f"{_suggest(lattice, LATTICES)}; choose one of {list(LATTICES)}")
    out["lattice"] = lattice.lower()
    L = out["L"]
    sides = L if isinstance(L, (list, tuple)) else [L]
    if not sides or any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1
                        for s in sides):
        raise ValueError(f"{where}.L: expected a positive integer or a list of them, got {L!r}")
    out["L"] = [int(s) for s in sides] if isinstance(L, (list, tuple)) else int(L)
    for key, minimum in (("sweeps", 0), ("thermalize", 0), ("measure_every", 1)):
        if key in out:
            v = out[key]
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < minimum:
                raise ValueError(f"{where}.{key}: expected an integer >= {minimum}, got {v!r}")
            out[key] = int(v)
    for key in ("T", "beta"):
        if key in out:
            v = out[key]
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not v > 0 \
                    or not np.isfinite(v):
                raise ValueError(f"{where}.{key}: expected a positive number, got {v!r}")
            out[key] = float(v)
    for key in ("params", "options"):
        v = out.setdefault(key, {})
        if not isinstance(v, Mapping):
            raise ValueError(f"{where}.{key}: expected a table/dict, got {v!r}")
        out[key] = dict(v)
    if "periodic" in out and not isinstance(out["periodic"], bool):
        raise ValueError(f"{where}.periodic: expected true or false, got {out['periodic']!r}")
    if "algorithm" in out and not isinstance(out["algorithm"], str):
        raise ValueError(f"{where}.algorithm: expected a string, got {out['algorithm']!r}")
    return out


def build(point, rng=None, where="point"):
    """``Simulation`` for a validated point (``check_point`` output)."""
    from . import lattice as _lattice
    from .models import XY, Clock, Heisenberg, Ising, Potts
    from .models.dipolar import DipolarClock
    from .models.driven import DrivenLatticeGas, TwoTemperatureIsing
    from .simulation import Simulation
    classes = {"ising": Ising, "potts": Potts, "clock": Clock, "xy": XY,
               "heisenberg": Heisenberg, "dipolar_clock": DipolarClock,
               "driven_lattice_gas": DrivenLatticeGas, "two_temperature_ising": TwoTemperatureIsing}
    factory = getattr(_lattice, point["lattice"])
    L = point["L"]
    try:
        lat = (factory(*L, periodic=point.get("periodic", True)) if isinstance(L, list)
               else factory(L, periodic=point.get("periodic", True)))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}.L / {where}.lattice: {exc}") from None
    try:
        model = classes[point["model"]](lat, **point["params"])
    except TypeError as exc:
        import inspect
        known = [k for k in inspect.signature(classes[point["model"]]).parameters
                 if k != "lattice"]
        bad = [k for k in point["params"] if k not in known]
        if bad:
            raise ValueError(f"{where}.params: unknown parameter {bad[0]!r} for "
                             f"{point['model']}{_suggest(bad[0], known)}; valid: {known}") from None
        raise ValueError(f"{where}.params: {exc}") from None
    except ValueError as exc:
        raise ValueError(f"{where}.params: {exc}") from None
    try:
        algorithm = point.get("algorithm")
        if algorithm is not None:
            model.check_algorithm(algorithm)
    except ValueError as exc:
        raise ValueError(f"{where}.algorithm: {exc}") from None
    try:
        return Simulation(model, T=point.get("T"), beta=point.get("beta"), algorithm=algorithm,
                          rng=rng, **point["options"])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}.options / {where}.algorithm: {exc}") from None


def point_seed(seed, index) -> np.random.SeedSequence:
    """The SeedSequence of point ``index`` of a study seeded with ``seed``:
    identical to ``np.random.SeedSequence(seed).spawn(index + 1)[index]``."""
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return np.random.SeedSequence(root.entropy, spawn_key=tuple(root.spawn_key) + (int(index),),
                                  pool_size=root.pool_size)


def run_point(point, seed_seq, index=None, checkpoint=None, checkpoint_every=None) -> Results:
    """Run one validated point with its SeedSequence (what the workers execute).

    The Results' metadata gain ``point`` (the point dict), ``point_index`` and
    ``final_state``. With ``checkpoint`` (a file path), the run is checkpointed
    every ``checkpoint_every`` sweeps and resumes from an existing checkpoint.
    """
    started = time.perf_counter()
    sim = build(point, rng=seed_seq)
    kw = {"thermalize": point.get("thermalize", 0),
          "measure_every": point.get("measure_every", 1)}
    if checkpoint is not None:
        from . import io
        res = io.run_checkpointed(sim, checkpoint, point["sweeps"],
                                  every=checkpoint_every or 10_000, **kw)
    else:
        res = sim.run(point["sweeps"], **kw)
    meta = dict(res.meta)
    meta.update(point=point, point_index=index, final_state=np.array(sim.state),
                seconds=time.perf_counter() - started)
    out = Results(dict(res), meta)
    if checkpoint is not None and os.path.exists(checkpoint):
        os.remove(checkpoint)
    return out


def grid(base=None, *, seeds=1, **axes) -> list[dict]:
    """Points of a Cartesian grid: ``grid({"model": "ising", "sweeps": 1000},
    L=[8, 16], T=[2.2, 2.3], seeds=2)`` gives 2 x 2 x 2 points (``seeds``
    independent repetitions of every parameter combination, each a separate
    point with its own stream; the repetition number is in ``label``).
    Later axes vary fastest."""
    if isinstance(seeds, bool) or not isinstance(seeds, numbers.Integral) or seeds < 1:
        raise ValueError(f"seeds must be a positive integer, got {seeds!r}")
    base = dict(base or {})
    names = list(axes)
    for name in names:
        if not isinstance(axes[name], (list, tuple, np.ndarray)) or len(axes[name]) == 0:
            raise ValueError(f"grid axis {name!r} must be a non-empty list, got {axes[name]!r}")
    points = []
    for values in itertools.product(*(list(axes[n]) for n in names)):
        for rep in range(int(seeds)):
            p = dict(base)
            p.update({n: (v.item() if isinstance(v, np.generic) else v)
                      for n, v in zip(names, values)})
            if seeds > 1:
                p["label"] = {"repetition": rep, **({"tag": base["label"]} if "label" in base
                                                    else {})}
            points.append(p)
    return points


def _describe(p) -> str:
    temp = f"T={p['T']:.5g}" if "T" in p else f"beta={p['beta']:.5g}"
    return f"{p['model']} L={p['L']} {temp} {p.get('algorithm') or ''}".strip()


def run_study(points, executor=None, *, seed=None, indices=None, output=None, resume=False,
              max_workers=None, progress=True, checkpoint_dir=None, checkpoint_every=None,
              flush_seconds=30.0, stream=None) -> list[Results]:
    """Run every point of a study; return Results in point order.

    Parameters
    ----------
    points : list of dict
        Parameter points (see the module docstring); validated up front.
    executor : concurrent.futures.Executor, optional
        Where points run. Default: a ``ProcessPoolExecutor(max_workers)``
        created and shut down here. Pass a ThreadPoolExecutor,
        ``mpi4py.futures.MPIPoolExecutor()`` or a Dask client's
        ``get_executor()``; it is not shut down.
    seed : int or SeedSequence
        Study seed; point ``i`` uses child ``i`` (``point_seed(seed, i)``).
        None draws fresh entropy, recorded in every point's metadata.
    indices : iterable of int, optional
        Run only these points (a job-array slice); their streams are the
        same as in the full study.
    output : path, optional
        HDF5 file (``kd.io``) that completed points are added to, atomically,
        at most every ``flush_seconds`` and at the end.
    resume : bool
        With ``output``: skip points already in the file (their Results are
        read back).
    checkpoint_dir : path, optional
        Checkpoint each running point there every ``checkpoint_every``
        sweeps; a rerun resumes unfinished points bit-identically.
    progress : bool
        A tqdm bar on interactive terminals, else one plain line per point.
    """
    points = [check_point(p, f"points[{i}]") for i, p in enumerate(points)]
    n = len(points)
    if isinstance(seed, bool) or (seed is not None and not isinstance(
            seed, (numbers.Integral, np.random.SeedSequence))) or (
            isinstance(seed, numbers.Integral) and seed < 0):
        raise ValueError(f"seed must be a non-negative integer, a SeedSequence or None, "
                         f"got {seed!r}")
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    todo = list(range(n)) if indices is None else sorted({int(i) for i in indices})
    bad = [i for i in todo if not 0 <= i < n]
    if bad:
        raise ValueError(f"indices {bad} out of range for a study of {n} points")
    for i in todo:   # fail early, in the caller, on physics errors (unknown param, ...)
        build(points[i], rng=0, where=f"points[{i}]")
    stream = sys.stderr if stream is None else stream
    results: dict[int, Results] = {}
    if output is not None and resume and os.path.exists(output):
        from . import io
        for name, res in io.read_all(output).items():
            i = res.meta.get("point_index")
            if i in todo:
                results[i] = res
    remaining = [i for i in todo if i not in results]
    study_info = {"seed": {"entropy": root.entropy if isinstance(root.entropy, int)
                           else list(root.entropy), "spawn_key": list(root.spawn_key)},
                  "n_points": n}
    if checkpoint_dir is not None:
        os.makedirs(checkpoint_dir, exist_ok=True)

    own = executor is None
    if own:
        executor = cf.ProcessPoolExecutor(max_workers=max_workers)
    pending, last_flush = [], time.monotonic()

    def flush():
        nonlocal pending, last_flush
        if output is not None and pending:
            from . import io
            io.append(output, [results[i] for i in pending], study=study_info)
        pending, last_flush = [], time.monotonic()

    bar = None
    if progress and remaining and getattr(stream, "isatty", lambda: False)():
        from tqdm.auto import tqdm
        bar = tqdm(total=len(remaining), desc="study", unit="point", file=stream)
    try:
        futures = {}
        for i in remaining:
            ck = (os.path.join(checkpoint_dir, f"point_{i:04d}.ckpt.h5")
                  if checkpoint_dir is not None else None)
            fut = executor.submit(run_point, points[i], point_seed(root, i), i, ck,
                                  checkpoint_every)
            futures[fut] = i
        t0 = time.perf_counter()
        for k, fut in enumerate(cf.as_completed(futures), 1):
            i = futures[fut]
            results[i] = fut.result()
            pending.append(i)
            if bar is not None:
                bar.update(1)
            elif progress:
                print(f"[{k}/{len(remaining)}] point {i} ({_describe(points[i])}) done in "
                      f"{results[i].meta['seconds']:.2f} s; {time.perf_counter() - t0:.1f} s "
                      "elapsed", file=stream, flush=True)
            if time.monotonic() - last_flush > flush_seconds:
                flush()
        flush()
    finally:
        if bar is not None:
            bar.close()
        if own:
            executor.shutdown(cancel_futures=True)
        if pending:          # an error elsewhere: keep what finished
            flush()
    return [results[i] for i in todo]
