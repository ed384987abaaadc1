"""Fuzz specs: spectra, metrics and kernels (NumPy/Numba)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from .spec import Spec
from .values import Arg, Array, Call, Choice, Fixed, Int, Kind, Mapping, Obj, Path, Real, Rng, Seq, Text, _const, _vals, lazy

POS = Real(lo=0.0, lo_open=True)
NONNEG = Real(lo=0.0)
PROB = Real(lo=0.0, hi=1.0, lo_open=True, hi_open=True)
UNIT = Real(lo=0.0, hi=1.0)
SIZE = Int(min=1)
CLOSED_SIZE = Int(min=1, huge_bad=False)


def _g(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _safetensors_path():
    import os
    import tempfile

    from safetensors.numpy import save_file

    path = os.path.join(tempfile.mkdtemp(prefix="fuzz-st-"), "w.safetensors")
    save_file({"a.weight": np.eye(3, dtype=np.float32)}, path)
    return path


@dataclass
class WeightsSource(Kind):
    """``weights`` of ``analyze``: a mapping of arrays *or a path*.

    A string is a valid type here (a path), so ``"x"`` is a missing path (a ``FileNotFoundError``,
    as the ``missing_path`` category expects), not a wrong type; the wrong types are the rest.
    """

    def categories(self):
        out = super().categories()
        out["wrong_type"] = st.one_of(_vals("wrong_type", 1, 2.5, [1, 2]), _const("wrong_type", "obj"))
        out["missing_path"] = _const("missing_path", "missing_path")
        out["dir_path"] = _const("dir_path", "dir_path")
        out["empty_path"] = _vals("empty_path", "")
        return out


_W = lazy(lambda: _g((40, 20)))
MAT = Array(ndim=2)

SPECTRA = [
    *[Spec(f"spectra.{c}", exempt="result record built by the spectra functions")
      for c in ("BBPOutlier", "MPFit", "PowerLawFit", "Concentration", "ConcentrationTest")],
    Spec("spectra.analyze", {"weights": Arg(lazy(lambda: {"ffn.w_in": _g((40, 16)), "ln.gamma": np.ones(16)}),
                                            WeightsSource()),
                             "zero_tol": Arg(0.1, Real(lo=0.0, hi=1.0, hi_open=True)),
                             "relative_to": Arg("mean_all", Choice()), "alpha": Arg(0.05, PROB),
                             "level": Arg(0.95, PROB), "n_mc": Arg(20, SIZE), "n_boot": Arg(0, Int(min=0)),
                             # min_dim is only compared with the tensors' sides: it sizes no allocation or loop,
                             # so a huge one (every matrix skipped as vector-shaped) may be accepted
                             "rng": Arg(0, Rng()), "min_dim": Arg(2, Int(min=1, huge_bad=False))}, cost="heavy"),
    Spec("spectra.analyze_matrix", {"W": Arg(_W, MAT), "name": Arg("W", Fixed()),
                                    "zero_tol": Arg(0.1, Real(lo=0.0, hi=1.0, hi_open=True)),
                                    "relative_to": Arg("mean_all", Choice()), "alpha": Arg(0.05, PROB),
                                    "level": Arg(0.95, PROB), "n_mc": Arg(20, SIZE), "n_boot": Arg(0, Int(min=0)),
                                    "rng": Arg(0, Rng())}, cost="heavy"),
    Spec("spectra.load_weights", {"path": Arg(lazy(_safetensors_path), Path())}),
    *[Spec(f"spectra.{c}", exempt=why) for c, why in (("Checkpoint", "handle built by open_checkpoint"),
                                                      ("CheckpointError", "exception class"),
                                                      ("TensorInfo", "header record built by open_checkpoint"),
                                                      ("MatrixPart", "record built by classify_tensor"))],
    Spec("spectra.open_checkpoint", {"source": Arg(lazy(_safetensors_path), Path())}),
    Spec("spectra.Checkpoint.read", {"name": Arg("a.weight", Choice(bogus=("nope", "")))},
         target=lambda: __import__("rmt_sparsity.spectra", fromlist=["x"]).open_checkpoint(_safetensors_path()).read),
    # the role comes from the name alone (unknown names are "other"); the shape's size is never allocated
    Spec("spectra.classify_tensor", {"name": Arg("model.layers.3.mlp.gate_proj.weight", Text()),
                                     "shape": Arg((12, 8), Seq(ints=True, lo=0, lenient=("huge",)))}),
    Spec("spectra.dtype_code", {"dtype": Arg(np.float16, Choice(bogus=("bogus",), wrong=(1.5, ["a"])))}),
    Spec("spectra.fit_power_law", {"eigenvalues": Arg(lazy(lambda: np.sort(_g((200,)) ** 2) + 0.01), Array(ndim=1)),
                                   "xmin": Arg(None, Real(lo=0.0, lo_open=True, none_ok=True)),
                                   "k_min": Arg(10, Int(min=2)), "truncation": Arg("auto", Choice()),
                                   "truncation_level": Arg(0.05, PROB),
                                   "n_boot": Arg(0, Int(min=0)), "level": Arg(0.95, PROB), "rng": Arg(0, Rng())}),
    Spec("spectra.bbp_outlier", {"theta": Arg(4.0, NONNEG), "p": Arg(400, CLOSED_SIZE), "n": Arg(400, CLOSED_SIZE),
                                 "scale": Arg(1.0, POS)}),
    Spec("spectra.bbp_threshold", {"p": Arg(16, CLOSED_SIZE), "n": Arg(81, CLOSED_SIZE), "scale": Arg(4.0, POS)}),
    Spec("spectra.fit_mp", {"data": Arg(lazy(lambda: _g((60, 120))), Array(ndim=(1, 2))),
                            "n": Arg(None, Int(min=1, none_ok=True, huge_bad=False)), "alpha": Arg(0.05, PROB),
                            "level": Arg(0.95, PROB), "max_spikes": Arg(None, Int(min=0, none_ok=True))}),
    Spec("spectra.concentration_vs_random", {"W": Arg(_W, MAT), "level": Arg(0.95, PROB),
                                             "zero_tol": Arg(0.1, Real(lo=0.0, hi=1.0, hi_open=True)),
                                             "relative_to": Arg("mean_all", Choice()),
                                             "alternative": Arg("two-sided", Choice()), "n_mc": Arg(20, SIZE),
                                             "rng": Arg(0, Rng())}),
    Spec("spectra.esd_distances", {"eigenvalues": Arg(lazy(lambda: (np.arange(100) + 0.5) / 100), Array(ndim=1)),
                                   "cdf": Arg(lazy(lambda: (lambda x: np.clip(x, 0, 1))), Call()),
                                   "support": Arg((0.0, 1.0), Seq())}),
    Spec("spectra.gram_eigenvalues", {"W": Arg(_W, MAT), "method": Arg("auto", Choice())}),
    Spec("spectra.numerical_rank", {"W": Arg(_W, MAT), "tol": Arg(None, Real(lo=0.0, none_ok=True))}),
    Spec("spectra.singular_values", {"W": Arg(_W, MAT)}),
    Spec("spectra.spectral_concentration", {"W": Arg(_W, MAT), "zero_tol": Arg(0.1, Real(lo=0.0, hi=1.0, hi_open=True)),
                                            "relative_to": Arg("mean_all", Choice())}),
    Spec("spectra.stable_rank", {"W": Arg(_W, MAT)}),
]

# ----------------------------------------------------------------------------------------
# metrics
# ----------------------------------------------------------------------------------------
_ACTS = lazy(lambda: np.maximum(_g((8, 6)), 0.0))
ACTS = Arg(_ACTS, Array(ndim=(1, 2), linked=(-1,)))  # (tokens, d_ff) or (d_ff,), paired with w_out
ACTS_ANY = Arg(_ACTS, Array(ndim=None))  # (..., d_ff): any leading axes, nothing to match
ACTS_2D = Arg(_ACTS, Array(ndim=2))  # (tokens, d_ff), nothing to match
WOUT = Arg(lazy(lambda: _g((4, 6), 1)), Array(ndim=2, linked=(1,)))
REDUCE = Arg("none", Choice())
# weights: one array, a mapping of arrays or a list of arrays, and a scalar is a 0-d array, so the
# wrong-type values {'a': 1} and 1 are valid collections: accepting them is right ("abc" is still refused)
WEIGHTS = dict(ndim=None, lenient=("wrong_type",))


def _curve_eval(total):
    """An evaluate callable for the pruning curves that works on any weights collection."""
    def evaluate(v):
        leaves = v.values() if isinstance(v, dict) else (v if isinstance(v, (list, tuple)) else [v])
        return float(sum(np.sum(np.asarray(x)) for x in leaves)) / total
    return evaluate

_D = lazy(lambda: np.linspace(0.8, 41.6, 28))


def _sparsing_A():
    from rmt_sparsity.metrics import SPARSING_LAW_0P1B_RELU, sparsing_law_relu

    D = np.linspace(0.8, 41.6, 28)
    return sparsing_law_relu(D, **SPARSING_LAW_0P1B_RELU) + 5e-4 * _g((28,))


def _ppl_layers():
    return [(np.maximum(_g((16, 8)), 0.0), _g((4, 8), 1))]


def _ppl_loss():
    acts, w = _ppl_layers()[0]
    col = np.linalg.norm(w, axis=0)

    def loss_fn(thresholds):
        a = acts if thresholds is None else np.where(np.abs(acts) * col <= thresholds[0], 0.0, acts)
        return 0.01 * np.sum((a @ w.T - acts @ w.T) ** 2, axis=1)

    return loss_fn


METRICS = [
    *[Spec(f"metrics.{c}", exempt="result record built by the metrics functions")
      for c in ("PPLpResult", "PruningCurve", "EssentialSparsity", "SparsingLawFit", "BreakpointFit")],
    Spec("metrics.zero_fraction", {"activations": ACTS_ANY, "atol": Arg(0.0, NONNEG), "reduce": REDUCE}),
    Spec("metrics.activation_ratio", {"activations": ACTS_ANY, "atol": Arg(0.0, NONNEG), "reduce": REDUCE}),
    Spec("metrics.activation_concentration", {"preactivations": Arg(lazy(lambda: _g((4, 6))), Array(ndim=None)),
                                              "activation": Arg("relu", Choice()), "reduce": REDUCE}),
    Spec("metrics.gradient_sparsity", {"eta": Arg(lazy(lambda: _g((4, 6))), Array(ndim=None)),
                                       "taus": Arg((1e-9, 1e-6, 1e-3), Seq(lo=0.0)), "reduce": REDUCE}),
    Spec("metrics.dormant_scores", {"activations": ACTS_2D}),
    Spec("metrics.dormant_fraction", {"activations": ACTS_2D, "tau": Arg(0.0, NONNEG)}),
    Spec("metrics.neuron_scores", {"activations": ACTS, "w_out": WOUT}),
    Spec("metrics.cett", {"activations": ACTS, "w_out": WOUT, "threshold": Arg(0.5, Real())}),
    Spec("metrics.cett_pruned_fraction", {"activations": ACTS, "w_out": WOUT, "threshold": Arg(0.5, Real())}),
    Spec("metrics.threshold_for_cett", {"activations": ACTS, "w_out": WOUT, "target": Arg(0.2, Real(lo=0.0)),
                                        "n_grid": Arg(1024, Int(min=2))}),
    Spec("metrics.ppl_p_sparsity", {"loss_fn": Arg(lazy(_ppl_loss), Call()), "layers": Arg(lazy(_ppl_layers), Obj()),
                                    "p": Arg(1.0, NONNEG), "cett_max": Arg(1.0, Real(lo=0.0, lo_open=True)),
                                    "tol": Arg(1e-3, POS), "n_grid": Arg(256, Int(min=2))}),
    Spec("metrics.magnitude_mask", {"weights": Arg([[3.0, -1.0], [1.0, 0.5]], Array(**WEIGHTS)),
                                    "sparsity": Arg(0.5, UNIT)}),
    Spec("metrics.magnitude_prune", {"weights": Arg(lazy(lambda: {"w1": np.array([[1.0, -4.0]]), "w2": np.array([2.0, 3.0])}),
                                                    Mapping(known=False, lenient=("wrong_type",))), "sparsity": Arg(0.5, UNIT)}),
    Spec("metrics.nm_mask", {"weights": Arg([[0.1, -3.0, 2.0, 0.5, 1.0, 1.0, 0.0, 1.0]], Array(ndim=None)),
                             "n": Arg(2, Int(min=0, max=4)), "m": Arg(4, Int(min=1, max=8))}),
    Spec("metrics.nm_prune", {"weights": Arg([[4.0, -1.0, 2.0, 3.0]], Array(ndim=None)),
                              "n": Arg(1, Int(min=0, max=4)), "m": Arg(4, Int(min=1, max=4))}),
    Spec("metrics.magnitude_pruning_curve", {"weights": Arg(np.arange(1.0, 11.0), Array(**WEIGHTS)),
                                             "evaluate": Arg(lazy(lambda: _curve_eval(55.0)), Call()),
                                             "sparsities": Arg([0.5, 0.2], Seq(lo=0.0, hi=1.0))}),
    Spec("metrics.nm_pruning_curve", {"weights": Arg(np.array([[4.0, 3.0, 2.0, 1.0]]), Array(**WEIGHTS)),
                                      "evaluate": Arg(lazy(lambda: _curve_eval(10.0)), Call()),
                                      "patterns": Arg([(1, 4), (2, 4)], Seq())}),
    Spec("metrics.essential_sparsity", {"curve": Arg(([0.0, 0.2, 0.4, 0.6, 0.8, 0.9], [0.9, 0.9, 0.895, 0.89, 0.6, 0.2]),
                                                     Obj()),
                                        "delta": Arg(0.01, NONNEG), "baseline": Arg(None, Real(none_ok=True)),
                                        "higher_is_better": Arg(True)}),
    Spec("metrics.statistical_topk", {"x": Arg([[-1.0, 1.0, 0.5, 2.0]], Array(ndim=None)), "k": Arg(1, Int(min=1, max=4))}),
    Spec("metrics.statistical_topk_threshold", {"x": Arg([[-1.0, 1.0, 0.5, 2.0]], Array(ndim=None)),
                                                "k": Arg(1, Int(min=1, max=4))}),
    Spec("metrics.exact_topk", {"x": Arg([[3.0, -1.0, 2.0, 2.0]], Array(ndim=None)), "k": Arg(2, Int(min=1, max=4))}),
    Spec("metrics.kept_fraction", {"y": Arg([[0.0, 1.0, 0.0, 2.0]], Array(ndim=None)), "axis": Arg(-1, Int(min=-2, max=1, none_ok=True))}),
    Spec("metrics.sparsing_law_relu", {"D": Arg(1.0, Array(ndim=None)), "alpha": Arg(0.101, Real()), "b": Arg(-0.0151, Real()),
                                       "c": Arg(3.2, Real()), "a0": Arg(0.0614, Real())}),
    Spec("metrics.sparsing_law_silu", {"D": Arg(4.0, Array(ndim=None)), "alpha": Arg(0.5, Real()), "c": Arg(0.1, Real()),
                                       "a0": Arg(0.4, Real())}),
    Spec("metrics.fit_sparsing_law", {"D": Arg(_D, Array(ndim=1, linked=(0,))), "A": Arg(lazy(_sparsing_A), Array(ndim=1, linked=(0,))),
                                      "form": Arg("relu", Choice()), "level": Arg(0.95, PROB), "p0": Arg(None, Fixed()),
                                      "a0_method": Arg("profile", Choice())}),
    Spec("metrics.fit_breakpoint_linear", {"x": Arg(np.arange(1.0, 11.0), Array(ndim=1, linked=(0,))),
                                           "y": Arg(lazy(lambda: 0.1 + 0.02 * np.minimum(np.arange(1.0, 11.0), 6.5)),
                                                    Array(ndim=1, linked=(0,))),
                                           "level": Arg(0.95, PROB)}),
    Spec("metrics.relative_gradient_sparsity", {"eta": Arg(lazy(lambda: _g((4, 6))), Array(ndim=None)),
                                                "taus": Arg((1e-3, 1e-2), Seq(lo=0.0)), "reduce": REDUCE}),
    Spec("metrics.gradient_density_ratio", {"g": Arg(lazy(lambda: _g((4, 6))), Array(ndim=None)),
                                            "active": Arg(lazy(lambda: _g((4, 6), 1) > 0),
                                                          Array(ndim=None, dtypes="any", finite=False, linked=(0, 1)))}),
    Spec("metrics.gradient_log_histogram", {"g": Arg(lazy(lambda: _g((4, 6))), Array(ndim=None)),
                                            "active": Arg(lazy(lambda: _g((4, 6), 1) > 0),
                                                          Array(ndim=None, dtypes="any", finite=False, linked=(0, 1),
                                                                none_ok=True)),
                                            "edges": Arg((-4.0, -2.0, 0.0, 2.0), Array(ndim=1))}),
    # axis=None (every entry) is documented valid input: Int(none_ok=True)
    Spec("metrics.formulas.zero_fraction", {"a": ACTS_ANY, "atol": Arg(0.0, NONNEG),
                                            "axis": Arg(-1, Int(min=-2, max=1, none_ok=True)),
                                            "xp": Arg(np, Fixed(reason="array namespace"))}),
    Spec("metrics.formulas.gradient_sparsity", {"eta": Arg(lazy(lambda: _g((4, 6))), Array(ndim=None)),
                                                "tau": Arg(1e-3, NONNEG), "axis": Arg(-1, Int(min=-2, max=1, none_ok=True)),
                                                "xp": Arg(np, Fixed())}),
    Spec("metrics.formulas.relative_gradient_sparsity", {"eta": Arg(lazy(lambda: _g((4, 6))), Array(ndim=None)),
                                                         "tau": Arg(1e-2, NONNEG),
                                                         "axis": Arg(-1, Int(min=-2, max=1, none_ok=True)),
                                                         "xp": Arg(np, Fixed())}),
    Spec("metrics.formulas.gradient_density_ratio", {"g": Arg(lazy(lambda: _g((4, 6))), Array(ndim=None)),
                                                     "active": Arg(lazy(lambda: _g((4, 6), 1) > 0),
                                                                   Array(ndim=None, dtypes="any", finite=False,
                                                                         linked=(0, 1))),
                                                     "xp": Arg(np, Fixed())}),
    Spec("metrics.formulas.log10_square_histogram", {"g": Arg(lazy(lambda: _g((4, 6))), Array(ndim=None)),
                                                     "edges": Arg(lazy(lambda: np.array([-4.0, -2.0, 0.0, 2.0])),
                                                                  Array(ndim=1)),
                                                     "where": Arg(None, Array(ndim=None, dtypes="any", finite=False,
                                                                              linked=(0, 1), none_ok=True,
                                                                              sample=lazy(lambda: _g((4, 6), 1) > 0))),
                                                     "xp": Arg(np, Fixed())}),
    Spec("metrics.formulas.dormant_scores", {"a": ACTS_2D, "xp": Arg(np, Fixed())}),
    Spec("metrics.formulas.dormant_fraction", {"scores": Arg(lazy(lambda: np.array([0.0, 1.0, 2.0])), Array(ndim=1)),
                                               "tau": Arg(0.5, NONNEG), "xp": Arg(np, Fixed())}),
]

# ----------------------------------------------------------------------------------------
# kernels
# ----------------------------------------------------------------------------------------
F32 = np.float32


def _k(shape, seed=0):
    return _g(shape, seed).astype(F32)


def _h():
    a = np.maximum(_k((4, 16)), 0.0).astype(F32)
    return a


#: The kernels never scan their inputs (that would defeat reading only the active rows): NaN/inf
#: propagate as through the dense reference, ``ffn_dense``. Rows of a weight that a sparse kernel
#: never reads (inactive neurons) cannot propagate anything, so there either outcome is right.
#: An inf before the activation may legitimately vanish (relu(-inf) = 0): there inf is lenient, NaN not.
PROPAGATE = {"nan": "propagate", "inf": "propagate"}
PRE_ACT = {"nan": "propagate"}
KX = Arg(lazy(lambda: _k((3, 8))), Array(ndim=(1, 2), dtypes="float", linked=(-1,), lenient=("inf",)), expect=PRE_ACT)
KW_IN = Arg(lazy(lambda: _k((16, 8), 1)), Array(ndim=2, dtypes="float", linked=(0, 1), lenient=("inf",)), expect=PRE_ACT)
KW_IN_ROWS = Arg(lazy(lambda: _k((16, 8), 1)), Array(ndim=2, dtypes="float", linked=(1,), lenient=("nan", "inf")))
KW_OUT_T = Arg(lazy(lambda: _k((16, 8), 2)), Array(ndim=2, dtypes="float", linked=(0, 1), lenient=("nan", "inf")))
KW_OUT_T_DOWN = Arg(lazy(lambda: _k((16, 8), 2)), Array(ndim=2, dtypes="float", linked=(0,), lenient=("nan", "inf")))
THREADS = Arg(None, Int(min=1, none_ok=True))
ACT = Arg("relu", Choice())
PLAN_INT = Int(min=1, huge_bad=False)
ITEMSIZE = Int(min=1, max=16)

KERNELS = [
    Spec("kernels.CostModel", {"bandwidth": Arg(7e9, POS), "gemm_flops": Arg(1.1e11, POS), "margin": Arg(0.15, NONNEG)}),
    Spec("kernels.LowRankPredictor", exempt="result record built by fit_predictor"),
    Spec("kernels.choose_down_path", {"batch": Arg(64, PLAN_INT), "nnz": Arg(64 * 1638, Real(lo=0.0, hi=64 * 16384)),
                                      "n_union": Arg(16384, Real(lo=0.0, hi=16384)), "m": Arg(16384, PLAN_INT),
                                      "d_model": Arg(4096, PLAN_INT), "itemsize": Arg(4, ITEMSIZE),
                                      "threads": Arg(1, PLAN_INT), "model": Arg(None, Obj(none_ok=True))}),
    Spec("kernels.choose_up_path", {"batch": Arg(8, PLAN_INT), "nnz": Arg(8 * 1600, Real(lo=0.0, hi=8 * 16384)),
                                    "n_union": Arg(9000, Real(lo=0.0, hi=16384)), "d_ff": Arg(16384, PLAN_INT),
                                    "d_model": Arg(4096, PLAN_INT), "itemsize": Arg(4, ITEMSIZE),
                                    "threads": Arg(1, PLAN_INT), "model": Arg(None, Obj(none_ok=True))}),
    Spec("kernels.crossover_density", {"batch": Arg(64, PLAN_INT), "d_model": Arg(4096, PLAN_INT), "d_ff": Arg(16384, PLAN_INT),
                                       "itemsize": Arg(4, ITEMSIZE), "threads": Arg(1, PLAN_INT),
                                       "model": Arg(None, Obj(none_ok=True))}),
    # a plan counts the non-zeros: a NaN/inf activation is simply active
    Spec("kernels.down_plan", {"h": Arg(lazy(_h), Array(ndim=(1, 2), dtypes="float", finite=False)), "d_model": Arg(64, PLAN_INT),
                               "threads": THREADS}),
    Spec("kernels.ffn_dense", {"x": KX, "w_in": KW_IN, "b_in": Arg(None, Array(ndim=1, dtypes="float", none_ok=True, linked=(0,), sample=lazy(lambda: np.zeros(16, F32)), lenient=("inf",)), expect=PRE_ACT),
                               "w_out": Arg(lazy(lambda: _k((8, 16), 2)), Array(ndim=2, dtypes="float", linked=(0, 1)), expect=PROPAGATE),
                               "activation": ACT}),
    Spec("kernels.fit_predictor", {"x_sample": Arg(lazy(lambda: _k((40, 8))), Array(ndim=2, dtypes="float", linked=(1,))),
                                   "w_in": Arg(lazy(lambda: _k((16, 8), 1)), Array(ndim=2, dtypes="float", linked=(1,))), "b_in": Arg(None, Array(ndim=1, dtypes="float", none_ok=True, linked=(0,), sample=lazy(lambda: np.zeros(16, F32)))),
                                   "rank": Arg(2, Int(min=1, max=8)), "target_recall": Arg(0.99, Real(lo=0.0, hi=1.0, lo_open=True)),
                                   "threshold": Arg(0.0, Real()), "rng": Arg(0, Rng())}),
    Spec("kernels.get_kernel_threads", {}),
    Spec("kernels.kernel_threads", {"n": Arg(1, Int(min=1)), "blas": Arg(True), "numba": Arg(True)},
         post=lambda cm: cm.__enter__() and cm.__exit__(None, None, None)),
    Spec("kernels.random_activations", {"batch": Arg(4, Int(min=1, none_ok=True)), "d_ff": Arg(100, SIZE),
                                        "density": Arg(0.1, UNIT), "dtype": Arg(np.float32, Fixed()), "rng": Arg(0, Rng())}),
    Spec("kernels.run_benchmark", {"quick": Arg(False), "json_out": Arg(None, Path(none_ok=True, must_exist=False)),
                                   "threads": Arg(1, Int(min=1)), "sizes": Arg([(16, 64)], Seq(none_ok=True)),
                                   "batches": Arg([1, 4], Seq(ints=True, lo=1, none_ok=True)),
                                   "densities": Arg([0.1], Seq(lo=0.0, hi=1.0, none_ok=True)),
                                   "repeats": Arg(2, Int(min=1, none_ok=True)), "ffn": Arg(False), "first_result": Arg(False),
                                   "clock": Arg("cpu", Choice()), "seed": Arg(0, Int(min=0, huge_bad=False)),
                                   "verbose": Arg(False)}, cost="heavy", timeout=60),
    Spec("kernels.set_kernel_threads", {"n": Arg(1, Int(min=1))}),
    Spec("kernels.sparse_down", {"h": Arg(lazy(_h), Array(ndim=(1, 2), dtypes="float", linked=(-1,)), expect=PROPAGATE),
                                 "w_out_t": KW_OUT_T_DOWN, "method": Arg("auto", Choice()), "threads": THREADS,
                                 "return_plan": Arg(False)}),
    Spec("kernels.sparse_ffn", {"x": KX, "w_in": KW_IN, "b_in": Arg(None, Array(ndim=1, dtypes="float", none_ok=True, linked=(0,), sample=lazy(lambda: np.zeros(16, F32)), lenient=("inf",)), expect=PRE_ACT),
                                "w_out_t": KW_OUT_T, "activation": ACT, "threshold": Arg(None, Real(lo=0.0, none_ok=True)),
                                "topk": Arg(4, Int(min=1, max=16, none_ok=True)), "statistical_topk": Arg(None, Fixed()),
                                "predictor": Arg(None, Obj(none_ok=True)), "threads": THREADS, "return_info": Arg(False)}),
    Spec("kernels.sparse_up", {"x": KX, "w_in": KW_IN_ROWS, "active_idx": Arg([3, 0, 7], Array(ndim=1, dtypes="any", empty_ok=True)),
                               "mask": Arg(None, Array(ndim=2, dtypes="any", none_ok=True, linked=(0, 1), sample=np.ones((3, 3), bool))), "threads": THREADS}),
]

SPECS = SPECTRA + METRICS + KERNELS
