"""Unit tests for kadanoff.analysis.errors (pure numpy error analysis)."""

import warnings

import numpy as np
import pytest
from scipy.signal import lfilter

from kadanoff.analysis.errors import (
    AutocorrelationError,
    AutocorrelationWarning,
    BinningResult,
    TauIntResult,
    binning_plateau,
    tau_int_analysis,
    autocorrelation,
    binning_analysis,
    binning_error,
    blocks,
    bootstrap,
    default_block_size,
    error_of_mean,
    jackknife,
    tau_int,
)

N_LONG = 200_000
AR_COEFFS = [0.0, 0.5, 0.9]


def ar1(a, n, rng, n_chains=None):
    """Stationary AR(1) x_t = a x_{t-1} + eta_t, eta ~ N(0, 1).

    Returns shape (n,) or, with n_chains, (n, n_chains) independent chains.
    """
    shape = (n,) if n_chains is None else (n, n_chains)
    eta = rng.standard_normal(shape)
    eta[0] /= np.sqrt(1.0 - a * a)  # start in the stationary distribution
    return lfilter([1.0], [1.0, -a], eta, axis=0)


def exact_tau(a):
    return (1.0 + a) / (2.0 * (1.0 - a))


def exact_error_of_mean(a, n):
    # Var(mean) -> 2 tau sigma^2 / n with sigma^2 = 1/(1-a^2)
    return 1.0 / ((1.0 - a) * np.sqrt(n))


@pytest.fixture(scope="module")
def ar_series():
    out = {}
    for i, a in enumerate(AR_COEFFS):
        out[a] = ar1(a, N_LONG, np.random.default_rng(1000 + i))
    return out


# ---------------------------------------------------------------- autocorrelation
def test_autocorrelation_matches_direct_sum():
    x = np.random.default_rng(0).standard_normal(57)
    n = len(x)
    d = x - x.mean()
    c = np.array([np.dot(d[: n - t], d[t:]) / n for t in range(n)])
    rho = autocorrelation(x)
    assert rho.shape == (n,)
    assert rho[0] == 1.0
    np.testing.assert_allclose(rho, c / c[0], atol=1e-12)


def test_autocorrelation_no_circular_wrap():
    # a linear ramp: circular correlation would make rho(n-1) ~ rho(1) > 0
    x = np.arange(100.0)
    rho = autocorrelation(x)
    assert rho[1] > 0.9
    assert rho[-1] < 0


def test_autocorrelation_ar1_and_columns(ar_series):
    x = ar_series[0.5]
    rho = autocorrelation(x)
    np.testing.assert_allclose(rho[1:4], [0.5, 0.25, 0.125], atol=0.01)
    two = np.column_stack([x[:1000], ar_series[0.9][:1000]])
    rho2 = autocorrelation(two)
    assert rho2.shape == (1000, 2)
    np.testing.assert_allclose(rho2[:, 1], autocorrelation(ar_series[0.9][:1000]))


def test_autocorrelation_constant():
    rho = autocorrelation(np.full(10, 0.1))
    np.testing.assert_array_equal(rho, [1.0] + [0.0] * 9)


# ---------------------------------------------------------------- tau_int
@pytest.mark.parametrize("a", AR_COEFFS)
def test_tau_int_ar1(ar_series, a):
    tau, sigma = tau_int(ar_series[a], return_error=True)
    expected = exact_tau(a)
    assert isinstance(tau, float) and isinstance(sigma, float)
    assert sigma > 0
    assert abs(tau - expected) < 4 * sigma
    assert abs(tau - expected) < 0.1 * expected


def test_tau_int_sigma_formula(ar_series):
    # sigma = tau * sqrt(2(2M+1)/n) with M the smallest M >= c tau(M)
    x = ar_series[0.9][:20_000]
    c = 5.0
    rho = autocorrelation(x)
    taus = 0.5 + np.cumsum(rho[1:])
    m = np.arange(1, len(x))
    M = m[np.argmax(m >= c * taus)]
    tau, sigma = tau_int(x, c=c, return_error=True)
    assert tau == pytest.approx(taus[M - 1])
    assert sigma == pytest.approx(tau * np.sqrt(2 * (2 * M + 1) / len(x)))


def test_tau_int_two_d_columnwise(ar_series):
    cols = np.column_stack([ar_series[0.0][:20_000], ar_series[0.9][:20_000]])
    tau, sigma = tau_int(cols, return_error=True)
    assert tau.shape == (2,) and sigma.shape == (2,)
    for j in range(2):
        t1, s1 = tau_int(cols[:, j], return_error=True)
        assert tau[j] == pytest.approx(t1)
        assert sigma[j] == pytest.approx(s1)


def test_tau_int_accepts_list():
    x = np.random.default_rng(3).standard_normal(500)
    assert tau_int(list(x)) == pytest.approx(tau_int(x))


def test_tau_int_too_short_raises_and_quiet_warns():
    x = ar1(0.99, 1000, np.random.default_rng(5))  # true tau ~ 99.5
    with pytest.raises(AutocorrelationError, match="1000") as info:
        tau_int(x)
    assert "tau_int=" in str(info.value)
    assert isinstance(info.value, ValueError)
    with pytest.warns(AutocorrelationWarning, match="too short"):
        tau = tau_int(x, quiet=True)
    assert np.isfinite(tau) and tau > 1.0


def test_tau_int_quiet_no_window_returns_best_estimate():
    # a pure ramp has no self-consistent window with M < n/2
    x = np.arange(200.0)
    with pytest.raises(AutocorrelationError, match="window"):
        tau_int(x)
    with pytest.warns(AutocorrelationWarning):
        tau = tau_int(x, quiet=True)
    rho = autocorrelation(x)
    assert tau == pytest.approx(np.max(0.5 + np.cumsum(rho[1:100])))
    assert tau > 20


def test_constant_series_no_warning():
    x = np.full(1000, 0.1)  # 0.1 is not exactly representable: rounding trap
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tau_int(x) == 0.5
        assert tau_int(x, return_error=True) == (0.5, 0.0)
        assert error_of_mean(x) == 0.0
        assert binning_error(x) == 0.0
        _, errs, derrs = binning_analysis(x)
        assert np.all(errs == 0) and np.all(derrs == 0)
        est, err = jackknife(np.mean, x, n_blocks=10)
        assert est == pytest.approx(0.1) and err == pytest.approx(0.0, abs=1e-15)
        two = np.column_stack([x, np.random.default_rng(0).standard_normal(1000)])
        tau2 = tau_int(two)
        assert tau2[0] == 0.5 and abs(tau2[1] - 0.5) < 0.1


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(x=[1.0, np.nan, 2.0, 3.0, 4.0]), "x"),
        (dict(x=[1.0, np.inf, 2.0, 3.0, 4.0]), "x"),
        (dict(x=[1.0, 2.0, 3.0]), "x"),
        (dict(x=np.zeros((5, 2, 2))), "x"),
        (dict(x=np.ones(100), c=0.0), "c"),
        (dict(x=np.ones(100), c=-1.0), "c"),
    ],
)
def test_tau_int_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        tau_int(**kwargs)


# ---------------------------------------------------------------- error_of_mean
@pytest.mark.parametrize("a", AR_COEFFS)
def test_error_of_mean_ar1(ar_series, a):
    x = ar_series[a]
    err = error_of_mean(x)
    exact = exact_error_of_mean(a, len(x))
    assert err == pytest.approx(exact, rel=0.1)


def test_error_of_mean_is_not_naive(ar_series):
    x = ar_series[0.9]
    naive = x.std(ddof=1) / np.sqrt(len(x))
    ratio = error_of_mean(x) / naive
    assert ratio == pytest.approx(np.sqrt(2 * exact_tau(0.9)), rel=0.1)


def test_error_of_mean_formula_and_columns(ar_series):
    x = ar_series[0.5][:50_000]
    tau = tau_int(x)
    expected = np.sqrt(2 * tau * x.var(ddof=1) / len(x))
    assert error_of_mean(x) == pytest.approx(expected)
    two = np.column_stack([x, 2 * x])
    np.testing.assert_allclose(error_of_mean(two), [expected, 2 * expected])


def test_error_of_mean_too_short():
    x = ar1(0.99, 1000, np.random.default_rng(6))
    with pytest.warns(AutocorrelationWarning):
        error_of_mean(x)
    with pytest.raises(AutocorrelationError):
        error_of_mean(x, quiet=False)


# ---------------------------------------------------------------- binning
def test_binning_analysis_structure():
    x = np.random.default_rng(7).standard_normal(1000)
    sizes, errs, derrs = binning_analysis(x)
    np.testing.assert_array_equal(sizes, 2 ** np.arange(len(sizes)))
    assert 1000 // sizes[-1] >= 2 and 1000 // (2 * sizes[-1]) < 2
    assert errs[0] == pytest.approx(x.std(ddof=1) / np.sqrt(1000))
    np.testing.assert_allclose(derrs[0], errs[0] / np.sqrt(2 * 999))
    # level 1: pairs of the last 1000 samples (n even, nothing dropped)
    pairs = x.reshape(500, 2).mean(axis=1)
    assert errs[1] == pytest.approx(pairs.std(ddof=1) / np.sqrt(500))
    # level 3: 125 blocks of 8 -> odd, so level 4 drops the first 8-block
    b16 = x[8:].reshape(62, 16).mean(axis=1)
    assert errs[4] == pytest.approx(b16.std(ddof=1) / np.sqrt(62))


@pytest.mark.parametrize("a", AR_COEFFS)
def test_binning_error_agrees_with_error_of_mean(ar_series, a):
    x = ar_series[a]
    be = binning_error(x)
    assert be == pytest.approx(error_of_mean(x), rel=0.15)
    assert be == pytest.approx(exact_error_of_mean(a, len(x)), rel=0.15)


def test_binning_error_columns(ar_series):
    two = np.column_stack([ar_series[0.0][:50_000], ar_series[0.9][:50_000]])
    be = binning_error(two)
    assert be.shape == (2,)
    assert be[0] == pytest.approx(binning_error(two[:, 0]))
    assert be[1] == pytest.approx(binning_error(two[:, 1]))


def test_binning_error_no_plateau_warns():
    x = ar1(0.999, 2000, np.random.default_rng(8))
    with pytest.warns(AutocorrelationWarning, match="plateau"):
        binning_error(x)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(x=np.ones(100), min_blocks=1), "min_blocks"),
        (dict(x=np.ones(100), min_blocks=2.5), "min_blocks"),
        (dict(x=np.ones(10), min_blocks=32), "min_blocks"),
        (dict(x=[1.0, np.nan, 0.0, 1.0, 2.0]), "x"),
    ],
)
def test_binning_error_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        binning_error(**kwargs)


# ---------------------------------------------------------------- blocks
def test_blocks_drops_remainder_at_start():
    x = np.arange(10.0)
    np.testing.assert_allclose(blocks(x, 3), [2.0, 5.0, 8.0])  # drops x[0]
    np.testing.assert_allclose(blocks(x, 10), x)
    two = np.column_stack([x, -x])
    np.testing.assert_allclose(blocks(two, 2), [[2.0, -2.0], [7.0, -7.0]])


@pytest.mark.parametrize("n_blocks", [0, 11, 2.0])
def test_blocks_bad_n_blocks(n_blocks):
    with pytest.raises(ValueError, match="n_blocks"):
        blocks(np.arange(10.0), n_blocks)


# ---------------------------------------------------------------- jackknife
def test_jackknife_delete_one_identities():
    x = np.random.default_rng(9).standard_normal(64)
    est, err = jackknife(np.mean, x, n_blocks=64)
    assert est == pytest.approx(x.mean())
    assert err == pytest.approx(x.std(ddof=1) / np.sqrt(64))
    # the bias-corrected jackknife of the biased variance is the unbiased one
    est, _ = jackknife(np.var, x, n_blocks=64)
    assert est == pytest.approx(x.var(ddof=1))


def test_jackknife_uses_raw_samples_and_drops_start():
    seen = []

    def f(s):
        seen.append(len(s))
        return s.mean()

    x = np.arange(103.0)
    jackknife(f, x, n_blocks=10)  # L = 10, 3 samples dropped at the start
    assert seen == [100] + [90] * 10
    est, _ = jackknife(np.mean, x, n_blocks=10)
    assert est == pytest.approx(x[3:].mean())


def test_jackknife_mean_matches_error_of_mean(ar_series):
    x = ar_series[0.9]
    # blocks of 1000 >> tau ~ 9.5; 200 blocks -> ~5 % statistical noise
    est, err = jackknife(np.mean, x, n_blocks=200)
    assert est == pytest.approx(x.mean())
    assert err == pytest.approx(error_of_mean(x), rel=0.2)
    assert err == pytest.approx(exact_error_of_mean(0.9, len(x)), rel=0.2)


def test_jackknife_variance_vs_brute_force():
    a, n, n_chains = 0.5, 10_000, 200
    chains = ar1(a, n, np.random.default_rng(11), n_chains=n_chains)
    brute = np.std(np.var(chains, axis=0), ddof=1)
    errs = np.array([jackknife(np.var, chains[:, i], n_blocks=50)[1] for i in range(n_chains)])
    # single chain (noise ~ 10 %) and average over chains (noise ~ 5 %, brute force)
    assert errs[0] == pytest.approx(brute, rel=0.3)
    assert np.sqrt(np.mean(errs**2)) == pytest.approx(brute, rel=0.2)


def test_jackknife_multiple_series_and_vector_f():
    rng = np.random.default_rng(12)
    e = rng.standard_normal(4000) + 3.0
    m = np.abs(rng.standard_normal(4000)) + 1.0
    est, err = jackknife(lambda u, v: np.mean(u) / np.mean(v), e, m, n_blocks=40)
    assert est == pytest.approx(e.mean() / m.mean(), rel=1e-3)
    assert 0 < err < 0.05
    est_v, err_v = jackknife(lambda u, v: np.array([u.mean(), v.mean()]), e, m, n_blocks=40)
    assert est_v.shape == (2,) and err_v.shape == (2,)
    assert err_v[0] == pytest.approx(jackknife(np.mean, e, n_blocks=40)[1])


def test_jackknife_block_size_options(ar_series):
    x = ar_series[0.9][:50_000]
    est1, err1 = jackknife(np.mean, x, block_size=500)
    est2, err2 = jackknife(np.mean, x, n_blocks=100)
    assert (est1, err1) == pytest.approx((est2, err2))
    L = default_block_size(x)
    est3, err3 = jackknife(np.mean, x, block_size="auto")
    assert (est3, err3) == pytest.approx(jackknife(np.mean, x, block_size=L))


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((), {}, "series"),
        ((np.ones(10), np.ones(11)), {}, "series"),
        ((np.ones(10),), dict(n_blocks=1), "n_blocks"),
        ((np.ones(10),), dict(n_blocks=11), "n_blocks"),
        ((np.ones(10),), dict(block_size=0), "block_size"),
        ((np.ones(10),), dict(block_size=6), "block_size"),
        ((np.ones(10),), dict(block_size="big"), "block_size"),
    ],
)
def test_jackknife_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        jackknife(np.mean, *args, **kwargs)


# ---------------------------------------------------------------- bootstrap
def test_bootstrap_reproducible(ar_series):
    x = ar_series[0.5][:5000]
    r1 = bootstrap(np.mean, x, n_boot=100, rng=42)
    r2 = bootstrap(np.mean, x, n_boot=100, rng=42)
    r3 = bootstrap(np.mean, x, n_boot=100, rng=43)
    assert r1 == r2
    assert r1[1] != r3[1]
    assert r1[0] == x.mean()
    r4 = bootstrap(np.mean, x, n_boot=100, rng=np.random.SeedSequence(42))
    r5 = bootstrap(np.mean, x, n_boot=100, rng=np.random.default_rng(42))
    assert r4 == r5 == r1


def test_bootstrap_error_of_mean(ar_series):
    x = ar_series[0.9]
    exact = exact_error_of_mean(0.9, len(x))
    _, err = bootstrap(np.mean, x, n_boot=200, block_size=1000, rng=1)
    assert err == pytest.approx(exact, rel=0.25)
    _, err_auto = bootstrap(np.mean, x, n_boot=200, rng=2)
    assert err_auto == pytest.approx(exact, rel=0.25)
    # the iid bootstrap (block_size=1) misses the correlations
    _, err_iid = bootstrap(np.mean, x, n_boot=200, block_size=1, rng=3)
    assert err_iid < 0.5 * exact


def test_bootstrap_joint_resampling():
    x = np.random.default_rng(13).standard_normal(2000)
    # identical series resampled with the same indices: difference is exactly 0
    est, err = bootstrap(lambda u, v: np.mean(u - v), x, x.copy(), n_boot=50, block_size=10, rng=0)
    assert est == 0.0 and err == 0.0
    est_v, err_v = bootstrap(lambda u: np.array([u.mean(), u.var()]), x, n_boot=50, rng=0)
    assert est_v.shape == (2,) and err_v.shape == (2,) and np.all(err_v > 0)


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((), {}, "series"),
        ((np.ones(10), np.ones(9)), {}, "series"),
        ((np.ones(10),), dict(n_boot=1), "n_boot"),
        ((np.ones(10),), dict(block_size=0), "block_size"),
        ((np.ones(10),), dict(block_size=11), "block_size"),
    ],
)
def test_bootstrap_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        bootstrap(np.mean, *args, **kwargs)


# ---------------------------------------------------------------- default_block_size
def test_default_block_size(ar_series):
    x0, x9 = ar_series[0.0], ar_series[0.9]
    assert default_block_size(x9) == int(np.ceil(10 * tau_int(x9)))
    assert default_block_size(x0, x9) == default_block_size(x9)
    assert default_block_size(np.full(100, 2.0)) == 5
    with pytest.raises(ValueError, match="series"):
        default_block_size()


# ---------------------------------------------------------------- tau error calibration
def test_tau_int_error_matches_scatter_over_chains():
    # 40 independent AR(1) chains: their tau estimates scatter like the Madras-Sokal error
    a, n = 0.8, 20_000
    chains = ar1(a, n, np.random.default_rng(21), n_chains=40)
    taus, sigmas = tau_int(chains, return_error=True)
    exact = exact_tau(a)
    assert abs(taus.mean() - exact) < 4 * taus.std(ddof=1) / np.sqrt(40)
    ratio = taus.std(ddof=1) / np.sqrt(np.mean(sigmas ** 2))
    assert 0.6 < ratio < 1.5, ratio
    z = (taus - exact) / sigmas
    assert np.mean(np.abs(z) < 2) > 0.8


def test_tau_int_analysis():
    x = ar1(0.5, 20_000, np.random.default_rng(22))
    r = tau_int_analysis(x)
    assert isinstance(r, TauIntResult)
    t, s = tau_int(x, return_error=True)
    assert (r.tau, r.error) == (t, s)
    assert r.reliable and r.n == 20_000 and r.window >= 5 * r.tau
    np.testing.assert_allclose(r.rho, autocorrelation(x))
    with pytest.raises(AutocorrelationError):
        tau_int_analysis(ar1(0.99, 500, np.random.default_rng(1)))
    with pytest.warns(AutocorrelationWarning):
        short = tau_int_analysis(ar1(0.99, 500, np.random.default_rng(1)), quiet=True)
    assert not short.reliable
    with pytest.raises(ValueError, match="1-D"):
        tau_int_analysis(np.ones((10, 2)))


def test_binning_plateau():
    x = ar1(0.9, 100_000, np.random.default_rng(23))
    b = binning_plateau(x)
    assert isinstance(b, BinningResult) and b.plateau_reached
    assert b.error == binning_error(x)
    sizes, errs, _ = binning_analysis(x)
    np.testing.assert_array_equal(b.block_sizes, sizes)
    assert b.errors[list(sizes).index(b.plateau_block_size)] == b.error
    assert b.tau == pytest.approx(exact_tau(0.9), rel=0.2)
    c = binning_plateau(np.full(100, 0.3))
    assert c.error == 0.0 and c.tau == 0.5 and c.plateau_block_size == 0
    with pytest.warns(AutocorrelationWarning, match="plateau"):
        assert not binning_plateau(ar1(0.999, 2000, np.random.default_rng(8))).plateau_reached


# ---------------------------------------------------------------- analytic variances
def test_jackknife_and_bootstrap_match_delta_method():
    # iid data: the errors of mean^2, a ratio and the variance have closed forms
    rng = np.random.default_rng(24)
    n = 20_000
    mu, s = 2.0, 0.5
    x = mu + s * rng.standard_normal(n)
    y = 3.0 + 0.7 * rng.standard_normal(n)
    cases = [
        ((lambda u: u.mean() ** 2,), (x,), 2 * mu * s / np.sqrt(n)),
        ((lambda u, v: u.mean() / v.mean(),), (x, y),
         np.sqrt((s / 3.0) ** 2 + (mu * 0.7 / 9.0) ** 2) / np.sqrt(n)),
        ((np.var,), (x,), np.sqrt(2 * s ** 4 / (n - 1))),
    ]
    for (f,), series, exact in cases:
        _, ej = jackknife(f, *series, n_blocks=100)
        _, eb = bootstrap(f, *series, n_boot=400, block_size=1, rng=5)
        # jackknife/bootstrap errors are themselves uncertain by ~1/sqrt(2 * 99) and
        # ~1/sqrt(2 * 400): 25 % is about 3.5 of those
        assert ej == pytest.approx(exact, rel=0.25)
        assert eb == pytest.approx(exact, rel=0.25)


def test_jackknife_bootstrap_nan_input():
    x = np.ones(100)
    x[5] = np.nan
    with pytest.raises(ValueError, match=r"series\[0\].*non-finite"):
        jackknife(np.mean, x)
    with pytest.raises(ValueError, match=r"series\[1\].*non-finite"):
        bootstrap(np.mean, np.ones(100), np.where(np.arange(100) == 3, np.inf, 1.0))
