"""Associative memories (``kd.hopfield``): a short name for
:mod:`kadanoff.models.hopfield`.

>>> import kadanoff as kd
>>> from kadanoff import hopfield
>>> xi = hopfield.random_patterns(5, 200, rng=1)
>>> net = hopfield.Hopfield(xi)
>>> cue = hopfield.corrupt(xi[0], 0.2, rng=2)
>>> out = net.retrieve(cue)
>>> bool(out.converged), round(float(out.overlap[0]), 2)
(True, 1.0)
"""
from .models.hopfield import (DenseHopfield, ExponentialHopfield, Hopfield, Multitasking,
                              Retrieval, Supervised, Unsupervised, binarize, correlated_patterns,
                              corrupt, modern_energy, modern_update, noisy_examples,
                              random_patterns)

__all__ = ["DenseHopfield", "ExponentialHopfield", "Hopfield", "Multitasking", "Retrieval",
           "Supervised", "Unsupervised", "binarize", "correlated_patterns", "corrupt",
           "modern_energy", "modern_update", "noisy_examples", "random_patterns"]
