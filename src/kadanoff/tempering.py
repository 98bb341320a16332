"""Parallel tempering (replica exchange) over a temperature ladder, for any model.

K replicas of ``model`` sit at temperatures T_0 < T_1 < ... < T_{K-1}. One
*exchange step* is, in this order:

1. ``sweeps_per_exchange`` sweeps of ``algorithm`` at every temperature (one
   measurement of every observable at the end of them, when measuring);
2. swap attempts between neighbouring temperatures, the even pairs
   (0,1), (2,3), ... on even steps and the odd pairs (1,2), (3,4), ... on odd
   steps, each accepted with probability

       P(k <-> k+1) = min(1, exp[(beta_k - beta_{k+1}) (E_k - E_{k+1})]),

   E the total energy of the configuration at temperature k. This keeps the
   product of the Boltzmann distributions invariant (detailed balance for
   every pair).

E is the energy the kernel measured after the last of the
``sweeps_per_exchange`` sweeps (``observables_from_raw(...)["e"] * n_sites``;
every sweep call between exchanges records one measurement, also while
thermalising), so an exchange costs no extra pass over the lattice in Python
and the sweeps in threads are not serialised by it. ``model.energy`` is used
instead where there is no such measurement: models without an ``e``
observable, adaptive thermalisation sweeps (e.g. Wolff estimating its
cluster count) and the first exchange with measured values, where both are
computed once and the measured ones are used only if they agree with
``model.energy`` to 1e-9 (relative to |E| + N). For the models of this
library they agree to the last bits or exactly, so the swap decisions are
those of ``model.energy``.

A swap exchanges the *configurations* between temperature slots; each slot
keeps its own updater and kernel random stream, so the chain at each
temperature is an ordinary Markov chain that is sometimes handed a
configuration from a neighbour. (Internally configurations never move: a
swap exchanges the replica labels of two slots, and each slot sweeps the
configuration of the replica it currently holds.) Replica identities are tracked for the
diagnostics: acceptance per pair, the replica at each temperature (series
``replica``), round-trip times (T_0 -> T_{K-1} -> T_0) and the replica flow
f(T_k) = n_up / (n_up + n_down), the fraction of replicas at T_k that last
visited T_0 rather than T_{K-1} (Katzgraber, Trebst, Huse & Troyer,
J. Stat. Mech. P03018 (2006)). ``optimize_ladder`` applies their feedback
step: the new temperatures put equal weight of eta(T) ~ sqrt(|df/dT| / dT)
in every interval, which concentrates temperatures where the flow is
blocked.

``run`` returns one Results per temperature (ascending T), each with ``e``
and the model's observables plus ``T``, ``beta`` and ``n_sites`` in meta, so
the list goes straight into multi-histogram reweighting
(``kd.analysis.reweighting``).

MPI: with ``comm=`` an mpi4py communicator of P <= K ranks, replica j (its
configuration) lives on one rank for the whole run, contiguous blocks of the
initial ladder per rank (``np.array_split``). Every rank builds the same
generator (the seed must agree; ``rng=None`` takes rank 0's entropy), so all
ranks create the same initial configurations and kernel streams and draw the
same swap uniforms: at an exchange step the ranks allgather the energies of
the replicas they hold (K floats in all) and then make identical swap
decisions. A temperature slot's mutable state -- its xoshiro kernel state and
the plain-data attributes of its updater (adaptive step or cluster count,
counters) -- is sent to the rank that now holds the slot's replica, only when
that rank changed; configurations are never sent. Hence the run is
bit-identical to the single-process run with the same seed, for any number
of ranks. ``run`` returns the full list of Results on *every* rank
(measurements allgathered at the end).
"""
from __future__ import annotations

import concurrent.futures as cf
import contextlib
import math
import numbers

import numpy as np

from . import _random
from .models.base import Updater
from .results import Results, versions
from .simulation import _check_count, check_temperature

__all__ = ["ParallelTempering", "geometric_ladder", "ladder_feedback"]


def geometric_ladder(T_min, T_max, n) -> np.ndarray:
    """``n`` temperatures from ``T_min`` to ``T_max`` with a constant ratio."""
    n = _check_count("n", n, 2)
    if not (isinstance(T_min, numbers.Real) and isinstance(T_max, numbers.Real)
            and 0 < T_min < T_max and math.isfinite(T_max)):
        raise ValueError(f"need 0 < T_min < T_max, got T_min={T_min!r}, T_max={T_max!r}")
    return np.geomspace(float(T_min), float(T_max), n)


def ladder_feedback(T, f) -> np.ndarray:
    """One Katzgraber et al. feedback step: new ladder from the flow ``f(T)``.

    With ``f`` measured at the temperatures ``T`` (ascending, f(T_0) = 1,
    f(T_{K-1}) = 0), the density eta = sqrt(|df/dT| / dT) is taken constant in
    each interval (df/dT and dT of that interval); the new temperatures are
    where the normalised integral of eta reaches 0, 1/(K-1), ..., 1. End
    points stay fixed. Intervals
    where f does not fall get a tiny weight floor so the map stays invertible.
    """
    T = np.asarray(T, dtype=float)
    f = np.asarray(f, dtype=float)
    if T.ndim != 1 or len(T) < 2 or T.shape != f.shape:
        raise ValueError("T and f must be 1-D arrays of the same length >= 2")
    if not np.all(np.diff(T) > 0):
        raise ValueError("T must be strictly increasing")
    if not np.all(np.isfinite(f)):
        raise ValueError("f must be finite (every temperature needs labelled visits)")
    dT = np.diff(T)
    slope = np.maximum(-np.diff(f), 0.0) / dT
    eta = np.sqrt(slope / dT)
    floor = 1e-3 * (eta.max() if eta.max() > 0 else 1.0)
    eta = np.maximum(eta, floor)
    cum = np.concatenate([[0.0], np.cumsum(eta * dT)])
    cum /= cum[-1]
    targets = np.linspace(0.0, 1.0, len(T))
    new = np.interp(targets, cum, T)
    new[0], new[-1] = T[0], T[-1]
    return new


class ParallelTempering:
    """Replica exchange of ``model`` over a temperature ladder.

    Parameters
    ----------
    model : a kadanoff model
    T, beta : sequence of float
        The ladder (give one of them; at least two distinct values). Sorted
        to ascending T.
    algorithm : str
        Update used at every temperature (default: the model's first).
    rng : None, int, SeedSequence or Generator
        Same seed, same results (bit-identical).
    sweeps_per_exchange : int
        Sweeps at every temperature between swap attempts.
    comm : None or mpi4py communicator
        Spread the replicas over the ranks of ``comm`` (see the module
        docstring); every rank must make the same calls. Results are
        bit-identical to ``comm=None`` and returned on every rank.
    threads : int
        Sweep the (local) replicas in this many threads between exchanges
        (default 1: one after another). The kernels release the GIL and each
        replica owns its configuration, random stream and buffers, so the
        results are bit-identical for any number of threads. Worth it when a
        replica's ``sweeps_per_exchange`` sweeps take well over ~0.1 ms
        (large lattices); a thread pool lives for one ``run``/``thermalize``.
    **options
        Algorithm options, as for ``Simulation``.

    Examples
    --------
    >>> import kadanoff as kd
    >>> from kadanoff.tempering import ParallelTempering
    >>> pt = ParallelTempering(kd.Ising(kd.lattice.square(8)), T=[2.0, 2.3, 2.6], rng=1)
    >>> runs = pt.run(500, thermalize=100)
    >>> [round(r.T, 1) for r in runs], len(pt.acceptance)
    ([2.0, 2.3, 2.6], 2)
    """

    def __init__(self, model, T=None, *, beta=None, algorithm=None, rng=None,
                 sweeps_per_exchange=1, comm=None, threads=1, **options):
        if not hasattr(model, "updater") or not hasattr(model, "energy"):
            raise TypeError("model must be a kadanoff model with an energy() method, got "
                            f"{type(model).__name__}")
        self.model = model
        self.algorithm = model.check_algorithm(model.algorithms[0] if algorithm is None
                                               else algorithm)
        self.options = dict(options)
        self.sweeps_per_exchange = _check_count("sweeps_per_exchange", sweeps_per_exchange, 1)
        self.threads = _check_count("threads", threads, 1)
        self._pool = None
        betas = self._ladder(T, beta)
        K = len(betas)
        self.comm, self.rank, self.size = _check_comm(comm, K)
        if self.comm is not None and rng is None:
            rng = self.comm.bcast(np.random.SeedSequence() if self.rank == 0 else None, root=0)
        self._generator, self.seed = _random.make_generator(rng)
        if self.comm is not None:
            state = self.comm.allgather(_random._plain(self._generator.bit_generator.state))
            if any(st != state[0] for st in state):
                raise ValueError("rng must give the same random stream on every rank (same "
                                 "seed, or rng=None); got different generator states")
        # configurations by replica id; ranks keep only theirs (None elsewhere)
        self._replica_rank = np.concatenate([np.full(len(b), r) for r, b in
                                             enumerate(np.array_split(np.arange(K), self.size))])
        self._replica_states = [model.random_state(self._generator) for _ in range(K)]
        for j in range(K):
            if self._replica_rank[j] != self.rank:
                self._replica_states[j] = None
        self._rng_states = [_random.kernel_state(self._generator) for _ in range(K)]
        # energy of each replica measured by its last sweep call (None: not measured)
        self._measured_energy = [None] * K
        self._measured_ok = None if _reports_energy(model) else False
        self._set_betas(betas)
        self.slot_replica = np.arange(K)          # replica id at each temperature slot
        self.steps_done = 0
        self._direction = np.zeros(K, dtype=np.int8)   # per replica: +1 up, -1 down, 0 none
        self._trip_start = np.full(K, -1, dtype=np.int64)
        self.reset_statistics()

    # -- setup ---------------------------------------------------------------
    @staticmethod
    def _ladder(T, beta):
        if (T is None) == (beta is None):
            raise ValueError("give the ladder as T=[...] or beta=[...], exactly one of them")
        name, values = ("T", T) if T is not None else ("beta", beta)
        try:
            values = [float(v) for v in values]
        except TypeError:
            raise ValueError(f"{name} must be a sequence of temperatures, got {values!r}") from None
        betas = np.array([check_temperature(v) if name == "T" else check_temperature(beta=v)
                          for v in values])
        if len(betas) < 2:
            raise ValueError(f"{name} needs at least two temperatures, got {len(betas)}")
        betas = np.sort(betas)[::-1]              # ascending T
        if np.any(np.diff(betas) == 0):
            raise ValueError(f"{name} contains duplicate temperatures")
        return betas

    def _set_betas(self, betas):
        self.betas = np.array(betas, dtype=float)
        self._updaters = [self.model.updater(self.algorithm, float(b), **self.options)
                          for b in self.betas]
        self._scratch = [None] * len(self.betas)     # one-measurement buffers per slot
        self._frozen = False

    @property
    def temperatures(self) -> np.ndarray:
        return 1.0 / self.betas

    @property
    def n_replicas(self) -> int:
        return len(self.betas)

    @property
    def states(self) -> list[np.ndarray]:
        """Configurations by temperature slot (ascending T); under MPI, None for
        the slots whose replica lives on another rank."""
        return [self._replica_states[j] for j in self.slot_replica]

    def _state(self, k):
        return self._replica_states[self.slot_replica[k]]

    def _local_slots(self):
        """Temperature slots whose replica lives on this rank."""
        return [k for k in range(self.n_replicas)
                if self._replica_rank[self.slot_replica[k]] == self.rank]

    def _sync_slots(self, old_slot_replica=None):
        """Send the mutable state of temperature slots (kernel stream, plain-data
        updater attributes) to the rank that now holds their replica: those
        whose rank changed since ``old_slot_replica``, or all of them to every
        rank when it is None."""
        if self.comm is None:
            return
        owner = self._replica_rank[self.slot_replica]
        if old_slot_replica is None:
            send = [k for k in range(self.n_replicas) if owner[k] == self.rank]
        else:
            old = self._replica_rank[old_slot_replica]
            send = [k for k in range(self.n_replicas)
                    if old[k] == self.rank and owner[k] != self.rank]
        payload = {k: (self._rng_states[k], _portable(self._updaters[k])) for k in send}
        for r, got in enumerate(self.comm.allgather(payload)):
            if r == self.rank:
                continue
            for k, (rng_state, attrs) in got.items():
                if old_slot_replica is None or owner[k] == self.rank:
                    self._rng_states[k][:] = rng_state
                    vars(self._updaters[k]).update(attrs)

    def reset_statistics(self):
        """Zero the swap counters, flow histogram and round-trip list."""
        K = self.n_replicas
        self.attempts = np.zeros(K - 1, dtype=np.int64)
        self.accepts = np.zeros(K - 1, dtype=np.int64)
        self.n_up = np.zeros(K, dtype=np.int64)
        self.n_down = np.zeros(K, dtype=np.int64)
        self.round_trips: list[int] = []

    # -- diagnostics ---------------------------------------------------------
    @property
    def acceptance(self) -> np.ndarray:
        """Swap acceptance rate of each neighbouring pair (k, k+1); nan if never tried."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.accepts / np.where(self.attempts > 0, self.attempts, np.nan)

    @property
    def flow(self) -> np.ndarray:
        """f(T_k) = n_up / (n_up + n_down) per temperature (nan before any labelled visit)."""
        tot = self.n_up + self.n_down
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.n_up / np.where(tot > 0, tot, np.nan)

    def stats(self) -> dict:
        """Plain-data diagnostics (also stored in every Results' meta)."""
        trips = np.array(self.round_trips, dtype=float)
        return {"T": self.temperatures.tolist(), "acceptance": self.acceptance.tolist(),
                "attempts": self.attempts.tolist(), "flow": self.flow.tolist(),
                "round_trips": len(trips),
                "mean_round_trip": float(trips.mean()) if len(trips) else None,
                "sweeps_per_exchange": self.sweeps_per_exchange,
                "exchange_steps": self.steps_done}

    # -- the exchange step ---------------------------------------------------
    def _sweep(self, k, every, raw=None):
        """``every`` sweeps of the replica in slot k, then one measurement (into
        ``raw``, one row per name, or scratch buffers); records its energy.
        Before the freeze, updaters with their own (adaptive) thermalisation
        sweep unmeasured instead."""
        upd = self._updaters[k]
        j = self.slot_replica[k]
        self._measured_energy[j] = None
        if not self._frozen and type(upd).thermalize is not Updater.thermalize:
            upd.thermalize(self._state(k), self._rng_states[k], every)
            return
        if raw is None:
            if self._scratch[k] is None:
                self._scratch[k] = upd.raw_buffers(1)
            raw = self._scratch[k]
        upd.run(self._state(k), self._rng_states[k], 1, every, raw)
        if self._measured_ok is not False:
            self._measured_energy[j] = float(
                self.model.observables_from_raw(raw)["e"][0] * self.model.n_sites)

    def _energies(self):
        """Total energy by temperature slot (allgathered under MPI): the
        measured one where the last sweep call left one, else ``model.energy``."""
        slots = self._local_slots()
        measured = {k: self._measured_energy[self.slot_replica[k]] for k in slots}
        if self._measured_ok is None and any(v is not None for v in measured.values()):
            self._measured_ok = self._check_measured(measured)
        local = {k: (measured[k] if self._measured_ok and measured[k] is not None
                     else float(self.model.energy(self._state(k)))) for k in slots}
        if self.comm is not None:
            for part in self.comm.allgather(local):
                local.update(part)
        return np.array([local[k] for k in range(self.n_replicas)])

    def _check_measured(self, measured) -> bool:
        """Do the measured energies agree with ``model.energy``? (checked once)"""
        for k, v in measured.items():
            if v is None:
                continue
            exact = float(self.model.energy(self._state(k)))
            if not abs(v - exact) <= 1e-9 * (abs(exact) + self.model.n_sites):
                return False
        return True

    def _exchange(self, E):
        b = self.betas
        u = self._generator.random(self.n_replicas)
        for k in range(self.steps_done % 2, self.n_replicas - 1, 2):
            self.attempts[k] += 1
            x = (b[k] - b[k + 1]) * (E[k] - E[k + 1])
            if x >= 0 or u[k] < math.exp(x):
                self.accepts[k] += 1
                E[k], E[k + 1] = E[k + 1], E[k]
                r = self.slot_replica
                r[k], r[k + 1] = r[k + 1], r[k]
        self.steps_done += 1
        self._bookkeeping()

    def _bookkeeping(self):
        r = self.slot_replica
        d = self._direction
        bottom, top = r[0], r[-1]
        if d[bottom] == -1 and self._trip_start[bottom] >= 0:
            self.round_trips.append(int(self.steps_done - self._trip_start[bottom]))
        if d[bottom] != 1:
            self._trip_start[bottom] = self.steps_done
        d[bottom] = 1
        d[top] = -1
        labels = d[r]
        self.n_up += labels == 1
        self.n_down += labels == -1

    @contextlib.contextmanager
    def _threads(self):
        """A thread pool for the replica sweeps while inside (threads > 1)."""
        if self.threads == 1 or self._pool is not None:
            yield
            return
        with cf.ThreadPoolExecutor(max_workers=self.threads) as pool:
            self._pool = pool
            try:
                yield
            finally:
                self._pool = None

    def _each_slot(self, fn):
        """fn(k) for every local slot: in the pool when there is one."""
        slots = self._local_slots()
        if self._pool is None or len(slots) < 2:
            for k in slots:
                fn(k)
        else:
            for fut in [self._pool.submit(fn, k) for k in slots]:
                fut.result()

    def thermalize(self, steps) -> None:
        """``steps`` exchange steps without measuring; adaptive updater
        parameters keep adapting (they freeze at the next ``run``)."""
        steps = _check_count("steps", steps, 0)
        every = self.sweeps_per_exchange

        with self._threads():
            for _ in range(steps):
                self._each_slot(lambda k: self._sweep(k, every))
                self._exchange_and_sync()
        self._sync_slots()

    def _exchange_and_sync(self):
        old = self.slot_replica.copy()
        self._exchange(self._energies())
        self._sync_slots(old)

    def run(self, steps, thermalize=0) -> list[Results]:
        """Thermalise, then ``steps`` measured exchange steps; one Results per
        temperature (ascending T), one measurement per step.

        Each Results holds the model's observables plus ``replica`` (the id
        of the replica at that temperature at each measurement) and meta
        ``tempering`` (acceptance, flow, round trips of this ladder since the
        last ``reset_statistics``).
        """
        steps = _check_count("steps", steps, 0)
        self.thermalize(_check_count("thermalize", thermalize, 0))
        if not self._frozen:
            for k in self._local_slots():
                self._measured_energy[self.slot_replica[k]] = None     # freeze may sweep
                self._updaters[k].freeze(self._state(k), self._rng_states[k])
            self._frozen = True
        K, every = self.n_replicas, self.sweeps_per_exchange
        raws = [upd.raw_buffers(steps) for upd in self._updaters]
        replica = np.empty((K, steps), dtype=np.int64)
        with self._threads():
            for t in range(steps):
                self._each_slot(lambda k, t=t: self._sweep(
                    k, every, {name: arr[t:t + 1] for name, arr in raws[k].items()}))
                replica[:, t] = self.slot_replica
                self._exchange_and_sync()
        if self.comm is not None:
            self._sync_slots()
            # measurement t of slot k was taken by the rank holding replica[k, t]
            mine = self._replica_rank[replica] == self.rank
            parts = self.comm.allgather({k: {name: arr[mine[k]] for name, arr in raws[k].items()}
                                         for k in range(K)})
            for r, part in enumerate(parts):
                theirs = self._replica_rank[replica] == r
                for k in range(K):
                    for name, arr in raws[k].items():
                        arr[theirs[k]] = part[k][name]
        stats = self.stats()
        out = []
        for k in range(K):
            series = dict(self.model.observables_from_raw(raws[k]))
            series["replica"] = replica[k]
            meta = {**self.model.params(), "T": float(1.0 / self.betas[k]),
                    "beta": float(self.betas[k]), "n_sites": self.model.n_sites,
                    "algorithm": self.algorithm, "algorithm_info": self._updaters[k].info(),
                    "sweeps": steps * every, "measure_every": every,
                    "thermalize": thermalize * every, "seed": self.seed,
                    "tempering": stats, "slot": k, "versions": versions()}
            out.append(Results(series, meta))
        return out

    def optimize_ladder(self, rounds=5, steps=2000) -> np.ndarray:
        """Feedback-optimise the ladder (end points fixed): ``rounds`` times,
        run ``steps`` unmeasured exchange steps, then move the temperatures
        with ``ladder_feedback``. Rounds double in length (Katzgraber et al.).
        Returns the new temperatures; updaters are rebuilt (adaptive
        parameters re-estimated at the next thermalisation/run)."""
        rounds = _check_count("rounds", rounds, 1)
        steps = _check_count("steps", steps, 1)
        for i in range(rounds):
            self.reset_statistics()
            self.thermalize(steps * 2 ** i)
            f = self.flow
            if not np.all(np.isfinite(f)):
                raise RuntimeError(f"ladder feedback round {i}: some temperatures were never "
                                   f"visited by a labelled replica (flow {f.tolist()}); use "
                                   "more steps")
            new_T = ladder_feedback(self.temperatures, f)
            self._set_betas(1.0 / new_T)
        self.reset_statistics()
        return self.temperatures

    def __repr__(self):
        mpi = f" ranks={self.size}" if self.comm is not None else ""
        return (f"<ParallelTempering {type(self.model).__name__} K={self.n_replicas} "
                f"T=[{self.temperatures[0]:.4g} .. {self.temperatures[-1]:.4g}] "
                f"algorithm={self.algorithm!r} steps_done={self.steps_done}{mpi}>")


def _reports_energy(model) -> bool:
    """True if the model's measurements include the energy per site ``e``."""
    return "e" in getattr(model, "observables", ()) and hasattr(model, "observables_from_raw") \
        and hasattr(model, "n_sites")


def _check_comm(comm, K):
    """(comm, rank, size) for ``comm=None`` or an mpi4py-like communicator."""
    if comm is None:
        return None, 0, 1
    missing = [name for name in ("Get_rank", "Get_size", "allgather", "bcast")
               if not callable(getattr(comm, name, None))]
    if missing:
        raise ValueError("comm must be None or an mpi4py communicator (e.g. MPI.COMM_WORLD), "
                         f"got {type(comm).__name__} without {', '.join(missing)}")
    rank, size = int(comm.Get_rank()), int(comm.Get_size())
    if size > K:
        raise ValueError(f"comm has {size} ranks but the ladder only {K} temperatures; "
                         "use at most one rank per temperature")
    return comm, rank, size


def _plain_data(v) -> bool:
    if v is None or isinstance(v, (bool, numbers.Number, str)):
        return not isinstance(v, np.ndarray)
    if isinstance(v, (list, tuple)):
        return all(_plain_data(x) for x in v)
    if isinstance(v, dict):
        return all(_plain_data(x) for x in v.values())
    return False


def _portable(updater) -> dict:
    """The updater attributes that travel with a temperature slot between ranks:
    plain data (adaptive parameters, counters, estimation history). Arrays
    (tables, lattice data, scratch buffers) depend only on the model, beta and
    the options, which every rank already has."""
    return {name: v for name, v in vars(updater).items() if _plain_data(v)}
