"""Finite-size scaling of the 2D Ising model: T_c, nu, gamma/nu, beta/nu and data collapse
=======================================================================================

One Wolff run per size L = 8 ... 64 at the exact T_c = 2/ln(1 + sqrt 2); single-histogram
reweighting turns each run into continuous curves around T_c with jackknife errors. Then

* Binder-cumulant crossings of successive sizes, extrapolated to L -> infinity,
* fixed-T_c scaling fits: ``chi ~ L^(gamma/nu)``, ``<|m|> ~ L^(-beta/nu)``, ``dU/dbeta ~ L^(1/nu)``,
* data collapses of U (T_c, 1/nu) and chi (T_c, 1/nu, gamma/nu),

and saves ising_fss_collapse.png. About 15 s.

    python examples/ising_fss_collapse.py
"""
import warnings

import numpy as np

import kadanoff as kd
from kadanoff import plot
from kadanoff.analysis import exponents, fss
from kadanoff.analysis.reweighting import ReweightingWarning, SingleHistogram
from kadanoff.theory import T_C_SQUARE

sizes = [8, 16, 32, 64]
seeds = np.random.SeedSequence(11).spawn(len(sizes))
hists = []
for L, seed in zip(sizes, seeds):
    sim = kd.Simulation(kd.Ising(kd.lattice.square(L)), T=T_C_SQUARE, algorithm="wolff", rng=seed)
    res = sim.run(sweeps=50_000, thermalize=2_000)
    hists.append(SingleHistogram().compute(res))
    lo, hi = hists[-1].trusted_range
    print(f"L = {L:3d}: tau_int(m2) = {res.tau('m2'):.2f} sweeps, reweighting trusted for "
          f"T = {lo:.4f} .. {hi:.4f}")


def show(name, p, exact):
    print(f"  {name:<34} {p.value:9.5f} ± {p.error:.5f}   exact {exact:.5f}   "
          f"({(p.value - exact) / p.error:+.1f} sigma)")


print("\nBinder-cumulant crossings (jackknife errors):")
crossings = fss.reweighted_crossings(hists, sizes)
for c in crossings:
    print(f"  L = {c.L1:2.0f}/{c.L2:2.0f}: T* = {c.T:.5f} ± {c.T_err:.5f}")
tc_fit = fss.extrapolate_crossings(crossings, exponent=1 + 1.75)

L = np.array(sizes, dtype=float)
m2, dm2 = fss.values_at(hists, "m2", T_C_SQUARE)
chi, dchi = L ** 2 * m2 / T_C_SQUARE, L ** 2 * dm2 / T_C_SQUARE
m, dm = fss.values_at(hists, "abs_m", T_C_SQUARE)
dU, ddU = fss.values_at(hists, "binder_derivative", T_C_SQUARE)
g_fit = exponents.gamma_over_nu(L, chi, dchi, omega=1.75)
b_fit = exponents.beta_over_nu(L, m, dm, omega=2.0)
n_fit = exponents.inv_nu(L, dU, ddU)

print("\nEstimates:")
show("T_c (crossings, L -> inf)", tc_fit["Tc"], T_C_SQUARE)
show("gamma/nu (chi(T_c), + L^-7/4 term)", g_fit.exponent, 1.75)
show("beta/nu (<|m|>(T_c), + L^-2 term)", b_fit.exponent, 0.125)
show("1/nu (dU/dbeta at T_c)", n_fit.exponent, 1.0)

big = sizes[1:]
grids = [2.27 + np.linspace(-1.2, 1.2, 15 + 2 * i) / L for i, L in enumerate(big)]
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ReweightingWarning)
    dU_curves = fss.curves(hists[1:], "binder", grids)
    dchi_curves = fss.curves(hists[1:], "susceptibility", grids)
col_U = fss.Collapse(Tc=2.26, inv_nu=0.9, exponent=0.0, fix=["exponent"]).compute(
    dU_curves.T, big, dU_curves.value, dU_curves.error, replicas=dU_curves.replicas)
col_chi = fss.Collapse(Tc=2.26, inv_nu=0.9, exponent=1.6).compute(
    dchi_curves.T, big, dchi_curves.value, dchi_curves.error, replicas=dchi_curves.replicas)
show("T_c (collapse of U, L >= 16)", col_U.Tc, T_C_SQUARE)
show("1/nu (collapse of U)", col_U.inv_nu, 1.0)
show("T_c (collapse of chi', L >= 16)", col_chi.Tc, T_C_SQUARE)
show("1/nu (collapse of chi')", col_chi.inv_nu, 1.0)
show("gamma/nu (collapse of chi')", col_chi.exponent, 1.75)

from matplotlib.figure import Figure  # noqa: E402  (no pyplot needed)

fig = Figure(figsize=(10.4, 8.0), layout="constrained")
ax = fig.subplots(2, 2).ravel()
full = fss.curves(hists, "binder", [np.linspace(T_C_SQUARE - 1.2 / L, T_C_SQUARE + 1.2 / L, 80)
                                    for L in sizes])
plot.binder_plot(full.T, sizes, full.value, full.error, crossings, Tc=T_C_SQUARE, ax=ax[0])
ax[0].set_title("Binder cumulant, reweighted from T_c", fontsize="medium")
plot.collapse_plot(col_U, ax=ax[1], ylabel="U")
ax[1].set_title("collapse of U", fontsize="medium")
plot.collapse_plot(col_chi, ax=ax[2], ylabel=r"$\chi' L^{-\gamma/\nu}$")
ax[2].set_title(r"collapse of $\chi' = \beta N(\langle m^2\rangle - \langle|m|\rangle^2)$",
                fontsize="medium")
plot.peak_scaling_plot(L, chi, dchi, g_fit, ax=ax[3],
                       ylabel=r"$\chi(T_c) = \beta N\langle m^2\rangle$", label="L = 8 ... 64")
ax[3].set_title("fixed-T_c scaling", fontsize="medium")
fig.savefig("ising_fss_collapse.png", dpi=130)
print("\nwrote ising_fss_collapse.png")
