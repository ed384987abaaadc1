"""Figure renderers for the report: one function per :class:`~rmt_sparsity.experiments.FigureData` kind.

Claims return plain data; these functions draw it with matplotlib's Agg
backend (no display needed) and save PNGs. Plotting lives here and in the
notebooks only (docs/design.md §2).

Kinds and their data keys
-------------------------
``esd_vs_density``
    ``eigenvalues`` (array), ``x`` and ``density`` (the law's density on a grid), ``label``.
``bars``
    ``labels``, ``values``, optional ``errors`` (one SE each), ``ylabel``.
``lines``
    ``x``, ``series`` ({label: y}), optional ``errors`` ({label: se}), ``xlabel``, ``ylabel``,
    optional ``xs`` ({label: x} when series have their own x), ``logx``/``logy`` and ``hlines`` ({label: y}).
``speedup_vs_density``
    ``density`` (list), ``speedup`` ({batch: list}), ``ideal`` (list, 1/density), optional ``ideal_ffn``.
``hist_vs_pdf``
    ``samples``, ``x``, ``pdf``, ``label``, ``xlabel``.
``histogram_vs_density``
    a pre-binned histogram: ``edges`` (bins + 1), ``counts`` (bins), ``x``, ``density``, optional ``xlabel``, ``label``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = ["RENDERERS", "render"]


def _esd_vs_density(ax, data):
    eig = np.asarray(data["eigenvalues"], dtype=float)
    x = np.asarray(data["x"], dtype=float)
    dens = np.asarray(data["density"], dtype=float)
    nz = eig[eig > 1e-12 * max(1.0, float(np.abs(eig).max(initial=0.0)))]
    ax.hist(nz, bins=min(80, max(10, nz.size // 20)), density=True, alpha=0.45, label="empirical (non-zero)")
    ax.plot(x, dens, lw=1.8, label=data.get("label", "law"))
    ax.set_xlabel("eigenvalue")
    ax.set_ylabel("density")
    ax.legend()


def _bars(ax, data):
    labels = list(data["labels"])
    vals = np.asarray(data["values"], dtype=float)
    err = data.get("errors")
    ax.bar(range(len(labels)), vals, yerr=None if err is None else np.asarray(err, float), capsize=4)
    ax.set_xticks(range(len(labels)), labels, rotation=20, ha="right")
    ax.set_ylabel(data.get("ylabel", ""))


def _lines(ax, data):
    xs = data.get("xs") or {}
    errs = data.get("errors") or {}
    for label, y in data["series"].items():
        x = np.asarray(xs.get(label, data.get("x")), dtype=float)
        y = np.asarray(y, dtype=float)
        ax.plot(x, y, marker="o", ms=3, label=label)
        if label in errs:
            e = np.asarray(errs[label], dtype=float)
            ax.fill_between(x, y - e, y + e, alpha=0.2)
    styles = [("k", "--"), ("k", ":"), ("tab:red", "-."), ("tab:gray", "--"), ("tab:purple", ":")]
    for i, (label, y) in enumerate((data.get("hlines") or {}).items()):
        color, ls = styles[i % len(styles)]
        ax.axhline(float(y), ls=ls, lw=1, color=color, label=label)
    if data.get("logx"):
        ax.set_xscale("log")
    if data.get("logy"):
        ax.set_yscale("log")
    ax.set_xlabel(data.get("xlabel", ""))
    ax.set_ylabel(data.get("ylabel", ""))
    ax.legend()


def _speedup_vs_density(ax, data):
    dens = np.asarray(data["density"], dtype=float)
    for batch, sp in data["speedup"].items():
        ax.plot(dens, np.asarray(sp, dtype=float), marker="o", label=f"batch {batch}")
    ax.plot(dens, np.asarray(data["ideal"], dtype=float), "k--", label="ideal 1/ρ (batch 1)")
    if "ideal_ffn" in data:
        ax.plot(dens, np.asarray(data["ideal_ffn"], dtype=float), "k:", label="ideal whole FFN 2/(1+ρ)")
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("activation density ρ")
    ax.set_ylabel("speed-up over dense BLAS")
    ax.legend()


def _hist_vs_pdf(ax, data):
    s = np.asarray(data["samples"], dtype=float)
    ax.hist(s, bins=min(60, max(10, s.size // 20)), density=True, alpha=0.45, label="samples")
    ax.plot(np.asarray(data["x"], float), np.asarray(data["pdf"], float), lw=1.8, label=data.get("label", "law"))
    ax.set_xlabel(data.get("xlabel", ""))
    ax.set_ylabel("density")
    ax.legend()


def _histogram_vs_density(ax, data):
    edges = np.asarray(data["edges"], dtype=float)
    counts = np.asarray(data["counts"], dtype=float)
    widths = np.diff(edges)
    dens = counts / (counts.sum() * widths) if counts.sum() > 0 else counts
    ax.bar(edges[:-1], dens, width=widths, align="edge", alpha=0.45, label="empirical")
    ax.plot(np.asarray(data["x"], float), np.asarray(data["density"], float), lw=1.8, label=data.get("label", "law"))
    ax.set_xlabel(data.get("xlabel", ""))
    ax.set_ylabel("density")
    ax.legend()


RENDERERS: dict[str, Callable] = {
    "esd_vs_density": _esd_vs_density,
    "bars": _bars,
    "lines": _lines,
    "speedup_vs_density": _speedup_vs_density,
    "hist_vs_pdf": _hist_vs_pdf,
    "histogram_vs_density": _histogram_vs_density,
}


def render(figure, path) -> Path:
    """Render one :class:`~rmt_sparsity.experiments.FigureData` to a PNG at ``path``.

    Raises
    ------
    KeyError
        If ``figure.kind`` has no renderer.
    """
    from .._optional import require

    matplotlib = require("matplotlib", extra="report", feature="report figures")
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from .._io import atomic_write_bytes

    draw = RENDERERS[figure.kind]
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    try:
        draw(ax, figure.data)
        ax.set_title(figure.title, fontsize=10)
        fig.tight_layout()
        import io

        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
        return atomic_write_bytes(path, buf.getvalue())
    finally:
        plt.close(fig)
