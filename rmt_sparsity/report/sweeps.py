"""Plots of sweep results: mean ± standard error over seeds, one line per group (rendering only)."""

from __future__ import annotations

from collections import defaultdict

from .._stats import mean_se
from ..experiments.claims import FigureData
from .figures import render

__all__ = ["sweep_figure", "plot_sweep"]


def _lookup(record, key):
    if key in record["result"]:
        return record["result"][key]
    if key in record["config"]:
        return record["config"][key]
    raise KeyError(f"{key!r} is neither a result nor a config key of the sweep "
                   f"(results: {sorted(record['result'])}, config: {sorted(record['config'])})")


def sweep_figure(records, *, x: str, y: str, group: str | None = None, title: str = "", logx=False, logy=False) -> FigureData:
    """Aggregate sweep records into a ``lines`` figure: mean of ``y`` over seeds at each ``x``, ± one SE.

    Examples
    --------
    >>> recs = [{"config": {"a": a}, "seed": s, "result": {"y": a + s}} for a in (1, 2) for s in (0, 1)]
    >>> fig = sweep_figure(recs, x="a", y="y")
    >>> fig.data["series"]["y"]
    [1.5, 2.5]
    """
    cells = defaultdict(list)
    for r in records:
        g = "" if group is None else f"{group}={_lookup(r, group)}"
        cells[(g, float(_lookup(r, x)))].append(float(_lookup(r, y)))
    groups = sorted({g for g, _ in cells})
    series, errors, xs = {}, {}, {}
    for g in groups:
        label = g or y
        gx = sorted(xv for gg, xv in cells if gg == g)
        means, ses = [], []
        for xv in gx:
            m, se = mean_se(cells[(g, xv)])
            means.append(m)
            ses.append(se if len(cells[(g, xv)]) > 1 else 0.0)  # one seed: no error bar
        series[label], errors[label], xs[label] = means, ses, gx
    all_x = sorted({xv for _, xv in cells})
    return FigureData("lines", title or f"{y} vs {x}", {"x": all_x, "xs": xs, "series": series, "errors": errors,
                                                       "xlabel": x, "ylabel": f"{y} (mean ± SE over seeds)",
                                                       "logx": logx, "logy": logy})


def plot_sweep(records, path, **kwargs):
    """Render :func:`sweep_figure` to a PNG at ``path``."""
    return render(sweep_figure(records, **kwargs), path)
