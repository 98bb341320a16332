"""Dense associative memories store far more patterns than neurons
===============================================================

N = 100 binary neurons store P random patterns; each of 24 test patterns is
corrupted (10% of its entries flipped) and the network runs its
zero-temperature dynamics. The fraction of cues that end exactly on their
pattern is plotted against P / N for the pairwise Hopfield network (p = 2),
dense p-body networks (p = 3, 4, 5) and the exponential network. Dashed
lines: for p > 2 the capacity estimate P_c = N^(p-1) / (2 (2p-3)!! ln N)
of Krotov & Hopfield (2016) (all patterns stable), for p = 2 the AGS
alpha_c = 0.138 (exact recall of a 10%-corrupted cue needs a lower load at
this N). The exponential network does not fail in this range (its capacity
grows like exp(c N)). Saves hopfield_dense_capacity.png. About half a minute.

    python examples/hopfield_dense_capacity.py
"""
import math

import numpy as np

from kadanoff import hopfield as hp
from kadanoff.plot import figure, save
from kadanoff.theory import ags

N = 100
tests = 24
ratios = np.unique(np.round(np.logspace(-1.3, 3.0, 24), 2))   # P / N from 0.05 to 1000


def success(make, P, seed):
    """Fraction of `tests` cues (from as many pattern sets as needed) recalled exactly."""
    ok = n = 0
    for rep in range(math.ceil(tests / min(P, tests))):
        xi = hp.random_patterns(P, N, rng=np.random.SeedSequence([11, seed, rep]))
        model = make(xi)
        for k in range(min(P, tests)):
            cue = hp.corrupt(xi[k], 0.10, rng=np.random.SeedSequence([seed, rep, k]))
            ok += model.retrieve(cue).overlap[k] == 1.0
            n += 1
    return ok / n


def double_factorial(n):
    return math.prod(range(n, 0, -2))


kinds = [("p = 2 (Hopfield)", lambda x: hp.Hopfield(x), 2),
         ("p = 3", lambda x: hp.DenseHopfield(x, 3), 3),
         ("p = 4", lambda x: hp.DenseHopfield(x, 4), 4),
         ("p = 5", lambda x: hp.DenseHopfield(x, 5), 5),
         ("exponential", lambda x: hp.ExponentialHopfield(x), None)]
curves = {}
Ps = np.unique(np.maximum(1, np.round(ratios * N).astype(int)))
for r_idx, P in enumerate(Ps):
    for name, make, p in kinds:
        curves.setdefault(name, []).append(success(make, int(P), r_idx))
    print(f"P/N = {P / N:8.2f}: " + "  ".join(f"{n} {curves[n][-1]:.2f}" for n, *_ in kinds))

fig, ax = figure(size=(6.4, 4.4))
colors = ["C0", "C1", "C2", "C3", "C4"]
for (name, _, p), c in zip(kinds, colors):
    ax.semilogx(Ps / N, curves[name], "o-", color=c, ms=4, label=name)
    if p == 2:
        ax.axvline(ags.alpha_c(), color=c, ls="--", lw=0.8)
    elif p is not None:
        Pc = N ** (p - 1) / (2 * double_factorial(2 * p - 3) * math.log(N))
        ax.axvline(Pc / N, color=c, ls="--", lw=0.8)
ax.set(xlabel="patterns per neuron P / N", ylabel="fraction of cues recalled exactly",
       title=f"Dense associative memories, N = {N}, T = 0, cues with 10% errors",
       ylim=(-0.03, 1.05))
ax.plot([], [], "k--", lw=0.8, label="capacity estimates: AGS (p = 2),\n"
        r"Krotov-Hopfield $N^{p-1}/(2(2p-3)!!\,\ln N)$")
ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(0.0, 0.42))
print("wrote", save(fig, "hopfield_dense_capacity.png"))
