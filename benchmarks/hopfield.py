"""Associative-memory kernel speed: ns per neuron update (one Glauber proposal), one core.

Cases (the issue's): pairwise Hopfield N = 10,000, P = 100, and dense p = 4
with N = 10,000, P = 10,000, each in a retrieval state (started on a
pattern; the working regime of a memory) and, for p = 4, also from a random
state (paramagnet: about half the proposals are accepted).

Each kadanoff figure is beside two numpy baselines of the *same* Glauber
update, measured in the same process on the same patterns:

  numpy direct  the energy change from the P overlaps written the plain way,
                dH = U(m + delta) - U(m) summed over the P patterns, and the
                overlaps updated on acceptance (vector ops, one Python loop
                iteration per proposal);
  numpy algebra the kernel's own algebra: one int8 x float64 dot product per
                proposal, dH = -s_i x_i . G + sum D (see cext/hopfield.pyx).

and the kernel with its screening switched off (every proposal summed over
all P patterns), so the share of the speed that comes from compiled code
and the share from screening are both visible. ratio = numpy ns / kadanoff
ns (> 1: kadanoff faster); the target is >= 20 against numpy direct.

    python benchmarks/hopfield.py [--seconds 1] [--repeat 3]

Each figure is the fastest of --repeat timings (the least disturbed by other
work on a shared machine).
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import kadanoff as kd
from kadanoff import _hopfield
from kadanoff import hopfield as hp

N = 10_000


def numpy_direct(xi8, p, c, T, state, proposals, rng):
    """Glauber proposals with dH from the overlaps, direct formula.
    H = -c N sum_mu m_mu^p; xi8 has shape (N, P) (one neuron's entries contiguous)."""
    s = state.copy()
    n = len(s)
    m = (s.astype(np.float64) @ xi8) / n              # P overlaps
    beta = 1.0 / T
    mp = m * m if p == 2 else (m * m) ** 2            # m^p without the slow pow()
    S = mp.sum()
    t0 = time.perf_counter()
    for t in range(proposals):
        i = t % n
        mn = m + (-2.0 * s[i] / n) * xi8[i]
        q = mn * mn
        qp = q if p == 2 else q * q
        Sn = qp.sum()
        dH = -c * n * (Sn - S)
        if rng.random() * (1.0 + np.exp(beta * dH)) < 1.0:
            s[i] = -s[i]
            m, S = mn, Sn
    return (time.perf_counter() - t0) / proposals * 1e9


def numpy_algebra(xi8, p, c, T, state, proposals, rng):
    """The kernel's algebra in numpy: dH = -s_i xi_i . G + sum_mu D_mu with
    G = (U(M+2) - U(M-2)) / 2, D = (U(M+2) + U(M-2)) / 2 - U(M)."""
    s = state.copy()
    n = len(s)
    M = s.astype(np.float64) @ xi8
    beta = 1.0 / T

    def U(M):
        return -c * n * (M / n) ** p

    def GD(M):
        up, dn, mid = U(M + 2), U(M - 2), U(M)
        return 0.5 * (up - dn), 0.5 * (up + dn) - mid

    G, D = GD(M)
    Dsum = D.sum()
    t0 = time.perf_counter()
    for t in range(proposals):
        i = t % n
        x = xi8[i]
        dH = -s[i] * np.dot(x, G) + Dsum
        if rng.random() * (1.0 + np.exp(beta * dH)) < 1.0:
            s[i] = -s[i]
            M += (2.0 * s[i]) * x
            G, D = GD(M)
            Dsum = D.sum()
    return (time.perf_counter() - t0) / proposals * 1e9


def kernel(model, T, state, seconds, screen=True):
    """ns per neuron update of kd.Simulation (Glauber, sequential sweeps)."""
    model._screen = screen
    try:
        sim = kd.Simulation(model, T=T, algorithm="glauber", rng=1, state=state)
        sim.run(sweeps=1)
        sweeps = 1
        while True:
            t0 = time.perf_counter()
            res = sim.run(sweeps=sweeps, measure_every=sweeps)
            dt = time.perf_counter() - t0
            if dt > seconds / 4 or sweeps > 10 ** 6:
                break
            sweeps *= 4
    finally:
        model._screen = True
    info = res.meta["algorithm_info"]
    return dt / (sweeps * model.N) * 1e9, info


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"associative memories, N = {N}, Glauber, one core; dot product: "
          f"{_hopfield.simd_path()}")
    print(f"{'case':<34} {'kadanoff':>9} {'no screen':>9} {'np direct':>10} {'np algebra':>10}"
          f" {'ratio':>7} {'ratio*':>7}  acceptance  screened")
    cases = [
        ("pairwise P=100, T=0.5, retrieval", 100, 2, 0.5, "pattern"),
        ("dense p=4 P=10^4, T=1, retrieval", 10_000, 4, 1.0, "pattern"),
        ("dense p=4 P=10^4, T=1, random", 10_000, 4, 1.0, "random"),
    ]
    for label, P, p, T, start in cases:
        xi = hp.random_patterns(P, N, rng=7)
        model = hp.Hopfield(xi) if p == 2 else hp.DenseHopfield(xi, p)
        c = 0.5 if p == 2 else 1.0
        state = xi[0].copy() if start == "pattern" else \
            hp.random_patterns(1, N, rng=8)[0]
        xi8 = np.ascontiguousarray(xi.T)                # (N, P) int8
        del xi
        proposals = 3000 if P <= 1000 else 200
        ns_np = min(numpy_direct(xi8, p, c, T, state, proposals, np.random.default_rng(r))
                    for r in range(args.repeat))
        ns_alg = min(numpy_algebra(xi8, p, c, T, state, proposals, np.random.default_rng(r))
                     for r in range(args.repeat))
        runs = [kernel(model, T, state, args.seconds) for _ in range(args.repeat)]
        ns, info = min(runs, key=lambda r: r[0])
        ns_full = min(kernel(model, T, state, args.seconds, screen=False)[0]
                      for _ in range(args.repeat))
        print(f"{label:<34} {ns:9.1f} {ns_full:9.1f} {ns_np:10.0f} {ns_alg:10.0f} "
              f"{ns_np / ns:7.0f} {ns_np / ns_full:7.0f}  {info['acceptance']:10.4f}"
              f"  {info['screened']:8.3f}")
    print("ns per neuron update; ratio = numpy direct / kadanoff, ratio* = numpy direct / "
          "kadanoff without screening")


if __name__ == "__main__":
    main()
