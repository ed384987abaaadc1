r"""``analyze``: a tidy table, one row per weight matrix of a checkpoint (safetensors, shards, npz or a dict; no torch).

Per matrix ``W`` (stored (out, in) = p × n, ratio p/n, spectrum of
:math:`WW^\top/n`; docs/design.md §3): the spectral concentration with its
null band (:func:`concentration_vs_random`), the stable rank, the calibrated
MP fit with Tracy–Widom outliers (:func:`fit_mp`) and the power-law tail
(:func:`fit_power_law`).

**Scale.** Each matrix is rescaled to unit rms entry before its Gram product
(:func:`rmt_sparsity.spectra._basic.unit_rms`): the scale-free columns
(concentration, p-values, spikes, tail exponent, stable rank) are exact for
any scale, a matrix times 1e-300 included; the eigenvalue-unit columns
(``mp_scale``, edges, ``lambda_max``, spike eigenvalues, ``tail_xmin``) are
those of :math:`WW^\top/n`, i.e. the rescaled values times ``rms``²
(0.0 where that product underflows float64; ``rms`` itself is always given).

**Caching.** The null band of a shape does not depend on the matrix: it is
computed once per (shape, settings) in a call, from a stream seeded by
(``rng``, p, n), so every matrix of that shape is judged against the same null.
Each matrix's own randomness (the tail bootstrap) comes from a stream seeded
by (``rng``, its row name): a row does not change when other tensors are
selected or left out.

**Threads.** A matrix whose Gram product and eigensolve are small
(:math:`\min(p,n)^2\max(p,n) < 2^{30}` flops, e.g. every 384-wide layer of
MiniLM) is analysed with one BLAS thread: at that size thread start-up, and on a
shared machine spinning threads waiting for a core, cost more than they save
(benchmarks/analyze.py measures both). Results do not depend on it.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import contextlib
import time
from collections import Counter
from collections.abc import Mapping

import numpy as np

from .._checks import check_choice, check_int, check_probability, check_real
from .._io import to_builtin
from ._basic import _gram_eigenvalues, as_weight_matrix, unit_rms
from ._checkpoint import _open as _open_checkpoint
from ._concentration import _concentration_from_eigs, _concentration_test, _null_ratio
from ._mp_fit import _fit_mp
from ._power_law import fit_power_law
from ._roles import _role_of, classify_tensor

__all__ = ["analyze", "load_weights", "analyze_matrix", "COLUMNS"]

#: The columns of :func:`analyze`, in order (the docstring of :func:`analyze` says what each holds).
COLUMNS = (
    "name", "tensor", "role", "layer", "expert", "p", "n", "shape", "dtype", "transposed", "status", "error",
    "rms", "concentration", "sv_ratio", "regime", "relative_to", "zero_tol", "n_kept",
    "band_lo", "band_hi", "band_p_value", "in_band", "band_method", "band_draws",
    "mp_scale", "mp_scale_lo", "mp_scale_hi", "mp_edge_lo", "mp_edge_hi", "mp_ks", "lambda_max", "tw_critical",
    "n_spikes", "spike_eigenvalues", "spike_p_values", "spike_theta_ratio",
    "stable_rank",
    "tail_alpha", "tail_alpha_lo", "tail_alpha_hi", "tail_xmin", "tail_n", "tail_model", "tail_decades", "has_tail",
    "tail_verdict", "file",
)
_MIN_TAIL_POINTS = 20
_DTYPE_SHORT = {"F64": "f64", "F32": "f32", "F16": "f16", "BF16": "bf16", "F8_E4M3": "f8e4m3", "F8_E5M2": "f8e5m2",
                "I64": "i64", "I32": "i32", "I16": "i16", "I8": "i8", "U64": "u64", "U32": "u32", "U16": "u16",
                "U8": "u8", "BOOL": "bool"}


class _RowError(Exception):
    """A matrix that cannot be analysed: becomes an error row with this message."""


def load_weights(path) -> dict[str, np.ndarray]:
    """Read every tensor of a checkpoint into memory (see :func:`open_checkpoint` for the formats; no torch).

    For large models prefer :func:`analyze`, which reads one tensor at a time.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist (the message names it).
    ValueError
        (:class:`CheckpointError`) If it is not a readable checkpoint (truncated, not safetensors, a PyTorch pickle).

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
    if isinstance(path, Mapping) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike; got {type(path).__name__}")
    with _open_checkpoint(path, "path") as ckpt:
        return {name: ckpt.read(name) for name in ckpt}


# ----------------------------------------------------------------------------- seeds


def _root_words(rng) -> tuple[int, ...]:
    """Entropy words of the root seed: an int seed, 4 draws from a Generator (advancing it), or fresh entropy."""
    if isinstance(rng, np.random.Generator):
        return tuple(int(v) for v in rng.integers(0, 2**32, size=4, dtype=np.uint64))
    if rng is None:
        ent = np.random.SeedSequence().entropy
        return tuple(int(v) for v in np.atleast_1d(np.random.SeedSequence(ent).generate_state(4)))
    if isinstance(rng, bool) or not isinstance(rng, (int, np.integer)) or int(rng) < 0:
        raise TypeError(f"rng must be None, a non-negative int seed or a numpy Generator; got {rng!r}")
    return (int(rng),)


def _child(root: tuple[int, ...], *key) -> np.random.Generator:
    """A generator seeded by (root, key): key parts hashed to 32-bit words (sha256, stable across runs)."""
    digest = hashlib.sha256(repr(key).encode("utf-8")).digest()
    words = [int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4)]
    return np.random.default_rng(np.random.SeedSequence([*root, *words]))


# ----------------------------------------------------------------------------- one matrix


def _empty_row() -> dict:
    row = dict.fromkeys(COLUMNS, math.nan)
    row.update(name="", tensor="", role="other", layer=None, expert=None, shape="", dtype="", transposed=False,
               status="error", error="", regime="", relative_to="", band_method="", in_band=None,
               spike_eigenvalues=[], spike_p_values=[], spike_theta_ratio=[], tail_model="", has_tail=None,
               tail_verdict="", file="", n_spikes=0, band_draws=0, tail_n=0, n_kept=0)
    return row


def _analyze_unit(Wn, rms, *, zero_tol, relative_to, alpha, level, n_mc, n_boot, null, band_rng, tail_rng, method,
                  timings, keep=None) -> dict:
    """The analysis columns of one matrix already rescaled to unit rms (``Wn``, float64, C-contiguous).

    ``keep`` (a dict, optional) receives the spectrum and fits in the rescaled units (for figures).
    """
    p, n = Wn.shape
    s2 = rms * rms  # eigenvalue units back to those of W W^T / n (0.0 if it underflows)
    row: dict = {"rms": rms}
    t0 = time.perf_counter()
    lam = _gram_eigenvalues(Wn, method)
    t1 = time.perf_counter()
    timings["spectrum"] += t1 - t0
    conc = _concentration_from_eigs(lam, (p, n), zero_tol, relative_to)
    row.update(concentration=conc.ratio, sv_ratio=conc.sv_ratio, regime=conc.regime, relative_to=conc.relative_to,
               zero_tol=conc.zero_tol, n_kept=conc.n_kept)
    if min(p, n) >= 2:
        if null is None:
            null = _null_ratio(p, n, zero_tol, relative_to, level, n_mc, band_rng)
        t = _concentration_test(conc, level, zero_tol, relative_to, "two-sided", n_mc, None, null=null)
        row.update(band_lo=t.band[0], band_hi=t.band[1], band_p_value=t.p_value, in_band=t.in_band,
                   band_method=t.method, band_draws=t.n_mc)
    else:
        row.update(band_method="none (a vector has one non-zero eigenvalue)")
    t2 = time.perf_counter()
    timings["band"] += t2 - t1
    row["stable_rank"] = float(lam.sum()) / float(lam[-1])
    if min(p, n) >= 2:
        f = _fit_mp(Wn, None, alpha, level, None, lam, moments=(float(p), 1.0, _fourth_moment(Wn) - 1.0))
        outs = f.outliers
        row.update(mp_scale=f.scale * s2, mp_scale_lo=f.scale_ci[0] * s2, mp_scale_hi=f.scale_ci[1] * s2,
                   mp_edge_lo=f.edges[0] * s2, mp_edge_hi=f.edges[1] * s2, mp_ks=f.ks, lambda_max=f.lambda_max * s2,
                   tw_critical=f.tw_critical * s2, n_spikes=f.n_spikes,
                   spike_eigenvalues=[o["eigenvalue"] * s2 for o in outs], spike_p_values=[o["p_value"] for o in outs],
                   spike_theta_ratio=[o["theta_over_threshold"] for o in outs])
    else:
        row.update(lambda_max=float(lam[-1]) * s2, n_spikes=0)
    t3 = time.perf_counter()
    timings["mp_fit"] += t3 - t2
    nz = lam[lam > max(p, n) * np.finfo(np.float64).eps * lam[-1]]
    if keep is not None:
        keep.update(eigenvalues=nz, ratio=p / n, mp_scale=f.scale if min(p, n) >= 2 else math.nan,
                    spikes=[o["eigenvalue"] for o in outs] if min(p, n) >= 2 else [])
    if nz.size >= _MIN_TAIL_POINTS:
        pl = fit_power_law(nz, n_boot=n_boot, level=level, rng=tail_rng)
        if keep is not None:
            keep.update(tail_alpha=pl.alpha, tail_xmin=pl.xmin, tail_xmax=pl.xmax, tail_model=pl.model,
                        tail_fraction=pl.n_tail / nz.size, has_tail=pl.has_tail)
        row.update(tail_alpha=pl.alpha, tail_alpha_lo=pl.alpha_ci[0], tail_alpha_hi=pl.alpha_ci[1],
                   tail_xmin=pl.xmin * s2, tail_n=pl.n_tail, tail_model=pl.model, tail_decades=pl.decades,
                   has_tail=pl.has_tail, tail_verdict=pl.verdict)
    else:
        row.update(has_tail=False, tail_model="none", tail_decades=0.0,
                   tail_verdict=f"no power-law tail: too few non-zero eigenvalues ({nz.size} < {_MIN_TAIL_POINTS}) to fit one")
    timings["tail"] += time.perf_counter() - t3
    return row


_SMALL_GRAM_FLOPS = 2**30


def _blas_threads(p, n):
    """One BLAS thread for a small matrix (module notes), else the caller's setting."""
    m, M = min(p, n), max(p, n)
    if m * m * M >= _SMALL_GRAM_FLOPS:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1, user_api="blas")


def _fourth_moment(Wn, rows=4096) -> float:
    """Mean of W^4 in blocks of rows (no full-size temporary)."""
    acc = 0.0
    for i in range(0, Wn.shape[0], rows):
        blk = np.square(Wn[i:i + rows])
        acc += float(np.vdot(blk, blk))
    return acc / Wn.size


def _as_float64(arr, code: str) -> np.ndarray:
    """The stored tensor as a float64 array, or a _RowError with the real reason for other dtypes."""
    kind = arr.dtype.kind
    if kind == "b":
        raise _RowError(f"boolean tensor ({code}): a mask, not a weight")
    if kind in "iu":
        raise _RowError(f"integer tensor ({code}): not a floating-point weight (quantized weights must be dequantized first)")
    if kind == "c":
        raise _RowError(f"complex tensor ({code}): weights must be real")
    if kind != "f" and code not in ("BF16", "F8_E4M3", "F8_E5M2"):
        raise _RowError(f"unsupported dtype {code}: not a floating-point weight")
    return arr


def _finite_unit(W) -> tuple[np.ndarray, float]:
    """Own float64 copy of ``W`` at unit rms, or a _RowError naming what is wrong (non-finite, all zero)."""
    W = np.array(W, dtype=np.float64, order="C")
    fin = np.isfinite(W)
    bad = W.size - int(np.count_nonzero(fin))
    if bad:
        n_nan = int(np.count_nonzero(np.isnan(W)))
        raise _RowError(f"{bad} non-finite entries of {W.size} (NaN: {n_nan}, inf: {bad - n_nan})")
    del fin
    if not np.any(W):
        raise _RowError(f"all-zero matrix of shape {W.shape[0]}x{W.shape[1]}: its spectrum is empty")
    return unit_rms(W, copy=False)


# ----------------------------------------------------------------------------- public


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
    """The row of :func:`analyze` for one matrix ``W`` (analysed as given: (out, in), no transpose, no split).

    ``name`` sets the ``name``, ``role`` and ``layer`` columns. Raises ``ValueError``
    for a matrix :func:`analyze` would turn into an error row (non-finite, all zero).

    Examples
    --------
    >>> import numpy as np
    >>> from rmt_sparsity.spectra import analyze_matrix
    >>> r = analyze_matrix(np.random.default_rng(0).standard_normal((256, 64)), name="layers.0.mlp.up_proj.weight", n_boot=0)
    >>> r["role"], r["layer"], r["shape"], r["in_band"], r["n_spikes"], r["has_tail"]
    ('ffn_up', 0, '256x64', True, 0, False)
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str; got {type(name).__name__}")
    settings = _check_settings(zero_tol, relative_to, alpha, level, n_mc, n_boot)
    W = as_weight_matrix(W, "W")
    p, n = W.shape
    root = _root_words(rng if rng is not None else np.random.default_rng())
    part = classify_tensor(name, (p, n))[0]
    row = _empty_row()
    try:
        Wn, rms = _finite_unit(W)
    except _RowError as exc:
        raise ValueError(f"W: {exc}") from None
    timings = Counter()
    row.update(name=name, tensor=name, role=_role_of(name[:-7] if name.endswith(".weight") else name),
               layer=part.layer, expert=part.expert, p=p, n=n, shape=f"{p}x{n}", dtype=str(np.asarray(W).dtype),
               status="ok")
    with _blas_threads(p, n):
        row.update(_analyze_unit(Wn, rms, null=None, band_rng=_child(root, "band", p, n), tail_rng=_child(root, name),
                                 method="gram" if settings["zero_tol"] > 0 else "auto", timings=timings, **settings))
    return to_builtin(row)


def _check_settings(zero_tol, relative_to, alpha, level, n_mc, n_boot) -> dict:
    return {
        "zero_tol": check_real("zero_tol", zero_tol, lo=0.0, hi=1.0, hi_open=True),
        "relative_to": check_choice("relative_to", relative_to, ("mean_all", "mean_nonzero")),
        "alpha": check_probability("alpha", alpha),
        "level": check_probability("level", level),
        "n_mc": check_int("n_mc", n_mc, min=20, max=10**6),
        "n_boot": check_int("n_boot", n_boot, min=0, max=10**5),
    }


def _compile(name, pattern):
    if pattern is None:
        return None
    if not isinstance(pattern, str):
        raise TypeError(f"{name} must be a regular expression (str) or None; got {type(pattern).__name__}")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{name}={pattern!r} is not a valid regular expression: {exc}") from None


def _skip_reason(shape, min_dim) -> str | None:
    nd = len(shape)
    if nd == 0:
        return "0-D (scalars)"
    if nd == 1:
        return "1-D (biases, norms)"
    if nd > 2:
        return f"{nd}-D (not a matrix)"
    if min(shape) < min_dim:
        return f"vector-shaped (a side < {min_dim})"
    return None


def analyze(
    weights,
    *,
    include=None,
    exclude=None,
    zero_tol=0.1,
    relative_to="mean_all",
    alpha=0.05,
    level=0.95,
    n_mc=200,
    n_boot=100,
    rng=0,
    min_dim=2,
    progress=None,
    return_spectra=False,
):
    r"""Analyse every weight matrix of a checkpoint: concentration with its band, MP fit, spikes, tail; one row each.

    For each matrix ``W`` (p × n, stored (out, in); ratio p/n; spectrum of
    :math:`WW^\top/n`; docs/design.md §3) the row holds its spectral
    concentration :math:`\lambda_{\max}/\lambda_{\min}` over the eigenvalues
    above ``zero_tol`` × the mean (docs/science.md §5) against the law of a
    Gaussian matrix of the same shape, the MP fit with its Tracy–Widom
    outliers, the stable rank :math:`\|W\|_F^2/\|W\|_2^2` and the power-law
    tail (module notes of :mod:`rmt_sparsity.spectra._analyze` on scale and seeds).

    Tensors are read one at a time (:func:`open_checkpoint`). Roles come from
    the names alone (:func:`classify_tensor`): GPT-2 ``Conv1D`` weights are
    transposed to (out, in) and its fused ``c_attn`` is split into Q, K and V.
    Tensors that are not matrices (1-D biases and norms, scalars, conv kernels,
    vector-shaped 2-D arrays) are skipped and counted in ``df.attrs["skipped"]``.
    A matrix that cannot be analysed (NaN or inf entries, all zeros, an integer
    or boolean dtype) becomes an *error row* (``status == "error"``, ``error``
    gives the reason) and the others are analysed. A checkpoint with no matrix
    at all gives one error row per tensor, saying so.

    Parameters
    ----------
    weights : str, os.PathLike or mapping of str to array_like
        A ``.safetensors`` file, a folder of shards, a ``model.safetensors.index.json``, a ``.npz``, or a
        dict of arrays (float64, float32, float16, bfloat16 via ``ml_dtypes``).
    include, exclude : str, optional
        Regular expressions (``re.search``) on the row name: analyse only the matching / non-matching matrices.
    zero_tol, relative_to :
        The concentration cut (:func:`spectral_concentration`).
    alpha : float
        Level of each sequential Tracy–Widom outlier test (:func:`fit_mp`).
    level : float
        Coverage of the concentration band and of the intervals.
    n_mc : int
        Monte-Carlo draws of the null band, for shapes where no edge law applies (once per shape).
    n_boot : int
        Bootstrap replicates of the tail exponent (0: no interval).
    rng : int, Generator or None, default 0
        Root seed (module notes): the same seed gives the same table.
    min_dim : int
        Smallest side of a matrix; thinner 2-D arrays are skipped as vector-shaped.
    progress : bool or None
        A progress bar per matrix (``tqdm.auto``); None: only on an interactive terminal or notebook.
    return_spectra : bool
        Also return, per analysed row name, its non-zero eigenvalues and fits in the units of the matrix
        rescaled to unit rms (keys ``eigenvalues``, ``ratio``, ``mp_scale``, ``spikes``, ``tail_alpha``,
        ``tail_xmin``, ``tail_xmax``, ``tail_model``, ``tail_fraction``, ``has_tail``): what a figure needs.

    Returns
    -------
    pandas.DataFrame
        One row per matrix, sorted by tensor name, with the columns of ``COLUMNS``:

        * ``name`` (``tensor`` plus ``:q``/``:k``/``:v`` or ``:gate``/``:up`` for a split fused tensor),
          ``tensor``, ``role`` (:func:`classify_tensor`), ``layer``, ``expert``, ``p``, ``n``, ``shape``,
          ``dtype`` (as stored), ``transposed``, ``status`` (``"ok"``/``"error"``), ``error``, ``file``;
        * ``rms``: root-mean-square entry; ``concentration``, ``sv_ratio`` (its square root),
          ``regime``, ``relative_to``, ``zero_tol``, ``n_kept``;
        * ``band_lo``, ``band_hi``: the central ``level`` band of the concentration of a Gaussian matrix
          of the same shape, ``band_p_value`` (two-sided), ``in_band``, ``band_method``, ``band_draws``;
        * the MP fit: ``mp_scale`` (σ̂²) with ``mp_scale_lo``/``mp_scale_hi``, the bulk edges
          ``mp_edge_lo``/``mp_edge_hi``, ``mp_ks``, ``lambda_max``, ``tw_critical``; the spikes
          ``n_spikes``, ``spike_eigenvalues``, their Tracy–Widom ``spike_p_values`` and
          ``spike_theta_ratio`` (BBP strength over the threshold :math:`\sigma(pn)^{1/4}`);
        * ``stable_rank``;
        * the tail: ``tail_alpha`` with ``tail_alpha_lo``/``tail_alpha_hi``, ``tail_xmin``, ``tail_n``,
          ``tail_model``, ``tail_decades``, ``has_tail``, ``tail_verdict``.

        ``df.attrs`` holds ``source``, ``format``, ``files``, ``n_tensors``, ``skipped`` (reason -> count),
        ``skipped_tensors``, ``n_analysed``, ``n_errors``, ``settings`` and ``timings`` (seconds per stage).
        With ``return_spectra``, the pair ``(df, spectra)``.

    Raises
    ------
    FileNotFoundError, ValueError, TypeError
        Before any matrix is analysed: a missing path, an unreadable checkpoint (:class:`CheckpointError`,
        a ``ValueError``), a bad argument, or ``include``/``exclude`` selecting nothing.

    Examples
    --------
    >>> import numpy as np
    >>> from rmt_sparsity.spectra import analyze
    >>> g = np.random.default_rng(0)
    >>> df = analyze({"layers.0.mlp.up_proj.weight": g.standard_normal((256, 64)), "layers.0.norm.weight": np.ones(64)},
    ...              n_boot=0, progress=False)
    >>> df[["name", "role", "layer", "in_band", "n_spikes", "has_tail"]].to_dict("records")
    [{'name': 'layers.0.mlp.up_proj.weight', 'role': 'ffn_up', 'layer': 0, 'in_band': True, 'n_spikes': 0, 'has_tail': False}]
    >>> df.attrs["skipped"]
    {'1-D (biases, norms)': 1}
    """
    import pandas as pd

    settings = _check_settings(zero_tol, relative_to, alpha, level, n_mc, n_boot)
    min_dim = check_int("min_dim", min_dim, min=1)
    rx_in, rx_ex = _compile("include", include), _compile("exclude", exclude)
    if progress is not None and not isinstance(progress, bool):
        raise TypeError(f"progress must be True, False or None; got {progress!r}")
    if isinstance(weights, Mapping) and not weights:
        raise ValueError("weights is empty: nothing to analyse")
    root = _root_words(rng)
    timings = Counter()
    t_start = time.perf_counter()
    with _open_checkpoint(weights, "weights") as ckpt:
        if len(ckpt) == 0:
            raise ValueError(f"{ckpt.source}: the checkpoint holds no tensors")
        plan, skipped, excluded = [], [], 0
        for name, info in ckpt.items():
            reason = _skip_reason(info.shape, min_dim)
            if reason is not None:
                skipped.append((name, reason))
                continue
            parts = [pt for pt in classify_tensor(name, info.shape)
                     if (rx_in is None or rx_in.search(pt.name)) and (rx_ex is None or not rx_ex.search(pt.name))]
            if parts:
                plan.append((info, parts))
            else:
                excluded += 1
        n_parts = sum(len(parts) for _, parts in plan)
        rows = []
        if not plan:
            if excluded:
                raise ValueError(
                    f"include={include!r} / exclude={exclude!r} select none of the {excluded} matrices of {ckpt.source}"
                )
            for name, reason in skipped:  # nothing to analyse at all: say so, tensor by tensor
                row = _empty_row()
                info = ckpt[name]
                row.update(name=name, tensor=name, shape="x".join(map(str, info.shape)),
                           dtype=_DTYPE_SHORT.get(info.dtype, info.dtype), file=info.file,
                           error=f"{reason}: not a matrix, and the checkpoint holds no matrix to analyse")
                rows.append(row)
        from tqdm.auto import tqdm

        nulls: dict = {}
        spectra: dict = {}
        method = "gram" if settings["zero_tol"] > 0 else "auto"
        with tqdm(total=n_parts, desc="analyze", unit="matrix", disable=(None if progress is None else not progress),
                  leave=False) as bar:
            for info, parts in plan:
                t0 = time.perf_counter()
                try:
                    arr = _as_float64(ckpt.read(info.name), info.dtype)
                    read_error = None
                except _RowError as exc:
                    arr, read_error = None, str(exc)
                except (ValueError, OSError, TypeError) as exc:
                    arr, read_error = None, f"cannot read: {exc}"
                timings["read"] += time.perf_counter() - t0
                for part in parts:
                    bar.set_postfix_str(part.name[-40:], refresh=False)
                    row = _empty_row()
                    shape = (info.shape[::-1] if part.transpose else info.shape)
                    p, n = shape[0] // part.n_parts, shape[1]
                    row.update(name=part.name, tensor=info.name, role=part.role, layer=part.layer, expert=part.expert,
                               p=p, n=n, shape=f"{p}x{n}", dtype=_DTYPE_SHORT.get(info.dtype, info.dtype),
                               transposed=part.transpose, file=info.file)
                    try:
                        if read_error is not None:
                            raise _RowError(read_error)
                        t0 = time.perf_counter()
                        Wn, rms = _finite_unit(part.extract(arr))
                        if part is parts[-1]:
                            arr = None  # the stored tensor is no longer needed: peak = one float64 copy + its Gram
                        timings["convert"] += time.perf_counter() - t0
                        key = (p, n)
                        keep = {} if return_spectra else None
                        with _blas_threads(p, n):
                            if key not in nulls and min(p, n) >= 2:
                                t0 = time.perf_counter()
                                nulls[key] = _null_ratio(p, n, settings["zero_tol"], settings["relative_to"],
                                                         settings["level"], settings["n_mc"], _child(root, "band", p, n))
                                timings["band"] += time.perf_counter() - t0
                            row.update(_analyze_unit(Wn, rms, null=nulls.get(key), band_rng=None,
                                                     tail_rng=_child(root, part.name), method=method,
                                                     timings=timings, keep=keep, **settings))
                        if keep is not None:
                            spectra[part.name] = keep
                        row.update(status="ok")
                        del Wn
                    except _RowError as exc:
                        row.update(status="error", error=str(exc))
                    except (ValueError, FloatingPointError, ArithmeticError, np.linalg.LinAlgError) as exc:
                        row.update(status="error", error=f"analysis failed: {type(exc).__name__}: {exc}")
                    rows.append(row)
                    bar.update(1)
                del arr
    timings["total"] = time.perf_counter() - t_start
    df = pd.DataFrame([to_builtin(r) for r in rows], columns=list(COLUMNS))
    for col in ("layer", "expert"):
        df[col] = df[col].astype("Int64")
    df.attrs.update(
        source=ckpt.source,
        format=ckpt.format,
        files=list(ckpt.files),
        n_tensors=len(ckpt),
        skipped=dict(Counter(reason for _, reason in skipped)) if plan else {},
        skipped_tensors=[list(t) for t in skipped] if plan else [],
        excluded=excluded,
        n_analysed=int((df["status"] == "ok").sum()),
        n_errors=int((df["status"] == "error").sum()),
        settings={**settings, "min_dim": min_dim, "include": include, "exclude": exclude},
        timings=dict(timings),
    )
    return (df, spectra) if return_spectra else df
