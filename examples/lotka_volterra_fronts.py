"""Stochastic lattice Lotka-Volterra: predator invasion fronts and noisy oscillations
==================================================================================

Prey (B) fill a 256 x 256 lattice with site restriction; a few predators (A)
start in the centre and invade as a travelling activity front, leaving
a patchwork of predator-prey clusters behind. A second run from a random
mixture shows damped, noise-sustained oscillations of the densities beside
the mean-field rate equations (which predict damped oscillations towards a
fixed point, and no spatial structure), and a run without site restriction
(on-site reactions, capacity 8). Saves lotka_volterra_fronts.png. About a minute.

    python examples/lotka_volterra_fronts.py
"""
import numpy as np

import kadanoff as kd
import kadanoff.reaction as rd
from kadanoff.plot import figure, save
from kadanoff.theory.reaction import solve_rate_equations

L = 256
lat = kd.lattice.square(L)
params = dict(predation=4.0, birth=4.0, death=1.0, diffusion=0.0)
lv = rd.lotka_volterra(lat, **params, rng=1)
init = np.full(L * L, 2)                                  # prey everywhere
c = L // 2
for dx in range(-2, 3):
    for dy in range(-2, 3):
        init[(c + dx) + L * (c + dy)] = 1                  # a small predator patch
times = [0.0, 15.0, 30.0, 45.0]
front = lv.run(times[-1], rng=2, times=times, initial=init, snapshots=True, progress=True)

mix = lv.run(100.0, rng=3, record_every=0.25)
mf = solve_rate_equations(lv, mix["t"], [mix["density_A"][0], mix["density_B"][0]])
nosr = rd.lotka_volterra(kd.lattice.square(64), predation=0.5, birth=4.0, death=1.0,
                         diffusion=1.0, site_restriction=False, capacity=8, rng=4)
free = nosr.run(100.0, rng=5, record_every=0.25)

fig, axes = figure(ncols=6, size=(3.0, 3.2))
for ax, k in zip(axes[:4], range(4)):
    rd.plot_snapshot(lv, front["snapshot"][k], ax=ax, colors=["white", "#d62728", "#2ca02c"],
                     title=f"t = {times[k]:g}")
ax = axes[4]
ax.plot(mix["t"], mix["density_A"], "C3", lw=1, label="predators")
ax.plot(mix["t"], mix["density_B"], "C2", lw=1, label="prey")
ax.plot(mix["t"], mf[:, 0], "C3:", lw=1, label="mean field")
ax.plot(mix["t"], mf[:, 1], "C2:", lw=1)
ax.set_xlabel("t")
ax.set_ylabel("density")
ax.set_title("site restriction", fontsize="small")
ax.legend(frameon=False, fontsize="x-small")
ax = axes[5]
ax.plot(free["t"], free["density_A"], "C3", lw=1, label="predators")
ax.plot(free["t"], free["density_B"], "C2", lw=1, label="prey")
ax.set_xlabel("t")
ax.set_ylabel("particles per site")
ax.set_title("no site restriction (K = 8)", fontsize="small")
save(fig, "lotka_volterra_fronts.png")
print("saved lotka_volterra_fronts.png")
