"""Potts model: a continuous transition (q = 3) against a first-order one (q = 8)
==============================================================================

Energy histograms at the transition. For q = 3 (continuous) there is one peak
that narrows as L grows. For q = 8 (first order) the ordered and the disordered
phase coexist at the transition: the histogram has two peaks, and the valley
between them deepens with L as the free-energy cost of the two interfaces,
2 L sigma, grows. Each q = 8 histogram is reweighted to the temperature where
its two peaks are equally high (the usual finite-size transition point
T_L -> T_c = 1/ln(1 + sqrt q)); the printed ln(P_max/P_min)/(2L) estimates the
order-disorder interface tension. Saves potts_first_vs_second_order.png.
About 20 seconds.

    python examples/potts_first_vs_second_order.py
"""
import numpy as np

import kadanoff as kd
from kadanoff.plot import figure, save


def run(q, L, sweeps, seed):
    """Per-site energies from Swendsen-Wang at T_c(q) = 1/ln(1 + sqrt q)."""
    Tc = 1 / np.log(1 + np.sqrt(q))
    sim = kd.Simulation(kd.Potts(kd.lattice.square(L), q=q), T=Tc, algorithm="swendsen-wang",
                        rng=seed)
    return Tc, sim.run(sweeps=sweeps, thermalize=2_000)["e"]


def histogram(e, N, beta0, beta, edges):
    """Energy histogram reweighted from beta0 to beta: weights exp(-(beta - beta0) N e)."""
    logw = -(beta - beta0) * N * e
    w = np.exp(logw - logw.max())
    h, _ = np.histogram(e, bins=edges, weights=w)
    return h / (h.sum() * np.diff(edges))


def peaks(h):
    """(lower-energy peak, higher-energy peak, smoothed histogram): the two highest
    local maxima of the smoothed histogram, or (top, None, ...) if there is one."""
    smooth = np.convolve(h, np.ones(5) / 5, mode="same")
    inner = smooth[1:-1]
    maxima = np.flatnonzero((inner > smooth[:-2]) & (inner >= smooth[2:])) + 1
    maxima = maxima[smooth[maxima] > 0.05 * smooth.max()]   # ignore noise in the tails
    if maxima.size < 2:
        return int(np.argmax(smooth)), None, smooth
    a, b = sorted(maxima[np.argsort(smooth[maxima])[-2:]])
    if smooth[a:b + 1].min() > 0.9 * min(smooth[a], smooth[b]):
        return int(np.argmax(smooth)), None, smooth        # a shoulder, not two phases
    return int(a), int(b), smooth


def equal_height_beta(e, N, beta0, edges):
    """beta at which the two peaks of the reweighted histogram are equally high (bisection)."""
    def imbalance(beta):
        top, other, smooth = peaks(histogram(e, N, beta0, beta, edges))
        if other is None:
            return None
        return np.log(smooth[top]) - np.log(smooth[other])   # ordered minus disordered

    # scan a narrow window (far from beta0 one peak disappears), then refine the sign change
    grid = beta0 * (1 + np.linspace(-0.01, 0.01, 41))
    values = [imbalance(b) for b in grid]
    for (a, fa), (b, fb) in zip(zip(grid, values), zip(grid[1:], values[1:])):
        if fa is not None and fb is not None and fa <= 0 <= fb:
            for _ in range(30):
                mid = 0.5 * (a + b)
                fm = imbalance(mid)
                if fm is None:
                    break
                a, b = (mid, b) if fm < 0 else (a, mid)
            return 0.5 * (a + b)
    return beta0


seeds = iter(np.random.SeedSequence(8).spawn(6))
fig, axes = figure(ncols=2, size=(5.0, 3.8))

for L in (16, 32, 64):
    Tc, e = run(3, L, 20_000, next(seeds))
    edges = np.linspace(e.min(), e.max(), 60)
    h = histogram(e, L * L, 1 / Tc, 1 / Tc, edges)
    axes[0].plot(0.5 * (edges[1:] + edges[:-1]), h, label=f"L = {L}")
    print(f"q = 3, L = {L:2d}: one peak at e = {e.mean():.4f}, width {e.std():.4f}")
axes[0].set(xlabel="energy per site e", ylabel="P(e)",
            title=r"q = 3 at $T_c$: continuous, one peak")
axes[0].legend(frameon=False, fontsize="small")

for L in (16, 24, 32):
    Tc, e = run(8, L, 200_000, next(seeds))
    N = L * L
    edges = np.linspace(e.min(), e.max(), 70)
    beta = equal_height_beta(e, N, 1 / Tc, edges)
    h = histogram(e, N, 1 / Tc, beta, edges)
    ordered, disordered, smooth = peaks(h)
    if disordered is not None:
        valley = smooth[ordered:disordered + 1].min()
        sigma = np.log(smooth[ordered] / valley) / (2 * L)
        note = f"two peaks, ln(P_max/P_min)/(2L) = {sigma:.4f}"
    else:
        note = "one peak (L too small to separate the phases)"
    axes[1].plot(0.5 * (edges[1:] + edges[:-1]), h, label=f"L = {L}, T = {1 / beta:.4f}")
    print(f"q = 8, L = {L:2d}: T_L = {1 / beta:.4f} (T_c = {Tc:.4f}): {note}")
axes[1].set(xlabel="energy per site e", ylabel="P(e)",
            title="q = 8 at equal peak heights: first order")
axes[1].legend(frameon=False, fontsize="small", loc="lower center")
save(fig, "potts_first_vs_second_order.png")
print("saved potts_first_vs_second_order.png")
