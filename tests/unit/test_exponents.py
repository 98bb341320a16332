"""Unit tests for kadanoff.analysis.exponents: scaling fits, dynamic exponent, BKT helpers."""
import math

import numpy as np
import pytest

from kadanoff.analysis import exponents as ex

L = np.array([8.0, 12.0, 16.0, 24.0, 32.0, 48.0, 64.0])


def test_power_law_exact_and_names():
    y = 0.9 * L ** 1.75
    r = ex.gamma_over_nu(L, y, 0.01 * y)
    assert r.names == ("amplitude", "gamma/nu")
    assert r.exponent.value == pytest.approx(1.75, abs=1e-9)
    assert r["amplitude"].value == pytest.approx(0.9, rel=1e-8)
    assert r.chi2 == pytest.approx(0.0, abs=1e-12) and r.dof == len(L) - 2
    np.testing.assert_allclose(r(L), y, rtol=1e-9)
    assert set(r.params) == {"amplitude", "gamma/nu"}
    assert "gamma/nu" in repr(r)
    # decaying quantity: positive beta/nu
    m = 1.1 * L ** -0.125
    b = ex.beta_over_nu(L, m, 0.001 * m)
    assert b.exponent.value == pytest.approx(0.125, abs=1e-9)
    assert ex.inv_nu(L, 2 * L, 0.1 * L).exponent.value == pytest.approx(1.0, abs=1e-9)
    z = ex.dynamic_exponent(L, 0.5 * L ** 2.17, L).exponent
    assert z.value == pytest.approx(2.17, abs=1e-8)
    with pytest.raises(KeyError, match="no parameter"):
        r["nu"]


def test_power_law_errors_are_calibrated():
    rng = np.random.default_rng(0)
    y0 = 2.0 * L ** 1.75
    dy = 0.02 * y0
    z, chi2 = [], []
    for _ in range(300):
        r = ex.gamma_over_nu(L, y0 + dy * rng.standard_normal(len(L)), dy)
        z.append((r.exponent.value - 1.75) / r.exponent.error)
        chi2.append(r.chi2)
    z = np.array(z)
    assert abs(z.mean()) < 0.2
    assert 0.85 < z.std(ddof=1) < 1.15
    assert np.mean(chi2) == pytest.approx(len(L) - 2, rel=0.15)
    # p-values are uniform
    r = ex.gamma_over_nu(L, y0 + dy * rng.standard_normal(len(L)), dy)
    assert 0.0 <= r.pvalue <= 1.0


def test_correction_to_scaling():
    y = 0.8 * L ** 1.75 * (1 - 0.6 * L ** -1.75)
    plain = ex.gamma_over_nu(L, y, 1e-4 * y)
    assert abs(plain.exponent.value - 1.75) > 5 * plain.exponent.error  # biased without it
    corr = ex.gamma_over_nu(L, y, 1e-4 * y, omega=1.75)
    assert corr.names == ("amplitude", "gamma/nu", "correction")
    assert corr.exponent.value == pytest.approx(1.75, abs=1e-8)
    assert corr["correction"].value == pytest.approx(-0.6, abs=1e-6)
    free = ex.gamma_over_nu(L, y, 1e-4 * y, fit_omega=True, omega=1.5)
    assert free["omega"].value == pytest.approx(1.75, abs=1e-4)
    assert free.exponent.value == pytest.approx(1.75, abs=1e-6)
    only_big = ex.gamma_over_nu(L, y, 1e-4 * y, L_min=32)
    assert len(only_big.x) == 3


def test_scale_errors():
    rng = np.random.default_rng(1)
    y = L ** 2 * (1 + 0.05 * rng.standard_normal(len(L)))
    a = ex.power_law(L, y, 0.005 * y)
    b = ex.power_law(L, y, 0.005 * y, scale_errors=True)
    assert a.chi2 / a.dof > 1
    assert b.exponent.error == pytest.approx(a.exponent.error * math.sqrt(a.chi2 / a.dof))


def test_peak_shift_variants():
    Tc, a = 2.269, 0.7
    T = Tc + a * L ** -1.0
    dT = np.full(len(L), 1e-4)
    r = ex.peak_shift(L, T, dT)
    assert r.names == ("Tc", "a", "1/nu")
    assert r["Tc"].value == pytest.approx(Tc, abs=1e-8)
    assert r.exponent.value == pytest.approx(1.0, abs=1e-6)
    r2 = ex.peak_shift(L, T, dT, inv_nu=1.0)
    assert r2.exponent.value == pytest.approx(Tc, abs=1e-10)
    r3 = ex.peak_shift(L, T, dT, Tc=Tc)
    assert r3["1/nu"].value == pytest.approx(1.0, abs=1e-8)
    with pytest.raises(ValueError, match="both"):
        ex.peak_shift(L, T, dT, Tc=Tc, inv_nu=1.0)


def test_fit_generic_and_dof_warning():
    x = np.array([1.0, 2.0])
    with pytest.warns(RuntimeWarning, match="dof = 0"):
        r = ex.fit(lambda x, a, b: a + b * x, x, [1.0, 3.0], [0.1, 0.1], [0, 0], ["a", "b"])
    assert r["b"].value == pytest.approx(2.0)
    assert math.isnan(r.pvalue)
    with pytest.raises(AttributeError):
        r.exponent
    with pytest.raises(ValueError, match="at least 3"):
        ex.fit(lambda x, a, b, c: a, x, [1.0, 3.0], [0.1, 0.1], [0, 0, 0], "abc")


@pytest.mark.parametrize("args, kw, match", [
    (([8, 16], [1.0, 2.0], [0.1]), {}, "mismatched"),
    (([8, 16], [1.0, np.nan], [0.1, 0.1]), {}, "non-finite"),
    (([8, 16], [1.0, 2.0], [0.1, 0.0]), {}, "positive"),
    (([8, 8], [1.0, 2.0], [0.1, 0.1]), {}, "2 different sizes"),
    (([16], [1.0], [0.1]), {}, "2 different sizes"),
    (([8, 16], [1.0, -2.0], [0.1, 0.1]), {}, "one sign"),
    (([-8, 16], [1.0, 2.0], [0.1, 0.1]), {}, "L must be positive"),
    (([8, 16, 32], [1.0, 2.0, 3.0], [0.1, 0.1, 0.1]), dict(omega=-1.0), "omega"),
    (([[8, 16]], [1.0, 2.0], [0.1, 0.1]), {}, "1-D"),
])
def test_power_law_bad_input(args, kw, match):
    with pytest.raises(ValueError, match=match):
        ex.gamma_over_nu(*args, **kw)


# ------------------------------------------------------------------ BKT
def test_helicity_crossing():
    T = np.linspace(0.8, 1.0, 21)
    Tstar = 0.913
    ups = 2 * Tstar / np.pi - 3.0 * (T - Tstar)  # crosses 2T/pi at Tstar, linear
    p = ex.helicity_crossing(T, ups, np.full(21, 1e-3), rng=0)
    assert p.value == pytest.approx(Tstar, abs=1e-12)
    # error: a shift d of Upsilon moves the crossing by d / (3 + 2/pi)
    assert p.error == pytest.approx(1e-3 / (3 + 2 / np.pi) / math.sqrt(2), rel=0.5)
    rng = np.random.default_rng(2)
    reps = ups + 1e-3 * rng.standard_normal((20, 1))  # whole-curve shifts
    q = ex.helicity_crossing(T, ups, replicas=reps)
    shifts = reps[:, 0] - ups[0]
    expected = math.sqrt(19 / 20 * np.sum((shifts - shifts.mean()) ** 2)) / (3 + 2 / np.pi)
    assert q.error == pytest.approx(expected, rel=1e-9)
    with pytest.warns(RuntimeWarning, match="does not cross"):
        assert math.isnan(ex.helicity_crossing(T, 2 * T / np.pi + 1, np.ones(21)).value)
    with pytest.raises(ValueError, match="dUpsilon"):
        ex.helicity_crossing(T, ups)
    with pytest.raises(ValueError, match="increasing"):
        ex.helicity_crossing(T[::-1], ups, np.ones(21))


def test_bkt_extrapolate():
    sizes = np.array([8.0, 16, 32, 64, 128])
    T = 0.8929 + 0.9 / np.log(sizes) ** 2
    r = ex.bkt_extrapolate(sizes, T, np.full(5, 1e-4))
    assert r.exponent.value == pytest.approx(0.8929, abs=1e-9)
    assert r["c"].value == pytest.approx(0.9, abs=1e-8)
    with pytest.raises(ValueError, match="l0"):
        ex.bkt_extrapolate(sizes, T, np.full(5, 1e-4), l0=10.0)


def test_weber_minnhagen():
    TB, C = 0.893, 1.2
    sizes = np.array([8.0, 16, 32, 64])
    T = np.linspace(0.85, 0.95, 11)
    lnL = np.log(sizes)[:, None]
    # the WM form holds at TB; away from it the modulus drifts with ln L
    ups = 2 * T / np.pi * (1 + 1 / (2 * lnL + C)) + 0.05 * (TB - T) * lnL
    t_best, chi2, Cs = ex.weber_minnhagen(T, sizes, ups, np.full(ups.shape, 1e-3))
    assert t_best == pytest.approx(TB, abs=0.004)
    k = np.argmin(np.abs(T - TB))
    assert Cs[k] == pytest.approx(C, abs=0.2)
    assert chi2[0] > 100 * chi2[k]
    with pytest.raises(ValueError, match="3 different sizes"):
        ex.weber_minnhagen(T, sizes[:2], ups[:2], np.ones((2, 11)))
    with pytest.raises(ValueError, match="shape"):
        ex.weber_minnhagen(T, sizes, ups[:, :5], np.ones((4, 5)))
