"""Training loop: determinism, scan vs step loop, constraints after every step, covariance, bad input."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from rmt_sparsity.nn import (
    MLP,
    Dataset,
    TrainConfig,
    gaussian_mixture,
    make_optimizer,
    make_trainer,
    teacher_student,
    train,
)

DS = gaussian_mixture(n_train=64, n_test=32, d=4, n_classes=3, rng=0)
HP = {"sigma": jnp.float32(0.05), "noise_ratio": jnp.float32(0.1), "cov_discount": jnp.float32(1)}


def test_same_key_same_trajectory():
    m = MLP(d_in=4, d_out=3, width=8, depth=2, activation="jsrelu", zeroth_bias=True, layernorm="restricted", noise_ratio=0.1)
    kw = dict(steps=20, eval_every=10, batch_size=16, sigma=0.05, relative=True, quiet=True, probe_size=32)
    a = train(m, DS, key=jax.random.key(0), **kw)
    b = train(m, DS, key=jax.random.key(0), **kw)
    c = train(m, DS, key=jax.random.key(1), **kw)
    assert a.history.keys() == b.history.keys()
    for k in a.history:
        np.testing.assert_array_equal(a.history[k], b.history[k])
    for (pa, va), (_, vb) in zip(jax.tree_util.tree_leaves_with_path(a.params), jax.tree_util.tree_leaves_with_path(b.params)):
        np.testing.assert_array_equal(np.asarray(va), np.asarray(vb), err_msg=str(pa))
    assert not np.array_equal(a.history["train_loss"][1:], c.history["train_loss"][1:])
    assert a.history["step"].tolist() == [0, 10, 20]
    for k in ("layer0.zero_fraction", "layer1.grad_sparsity@1e-06", "layer0.concentration", "layer1.augmented_flatness"):
        assert np.isfinite(a.history[k]).all()


def test_scan_equals_step_loop_with_any_optax_optimizer():
    # weight noise is a loss wrapper, so any optax transformation composes with it
    m = MLP(d_in=4, d_out=3, width=8, depth=1)
    opt = optax.chain(optax.clip_by_global_norm(1.0), optax.adam(1e-2))
    tr = make_trainer(m, opt, n_classes=3, batch_size=8, weight_noise=True)
    x, y = jnp.asarray(DS.x_train), jnp.asarray(DS.y_train)
    s0 = tr.init(jax.random.key(3))
    s_scan, losses = tr.run(s0, HP, x, y, n_steps=4)
    s = s0
    loop_losses = []
    for _ in range(4):
        s, lv = tr.step(s, HP, x, y)
        loop_losses.append(float(lv))
    # identical operations, compiled in two programs: equal up to float32 reassociation (~1e-6 relative)
    np.testing.assert_allclose(np.asarray(losses), loop_losses, rtol=1e-5)
    for a, b in zip(jax.tree_util.tree_leaves(s_scan["params"]), jax.tree_util.tree_leaves(s["params"])):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)


def test_restricted_layernorm_after_every_step():
    # Strong weight decay pulls gamma towards 0; the projection must keep |gamma| >= 1 after every step.
    kw = dict(d_in=4, d_out=3, width=8, depth=2)
    opt = make_optimizer("sgd", lr=0.1, weight_decay=3.0)  # decay factor 0.7 per step
    x, y = jnp.asarray(DS.x_train), jnp.asarray(DS.y_train)
    hp = dict(HP, sigma=jnp.float32(0))
    for ln, expect_bound in (("restricted", True), ("affine", False)):
        m = MLP(**kw, layernorm=ln, zeroth_bias=True)
        tr = make_trainer(m, opt, n_classes=3, batch_size=16)
        s = tr.init(jax.random.key(0))
        mins = []
        for _ in range(15):
            s, _ = tr.step(s, hp, x, y)
            gammas = [np.abs(np.asarray(s["params"][n]["ln"]["gamma"])) for n in (*m.layer_names, "head")]
            mins.append(min(g.min() for g in gammas))
            for n in m.layer_names:  # zeroth bias clip holds after every step too
                g = np.abs(np.asarray(s["params"][n]["ln"]["gamma"]))
                assert np.all(np.abs(np.asarray(s["params"][n]["zb"])) <= 0.1 * g * (1 + 1e-6))
        if expect_bound:
            assert min(mins) >= 1.0
        else:
            assert min(mins) < 0.9  # the negative control: without the projection gamma shrinks


def test_restricted_finetune_uplift_and_frozen_beta():
    t_up = 10
    m = MLP(d_in=4, d_out=3, width=8, depth=1, layernorm="restricted_finetune", ln_uplift_steps=t_up)
    tr = make_trainer(m, make_optimizer("sgd", lr=0.1, weight_decay=3.0), n_classes=3, batch_size=16)
    s = tr.init(jax.random.key(0))
    p = s["params"]
    p["layer0"]["ln"]["gamma"] = jnp.full(4, -0.05)  # a pretrained small, negative gamma
    p["layer0"]["ln"]["beta"] = jnp.full(4, 0.3)
    s = tr.init(jax.random.key(0), p)
    x, y = jnp.asarray(DS.x_train), jnp.asarray(DS.y_train)
    for t in range(1, 14):
        s, _ = tr.step(s, dict(HP, sigma=jnp.float32(0)), x, y)
        g = np.asarray(s["params"]["layer0"]["ln"]["gamma"])
        assert np.all(np.abs(g) >= min(t / t_up, 1.0) * (1 - 1e-6))
        np.testing.assert_array_equal(np.asarray(s["params"]["layer0"]["ln"]["beta"]), 0.3 * np.ones(4, np.float32))


def test_discounted_covariance_trace():
    # plain LayerNorm with eps = 0: ||x_i||^2 = d for every token, so tr C_t = d B sum_{j<t} r^j exactly
    d, bsz, r, steps = 4, 8, 0.9, 6
    m = MLP(d_in=d, d_out=3, width=5, depth=1, layernorm="plain", ln_eps=0.0)
    res = train(m, DS, "sgd", key=jax.random.key(0), steps=steps, batch_size=bsz, lr=0.1, weight_decay=1.0,
                track_covariance=True, probes=False, quiet=True)
    assert res.config["cov_discount"] == pytest.approx(1 - 0.1 * 1.0)
    c = res.covariance["layer0"]
    want = d * bsz * sum(r**j for j in range(steps))
    assert abs(np.trace(c) - want) / want < 1e-5  # float32 accumulation of ~50 terms of size d
    np.testing.assert_allclose(c, c.T, rtol=1e-6)


def test_regression_training_runs():
    ds = teacher_student(n_train=64, n_test=16, d_in=3, d_out=2, rng=0)
    res = train(MLP(d_in=3, d_out=2, width=8, depth=1, variant="residual"), ds, key=jax.random.key(0),
                steps=10, batch_size=8, quiet=True, probes=False)
    assert np.isnan(res.history["test_accuracy"]).all() and np.isfinite(res.history["test_loss"]).all()


def test_bad_input_raises_before_tracing():
    m = MLP(d_in=4, d_out=3, width=8, depth=1)
    k = jax.random.key(0)
    with pytest.raises(ValueError, match="sigma must be a finite number >= 0"):
        train(m, DS, key=k, steps=2, sigma=-1.0)
    with pytest.raises(ValueError, match="d_in = 4 but the model expects d_in = 5"):
        train(MLP(d_in=5, d_out=3), DS, key=k, steps=2)
    with pytest.raises(ValueError, match="d_out"):
        train(MLP(d_in=4, d_out=2), DS, key=k, steps=2)
    with pytest.raises(ValueError, match="eval_every"):
        train(m, DS, key=k, steps=2, eval_every=3)
    with pytest.raises(ValueError, match="loss='ce' needs a classification"):
        ds = teacher_student(n_train=8, n_test=4, d_in=4, d_out=3, rng=0)
        train(m, ds, key=k, steps=2, loss="ce")
    with pytest.raises(ValueError, match="loss must be one of"):
        train(m, DS, key=k, steps=2, loss="hinge")
    with pytest.raises(ValueError, match="no magic synapse"):
        train(m, DS, key=k, steps=2, noise_ratio=0.1)
    with pytest.raises(TypeError, match="PRNG key"):
        train(m, DS, key=None, steps=2)
    with pytest.raises(TypeError, match="key"):
        train(m, DS, steps=2)  # key is a required keyword-only argument
    with pytest.raises(ValueError, match="lr/weight_decay apply to a named optimizer"):
        train(m, DS, optax.sgd(0.1), key=k, steps=2, lr=0.1)
    with pytest.raises(ValueError, match="finite"):
        Dataset(np.array([[np.nan, 1.0]]), np.array([0]), np.zeros((1, 2)), np.array([1]), 2)
    with pytest.raises(ValueError, match=r"params\['layer0'\]\['w'\] must be finite"):
        p = m.init(key=k)
        train(m, DS, key=k, steps=2, params=dict(p, layer0=dict(p["layer0"], w=p["layer0"]["w"] * np.nan)))
    with pytest.raises(TypeError, match="optimizer must be an optax.GradientTransformation"):
        make_trainer(m, "sgd")
    with pytest.raises(ValueError, match="n_classes must equal the model's d_out = 3"):
        make_trainer(m, make_optimizer("sgd"), n_classes=4)
    with pytest.raises(ValueError, match="name must be one of 'sgd'"):
        make_optimizer("rmsprop")


def test_set_hyperparams_checks_its_values():
    from rmt_sparsity.nn import set_hyperparams

    st = make_optimizer("sgd").init({"w": jnp.zeros(2)})
    with pytest.raises(ValueError, match=r"lr must be a finite number > 0.0; got nan"):
        set_hyperparams(st, lr=float("nan"))
    with pytest.raises(ValueError, match=r"weight_decay must be a finite number >= 0.0; got -1.0"):
        set_hyperparams(st, weight_decay=-1.0)
    with pytest.raises(TypeError, match="lr must be a real number; got str"):
        set_hyperparams(st, lr="1")
    with pytest.raises(ValueError, match=r"lr must have the shape of the state's value, \(\)"):
        set_hyperparams(st, lr=np.array([0.1, 0.2]))
    with pytest.raises(TypeError, match="opt_state must be the state of an optimizer from make_optimizer"):
        set_hyperparams(None, lr=0.1)
    stacked = jax.vmap(lambda _: make_optimizer("sgd").init({"w": jnp.zeros(2)}))(jnp.arange(2))
    with pytest.raises(ValueError, match=r"lr\[1\] must be a finite number > 0.0; got 0.0"):
        set_hyperparams(stacked, lr=np.array([0.1, 0.0]))
    assert set_hyperparams(stacked, lr=np.array([0.1, 0.2])).hyperparams["learning_rate"].shape == (2,)


def test_config_object_equals_keywords_and_keywords_override_it():
    m = MLP(d_in=4, d_out=3, width=8, depth=1)
    kw = dict(steps=6, eval_every=3, batch_size=8, sigma=0.05, relative=True, probe_size=16, quiet=True)
    a = train(m, DS, "sgd", key=jax.random.key(0), lr=0.1, **kw)
    b = train(m, DS, key=jax.random.key(0), config=TrainConfig(optimizer="sgd", lr=0.1, **kw))
    assert a.config == b.config
    for k in a.history:
        np.testing.assert_array_equal(a.history[k], b.history[k], err_msg=k)
    # a keyword and the positional optimizer override the config's fields
    c = train(m, DS, "momentum", key=jax.random.key(0), config=TrainConfig(optimizer="sgd", lr=0.1, **kw), lr=0.2)
    assert (c.config["optimizer"], c.config["lr"], c.config["sigma"]) == ("momentum", 0.2, 0.05)
    assert not np.array_equal(c.history["test_loss"], a.history["test_loss"])


def test_train_config_checks_its_fields():
    cfg = TrainConfig(steps=10, lr=[0.1, None], sigma=np.float32(0.5))
    assert cfg.lr == (0.1, None) and cfg.sigma == 0.5 and cfg.eval_every == 10
    assert cfg.member_values("sigma", 2) == [0.5, 0.5] and cfg.member_values("noise_ratio", 2) == [None, None]
    with pytest.raises(ValueError, match="lr has 2 values but there are K = 3 keys"):
        cfg.member_values("lr", 3)
    with pytest.raises(ValueError, match=r"lr\[0\] must be a finite number > 0.0; got 0.0"):
        TrainConfig(steps=1, lr=[0.0])
    with pytest.raises(ValueError, match="relative=True needs sigma"):
        TrainConfig(steps=1, relative=True, sigma=[None, None])
    with pytest.raises(ValueError, match="steps must be an integer >= 1 and <= 2147483647; got 0"):
        TrainConfig(steps=0)
    with pytest.raises(ValueError, match=r"steps must be an integer <= 2147483647 and >= 1; got 2147483648"):
        TrainConfig(steps=2**31)  # the step counter is int32
    with pytest.raises(ValueError, match=r"batch_size must be an integer <= 2147483647"):
        TrainConfig(steps=1, batch_size=10**12)
    with pytest.raises(ValueError, match=r"cov_discount must be a finite number > 0.0 and <= 1.0; got 1.5"):
        TrainConfig(steps=1, cov_discount=1.5)
    with pytest.raises(TypeError, match="optimizer must be one of"):
        TrainConfig(steps=1, optimizer=None)
    with pytest.raises(ValueError, match="flatness measure must be one of"):
        TrainConfig(steps=1, flatness={"measures": ["sam"]})
    with pytest.raises(TypeError, match="track_covariance must be a bool; got 1"):
        TrainConfig(steps=1, track_covariance=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.steps = 3
    m = MLP(d_in=4, d_out=3, width=8, depth=1)
    with pytest.raises(TypeError, match=r"train\(\) got an unexpected keyword argument 'stepz'"):
        train(m, DS, key=jax.random.key(0), stepz=3)
    with pytest.raises(TypeError, match=r"train\(\) needs steps="):
        train(m, DS, key=jax.random.key(0))
    with pytest.raises(TypeError, match="config must be an rmt_sparsity.nn.TrainConfig"):
        train(m, DS, key=jax.random.key(0), config={"steps": 3})


def test_hooks_record_beside_the_probes():
    m = MLP(d_in=4, d_out=3, width=8, depth=1)
    seen = []

    def norm(params, step, batch, keys, *, stacked):
        seen.append((step, stacked, batch[0].shape))
        return {"w0_sq": jnp.sum(params["layer0"]["w"] ** 2)}

    res = train(m, DS, "sgd", key=jax.random.key(0), steps=4, eval_every=2, batch_size=8, lr=0.1, probe_size=16,
                hooks=[norm], quiet=True)
    assert seen == [(0, False, (16, 4)), (2, False, (16, 4)), (4, False, (16, 4))]
    np.testing.assert_allclose(res.history["w0_sq"][-1], float(jnp.sum(res.params["layer0"]["w"] ** 2)), rtol=1e-6)
    assert "layer0.zero_fraction" in res.history  # the standard probes still run
    with pytest.raises(ValueError, match="hook 1 returned 'test_loss', a name another record already uses"):
        train(m, DS, key=jax.random.key(0), steps=2, probes=False, quiet=True,
              hooks=[norm, lambda p, t, b, k, *, stacked: {"test_loss": 0.0}])
    with pytest.raises(ValueError, match="hook 0 returned 2 values for 'v'; expected 1"):
        train(m, DS, key=jax.random.key(0), steps=2, probes=False, quiet=True,
              hooks=[lambda p, t, b, k, *, stacked: {"v": np.zeros(2)}])
    with pytest.raises(TypeError, match="hooks must be a sequence of callables"):
        train(m, DS, key=jax.random.key(0), steps=2, hooks=norm)
