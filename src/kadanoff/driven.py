"""Dynamics that break detailed balance (``kd.driven``): a short name for
:mod:`kadanoff.models.driven`.

>>> import kadanoff as kd
>>> gas = kd.driven.DrivenLatticeGas(kd.lattice.square(8), density=0.5, E=2.0)
>>> res = kd.Simulation(gas, T=2.0, rng=1).run(sweeps=200, thermalize=100)
>>> bool(res.mean("current") > 0), bool(res.mean("entropy") > 0)
(True, True)
"""
from .models.driven import (
                            DrivenLatticeGas,
                            KineticIsing,
                            TwoTemperatureIsing,
                            plot_entropy_map,
)

__all__ = ["DrivenLatticeGas", "TwoTemperatureIsing", "KineticIsing", "plot_entropy_map"]
