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
    import importlib
    if name == "DipolarClock":
        return importlib.import_module(".models.dipolar", __name__).DipolarClock
    if name == "driven":
        # import_module, not ``from . import driven``: the latter asks this
        # very __getattr__ for the attribute first and recurses
        return importlib.import_module(".driven", __name__)
    raise AttributeError(f"module 'kadanoff' has no attribute {name!r}")
