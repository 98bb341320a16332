"""Timing shared by the benchmark scripts (imported from the scripts' folder)."""
from __future__ import annotations

import time

import kadanoff as kd


def ns_per_update(model, T, algorithm, seconds, **options):
    """ns per site update of a thermalised chain: per site per sweep, or per
    flipped site for Wolff. Runs are measured once and grown until one takes
    about ``seconds / 4`` (the Wolff cluster count is frozen beforehand)."""
    sim = kd.Simulation(model, T=T, algorithm=algorithm, rng=1, **options)
    sim.run(sweeps=10, thermalize=100)          # thermalise, freeze adaptive parameters
    sweeps = 4
    while True:
        flipped = getattr(sim._updater, "flipped", 0)
        t0 = time.perf_counter()
        sim.run(sweeps=sweeps, measure_every=sweeps)
        dt = time.perf_counter() - t0
        if dt > seconds / 4 or sweeps > 10**6:
            break
        sweeps *= 4
    units = sweeps * model.n_sites
    if algorithm == "wolff":
        # the spins this run flipped (a few large clusters at T_c: the
        # chain's mean cluster size would misstate them by tens of percent)
        units = sim._updater.flipped - flipped
    return dt / units * 1e9
