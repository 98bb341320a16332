"""The helicity-modulus jump of the 2D XY model at the BKT transition
==================================================================

The helicity modulus (spin stiffness) Upsilon(T) of the XY model drops from
a finite value to zero at T_BKT ~ 0.893 (J = 1); the universal jump is
Upsilon(T_BKT) = 2 T_BKT / pi (Nelson & Kosterlitz 1977), so on finite
lattices the curves Upsilon_L(T) cross the line 2T/pi close to T_BKT, moving
towards it (logarithmically) as L grows. Also plotted: the vortex density.

    python examples/xy_helicity_bkt.py [--out xy_helicity.png]

About a minute on one core (Wolff clusters, L = 8, 16, 32).
"""
import argparse

import numpy as np

import kadanoff as kd
from kadanoff import plot


def main():
    parser = argparse.ArgumentParser(description=__doc__,  # None when run by sphinx-gallery
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="xy_helicity.png")
    parser.add_argument("--sweeps", type=int, default=4000)
    args = parser.parse_args()
    temps = np.linspace(0.7, 1.2, 11)
    sizes = (8, 16, 32)
    fig, (ax1, ax2) = plot.figure(ncols=2)
    for L in sizes:
        hel, dhel, vort, dvort = [], [], [], []
        seeds = np.random.SeedSequence(L).spawn(len(temps))     # one stream per point
        for T, seed in zip(temps, seeds):
            model = kd.XY(kd.lattice.square(L))
            sim = kd.Simulation(model, T=T, algorithm="wolff", rng=seed)
            res = sim.run(sweeps=args.sweeps, thermalize=500)
            hel.append(res.mean("helicity"))
            dhel.append(res.error("helicity"))
            vort.append(res.mean("vortex_density"))
            dvort.append(res.error("vortex_density"))
            print(f"L={L:3d} T={T:.3f} Upsilon={hel[-1]:.4f} ± {dhel[-1]:.4f} "
                  f"vortices/site={vort[-1]:.4f}")
        ax1.errorbar(temps, hel, dhel, marker="o", ms=3, capsize=2, label=f"L = {L}")
        ax2.errorbar(temps, vort, dvort, marker="o", ms=3, capsize=2, label=f"L = {L}")
    ax1.plot(temps, 2 * temps / np.pi, "k--", label=r"$2T/\pi$")
    ax1.axvline(0.8929, color="grey", lw=0.8)
    ax1.set(xlabel="T", ylabel=r"helicity modulus $\Upsilon$", title="XY model: BKT jump")
    ax2.set(xlabel="T", ylabel="vortex density", yscale="log", title="vortex unbinding")
    ax1.legend()
    ax2.legend()
    plot.save(fig, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
