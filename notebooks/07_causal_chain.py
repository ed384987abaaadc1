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
# # 07 — The causal chain, link by link, on the same networks
#
# The paper (Peng, Qi, Shi, Gao, arXiv 2309.03004; reworked in arXiv 2605.25612) argues
#
# $$\text{weight noise} \Rightarrow \text{small augmented flatness } \textstyle\sum_t\|x_t\|^2\|\eta_t\|^2
# \Rightarrow \text{gradient sparsity} \Rightarrow \text{activation sparsity},$$
#
# with the LayerNorm-ed input norm $\|x\|$ unable to shrink, and noise concentrating the key matrices'
# spectra. `rmt-sparsity verify` measures every link on **one grid of trained networks** — the shared
# fixture `chain_grid` (`rs.experiments.chain_grid`): small FFN stacks on digits, MSE and cross-entropy,
# with and without relative weight noise $\sigma$, plain and with the paper's modules, an SGD arm and a
# shifted-S arm, 16 seeds per cell, each arm trained until a stated convergence rule holds (or a cap).
#
# This notebook **reads the cached grid** that `verify` stored (`OUT/fixtures/chain_grid`, records of a
# `ResultStore`), draws the chain figure of each loss, and re-judges the claims from the same records.
#
# **Size switch.** `RMT_SPARSITY_QUICK` unset or `1`: the smoke grid (one MSE arm, 2 seeds, 40 steps),
# trained here in well under a minute unless `verify --profile smoke` already stored it; the claims are
# then *inconclusive: not converged*, as they should be. `RMT_SPARSITY_QUICK=0`: the quick grid (192
# networks), read from the store of `rmt-sparsity verify` (run it first, e.g. with `--out
# rmt-sparsity-report`; set `RMT_SPARSITY_STORE` to its `fixtures` folder otherwise), or trained here.

# %%
import os
import time
from pathlib import Path

import matplotlib

if "ipykernel" not in __import__("sys").modules:  # plain `python notebook.py`: no display
    matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from rmt_sparsity.experiments.catalog import chain
from rmt_sparsity.experiments.fixtures import resolve_fixtures
from rmt_sparsity.experiments.runner import run_claim
from rmt_sparsity.report.figures import RENDERERS

QUICK = os.environ.get("RMT_SPARSITY_QUICK", "1") != "0"
PROFILE = "smoke" if QUICK else "quick"
STORE = Path(os.environ.get("RMT_SPARSITY_STORE", "rmt-sparsity-report/fixtures"))
T_START = time.perf_counter()
print(f"QUICK = {QUICK}: profile {PROFILE!r}; store {STORE} ({'found' if STORE.is_dir() else 'absent'})")

# %% [markdown]
# ## 1. The grid
#
# `resolve_fixtures` returns the stored arms when the store holds them for this profile, seed and package
# version (otherwise it trains them and, given a store, keeps them there). Each arm is one ensemble; a
# cell is one (arm, $\sigma$).

# %%
grid = resolve_fixtures(["chain_grid"], profile=PROFILE, seed=0,
                        store=STORE if STORE.is_dir() else None)["chain_grid"]
fixtures = {"chain_grid": grid}
for arm_id, arm in grid.units.items():
    cached = grid.timings.get(arm_id, {}).get("cached", False)
    where = "read from the store" if cached else f"trained here in {arm['timings']['total_s']:.0f} s"
    print(f"{arm_id:30s} {arm['steps']:5d} steps  converged={arm['converged']!s:5s}  {where}")

# %% [markdown]
# Per cell, the seed means of the chain's quantities (mean over the two key layers; $\|x\|_{\min}$ is the
# minimum over layers and probe examples):

# %%
rows = []
for arm_id, arm in grid.units.items():
    layers = arm["model"]["layer_names"]
    for level, cell in arm["cells"].items():
        pr = cell["probes"]
        mean = lambda key: float(np.mean([np.mean(pr[f"{n}.{key}"]) for n in layers]))  # noqa: E731
        rows.append((arm_id, level, float(np.mean(cell["hessian_trace"])), mean("augmented_flatness"),
                     float(np.mean(np.min([pr[f"{n}.x_norm_min_over_sqrt_d"] for n in layers], axis=0))),
                     mean("rel_grad_sparsity@0.01"), mean("density_ratio"), mean("zero_fraction"),
                     float(np.mean(cell["train_loss"]))))
print(f"{'arm':30s} {'level':>6s} {'tr H':>9s} {'aug.flat':>9s} {'|x|min':>7s} {'gs@1e-2':>8s} {'dens.':>6s} "
      f"{'zeros':>6s} {'train L':>8s}")
for r in rows:
    print(f"{r[0]:30s} {r[1]:>6s} {r[2]:9.4g} {r[3]:9.4g} {r[4]:7.3f} {r[5]:8.4f} {r[6]:6.3f} {r[7]:6.3f} {r[8]:8.2g}")

# %% [markdown]
# ## 2. The chain figure
#
# One figure per loss, $\sigma$ on the x axis, one line per arm (mean ± SE over seeds): flatness (tr H and
# the augmented flatness, relative to $\sigma = 0$), $\|x\|_{\min}/\sqrt d$, gradient sparsity (share of
# $|\eta_i| \le 0.01\,\mathrm{rms}(\eta_t)$), zero fraction and key-matrix concentration
# $\lambda_{\max}/\lambda_{\min}$ of $KK^\top$. The figure data come from `chain.chain_figure`, the same
# function the report uses; the report's renderer draws them.

# %%
losses = sorted({a["arm"]["loss"] for a in grid.units.values()})
for loss in losses:
    fig_data = chain.chain_figure(fixtures, loss)
    fig, ax = plt.subplots(dpi=80)
    RENDERERS[fig_data.kind](ax, fig_data.data)
    fig.tight_layout()
    plt.show()

# %% [markdown]
# ## 3. Gradient density: the paper's histogram
#
# The paper's code (`codes/scripts/after_training/gradient_density.py` of cdgyp/sparsity) plots the
# histogram of $\log_{10} g^2$, $g = \partial L/\partial a$, over all entries and over the active ones
# ($\sigma'(h) \ne 0$), and the ratio $E[g^2 \mid \text{active}] / E[g^2]$. Below 1, the neurons that pass
# gradient back carry less of $g$ than average.

# %%
arm = grid.units[next(a for a in grid.units if "/plain/adamw" in a)]
edges = np.asarray(arm["g2_edges"])
centres = 0.5 * (edges[:-1] + edges[1:])
fig, ax = plt.subplots(figsize=(7, 3.5), dpi=80)
for level, cell in arm["cells"].items():
    for kind, ls in (("all", "-"), ("active", "--")):
        h = np.sum([cell["g2_histograms"][f"{n}.g2_hist_{kind}"] for n in arm["model"]["layer_names"]], axis=0)
        ax.plot(centres, h / max(h.sum(), 1), ls, label=f"σ={level}, {kind}")
    ratio = np.mean([np.mean(cell["probes"][f"{n}.density_ratio"]) for n in arm["model"]["layer_names"]])
    print(f"{arm['arm']['id']} sigma={level}: E[g^2 | active] / E[g^2] = {ratio:.3f}")
ax.set_xlabel("log10 g²")
ax.set_ylabel("share of entries")
ax.legend(fontsize=7)
plt.show()

# %% [markdown]
# ## 4. The claims, judged from the same records
#
# `run_claim(..., fixtures=...)` hands the grid to each claim: no training happens here. Each claim states
# its region, its rivals (the $\sigma = 0$ control as "no effect"), and attaches the training evidence of the
# cells it reads; a cell that missed the convergence rule makes it *inconclusive: not converged*.

# %%
for claim in chain.CLAIMS:
    if claim.id.rsplit("_", 1)[1] not in losses:
        continue
    res = run_claim(claim.id, profile=PROFILE, seed=0, fixtures=fixtures)
    m = res.measurement
    value = "—" if m is None or m.value != m.value else f"{m.value:+.4g}" + (f" ± {m.se:.2g}" if m.se else "")
    print(f"{claim.id:50s} {res.verdict.status:13s} {value}")

# %%
print(f"notebook ran in {time.perf_counter() - T_START:.0f} s")
