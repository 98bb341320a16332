"""Hebbian learning from examples: supervised vs unsupervised storage
==================================================================

P = 3 archetypes (never shown to the network) generate M noisy examples each
of quality r (each entry agrees with its archetype with probability
(1 + r) / 2). Supervised storage keeps the mean of each class's examples,
unsupervised storage every example (kd.hopfield.Supervised /
Unsupervised, p = 2, N = 2000). The network is cued with a *fresh* example
and runs to its zero-temperature fixed point; the overlap of that state
with the archetype is plotted against M for three qualities r (filled:
supervised, open: unsupervised; mean of 8 pattern sets).
Lines: the low-load prediction, the majority vote of the M examples
(kd.theory.ags.supervised_overlap), the fixed point sign(mean example).
For poor examples (r = 0.15) a fresh cue overlaps the stored class only
weakly (about r times the class-mean overlap), so some runs end in another
class or a mixture and the average falls below the line: the basin of
attraction, not the stored state, limits recall there. Saves
hopfield_supervised.png. About ten seconds.

    python examples/hopfield_supervised.py
"""
import numpy as np

from kadanoff import hopfield as hp
from kadanoff.plot import figure, save
from kadanoff.theory import ags

N, P, samples = 2000, 3, 8
Ms = [1, 3, 5, 9, 15, 25, 41, 81]
qualities = [0.15, 0.3, 0.5]

results = {}
for r in qualities:
    for M in Ms:
        sup, uns = [], []
        for s in range(samples):
            ss = np.random.SeedSequence([5, int(100 * r), M, s]).spawn(3)
            xi = hp.random_patterns(P, N, rng=ss[0])
            ex = hp.noisy_examples(xi, M, r, rng=ss[1])
            cue = hp.noisy_examples(xi[:1], 1, r, rng=ss[2])[0, 0]   # a new example of class 0
            sup.append(hp.Supervised(ex, targets=xi).retrieve(cue).overlap[0])
            uns.append(hp.Unsupervised(ex, targets=xi).retrieve(cue).overlap[0])
        results[r, M] = (np.mean(sup), np.std(sup) / np.sqrt(samples),
                         np.mean(uns), np.std(uns) / np.sqrt(samples))
        print(f"r = {r:.2f} M = {M:3d}: supervised {results[r, M][0]:.3f}  "
              f"unsupervised {results[r, M][2]:.3f}  majority vote {ags.supervised_overlap(M, r):.3f}")

fig, ax = figure(size=(6.2, 4.4))
Mline = np.arange(1, 82, 2)
for k, r in enumerate(qualities):
    c = f"C{k}"
    ax.plot(Mline, [ags.supervised_overlap(int(M), r) for M in Mline], "-", color=c, lw=1.2)
    sup = np.array([results[r, M][:2] for M in Ms])
    uns = np.array([results[r, M][2:] for M in Ms])
    ax.errorbar(Ms, sup[:, 0], sup[:, 1], fmt="o", color=c, ms=5, label=f"supervised, r = {r}")
    ax.errorbar(Ms, uns[:, 0], uns[:, 1], fmt="o", color=c, ms=7, mfc="none",
                label=f"unsupervised, r = {r}")
ax.plot([], [], "k-", label="majority vote of the M examples")
ax.set(xscale="log", xlabel="examples per archetype M",
       ylabel="overlap of the retrieved state with the archetype",
       title=f"Learning archetypes from noisy examples (N = {N}, P = {P}, T = 0)",
       ylim=(0, 1.02))
ax.legend(fontsize=7, loc="upper left", ncol=1)
print("wrote", save(fig, "hopfield_supervised.png"))
