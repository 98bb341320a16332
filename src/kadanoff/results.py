"""Results: named per-measurement time series plus the metadata that made them."""
from __future__ import annotations

import platform
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from .analysis import errors as _err
from .analysis import reweighting as _rw

__all__ = ["Results", "Estimate", "UnknownObservableError", "versions"]


def versions() -> dict:
    """Versions of kadanoff, numpy, Python and the platform, for metadata."""
    from . import __version__
    return {"kadanoff": __version__, "numpy": np.__version__,
            "python": platform.python_version(), "platform": platform.platform()}


class UnknownObservableError(KeyError, ValueError):
    """An observable name that the Results do not hold (a KeyError and a ValueError)."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


class Estimate(NamedTuple):
    """A value with its one-standard-error uncertainty; unpacks as ``value, error``."""

    value: float
    error: float

    def __float__(self):
        return float(self.value)

    def __format__(self, spec):
        return f"{format(self.value, spec)} ± {format(self.error, spec)}"

    def __str__(self):
        return f"{self.value:.6g} ± {self.error:.2g}"


class Results(Mapping):
    """Time series of observables from one ``Simulation.run``, with metadata.

    ``res["e"]`` is a read-only array with one entry per measurement (per-site
    values). ``res.meta`` holds the model parameters, temperature, algorithm,
    seed, the generator state to continue, and versions.

    Error bars account for autocorrelation: ``error`` is
    ``sqrt(2 tau_int var / n)`` with the automatically windowed tau_int, and
    derived quantities (Binder cumulant, susceptibility, specific heat) use a
    blocked jackknife with blocks several tau_int long. Never sigma/sqrt(n).
    """

    def __init__(self, series: Mapping, meta: Mapping | None = None):
        if not isinstance(series, Mapping):
            raise TypeError(f"series must be a mapping of names to arrays, got "
                            f"{type(series).__name__}")
        if meta is not None and not isinstance(meta, Mapping):
            raise TypeError(f"meta must be a mapping or None, got {type(meta).__name__}")
        self._series = {}
        for name, values in series.items():
            if not isinstance(name, str):
                raise TypeError(f"series names must be strings, got {name!r}")
            arr = np.array(values, copy=True)
            if arr.ndim < 1 or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
                raise ValueError(f"series {name!r} must be a numeric array with one entry per "
                                 f"measurement, got {values!r}")
            arr.setflags(write=False)
            self._series[name] = arr
        lengths = {len(v) for v in self._series.values()}
        if len(lengths) > 1:
            raise ValueError("all series must have the same number of measurements, got "
                             f"lengths {sorted(lengths)}")
        self.meta = dict(meta or {})

    # -- mapping ---------------------------------------------------------
    def __getitem__(self, name):
        try:
            return self._series[name]
        except (KeyError, TypeError):
            raise UnknownObservableError(
                f"unknown observable {name!r}; these Results hold {sorted(self._series)}") from None

    def __iter__(self):
        return iter(self._series)

    def __len__(self):
        return len(self._series)

    @property
    def n_measurements(self) -> int:
        return len(next(iter(self._series.values()))) if self._series else 0

    @property
    def T(self) -> float:
        return self.meta["T"]

    @property
    def beta(self) -> float:
        return self.meta["beta"]

    # -- simple statistics -----------------------------------------------
    def _nonempty(self, name):
        x = self[name]
        if len(x) < 2:
            raise ValueError(f"need at least 2 measurements of {name!r}, have {len(x)}")
        return x

    def mean(self, name) -> float | np.ndarray:
        """Sample mean of an observable."""
        x = self[name]
        if len(x) == 0:
            raise ValueError(f"no measurements of {name!r}")
        return x.mean(axis=0)

    def _per_component(self, f, name):
        """f applied to every component of a series; array series such as a
        structure factor (n, L, L) are treated as n x (L L) columns."""
        x = self._nonempty(name)
        if x.ndim <= 2:
            return f(x)
        return np.reshape(f(x.reshape(len(x), -1)), x.shape[1:])

    def error(self, name) -> float | np.ndarray:
        """Standard error of the mean, sqrt(2 tau_int var / n) (autocorrelation-aware),
        per component for vector and array observables."""
        return self._per_component(_err.error_of_mean, name)

    def tau(self, name) -> float | np.ndarray:
        """Integrated autocorrelation time of an observable in sweeps
        (tau_int = 1/2 + sum_t rho(t), times ``measure_every``), per component
        for vector and array observables."""
        tau = self._per_component(lambda x: _err.tau_int(x, quiet=True), name)
        return tau * self.meta.get("measure_every", 1)

    def estimate(self, f, *names) -> Estimate:
        """Blocked-jackknife estimate of ``f(*series)`` with its error.

        ``f`` receives the raw series named by ``names`` (with one block left
        out) and returns a number, e.g.
        ``res.estimate(lambda e: e.var(), "e")``. Blocks are at least ten
        integrated autocorrelation times long (see
        ``kd.analysis.errors.default_block_size``; at most 64 blocks).
        """
        if not names:
            raise ValueError("estimate needs at least one observable name")
        series = [self._nonempty(n) for n in names]
        n = len(series[0])
        block = min(max(_err.default_block_size(*series), n // 64), n // 2)
        value, error = _err.jackknife(f, *series, block_size=block)
        return Estimate(float(value), float(error))

    # -- derived quantities ----------------------------------------------
    def binder(self) -> Estimate:
        """Binder cumulant U = 1 - <m^4> / (3 <m^2>^2)."""
        return self.estimate(lambda m2, m4: 1.0 - m4.mean() / (3.0 * m2.mean() ** 2), "m2", "m4")

    def susceptibility(self, subtract: str | None = "abs_m") -> Estimate:
        """Susceptibility per site, chi = beta N (<m^2> - <X>^2).

        ``subtract="abs_m"`` (default) uses ``X = |m|``, the finite-size estimator
        that works on both sides of T_c at h = 0; ``"m"`` uses X = m (the
        connected susceptibility, right with a field); ``None`` gives
        beta N <m^2>.
        """
        bn = self.meta["beta"] * self.meta["n_sites"]
        if subtract is None:
            return self.estimate(lambda m2: bn * m2.mean(), "m2")
        if subtract not in ("abs_m", "m"):
            raise ValueError(f"subtract must be 'abs_m', 'm' or None, got {subtract!r}")
        return self.estimate(lambda m2, x: bn * (m2.mean() - x.mean() ** 2), "m2", subtract)

    def specific_heat(self) -> Estimate:
        """Specific heat per site, C = beta^2 N (<e^2> - <e>^2)."""
        b2n = self.meta["beta"] ** 2 * self.meta["n_sites"]
        return self.estimate(lambda e: b2n * e.var(), "e")

    def correlation_length(self) -> Estimate:
        """Second-moment correlation length in lattice spacings,

        xi_2nd = sqrt(<m2> / <m2_k> - 1) / (2 sin(pi / L)),

        from chi(0) ~ <m2> and chi(k_min) ~ ``<m2_k> = <|M(k_min)|^2> / N^2`` at
        the smallest wave vector k_min = 2 pi / L along the lattice axes
        (averaged over the axes); blocked-jackknife error. Needs the ``m2_k``
        observable (spin models on Bravais lattices of equal sides).
        """
        shape = (self.meta.get("lattice") or {}).get("shape")
        if "m2_k" not in self or not shape:
            raise ValueError("correlation_length needs the observable 'm2_k' and the lattice "
                             "shape in meta (spin models on square, triangular, chain or "
                             "cubic lattices with equal sides)")
        scale = 2.0 * np.sin(np.pi / shape[0])
        return self.estimate(
            lambda m2, mk: np.sqrt(max(m2.mean() / mk.mean() - 1.0, 0.0)) / scale, "m2", "m2_k")

    # -- analysis shortcuts (delegating to kadanoff.analysis) ---------------
    def autocorrelation(self, name, c=5.0) -> "_err.TauIntResult":
        """tau_int with its error, window and rho(t), in units of the measurement
        interval (``kd.analysis.errors.tau_int_analysis``; never raises for short
        series, check ``.reliable``)."""
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", _err.AutocorrelationWarning)
            return _err.tau_int_analysis(self._nonempty(name), c=c, quiet=True)

    def binning(self, name, min_blocks=32) -> "_err.BinningResult":
        """Binning analysis with its plateau (``kd.analysis.errors.binning_plateau``)."""
        return _err.binning_plateau(self._nonempty(name), min_blocks=min_blocks)

    def histogram(self, **config) -> "_rw.SingleHistogram":
        """Single-histogram reweighting object for this run
        (``kd.analysis.reweighting.SingleHistogram(**config).compute(self)``)."""
        return _rw.SingleHistogram(**config).compute(self)

    def reweight(self, observable, T=None, *, beta=None, **config) -> "_rw.Curve":
        """Reweight to nearby temperatures (Ferrenberg-Swendsen, jackknife errors).

        ``observable`` is a series name (``"e"``, ``"abs_m"``, ...) or
        ``"specific_heat"``, ``"susceptibility"``, ``"binder"``,
        ``"binder_derivative"``. Returns ``Curve(T, value, error)``; stay inside
        ``self.histogram().trusted_range`` (a ReweightingWarning says when not).
        """
        return _rw.reweight(self, observable, T, beta=beta, **config)

    # -- presentation ----------------------------------------------------
    def summary(self) -> str:
        """A small table: mean, error and tau of every scalar observable."""
        lines = [f"{'name':>8} {'mean':>14} {'error':>10} {'tau':>8}"]
        for name, x in self._series.items():
            if x.ndim != 1 or len(x) < 2:
                continue
            lines.append(f"{name:>8} {self.mean(name):14.8g} {self.error(name):10.3g} "
                         f"{self.tau(name):8.3g}")
        return "\n".join(lines)

    def __repr__(self):
        what = self.meta.get("model", "?")
        return (f"<Results {what} T={self.meta.get('T', float('nan')):.6g} "
                f"algorithm={self.meta.get('algorithm')!r} n={self.n_measurements} "
                f"observables={list(self._series)}>")

    @classmethod
    def concatenate(cls, parts) -> "Results":
        """Join Results of consecutive runs of the same chain (metadata of the last)."""
        parts = list(parts)
        if not parts:
            raise ValueError("concatenate needs at least one Results")
        names = list(parts[0])
        if any(list(p) != names for p in parts):
            raise ValueError("all Results must hold the same observables")
        series = {n: np.concatenate([p[n] for p in parts]) for n in names}
        meta = dict(parts[-1].meta)
        meta["sweeps"] = sum(p.meta.get("sweeps", 0) for p in parts)
        return cls(series, meta)
