r"""``analyze``: one tidy record per 2-D weight of a model (dict of arrays or a safetensors file; no torch).

Per weight ``W`` (stored (out, in) = p × n, ratio p/n, spectrum of
:math:`WW^\top/n`): the spectral concentration with its null band
(:func:`concentration_vs_random`), the stable rank, the calibrated MP fit
with Tracy–Widom outliers (:func:`fit_mp`) and the power-law tail
(:func:`fit_power_law`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

import numpy as np

from .._checks import check_choice, check_int, check_probability, check_real
from .._io import to_builtin
from .._rng import spawn
from ._basic import as_weight_matrix, gram_eigenvalues
from ._concentration import _concentration_from_eigs, _concentration_test
from ._mp_fit import _fit_mp
from ._power_law import fit_power_law

__all__ = ["analyze", "load_weights", "analyze_matrix"]


def load_weights(path) -> dict[str, np.ndarray]:
    """Read every tensor of a ``.safetensors`` file as numpy arrays (``safetensors.numpy``; torch is never imported).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist (the message names it).
    ValueError
        If the file is not a readable safetensors file (corrupt header, unsupported dtype such as bfloat16).

    Examples
    --------
    >>> import tempfile, os, numpy as np
    >>> from safetensors.numpy import save_file
    >>> from rmt_sparsity.spectra import load_weights
    >>> path = os.path.join(tempfile.mkdtemp(), "w.safetensors")
    >>> save_file({"a.weight": np.eye(3, dtype=np.float32)}, path)
    >>> {k: v.shape for k, v in load_weights(path).items()}
    {'a.weight': (3, 3)}
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike; got {type(path).__name__}")
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"weights file not found: {path!r}")
    if os.path.isdir(path):
        raise ValueError(f"weights path is a directory, not a .safetensors file: {path!r}")
    from safetensors.numpy import load_file

    try:
        return load_file(path)
    except Exception as exc:  # safetensors raises SafetensorError / OSError / TypeError for bad files
        raise ValueError(f"could not read {path!r} as a safetensors file: {type(exc).__name__}: {exc}") from exc


def analyze_matrix(
    W,
    *,
    name="W",
    zero_tol=0.1,
    relative_to="mean_all",
    alpha=0.05,
    level=0.95,
    n_mc=200,
    n_boot=100,
    rng=None,
) -> dict:
    """The tidy record of :func:`analyze` for one matrix (see there).

    Examples
    --------
    >>> import numpy as np
    >>> from rmt_sparsity.spectra import analyze_matrix
    >>> r = analyze_matrix(np.random.default_rng(0).standard_normal((256, 64)), n_boot=0)
    >>> r["shape"], r["concentration_in_band"], r["mp_n_spikes"], r["tail"]
    ([256, 64], True, 0, 'no power-law tail')
    """
    W = as_weight_matrix(W, name)
    p, n = W.shape
    c1, c2 = spawn(rng, 2)
    lam = gram_eigenvalues(W)
    rec: dict = {"name": name, "shape": [int(p), int(n)], "ratio": p / n, "notes": []}
    conc = _concentration_from_eigs(lam, W.shape, zero_tol, relative_to)
    rec.update(
        concentration=conc.ratio,
        sv_ratio=conc.sv_ratio,
        concentration_regime=conc.regime,
        relative_to=conc.relative_to,
        zero_tol=conc.zero_tol,
        n_kept=conc.n_kept,
    )
    if min(p, n) >= 2:
        t = _concentration_test(conc, level, zero_tol, relative_to, "two-sided", n_mc, c1)
        rec.update(
            concentration_band=list(t.band),
            concentration_p_value=t.p_value,
            concentration_in_band=t.in_band,
            band_method=t.method,
            band_mc_draws=t.n_mc,
            concentration_limit=t.limit,
        )
    else:
        rec.update(concentration_band=[math.nan, math.nan], concentration_p_value=math.nan,
                   concentration_in_band=None, band_method="none", band_mc_draws=0, concentration_limit=math.nan)
        rec["notes"].append("a vector-shaped matrix has a single non-zero eigenvalue: no band")
    fro2 = float(lam.sum()) * n
    rec["stable_rank"] = fro2 / (float(lam[-1]) * n)
    if min(p, n) >= 2:
        f = _fit_mp(W, None, alpha, level, None, lam)
        rec.update(
            mp_scale=f.scale,
            mp_scale_ci=list(f.scale_ci),
            mp_edges=list(f.edges),
            mp_n_spikes=f.n_spikes,
            mp_ks=f.ks,
            mp_wasserstein1=f.wasserstein1,
            mp_tw_critical=f.tw_critical,
            lambda_max=f.lambda_max,
            outliers=[
                {k: o[k] for k in ("rank", "eigenvalue", "p_value", "theta_over_threshold")} for o in f.outliers[:10]
            ],
        )
    else:
        rec.update(mp_scale=math.nan, mp_scale_ci=[math.nan, math.nan], mp_edges=[math.nan, math.nan],
                   mp_n_spikes=0, mp_ks=math.nan, mp_wasserstein1=math.nan, mp_tw_critical=math.nan,
                   lambda_max=float(lam[-1]), outliers=[])
        rec["notes"].append("MP fit needs at least 2 rows and 2 columns")
    nz = lam[lam > max(p, n) * np.finfo(np.float64).eps * lam[-1]]
    if nz.size >= 20:
        pl = fit_power_law(nz, n_boot=n_boot, level=level, rng=c2)
        rec.update(
            tail="power-law tail" if pl.has_tail else "no power-law tail",
            tail_alpha=pl.alpha,
            tail_alpha_ci=list(pl.alpha_ci),
            tail_xmin=pl.xmin,
            tail_decades=pl.decades,
            tail_verdict=pl.verdict,
        )
    else:
        rec.update(tail="no power-law tail", tail_alpha=math.nan, tail_alpha_ci=[math.nan, math.nan],
                   tail_xmin=math.nan, tail_decades=0.0,
                   tail_verdict=f"no power-law tail: too few non-zero eigenvalues ({nz.size} < 20) for a tail fit")
    return to_builtin(rec)


def analyze(
    weights,
    *,
    zero_tol=0.1,
    relative_to="mean_all",
    alpha=0.05,
    level=0.95,
    n_mc=200,
    n_boot=100,
    rng=0,
    min_dim=2,
) -> list[dict]:
    r"""Analyse every 2-D weight of a model: concentration with band, stable rank, MP fit, spikes, tail.

    For each 2-D array ``W`` (p × n, stored (out, in); ratio p/n; spectrum of
    :math:`WW^\top/n`) the record holds

    * ``concentration`` = :math:`\lambda_{\max}/\lambda_{\min}` with the
      ``zero_tol`` cut (``relative_to`` says which mean; docs/science.md §5),
      ``sv_ratio``, its ``regime``, the null ``concentration_band``,
      ``concentration_p_value`` and ``band_method``
      (:func:`concentration_vs_random`);
    * ``stable_rank`` :math:`\|W\|_F^2/\|W\|_2^2`;
    * ``mp_scale`` (σ̂²) with ``mp_scale_ci``, ``mp_edges``,
      ``mp_n_spikes`` (sequential TW₁ tests at level ``alpha``), ``outliers``,
      ``mp_ks``, ``mp_wasserstein1`` (:func:`fit_mp`);
    * ``tail`` ("power-law tail" / "no power-law tail"), ``tail_alpha`` and its
      bootstrap interval (:func:`fit_power_law`).

    Arrays of other dimensions (biases, LayerNorm gains), non-floating
    arrays (integer buffers such as position ids) and 2-D arrays with a side
    below ``min_dim`` are skipped.

    Parameters
    ----------
    weights : mapping of str to array_like, or path
        A dict of arrays, or a ``.safetensors`` file read with the numpy
        backend (torch is never imported).
    zero_tol, relative_to :
        The concentration cut (:func:`spectral_concentration`).
    alpha, level :
        Outlier-test level and interval coverage.
    n_mc : int
        Monte-Carlo draws for bands that need them (square or near-square shapes with an active cut).
    n_boot : int
        Bootstrap replicates of the tail exponent (0 to skip: the fast path).
    rng : int, Generator or None, default 0
        Seed; each weight gets its own child stream (in sorted-name order), so results are reproducible.
    min_dim : int
        Smallest side analysed.

    Returns
    -------
    list of dict
        One JSON-serialisable record per analysed weight, sorted by name.

    Examples
    --------
    >>> import numpy as np
    >>> from rmt_sparsity.spectra import analyze
    >>> g = np.random.default_rng(0)
    >>> recs = analyze({"ffn.w_in": g.standard_normal((256, 64)), "ln.gamma": np.ones(64)}, n_boot=0)
    >>> [(r["name"], r["concentration_in_band"], r["mp_n_spikes"], r["tail"]) for r in recs]
    [('ffn.w_in', True, 0, 'no power-law tail')]
    """
    check_real("zero_tol", zero_tol, lo=0.0, hi=1.0, hi_open=True)
    check_choice("relative_to", relative_to, ("mean_all", "mean_nonzero"))
    check_probability("alpha", alpha)
    check_probability("level", level)
    n_mc = check_int("n_mc", n_mc, min=20)
    n_boot = check_int("n_boot", n_boot, min=0)
    min_dim = check_int("min_dim", min_dim, min=1)
    if isinstance(weights, (str, os.PathLike)):
        weights = load_weights(weights)
    elif not isinstance(weights, Mapping):
        raise TypeError(f"weights must be a mapping of name -> array or a safetensors path; got {type(weights).__name__}")
    names = sorted(weights)
    if not names:
        raise ValueError("weights is empty: nothing to analyse")
    selected = []
    for name in names:
        arr = np.asarray(weights[name])
        if arr.ndim == 2 and min(arr.shape) >= min_dim and arr.dtype.kind == "f":
            selected.append((name, arr))
    if not selected:
        raise ValueError(f"no 2-D weight with both sides >= {min_dim} among {len(names)} arrays")
    children = spawn(rng, len(selected))
    out = []
    for (name, arr), child in zip(selected, children):
        out.append(
            analyze_matrix(
                arr,
                name=name,
                zero_tol=zero_tol,
                relative_to=relative_to,
                alpha=alpha,
                level=level,
                n_mc=n_mc,
                n_boot=n_boot,
                rng=child,
            )
        )
    return out
