"""Closed-form and exact references (no Monte Carlo): exact enumeration of
small Ising, Potts and clock systems, the finite periodic chain, Kaufman's
finite torus and Onsager's infinite square lattice (``ising``,
``discrete``); the replica-symmetric Hopfield theory (``ags``); master and
rate equations of reaction-diffusion systems (``reaction``)."""
from . import discrete, ising, reaction
from .discrete import enumerate_clock, enumerate_potts
from .ising import (T_C_SQUARE, enumerate_ising, ising2d_torus, ising_chain, onsager_energy,
                    onsager_magnetization)

__all__ = ["ising", "discrete", "ags", "reaction", "enumerate_potts", "enumerate_clock",
           "T_C_SQUARE", "enumerate_ising", "ising_chain", "ising2d_torus", "onsager_energy",
           "onsager_magnetization"]


def __getattr__(name):
    # kd.theory.ags (Amit-Gutfreund-Sompolinsky replica theory) needs
    # scipy.stats and scipy.optimize: imported on first use, so that
    # `import kadanoff` stays fast
    if name == "ags":
        import importlib
        return importlib.import_module(f"{__name__}.ags")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
