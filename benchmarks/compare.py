"""kadanoff against its peers and a numpy baseline, in one run on one machine.

Prints one markdown table -- ns per update for each case, for kadanoff, the
numpy (or pure-Python) baseline and every installed peer, with the ratios
(other time / kadanoff time: > 1 means kadanoff is faster) -- and a
time-to-error table: wall time for kadanoff's 2D Ising algorithms to reach a
1% relative error on the susceptibility chi = N beta (<m^2> - <|m|>^2) at
L = 64, T = T_c. Both are written to ``benchmarks/results/compare.md`` and
``compare.json`` so they can be tracked.

    python benchmarks/compare.py [--seconds 1] [--repeat 3] [--error-budget 10]
                                 [--quick] [--out benchmarks/results]

The peers are optional and never dependencies of kadanoff; the script installs
nothing. To compare against them, install them first::

    pip install mcising spinmc viridicle

A peer that cannot be imported is reported as "not installed"; a case a peer
does not offer as "n/a".

Units: local updates and Swendsen-Wang are ns per site per sweep; Wolff is ns
per flipped spin; reaction-diffusion is ns per event (accepted reaction, hop
or exchange). Every figure is the fastest of ``--repeat`` timings of a
thermalised chain (the least disturbed by other work on a shared machine).

How the peers are timed (equal work, same process):

- mcising (Rust): ``IsingSimulation(L, J1=1, 0, 0, h=0, seed, algorithm,
  lattice)``; ``sweep(n, temperature=T)`` returns (accepted, attempted,
  clusters). Metropolis/SW: ns per attempted site; Wolff: one "sweep" is one
  cluster and ``accepted`` the spins flipped, so ns per flipped spin.
- spinmc (Rust, TOML-driven): one ``run()`` per timing with n and 4 n steps
  (equilibration + measurement), and the difference removes the fixed cost.
  A Metropolis step is one sweep; a Wolff step is one cluster, whose mean
  size is taken from kadanoff's Wolff at the same L and T (the same Markov
  chain in distribution). ``boltzmann_constant`` is set to 1 (its Python
  wrapper misspells the key, which would leave k_B in eV/K).
- viridicle: rock-paper-scissors only (its package does not build against
  setuptools without ``pkg_resources`` on this machine, so it is usually
  reported as not installed).
- numpy: the vectorised checkerboard Metropolis of ``benchmarks/ising.py`` and
  ``benchmarks/spin_models.py``; the RPS baseline is the pure-Python event
  loop of ``benchmarks/reaction.py`` (no vectorised form exists for an
  event-driven engine).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import ns_per_update
from ising import numpy_checkerboard

import kadanoff as kd
from kadanoff.theory import T_C_SQUARE

T_C_CUBIC = 4.5115232          # 3D Ising, simple cubic (Ferrenberg, Xu & Landau 2018)
T_POTTS3 = 1.0 / math.log(1.0 + math.sqrt(3.0))
PEERS = ("mcising", "spinmc", "viridicle")


class NotAvailable(Exception):
    """A peer or baseline that cannot run this case (the message says why)."""


def _best(fn, repeat):
    return min(fn() for _ in range(repeat))


def _peer_installed(name):
    try:
        __import__(name)
        return None
    except Exception as exc:                        # noqa: BLE001 - any import failure
        return f"not installed ({type(exc).__name__})"


@contextlib.contextmanager
def _quiet_fds():
    """Silence a compiled library's log output on file descriptors 1 and 2."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved + [devnull]:
            os.close(fd)


# ------------------------------------------------------------------- kadanoff

def kd_ising(shape, T, algorithm, seconds, **options):
    lat = kd.lattice.square(*shape) if len(shape) == 2 else kd.lattice.cubic(*shape)
    return ns_per_update(kd.Ising(lat), T, algorithm, seconds, **options)


def kd_mean_cluster(shape, T, sweeps=300):
    lat = kd.lattice.square(*shape) if len(shape) == 2 else kd.lattice.cubic(*shape)
    sim = kd.Simulation(kd.Ising(lat), T=T, algorithm="wolff", rng=3)
    res = sim.run(sweeps=sweeps, thermalize=100)
    return res.meta["algorithm_info"]["mean_cluster_size"]


def kd_rps(L, seconds):
    from reaction import MOBILITY, _kadanoff_rate

    import kadanoff.reaction as rd
    rate, _ = _kadanoff_rate(
        lambda: rd.rock_paper_scissors(kd.lattice.square(L), mobility=MOBILITY, rng=1), seconds)
    return 1e9 / rate


# ---------------------------------------------------------------------- peers

def mcising_ns(L, T, algorithm, seconds, lattice="square"):
    why = _peer_installed("mcising")
    if why:
        raise NotAvailable(why)
    import mcising
    name = {"swendsen-wang": "swendsen_wang"}.get(algorithm, algorithm)
    sim = mcising.IsingSimulation(L, 1.0, 0.0, 0.0, 0.0, 1, name, lattice)
    n_sites = sim.num_sites
    warm = 200 if algorithm != "wolff" else 2000
    sim.sweep(warm, temperature=T)
    n = 4
    while True:
        t0 = time.perf_counter()
        accepted, attempted, _ = sim.sweep(n, temperature=T)
        dt = time.perf_counter() - t0
        if dt > seconds / 4 or n > 10**7:
            break
        n *= 4
    units = accepted if algorithm == "wolff" else attempted
    assert algorithm == "wolff" or attempted == n * n_sites
    return dt / units * 1e9


def _spinmc_seconds(shape, T, algorithm, steps, outdir):
    from spinmc import Spinmc
    dims = tuple(shape) + (1,) * (3 - len(shape))
    job = (Spinmc()
           .set_grid(dimensions=dims, sublattices=1, spin_magnitudes=[1.0],
                     periodic_boundary=(True, True, len(shape) == 3))
           .add_exchange(strength=1.0, neighbor_order=1)
           .set_structure(cell=[[1, 0, 0], [0, 1, 0], [0, 0, 1]], positions=[[0, 0, 0]])
           .set_simulation(initial_state="random", model="ising", equilibration_steps=steps,
                           measurement_steps=steps, algorithm=algorithm, num_threads=1,
                           temperatures=[T])
           .set_output(outfile=str(Path(outdir) / "spinmc.txt"), group_magnetization=False,
                       group_susceptibility=False, group_magnetization_abs=False,
                       group_susceptibility_abs=False))
    job.params_dict["simulation"]["boltzmann_constant"] = 1.0
    cwd = os.getcwd()
    os.chdir(outdir)            # it writes result.txt to the working directory
    try:
        t0 = time.perf_counter()
        with _quiet_fds():
            job.run()
        return time.perf_counter() - t0
    finally:
        os.chdir(cwd)


def spinmc_ns(shape, T, algorithm, seconds, cluster=None):
    why = _peer_installed("spinmc")
    if why:
        raise NotAvailable(why)
    n_sites = int(np.prod(shape))
    with tempfile.TemporaryDirectory() as outdir:
        steps = 2
        while True:               # grow until the longer run takes ~seconds / 2
            t1 = _spinmc_seconds(shape, T, algorithm, steps, outdir)
            if t1 > seconds / 8 or steps > 10**6:
                break
            steps *= 4
        t4 = _spinmc_seconds(shape, T, algorithm, 4 * steps, outdir)
    per_step = max(t4 - t1, 1e-12) / (2 * 3 * steps)
    return per_step / (n_sites if algorithm == "metropolis" else cluster) * 1e9


def viridicle_rps_ns(L, seconds):
    why = _peer_installed("viridicle")
    if why:
        raise NotAvailable(why)
    raise NotAvailable("installed, but its event count is not mapped onto this case yet")


# ------------------------------------------------------------------ baselines

def numpy_ising_ns(L, T, repeat):
    sweeps = max(5, int(20 * (256 / L) ** 2))
    return min(numpy_checkerboard(L, T, sweeps, np.random.default_rng(r)) for r in range(repeat))


def numpy_potts_ns(L, T, repeat):
    from spin_models import BASELINES
    return min(BASELINES["potts_metropolis"](L, T, 3, np.random.default_rng(r))
               for r in range(repeat))


def python_rps_ns(L, seconds, repeat):
    from reaction import MOBILITY, python_rps
    eps = MOBILITY * L * L / 2
    return 1e9 / max(python_rps(L, 1.0, 1.0, eps, seconds, r) for r in range(repeat))


# ---------------------------------------------------------------------- cases

def cases(quick):
    Ls = (64,) if quick else (64, 256)
    out = []
    for L in Ls:
        out.append({
            "case": f"2D Ising Metropolis L={L}", "unit": "ns/site", "kind": "metropolis",
            "kadanoff": lambda s, L=L: kd_ising((L, L), T_C_SQUARE, "metropolis", s),
            "numpy": lambda s, r, L=L: numpy_ising_ns(L, T_C_SQUARE, r),
            "mcising": lambda s, L=L: mcising_ns(L, T_C_SQUARE, "metropolis", s),
            "spinmc": lambda s, L=L: spinmc_ns((L, L), T_C_SQUARE, "metropolis", s),
        })
        out.append({
            "case": f"2D Ising Metropolis L={L} (general kernel)", "unit": "ns/site",
            "kind": "metropolis",
            "kadanoff": lambda s, L=L: kd_ising((L, L), T_C_SQUARE, "metropolis", s,
                                                kernel="general"),
            "numpy": lambda s, r, L=L: numpy_ising_ns(L, T_C_SQUARE, r),
            "mcising": lambda s, L=L: mcising_ns(L, T_C_SQUARE, "metropolis", s),
            "spinmc": lambda s, L=L: spinmc_ns((L, L), T_C_SQUARE, "metropolis", s),
        })
    for L in Ls:
        out.append({
            "case": f"2D Ising Wolff L={L}", "unit": "ns/flipped spin", "kind": "wolff",
            "kadanoff": lambda s, L=L: kd_ising((L, L), T_C_SQUARE, "wolff", s),
            "mcising": lambda s, L=L: mcising_ns(L, T_C_SQUARE, "wolff", s),
            "spinmc": lambda s, L=L: spinmc_ns((L, L), T_C_SQUARE, "wolff", s,
                                               cluster=kd_mean_cluster((L, L), T_C_SQUARE)),
        })
    for L in Ls:
        out.append({
            "case": f"2D Ising Swendsen-Wang L={L}", "unit": "ns/site", "kind": "sw",
            "kadanoff": lambda s, L=L: kd_ising((L, L), T_C_SQUARE, "swendsen-wang", s),
            "mcising": lambda s, L=L: mcising_ns(L, T_C_SQUARE, "swendsen-wang", s),
        })
    L3 = 16 if quick else 32
    out.append({
        "case": f"3D Ising Wolff L={L3}", "unit": "ns/flipped spin", "kind": "wolff",
        "kadanoff": lambda s: kd_ising((L3, L3, L3), T_C_CUBIC, "wolff", s),
        "mcising": lambda s: mcising_ns(L3, T_C_CUBIC, "wolff", s, lattice="cubic"),
        "spinmc": lambda s: spinmc_ns((L3, L3, L3), T_C_CUBIC, "wolff", s,
                                      cluster=kd_mean_cluster((L3, L3, L3), T_C_CUBIC)),
    })
    for L in Ls:
        out.append({
            "case": f"Potts q=3 Metropolis L={L}", "unit": "ns/site", "kind": "potts",
            "kadanoff": lambda s, L=L: ns_per_update(kd.Potts(kd.lattice.square(L), q=3),
                                                     T_POTTS3, "metropolis", s),
            "numpy": lambda s, r, L=L: numpy_potts_ns(L, T_POTTS3, r),
        })
    Lr = 128 if quick else 256
    out.append({
        "case": f"RPS reaction-diffusion L={Lr}", "unit": "ns/event", "kind": "rps",
        "kadanoff": lambda s: kd_rps(Lr, s),
        "numpy": lambda s, r: python_rps_ns(Lr, s, r),
        "viridicle": lambda s: viridicle_rps_ns(Lr, s),
    })
    return out


def run_cases(args):
    rows = []
    for c in cases(args.quick):
        row = {"case": c["case"], "unit": c["unit"]}
        row["kadanoff"] = _best(lambda c=c: c["kadanoff"](args.seconds), args.repeat)
        row["numpy"] = c["numpy"](args.seconds, args.repeat) if "numpy" in c else None
        for peer in PEERS:
            if peer not in c:
                row[peer] = "n/a"
                continue
            try:
                row[peer] = _best(lambda c=c, peer=peer: c[peer](args.seconds), args.repeat)
            except NotAvailable as exc:
                row[peer] = str(exc)
            except Exception as exc:               # noqa: BLE001 - report, keep going
                row[peer] = f"failed ({type(exc).__name__}: {exc})"[:80]
        times = [row[p] for p in PEERS if isinstance(row[p], float)]
        row["fastest_peer"] = min(times) if times else None
        row["ratio_vs_peer"] = row["fastest_peer"] / row["kadanoff"] if times else None
        row["ratio_vs_numpy"] = row["numpy"] / row["kadanoff"] if row["numpy"] else None
        rows.append(row)
        print(f"  {row['case']}: kadanoff {row['kadanoff']:.3g} {row['unit']}", flush=True)
    return rows


# -------------------------------------------------------------- time to error

ERROR_ALGORITHMS = [
    ("metropolis", {}, 10), ("metropolis", {"kernel": "general"}, 10),
    ("heatbath", {}, 10), ("wolff", {}, 1), ("swendsen-wang", {}, 1),
]


def time_to_error(algorithm, options, every, budget, L=64, target=0.01):
    """Wall time until chi = N beta (<m^2> - <|m|>^2) has relative error
    <= target (binning / tau_int errors of Results.susceptibility()), from a
    random start with 1000 thermalisation sweeps (measurement every ``every``
    sweeps). Past ``budget`` seconds the time is extrapolated as
    t (err / target)^2 (errors fall as 1 / sqrt(time))."""
    sim = kd.Simulation(kd.Ising(kd.lattice.square(L)), T=T_C_SQUARE, algorithm=algorithm,
                        rng=7, **options)
    t0 = time.perf_counter()
    sim.run(sweeps=0, thermalize=1000)
    parts, chunk = [], 2000
    while True:
        parts.append(sim.run(sweeps=chunk, measure_every=every))
        res = kd.Results.concatenate(parts) if len(parts) > 1 else parts[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            chi = res.susceptibility()
        rel = float(chi.error / chi.value)
        elapsed = time.perf_counter() - t0
        if rel <= target:
            return {"seconds": elapsed, "rel_error": rel, "extrapolated": False,
                    "sweeps": res.n_measurements * every, "chi": float(chi.value),
                    "kernel": res.meta["algorithm_info"].get("kernel", "")}
        if elapsed > budget:
            return {"seconds": elapsed * (rel / target) ** 2, "rel_error": rel,
                    "extrapolated": True, "measured_seconds": elapsed,
                    "sweeps": res.n_measurements * every, "chi": float(chi.value),
                    "kernel": res.meta["algorithm_info"].get("kernel", "")}
        chunk *= 2


# -------------------------------------------------------------------- output

def _fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def markdown(rows, errors, meta):
    header = (f"Machine: {meta['machine']}; load average at start {meta['load_start']}, "
              f"at end {meta['load_end']} (ratios are measured in one process; absolute "
              f"times move with the load). Fastest of {meta['repeat']} timings. "
              "Ratio = other / kadanoff (> 1: kadanoff faster).")
    lines = [f"# kadanoff vs peers ({meta['date']})", "", header, "",
             "| case | unit | kadanoff | numpy | " + " | ".join(PEERS)
             + " | ratio vs fastest peer | ratio vs numpy |",
             "|---|---|---|---|" + "---|" * len(PEERS) + "---|---|"]
    for r in rows:
        lines.append(f"| {r['case']} | {r['unit']} | {_fmt(r['kadanoff'])} | {_fmt(r['numpy'])} | "
                     + " | ".join(_fmt(r[p]) for p in PEERS)
                     + f" | {_fmt(r['ratio_vs_peer'])} | {_fmt(r['ratio_vs_numpy'])} |")
    lines += ["", "Time to a 1% relative error on chi (2D Ising, L = 64, T = T_c, one core):", "",
              "| algorithm | kernel | wall time [s] | measured | sweeps | chi |",
              "|---|---|---|---|---|---|"]
    for name, e in errors.items():
        how = (f"extrapolated from {e['measured_seconds']:.1f} s at "
               f"{100 * e['rel_error']:.2f}%" if e["extrapolated"] else "reached")
        lines.append(f"| {name} | {e['kernel']} | {e['seconds']:.3g} | {how} | {e['sweeps']} | "
                     f"{e['chi']:.4g} |")
    return "\n".join(lines) + "\n"


def cpu_description():
    """Processor model and its widest vector extension: the bit-packed
    kernel's speed depends on them more than the other kernels' do."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "cpu unknown"
    model = next((line.split(":", 1)[1].strip() for line in text.splitlines()
                  if line.startswith("model name")), platform.processor() or "cpu unknown")
    flags = next((set(line.split(":", 1)[1].split()) for line in text.splitlines()
                  if line.startswith("flags")), set())
    simd = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    return f"{model} ({simd})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="per timing")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--error-budget", type=float, default=10.0,
                        help="seconds per algorithm for the time-to-error table")
    parser.add_argument("--quick", action="store_true", help="L = 64 only, shorter runs")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    args = parser.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    meta = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": f"{platform.machine()} {cpu_description()}, "
                       f"{os.cpu_count()} cores, Python {platform.python_version()}",
            "load_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
            "repeat": args.repeat, "seconds": args.seconds, "kadanoff": kd.__version__}
    for peer in PEERS:
        meta[peer] = _peer_installed(peer) or "installed"
    print("timing cases ...", flush=True)
    rows = run_cases(args)
    print("time to 1% error on chi ...", flush=True)
    errors = {}
    for alg, opts, every in ERROR_ALGORITHMS:
        name = alg + "".join(f" {k}={v}" for k, v in opts.items())
        errors[name] = time_to_error(alg, opts, every, args.error_budget)
        print(f"  {name}: {errors[name]['seconds']:.3g} s", flush=True)
    meta["load_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    text = markdown(rows, errors, meta)
    print()
    print(text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "compare.md").write_text(text)
    (out / "compare.json").write_text(json.dumps({"meta": meta, "cases": rows,
                                                   "time_to_error": errors}, indent=1))
    print(f"written: {out / 'compare.md'}, {out / 'compare.json'}")


if __name__ == "__main__":
    main()
