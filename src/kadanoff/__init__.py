"""kadanoff: Monte Carlo for lattice statistical physics.

>>> import kadanoff as kd
>>> model = kd.Ising(kd.lattice.square(16))
>>> res = kd.Simulation(model, T=2.269, algorithm="wolff", rng=42).run(sweeps=1000, thermalize=100)
>>> U, dU = res.binder()
"""
__version__ = "0.1.0"

from . import analysis, hopfield, io, lattice, reaction, study, tempering, theory
from .lattice import Lattice
from .models import XY, Clock, Heisenberg, Ising, Potts
from .results import Estimate, Results, UnknownObservableError
from .simulation import Simulation
from .study import run_study
from .tempering import ParallelTempering

__all__ = ["__version__", "lattice", "Lattice", "Ising", "Potts", "Clock", "XY", "Heisenberg",
           "Simulation", "ParallelTempering", "run_study", "Results", "Estimate",
           "UnknownObservableError", "analysis", "theory", "io", "study", "tempering", "hopfield", "reaction"]


def __getattr__(name):
    # Imported on first use, which keeps ``import kadanoff`` fast and lets the
    # dipolar and driven families live in their own modules.
    if name == "DipolarClock":
        from .models.dipolar import DipolarClock
        return DipolarClock
    if name == "driven":
        from . import driven
        return driven
    raise AttributeError(f"module 'kadanoff' has no attribute {name!r}")
