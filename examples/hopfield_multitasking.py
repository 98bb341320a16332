"""Multitasking: diluted patterns are retrieved several at once
============================================================

P = 4 patterns with a fraction d of blank (0) entries are stored in a
pairwise network of N = 20,000 neurons, which is annealed from T = 1 to
T = 0.05 from a random state (Glauber). Because a neuron left blank by one
pattern is free to serve another, several overlaps stay non-zero at once.
Points: the four overlaps ``|m_k|`` sorted by size, against the dilution d.
Lines: the low-load signal-to-noise self-consistency at the same
temperature (kd.theory.ags.multitasking_amplitudes); dotted: the
hierarchical cascade m_k = (1 - d) d^(k-1), which holds while every
pattern's signal beats the sum of the weaker ones (hierarchical regime) and
gives way to flatter, parallel amplitudes at strong dilution.
Saves hopfield_multitasking.png. About a minute.

    python examples/hopfield_multitasking.py
"""
import numpy as np

import kadanoff as kd
from kadanoff import hopfield as hp
from kadanoff.plot import figure, save
from kadanoff.theory import ags

N, P, T = 20_000, 4, 0.05
dilutions = np.round(np.arange(0.05, 0.951, 0.05), 2)
ladder = [1.0, 0.8, 0.6, 0.5, 0.4, 0.3, 0.2, 0.15, 0.1, 0.07, 0.05]
samples = 2
seeds = np.random.SeedSequence(3).spawn(len(dilutions) * samples)

amps = np.empty((len(dilutions), P))
for a, d in enumerate(dilutions):
    runs = []
    for s in range(samples):
        ss = seeds[a * samples + s]
        xi = hp.random_patterns(P, N, dilution=d, rng=ss)
        model = hp.Multitasking(xi)
        sim = None
        for Tk in ladder:
            sim = kd.Simulation(model, T=Tk, rng=ss, state=None if sim is None else sim.state)
            sim.run(sweeps=0, thermalize=20)
        res = sim.run(sweeps=100)
        runs.append(np.sort(np.abs(res.mean("overlap")))[::-1])
    amps[a] = np.mean(runs, axis=0)
    print(f"d = {d:.2f}: |m| = {np.round(amps[a], 3)}")

dd = np.linspace(0.01, 0.95, 60)
theory = np.array([ags.multitasking_amplitudes(d, P, T=T) for d in dd])
cascade = np.array([ags.hierarchical_amplitudes(d, P) for d in dd])

fig, ax = figure(size=(6.4, 4.4))
for k in range(P):
    c = f"C{k}"
    ax.plot(dilutions, amps[:, k], "o", color=c, ms=4, label=f"$|m_{k + 1}|$ Monte Carlo")
    ax.plot(dd, theory[:, k], "-", color=c, lw=1.2)
    ax.plot(dd, cascade[:, k], ":", color=c, lw=1.0)
ax.plot([], [], "k-", lw=1.2, label="signal-to-noise theory, T = 0.05")
ax.plot([], [], "k:", lw=1.0, label=r"cascade $(1-d)\,d^{k-1}$")
ax.axvline(0.5, color="0.6", lw=0.6)
ax.text(0.51, 0.9, "each signal beats\nthe weaker ones\nfor d < 1/2 (P large)", fontsize=7)
ax.set(xlabel="dilution d (fraction of blank pattern entries)", ylabel=r"overlap $|m_k|$",
       title=f"Multitasking network: N = {N}, P = {P}, T = {T}", ylim=(0, 1.0))
ax.legend(fontsize=7, loc="upper right", bbox_to_anchor=(1.0, 0.8))
print("wrote", save(fig, "hopfield_multitasking.png"))
