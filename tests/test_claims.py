"""The claims registry: schema, compare rules, crash handling and honest verdicts."""

import json

import numpy as np
import pytest

from rmt_sparsity.experiments import runner as R
from rmt_sparsity.experiments.claims import (
    Claim,
    Measurement,
    Prediction,
    Verdict,
    agrees_within_se,
    paired_effect,
    within_band,
)
from rmt_sparsity.experiments.runner import all_claim_ids, get_claim, registry, run_claim, run_claims


def test_verdict_status_validated():
    with pytest.raises(ValueError, match="status must be one of"):
        Verdict("passed")


def test_within_band_rules():
    pred = Prediction(1.0, (0.9, 1.1))
    assert within_band(pred, Measurement(1.0)).status == "pass"
    assert within_band(pred, Measurement(1.2)).status == "fail"
    # the band edge is inside the interval (q = t_{0.95,7} = 1.89): cannot decide
    assert within_band(pred, Measurement(1.12, 0.02, 8)).status == "inconclusive"
    # uncertainty larger than half the band: cannot decide even though the value is inside
    assert within_band(pred, Measurement(1.0, 0.2, 8)).status == "inconclusive"
    # an SE from a single unit has no interval
    assert within_band(pred, Measurement(1.0, 0.01, 1)).status == "inconclusive"
    assert within_band(pred, Measurement(float("nan"))).status == "inconclusive"
    assert within_band(pred, Measurement(1.0, float("nan"), 1)).status == "inconclusive"  # one unit: no spread
    with pytest.raises(ValueError, match="se must be"):  # a value from 8 units with no SE is a bug upstream
        Measurement(1.0, float("nan"), 8)
    with pytest.raises(ValueError, match="band"):
        within_band(Prediction(1.0), Measurement(1.0))
    with pytest.raises(ValueError, match="band"):
        Prediction(1.0, (1.1, 0.9))
    for k in (0.0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="k must be"):
            within_band(pred, Measurement(1.0, 0.01, 8), k=k)
    with pytest.raises(ValueError, match="alpha"):
        within_band(pred, Measurement(1.0, 0.01, 8), alpha=1.5)


def test_within_band_is_an_interval_rule():
    """pass iff the interval lies inside the region; fail iff it misses it (q = t_{0.95, n-1})."""
    from rmt_sparsity.experiments.claims import ci_multiplier

    q = ci_multiplier(8)
    pred = Prediction(0.0, (-1.0, 1.0))
    se = 0.1
    inside = 1.0 - q * se - 1e-9
    assert within_band(pred, Measurement(inside, se, 8)).status == "pass"
    assert within_band(pred, Measurement(inside + 2e-9, se, 8)).status == "inconclusive"
    outside = 1.0 + q * se + 1e-9
    assert within_band(pred, Measurement(outside, se, 8)).status == "fail"
    assert within_band(pred, Measurement(outside - 2e-9, se, 8)).status == "inconclusive"


def test_directional_wrong_way_fails():
    """A directional claim fails when the effect is significantly in the wrong direction: -3 SE fails."""
    pred = Prediction(float("nan"), (0.0, float("inf")))
    for n in (3, 8, 30):
        assert within_band(pred, Measurement(-3.0, 1.0, n)).status == "fail", n
        assert paired_effect(pred, Measurement(-0.03, 0.01, n)).status == "fail", n
        assert paired_effect(pred, Measurement(+0.03, 0.01, n)).status == "pass", n
    # a margin m: the effect must clear m, not just 0
    pred_m = Prediction(float("nan"), (0.01, float("inf")))
    assert paired_effect(pred_m, Measurement(0.011, 0.001, 8)).status == "inconclusive"
    assert paired_effect(pred_m, Measurement(0.005, 0.001, 8)).status == "fail"


def test_equivalence_rule():
    from rmt_sparsity.experiments.claims import equivalence, margin

    m = margin("margin", 0.1, "test")
    assert equivalence(Prediction(1.0), Measurement(1.02, 0.01, 8), margin=m).status == "pass"
    assert equivalence(Prediction(1.0), Measurement(1.3, 0.01, 8), margin=m).status == "fail"
    assert equivalence(Prediction(1.0), Measurement(1.05, 0.1, 8), margin=m).status == "inconclusive"
    # a large SE never passes: the interval must lie inside the margin
    assert equivalence(Prediction(1.0), Measurement(1.0, 1.0, 8), margin=m).status == "inconclusive"
    assert equivalence(Prediction(1.0), Measurement(1.0, None), margin=m).status == "inconclusive"
    v = equivalence(Prediction(2.0), Measurement(2.1, 0.01, 8), margin=0.1, relative=True)   # 2 +- 0.2
    assert v.status == "pass"
    assert m in equivalence(Prediction(1.0), Measurement(1.02, 0.01, 8), margin=m).thresholds
    with pytest.raises(ValueError, match="margin"):
        equivalence(Prediction(1.0), Measurement(1.0, 0.1, 8), margin=-0.1)
    with pytest.raises(ValueError, match="finite point prediction"):
        equivalence(Prediction(float("nan")), Measurement(1.0, 0.1, 8), margin=0.1)


def test_agrees_within_se_rules():
    # a non-significant disagreement passes only when it is also precise enough for the margin
    assert agrees_within_se(Prediction(0.0), Measurement(0.39, 0.1)).status == "inconclusive"  # no margin
    assert agrees_within_se(Prediction(0.0), Measurement(0.39, 0.1), margin=1.0).status == "pass"  # 0.39+0.4 <= 1
    assert agrees_within_se(Prediction(0.0), Measurement(0.39, 0.1), margin=0.5).status == "inconclusive"
    assert agrees_within_se(Prediction(0.0), Measurement(0.41, 0.1), margin=1.0).status == "fail"  # |z| = 4.1 > 4
    assert agrees_within_se(Prediction(0.0), Measurement(0.41, 0.1), pred_se=0.1, margin=1.0).status == "pass"
    assert agrees_within_se(Prediction(0.0), Measurement(0.41, None), margin=1.0).status == "inconclusive"
    # a huge SE is not agreement
    assert agrees_within_se(Prediction(0.0), Measurement(0.0, 100.0), margin=1.0).status == "inconclusive"
    for k in (0.0, -2.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="k must be"):
            agrees_within_se(Prediction(0.0), Measurement(0.0, 0.1), k=k)


def test_paired_effect_rule_uses_student_t():
    pred = Prediction(float("nan"), (0.0, float("inf")))
    # n = 3: t_{0.95, 2} = 2.92, so 0.05 +- 0.02 (z = 2.5) is not enough to decide
    assert paired_effect(pred, Measurement(0.05, 0.02, 3)).status == "inconclusive"
    assert paired_effect(pred, Measurement(0.05, 0.01, 3)).status == "pass"
    assert paired_effect(pred, Measurement(-0.05, 0.01, 3)).status == "fail"
    # n = 30: t = 2.05, so the same 0.05 +- 0.02 now decides
    assert paired_effect(pred, Measurement(0.05, 0.02, 30)).status == "pass"
    assert paired_effect(pred, Measurement(0.05, float("nan"), 1)).status == "inconclusive"
    assert paired_effect(pred, Measurement(0.05, None, 3)).status == "inconclusive"
    unmatched = Measurement(0.2, 0.01, 3, details={"accuracy_matched": False, "accuracy_note": "drop 0.1"})
    v = paired_effect(pred, unmatched)
    assert v.status == "inconclusive" and "drop 0.1" in v.reason


def test_registry_has_foundation_claims_and_expected_ids():
    reg = registry()
    assert {"mp_esd_matches_wishart", "mp_extreme_ratio"} <= set(reg)
    for cid, claim in reg.items():
        assert cid == claim.id
        assert claim.statement and claim.source
        # every claim runs in the smoke profile, except those defined for the full profile alone (Claim.runs_in)
        assert "smoke" in claim.profiles or list(claim.profiles) == ["full"], f"{cid} has no smoke profile"


def test_registry_is_the_list_of_claims():
    # the registry is the one source of truth: no other list of ids, and unknown ids are errors
    assert all_claim_ids() == list(registry())
    assert get_claim("mp_extreme_ratio") is registry()["mp_extreme_ratio"]
    for call in (lambda: get_claim("future_claim"), lambda: run_claim("future_claim", profile="smoke"),
                 lambda: run_claims(["mp_extreme_ratio", "future_claim"], profile="smoke")):
        with pytest.raises(KeyError, match="future_claim"):
            call()


def _toy_claim(predict, measure=None):
    return Claim(
        id="toy",
        statement="toy",
        source="test",
        predict=predict,
        measure=measure or (lambda cfg, rng: Measurement(float(rng.normal()), 0.01, 1)),
        compare=within_band,
        profiles={"smoke": {"x": 1}},
    )


def _with_claim(monkeypatch, claim):
    reg = dict(registry())
    reg[claim.id] = claim
    monkeypatch.setattr(R, "_REGISTRY", reg)


def test_wrong_prediction_fails():
    """A deliberately wrong prediction for a real claim gives the verdict `fail` (swapped in as the prediction)."""
    from rmt_sparsity.experiments.claims import replace_prediction

    from rmt_sparsity.experiments.catalog.mp import _esd_hypothesis

    real = registry()["mp_esd_matches_wishart"]
    good = run_claim("mp_esd_matches_wishart", profile="smoke")
    assert good.theory_verdict.status == "pass", good.theory_verdict.reason
    # the MP law with sigma^2 + 5 % (the first rival) swapped in: the same rule on the same draws must fail it
    wrong = replace_prediction(real, lambda cfg: _esd_hypothesis(cfg, "MP(c, 1.05 sigma^2)", scale_factor=1.05))
    res = run_claim("mp_esd_matches_wishart", profile="smoke", claim=wrong)
    assert res.verdict.status == "fail", res.verdict.reason
    assert res.measurement.value > 1.5 * good.measurement.value
    assert res.measurement.value == good.rivals[0].statistic.value  # the runner judged the rival exactly so


def test_too_uncertain_is_inconclusive(monkeypatch):
    claim = _toy_claim(lambda cfg: Prediction(0.0, (-0.1, 0.1)), lambda cfg, rng: Measurement(0.0, 5.0, 3))
    _with_claim(monkeypatch, claim)
    assert run_claim("toy", profile="smoke").verdict.status == "inconclusive"


def test_crash_is_recorded(monkeypatch):
    def boom(cfg):
        raise RuntimeError("kaput")

    _with_claim(monkeypatch, _toy_claim(boom))
    res = run_claim("toy", profile="smoke")
    assert res.crashed and "kaput" in res.error and res.verdict.status == "inconclusive"


def test_claim_seed_independent_of_selection(monkeypatch):
    _with_claim(monkeypatch, _toy_claim(lambda cfg: Prediction(0.0, (-5, 5))))
    a = run_claim("toy", profile="smoke", seed=3).measurement.value
    b = run_claim("toy", profile="smoke", seed=3).measurement.value
    c = run_claim("toy", profile="smoke", seed=4).measurement.value
    assert a == b and a != c


def test_record_is_strict_json():
    res = run_claim("mp_esd_matches_wishart", profile="smoke")
    rec = res.to_json()
    text = json.dumps(rec, allow_nan=False)
    assert set(json.loads(text)) >= {"id", "statement", "source", "prediction", "measurement", "verdict", "provenance", "timings"}
    prov = rec["provenance"]
    assert prov["config_hash"] == R.config_hash(prov["config"]) and "numpy" in prov["versions"]


def test_config_fallback_to_smaller_profile():
    claim = _toy_claim(lambda cfg: Prediction(0.0))
    assert claim.config_for("full") == {"x": 1}
    with pytest.raises(ValueError, match="profile"):
        claim.config_for("huge")


def test_mp_esd_claim_passes_on_smoke():
    """The ESD claim is a theorem at this size (the KS critical value dominates the O(1/n) bias)."""
    res = run_claim("mp_esd_matches_wishart", profile="smoke", seed=0)
    assert not res.crashed, res.error
    assert res.verdict.status == "pass", res.verdict.reason


def test_mp_extreme_ratio_claim_runs():
    """The ratio band is a Tracy-Widom *approximation* (O(n^{-2/3}) error): its verdict is a finding,
    so only the machinery is asserted here; the band's coverage is tested in tests/test_laws_edges.py."""
    res = run_claim("mp_extreme_ratio", profile="smoke", seed=0)
    assert not res.crashed, res.error
    assert 0.0 <= res.measurement.value <= 1.0
    assert res.prediction.band[0] < res.prediction.value < res.prediction.band[1]


# ----------------------------------------------------------------------------- thresholds, rivals, training


def test_threshold_needs_derivation_or_justification():
    from rmt_sparsity.experiments.claims import Threshold, critical_value, margin

    with pytest.raises(ValueError, match="derivation"):
        Threshold("crit", 0.1, "critical_value")
    with pytest.raises(ValueError, match="justification"):
        Threshold("m", 0.1, "margin")
    with pytest.raises(ValueError, match="kind"):
        Threshold("m", 0.1, "rule_of_thumb", justification="x")
    assert critical_value("c", 0.1, "MC").to_json() == {"name": "c", "value": 0.1, "kind": "critical_value",
                                                        "derivation": "MC"}
    assert margin("m", float("inf"), "x").to_json()["value"] == "inf"
    with pytest.raises(TypeError, match="Threshold"):
        Prediction(0.0, thresholds=({"name": "x"},))


def test_claim_kind_and_rivals_validated():
    from rmt_sparsity.experiments.claims import Rival

    ok = dict(id="x", statement="s", source="t", predict=lambda c: Prediction(0.0), measure=lambda c, r: None,
              compare=within_band, profiles={"smoke": {}})
    with pytest.raises(ValueError, match="kind"):
        Claim(**ok, kind="folklore")
    with pytest.raises(TypeError, match="Rival"):
        Claim(**ok, rivals=[lambda c: Prediction(0.0)])
    r = Rival("a", lambda c: Prediction(0.0))
    with pytest.raises(ValueError, match="duplicate"):
        Claim(**ok, rivals=[r, r])
    with pytest.raises(ValueError, match="name must be a non-empty string"):
        Rival("", lambda c: Prediction(0.0))


def test_combine_verdicts_all_branches():
    from rmt_sparsity.experiments.claims import combine_verdicts

    P, F, I = Verdict("pass", "p"), Verdict("fail", "f"), Verdict("inconclusive", "i")
    assert combine_verdicts(P, {}) == P
    assert combine_verdicts(P, {"a": F, "b": F}).status == "pass"
    v = combine_verdicts(P, {"a": F, "b": P})
    assert v.status == "inconclusive" and v.reason.startswith("cannot discriminate from b at this size")
    v = combine_verdicts(P, {"a": F, "b": I})
    assert v.status == "inconclusive" and "cannot discriminate from b" in v.reason
    for theory in (F, I, Verdict("not_implemented"), Verdict("skipped")):
        assert combine_verdicts(theory, {"a": P}).status == theory.status


def _law_claim(rivals, *, noise=0.0):
    """A toy claim whose statistic depends on the hypothesis (|mean - mu| of the raw draws)."""
    from rmt_sparsity.experiments.claims import Claim, Measurement, Prediction, Rival, critical_value

    def hyp(mu):
        return lambda cfg: Prediction(mu, (0.0, 0.2), law=mu,
                                      thresholds=(critical_value("crit", 0.2, "toy"),))

    def measure(cfg, rng):
        x = 1.0 + noise * rng.standard_normal(100)
        return Measurement(float(x.mean()), None, 100, raw=x)

    def statistic(pred, meas):
        return Measurement(abs(float(meas.raw.mean()) - pred.law), None, meas.n)

    return Claim("toy", "toy", "test", hyp(1.0), measure, within_band, {"smoke": {}},
                 rivals=[Rival(name, hyp(mu), f"mu = {mu}") for name, mu in rivals], statistic=statistic)


def test_rivals_judged_by_the_same_rule_on_the_same_measurement(monkeypatch):
    far = _law_claim([("far", 2.0)])
    _with_claim(monkeypatch, far)
    res = run_claim("toy", profile="smoke")
    assert res.verdict.status == "pass" and res.theory_verdict.status == "pass"
    (rv,) = res.rivals
    assert rv.name == "far" and rv.verdict.status == "fail" and rv.statistic.value == pytest.approx(1.0)
    rec = json.loads(json.dumps(res.to_json(), allow_nan=False))
    assert rec["rivals"][0]["name"] == "far" and rec["rivals"][0]["verdict"]["status"] == "fail"
    assert rec["rivals"][0]["statistic"]["value"] == pytest.approx(1.0)
    assert rec["thresholds"] and all(t.get("derivation") or t.get("justification") for t in rec["thresholds"])

    near = _law_claim([("far", 2.0), ("near", 1.1)])
    _with_claim(monkeypatch, near)
    res = run_claim("toy", profile="smoke")
    assert res.theory_verdict.status == "pass"
    assert res.verdict.status == "inconclusive" and "cannot discriminate from near" in res.verdict.reason


def test_training_gate_makes_untrained_inconclusive(monkeypatch):
    from rmt_sparsity.experiments.claims import ConvergenceRule, relative_weight_change

    rule = ConvergenceRule(max_train_loss=0.1, min_weight_change=0.05, justification="toy")
    assert rule.converged_at([0, 10, 20], [1.0, 0.2, 0.05]) == 20
    assert rule.converged_at([0, 10], [1.0, 0.2]) is None
    plateau = ConvergenceRule(0.1, 0.0, "toy", plateau_window=1, plateau_rtol=0.1)
    assert plateau.converged_at([0, 1, 2, 3], [1.0, 0.09, 0.05, 0.049]) == 3
    assert relative_weight_change([np.ones(4)], [np.ones(4) * 1.1]) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="same shapes"):
        relative_weight_change([np.ones(4)], [np.ones(3)])
    with pytest.raises(ValueError, match="justification"):
        ConvergenceRule(0.1, 0.0, "")

    def claim(loss, dw):
        ev = rule.evidence(steps=400, train_loss=loss, weight_change=dw)
        return Claim("toy", "toy", "t", lambda c: Prediction(float("nan"), (0.0, float("inf"))),
                     lambda c, r: Measurement(0.05, 0.01, 8, training=ev), paired_effect, {"smoke": {}},
                     kind="empirical")

    _with_claim(monkeypatch, claim([0.05] * 8, [0.3] * 8))
    res = run_claim("toy", profile="smoke")
    assert res.verdict.status == "pass" and res.to_json()["training"]["reached"] is True
    _with_claim(monkeypatch, claim([0.05] * 7 + [0.5], [0.3] * 8))
    res = run_claim("toy", profile="smoke")
    assert res.verdict.status == "inconclusive" and res.verdict.reason.startswith("not converged at 400 steps")
    _with_claim(monkeypatch, claim([0.05] * 8, [0.01] * 8))  # the weights barely moved: not trained
    assert run_claim("toy", profile="smoke").verdict.status == "inconclusive"


def test_rule_calibration_synthetic():
    """Each interval rule's false-fail rate under the truth is at most alpha (within its binomial band).

    Truth on the region's edge is the worst case: seeds means of n = 8 normal draws.
    """
    from rmt_sparsity._stats import binomial_band
    from rmt_sparsity.experiments.claims import ALPHA, equivalence
    from rmt_sparsity._stats import mean_se

    rng = np.random.default_rng(12345)
    reps, n = 20000, 8
    fails = {"band_edge": 0, "equivalence_edge": 0, "directional_zero": 0}
    for _ in range(reps):
        v, se = mean_se(rng.standard_normal(n) * 0.1 + 1.0)  # truth 1.0 = upper edge of [0, 1]
        fails["band_edge"] += within_band(Prediction(0.5, (0.0, 1.0)), Measurement(v, se, n)).status == "fail"
        fails["equivalence_edge"] += equivalence(Prediction(0.9), Measurement(v, se, n), margin=0.1).status == "fail"
        fails["directional_zero"] += paired_effect(Prediction(float("nan"), (1.0, float("inf"))),
                                                   Measurement(v, se, n)).status == "fail"
    # one-sided 99 % binomial bounds (band level 0.98): the edge is the worst case, where the rate is alpha exactly
    lo, hi = binomial_band(reps, ALPHA, level=0.98)
    for rule, k in fails.items():
        assert k / reps <= hi, (rule, k / reps)
        assert k / reps >= lo, (rule, k / reps)


def test_records_validate_their_fields():
    """Prediction/Measurement/FigureData refuse what the issue's fuzz run found accepted."""
    from rmt_sparsity.experiments import FigureData

    with pytest.raises(ValueError, match="level"):
        Prediction(1.0, (0.9, 1.1), level=1.5)
    with pytest.raises(ValueError, match="lo <= hi"):
        Prediction(1.0, (1.1, 0.9))
    with pytest.raises(ValueError, match="band"):
        Prediction(1.0, (0.9, float("nan")))
    assert Prediction(float("nan"), (0.0, float("inf"))).band == (0.0, float("inf"))  # a half-line, region only
    with pytest.raises(ValueError, match="n must be"):
        Measurement(1.0, 0.1, -1)
    with pytest.raises(ValueError, match="n must be"):
        Measurement(1.0, 0.1, 0)
    assert Measurement(float("nan"), None, 0).n == 0  # nothing was measured
    with pytest.raises(TypeError, match="n must be"):
        Measurement(1.0, 0.1, 2.5)
    with pytest.raises(ValueError, match="se must be"):
        Measurement(1.0, -0.1, 3)
    with pytest.raises(ValueError, match="value"):
        Measurement(float("inf"), 0.1, 3)
    with pytest.raises(ValueError, match="kind"):
        FigureData("bogus", "t", {})
    with pytest.raises(TypeError, match="data"):
        FigureData("bars", "t", None)


def test_rules_refuse_bad_arguments():
    pred, meas = Prediction(1.0, (0.9, 1.1)), Measurement(1.0)
    with pytest.raises(ValueError, match="k must be"):  # a point measurement used to pass whatever k was
        within_band(pred, meas, k=-1)
    with pytest.raises(TypeError, match="meas"):
        within_band(pred, None)
    with pytest.raises(TypeError, match="pred"):
        agrees_within_se("x", Measurement(1.0, 0.1, 3))
    for k in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="k must be"):
            agrees_within_se(Prediction(1.0), Measurement(1.0, 0.1, 3), k=k)


def test_runner_arguments_checked():
    from rmt_sparsity.experiments import run_claim, run_claims
    from rmt_sparsity.experiments.runner import UnknownClaimError

    with pytest.raises(TypeError, match="seed"):
        run_claim("tw_largest_eigenvalue", profile="smoke", seed="8")
    with pytest.raises(TypeError, match="seed"):
        run_claim("tw_largest_eigenvalue", profile="smoke", seed=2.5)
    with pytest.raises(ValueError, match="overrides: unknown config key.*'bogus'"):
        run_claim("tw_largest_eigenvalue", profile="smoke", overrides={"bogus": 1})
    with pytest.raises(TypeError, match="ids must be"):
        run_claims("mp_esd_matches_wishart", profile="smoke")
    with pytest.raises(UnknownClaimError, match="claim_id 'nope'") as err:
        run_claim("nope", profile="smoke")
    assert isinstance(err.value, KeyError) and isinstance(err.value, ValueError)


def test_executors_refuse_absurd_pools_up_front():
    from rmt_sparsity.experiments import dask_executor, local_executor

    pytest.importorskip("distributed")
    with pytest.raises(ValueError, match="workers = 10\\*\\*12"):
        dask_executor(workers=10**12)  # at the call, before any cluster starts
    with pytest.raises(ValueError, match="timeout"):
        dask_executor(timeout="bogus")
    with pytest.raises(ValueError, match="workers"):
        local_executor(2**64)
