import warnings

import pytest

from kadanoff.analysis.errors import AutocorrelationWarning


@pytest.fixture(autouse=True)
def _quiet_short_series():
    # Short unit-test chains trigger the "series too short for tau_int" warning
    # by design; validation tests use long chains and check it does not fire.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AutocorrelationWarning)
        yield
