"""matplotlib helpers. Imported lazily: the core never imports matplotlib.

Figure helpers for analysis results return a ``matplotlib.figure.Figure``
and never show it: :func:`binder_plot`, :func:`collapse_plot`,
:func:`peak_scaling_plot`, :func:`autocorrelation_plot`, :func:`binning_plot`.
Given ``ax=``, they draw into that axes and return its figure; otherwise the
figure is created without pyplot (no global figure registry, nothing to close).
"""
from __future__ import annotations

import numpy as np

__all__ = ["figure", "curves_with_errors", "save", "binder_plot", "collapse_plot",
           "peak_scaling_plot", "autocorrelation_plot", "binning_plot"]


def figure(ncols=1, size=(5.0, 3.8)):
    """A new (figure, axes) pair using the non-interactive Agg backend when headless."""
    import matplotlib
    if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "ps", "cairo") and \
            not _has_display():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, ncols, figsize=(size[0] * ncols, size[1]), squeeze=False)
    return fig, axes[0] if ncols > 1 else axes[0, 0]


def _has_display() -> bool:
    import os
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def curves_with_errors(ax, x, ys, errs, labels, *, xlabel=None, ylabel=None, marker="o"):
    """One error-bar curve per row of ``ys`` (shape (n_curves, len(x)))."""
    for y, e, label in zip(np.atleast_2d(ys), np.atleast_2d(errs), labels):
        ax.errorbar(x, y, yerr=e, marker=marker, ms=3.5, lw=1.2, capsize=2, label=label)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.legend(frameon=False, fontsize="small")
    return ax


def save(fig, path):
    """Save with a tight layout and close, so loops do not accumulate figures."""
    import matplotlib.pyplot as plt
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


# --------------------------------------------------------------------------
# analysis figures: each returns a matplotlib Figure (never shown)
# --------------------------------------------------------------------------
def _new_axes(ax, size=(5.0, 3.8)):
    """(figure, axes): the given axes' figure, or a new pyplot-free Figure (Agg canvas)."""
    if ax is not None:
        return ax.figure, ax
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(1, 1, 1)


def _per_size(values, n, name):
    if values is None:
        return [None] * n
    rows = list(values)
    if len(rows) != n:
        raise ValueError(f"{name} must have one row per size ({n}), got {len(rows)}")
    return [np.asarray(r, dtype=float) for r in rows]


def binder_plot(T, sizes, U, dU=None, crossings=None, *, Tc=None, ax=None,
                ylabel="Binder cumulant U"):
    """Binder-cumulant curves of several sizes with their crossings.

    Parameters
    ----------
    T : array (n_T,) shared by all sizes, or one array per size
    sizes : sequence of L
    U, dU : arrays (n_L, n_T) or one array per size; dU optional (drawn as bands)
    crossings : list of fss.Crossing, optional
        Marked with their T +- T_err span.
    Tc : float, optional
        Reference temperature (dashed line), e.g. the exact T_c.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    sizes = list(np.atleast_1d(sizes))
    n = len(sizes)
    if (isinstance(T, np.ndarray) and T.ndim == 1) or \
            (isinstance(T, (list, tuple)) and len(T) and np.ndim(T[0]) == 0):
        Ts = [np.asarray(T, dtype=float)] * n  # one grid shared by all sizes
    else:
        Ts = _per_size(T, n, "T")
    Us = _per_size(U, n, "U")
    dUs = _per_size(dU, n, "dU")
    fig, ax = _new_axes(ax)
    for L, t, u, du in zip(sizes, Ts, Us, dUs):
        line, = ax.plot(t, u, lw=1.4, label=f"L = {L:g}")
        if du is not None:
            if len(t) > 20:
                ax.fill_between(t, u - du, u + du, color=line.get_color(), alpha=0.25, lw=0)
            else:
                ax.errorbar(t, u, yerr=du, fmt="o", ms=3, color=line.get_color(), capsize=2)
    for c in crossings or []:
        if np.isfinite(c.T):
            ax.axvspan(c.T - c.T_err, c.T + c.T_err, color="0.5", alpha=0.15, lw=0)
            ax.axvline(c.T, color="0.4", lw=0.7, ls=":")
    if Tc is not None:
        ax.axvline(Tc, color="k", ls="--", lw=0.9, label=f"T_c = {Tc:.5g}")
    ax.set_xlabel("T")
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False, fontsize="small")
    return fig


def collapse_plot(collapse, *, ax=None, xlabel=None, ylabel=None):
    r"""The scaled data of a computed ``kd.analysis.fss.Collapse``.

    Plots :math:`L^{-\kappa}A` against :math:`(T-T_c)L^{1/\nu}` for every size,
    with the fitted parameters and the quality S in the legend title.
    """
    fig, ax = _new_axes(ax)
    for L, (x, y, dy) in zip(collapse.sizes, collapse.scaled()):
        ax.errorbar(x, y, yerr=dy, fmt="o", ms=3, lw=1, capsize=1.5, label=f"L = {L:g}")
    tc, inu, kap = collapse.Tc, collapse.inv_nu, collapse.exponent
    ax.set_xlabel(xlabel or r"$(T - T_c)\,L^{1/\nu}$")
    ax.set_ylabel(ylabel or (r"$L^{-\kappa} A$" if kap.value != 0 or kap.error else "A"))
    title = (f"$T_c$ = {tc.value:.5f}({_digits(tc.error)}), 1/ν = {inu.value:.3f}"
             f"({_digits(inu.error, 3)})")
    if kap.error or kap.value:
        title += f", κ = {kap.value:.3f}({_digits(kap.error, 3)})"
    title += f", S = {collapse.quality:.2f}"
    ax.legend(frameon=False, fontsize="small", title=title, title_fontsize="x-small")
    return fig


def _digits(err, decimals=5):
    """Error in units of the last shown decimal, for value(err) notation."""
    if not np.isfinite(err):
        return "?"
    return f"{int(round(err * 10 ** decimals))}"


def peak_scaling_plot(L, y, dy=None, fit=None, *, ax=None, ylabel="peak height",
                      label="data"):
    """Log-log plot of a size-dependent quantity with its power-law fit.

    Parameters
    ----------
    L, y, dy : arrays (n,)
    fit : exponents.FitResult, optional
        Drawn as a line over the data range, its exponent in the legend.
    """
    L = np.asarray(L, dtype=float)
    y = np.asarray(y, dtype=float)
    fig, ax = _new_axes(ax)
    ax.errorbar(L, np.abs(y), yerr=None if dy is None else dy, fmt="o", ms=4, capsize=2,
                label=label)
    if fit is not None:
        xs = np.geomspace(L.min() * 0.9, L.max() * 1.1, 100)
        try:
            name, (v, e) = fit._main, fit.exponent
            lab = f"fit: {name} = {v:.4f} ± {e:.4f}"
        except AttributeError:
            lab = "fit"
        ax.plot(xs, np.abs(fit(xs)), "-", lw=1.2,
                label=f"{lab} (χ²/dof = {fit.chi2:.2g}/{fit.dof})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    from matplotlib.ticker import FixedLocator, NullLocator, ScalarFormatter
    ax.xaxis.set_major_locator(FixedLocator(np.unique(L)))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("L")
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False, fontsize="small")
    return fig


def autocorrelation_plot(x, *, c=5.0, max_lag=None, ax=None, label=None):
    r"""Normalised autocorrelation :math:`\rho(t)` and the running :math:`\tau_\mathrm{int}(M)`.

    Left axis: :math:`\rho(t)` (log scale where positive); right axis:
    :math:`\tau(M) = \tfrac12 + \sum_{t\le M}\rho(t)`, with the automatic
    Madras-Sokal window and :math:`\tau_\mathrm{int}\pm\sigma_\tau` marked.
    Too-short series are plotted with a warning instead of an error.
    """
    import warnings

    from .analysis.errors import AutocorrelationWarning, tau_int_analysis
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AutocorrelationWarning)
        r = tau_int_analysis(x, c=c, quiet=True)
    if not r.reliable:
        warnings.warn("series too short for a reliable tau_int: the plot shows the best "
                      "estimate", AutocorrelationWarning, stacklevel=2)
    n_show = max_lag if max_lag is not None else max(10, min(r.n // 2, int(6 * max(r.window, 1))))
    t = np.arange(n_show)
    fig, ax = _new_axes(ax)
    ax.plot(t, r.rho[:n_show], "-", lw=1.3, color="C0", label=label or "ρ(t)")
    ax.axhline(0, color="0.6", lw=0.6)
    ax.set_xlabel("lag t (sampling intervals)")
    ax.set_ylabel("ρ(t)", color="C0")
    ax2 = ax.twinx()
    running = 0.5 + np.concatenate([[0.0], np.cumsum(r.rho[1:n_show])])
    ax2.plot(t, running, "-", lw=1.1, color="C1", label="τ(M)")
    ax2.axhspan(r.tau - r.error, r.tau + r.error, color="C1", alpha=0.15, lw=0)
    ax2.axvline(r.window, color="C1", ls=":", lw=1, label=f"window M = {r.window}")
    ax2.set_ylabel(r"$\tau_\mathrm{int}(M)$", color="C1")
    ax.set_title(f"τ_int = {r.tau:.3g} ± {r.error:.2g}" + ("" if r.reliable else " (unreliable)"),
                 fontsize="small")
    return fig


def binning_plot(x, *, min_blocks=32, ax=None):
    r"""Binning analysis: error of the mean against block size, with the chosen plateau."""
    import warnings

    from .analysis.errors import AutocorrelationWarning, binning_plateau
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AutocorrelationWarning)
        b = binning_plateau(x, min_blocks=min_blocks)
    for w in caught:
        warnings.warn(w.message, w.category, stacklevel=2)
    fig, ax = _new_axes(ax)
    ax.errorbar(b.block_sizes, b.errors, yerr=b.error_of_errors, fmt="o-", ms=3.5, lw=1,
                capsize=2, label="ε(m)")
    if b.plateau_block_size:
        ax.axvline(b.plateau_block_size, color="C3", ls=":", lw=1,
                   label=f"plateau m = {b.plateau_block_size}")
    ax.axhline(b.error, color="C3", lw=0.8, ls="--",
               label=f"error = {b.error:.3g} (τ = {b.tau:.3g})")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("block size m")
    ax.set_ylabel("error of the mean")
    ax.legend(frameon=False, fontsize="small")
    return fig
