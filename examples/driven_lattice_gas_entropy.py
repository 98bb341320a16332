"""Entropy production of the driven lattice gas (KLS)
===================================================

The Katz-Lebowitz-Spohn lattice gas at half filling on a 32 x 32 torus:
particles hop to empty neighbours with Metropolis rates
min(1, exp(-(dH - E dx) / T)), H = -J sum s_i s_j, E a field along x. Every
executed hop produces the entropy -(dH - E dx) / T in the medium; the kernel
adds it up, per site and bond direction as well (``entropy_map=True``).

* ``kls_entropy_map.png``: at T = 2.0 < T_c and a strong drive E = 8 the
  particles form one band along the drive. From the left: the final
  configuration; the steady-state entropy production (per bond per sweep,
  averaged over the run) on the bonds along x and across x; their profiles
  across the band. Along x the dissipation peaks at the two interfaces,
  where particles and holes meet and most of the current flows; the dilute
  vapour and the holes inside the band carry a smaller current. Across x the
  hops do no work and contribute only -dH / T: small, slightly positive near
  the interfaces. (The band may wander in y during the run, which smears
  the map.)
* ``kls_epr_vs_drive.png``: the entropy production rate per site per sweep
  versus E at T = 3.0 (disordered) and T = 2.0 (banded), with error bars,
  and E x current / T (the work done by the field over T, equal to the EPR
  in the steady state). E = 0 is equilibrium Kawasaki dynamics: zero. The
  ordered system carries less current, hence less dissipation.

About 1-2 minutes on one core; ``--quick`` (L = 16, short runs) takes a few
seconds.

    python examples/driven_lattice_gas_entropy.py [--out DIR] [--quick]
"""
import argparse
from pathlib import Path

import numpy as np

import kadanoff as kd
from kadanoff.plot import figure, save

parser = argparse.ArgumentParser(description=__doc__,  # None when run by sphinx-gallery
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--out", default=".", help="directory for the PNG files")
parser.add_argument("--quick", action="store_true", help="small, short smoke run")
args = parser.parse_args()
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)

L = 16 if args.quick else 32
sweeps_map = 10_000 if args.quick else 100_000
therm_map = 10_000 if args.quick else 100_000
sweeps_curve = 2_000 if args.quick else 20_000
therm_curve = 2_000 if args.quick else 20_000
lat = kd.lattice.square(L)

# --- 1. the map -------------------------------------------------------------
gas = kd.driven.DrivenLatticeGas(lat, density=0.5, J=1.0, E=8.0)
sim = kd.Simulation(gas, T=2.0, rng=1, entropy_map=True)
res = sim.run(sweeps=sweeps_map, thermalize=therm_map, measure_every=50, progress=True)
emap = res.mean("entropy_map")                       # (N, 2) per bond per sweep
print(f"L={L} T=2 E=8: EPR = {res.estimate(np.mean, 'entropy')} per site per sweep, "
      f"stripe order = {res.mean('stripe'):.3f}")

fig, axes = figure(ncols=4, size=(3.4, 3.2))
occ = sim.state.reshape(L, L)                         # [y, x]: site x + L y
axes[0].imshow(occ, origin="lower", cmap="Greys", interpolation="nearest")
axes[0].set_title("final configuration (drive ->)", fontsize="small")
along = emap[:, 0].reshape(L, L)
across = emap[:, 1].reshape(L, L)
im = axes[1].imshow(along, origin="lower", cmap="magma", vmin=0, interpolation="nearest")
axes[1].set_title("EP on bonds along x", fontsize="small")
fig.colorbar(im, ax=axes[1], fraction=0.046, pad=0.04)
lim = np.abs(across).max()
im = axes[2].imshow(across, origin="lower", cmap="RdBu_r", vmin=-lim, vmax=lim,
                    interpolation="nearest")
axes[2].set_title("EP on bonds across x", fontsize="small")
fig.colorbar(im, ax=axes[2], fraction=0.046, pad=0.04)
for ax in axes[:3]:
    ax.set_xlabel("x")
    ax.set_ylabel("y")
y = np.arange(L)
axes[3].plot(along.mean(axis=1), y, "C3-", label="along x")
axes[3].plot(across.mean(axis=1), y, "C0-", label="across x")
axes[3].plot(occ.mean(axis=1) * along.mean(axis=1).max(), y, "k:", lw=0.8,
             label="final density (scaled)")
axes[3].axvline(0, color="0.7", lw=0.5)
axes[3].set_xlabel("entropy / bond / sweep")
axes[3].set_ylabel("y")
axes[3].set_title("profiles (mean over x)", fontsize="small")
axes[3].legend(frameon=False, fontsize="x-small")
save(fig, out / "kls_entropy_map.png")

# --- 2. EPR versus drive ----------------------------------------------------
drives = np.array([0.0, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0])
fig, ax = figure(size=(5.2, 3.8))
for T, marker in [(3.0, "o"), (2.0, "s")]:
    epr, depr, work = [], [], []
    for k, E in enumerate(drives):
        gas = kd.driven.DrivenLatticeGas(lat, density=0.5, J=1.0, E=float(E))
        r = kd.Simulation(gas, T=T, rng=100 + k).run(sweeps=sweeps_curve,
                                                     thermalize=therm_curve,
                                                     measure_every=10)
        epr.append(r.mean("entropy"))
        depr.append(r.error("entropy"))
        work.append(E * r.mean("current") / T)
        print(f"T={T} E={E:5.2f}: EPR = {epr[-1]:.5f} +- {depr[-1]:.5f}, "
              f"E j / T = {work[-1]:.5f}, stripe = {r.mean('stripe'):.3f}")
    ax.errorbar(drives, epr, yerr=depr, marker=marker, ms=4, capsize=2, lw=1,
                label=f"EPR, T = {T:g}")
    ax.plot(drives, work, "kx", ms=5, label="E j / T" if T == 3.0 else None)
ax.axhline(0, color="0.7", lw=0.5)
ax.set_xlabel("drive E")
ax.set_ylabel("entropy production per site per sweep")
ax.set_title(f"KLS {L}x{L}, half filling", fontsize="small")
ax.legend(frameon=False, fontsize="small")
save(fig, out / "kls_epr_vs_drive.png")
print(f"wrote {out / 'kls_entropy_map.png'} and {out / 'kls_epr_vs_drive.png'}")
