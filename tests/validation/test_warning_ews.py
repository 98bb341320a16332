"""Early-warning indicators: exact values, an independent implementation, and a real transition.

* Ornstein-Uhlenbeck process with a slowly decreasing restoring rate k(t): in
  non-overlapping windows the rolling variance and lag-1 autocorrelation agree
  with the exact quasi-static values (variance 1/(2k), ac1 = exp(-k dt), with
  the known finite-window bias of both estimators) to |z| < 4; the ramp gives
  significant Kendall-tau trends, a stationary control does not.
* ewstools (optional; an independent implementation of the same conventions):
  identical rolling variance / ac1 / skewness / kurtosis / Kendall tau on the
  same residuals, same Gaussian and LOWESS trends.
* Contact process on a chain with its infection rate ramped down to the critical
  point: rising variance and lag-1 autocorrelation, significant against both
  surrogate kinds.
"""
import math

import numpy as np
import pytest

from kadanoff.analysis import warning as ews

from .helpers import Z_MAX


def ou_ramp(k, dt, rng):
    """Exact discretisation of dx = -k(t) x dt + dW (stationary variance 1/(2k))."""
    a = np.exp(-k * dt)
    s = np.sqrt((1 - a * a) / (2 * k))
    eps = rng.standard_normal(len(k))
    x = np.empty(len(k))
    x[0] = eps[0] / math.sqrt(2 * k[0])
    for i in range(1, len(k)):
        x[i] = a[i] * x[i - 1] + s[i] * eps[i]
    return x


def expected_window(a, var, w):
    """E[s^2] (ddof=1) and E[r1] of an AR(1) window of w points, coefficient a, variance var."""
    var_mean = var / w * ((1 + a) / (1 - a) - 2 * a * (1 - a ** w) / (w * (1 - a) ** 2))
    e_var = w / (w - 1) * (var - var_mean)
    e_ac1 = a - (1 + 3 * a) / w                       # Marriott-Pope / Kendall bias
    sd_var = var * math.sqrt(2.0 / w * (1 + a * a) / (1 - a * a))
    sd_ac1 = math.sqrt((1 - a * a) / w)
    return e_var, sd_var, e_ac1, sd_ac1


def test_ou_ramp_exact_variance_and_ac1():
    dt, n, w = 0.1, 200_000, 10_000
    k = np.linspace(1.0, 0.1, n)                      # relaxation time 1 -> 10 (10 -> 100 steps)
    x = ou_ramp(k, dt, np.random.default_rng(17))
    ind = ews.rolling_indicators(x, w, indicators=("variance", "ac1", "return_rate"), dt=dt)
    z_var, z_ac, z_rr = [], [], []
    for end in range(w - 1, n, w):                   # 20 non-overlapping, independent windows
        sl = slice(end - w + 1, end + 1)
        v_i, a_i = 1 / (2 * k[sl]), np.exp(-k[sl] * dt)
        var, a = v_i.mean(), np.sum(a_i * v_i) / v_i.sum()   # quasi-static mixture
        e_var, sd_var, e_ac1, sd_ac1 = expected_window(a, var, w)
        z_var.append((ind["variance"][end] - e_var) / sd_var)
        z_ac.append((ind["ac1"][end] - e_ac1) / sd_ac1)
        # the return rate -ln(ac1)/dt tracks k itself
        z_rr.append((ind["return_rate"][end] + math.log(e_ac1) / dt) / (sd_ac1 / (e_ac1 * dt)))
    for name, z in (("variance", z_var), ("ac1", z_ac), ("return_rate", z_rr)):
        z = np.array(z)
        assert np.all(np.abs(z) < Z_MAX), (name, z.round(2))
        # as a whole the 20 windows scatter like standard normals: sum z^2 ~ chi^2_20,
        # 52 is its 0.01% point (a 10% error in the variance gives 84, 5% in k gives 55)
        assert np.sum(z ** 2) < 52, (name, z.round(2))


def test_ou_ramp_significant_and_stationary_control_not():
    dt, n = 0.1, 6_000
    ramp = ou_ramp(np.linspace(1.0, 0.1, n), dt, np.random.default_rng(3))
    cfg = dict(window=0.5, bandwidth=0.2, dt=dt, n_surrogates=99, rng=4,
               indicators=("variance", "ac1", "return_rate"))
    ew = ews.EarlyWarning(**cfg).compute(ramp)
    assert ew.kendall_tau["variance"] > 0.5 and ew.kendall_tau["ac1"] > 0.5
    assert ew.kendall_tau["return_rate"] < -0.5
    for kind in ("phase", "ar1"):
        for name in ("variance", "ac1", "return_rate"):
            assert ew.p_values[kind][name] <= 0.05, (kind, name, ew.p_values)
    control = ou_ramp(np.full(n, 0.5), dt, np.random.default_rng(3))
    ctl = ews.EarlyWarning(**cfg).compute(control)
    assert min(ctl.p_values["phase"]["variance"], ctl.p_values["phase"]["ac1"]) > 0.05, \
        ctl.summary()


@pytest.mark.filterwarnings("ignore:The inplace keyword")
def test_agrees_with_ewstools():
    ewstools = pytest.importorskip("ewstools")
    rng = np.random.default_rng(8)
    n = 1_200
    x = ou_ramp(np.linspace(1.0, 0.2, n), 0.2, rng) + np.linspace(0, 2, n) ** 2
    for method in ("Gaussian", "Lowess"):
        ts = ewstools.TimeSeries(x)
        ts.detrend(method=method, bandwidth=0.2, span=0.2)
        for f in (ts.compute_var, ts.compute_auto, ts.compute_skew, ts.compute_kurt):
            f(rolling_window=0.25)
        ts.compute_ktau()
        # ewstools rounds the normal quartile to 0.675 (kernel sigma = 0.25 b / 0.675);
        # the same kernel in our convention (sigma = 0.25 b / 0.67449) has b' = b * 0.67449/0.675
        bw = 0.2 * ews._QUARTILE / 0.675
        trend, _ = ews.detrend(x, method.lower(), bandwidth=bw, span=0.2)
        np.testing.assert_allclose(trend, ts.state["smoothing"].to_numpy(), rtol=0,
                                   atol=1e-7 * np.ptp(x))
        ind = ews.rolling_indicators(ts.state["residuals"].to_numpy(), 0.25)
        for ours, theirs in (("variance", "variance"), ("ac1", "ac1"), ("skewness", "skew"),
                             ("kurtosis", "kurtosis")):
            ref = ts.ews[theirs].to_numpy()
            np.testing.assert_array_equal(np.isnan(ind[ours]), np.isnan(ref))
            np.testing.assert_allclose(ind[ours], ref, rtol=1e-8, atol=1e-10, err_msg=ours)
            assert ews.kendall_tau(ind[ours]) == pytest.approx(ts.ktau[theirs], abs=1e-9)
        # and through the compute object with the same settings
        ew = ews.EarlyWarning(window=0.25, detrend=method.lower(), bandwidth=bw, span=0.2,
                              indicators=("variance", "ac1")).compute(x)
        assert ew.kendall_tau["variance"] == pytest.approx(ts.ktau["variance"], abs=1e-6)
        assert ew.kendall_tau["ac1"] == pytest.approx(ts.ktau["ac1"], abs=1e-6)


def test_lowess_agrees_with_statsmodels():
    sm = pytest.importorskip("statsmodels.nonparametric.smoothers_lowess")
    rng = np.random.default_rng(12)
    for n, frac, it in ((300, 0.1, 3), (1000, 0.25, 3), (333, 0.05, 0), (120, 0.5, 1)):
        x = np.sort(rng.uniform(0, 10, n))
        y = np.sin(x) + 0.3 * rng.standard_t(2, size=n)          # heavy tails: robustness
        ref = sm.lowess(y, x, frac=frac, it=it, delta=0.0, return_sorted=False)
        np.testing.assert_allclose(ews.lowess(x, y, frac, iterations=it), ref, rtol=0,
                                   atol=1e-9)


def ramped_contact_process(L, lam0, lam1, t_total, segment, dt, seed):
    """Density of a contact process on a chain whose rate steps linearly from lam0 to lam1
    (one step per segment); each segment continues from the previous configuration."""
    import kadanoff as kd
    import kadanoff.reaction as rd
    lat = kd.lattice.chain(L)
    n_seg = int(round(t_total / segment))
    lams = np.linspace(lam0, lam1, n_seg)
    streams = np.random.SeedSequence(seed).spawn(n_seg)
    state, t, rho = None, [], []
    for i, (lam, ss) in enumerate(zip(lams, streams)):
        cp = rd.contact_process(lat, float(lam))
        res = cp.run(segment, rng=ss, record_every=dt, initial=state)
        t.append(res["t"][1:] + i * segment)
        rho.append(res["density"][1:])
        state = cp.state
        if res.meta["absorbed"]:
            break
    return np.concatenate(t), np.concatenate(rho)


def test_contact_process_ramp_to_critical_point():
    # lambda_c = 3.29785 on the chain in this rate convention (kd.theory.reaction.CP_1D_CRITICAL)
    t, rho = ramped_contact_process(1000, 5.0, 3.3, 3000.0, 5.0, 1.0, seed=2)
    assert len(rho) == 3000 and rho[-1] > 0
    ew = ews.EarlyWarning(window=0.5, bandwidth=0.1, n_surrogates=99, rng=1,
                          indicators=("variance", "ac1")).compute(rho, time=t)
    assert ew.kendall_tau["variance"] > 0.5 and ew.kendall_tau["ac1"] > 0.5, ew.summary()
    for kind in ("phase", "ar1"):
        assert ew.p_values[kind]["variance"] <= 0.05, ew.summary()
        assert ew.p_values[kind]["ac1"] <= 0.05, ew.summary()
    # the indicators at the end exceed those of the first full window clearly
    v, a = ew.indicators["variance"], ew.indicators["ac1"]
    first = ew.window_points - 1
    assert v[-1] > 1.5 * v[first] and a[-1] > a[first] + 0.1
