"""Binder cumulants of the 2D Ising model cross at T_c = 2/ln(1+sqrt 2)
====================================================================

Runs Swendsen-Wang for L = 8, 16, 32 on a temperature grid around T_c and
saves ising_binder.png.  A few seconds.

    python examples/ising_binder.py
"""
import numpy as np

import kadanoff as kd
from kadanoff.analysis.fss import binder_crossings
from kadanoff.plot import curves_with_errors, figure, save
from kadanoff.theory import T_C_SQUARE

sizes = [8, 16, 32]
temps = np.linspace(2.20, 2.34, 8)
seeds = np.random.SeedSequence(7).spawn(len(sizes) * len(temps))
U = np.empty((len(sizes), len(temps)))
dU = np.empty_like(U)
for a, L in enumerate(sizes):
    for b, T in enumerate(temps):
        sim = kd.Simulation(kd.Ising(kd.lattice.square(L)), T=T, algorithm="swendsen-wang",
                            rng=seeds[a * len(temps) + b])
        U[a, b], dU[a, b] = sim.run(sweeps=10_000, thermalize=500).binder()

for c in binder_crossings(temps, sizes, U, dU, rng=1):
    print(f"L = {c.L1:.0f}/{c.L2:.0f}: T* = {c.T:.4f} ± {c.T_err:.4f}   (exact {T_C_SQUARE:.4f})")

fig, ax = figure()
curves_with_errors(ax, temps, U, dU, [f"L = {L}" for L in sizes],
                   xlabel="T", ylabel="Binder cumulant U")
ax.axvline(T_C_SQUARE, color="k", ls="--", lw=0.8)
print("wrote", save(fig, "ising_binder.png"))
