"""Comparisons of Monte Carlo estimates with exact values in standard errors."""

Z_MAX = 4.0


def z_scores(res, exact, keys=("e", "abs_m", "m2"), derived=("C", "chi")):
    """z = (estimate - exact) / standard error for plain means and derived quantities."""
    out = {}
    for k in keys:
        err = res.error(k)
        assert err > 0, f"zero error bar for {k}: the chain did not move"
        out[k] = (res.mean(k) - exact[k]) / err
    if "C" in derived:
        c = res.specific_heat()
        out["C"] = (c.value - exact["C"]) / c.error
    if "chi" in derived:
        x = res.susceptibility()
        out["chi"] = (x.value - exact["chi"]) / x.error
    return out


def assert_close(res, exact, label, **kw):
    z = z_scores(res, exact, **kw)
    bad = {k: round(float(v), 2) for k, v in z.items() if not abs(v) < Z_MAX}
    assert not bad, f"{label}: |z| >= {Z_MAX} for {bad} (all z: " \
                    f"{ {k: round(float(v), 2) for k, v in z.items()} })"
    return z
