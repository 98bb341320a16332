"""Model families; each module documents its Hamiltonian and sign convention."""
from .spin import XY, Clock, Heisenberg, Ising, Potts

__all__ = ["Ising", "Potts", "Clock", "XY", "Heisenberg"]
