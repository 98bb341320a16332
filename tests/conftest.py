import os
import warnings

# Small matrix products (MBAR) are 3-15x slower with a BLAS thread pool
# competing for 2 cores; one thread per process keeps the suite's time stable.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest

from kadanoff.analysis.errors import AutocorrelationWarning


@pytest.fixture(autouse=True)
def _quiet_short_series():
    # Short unit-test chains trigger the "series too short for tau_int" warning
    # by design; validation tests use long chains and check it does not fire.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AutocorrelationWarning)
        yield
