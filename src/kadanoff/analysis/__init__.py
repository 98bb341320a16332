"""Analysis: pure numpy/scipy; works on plain arrays and on Results from any model.

errors       tau_int, tau_int_analysis, error_of_mean, binning_error, binning_plateau,
             jackknife, bootstrap
reweighting  SingleHistogram (Ferrenberg-Swendsen), MultiHistogram (MBAR), reweight
fss          binder_crossings, reweighted_crossings, extrapolate_crossings, peak(s),
             curves, values_at, Collapse
exponents    gamma_over_nu, beta_over_nu, inv_nu, dynamic_exponent, peak_shift,
             power_law, fit, helicity_crossing, bkt_extrapolate, weber_minnhagen
spreading    spreading experiments of absorbing-state processes (see that module)
entropy      schnakenberg (exact EPR of a rate matrix), generator, KLD / kld_epr (n-gram
             estimator), tur_bound, tur_bound_from_increments
warning      EarlyWarning (rolling-window early-warning indicators with surrogate p-values),
             detrend, lowess, rolling_indicators, kendall_tau, surrogates
"""
from . import entropy, errors, exponents, fss, reweighting, spreading, warning
from .errors import (AutocorrelationError, AutocorrelationWarning, binning_error,
                     binning_plateau, bootstrap, error_of_mean, jackknife, tau_int,
                     tau_int_analysis)
from .fss import Collapse
from .reweighting import MultiHistogram, ReweightingWarning, SingleHistogram, reweight

__all__ = ["entropy", "errors", "fss", "reweighting", "exponents", "spreading", "tau_int",
           "tau_int_analysis",
           "error_of_mean", "binning_error", "binning_plateau", "jackknife", "bootstrap",
           "AutocorrelationError", "AutocorrelationWarning", "SingleHistogram", "MultiHistogram",
           "ReweightingWarning", "reweight", "Collapse", "warning"]
