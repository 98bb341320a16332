"""Ising energy and specific heat against the exact finite torus
=============================================================

Energy and specific heat of the 16 x 16 Ising torus against Kaufman's exact
finite-size solution, for all four algorithms.  Saves ising_energy_vs_exact.png.

    python examples/ising_energy_vs_exact.py
"""
import numpy as np

import kadanoff as kd
from kadanoff.plot import figure, save
from kadanoff.theory import ising2d_torus

L = 16
temps = np.linspace(1.6, 3.4, 10)
grid = np.linspace(1.5, 3.5, 200)
exact = ising2d_torus(L, T=grid)
fig, (ax1, ax2) = figure(ncols=2)
ax1.plot(grid, exact["e"], "k-", lw=1, label="exact (Kaufman)")
ax2.plot(grid, exact["C"], "k-", lw=1, label="exact (Kaufman)")
algorithms = ["metropolis", "heatbath", "wolff", "swendsen-wang"]
streams = np.random.SeedSequence(16).spawn(len(algorithms) * len(temps))
for k, alg in enumerate(algorithms):
    e, de, c, dc = [], [], [], []
    for b, T in enumerate(temps):
        res = kd.Simulation(kd.Ising(kd.lattice.square(L)), T=T, algorithm=alg,
                            rng=streams[k * len(temps) + b]).run(sweeps=5_000, thermalize=500)
        e.append(res.mean("e")); de.append(res.error("e"))
        C = res.specific_heat(); c.append(C.value); dc.append(C.error)
    shift = (k - 1.5) * 0.01
    ax1.errorbar(temps + shift, e, de, fmt="o", ms=3, label=alg)
    ax2.errorbar(temps + shift, c, dc, fmt="o", ms=3, label=alg)
ax1.set_xlabel("T"); ax1.set_ylabel("energy per spin"); ax1.legend(frameon=False, fontsize="small")
ax2.set_xlabel("T"); ax2.set_ylabel("specific heat per spin")
print("wrote", save(fig, "ising_energy_vs_exact.png"))
