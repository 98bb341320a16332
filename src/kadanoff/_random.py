"""The one place that turns a user's ``rng=`` into generators and kernel state.

``rng`` may be None, a non-negative int, a ``numpy.random.SeedSequence`` or a
``numpy.random.Generator`` (SPEC 7). Independent streams come from
``SeedSequence.spawn``, never from seed + i. Kernels run xoshiro256**
(see cext/rng.pxd) on a uint64[4] state drawn from the Generator.
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = ["make_generator", "seed_info", "kernel_state", "spawn"]


def _seed_sequence(rng):
    """SeedSequence behind rng when there is one (None, int, SeedSequence)."""
    if rng is None:
        return np.random.SeedSequence()
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        if rng < 0:
            raise ValueError(f"rng must be a non-negative integer seed, got {rng}")
        return np.random.SeedSequence(int(rng))
    return None


def make_generator(rng) -> tuple[np.random.Generator, dict]:
    """Return ``(generator, seed_info)`` for any accepted ``rng``.

    ``seed_info`` is plain data recording where the stream came from: the
    SeedSequence entropy and spawn key (enough to recreate it), or, for a
    Generator passed in, the bit generator's name and state at this moment.
    """
    ss = _seed_sequence(rng)
    if ss is not None:
        return np.random.Generator(np.random.PCG64(ss)), seed_info(ss)
    if isinstance(rng, np.random.Generator):
        bg = rng.bit_generator
        return rng, {"generator": type(bg).__name__, "state": _plain(bg.state)}
    raise TypeError("rng must be None, a non-negative int, a numpy SeedSequence or a numpy "
                    f"Generator, got {type(rng).__name__}")


def seed_info(ss: np.random.SeedSequence) -> dict:
    return {"entropy": int(ss.entropy) if isinstance(ss.entropy, numbers.Integral)
            else [int(x) for x in ss.entropy],
            "spawn_key": [int(k) for k in ss.spawn_key]}


def spawn(rng, n: int) -> list[np.random.SeedSequence]:
    """``n`` independent child SeedSequences of ``rng`` (int, None, SeedSequence or Generator)."""
    ss = _seed_sequence(rng)
    if ss is None:
        gen, _ = make_generator(rng)
        return [np.random.SeedSequence(int(x)) for x in
                gen.integers(0, 2**63, size=n, dtype=np.int64)]
    return ss.spawn(n)


def kernel_state(generator: np.random.Generator) -> np.ndarray:
    """A fresh xoshiro256** state (uint64[4], never all zero) drawn from ``generator``."""
    while True:
        state = generator.integers(0, 2**64, size=4, dtype=np.uint64, endpoint=False)
        if np.any(state):
            return np.ascontiguousarray(state)


def _plain(obj):
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.integer):
        return int(obj)
    return obj
