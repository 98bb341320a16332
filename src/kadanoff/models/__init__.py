"""Model families; each module documents its Hamiltonian and sign convention."""
from .spin import Ising

__all__ = ["Ising"]
