"""Fuzz specs: experiments, report and the command line (slow: they run claims, sweeps and files)."""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass

from hypothesis import strategies as st

from .spec import Spec
from .values import Arg, Array, Bad, Call, Choice, Fixed, Int, Kind, Mapping, Obj, Path, Real, Seq, Text, lazy

PROB = Real(lo=0.0, hi=1.0, lo_open=True, hi_open=True)
E = "heavy"
#: The cheapest claim (a closed-form identity check): run_claim's baseline.
CHEAP_CLAIM = "tw_largest_eigenvalue"


def _exp():
    import rmt_sparsity.experiments as ex

    return ex


def _pred():
    return _exp().Prediction(1.0, (0.9, 1.1))


def _meas():
    return _exp().Measurement(1.05, 0.01, 3)


#: One parent directory per process for the specs' output directories, removed when the process exits (the
#: fuzz workers call the specs many times; per-call directories under it are not cleaned one by one).
_TMP_PARENT: tempfile.TemporaryDirectory | None = None


def _tmpdir():
    global _TMP_PARENT
    if _TMP_PARENT is None:
        _TMP_PARENT = tempfile.TemporaryDirectory(prefix="fuzz-exp-")
    return tempfile.mkdtemp(dir=_TMP_PARENT.name)


def sweep_fn(config, seed):
    """A top-level (picklable) sweep function for the Sweep spec."""
    return {"y": float(config["x"]) * 2 + seed}


def _results():
    return [_exp().run_claim(CHEAP_CLAIM, profile="smoke", seed=0)]


@dataclass
class Argv(Kind):
    """A command line: each category replaces (or appends) one option's value with bad ones.

    ``options``: ``{option: [bad values]}``; the positional path is the option ``"<path>"``.
    """

    options: dict = None

    def categories(self):
        out = {}
        for opt, values in (self.options or {}).items():
            out[opt] = st.sampled_from([Bad(opt, "argv", (opt, v)) for v in values])
        return out


def _analyze_argv():
    from .specs_analysis import _safetensors_path

    d = _tmpdir()
    return ["analyze", _safetensors_path(), "--n-mc", "20", "--n-boot", "0", "--out", os.path.join(d, "out.json")]


def _verify_argv():
    return ["verify", "--profile", "smoke", "--only", CHEAP_CLAIM, "--quiet", "--out", _tmpdir()]


_NUM_BAD = ["nan", "inf", "-1", "abc", ""]
_INT_BAD = ["-1", "2.5", "abc", str(2**64)]

EXPERIMENTS = [
    # id: any lower_snake_case string is a valid id, so "bogus" is not a bad value; "" and "RELU " (and
    # "a b") break the id format and are
    Spec("experiments.Claim", {"id": Arg("toy", Choice(bogus=("", "RELU ", "a b"))), "statement": Arg("s", Fixed()), "source": Arg("arXiv 0000.00000", Fixed()),
                               "predict": Arg(lazy(lambda: (lambda cfg: _pred())), Call()),
                               "measure": Arg(lazy(lambda: (lambda cfg, rng: _meas())), Call()),
                               "compare": Arg(lazy(lambda: _exp().within_band), Call()),
                               "profiles": Arg({"smoke": {}, "quick": {}, "full": {}}, Mapping(known=False)),
                               "kind": Arg("theorem", Choice())}),
    Spec("experiments.ClaimResult", exempt="result record built by run_claim"),
    Spec("experiments.SweepResult", exempt="result record built by Sweep.run"),
    Spec("experiments.FigureData", {"kind": Arg("bars", Choice()), "title": Arg("t", Fixed()),
                                    "data": Arg({"x": [1.0, 2.0]}, Mapping(known=False))}),
    # value NaN is valid: a raw measurement whose statistic is computed later, or a quantity that could not be
    # measured (documented; the rules judge it inconclusive)
    Spec("experiments.Measurement", {"value": Arg(1.0, Real(), skip=("nan",)), "se": Arg(0.1, Real(lo=0.0, none_ok=True)),
                                     "n": Arg(3, Int(min=1, huge_bad=False))}),
    # value NaN is valid (a region-only prediction: a directional half-line, a critical region); band None is
    # valid (a point prediction judged by agrees_within_se or equivalence); both documented
    Spec("experiments.Prediction", {"value": Arg(1.0, Real(), skip=("nan",)), "band": Arg((0.9, 1.1), Seq(none_ok=True)),
                                    "level": Arg(0.95, PROB)}),
    Spec("experiments.Verdict", {"status": Arg("pass", Choice()), "reason": Arg("", Fixed())}),
    Spec("experiments.agrees_within_se", {"pred": Arg(lazy(_pred), Obj()), "meas": Arg(lazy(_meas), Obj()),
                                          "k": Arg(4.0, Real(lo=0.0, lo_open=True)), "pred_se": Arg(0.0, Real(lo=0.0))}),
    Spec("experiments.coverage_prediction", {"m": Arg(6, Int(min=1, huge_bad=False)), "coverage": Arg(0.95, PROB),
                                             "details": Arg({"statistic": "x"}, Mapping(known=False))}),
    Spec("experiments.paired_effect", {"pred": Arg(lazy(lambda: _exp().Prediction(math.nan, (0.0, math.inf))), Obj()),
                                       "meas": Arg(lazy(_meas), Obj())}),
    Spec("experiments.within_band", {"pred": Arg(lazy(_pred), Obj()), "meas": Arg(lazy(_meas), Obj()),
                                     # k=None is the documented default (the Student t multiplier)
                                     "k": Arg(2.0, Real(lo=0.0, lo_open=True, none_ok=True))}),
    Spec("experiments.all_claim_ids", {}),
    # claim_id: any non-empty string is hashed (the docstring's own example uses "a" and "b"): no bogus category
    Spec("experiments.claim_seed", {"seed": Arg(0, Int(min=0, huge_bad=False)), "claim_id": Arg("mp_extreme_ratio", Text())}),
    Spec("experiments.config_hash", {"config": Arg({"a": 1, "b": [1.0, 2.0]}, Mapping(known=False))}),
    Spec("experiments.get_claim", {"claim_id": Arg("mp_extreme_ratio", Choice())}),
    Spec("experiments.registry", {}),
    Spec("experiments.run_claim", {"claim_id": Arg(CHEAP_CLAIM, Choice()), "profile": Arg("smoke", Choice()),
                                   "seed": Arg(0, Int(min=0, huge_bad=False)),
                                   "overrides": Arg(None, Mapping(none_ok=True))}, cost=E, timeout=60),
    # ids=None is the documented "every registered claim" (minutes, not a bad value)
    Spec("experiments.run_claims", {"ids": Arg([CHEAP_CLAIM], Seq(none_ok=True)), "profile": Arg("smoke", Choice()),
                                    "seed": Arg(0, Int(min=0, huge_bad=False)), "progress": Arg(False),
                                    "executor": Arg(None, Obj(none_ok=True))}, cost=E, timeout=60),
    Spec("experiments.Sweep", {"fn": Arg(lazy(lambda: sweep_fn), Call()), "grid": Arg({"x": [1, 2]}, Mapping(known=False)),
                               "seeds": Arg([0], Seq(ints=True, lo=0)), "store": Arg(lazy(_tmpdir), Path(must_exist=False)),
                               "executor": Arg("serial", Choice(none_ok=True)),
                               "experiment": Arg(None, Fixed()), "workers": Arg(None, Int(min=1, none_ok=True))},
         post=lambda sw: sw.run(progress=False), cost=E),
    Spec("experiments.ResultStore", {"path": Arg(lazy(_tmpdir), Path(must_exist=False))},
         post=lambda s: (s.put({"key": "abc", "experiment": "e", "config": {}, "seed": 0, "result": {"x": 1},
                                "versions": {}, "host": "h", "duration_s": 0.0}), s.keys())),
    Spec("experiments.local_executor", {"workers": Arg(1, Int(min=1, none_ok=True)), "threads": Arg(1, Int(min=1))},
         post=lambda ex: ex.shutdown(), cost=E, timeout=60),
    Spec("experiments.dask_executor", {"address": Arg(None, Fixed()), "workers": Arg(1, Int(min=1)),
                                       "threads": Arg(1, Int(min=1)), "timeout": Arg("10s", Choice())},
         post=lambda ex: getattr(ex, "shutdown", lambda: None)(), cost=E, timeout=60),
]

def _rule():
    return _exp().ConvergenceRule(0.1, 0.05, "digits MSE: 0.1 is below a constant predictor's 0.45")


def _evidence():
    return _rule().evidence(steps=50, train_loss=[0.5], weight_change=[0.3])


def null_draw(rng):
    """A top-level (picklable) null replicate: the mean of four standard normals."""
    return float(rng.standard_normal(4).mean())


def _null_spec():
    return _exp().NullSpec("toy_claim", "theory", "mean of 4 standard normals", {"m": 4}, draw=null_draw, draws=200)


@dataclass
class ThresholdValue(Kind):
    """A threshold's value: a real (NaN: not computed; ±inf: a half-line's end) or a pair ``(lo, hi)``."""

    def categories(self):
        out = super().categories()
        out["wrong_type"] = st.one_of(st.sampled_from([Bad("wrong_type", "value", v) for v in
                                                       ("abc", 1 + 1j, [1.0, 2.0, 3.0], {"a": 1})]),
                                      st.just(Bad("wrong_type", "obj")))
        return out


_NAME = Choice(bogus=("", "   "))  # a non-empty name: any text but blank is valid

PENDING = [
    Spec("experiments.ConvergenceRule", {
        "max_train_loss": Arg(0.1, Real(lo=0.0, lo_open=True, inf_ok=True)),
        "min_weight_change": Arg(0.05, Real(lo=0.0)),
        "justification": Arg("a constant predictor's loss is 0.45", _NAME),
        # plateau_window only indexes a recorded curve: a huge window is "never plateaued", not an allocation
        "plateau_window": Arg(3, Int(min=0, huge_bad=False)),
        "plateau_rtol": Arg(0.01, Real(lo=0.0))}),
    Spec("experiments.Rival", {"name": Arg("no effect", _NAME),
                               "predict": Arg(lazy(lambda: (lambda cfg: _pred())), Call()),
                               "description": Arg("the treatment does nothing", Text())}),
    Spec("experiments.RivalResult", exempt="result record built by run_claim"),
    Spec("experiments.TrainingEvidence", exempt="result record built by ConvergenceRule.evidence"),
    Spec("experiments.Threshold", {"name": Arg("ks_critical_value", _NAME), "value": Arg(0.012, ThresholdValue()),
                                   "kind": Arg("critical_value", Choice()),
                                   "derivation": Arg("95% quantile of 2000 MC draws", Text()),
                                   "justification": Arg("", Text()),
                                   "level": Arg(0.95, Real(lo=0.0, hi=1.0, lo_open=True, hi_open=True, none_ok=True))}),
    Spec("experiments.critical_value", {"name": Arg("t", _NAME), "value": Arg(2.35, ThresholdValue()),
                                        "derivation": Arg("one-sided 95% Student t, 3 df", _NAME),
                                        "level": Arg(None, Real(lo=0.0, hi=1.0, lo_open=True, hi_open=True,
                                                                none_ok=True), )}),
    Spec("experiments.margin", {"name": Arg("margin", _NAME), "value": Arg(0.01, ThresholdValue()),
                                "justification": Arg("1 % of the spectrum is the claim's resolution", _NAME)}),
    Spec("experiments.combine_verdicts", {"theory": Arg(lazy(lambda: _exp().Verdict("pass", "in band")), Obj()),
                                          "rivals": Arg(lazy(lambda: {"Kish MP": _exp().Verdict("fail", "out")}),
                                                        Mapping(known=False))}),
    Spec("experiments.training_gate", {"verdict": Arg(lazy(lambda: _exp().Verdict("pass", "ok")), Obj()),
                                       "evidence": Arg(lazy(_evidence), Obj(none_ok=True))}),
    Spec("experiments.equivalence", {"pred": Arg(lazy(lambda: _exp().Prediction(1.0)), Obj()),
                                     "meas": Arg(lazy(_meas), Obj()),
                                     "margin": Arg(0.1, Real(lo=0.0)), "alpha": Arg(0.05, PROB),
                                     "pred_se": Arg(0.0, Real(lo=0.0)),
                                     "relative": Arg(False, Choice(bogus=("yes",), wrong=(1.5, [True])))}),
    Spec("experiments.no_effect_rival", {"margin_threshold": Arg(0.01, Real(lo=0.0)), "name": Arg("no effect", _NAME),
                                         "description": Arg("the effect is 0", Text())}),
    Spec("experiments.relative_weight_change", {
        "init": Arg(lazy(lambda: __import__("numpy").ones((2, 3))), Array(ndim=None, linked=(0, 1))),
        "trained": Arg(lazy(lambda: __import__("numpy").full((2, 3), 1.5)), Array(ndim=None, linked=(0, 1)))}),
    Spec("experiments.NullSpec", {"claim": Arg("toy_claim", _NAME), "hypothesis": Arg("theory", _NAME),
                                  "statistic": Arg("mean of 4 standard normals", _NAME),
                                  "sizes": Arg({"m": 4}, Mapping(known=False)),
                                  "draw": Arg(lazy(lambda: null_draw), Call()),
                                  "draws": Arg(200, Int(min=1)), "sampler": Arg("", Text())},
         post=lambda spec: __import__("rmt_sparsity.experiments", fromlist=["x"]).null_critical_value(
             spec, use_table=False)),
    Spec("experiments.null_critical_value", {"spec": Arg(lazy(_null_spec), Obj()), "alpha": Arg(0.05, PROB),
                                             "name": Arg("critical_value", _NAME), "use_table": Arg(False)}),
    Spec("experiments.run_provenance", {"results": Arg(lazy(_results, cache=True), Seq(empty_ok=True)),
                                        "profile": Arg("smoke", Choice()),
                                        "seed": Arg(0, Int(min=0, huge_bad=False))}, cost=E, timeout=60),
]

REPORT = [
    Spec("report.write_report", {"results": Arg(lazy(_results, cache=True), Seq()), "out_dir": Arg(lazy(_tmpdir), Path(must_exist=False)),
                                 "profile": Arg("smoke", Choice()), "seed": Arg(0, Int(min=0, huge_bad=False))}, cost=E, timeout=60),
]

CLI = [
    Spec("cli.UsageError", exempt="exception class"),
    Spec("cli.build_parser", {}),
    Spec("cli.main[analyze]", {"argv": Arg(lazy(_analyze_argv), Argv(options={
        "<path>": ["/nonexistent/w.safetensors", "/tmp", ""], "--zero-tol": _NUM_BAD + ["1.5"], "--alpha": _NUM_BAD + ["0", "1"],
        "--n-boot": _INT_BAD, "--n-mc": _INT_BAD + ["0"], "--seed": _INT_BAD, "--out": ["", "/nonexistent/dir/out.json", "/tmp"],
        "--relative-to": ["bogus"]}))},
         target=lambda: __import__("rmt_sparsity.cli", fromlist=["x"]).main, returns_code=True, cost=E, timeout=60),
    Spec("cli.main[verify]", {"argv": Arg(lazy(_verify_argv), Argv(options={
        "--profile": ["bogus", ""], "--seed": _INT_BAD, "--only": ["bogus_claim", ""], "--out": ["", "/nonexistent/dir"],
        "--executor": ["bogus"]}))},
         target=lambda: __import__("rmt_sparsity.cli", fromlist=["x"]).main, returns_code=True, cost=E, timeout=60),
]

SPECS = EXPERIMENTS + PENDING + REPORT + CLI
