"""Vectorised ensembles: member k equals the single run, memory chunking, sweep records, bad input.

Tolerances. Member k of ``jit(vmap(scan(step)))`` and the single ``jit(scan(step))``
run the same operations, but ``vmap`` turns every matrix product and reduction
into a batched one, and XLA may block and order the floating-point sums of a
batched kernel differently. Each such difference is a rounding error of relative
size ~u (u = 2^-24 ~ 6e-8 in float32, 2^-53 ~ 1.1e-16 in float64) per operation;
T = 20 Adam steps compound them through a well-conditioned trajectory to
~T * a few * u. We measured max ~4e-7 (float32) and ~1e-15 (float64) over all
parameter arrays and history rows, and require 1e-5 and 1e-12 (norm-wise relative
error of each array): ~170 u and ~9000 u, ample margin yet far below any real
divergence (a wrong key, sigma or learning rate changes results at O(1e-2)).
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from rmt_sparsity.experiments.ensemble_sweep import EnsembleExperiment, ensemble_groups, run_ensemble_sweep
from rmt_sparsity.experiments.sweep import Sweep
from rmt_sparsity.nn import MLP, estimate_member_bytes, gaussian_mixture, train, train_ensemble

DS = gaussian_mixture(n_train=64, n_test=32, d=4, n_classes=3, rng=0)
M = MLP(d_in=4, d_out=3, width=8, depth=2)
SEEDS = (11, 22, 33)
SIGMA = [0.0, 0.05, 0.1]  # relative weight-noise levels, one per member
LR = [1e-3, 3e-3, 1e-2]
WD = [0.0, 1e-2, 1e-1]
KW = dict(steps=20, eval_every=10, batch_size=16, probe_size=32, relative=True, quiet=True)


def _budget_for(n_members):
    """A memory budget that fits exactly ``n_members`` members per compiled run (the estimate is deterministic)."""
    b = estimate_member_bytes(M, batch_size=16, optimizer="adamw", weight_noise=True, eval_rows=32)["bytes"]
    return n_members * b + b // 2


def _rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    mask = np.isfinite(a)  # train_loss is NaN at step 0 in both
    np.testing.assert_array_equal(mask, np.isfinite(b))
    return float(np.linalg.norm(a[mask] - b[mask]) / max(np.linalg.norm(a[mask]), np.finfo(float).tiny))


def _worst_member_error(ens, k, single):
    member = ens.member(k)
    assert member.history.keys() == single.history.keys()
    assert member.config == single.config
    errs = [_rel(single.history[name], member.history[name]) for name in single.history]
    for a, b in zip(jax.tree_util.tree_leaves(single.params), jax.tree_util.tree_leaves(member.params)):
        assert a.shape == b.shape and a.dtype == b.dtype
        errs.append(_rel(a, b))
    return max(errs)


def _compare(ens, tol):
    worst = 0.0
    for k, seed in enumerate(SEEDS):
        single = train(M, DS, key=jax.random.key(seed), sigma=SIGMA[k], lr=LR[k], weight_decay=WD[k], **KW)
        worst = max(worst, _worst_member_error(ens, k, single))
    assert worst < tol, worst
    return worst


def test_member_equals_single_run_float32_with_memory_chunks():
    keys = [jax.random.key(s) for s in SEEDS]
    ens = train_ensemble(M, DS, keys=keys, sigma=SIGMA, lr=LR, weight_decay=WD, max_memory_bytes=_budget_for(2), **KW)
    # 3 members, 2 per compiled run: the second run is padded, and its padding is dropped
    assert ens.members_per_run == 2 and len(ens) == 3
    assert ens.history["test_loss"].shape == (3, 3) and ens.params["layer0"]["w"].shape == (3, 8, 4)
    _compare(ens, tol=1e-5)  # float32: see the module docstring
    # the members really differ (the comparison above could not pass by accident)
    assert _rel(ens.params["layer1"]["w"][0], ens.params["layer1"]["w"][1]) > 1e-2


def test_member_equals_single_run_float64():
    with jax.enable_x64(True):
        keys = jax.random.wrap_key_data(np.stack([jax.random.key_data(jax.random.key(s)) for s in SEEDS]))
        ens = train_ensemble(M, DS, keys=keys, sigma=SIGMA, lr=LR, weight_decay=WD, **KW)
        assert ens.members_per_run == 3 and ens.params["head"]["w"].dtype == np.float64
        _compare(ens, tol=1e-12)  # float64: see the module docstring


def test_hooks_see_stacked_groups_and_padding_is_dropped():
    calls = []

    def hook(params, step, batch, keys, *, stacked):
        calls.append((step, stacked, keys.shape))
        return {"w0_sq": jnp.sum(params["layer0"]["w"] ** 2, axis=(-2, -1)), "key0": jax.random.key_data(keys)[..., 0]}

    keys = [jax.random.key(s) for s in SEEDS]
    ens = train_ensemble(M, DS, keys=keys, sigma=SIGMA, probes=False, max_memory_bytes=_budget_for(2), hooks=[hook],
                         **dict(KW, steps=4, eval_every=2))
    # two groups of two members (the second padded with a copy of member 2), three evaluations each
    assert ens.members_per_run == 2 and calls == [(t, True, (2,)) for t in (0, 2, 4)] * 2
    np.testing.assert_allclose(ens.history["w0_sq"][:, -1], np.sum(np.asarray(ens.params["layer0"]["w"]) ** 2, axis=(1, 2)),
                               rtol=1e-6)  # float32 sums of 32 squares, in two orders
    np.testing.assert_array_equal(ens.history["key0"][:, 0], [int(jax.random.key_data(k)[0]) for k in keys])


def _exp_build(config):
    return {"model": M, "data": DS, "optimizer": "adamw", **KW}


def _exp_summarize(result, config, seed):
    return {"test_loss": float(result.history["test_loss"][-1]),
            "zero_fraction": float(result.history["layer1.zero_fraction"][-1])}


EXP = EnsembleExperiment(build=_exp_build, summarize=_exp_summarize, name="test_ensemble_sweep")


def test_sweep_groups_into_one_ensemble_and_writes_one_record_per_point(tmp_path):
    grid = {"sigma": [0.0, 0.1], "lr": [3e-3]}
    res = run_ensemble_sweep(EXP, grid, seeds=[SEEDS[0]], store=tmp_path / "ens", progress=False,
                             max_memory_bytes=_budget_for(2))
    assert (res.computed, res.reused, len(res.records)) == (2, 0, 2)
    assert [r["ensemble"]["size"] for r in res.records] == [2, 2]
    assert {"key", "experiment", "config", "seed", "result", "versions", "host", "duration_s"} <= set(res.records[0])
    # a plain Sweep of the same experiment computes the same points one by one (train = the K = 1 ensemble)
    plain = Sweep(EXP, grid, seeds=[SEEDS[0]], store=tmp_path / "plain", executor="serial", experiment=EXP.name).run(progress=False)
    for a, b in zip(res.records, plain.records):
        assert a["key"] == b["key"] and a["config"] == b["config"]
        for name in a["result"]:
            assert abs(a["result"][name] - b["result"][name]) <= 1e-5 * abs(b["result"][name]) + 1e-6  # float32, as above
    again = run_ensemble_sweep(EXP, grid, seeds=[SEEDS[0]], store=tmp_path / "ens", progress=False)
    assert (again.computed, again.reused) == (0, 2)


def test_groups_split_on_non_vectorisable_fields():
    pts = [({"width": w, "sigma": s, "lr": 0.1}, seed) for w in (8, 16) for s in (0.0, 0.1) for seed in (0, 1)]
    assert ensemble_groups(pts) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert ensemble_groups(pts, fields=("sigma", "lr", "width")) == [list(range(8))]


def test_bad_input_raises_before_tracing():
    keys = jax.random.split(jax.random.key(0), 3)
    kw = dict(steps=2, quiet=True)
    with pytest.raises(ValueError, match="sigma has 2 values but there are K = 3 keys"):
        train_ensemble(M, DS, keys=keys, sigma=[0.1, 0.2], **kw)
    with pytest.raises(ValueError, match="lr has 4 values but there are K = 3 keys"):
        train_ensemble(M, DS, keys=keys, lr=[0.1] * 4, **kw)
    with pytest.raises(ValueError, match="weight_decay has 1 values"):
        train_ensemble(M, DS, keys=keys, weight_decay=[0.1], **kw)
    with pytest.raises(ValueError, match="at least one PRNG key"):
        train_ensemble(M, DS, keys=[], **kw)
    with pytest.raises(ValueError, match="K = 0"):
        train_ensemble(M, DS, keys=jax.random.split(jax.random.key(0), 0), **kw)
    with pytest.raises(ValueError, match="single raw PRNG key"):
        train_ensemble(M, DS, keys=jax.random.PRNGKey(0), **kw)
    with pytest.raises(ValueError, match="1-D array of K PRNG keys"):
        train_ensemble(M, DS, keys=jax.random.key(0), **kw)
    wide = MLP(d_in=4, d_out=3, width=16, depth=2)
    with pytest.raises(ValueError, match=r"differ in width \(8 vs 16\).*separate calls"):
        train_ensemble([M, M, wide], DS, keys=keys, **kw)
    with pytest.raises(ValueError, match="sequence of 2 MLPs but there are K = 3 keys"):
        train_ensemble([M, M], DS, keys=keys, **kw)
    with pytest.raises(ValueError, match=r"sigma\[1\] must be a finite number >= 0"):
        train_ensemble(M, DS, keys=keys, sigma=[0.1, -1.0, 0.0], **kw)
    with pytest.raises(TypeError, match="one rmt_sparsity.nn.Dataset shared by all members"):
        train_ensemble(M, [DS, DS, DS], keys=keys, **kw)
    with pytest.raises(ValueError, match="lr/weight_decay apply to a named optimizer"):
        train_ensemble(M, DS, optax.sgd(0.1), keys=keys, lr=[0.1, 0.2, 0.3], **kw)
    with pytest.raises(ValueError, match="one member needs about"):
        train_ensemble(M, DS, keys=keys, max_memory_bytes=1000, **kw)
    with pytest.raises(ValueError, match="leading axis of K = 3"):
        train_ensemble(M, DS, keys=keys, params={"layer0": {"w": np.zeros((2, 8, 4))}}, **kw)
    with pytest.raises(ValueError, match="flatness measure must be one of"):
        train_ensemble(M, DS, keys=keys, flatness={"measures": ("sam",)}, **kw)
    with pytest.raises(ValueError, match="must not return"):
        EnsembleExperiment(build=lambda c: {"model": M, "data": DS, "sigma": 0.1}, summarize=_exp_summarize,
                           name="x")({"lr": 0.1}, 0)


@pytest.mark.slow
def test_flatness_measures_vmapped_equal_single_runs():
    # Hutchinson trace and the Lanczos top eigenvalue are smooth functions of the parameters and of the
    # HVPs, so member k agrees with the single run to the float32 bound of the module docstring (1e-5);
    # the Ritz residual is a norm of a difference of O(lambda) vectors, so its error is absolute,
    # ~u * lambda_max * sqrt(n_params) < 1e-4 * lambda_max.
    flat = {"measures": ("trace", "top_eigenvalue"), "probes": 4, "iters": 8}
    keys = [jax.random.key(s) for s in SEEDS]
    ens = train_ensemble(M, DS, keys=keys, sigma=SIGMA, flatness=flat, probes=False, **KW)
    for k, seed in enumerate(SEEDS):
        single = train(M, DS, key=jax.random.key(seed), sigma=SIGMA[k], flatness=flat, probes=False, **KW)
        for name in ("hessian_trace", "hessian_top_eigenvalue"):
            assert _rel(single.history[name], ens.history[name][k]) < 1e-5
        lam = np.max(np.abs(single.history["hessian_top_eigenvalue"]))
        np.testing.assert_allclose(ens.history["hessian_top_residual"][k], single.history["hessian_top_residual"],
                                   rtol=0, atol=1e-4 * lam)
    assert ens.configs[0]["flatness"] == {"measures": ["trace", "top_eigenvalue"], "probes": 4, "iters": 8}
