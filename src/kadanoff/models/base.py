"""What every model offers the Simulation.

A model knows its Hamiltonian, its configurations and which algorithms can
sample it; an *updater* (one per Simulation) owns the kernel buffers of one
algorithm at one temperature. The Simulation drives any model through this
small protocol, so there is one run loop for every model:

    model.algorithms                  names accepted by Simulation(algorithm=...)
    model.observables                 names of the recorded observables
    model.random_state(generator)     a fresh (hot) configuration
    model.check_state(state)          validated, contiguous copy or ValueError
    model.updater(algorithm, beta, **options) -> Updater
    model.observables_from_raw(raw)   per-measurement arrays keyed by observable
    model.params()                    plain-data parameters for Results metadata

    updater.raw_names                 what the kernel writes per measurement
    updater.raw_shapes                {name: shape of one measurement} for the
                                      non-scalar ones (default: scalars)
    updater.run(state, rng_state, n_measure, every, raw)   measured sweeps
    updater.thermalize(state, rng_state, n_sweeps)         unmeasured sweeps
    updater.freeze()                  called once before the first measurement
    updater.info()                    plain-data facts for metadata
"""
from __future__ import annotations

import numpy as np

__all__ = ["Model", "Updater", "random_spins", "check_spins", "check_discrete_states"]


def random_spins(generator: np.random.Generator, n: int) -> np.ndarray:
    """n independent +-1 values (int8): the infinite-temperature state of
    Ising spins or binary neurons."""
    return (2 * generator.integers(0, 2, size=n, dtype=np.int8) - 1).astype(np.int8)


def check_spins(state, n: int) -> np.ndarray:
    """A validated int8 copy of a +-1 configuration of shape (n,), or ValueError."""
    arr = np.asarray(state)
    if arr.shape != (n,):
        raise ValueError(f"state must have shape ({n},), got {arr.shape}")
    if not np.all((arr == 1) | (arr == -1)):
        raise ValueError("state must contain only +1 and -1")
    return np.ascontiguousarray(arr, dtype=np.int8).copy()


def check_discrete_states(state, n: int, q: int) -> np.ndarray:
    """A validated int8 copy of a configuration of q-state variables
    (values 0 .. q-1, shape (n,)), or ValueError."""
    arr = np.asarray(state)
    if arr.shape != (n,):
        raise ValueError(f"state must have shape ({n},), got {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.integer) or
            (np.issubdtype(arr.dtype, np.floating) and np.all(arr == np.round(arr)))):
        raise ValueError(f"state must hold integer states 0 .. {q - 1}")
    if arr.size and (arr.min() < 0 or arr.max() >= q):
        raise ValueError(f"state values must lie in 0 .. {q - 1} (q = {q}), got values in "
                         f"[{arr.min()}, {arr.max()}]")
    return np.ascontiguousarray(arr, dtype=np.int8).copy()


class Updater:
    """Base class: thermalize = run without measuring; nothing to freeze."""

    raw_names: tuple[str, ...] = ()
    raw_shapes: dict = {}

    def raw_buffers(self, n_measure) -> dict:
        """Empty per-measurement buffers, one per raw name."""
        return {name: np.empty((n_measure,) + tuple(self.raw_shapes.get(name, ())))
                for name in self.raw_names}

    def run(self, state, rng_state, n_measure, every, raw):  # pragma: no cover - abstract
        raise NotImplementedError

    def thermalize(self, state, rng_state, n_sweeps):
        if n_sweeps > 0:
            self.run(state, rng_state, 0, n_sweeps, self.raw_buffers(0))

    def freeze(self, state, rng_state):
        """Fix any adaptive parameter before measuring (detailed balance)."""

    def info(self) -> dict:
        return {}


class Model:
    """Base class for models; see the module docstring for the protocol."""

    algorithms: tuple[str, ...] = ()
    observables: tuple[str, ...] = ()

    def check_algorithm(self, algorithm) -> str:
        if not isinstance(algorithm, str):
            raise TypeError(f"algorithm must be a string, one of {list(self.algorithms)}, "
                            f"got {type(algorithm).__name__}")
        name = algorithm.strip().lower().replace("_", "-")
        aliases = {"heat-bath": "heatbath", "glauber": "heatbath", "sw": "swendsen-wang",
                   "swendsenwang": "swendsen-wang"}
        name = aliases.get(name, name)
        if name not in self.algorithms:
            raise ValueError(f"algorithm {algorithm!r} is not available for "
                             f"{type(self).__name__}; choose one of {list(self.algorithms)}")
        return name

    def params(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError
