"""Fuzz specs: laws, ensembles, theory, noise, testing and the package utilities."""

from __future__ import annotations

import math

import numpy as np

from .spec import Spec
from .values import (Arg, Array, Call, Choice, DistQ, DistX, Fixed, Int, Obj, Real, Rng, lazy)

# ----------------------------------------------------------------------------------------
# shared argument kinds
# ----------------------------------------------------------------------------------------
POS = Real(lo=0.0, lo_open=True)          # a finite number > 0
NONNEG = Real(lo=0.0)
PROB = Real(lo=0.0, hi=1.0, lo_open=True, hi_open=True)
SIZE = Int(min=1)                          # a size that allocates: 2**64 must be refused
CLOSED_SIZE = Int(min=1, huge_bad=False)   # a size entering closed forms only
#: p or n of a tridiagonal sampler: the model has min(p, n) entries, so one huge size may be fine (or refused)
TRIDIAG_SIZE = Int(min=1, max=2**53, huge_bad=False)
BETA = Real(lo=0.0, lo_open=True)
#: beta of the Tracy-Widom / edge laws: 1, 2 or 4 only.
BETA_TW = Choice(bogus=(3, 0, -1, 2.5, 1.5), wrong=("1", [1], 1 + 0j))


def _mp(*a, **k):
    from rmt_sparsity.laws import MarchenkoPastur

    return MarchenkoPastur(*a, **k)


def _tw(beta=1):
    from rmt_sparsity.laws import TracyWidom

    return TracyWidom(beta)


def _wcl():
    from rmt_sparsity.laws import WeightedCovarianceLaw

    return WeightedCovarianceLaw(0.25, [1.0, 2.0])


def _problem():
    return _wcl().problem


def _dist_methods(owner: str, make, *, cost="cheap", quantiles=True, logs=True, rvs=True):
    """Specs of the scipy-style methods of a law object: x -> NaN for NaN, the limit at ±inf."""
    limits = {"pdf": (0.0, 0.0), "cdf": (0.0, 1.0), "sf": (1.0, 0.0)}
    if logs:
        limits.update({"logpdf": (-math.inf, -math.inf), "logcdf": (-math.inf, 0.0), "logsf": (0.0, -math.inf)})
    out = []
    for meth, (lo, hi) in limits.items():
        out.append(Spec(f"{owner}.{meth}", {"x": Arg(1.0, DistX(limits=(lo, hi)),
                                                     expect={"nan": "nan", "-inf": lo, "inf": hi})},
                        target=lambda meth=meth: getattr(make(), meth), cost=cost))
    if quantiles:
        for meth in ("ppf", "isf"):
            out.append(Spec(f"{owner}.{meth}", {"q": Arg(0.3, DistQ(), expect={c: "nan" for c in
                                                                               ("nan", "negative", "above", "inf")})},
                            target=lambda meth=meth: getattr(make(), meth), cost=cost))
    if rvs:
        out.append(Spec(f"{owner}.rvs", {"size": Arg(5, Int(min=0, none_ok=True)), "rng": Arg(0, Rng())},
                        target=lambda: make().rvs, cost=cost))
    return out


# ----------------------------------------------------------------------------------------
# laws
# ----------------------------------------------------------------------------------------
LAWS = [
    Spec("laws.ConvergenceError", exempt="exception class (raised by the solver, not called by users)"),
    Spec("laws.CovarianceProblem", exempt="abstract base class without arguments (subclassed by users)"),
    Spec("laws.FixedPointProblem", exempt="abstract base class without arguments (subclassed by users)"),
    Spec("laws.EdgeBand", exempt="result record built by edge_band"),
    Spec("laws.DiscreteMeasure", {"atoms": Arg([0.0, 1.0, 3.0], Array(ndim=1)),
                                  "weights": Arg([0.2, 0.3, 0.5], Array(ndim=1, none_ok=True, linked=(0,)))}),
    Spec("laws.DiscreteMeasure.moment", {"k": Arg(2, Int(min=0, huge_bad=False))},
         target=lambda: __import__("rmt_sparsity.laws", fromlist=["x"]).DiscreteMeasure([0.0, 1.0]).moment),
    Spec("laws.FixedPointLaw", {"problem": Arg(lazy(_problem), Obj()), "scan_points": Arg(64, Int(min=16))}),
    Spec("laws.FreeConvolutionLaw", {
        "problem": Arg(lazy(lambda: __import__("rmt_sparsity.laws", fromlist=["x"]).free_additive_convolution(
            [0.0, 1.0], [0.0, 2.0]).problem), Obj()),
        "kind": Arg("additive", Choice()), "scan_points": Arg(64, Int(min=16))}),
    Spec("laws.InformationPlusNoiseLaw", {"r_eigs": Arg([0.0, 4.0], Array(ndim=1)), "ratio": Arg(0.5, POS),
                                          "noise_var": Arg(0.5, POS), "scan_points": Arg(64, Int(min=16))}),
    Spec("laws.MarchenkoPastur", {"ratio": Arg(0.25, POS), "scale": Arg(1.0, POS), "nonzero": Arg(False)}),
    Spec("laws.MarchenkoPastur.moment", {"k": Arg(2, Int(min=0))}, target=lambda: _mp(0.25).moment),
    Spec("laws.MarchenkoPastur.stieltjes", {"z": Arg(1 + 1j, DistX(), expect={"nan": "nan"})},
         target=lambda: _mp(0.25).stieltjes),
    *_dist_methods("laws.MarchenkoPastur", lambda: _mp(0.25)),
    *_dist_methods("laws.MarchenkoPastur[ratio=4]", lambda: _mp(4.0), rvs=False),
    Spec("laws.TracyWidom", {"beta": Arg(1, BETA_TW)}),
    *_dist_methods("laws.TracyWidom", lambda: _tw(2)),
    Spec("laws.WeightedCovarianceLaw", {"ratio": Arg(0.25, POS), "weights": Arg([1.0, 2.0], Array(ndim=1)),
                                        "probs": Arg(None, Array(ndim=1, none_ok=True, linked=(0,), sample=np.array([0.5, 0.5]))),
                                        "scan_points": Arg(64, Int(min=16))}),
    *_dist_methods("laws.WeightedCovarianceLaw", _wcl, quantiles=False, logs=False, rvs=False),
    Spec("laws.WeightedCovarianceLaw.moment", {"k": Arg(2, Int(min=0)), "method": Arg(None, Choice(none_ok=True))},
         target=lambda: _wcl().moment),
    Spec("laws.WeightedCovarianceLaw.stieltjes", {"z": Arg(1 + 1j, DistX())}, target=lambda: _wcl().stieltjes),
    Spec("laws.WeightedCovarianceLaw.rescaled", {"factor": Arg(2.0, POS)}, target=lambda: _wcl().rescaled),
    Spec("laws.WeightedCovarianceLaw.free_cumulants", {"kmax": Arg(3, Int(min=1))},
         target=lambda: _wcl().free_cumulants),
    Spec("laws.discounted", {"ratio": Arg(0.5, POS), "r": Arg(0.99, Real(lo=0.0, hi=1.0, lo_open=True)),
                             "steps": Arg(50, SIZE), "batch": Arg(4, CLOSED_SIZE), "accumulated": Arg(False),
                             "scan_points": Arg(64, Int(min=16))}),
    Spec("laws.edge_band", {"p": Arg(200, Int(min=2, huge_bad=False)), "n": Arg(800, Int(min=2, huge_bad=False)),
                            "beta": Arg(1, BETA_TW), "which": Arg("max", Choice()), "level": Arg(0.95, PROB),
                            "scale": Arg(1.0, POS), "draws": Arg(None, Fixed(reason="tuple of draws: see edge_band's own tests"))}),
    Spec("laws.free_additive_convolution", {"mu": Arg([-1.0, 1.0], Array(ndim=1)), "nu": Arg([0.0, 1.0], Array(ndim=1)),
                                            "scan_points": Arg(64, Int(min=16))}),
    Spec("laws.free_multiplicative_convolution", {"mu": Arg([1.0, 3.0], Array(ndim=1)),
                                                  "nu": Arg([1.0, 2.0], Array(ndim=1)),
                                                  "scan_points": Arg(64, Int(min=16))}),
    Spec("laws.kish_effective_size", {"weights": Arg([1.0, 0.5, 0.25], Array(ndim=1))}),
    Spec("laws.marchenko_pastur", {"x": Arg(1.0, DistX(limits=(0.0, 1.0)), expect={"nan": "nan", "-inf": 0.0, "inf": 1.0}),
                                   "ratio": Arg(0.5, Real(lo=0.0, hi=1.0, lo_open=True),
                                                expect={c: "nan" for c in ("nan", "inf", "-inf", "negative", "zero",
                                                                           "above", "huge")},
                                                skip=("wrong_type", "none"))},
         target=lambda: __import__("rmt_sparsity.laws", fromlist=["x"]).marchenko_pastur.cdf, positional=("x", "ratio"),
         foreign_ok=("scipy",)),
    Spec("laws.min_edge_method", {"p": Arg(100, CLOSED_SIZE), "n": Arg(400, CLOSED_SIZE), "beta": Arg(1, BETA_TW)}),
    Spec("laws.soft_edge_params", {"p": Arg(100, CLOSED_SIZE), "n": Arg(401, CLOSED_SIZE), "beta": Arg(1, BETA_TW),
                                   "which": Arg("max", Choice())}),
    Spec("laws.solve_stieltjes", {"problem": Arg(lazy(_problem), Obj()),
                                  "z": Arg(np.array([1.0 + 0.01j, 2.0 + 0.1j]), Array(ndim=None, dtypes="any", empty_ok=True)),
                                  "tol": Arg(1e-12, POS), "raise_on_failure": Arg(True)}),
]

# ----------------------------------------------------------------------------------------
# ensembles
# ----------------------------------------------------------------------------------------
_DIAG = np.array([2.0, 2.0, 2.0])
_OFF = np.array([-1.0, -1.0])
ENSEMBLES = [
    Spec("ensembles.bisect_eigenvalues", {"diag": Arg(_DIAG, Array(ndim=(1, 2), linked=(-1,))),
                                          "offdiag": Arg(_OFF, Array(ndim=(1, 2), linked=(-1,), empty_ok=True)),
                                          "index": Arg(2, Int(min=0, max=2)),
                                          "lo": Arg(None, Real(none_ok=True)), "hi": Arg(None, Real(none_ok=True)),
                                          "iters": Arg(52, Int(min=1, max=2000))}),
    Spec("ensembles.count_below", {"diag": Arg(_DIAG, Array(ndim=(1, 2), linked=(-1,))),
                                   "offdiag": Arg(_OFF, Array(ndim=(1, 2), linked=(-1,), empty_ok=True)),
                                   "x": Arg([0.5, 2.5], Array(ndim=(0, 1)))}),
    Spec("ensembles.edge_band", {"p": Arg(95, Int(min=2, huge_bad=False)), "n": Arg(100, Int(min=2, huge_bad=False)), "beta": Arg(1, BETA_TW),
                                 "which": Arg("min", Choice()), "level": Arg(0.95, PROB), "scale": Arg(1.0, POS),
                                 "mc_draws": Arg(100, Int(min=100)), "mc_seed": Arg(0, Int(min=0, huge_bad=False))}),
    Spec("ensembles.extreme_eigenvalues", {"p": Arg(20, TRIDIAG_SIZE), "n": Arg(40, TRIDIAG_SIZE), "beta": Arg(1.0, BETA),
                                           "scale": Arg(1.0, POS), "size": Arg(3, SIZE), "rng": Arg(0, Rng()),
                                           "which": Arg("both", Choice()),
                                           "rtol": Arg(1e-13, Real(lo=1e-16, hi=0.1))}),
    Spec("ensembles.laguerre_eigenvalues", {"p": Arg(20, TRIDIAG_SIZE), "n": Arg(40, TRIDIAG_SIZE), "beta": Arg(1.0, BETA),
                                            "scale": Arg(1.0, POS), "rng": Arg(0, Rng()),
                                            "method": Arg("tridiagonal", Choice()), "refine_min": Arg(0, Int(min=0, max=20))}),
    Spec("ensembles.laguerre_histogram", {"p": Arg(50, TRIDIAG_SIZE), "n": Arg(100, TRIDIAG_SIZE),
                                          "bins": Arg(10, Int(min=1, wrong=("10", 1 + 1j, [2.0, 1.0], np.ones(2)))),
                                          "beta": Arg(1.0, BETA), "rng": Arg(0, Rng()), "scale": Arg(1.0, POS)}),
    Spec("ensembles.laguerre_tridiagonal", {"p": Arg(3, TRIDIAG_SIZE), "n": Arg(5, TRIDIAG_SIZE), "beta": Arg(1.0, BETA),
                                            "scale": Arg(1.0, POS), "rng": Arg(0, Rng())}),
    Spec("ensembles.wishart_eigenvalues", {"p": Arg(20, SIZE), "n": Arg(40, SIZE), "scale": Arg(1.0, POS),
                                           "rng": Arg(0, Rng())}),
]

# ----------------------------------------------------------------------------------------
# theory
# ----------------------------------------------------------------------------------------
_X = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
_ETA = np.array([[1.0], [1.0], [0.5]])
_LR = Real(lo=0.0, lo_open=True)
THEORY = [
    Spec("theory.HeuristicMP", exempt="result record built by heuristic_mp"),
    Spec("theory.alpha_anisotropy", {"cov": Arg(np.eye(3), Array(ndim=2))}),
    Spec("theory.augmented_flatness", {"x": Arg(_X, Array(ndim=2, linked=(0,))), "eta": Arg(_ETA, Array(ndim=2, linked=(0,)))}),
    Spec("theory.key_gradient", {"x": Arg(_X, Array(ndim=2, linked=(0,))), "eta": Arg(_ETA, Array(ndim=2, linked=(0,)))}),
    Spec("theory.key_gradient_sq_norms", {"x": Arg(_X, Array(ndim=2, linked=(0,))),
                                          "eta": Arg(_ETA, Array(ndim=2, linked=(0,)))}),
    *[Spec(f"theory.{f}", {"c": Arg(0.5, POS), "alpha": Arg(1.0, NONNEG), "anisotropy": Arg(0.0, NONNEG),
                           "v": Arg(1.0, POS), "p": Arg(10**6, CLOSED_SIZE)}) for f in ("bound_im", "bound_re")],
    Spec("theory.discount_factor", {"lr": Arg(0.1, _LR), "weight_decay": Arg(0.1, NONNEG)}),
    Spec("theory.discount_window", {"r": Arg(0.99, Real(lo=0.0, hi=1.0, lo_open=True)), "theta": Arg(1e-3, PROB)}),
    Spec("theory.effective_ratio", {"p": Arg(100, CLOSED_SIZE), "batch": Arg(1, CLOSED_SIZE), "t": Arg(3000, CLOSED_SIZE),
                                    "lr": Arg(0.1, _LR), "weight_decay": Arg(0.1, NONNEG), "theta": Arg(1e-3, PROB)}),
    Spec("theory.effective_window", {"lr": Arg(0.1, _LR), "weight_decay": Arg(0.1, NONNEG), "theta": Arg(1e-3, PROB)}),
    Spec("theory.heuristic_mp", {"dim": Arg(100, CLOSED_SIZE), "r": Arg(0.99, Real(lo=0.0, hi=1.0, lo_open=True)),
                                 "steps": Arg(3000, CLOSED_SIZE), "batch": Arg(1, CLOSED_SIZE), "theta": Arg(1e-3, PROB)}),
    Spec("theory.kish_effective_samples", {"batch": Arg(4, CLOSED_SIZE), "t": Arg(10, Real(lo=1.0, inf_ok=True)),
                                           "lr": Arg(0.1, _LR), "weight_decay": Arg(0.1, NONNEG)}),
    Spec("theory.layernorm_bound_attaining_configuration", {"d": Arg(100, Int(min=2, huge_bad=True)),
                                                           "bias_ratio": Arg(0.1, Real(lo=0.0, hi=1.0))}),
    Spec("theory.layernorm_norm_lower_bound", {"d": Arg(100, CLOSED_SIZE), "zeroth_bias": Arg(False),
                                               "bias_ratio": Arg(0.1, Real(lo=0.0, hi=1.0))}),
    Spec("theory.layernorm_sq_norm", {"d": Arg(4, CLOSED_SIZE), "v": Arg(1.0, NONNEG), "eps": Arg(1e-5, NONNEG)}),
    Spec("theory.noise_sharpness_prediction", {"sigma": Arg(0.1, NONNEG), "hessian_trace": Arg(30.0, Real())}),
    Spec("theory.predicted_alpha", {"p": Arg(100, CLOSED_SIZE), "batch": Arg(1, CLOSED_SIZE),
                                    "t": Arg(10, Real(lo=1.0, inf_ok=True)), "lr": Arg(0.1, _LR),
                                    "weight_decay": Arg(0.1, NONNEG)}),
    Spec("theory.restricted_layernorm", {"h": Arg([[1.0, -1.0, 0.5]], Array(ndim=(1, 2, 3), linked=(-1,))),
                                         "gamma": Arg([1.0, 1.0, 1.0], Array(ndim=1, none_ok=True, linked=(0,))),
                                         "bias": Arg([0.0, 0.0, 0.1], Array(ndim=None, none_ok=True, linked=(-1,))),
                                         "eps": Arg(1e-5, NONNEG)}),
]

# ----------------------------------------------------------------------------------------
# noise
# ----------------------------------------------------------------------------------------
_EIGS = np.array([0.0, 1e-14, 2.0, 8.0])


def _mp_cdf():
    return _mp(0.5).cdf


NOISE = [
    Spec("noise.NoiseSimulation", exempt="result record built by simulate_sgd_noise"),
    Spec("noise.extreme_ratio", {"eigenvalues": Arg(_EIGS, Array(ndim=1)),
                                 "zero_tol": Arg(1e-9, Real(lo=0.0, hi=1.0, hi_open=True))}),
    Spec("noise.predict_vs_simulate", {"p": Arg(8, SIZE), "batch": Arg(2, SIZE), "steps": Arg(10, SIZE),
                                       "lr": Arg(0.1, _LR), "weight_decay": Arg(0.1, NONNEG), "seeds": Arg(2, SIZE),
                                       "theta": Arg(1e-3, PROB), "input_model": Arg("isotropic", Choice()),
                                       "rng": Arg(0, Rng())}, cost="heavy"),
    Spec("noise.simulate_sgd_noise", {"p": Arg(8, SIZE), "d_out": Arg(4, SIZE), "batch": Arg(2, SIZE),
                                      "steps": Arg(16, SIZE), "lr": Arg(0.1, _LR), "weight_decay": Arg(0.1, NONNEG),
                                      "input_model": Arg("isotropic", Choice()), "grad_model": Arg("isotropic", Choice()),
                                      "w0": Arg(None, Array(ndim=2, none_ok=True, linked=(0, 1), sample=np.zeros((4, 8)))),
                                      "rng": Arg(0, Rng()), "record_every": Arg(None, Int(min=1, none_ok=True, huge_bad=False)),
                                      "record_weights": Arg(True), "backend": Arg("blas", Choice()),
                                      "block": Arg(None, Int(min=1, none_ok=True, huge_bad=False)),
                                      "zero_tol": Arg(1e-9, Real(lo=0.0, hi=1.0, hi_open=True))}),
    Spec("noise.wasserstein1_to_law", {"eigenvalues": Arg(np.linspace(0.3, 2.5, 50), Array(ndim=1)),
                                       "cdf": Arg(lazy(_mp_cdf), Call()), "lo": Arg(0.0858, Real()),
                                       "hi": Arg(2.9142, Real())}),
]

# ----------------------------------------------------------------------------------------
# testing
# ----------------------------------------------------------------------------------------


def _draw_example(strategy):
    """Draw one value (lazy strategy validation counts as the call's)."""
    return strategy.example()


def _strategies():
    from rmt_sparsity.testing import strategies

    return strategies


TESTING = [
    Spec("testing.assert_close_statistically", {"a": Arg(1.02, Array(ndim=None, finite=False)),
                                                 "b": Arg(1.0, Array(ndim=None, finite=False)),
                                                 "se": Arg(0.01, Array(ndim=None)),
                                                 "k": Arg(None, Real(lo=0.0, lo_open=True, none_ok=True)),
                                                 "level": Arg(None, Real(lo=0.0, hi=1.0, lo_open=True, hi_open=True,
                                                                         none_ok=True)),
                                                 "df": Arg(None, Int(min=1, none_ok=True, huge_bad=False))}),
    Spec("testing.assert_ratio_within_band", {"observed": Arg(9.0, POS),
                                              # a huge p or n is a valid size: the band moves and the assertion fails
                                              "p": Arg(250, Int(min=2, huge_bad=False), raises_ok=(AssertionError,)),
                                              "n": Arg(1000, Int(min=2, huge_bad=False), raises_ok=(AssertionError,)), "level": Arg(0.999, PROB),
                                              "beta": Arg(1, BETA_TW)}),
    Spec("testing.assert_sparse_matches_dense", {
        "actual": Arg(lazy(lambda: np.array([1.0, 2.0]) @ np.array([[1.0, 0.5], [0.25, 1.0]])),
                      Array(ndim=(1, 2), linked=(-1,)), raises_ok=(AssertionError,)),
        # any (..., N) shape is valid; a shape that does not match ``actual`` is an assertion failure
        "a": Arg(np.array([1.0, 2.0]), Array(ndim=None, linked=(-1,)), raises_ok=(AssertionError,)),
        "w": Arg(np.array([[1.0, 0.5], [0.25, 1.0]]), Array(ndim=2, linked=(0,))),
        "bias": Arg(None, Array(ndim=1, none_ok=True, sample=np.zeros(2))), "dtype": Arg(None, Fixed())}),
    Spec("testing.assert_spectrum_matches", {"law": Arg(lazy(lambda: _mp(0.5)), Obj()),
                                             "eigenvalues": Arg(lazy(lambda: __import__("rmt_sparsity.ensembles", fromlist=["x"])
                                                                     .laguerre_eigenvalues(100, 200, rng=0)), Array(ndim=1)),
                                             "n": Arg(200, Int(min=1, huge_bad=False), raises_ok=(AssertionError,)), "level": Arg(0.999, PROB),
                                             "beta": Arg(1, BETA_TW)}),
    Spec("testing.wishart_trace_moments", {"p": Arg(3, CLOSED_SIZE), "n": Arg(5, CLOSED_SIZE), "scale": Arg(1.0, POS),
                                           "beta": Arg(1, BETA_TW)}),
    Spec("testing.strategies.seeds", {}, post=_draw_example),
    Spec("testing.strategies.mp_parameters", {"allow_invalid": Arg(False)}, post=_draw_example),
    # a classifier of (possibly invalid) parameter draws: NaN and inf are its inputs, not errors
    Spec("testing.strategies.mp_category", {"ratio": Arg(0.5, Real(), skip=("nan", "inf", "-inf")),
                                            "scale": Arg(1.0, Real(), skip=("nan", "inf", "-inf"))}),
    Spec("testing.strategies.wishart_matrices", {"p": Arg(4, SIZE), "n": Arg(6, SIZE), "scale": Arg(1.0, POS),
                                                 "dtype": Arg(np.float64, Fixed())}, post=_draw_example),
    Spec("testing.strategies.matrices_with_spectrum", {"singular_values": Arg([3.0, 2.0, 1.0], Array(ndim=1)),
                                                       "shape": Arg(None, Fixed())}, post=_draw_example),
    Spec("testing.strategies.spiked_matrices", {"strength": Arg(2.0, NONNEG), "p": Arg(20, SIZE), "n": Arg(30, SIZE),
                                                "scale": Arg(1.0, POS), "rank": Arg(1, Int(min=1, max=20))},
         post=_draw_example),
    Spec("testing.strategies.bbp_threshold", {"p": Arg(16, CLOSED_SIZE), "n": Arg(81, CLOSED_SIZE),
                                              "scale": Arg(4.0, POS)}),
    Spec("testing.strategies.SpikedMatrix", exempt="result record drawn by spiked_matrices"),
    Spec("testing.strategies.sparse_activations", {"d_ff": Arg(16, SIZE), "density": Arg(0.25, Real(lo=0.0, hi=1.0)),
                                                   "batch": Arg(None, Int(min=1, none_ok=True)),
                                                   "threshold": Arg(0.0, NONNEG), "signed": Arg(False),
                                                   "dtype": Arg(np.float64, Fixed())}, post=_draw_example),
    Spec("testing.strategies.ffn_weights", {"d_model": Arg(4, SIZE), "d_ff": Arg(8, SIZE), "dtype": Arg(np.float64, Fixed()),
                                            "bias": Arg(False)}, post=_draw_example),
    Spec("testing.strategies.FFNWeights", exempt="result record drawn by ffn_weights"),
    Spec("testing.strategies.layernorm_inputs", {"p": Arg(8, SIZE), "batch": Arg(None, Int(min=1, none_ok=True)),
                                                 "normalized": Arg(False), "eps": Arg(1e-5, NONNEG),
                                                 "dtype": Arg(np.float64, Fixed())}, post=_draw_example),
]

# ----------------------------------------------------------------------------------------
# package utilities
# ----------------------------------------------------------------------------------------
UTILS = [
    Spec("_rng.as_generator", {"rng": Arg(0, Rng())}),
    Spec("_versions.show_versions", {"file": Arg(lazy(lambda: __import__("io").StringIO()), Obj(none_ok=True))},
         cost="heavy"),
]

SPECS = LAWS + ENSEMBLES + THEORY + NOISE + TESTING + UTILS
