"""May-Leonard rock-paper-scissors with mobility: spirals grow with mobility
=========================================================================

Reichenbach, Mobilia & Frey (2007): with selection = reproduction = 1 and
exchange at mobility M = 2 eps / N, the three species coexist in rotating
spirals whose wavelength grows like sqrt(M); above M_c ~ 4.5e-4 the spirals
outgrow the lattice and two species die out. Snapshots at three mobilities on
a 200 x 200 lattice, and the densities over time. Saves
rock_paper_scissors_spirals.png. About a minute.

    python examples/rock_paper_scissors_spirals.py
"""
import kadanoff as kd
import kadanoff.reaction as rd
from kadanoff.plot import figure, save

L = 200
mobilities = [1e-5, 1e-4, 1e-3]
t_max = 600.0
runs = []
for k, M in enumerate(mobilities):
    rps = rd.rock_paper_scissors(kd.lattice.square(L), mobility=M, rng=10 + k)
    res = rps.run(t_max, rng=20 + k, record_every=2.0, progress=True)
    runs.append((M, rps, res))
    print(f"M = {M:g}: events {res.meta['events']:.3g}, absorbed {res.meta['absorbed']}, "
          f"final densities A/B/C = {res['density_A'][-1]:.3f}/{res['density_B'][-1]:.3f}/"
          f"{res['density_C'][-1]:.3f}")

fig, axes = figure(ncols=4, size=(3.3, 3.8))
colors = ["black", "#d62728", "#1f77b4", "#f2c300"]
for ax, (M, rps, res) in zip(axes[:3], runs):
    rd.plot_snapshot(rps, ax=ax, colors=colors, title=f"M = {M:g}, t = {res['t'][-1]:g}")
ax = axes[3]
for (M, rps, res), ls in zip(runs, ["-", "--", ":"]):
    ax.plot(res["t"], res["density_A"], "C3", ls=ls, lw=1, label=f"A, M = {M:g}")
ax.set_xlabel("t")
ax.set_ylabel("density of A")
ax.legend(frameon=False, fontsize="x-small")
save(fig, "rock_paper_scissors_spirals.png")
print("saved rock_paper_scissors_spirals.png")
