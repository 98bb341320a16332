"""kadanoff.plot analysis figures: each returns a Figure with the expected content, never shows."""
import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")

from matplotlib.figure import Figure  # noqa: E402

from kadanoff import plot  # noqa: E402
from kadanoff.analysis import exponents as ex  # noqa: E402
from kadanoff.analysis.fss import Collapse, Crossing  # noqa: E402


def _ar1(n=20_000, a=0.8, seed=0):
    rng = np.random.default_rng(seed)
    x = np.empty(n)
    x[0] = rng.standard_normal()
    eta = rng.standard_normal(n)
    for i in range(1, n):
        x[i] = a * x[i - 1] + eta[i]
    return x


def test_no_pyplot_figures_are_created():
    import matplotlib.pyplot as plt
    before = plt.get_fignums()
    fig = plot.binning_plot(_ar1(4096))
    assert isinstance(fig, Figure)
    assert plt.get_fignums() == before


def test_binder_plot_shared_and_per_size_grids(tmp_path):
    T = np.linspace(2.2, 2.34, 8)
    U = np.vstack([0.6 - L * (T - 2.269) for L in (1, 2)])
    cs = [Crossing(8, 16, 2.269, 0.002)]
    fig = plot.binder_plot(T, [8, 16], U, 0.01 * np.ones_like(U), cs, Tc=2.269)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "L = 8" in labels and "L = 16" in labels
    assert ax.get_xlabel() == "T"
    # per-size grids of different length, dense enough for bands
    Ts = [np.linspace(2.1, 2.4, 50), np.linspace(2.2, 2.3, 30)]
    Us = [0.6 - (t - 2.269) for t in Ts]
    fig2 = plot.binder_plot(Ts, [8, 16], Us, [0.01 * np.ones(50), 0.01 * np.ones(30)])
    assert len(fig2.axes[0].lines) == 2
    out = tmp_path / "b.png"
    fig2.savefig(out)
    assert out.stat().st_size > 1000
    with pytest.raises(ValueError, match="one row per size"):
        plot.binder_plot(Ts, [8, 16, 32], Us)


def test_binder_plot_into_given_axes():
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    try:
        out = plot.binder_plot(np.linspace(0, 1, 5), [4], np.ones((1, 5)), ax=ax)
        assert out is fig
    finally:
        plt.close(fig)


def test_collapse_plot_and_method():
    sizes = [8, 16, 32]
    rng = np.random.default_rng(0)
    Ts, As, dAs = [], [], []
    for L in sizes:
        T = 2.27 + np.linspace(-1, 1, 9) / L
        A = 1 / (1 + np.exp((T - 2.269) * L))
        Ts.append(T)
        As.append(A + 0.005 * rng.standard_normal(9))
        dAs.append(np.full(9, 0.005))
    col = Collapse(exponent=0.0, fix="exponent", n_boot=5, rng=0).compute(Ts, sizes, As, dAs)
    fig = col.plot()
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.containers) == 3  # one errorbar container per size
    assert "T_c" in ax.get_legend().get_title().get_text()
    assert "L^{1/" in ax.get_xlabel()


def test_peak_scaling_plot():
    L = np.array([8.0, 16, 32, 64])
    y = 2 * L ** 1.75
    fit = ex.gamma_over_nu(L, y, 0.01 * y)
    fig = plot.peak_scaling_plot(L, y, 0.01 * y, fit, ylabel="chi max")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert any("gamma/nu = 1.75" in t.get_text() for t in ax.get_legend().get_texts())
    assert plot.peak_scaling_plot(L, y) is not None


def test_autocorrelation_and_binning_plots():
    x = _ar1()
    fig = plot.autocorrelation_plot(x)
    ax, ax2 = fig.axes
    assert "τ_int" in ax.get_title()
    rho = ax.lines[0].get_ydata()
    assert rho[0] == 1.0 and rho[1] == pytest.approx(0.8, abs=0.03)
    fig = plot.binning_plot(x)
    assert isinstance(fig, Figure)
    assert any("plateau" in t.get_text() for t in fig.axes[0].get_legend().get_texts())
    from kadanoff.analysis.errors import AutocorrelationWarning
    with pytest.warns(AutocorrelationWarning):
        plot.autocorrelation_plot(_ar1(300, a=0.99))


def test_existing_helpers_still_work(tmp_path):
    fig, ax = plot.figure()
    plot.curves_with_errors(ax, [1, 2, 3], [[1, 2, 3]], [[0.1, 0.1, 0.1]], ["a"], xlabel="x")
    assert plot.save(fig, tmp_path / "x.png").exists()
