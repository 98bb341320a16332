"""kd.driven kernel speed: ns per attempted update (one random-sequential step,
or one spin of a synchronous step), entropy accumulation included, one core.

Cases:

- DrivenLatticeGas (KLS), 128 x 128, half filling, T = 2.5, E = 2: one step =
  pick a site and a neighbour, exchange with the Metropolis probability;
- the same with ``entropy_map=True`` (per-bond accumulation);
- TwoTemperatureIsing, 128 x 128, T_x = 2, T_y = 5;
- KineticIsing, N = 1000, asymmetric Gaussian couplings (SK-like), T = 1:
  random-sequential Glauber (O(N) local field per step) and parallel
  (one O(N^2) field evaluation per synchronous step: g(s') serves both
  ln P(s'|s) / P(s|s') and the next step);
- KineticIsing.on_lattice, 128 x 128, x-couplings 1.3 / 0.7 from the left /
  right neighbour, T = 2.5, random-sequential Glauber (sparse couplings).

Each kadanoff figure is beside a numpy baseline of the same update measured in
the same process: for the sequential kernels a Python loop over steps with
numpy arrays (the plain way to write random-sequential dynamics in numpy);
for the parallel kernel fully vectorised numpy (two BLAS matrix-vector
products per step). ratio = baseline ns / kadanoff ns (> 1: kadanoff faster).

    python benchmarks/driven.py [--seconds 1] [--repeat 3]

Each figure is the fastest of --repeat timings (the least disturbed by other
work on a shared machine).
"""
from __future__ import annotations

import argparse
import math
import os
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")        # one core for the BLAS baseline too

import numpy as np
from _timing import ns_per_update

import kadanoff as kd


def numpy_kls(L, T, E, steps, seed):
    """KLS random-sequential steps in Python + numpy, with entropy."""
    rng = np.random.default_rng(seed)
    n = L * L
    occ = np.zeros(n, dtype=np.int8)
    occ[rng.permutation(n)[: n // 2]] = 1
    lat = kd.lattice.square(L)
    nb = np.asarray(lat.indices).reshape(n, 4)
    vec = lat.entry_vectors().reshape(n, 4, 2)
    beta, S = 1.0 / T, 0.0
    u = rng.random((steps, 2))
    t0 = time.perf_counter()
    for t in range(steps):
        e = int(u[t, 0] * 4 * n)
        i, k = divmod(e, 4)
        j = nb[i, k]
        if occ[i] == occ[j]:
            continue
        p, h, dx = (i, j, vec[i, k, 0]) if occ[i] else (j, i, -vec[i, k, 0])
        m = occ[nb[p]].sum() - occ[nb[h]].sum() + 1
        ds = -beta * (4.0 * m - E * dx)
        if u[t, 1] < math.exp(min(0.0, ds)):
            occ[p], occ[h] = 0, 1
            S += ds
    return (time.perf_counter() - t0) / steps * 1e9


def numpy_kinetic_sequential(J, T, steps, seed):
    rng = np.random.default_rng(seed)
    n = len(J)
    s = rng.choice([-1.0, 1.0], size=n)
    beta, S = 1.0 / T, 0.0
    u = rng.random((steps, 2))
    t0 = time.perf_counter()
    for t in range(steps):
        i = int(u[t, 0] * n)
        a = -2.0 * beta * s[i] * (J[i] @ s)
        if u[t, 1] * (1.0 + math.exp(-a)) < 1.0:
            s[i] = -s[i]
            S += a
    return (time.perf_counter() - t0) / steps * 1e9


def numpy_kinetic_csr(model, T, steps, seed):
    """Random-sequential Glauber on CSR couplings, Python loop + numpy rows."""
    rng = np.random.default_rng(seed)
    ip, ix, dv = model._csr
    n = model.n_sites
    s = rng.choice([-1.0, 1.0], size=n)
    beta, S = 1.0 / T, 0.0
    u = rng.random((steps, 2))
    t0 = time.perf_counter()
    for t in range(steps):
        i = int(u[t, 0] * n)
        a = -2.0 * beta * s[i] * (dv[ip[i]:ip[i + 1]] @ s[ix[ip[i]:ip[i + 1]]])
        if u[t, 1] * (1.0 + math.exp(-a)) < 1.0:
            s[i] = -s[i]
            S += a
    return (time.perf_counter() - t0) / steps * 1e9


def numpy_kinetic_parallel(J, T, sweeps, seed):
    rng = np.random.default_rng(seed)
    n = len(J)
    s = rng.choice([-1.0, 1.0], size=n)
    beta, S = 1.0 / T, 0.0
    lc = lambda x: np.logaddexp(x, -x)          # ln 2 cosh x
    g = J @ s
    t0 = time.perf_counter()
    for _ in range(sweeps):
        s_new = np.where(rng.random(n) * (1.0 + np.exp(-2.0 * beta * g)) < 1.0, 1.0, -1.0)
        g_new = J @ s_new
        S += np.sum(beta * s_new * g - lc(beta * g) - beta * s * g_new + lc(beta * g_new))
        s, g = s_new, g_new
    return (time.perf_counter() - t0) / (sweeps * n) * 1e9


def best(f, repeat):
    return min(f() for _ in range(repeat))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    sec, rep = a.seconds, a.repeat
    lat = kd.lattice.square(128)
    rng = np.random.default_rng(0)
    N = 1000
    J = rng.normal(size=(N, N)) / math.sqrt(N)
    np.fill_diagonal(J, 0.0)
    kls = kd.driven.DrivenLatticeGas(lat, density=0.5, E=2.0)
    tti = kd.driven.TwoTemperatureIsing(lat, T_y=5.0)
    kin = kd.driven.KineticIsing(J)
    directed = np.where(lat.entry_vectors()[:, 0] > 0, 1.3, 0.7)     # x-neighbours asymmetric
    kin_lat = kd.driven.KineticIsing.on_lattice(lat, directed)

    base_kls = best(lambda: numpy_kls(128, 2.5, 2.0, 200_000, 1), rep)
    rows = [
        ("KLS 128^2", best(lambda: ns_per_update(kls, 2.5, "metropolis", sec), rep), base_kls),
        ("KLS 128^2 + entropy_map",
         best(lambda: ns_per_update(kls, 2.5, "metropolis", sec, entropy_map=True), rep),
         base_kls),
        ("two-temperature 128^2", best(lambda: ns_per_update(tti, 2.0, "metropolis", sec), rep),
         base_kls),
        ("kinetic Ising N=1000 glauber",
         best(lambda: ns_per_update(kin, 1.0, "glauber", sec), rep),
         best(lambda: numpy_kinetic_sequential(J, 1.0, 50_000, 2), rep)),
        ("kinetic Ising 128^2 lattice glauber",
         best(lambda: ns_per_update(kin_lat, 2.5, "glauber", sec), rep),
         best(lambda: numpy_kinetic_csr(kin_lat, 2.5, 100_000, 4), rep)),
        ("kinetic Ising N=1000 parallel",
         best(lambda: ns_per_update(kin, 1.0, "parallel", sec), rep),
         best(lambda: numpy_kinetic_parallel(J, 1.0, 300, 3), rep)),
    ]
    print(f"{'case':34s} {'kadanoff ns':>12s} {'numpy ns':>10s} {'ratio':>7s}")
    for name, ns, base in rows:
        print(f"{name:34s} {ns:12.1f} {base:10.1f} {base / ns:7.1f}")
    print("(two-temperature: baseline = the KLS numpy loop, the same exchange step)")


if __name__ == "__main__":
    main()
