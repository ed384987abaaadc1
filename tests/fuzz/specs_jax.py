"""Fuzz specs: nn and flatness (JAX). Cost "jax": run under ``pytest -m slow`` and in report.py."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from .spec import Spec
from .values import Arg, Array, Call, Choice, Fixed, Int, Key, Mapping, Obj, Real, Rng, Seq, Tree, _const, _vals, lazy

POS = Real(lo=0.0, lo_open=True)
NONNEG = Real(lo=0.0)
PROB = Real(lo=0.0, hi=1.0, lo_open=True, hi_open=True)
SIZE = Int(min=1)
J = "jax"


class MemberReal(Real):
    """A member setting (``lr``, ``weight_decay``, ``sigma`` of TrainConfig/train_ensemble): a number for
    every member or one per member, so a list of numbers such as ``[1.0, 2.0]`` is valid input, not a wrong
    type (its length is checked against the keys when a run starts). The other wrong types stay bad."""

    def categories(self):
        out = super().categories()
        out["wrong_type"] = st.one_of(_vals("wrong_type", "1", "abc", 1 + 1j, {"a": 1}), _const("wrong_type", "obj"))
        return out


def _jax():
    import jax

    return jax


def _key():
    return _jax().random.key(0)


def _model(**kw):
    from rmt_sparsity.nn import MLP

    kw = {"d_in": 3, "d_out": 2, "width": 8, "depth": 1, **kw}
    return MLP(**kw)


def _params():
    return _model().init(key=_key())


def _x():
    return np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)


def _y():
    return np.arange(6) % 2


def _ds():
    from rmt_sparsity.nn import gaussian_mixture

    return gaussian_mixture(n_train=32, n_test=16, d=3, n_classes=2, rng=0)


def _opt():
    from rmt_sparsity.nn import make_optimizer

    return make_optimizer("sgd", lr=0.1)


def _jnp(a):
    import jax.numpy as jnp

    return jnp.asarray(a)


def _quad_loss():
    import jax.numpy as jnp

    return lambda w, b: 0.5 * jnp.sum(b * w**2)


_ACT = lambda: _jnp(np.array([[-1.0, 0.5, 2.0]], dtype=np.float32))  # noqa: E731
_H = Arg(lazy(_ACT), Array(ndim=None, dtypes="float"))
MODEL = Arg(lazy(_model, cache=True), Obj())
PARAMS = Arg(lazy(_params, cache=True), Tree())
X = Arg(lazy(_x), Array(ndim=(2, 3), dtypes="float", linked=(0, -1)))
Y = Arg(lazy(_y), Array(ndim=(1, 2), dtypes="any", linked=(0,)))

NN = [
    Spec("nn.MLP", {"d_in": Arg(3, SIZE), "d_out": Arg(2, SIZE), "width": Arg(8, SIZE), "depth": Arg(1, SIZE),
                    "variant": Arg("mlp", Choice()), "d_ff": Arg(None, Int(min=1, none_ok=True)),
                    "activation": Arg("relu", Choice()), "activation_params": Arg((), Fixed()),
                    "layernorm": Arg("affine", Choice()), "ln_eps": Arg(1e-5, NONNEG),
                    "ln_uplift_steps": Arg(0, Int(min=0)), "zeroth_bias": Arg(False),
                    "n_tokens": Arg(1, SIZE), "noise_ratio": Arg(None, Real(lo=0.0, none_ok=True)),
                    "noise_layers": Arg("keys", Choice())},
         post=lambda m: m.apply(m.init(key=_key()), np.ones((2, m.d_in), np.float32)), cost=J),
    Spec("nn.MLP.init", {"key": Arg(lazy(_key), Key()), "dtype": Arg(None, Fixed())},
         target=lambda: _model().init, cost=J),
    Spec("nn.MLP.apply", {"params": PARAMS, "x": Arg(lazy(_x), Array(ndim=(2, 3), dtypes="float", linked=(-1,))),
                          "key": Arg(None, Key(none_ok=True)), "step": Arg(None, Int(min=0, none_ok=True))},
         target=lambda: _model().apply, cost=J),
    Spec("nn.Dataset", {"x_train": Arg(np.zeros((4, 2)), Array(ndim=(2, 3), linked=(0,))),
                        "y_train": Arg(np.array([0, 1, 0, 1]), Array(ndim=(1, 2), dtypes="any", linked=(0,))),
                        "x_test": Arg(np.zeros((2, 2)), Array(ndim=(2, 3), linked=(0, -1))),
                        "y_test": Arg(np.array([1, 0]), Array(ndim=(1, 2), dtypes="any", linked=(0,))),
                        "n_classes": Arg(2, Int(min=2, none_ok=True)), "name": Arg("toy", Fixed())}, cost=J),
    Spec("nn.Trainer", exempt="result record built by make_trainer (a NamedTuple of functions)"),
    Spec("nn.TrainResult", exempt="result record built by train"),
    Spec("nn.EnsembleResult", exempt="result record built by train_ensemble"),
    Spec("nn.TrainConfig", {"steps": Arg(10, SIZE), "optimizer": Arg("adamw", Choice()),
                            "eval_every": Arg(None, Int(min=1, none_ok=True)), "batch_size": Arg(8, SIZE),
                            "loss": Arg("mse", Choice()), "lr": Arg(None, MemberReal(lo=0.0, lo_open=True, none_ok=True)),
                            "weight_decay": Arg(None, MemberReal(lo=0.0, none_ok=True)),
                            "sigma": Arg(None, MemberReal(lo=0.0, none_ok=True)), "probe_size": Arg(16, SIZE),
                            "max_memory_bytes": Arg(None, Int(min=1, none_ok=True, huge_bad=False))}, cost=J),
    Spec("nn.clip_zeroth_bias", {"bias": Arg(lazy(lambda: _jnp(np.full((2, 3), 0.5, np.float32))),
                                             Array(ndim=None, dtypes="float", linked=(-1,))),
                                 "gamma": Arg(lazy(lambda: _jnp(np.ones(3, np.float32))),
                                              Array(ndim=1, dtypes="float", none_ok=True, linked=(0,)))}, cost=J),
    Spec("nn.compute_probes", {"model": MODEL, "params": PARAMS, "x": X, "y": Y, "loss": Arg("mse", Choice()),
                               "n_classes": Arg(2, Int(min=2, none_ok=True)), "step": Arg(None, Int(min=0, none_ok=True)),
                               "key": Arg(None, Key(none_ok=True))}, cost=J),
    Spec("nn.chain_probes", {"model": MODEL, "params": PARAMS, "x": X, "y": Y, "loss": Arg("mse", Choice()),
                             "n_classes": Arg(2, Int(min=2, none_ok=True)), "step": Arg(0, Int(min=0, none_ok=True)),
                             "stacked": Arg(False),
                             "edges": Arg(lazy(lambda: tuple(__import__("rmt_sparsity.metrics").metrics.GRADIENT_LOG_EDGES)),
                                          Seq())}, cost=J),
    Spec("nn.default_noise_filter", {"path": Arg(lazy(lambda: (_jax().tree_util.DictKey("w"),)), Obj()),
                                     "leaf": Arg(None, Fixed())}, cost=J),
    Spec("nn.dense", {"x": Arg(lazy(lambda: _jnp(np.ones(3, np.float32))), Array(ndim=None, dtypes="float", linked=(-1,))),
                      "w": Arg(lazy(lambda: _jnp(np.eye(2, 3, dtype=np.float32))), Array(ndim=2, dtypes="float", linked=(1,))),
                      "b": Arg(None, Array(ndim=1, dtypes="float", none_ok=True, sample=lazy(lambda: _jnp(np.zeros(2, np.float32))))),
                      "noise_ratio": Arg(0.0, Real(lo=0.0, none_ok=True)), "key": Arg(lazy(_key), Key())}, cost=J),
    Spec("nn.gaussian_mixture", {"n_train": Arg(32, SIZE), "n_test": Arg(16, SIZE), "d": Arg(3, SIZE),
                                 "n_classes": Arg(2, Int(min=2)), "separation": Arg(3.0, NONNEG), "rng": Arg(0, Rng()),
                                 "dtype": Arg(np.float32, Fixed())}, cost=J),
    *[Spec(f"nn.{f}", {"h": _H}, cost=J) for f in ("gelu", "jsrelu", "relu", "relu2", "silu")],
    Spec("nn.shifted_s", {"h": _H, "shift_x": Arg(0.5, Real()), "shift_y": Arg(0.1, Real())}, cost=J),
    Spec("nn.relu_jsrelu_mix", {"h": _H, "k": Arg(0.5, Real(lo=0.0, hi=1.0))}, cost=J),
    Spec("nn.mix_weight", {"step": Arg(5, Int(min=0, huge_bad=False)), "mix_steps": Arg(10, Int(min=0, huge_bad=False))}, cost=J),
    Spec("nn.gradient_identity_terms", {"model": MODEL, "params": PARAMS, "x": X, "y": Y, "loss": Arg("mse", Choice()),
                                        "n_classes": Arg(2, Int(min=2, none_ok=True)),
                                        "step": Arg(None, Int(min=0, none_ok=True))}, cost=J),
    Spec("nn.get_activation", {"name": Arg("relu", Choice()), "params": Arg(None, Mapping(none_ok=True))},
         post=lambda f: f(_jnp(np.ones(2, np.float32))), cost=J),
    Spec("nn.layer_norm", {"z": Arg(lazy(lambda: _jnp(np.array([1.0, 2.0, 3.0, 4.0], np.float32))),
                                    Array(ndim=None, dtypes="float", linked=(-1,))),
                           # gamma given (not None) in the baseline: with neither gamma nor beta, a z of any
                           # length is valid, so z's "mismatch" case was not bad input at all
                           "gamma": Arg(lazy(lambda: _jnp(np.ones(4, np.float32))),
                                        Array(ndim=1, dtypes="float", none_ok=True, linked=(0,))),
                           "beta": Arg(None, Array(ndim=1, dtypes="float", none_ok=True, sample=lazy(lambda: _jnp(np.zeros(4, np.float32))))), "eps": Arg(1e-5, NONNEG)}, cost=J),
    Spec("nn.load_digits", {"test_fraction": Arg(0.2, PROB), "rng": Arg(0, Rng()), "dtype": Arg(np.float32, Fixed())}, cost=J),
    Spec("nn.load_mnist1d", {"num_samples": Arg(100, Int(min=20)), "seed": Arg(42, Int(min=0, max=2**32 - 1)),
                             "train_split": Arg(0.8, PROB), "dtype": Arg(np.float32, Fixed())}, cost="heavy"),
    Spec("nn.key_matrix_spectra", {"k": Arg(lazy(lambda: np.random.default_rng(0).standard_normal((40, 10))),
                                            Array(ndim=2))}, cost=J),
    Spec("nn.magic_synapse_scale", {"w": Arg(lazy(lambda: _jnp(np.ones((2, 3), np.float32))), Array(ndim=2, dtypes="float")),
                                    "noise_ratio": Arg(0.1, NONNEG)}, cost=J),
    Spec("nn.make_optimizer", {"name": Arg("adamw", Choice()), "lr": Arg(1e-3, POS), "weight_decay": Arg(0.0, NONNEG)},
         post=lambda o: o.init({"w": _jnp(np.zeros(2, np.float32))}), cost=J),
    Spec("nn.make_trainer", {"model": MODEL, "optimizer": Arg(lazy(_opt), Obj()), "loss": Arg("mse", Choice()),
                             "n_classes": Arg(2, Int(min=2, none_ok=True)), "batch_size": Arg(4, SIZE),
                             "weight_noise": Arg(False), "relative": Arg(False), "track_covariance": Arg(False)},
         post=lambda tr: tr.run(tr.init(_key()), {"sigma": _jnp(0.0), "noise_ratio": _jnp(0.0), "cov_discount": _jnp(1.0)},
                                _jnp(np.ones((8, 3), np.float32)), _jnp(np.zeros(8, int)), n_steps=2), cost=J),
    Spec("nn.per_example_loss", {"kind": Arg("mse", Choice()),
                                 # documented NaN propagation: a non-finite output gives that example a
                                 # non-finite loss (a diverged model must show, eagerly and under jit alike)
                                 "out": Arg(lazy(lambda: _jnp(np.array([[1.0, 0.0]], np.float32))),
                                            Array(ndim=2, dtypes="float", linked=(0, 1)),
                                            expect={"nan": "propagate", "inf": "propagate"}),
                                 "y": Arg(lazy(lambda: _jnp(np.array([0]))), Array(ndim=(1, 2), dtypes="any", linked=(0,))),
                                 "n_classes": Arg(2, Int(min=2, none_ok=True))}, cost=J),
    Spec("nn.per_token_eta", {"model": MODEL, "params": PARAMS, "x": X, "y": Y, "loss": Arg("mse", Choice()),
                              "n_classes": Arg(2, Int(min=2, none_ok=True)), "step": Arg(None, Int(min=0, none_ok=True)),
                              "key": Arg(None, Key(none_ok=True))}, cost=J),
    Spec("nn.perturb_weights", {"params": Arg(lazy(lambda: {"w": _jnp(np.zeros((2, 2), np.float32)),
                                                            "b": _jnp(np.zeros(2, np.float32))}), Tree(structure=False)),
                                "key": Arg(lazy(_key), Key()), "sigma": Arg(0.5, NONNEG), "relative": Arg(False),
                                "where": Arg(None, Call(none_ok=True))}, cost=J),
    Spec("nn.project_restricted_gamma", {"gamma": Arg(lazy(lambda: _jnp(np.array([0.5, -2.0], np.float32))),
                                                      Array(ndim=None, dtypes="float")),
                                         "lower": Arg(1.0, NONNEG)}, cost=J),
    Spec("nn.restricted_gamma_lower", {"step": Arg(5, Int(min=0, huge_bad=False)),
                                       "uplift_steps": Arg(10, Int(min=0, huge_bad=False))}, cost=J),
    Spec("nn.set_hyperparams", {"opt_state": Arg(lazy(lambda: _opt().init({"w": _jnp(np.zeros(2, np.float32))})), Obj()),
                                "lr": Arg(0.5, POS)}, cost=J),
    Spec("nn.teacher_student", {"n_train": Arg(32, SIZE), "n_test": Arg(16, SIZE), "d_in": Arg(3, SIZE),
                                "d_out": Arg(1, SIZE), "teacher_width": Arg(8, SIZE), "noise": Arg(0.0, NONNEG),
                                "rng": Arg(0, Rng()), "dtype": Arg(np.float32, Fixed())}, cost=J),
    Spec("nn.train", {"model": MODEL, "data": Arg(lazy(_ds, cache=True), Obj()), "optimizer": Arg("sgd", Choice(none_ok=True)),
                      "key": Arg(lazy(_key), Key()), "params": Arg(None, Tree(none_ok=True, sample=lazy(_params, cache=True))),
                      "steps": Arg(4, SIZE), "eval_every": Arg(2, Int(min=1, none_ok=True)), "batch_size": Arg(8, SIZE),
                      "lr": Arg(0.1, Real(lo=0.0, lo_open=True, none_ok=True)), "loss": Arg("ce", Choice()),
                      "quiet": Arg(True)}, cost="heavy", timeout=60),
    Spec("nn.train_ensemble", {"model": MODEL, "data": Arg(lazy(_ds, cache=True), Obj()),
                               "optimizer": Arg("sgd", Choice(none_ok=True)),
                               "keys": Arg(lazy(lambda: _jax().random.split(_key(), 2)), Obj()),
                               "steps": Arg(4, SIZE), "eval_every": Arg(2, Int(min=1, none_ok=True)),
                               "batch_size": Arg(8, SIZE), "lr": Arg(0.1, MemberReal(lo=0.0, lo_open=True, none_ok=True)),
                               "loss": Arg("ce", Choice()), "quiet": Arg(True)}, cost="heavy", timeout=60),
    Spec("nn.weight_noise_value_and_grad", {"loss_fn": Arg(lazy(lambda: (lambda p: (p["w"] ** 2).sum() / 2)), Call()),
                                            "relative": Arg(False), "where": Arg(None, Call(none_ok=True)),
                                            "has_aux": Arg(False)},
         post=lambda f: f({"w": _jnp(np.ones((1, 2), np.float32))}, key=_key(), sigma=0.0), cost=J),
    Spec("nn.estimate_member_bytes", {"model": MODEL, "batch_size": Arg(8, SIZE), "optimizer": Arg("adamw", Choice()),
                                      "weight_noise": Arg(False), "track_covariance": Arg(False),
                                      "eval_rows": Arg(16, SIZE), "dtype": Arg(None, Fixed())}, cost=J),
]

# ----------------------------------------------------------------------------------------
# flatness
# ----------------------------------------------------------------------------------------
LOSS = Arg(lazy(_quad_loss), Call())
FPARAMS = Arg(lazy(lambda: _jnp(np.zeros(3, np.float32))), Tree(structure=False))
BATCH = Arg(lazy(lambda: _jnp(np.array([1.0, 2.0, 3.0], np.float32))), Fixed(reason="the loss's own data"))
KEY = Arg(lazy(_key), Key())

FLATNESS = [
    Spec("flatness.hvp", {"loss": LOSS, "params": Arg(lazy(lambda: _jnp(np.ones(3, np.float32))), Tree(structure=False)),
                          "batch": BATCH, "vector": Arg(lazy(lambda: _jnp(np.ones(3, np.float32))),
                                                        Array(ndim=1, dtypes="float", linked=(0,)))}, cost=J),
    Spec("flatness.num_params", {"params": Arg(lazy(lambda: {"W": _jnp(np.zeros((3, 4))), "b": _jnp(np.zeros(3))}),
                                               Tree(structure=False))}, cost=J),
    Spec("flatness.hutchinson_trace", {"loss": LOSS, "params": FPARAMS, "batch": BATCH, "key": KEY,
                                       "probes": Arg(8, SIZE), "tol": Arg(None, Real(lo=0.0, lo_open=True, none_ok=True)),
                                       "block": Arg(4, SIZE), "chunk": Arg(1, SIZE), "method": Arg("hvp", Choice())}, cost=J),
    Spec("flatness.lanczos", {"loss": LOSS, "params": FPARAMS, "batch": BATCH, "key": KEY, "k": Arg(1, SIZE),
                              "iters": Arg(3, Int(min=1, none_ok=True)), "which": Arg("LA", Choice()),
                              "return_vectors": Arg(False)}, cost=J),
    Spec("flatness.slq_density", {"loss": LOSS, "params": FPARAMS, "batch": BATCH, "key": KEY, "iters": Arg(3, SIZE),
                                  "runs": Arg(2, SIZE), "width": Arg(0.1, Real(lo=0.0, lo_open=True, none_ok=True)),
                                  "grid": Arg(None, Array(ndim=1, none_ok=True, sample=np.linspace(0.0, 4.0, 9))), "num": Arg(50, SIZE)}, cost=J),
    Spec("flatness.noise_sharpness", {"loss": LOSS, "params": FPARAMS, "batch": BATCH, "key": KEY, "sigma": Arg(0.1, NONNEG),
                                      "samples": Arg(8, SIZE), "relative": Arg(False), "antithetic": Arg(True),
                                      "hessian_term": Arg(False), "chunk": Arg(1, SIZE)}, cost=J),
    Spec("flatness.sam_sharpness", {"loss": LOSS, "params": FPARAMS, "batch": BATCH, "rho": Arg(0.05, NONNEG),
                                    "m": Arg(None, Int(min=1, none_ok=True))}, cost=J),
    # every is a period compared with the step (it sizes nothing), and iters is documented as capped at n
    # when the probe runs (then lanczos's own checks apply): a huge value of either may be accepted
    Spec("flatness.make_flatness_probe", {"loss": LOSS, "every": Arg(1, Int(min=1, huge_bad=False)),
                                          "measures": Arg(("trace", "top_eigenvalue"), Seq()),
                                          "probes": Arg(4, SIZE), "iters": Arg(3, Int(min=1, huge_bad=False)),
                                          "sigma": Arg(None, Real(lo=0.0, none_ok=True)), "relative": Arg(False),
                                          "samples": Arg(4, SIZE), "rho": Arg(None, Real(lo=0.0, none_ok=True))},
         post=lambda probe: probe(0, _jnp(np.zeros(3, np.float32)), _jnp(np.array([1.0, 2.0, 3.0], np.float32)), key=_key()),
         cost=J),
    *[Spec(f"flatness.{c}", exempt="result record (a pytree dataclass) built by the flatness measures")
      for c in ("TraceEstimate", "LanczosResult", "SLQDensity", "NoiseSharpness", "SAMSharpness")],
]

SPECS = NN + FLATNESS
