"""matplotlib helpers. Imported lazily: the core never imports matplotlib."""
from __future__ import annotations

import numpy as np

__all__ = ["figure", "curves_with_errors", "save"]


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
