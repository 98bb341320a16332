"""Closed-form and exact references (no Monte Carlo): exact enumeration of
small Ising systems, the finite periodic chain, Kaufman's finite torus and
Onsager's infinite square lattice."""
from . import ising
from .ising import (T_C_SQUARE, enumerate_ising, ising2d_torus, ising_chain, onsager_energy,
                    onsager_magnetization)

__all__ = ["ising", "T_C_SQUARE", "enumerate_ising", "ising_chain", "ising2d_torus",
           "onsager_energy", "onsager_magnetization"]
