"""Hopfield network: Monte Carlo retrieval on the AGS T-alpha phase diagram
========================================================================

For loads alpha = P/N and temperatures T on a grid, a pairwise Hopfield
network of N = 2000 neurons is started on a stored pattern and run with
Glauber dynamics; the colour of each point is its mean overlap <m> with that
pattern. Lines: the replica-symmetric theory of Amit, Gutfreund and
Sompolinsky (kd.theory.ags) -- T_M (retrieval states exist below), T_c
(they are the global minima below; re-entrant near alpha = 0.05 in RS) and
T_g = 1 + sqrt(alpha) (spin glass below, paramagnet above); alpha_c = 0.138
at T = 0. At this N the Monte Carlo overlap falls off smoothly across T_M
(metastable retrieval and finite-size rounding). Saves
hopfield_phase_diagram.png. A minute or two.

    python examples/hopfield_phase_diagram.py
"""
import numpy as np

import kadanoff as kd
from kadanoff import hopfield as hp
from kadanoff.plot import figure, save
from kadanoff.theory import ags

N = 2000
alphas = np.arange(0.01, 0.181, 0.01)
temps = np.arange(0.05, 1.41, 0.05)
seeds = np.random.SeedSequence(2024).spawn(len(alphas) * len(temps))

m = np.empty((len(alphas), len(temps)))
for a, alpha in enumerate(alphas):
    xi = hp.random_patterns(round(alpha * N), N, rng=seeds[a * len(temps)])
    model = hp.Hopfield(xi)
    for b, T in enumerate(temps):
        sim = kd.Simulation(model, T=T, rng=seeds[a * len(temps) + b], state=xi[0])
        res = sim.run(sweeps=200, thermalize=100)
        m[a, b] = res["overlap"][:, 0].mean()
    print(f"alpha = {alpha:.2f}: <m> = {np.round(m[a], 2)}")

# theory lines
a_line = np.linspace(0.002, ags.alpha_c(), 28)
T_M = [ags.T_M(a, tol=2e-3) for a in a_line]
T_c = np.linspace(0.0, 0.95, 20)
a_c = [ags.alpha_T_c(T, tol=2e-4) for T in T_c]       # the T_c line as alpha(T)
a_g = np.linspace(0, 0.18, 50)

fig, ax = figure(size=(6.4, 5.0))
A, Tg = np.meshgrid(alphas, temps, indexing="ij")
sc = ax.scatter(A.ravel(), Tg.ravel(), c=m.ravel(), cmap="viridis", vmin=0, vmax=1, s=28,
                edgecolors="none")
fig.colorbar(sc, ax=ax, label=rf"Monte Carlo $\langle m \rangle$ (N = {N})")
ax.plot(np.r_[0, a_line, ags.alpha_c()], np.r_[1, T_M, 0], "k-", lw=1.5,
        label=r"$T_M$: retrieval states exist below")
ax.plot(np.r_[a_c, 0], np.r_[T_c, 1], "k--", lw=1.2, label=r"$T_c$: retrieval is the global minimum")
ax.plot(a_g, 1 + np.sqrt(a_g), "r:", lw=1.5, label=r"$T_g = 1 + \sqrt{\alpha}$")
ax.axvline(ags.alpha_c(), color="0.5", lw=0.6)
box = {"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.5}
ax.text(ags.alpha_c() + 0.002, 0.03, r"$\alpha_c = 0.138$", fontsize=8, bbox=box)
ax.text(0.05, 1.37, "paramagnet", fontsize=8, ha="center", bbox=box)
ax.text(0.115, 0.8, "spin glass", fontsize=8, ha="center", bbox=box)
ax.text(0.025, 0.12, "retrieval", fontsize=8, ha="center", bbox=box)
ax.set(xlabel=r"load $\alpha = P/N$", ylabel="temperature T", xlim=(0, 0.185), ylim=(0, 1.45),
       title="Hopfield network: AGS phase diagram and Glauber Monte Carlo")
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3, fontsize=7, frameon=False)
print("wrote", save(fig, "hopfield_phase_diagram.png"))
