"""``kadanoff demo``: finite-size scaling of the 2D Ising model with Wolff clusters.

For L = 8, 16, 32, 64 and a grid of temperatures around
T_c = 2 / ln(1 + sqrt 2) it measures the Binder cumulant
U = 1 - <m^4> / (3 <m^2>^2) and the susceptibility chi = beta N (<m^2> - <|m|>^2),
prints them with error bars, estimates T_c from the crossings of U_L(T) of
successive sizes, fits the peak heights chi_max ~ L^(gamma/nu) (exact
gamma/nu = 7/4) and writes two figures.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

from . import _random
from .analysis.fss import binder_crossings
from .lattice import square
from .models import Ising
from .simulation import Simulation
from .theory.ising import T_C_SQUARE

FULL = {"sizes": (8, 16, 32, 64),
        "temperatures": (2.15, 2.17, 2.19, 2.21, 2.23, 2.25, 2.27, 2.29, 2.31, 2.33,
                         2.36, 2.40, 2.45, 2.50, 2.55, 2.60, 2.65),
        "sweeps": 20_000, "thermalize": 1_000}
QUICK = {"sizes": (8, 16), "temperatures": (2.15, 2.2, 2.25, 2.3, 2.35, 2.45, 2.55),
         "sweeps": 2_000, "thermalize": 200}


def run_demo(out="kadanoff-demo", quick=False, seed=2024, progress=True, stream=None) -> dict:
    """Run the study, print the tables, write the figures; return the numbers."""
    stream = stream or sys.stdout
    cfg = QUICK if quick else FULL
    sizes, temps = cfg["sizes"], np.array(cfg["temperatures"], dtype=float)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    seeds = _random.spawn(seed, len(sizes) * len(temps))
    shape = (len(sizes), len(temps))
    U, dU, chi, dchi = (np.empty(shape) for _ in range(4))
    tasks = [(a, b) for a in range(len(sizes)) for b in range(len(temps))]
    # cost ~ N per sweep: do the big systems last so the bar's rate settles early
    print(f"kadanoff demo: 2D Ising, Wolff, L = {', '.join(map(str, sizes))}, "
          f"{len(temps)} temperatures, {cfg['sweeps']} sweeps each", file=stream)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        weights = [sizes[a] ** 2 for a, _ in tasks]
        bar = tqdm(total=sum(weights), desc="simulating", unit="site-run",
                   file=sys.stderr, bar_format="{l_bar}{bar}| {elapsed}<{remaining}")
    started = time.perf_counter()
    for a, b in tasks:
        model = Ising(square(sizes[a]))
        sim = Simulation(model, T=temps[b], algorithm="wolff", rng=seeds[a * len(temps) + b])
        res = sim.run(sweeps=cfg["sweeps"], thermalize=cfg["thermalize"])
        U[a, b], dU[a, b] = res.binder()
        chi[a, b], dchi[a, b] = res.susceptibility()
        if bar is not None:
            bar.update(sizes[a] ** 2)
    if bar is not None:
        bar.close()
    elapsed = time.perf_counter() - started

    print(f"\nBinder cumulant U_L(T) and susceptibility chi_L(T) per site "
          f"({elapsed:.1f} s)", file=stream)
    head = f"{'T':>7} " + " ".join(f"{'U(L=' + str(L) + ')':>17}" for L in sizes)
    print(head, file=stream)
    for b, T in enumerate(temps):
        print(f"{T:7.3f} " + " ".join(f"{U[a, b]:9.4f} ± {dU[a, b]:.4f}"
                                      for a in range(len(sizes))), file=stream)
    print(f"\n{'T':>7} " + " ".join(f"{'chi(L=' + str(L) + ')':>19}" for L in sizes), file=stream)
    for b, T in enumerate(temps):
        print(f"{T:7.3f} " + " ".join(f"{chi[a, b]:10.3f} ± {dchi[a, b]:6.3f}"
                                      for a in range(len(sizes))), file=stream)

    crossings = binder_crossings(temps, sizes, U, dU, rng=np.random.default_rng(seed))
    print("\nBinder-cumulant crossings (exact T_c = 2/ln(1+sqrt 2) = "
          f"{T_C_SQUARE:.6f}):", file=stream)
    for c in crossings:
        dev = (c.T - T_C_SQUARE) / c.T_err if c.T_err > 0 else float("nan")
        print(f"  L = {c.L1:3.0f} / {c.L2:3.0f}:  T* = {c.T:.4f} ± {c.T_err:.4f}   "
              f"({dev:+.1f} sigma from exact)", file=stream)
    best = crossings[-1]
    print(f"T_c estimate (largest pair): {best.T:.4f} ± {best.T_err:.4f}", file=stream)

    peak_T, peak_chi = _peaks(temps, chi)
    slope = np.polyfit(np.log(sizes), np.log(peak_chi), 1)[0] if len(sizes) > 1 else np.nan
    print("\nSusceptibility peaks (parabola through the three highest points):", file=stream)
    for L, t, c in zip(sizes, peak_T, peak_chi):
        print(f"  L = {L:3d}:  T_max = {t:.3f}  chi_max = {c:.3f}", file=stream)
    print(f"gamma/nu from chi_max ~ L^(gamma/nu): {slope:.3f}  (exact 7/4 = 1.75)", file=stream)

    figures = _figures(out, sizes, temps, U, dU, chi, dchi, best, peak_T, peak_chi, slope)
    print("\nfigures written to " + os.fspath(out.resolve()) + ": " +
          ", ".join(p.name for p in figures), file=stream)
    return {"sizes": sizes, "T": temps, "U": U, "U_err": dU, "chi": chi, "chi_err": dchi,
            "crossings": crossings, "T_c": best, "gamma_over_nu": slope, "figures": figures}


def _peaks(temps, chi):
    peak_T, peak_chi = [], []
    for row in chi:
        k = int(np.clip(np.argmax(row), 1, len(row) - 2))
        x, y = temps[k - 1:k + 2], row[k - 1:k + 2]
        a, b, c = np.polyfit(x, y, 2)
        if a < 0:
            t = float(np.clip(-b / (2 * a), x[0], x[-1]))
            peak_T.append(t)
            peak_chi.append(float(np.polyval([a, b, c], t)))
        else:
            peak_T.append(float(temps[np.argmax(row)]))
            peak_chi.append(float(row.max()))
    return np.array(peak_T), np.array(peak_chi)


def _figures(out, sizes, temps, U, dU, chi, dchi, best, peak_T, peak_chi, slope):
    from .plot import curves_with_errors, figure, save
    labels = [f"L = {L}" for L in sizes]
    fig, ax = figure()
    curves_with_errors(ax, temps, U, dU, labels, xlabel="temperature T", ylabel="Binder cumulant U")
    ax.axvline(T_C_SQUARE, color="k", lw=0.8, ls="--")
    ax.axvspan(best.T - best.T_err, best.T + best.T_err, color="C3", alpha=0.25, lw=0)
    ax.set_title(f"2D Ising: crossing T* = {best.T:.4f} ± {best.T_err:.4f} (exact {T_C_SQUARE:.4f})",
                 fontsize="medium")
    p1 = save(fig, out / "binder.png")
    fig, (ax1, ax2) = figure(ncols=2)
    curves_with_errors(ax1, temps, chi, dchi, labels, xlabel="temperature T",
                       ylabel=r"susceptibility $\chi$ per site")
    ax1.set_yscale("log")
    ax1.axvline(T_C_SQUARE, color="k", lw=0.8, ls="--")
    ax2.loglog(sizes, peak_chi, "o", label="peak height")
    ls = np.array(sizes, dtype=float)
    ax2.loglog(ls, peak_chi[-1] * (ls / ls[-1]) ** 1.75, "k--", lw=0.8, label=r"$L^{7/4}$")
    from matplotlib.ticker import NullFormatter
    ax2.set_xticks(ls, [str(L) for L in sizes])
    ax2.xaxis.set_minor_formatter(NullFormatter())
    ax2.yaxis.set_minor_formatter(NullFormatter())
    ax2.set_xlabel("L")
    ax2.set_ylabel(r"$\chi_{\max}$")
    ax2.set_title(f"fit: gamma/nu = {slope:.3f}", fontsize="medium")
    ax2.legend(frameon=False)
    p2 = save(fig, out / "susceptibility.png")
    return [p1, p2]
