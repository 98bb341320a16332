"""Analysis: pure numpy/scipy; works on plain arrays and on Results from any model.

errors   tau_int, error_of_mean, binning_error, jackknife, bootstrap
fss      finite-size scaling: Binder-cumulant crossings
"""
from . import errors, fss
from .errors import (AutocorrelationError, AutocorrelationWarning, binning_error, bootstrap,
                     error_of_mean, jackknife, tau_int)

__all__ = ["errors", "fss", "tau_int", "error_of_mean", "binning_error", "jackknife",
           "bootstrap", "AutocorrelationError", "AutocorrelationWarning"]
