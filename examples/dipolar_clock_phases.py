"""Phase sequence of the dipolar six-state clock model
====================================================

The model of Simmons, Lin & Chern (arXiv:2412.09550) on the triangular
lattice, by parallel tempering::

    H = -J sum_<ij> cos(theta_i - theta_j) + D sum_{i<j} sigma_i sigma_j / r_ij^3,
    theta_i = 2 pi n_i / 6,  sigma_i = (-1)^{n_i},  all pairs and periodic images (Ewald)

On cooling: paramagnet -> BKT (T2) -> critical (quasi-long-range ordered)
phase -> BKT (T1) -> maze-like stripe liquid whose clock magnetisation sits
halfway between two adjacent clock states (cos 6 phi -> -1) -> first-order
transition (T_s) into three-fold degenerate straight stripes.

The script runs one parallel-tempering ladder (heat bath, 2 sweeps per
exchange), estimates the three temperatures from finite-L criteria::

    T2: helicity modulus crosses 2 T / pi        (BKT jump, eta = 1/4)
    T1: helicity modulus crosses 36 T / (8 pi)   (Z_6 becomes relevant, eta = 4/q^2)
    T_s: the stripe order parameter crosses 1/2 (and the low-T peak of C)

then runs short simulations at four representative temperatures to average
the dipole structure factor S(q) and take snapshots, and saves::

    dipolar_order_parameters.png   |m|, cos 6 phi, helicity, stripe psi, C, e_dip vs T
                                   and the histogram of psi near T_s
    dipolar_structure_factor.png   S(q) in the four phases
    dipolar_snapshots.png          clock and dipole fields in the four phases
    dipolar_summary.json           the curves and the transition estimates

and, for comparison, the same helicity criteria for the plain six-state
clock model (D = 0, kd.Clock with Wolff updates) on the same lattice.

into --out (default: the current directory). Default run (L = 36, D = 0.1,
J = 1): about 4-5 minutes on one core; --quick is a < 30 s smoke run (L = 12).

    python examples/dipolar_clock_phases.py [--L 36] [--D 0.1] [--out DIR] [--quick]
"""
from __future__ import annotations

import argparse
import json
import math
import time
import warnings
from pathlib import Path

import numpy as np

import kadanoff as kd
from kadanoff.models.dipolar import plot_snapshot, plot_structure_factor


def ladder(T_min, T_max, n):
    """Geometric in T, with the upper third of the range thinned (the heat
    bath equilibrates the paramagnet on its own; replicas are worth more at
    low T, where the stripe transition and the maze are slow)."""
    u = np.linspace(0.0, 1.0, n)
    return T_min * (T_max / T_min) ** (u ** 1.15)


def crossing(T, y, line):
    """Highest T (scanning down from the top) where y(T) - line(T) turns
    positive, by linear interpolation; None if it never does."""
    d = np.asarray(y) - line(np.asarray(T))
    for k in range(len(T) - 1, 0, -1):
        if d[k] <= 0 < d[k - 1]:
            t = d[k - 1] / (d[k - 1] - d[k])
            return float(T[k - 1] + t * (T[k] - T[k - 1]))
    return None


def stripe_crossing(T, psi, level=0.5):
    for k in range(len(T) - 1):
        if psi[k] >= level > psi[k + 1]:
            t = (psi[k] - level) / (psi[k] - psi[k + 1])
            return float(T[k] + t * (T[k + 1] - T[k]))
    return None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,  # None when run by sphinx-gallery
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--L", type=int, default=36)
    ap.add_argument("--D", type=float, default=0.1)
    ap.add_argument("--J", type=float, default=1.0)
    ap.add_argument("--replicas", type=int, default=30)
    ap.add_argument("--steps", type=int, default=3000, help="measured exchange steps")
    ap.add_argument("--out", default=".")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--quick", action="store_true", help="L = 12, short runs (smoke test)")
    ap.add_argument("--no-reference", action="store_true",
                    help="skip the D = 0 reference scan (kd.Clock q=6, Wolff)")
    args = ap.parse_args(argv)
    # short chains warn that tau_int is poorly determined; the error bars say so too
    warnings.filterwarnings("ignore", message=".*too short to estimate")
    if args.quick:
        args.L, args.replicas, args.steps = 12, 10, 150
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    model = kd.DipolarClock(kd.lattice.triangular(args.L), J=args.J, D=args.D)
    print(f"L = {args.L}, J = {args.J}, D = {args.D}: stripe period p = {model.stripe_period} "
          f"(ideal stripe energies per site: "
          f"{ {p: round(e, 4) for p, e in model.stripe_energies().items()} })")
    T = ladder(0.12 * args.J, 2.0 * args.J, args.replicas)
    seeds = np.random.SeedSequence(args.seed).spawn(5)
    pt = kd.ParallelTempering(model, T=list(T), algorithm="heatbath", rng=seeds[0],
                              sweeps_per_exchange=2)
    runs = pt.run(args.steps, thermalize=args.steps)
    print(f"parallel tempering: {len(T)} replicas, {args.steps} + {args.steps} exchange steps, "
          f"{time.perf_counter() - started:.0f} s; swap acceptance "
          f"min {pt.acceptance.min():.2f}, median {np.median(pt.acceptance):.2f}")

    keys = ("e", "abs_m", "cos_q_phi", "helicity", "stripe", "e_dip")
    curve = {k: np.array([r.mean(k) for r in runs]) for k in keys}
    err = {k: np.array([r.error(k) for r in runs]) for k in keys}
    C = np.array([r.specific_heat().value for r in runs])
    Ts = np.array([r.T for r in runs])

    T2 = crossing(Ts, curve["helicity"], lambda t: 2 * t / np.pi)
    T1 = crossing(Ts, curve["helicity"], lambda t: 36 * t / (8 * np.pi))
    T_s = stripe_crossing(Ts, curve["stripe"])
    low = Ts < (T1 if T1 else 0.6)
    T_C = float(Ts[low][np.argmax(C[low])]) if low.any() else None
    print(f"T2 (upper BKT, helicity = 2T/pi)       ~ {T2}")
    print(f"T1 (lower BKT, helicity = 36T/(8 pi))  ~ {T1}")
    print(f"T_s (stripe psi = 1/2)                 ~ {T_s};  low-T peak of C at T = {T_C}")

    # same-L reference without the dipolar term: kd.Clock(q=6), Wolff, same criteria
    ref = None
    if not args.no_reference:
        T_ref = Ts[Ts > 0.5 * args.J]
        hel0 = []
        for t, seed in zip(T_ref, np.random.SeedSequence(args.seed + 1).spawn(len(T_ref))):
            r = kd.Simulation(kd.Clock(model.lattice, q=6, J=args.J), T=float(t),
                              algorithm="wolff", rng=seed).run(
                sweeps=100 if args.quick else 1500, thermalize=100 if args.quick else 300)
            hel0.append(r.mean("helicity"))
        ref = {"T": T_ref.tolist(), "helicity": hel0,
               "T2": crossing(T_ref, hel0, lambda t: 2 * t / np.pi),
               "T1": crossing(T_ref, hel0, lambda t: 36 * t / (8 * np.pi))}
        print(f"D = 0 reference (kd.Clock q=6, same L): T2 ~ {ref['T2']}, T1 ~ {ref['T1']}")

    # representative temperatures: paramagnet, critical phase, maze, stripes
    reps = {"paramagnet": Ts[-1]}
    if T1 and T2:
        reps["critical"] = Ts[np.argmin(np.abs(Ts - 0.5 * (T1 + T2)))]
    top = T1 if T1 else 0.6
    bottom = T_s if T_s else Ts[0]
    reps["maze"] = Ts[np.argmin(np.abs(Ts - 0.5 * (top + bottom)))]
    reps["stripes"] = Ts[0]
    sq, snaps = {}, {}
    for (name, t), seed in zip(reps.items(), seeds[1:]):
        k = int(np.argmin(np.abs(Ts - t)))
        sim = kd.Simulation(model, T=float(Ts[k]), algorithm="heatbath", rng=seed,
                            state=pt.states[k], structure_factor=True)
        res = sim.run(sweeps=40 if args.quick else 400, measure_every=4)
        sq[name] = res["sq"].mean(axis=0)
        snaps[name] = (float(Ts[k]), sim.state.copy())

    _figures(model, Ts, curve, err, C, (T2, T1, T_s), sq, snaps, out,
             [r["stripe"] for r in runs], ref)
    summary = {"L": args.L, "J": args.J, "D": args.D, "stripe_period": model.stripe_period,
               "T": Ts.tolist(), **{k: v.tolist() for k, v in curve.items()},
               "C": C.tolist(), "T2_upper_BKT": T2, "T1_lower_BKT": T1, "T_stripe": T_s,
               "T_C_peak_low": T_C, "swap_acceptance": pt.acceptance.tolist(),
               "reference_D0": ref,
               "seconds": time.perf_counter() - started}
    (out / "dipolar_summary.json").write_text(json.dumps(summary, indent=1))
    print(f"figures and summary in {out.resolve()} ({time.perf_counter() - started:.0f} s)")


def _figures(model, T, curve, err, C, temps, sq, snaps, out, hist, ref):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    T2, T1, T_s = temps
    fig, axes = plt.subplots(2, 3, figsize=(14, 7.5))
    ax = axes[0, 0]
    ax.errorbar(T, curve["abs_m"], err["abs_m"], marker="o", ms=3, label="|m| (clock)")
    ax.errorbar(T, curve["cos_q_phi"], err["cos_q_phi"], marker="s", ms=3, label=r"$\cos 6\phi$")
    ax.axhline(math.cos(math.pi / 6), color="grey", lw=0.6, ls=":")
    ax.axhline(0, color="grey", lw=0.6)
    ax.set_ylabel("clock order")
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    ax.errorbar(T, curve["helicity"], err["helicity"], marker="o", ms=3, label=r"helicity $\Upsilon$")
    t = np.linspace(T[0], T[-1], 200)
    ax.plot(t, 2 * t / np.pi, "k--", lw=0.8, label=r"$2T/\pi$")
    ax.plot(t, 36 * t / (8 * np.pi), "k:", lw=0.8, label=r"$36T/8\pi$")
    if ref is not None:
        ax.plot(ref["T"], ref["helicity"], color="grey", lw=1, label=r"$\Upsilon$ at D = 0")
    ax.set_ylim(-0.2, 1.6)
    ax.set_ylabel(r"$\Upsilon$")
    ax.legend(fontsize=8)
    ax = axes[1, 0]
    ax.errorbar(T, curve["stripe"], err["stripe"], marker="o", ms=3, color="C3")
    ax.set_ylabel(r"stripe order $\psi$")
    ax.set_xlabel("T / J")
    ax = axes[1, 1]
    ax.plot(T, C, "o-", ms=3, color="C2")
    ax.set_ylabel("C / N")
    ax.set_xlabel("T / J")
    ax = axes[0, 2]
    ax.errorbar(T, curve["e_dip"], err["e_dip"], marker="o", ms=3, color="C4")
    ax.set_ylabel(r"dipolar energy $e_{dip}$ / site")
    ax.set_xlabel("T / J")
    for a in axes[:, :2].ravel().tolist() + [axes[0, 2]]:
        for x, ls, lab in ((T2, "--", "T2"), (T1, ":", "T1"), (T_s, "-.", "Ts")):
            if x:
                a.axvline(x, color="grey", lw=0.8, ls=ls)
    # first-order signature: the stripe order parameter near T_s is bimodal
    ax = axes[1, 2]
    k0 = int(np.argmin(np.abs(T - (T_s if T_s else T[0]))))
    for k in range(max(0, k0 - 1), min(len(T), k0 + 2)):
        ax.hist(hist[k], bins=40, range=(0, 1), histtype="step", density=True,
                label=f"T = {T[k]:.3f}")
    ax.set_xlabel(r"stripe order $\psi$")
    ax.set_ylabel(r"P($\psi$)")
    ax.legend(fontsize=8)
    axes[0, 0].set_title(f"dipolar 6-state clock, triangular L={model.L}, "
                         f"D/J={model.D / model.J:g}", fontsize=10)
    fig.tight_layout()
    fig.savefig(out / "dipolar_order_parameters.png", dpi=110)
    plt.close(fig)

    names = list(sq)
    fig, axes = plt.subplots(1, len(names), figsize=(4.3 * len(names), 3.9))
    for ax, name in zip(np.atleast_1d(axes), names):
        # zoom on the small stripe wave vectors |Q| = 4 pi / (sqrt(3) p)
        q_max = min(4 * np.pi / 3, 3.5 * 4 * np.pi / (math.sqrt(3) * model.stripe_period))
        plot_structure_factor(model, sq[name], ax=ax, log=True, q_max=q_max,
                              title=f"S(q), {name}, T={snaps[name][0]:.3f}")
    fig.tight_layout()
    fig.savefig(out / "dipolar_structure_factor.png", dpi=100)
    plt.close(fig)

    fig, axes = plt.subplots(2, len(names), figsize=(4.3 * len(names), 7.2))
    axes = np.asarray(axes).reshape(2, -1)
    for k, name in enumerate(names):
        t, s = snaps[name]
        plot_snapshot(model, s, ax=axes[0, k], title=f"clock n, {name}, T={t:.3f}")
        plot_snapshot(model, s, ax=axes[1, k], field="dipole", title=r"dipole $\sigma$")
    fig.tight_layout()
    fig.savefig(out / "dipolar_snapshots.png", dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    main()
