"""Unit tests for kadanoff.analysis.warning (early-warning indicators)."""
import math

import numpy as np
import pytest
from scipy import stats
from scipy.ndimage import gaussian_filter1d

from kadanoff.analysis import warning as ews
from kadanoff.results import Results


def ar1(phi, n, rng, trend=0.0):
    phi = np.broadcast_to(np.asarray(phi, dtype=float), (n,))
    x = np.zeros(n)
    x[0] = rng.normal()
    eps = rng.normal(size=n)
    for t in range(1, n):
        x[t] = phi[t] * x[t - 1] + eps[t] * math.sqrt(1 - phi[t] ** 2)
    return x + trend * np.arange(n) / n


@pytest.fixture(scope="module")
def series():
    return ar1(np.linspace(0.2, 0.9, 600), 600, np.random.default_rng(0), trend=2.0)


def brute(r, w):
    """Direct per-window estimators (the documented conventions)."""
    n = len(r)
    out = {k: np.full(n, np.nan) for k in ("variance", "ac1", "skewness", "kurtosis")}
    for t in range(w - 1, n):
        s = r[t - w + 1:t + 1]
        out["variance"][t] = s.var(ddof=1)
        out["ac1"][t] = np.corrcoef(s[:-1], s[1:])[0, 1]
        out["skewness"][t] = stats.skew(s, bias=False)
        out["kurtosis"][t] = stats.kurtosis(s, bias=False)
    return out


def test_rolling_matches_direct_estimators(series):
    _, r = ews.detrend(series, "gaussian", bandwidth=0.2)
    w = 150
    ind = ews.rolling_indicators(r, w, dt=0.5)
    ref = brute(r, w)
    for k, v in ref.items():
        assert np.array_equal(np.isnan(ind[k]), np.isnan(v)), k
        np.testing.assert_allclose(ind[k], v, rtol=1e-9, atol=1e-12, err_msg=k)
    np.testing.assert_allclose(ind["return_rate"], -np.log(ref["ac1"]) / 0.5, rtol=1e-9)
    assert np.isnan(ind["variance"][w - 2]) and np.isfinite(ind["variance"][w - 1])
    # fraction: int(0.25 * 600) = 150 points
    np.testing.assert_array_equal(ews.rolling_indicators(r, 0.25)["variance"], ind["variance"])


def test_reddening_by_hand(series):
    w, step = 100, 50
    red = ews.rolling_indicators(series, w, indicators=["reddening"], spectrum_step=step,
                                 low_frequency=0.1)["reddening"]
    ends = np.flatnonzero(np.isfinite(red))
    np.testing.assert_array_equal(ends, np.arange(w - 1, len(series), step))
    t = ends[3]
    s = series[t - w + 1:t + 1]
    p = np.abs(np.fft.rfft(s - s.mean())[1:51]) ** 2
    assert red[t] == pytest.approx(p[:5].sum() / p.sum(), rel=1e-12)
    white = ews.rolling_indicators(np.random.default_rng(1).normal(size=4000), 400,
                                   indicators="reddening")["reddening"]
    assert np.nanmean(white) == pytest.approx(0.1, abs=0.02)       # flat spectrum


def test_detrend_methods(series):
    n = len(series)
    tr, r = ews.detrend(series, "gaussian", bandwidth=0.2)
    np.testing.assert_allclose(tr, gaussian_filter1d(series, 0.25 * 0.2 * n / 0.6744897501960817,
                                                     mode="reflect"))
    np.testing.assert_allclose(tr + r, series)
    tr2, _ = ews.detrend(series, "gaussian", bandwidth=120)      # points == fraction 0.2
    np.testing.assert_allclose(tr2, tr)
    lin, _ = ews.detrend(series, "linear")
    np.testing.assert_allclose(lin, np.polyval(np.polyfit(np.arange(n), series, 1), np.arange(n)))
    _, none_r = ews.detrend(series, None)
    assert abs(none_r.mean()) < 1e-12
    lo, _ = ews.detrend(series, "lowess", span=0.3)
    assert np.abs(lo - tr).mean() < 0.3


def test_lowess_exact_on_lines_and_robust():
    x = np.arange(50.0)
    y = 3 - 0.5 * x
    np.testing.assert_allclose(ews.lowess(x, y, 0.3), y, atol=1e-10)
    y2 = y + 0.1 * np.random.default_rng(0).normal(size=50)
    y2[25] += 100.0                                       # one outlier
    fit = ews.lowess(x, y2, 0.6, iterations=3)
    assert abs(fit[25] - y[25]) < 0.2
    plain = ews.lowess(x, y2, 0.6, iterations=0)
    assert abs(plain[25] - y[25]) > 1.0
    with pytest.raises(ValueError, match="ascending"):
        ews.lowess(x[::-1], y, 0.3)
    with pytest.raises(ValueError, match="frac"):
        ews.lowess(x, y, 1.5)


def test_kendall_tau():
    v = np.array([1.0, 2, np.nan, 4, 3, 5])
    t = np.arange(6.0)
    ok = np.isfinite(v)
    assert ews.kendall_tau(v) == pytest.approx(stats.kendalltau(t[ok], v[ok]).statistic)
    assert math.isnan(ews.kendall_tau([np.nan, 1.0, np.nan]))


def test_surrogates():
    rng = np.random.default_rng(3)
    x = ar1(0.7, 512, rng) + 5
    ph = ews.surrogates(x, 20, "phase", rng=1)
    assert ph.shape == (20, 512)
    np.testing.assert_allclose(np.abs(np.fft.rfft(ph, axis=1)),
                               np.broadcast_to(np.abs(np.fft.rfft(x)), (20, 257)), rtol=1e-8,
                               atol=1e-8)
    np.testing.assert_array_equal(ews.surrogates(x, 20, "phase", rng=1), ph)
    a = ews.surrogates(x, 400, "ar1", rng=2)
    z = a - a.mean(axis=1, keepdims=True)
    phi = np.mean(np.sum(z[:, :-1] * z[:, 1:], axis=1) / np.sum(z * z, axis=1))
    zx = x - x.mean()
    assert phi == pytest.approx(np.dot(zx[:-1], zx[1:]) / np.dot(zx, zx), abs=0.02)
    assert a.mean() == pytest.approx(x.mean(), abs=0.05)
    assert a.var(axis=1).mean() == pytest.approx(x.var(), rel=0.1)
    with pytest.raises(ValueError, match="kind"):
        ews.surrogates(x, 5, "shuffle")


def test_early_warning_object(series):
    ew = ews.EarlyWarning(window=0.4, n_surrogates=19, surrogate="ar1", rng=5,
                          dt=0.5).compute(series)
    assert ew.window_points == 240
    np.testing.assert_allclose(ew.time, 0.5 * np.arange(600))
    _, r = ews.detrend(series, "gaussian", bandwidth=0.2)
    np.testing.assert_allclose(ew.residuals, r)
    ind = ews.rolling_indicators(r, 240, dt=0.5)
    for k in ews.INDICATORS:
        np.testing.assert_allclose(ew.indicators[k], ind[k], equal_nan=True)
        assert ew.kendall_tau[k] == pytest.approx(ews.kendall_tau(ind[k]))
    assert ew.kendall_tau["ac1"] > 0.5
    assert ew.p_values["ar1"]["ac1"] == pytest.approx(1 / 20)      # rank 1 of 20
    assert list(ew.p_values) == ["ar1"] and len(ew.surrogate_tau["ar1"]["variance"]) == 19
    for k, p in ew.p_values["ar1"].items():
        ts = ew.surrogate_tau["ar1"][k]
        s = ews.INDICATORS[k]
        hits = np.sum(np.abs(ts) >= abs(ew.kendall_tau[k])) if s == 0 else \
            np.sum(s * ts >= s * ew.kendall_tau[k])
        assert p == pytest.approx((1 + hits) / 20)
    with pytest.raises(ValueError):
        ew.indicators["ac1"][300] = 0.0
    assert "ac1" in ew.summary() and "tau" in repr(ew)
    # same seed -> same p-values; Results input with explicit time
    res = Results({"x": series})
    ew2 = ews.EarlyWarning(window=0.4, n_surrogates=19, surrogate="ar1", rng=5).compute(
        res, "x", time=0.5 * np.arange(600))
    assert ew2.p_values == ew.p_values
    np.testing.assert_allclose(ew2.indicators["return_rate"], ew.indicators["return_rate"],
                               equal_nan=True)
    ew3 = ews.EarlyWarning(window=0.4).compute(Results({"x": series, "t": 0.5 * np.arange(600)}),
                                               "x")
    np.testing.assert_allclose(ew3.time, ew.time)
    np.testing.assert_allclose(ew3.indicators["return_rate"], ew.indicators["return_rate"],
                               equal_nan=True)


def test_plot(series, tmp_path):
    pytest.importorskip("matplotlib")
    ew = ews.EarlyWarning(window=0.5, indicators=("variance", "ac1", "reddening"),
                          n_surrogates=9, rng=1).compute(series)
    fig = ew.plot(title="AR(1)")
    assert len(fig.axes) == 4
    fig.savefig(tmp_path / "ews.png")


@pytest.mark.parametrize("data,kw,match", [
    (np.arange(5.0), {}, "too short"),
    (np.r_[np.arange(50.0), np.nan], {}, "NaN"),
    (np.r_[np.arange(50.0), np.inf], {}, "infinite"),
    (np.zeros((10, 10)), {}, "1-D"),
    (np.arange(100.0), {"window": 101}, "larger than the series"),
    (np.arange(100.0), {"window": 0.02}, "at least 4"),
    (np.arange(100.0), {"bandwidth": 500}, "larger than the series"),
    (np.arange(100.0), {"detrend": "lowess", "span": 0.01}, "at least 2"),
])
def test_bad_series(data, kw, match):
    with pytest.raises(ValueError, match=match):
        ews.EarlyWarning(**kw).compute(data)


@pytest.mark.parametrize("kw,match", [
    ({"window": 0}, "window"), ({"window": -0.5}, "window"), ({"window": True}, "window"),
    ({"detrend": "spline"}, "detrend"), ({"indicators": ["variance", "mean"]}, "indicators"),
    ({"indicators": []}, "indicators"), ({"dt": 0}, "dt"), ({"n_surrogates": -1}, "n_surrogates"),
    ({"surrogate": "iaaft"}, "surrogate"), ({"low_frequency": 0}, "low_frequency"),
    ({"spectrum_step": 0}, "spectrum_step"), ({"bandwidth": float("nan")}, "bandwidth"),
])
def test_bad_config(kw, match):
    with pytest.raises(ValueError, match=match):
        ews.EarlyWarning(**kw)


def test_bad_compute_arguments(series):
    ew = ews.EarlyWarning()
    with pytest.raises(ValueError, match="compute"):
        _ = ew.kendall_tau
    with pytest.raises(ValueError, match="series name"):
        ew.compute(Results({"x": series}))
    with pytest.raises(ValueError, match="equally spaced"):
        ew.compute(series, time=np.r_[0.0, np.cumsum(np.arange(1.0, 600))])
    with pytest.raises(ValueError, match="shape"):
        ew.compute(series, time=np.arange(10.0))
    with pytest.raises(ValueError, match="window"):
        ews.rolling_indicators(series, 2000)
