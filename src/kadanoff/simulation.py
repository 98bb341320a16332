"""Simulation: a model at one temperature, one algorithm and one random stream.

What happens in ``run(sweeps, thermalize, measure_every)``, in order:

1. ``thermalize`` unmeasured sweeps (adaptive parameters, such as the Wolff
   clusters per sweep, may still adapt here);
2. adaptive parameters are frozen, so the measured chain satisfies detailed
   balance with fixed transition probabilities;
3. ``sweeps`` sweeps, with one measurement of every observable after each
   block of ``measure_every`` sweeps (``sweeps // measure_every`` rows; a
   remainder is run unmeasured at the end).

The configuration and the kernel's random state persist, so a second
``run()`` continues the same Markov chain.
"""
from __future__ import annotations

import contextlib
import math
import numbers
import sys
import time

import numpy as np

from . import _random
from .results import Results, versions

__all__ = ["Simulation", "check_temperature"]


def check_temperature(T=None, beta=None) -> float:
    """Return beta = 1/T from exactly one of ``T`` or ``beta`` (k_B = 1)."""
    if T is not None and beta is not None:
        raise ValueError("give either T or beta, not both")
    if T is None and beta is None:
        raise ValueError("give the temperature T (or beta = 1/T)")
    name, value = ("T", T) if T is not None else ("beta", beta)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be positive and finite, got {value}")
    return 1.0 / value if name == "T" else value


def _check_count(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


class Simulation:
    """Markov-chain Monte Carlo of ``model`` at temperature ``T``.

    Parameters
    ----------
    model : a kadanoff model (``kd.Ising``, ...)
    T, beta : float
        Temperature (k_B = 1) or inverse temperature; give exactly one.
    algorithm : str
        One of ``model.algorithms`` (default: the first, a local update).
    rng : None, int, numpy.random.SeedSequence or numpy.random.Generator
        Source of randomness. The same seed gives bit-identical results.
    state : array_like, optional
        Initial configuration (default: random, infinite temperature).
    **options
        Algorithm options, e.g. ``clusters_per_sweep`` for ``wolff``.

    Examples
    --------
    >>> import kadanoff as kd
    >>> sim = kd.Simulation(kd.Ising(kd.lattice.square(8)), T=2.5, algorithm="wolff", rng=1)
    >>> res = sim.run(sweeps=2000, thermalize=200)
    >>> bool(0.0 < res.mean("abs_m") < 1.0)
    True
    """

    def __init__(self, model, T=None, *, beta=None, algorithm=None, rng=None, state=None,
                 **options):
        if not hasattr(model, "updater") or not hasattr(model, "algorithms"):
            raise TypeError(f"model must be a kadanoff model (e.g. kd.Ising), "
                            f"got {type(model).__name__}")
        self.model = model
        self.beta = check_temperature(T, beta)
        self.algorithm = model.check_algorithm(model.algorithms[0] if algorithm is None
                                               else algorithm)
        self._updater = model.updater(self.algorithm, self.beta, **options)
        self._generator, self.seed = _random.make_generator(rng)
        self._state = (model.random_state(self._generator) if state is None
                       else model.check_state(state))
        self._rng_state = _random.kernel_state(self._generator)
        self.sweeps_done = 0
        self._frozen = False

    @property
    def T(self) -> float:
        return 1.0 / self.beta

    @property
    def state(self) -> np.ndarray:
        """The current configuration (a live view: do not write into it while running)."""
        return self._state

    @state.setter
    def state(self, value):
        self._state = self.model.check_state(value)

    @property
    def rng_state(self) -> list[int]:
        """The kernel generator's state (xoshiro256**, 4 x uint64)."""
        return [int(x) for x in self._rng_state]

    def run(self, sweeps, thermalize=0, measure_every=1, progress=False, callback=None) -> Results:
        """Thermalise, then run ``sweeps`` measured sweeps; return their Results.

        Parameters
        ----------
        sweeps : int >= 0
            Measured sweeps (one measurement every ``measure_every``).
        thermalize : int >= 0
            Unmeasured sweeps first.
        measure_every : int >= 1
        progress : bool
            Show a progress bar on stderr (tqdm).
        callback : callable, optional
            ``callback(sim, sweeps_done_in_this_run)`` after each chunk of
            work (about every 0.2 s); returning True stops the run early
            (the Results then hold the measurements made so far).
        """
        sweeps = _check_count("sweeps", sweeps, 0)
        thermalize = _check_count("thermalize", thermalize, 0)
        measure_every = _check_count("measure_every", measure_every, 1)
        if callback is not None and not callable(callback):
            raise TypeError("callback must be callable or None")
        n_measure = sweeps // measure_every
        upd = self._updater
        raw = upd.raw_buffers(n_measure)
        bar = _progress_bar(progress, thermalize + sweeps, self)
        started = time.perf_counter()
        done = 0
        stopped = False
        chunk = _Chunker()

        # 1. thermalisation
        while done < thermalize and not stopped:
            n = min(chunk.size(1), thermalize - done)
            with chunk.timing(n):
                upd.thermalize(self._state, self._rng_state, n)
            done += n
            stopped = self._tick(bar, n, callback, done)
        # 2. freeze adaptive parameters before the first measurement (a run
        #    with nothing to measure is thermalisation and keeps adapting)
        if not self._frozen and not stopped and n_measure > 0:
            upd.freeze(self._state, self._rng_state)
            self._frozen = True
        # 3. measurement
        measured = 0
        while measured < n_measure and not stopped:
            n = min(chunk.size(measure_every), n_measure - measured)
            block = {name: arr[measured:measured + n] for name, arr in raw.items()}
            with chunk.timing(n * measure_every):
                upd.run(self._state, self._rng_state, n, measure_every, block)
            measured += n
            done += n * measure_every
            stopped = self._tick(bar, n * measure_every, callback, done)
        rest = sweeps - n_measure * measure_every
        if rest and not stopped:
            upd.thermalize(self._state, self._rng_state, rest)
            done += rest
            self._tick(bar, rest, None, done)
        if bar is not None:
            bar.close()
        self.sweeps_done += done
        raw = {name: arr[:measured] for name, arr in raw.items()}
        series = self.model.observables_from_raw(raw)
        meta = {
            **self.model.params(),
            "T": self.T, "beta": self.beta, "n_sites": self.model.n_sites,
            "algorithm": self.algorithm, "algorithm_info": upd.info(),
            "sweeps": measured * measure_every, "thermalize": min(done, thermalize),
            "measure_every": measure_every, "stopped_early": stopped,
            "sweeps_total": self.sweeps_done, "seed": self.seed,
            "rng_state": self.rng_state, "seconds": time.perf_counter() - started,
            "versions": versions(),
        }
        return Results(series, meta)

    def thermalize(self, sweeps) -> None:
        """Run ``sweeps`` unmeasured sweeps without freezing adaptive parameters.

        ``sim.thermalize(a); sim.thermalize(b)`` moves the chain exactly like
        the thermalisation phase of ``run(..., thermalize=a + b)`` as long as
        the algorithm's adaptation does not depend on how the sweeps are
        batched (true for the Wolff schedule, which adapts sweep by sweep).
        Adaptive parameters freeze at the next ``run()``. Used by
        checkpointed runs (``kd.io``) and parallel tempering.
        """
        sweeps = _check_count("sweeps", sweeps, 0)
        if sweeps:
            self._updater.thermalize(self._state, self._rng_state, sweeps)
            self.sweeps_done += sweeps

    def checkpoint(self, path, **extra) -> None:
        """Write this chain (state, kernel RNG state, updater parameters,
        sweeps done) atomically to ``path`` (HDF5); see ``kadanoff.io``."""
        from . import io
        io.save_checkpoint(self, path, **extra)

    def restore(self, path) -> dict:
        """Load a checkpoint written by :meth:`checkpoint` into this Simulation
        (same model, temperature and algorithm); returns the extra data."""
        from . import io
        return io.restore_checkpoint(self, path)

    def _tick(self, bar, n, callback, done) -> bool:
        if bar is not None:
            bar.update(n)
        return bool(callback(self, done)) if callback is not None else False

    def __repr__(self):
        return (f"<Simulation {type(self.model).__name__} T={self.T:.6g} "
                f"algorithm={self.algorithm!r} sweeps_done={self.sweeps_done}>")


class _Chunker:
    """Chooses how many sweeps go to the kernel at once: ~0.2 s per call, so
    progress and callbacks stay responsive without Python overhead per sweep.
    Chunking never changes the random stream or the results."""

    target = 0.2

    def __init__(self):
        self.seconds_per_sweep = None

    def size(self, unit):
        if self.seconds_per_sweep is None:
            return 1
        return max(1, int(self.target / max(self.seconds_per_sweep * unit, 1e-9)))

    @contextlib.contextmanager
    def timing(self, sweeps):
        """Time one kernel call of ``sweeps`` sweeps to size the next ones."""
        t0 = time.perf_counter()
        yield
        self.seconds_per_sweep = max((time.perf_counter() - t0) / max(sweeps, 1), 1e-9)


def _progress_bar(progress, total, sim):
    if not progress:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=f"{type(sim.model).__name__} T={sim.T:.4g}",
                unit="sweep", file=sys.stderr, leave=False)
