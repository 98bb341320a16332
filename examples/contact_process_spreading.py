"""Contact process on the chain: spreading from one infected site, DP exponents
============================================================================

Runs spreading experiments at three infection rates around the critical one,
locates the critical rate where ln P(t) stops curving (the package's own
analysis), and plots the effective exponents -delta(t), eta(t), 2/z(t) beside
the directed-percolation values, plus a space-time picture of one surviving
cluster. Saves contact_process_spreading.png. About a minute.

    python examples/contact_process_spreading.py
"""
import numpy as np

import kadanoff as kd
import kadanoff.reaction as rd
from kadanoff.analysis.spreading import critical_point, exponents_at, spreading
from kadanoff.plot import figure, save
from kadanoff.theory.reaction import CP_1D_CRITICAL, DP_1D

rates = [3.25, 3.30, 3.35]
seeds = np.random.SeedSequence(2024).spawn(len(rates))
sps = [spreading(lambda lam=lam: rd.contact_process(kd.lattice.chain(2048), lam), 6000, 1000.0,
                 rng=ss, n_times=28, progress=True) for lam, ss in zip(rates, seeds)]
lam_c = critical_point(rates, sps, t_min=20, t_max=1000, degree=2)
ex = exponents_at(rates, sps, lam_c, t_min=50, t_max=1000, degree=2)
print(f"lambda_c = {lam_c:.4f}   (literature {CP_1D_CRITICAL})")
for k in ("delta", "eta", "z"):
    print(f"{k:>5} = {ex[k]:.4f}   (DP {DP_1D[k]})")

fig, axes = figure(ncols=4, size=(4.0, 3.4))
titles = {"P": r"$-\delta(t)$ from $P(t)$", "N": r"$\eta(t)$ from $N(t)$",
          "R2": r"$2/z(t)$ from $R^2(t)$"}
ref = {"P": -DP_1D["delta"], "N": DP_1D["eta"], "R2": 2 / DP_1D["z"]}
for ax, name in zip(axes[:3], ["P", "N", "R2"]):
    for lam, sp in zip(rates, sps):
        t, s, e = sp.local_slopes(name, step=3)
        ok = t > 3
        ax.errorbar(t[ok], s[ok], yerr=e[ok], ms=3, marker="o", lw=1, capsize=2,
                    label=fr"$\lambda$ = {lam}")
    ax.axhline(ref[name], color="k", ls="--", lw=1, label="DP")
    ax.set_xscale("log")
    ax.set_xlabel("t")
    ax.set_title(titles[name], fontsize="small")
axes[0].legend(frameon=False, fontsize="x-small")
axes[0].text(0.03, 0.03, fr"$\lambda_c$ = {lam_c.value:.4f} $\pm$ {lam_c.error:.4f}",
             transform=axes[0].transAxes, fontsize="x-small")

# one surviving cluster at the located critical rate
cp = rd.contact_process(kd.lattice.chain(301), round(lam_c.value, 4), initial="seed")
for seed in range(1, 200):
    res = cp.run(300.0, rng=seed, record_every=0.5, snapshots=True)
    if not res.meta["absorbed"]:
        break
rd.plot_spacetime(cp, res, ax=axes[3], colors=["white", "black"])
axes[3].set_title(fr"space-time, $\lambda$ = {lam_c.value:.3f}", fontsize="small")
save(fig, "contact_process_spreading.png")
print("saved contact_process_spreading.png")
