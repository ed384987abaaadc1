"""The claims registry: schema, compare rules, crash handling and honest verdicts."""

import dataclasses
import json

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
    # the band edge is inside k*se of the value: cannot decide
    assert within_band(pred, Measurement(1.12, 0.02)).status == "inconclusive"
    # uncertainty larger than half the band: cannot decide even though the value is inside
    assert within_band(pred, Measurement(1.0, 0.2)).status == "inconclusive"
    assert within_band(pred, Measurement(float("nan"))).status == "inconclusive"
    with pytest.raises(ValueError, match="band"):
        within_band(Prediction(1.0), Measurement(1.0))


def test_agrees_within_se_rules():
    assert agrees_within_se(Prediction(0.0), Measurement(0.39, 0.1)).status == "pass"  # |z| = 3.9 <= 4
    assert agrees_within_se(Prediction(0.0), Measurement(0.41, 0.1)).status == "fail"  # |z| = 4.1 > 4
    assert agrees_within_se(Prediction(0.0), Measurement(0.41, 0.1), pred_se=0.1).status == "pass"
    assert agrees_within_se(Prediction(0.0), Measurement(0.41, None)).status == "inconclusive"


def test_paired_effect_rule_uses_student_t():
    pred = Prediction(float("nan"), (0.0, float("inf")))
    # n = 3: t_{0.975, 2} = 4.30, so 0.05 +- 0.02 (z = 2.5) is not enough to decide
    assert paired_effect(pred, Measurement(0.05, 0.02, 3)).status == "inconclusive"
    assert paired_effect(pred, Measurement(0.05, 0.01, 3)).status == "pass"
    assert paired_effect(pred, Measurement(-0.05, 0.01, 3)).status == "fail"
    # n = 30: t = 2.05, so the same 0.05 +- 0.02 now decides
    assert paired_effect(pred, Measurement(0.05, 0.02, 30)).status == "pass"
    assert paired_effect(pred, Measurement(0.05, float("nan"), 3)).status == "inconclusive"
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
        assert "smoke" in claim.profiles, f"{cid} has no smoke profile"


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


def test_wrong_prediction_fails(monkeypatch):
    """A deliberately wrong prediction for a real claim gives the verdict `fail`."""
    real = registry()["mp_esd_matches_wishart"]
    good = run_claim("mp_esd_matches_wishart", profile="smoke")
    assert good.verdict.status == "pass"
    # claim that the ESD sits at Kolmogorov distance >= 0.5 from MP: wrong, and must fail
    wrong = dataclasses.replace(real, predict=lambda cfg: Prediction(0.75, (0.5, 1.0)))
    _with_claim(monkeypatch, wrong)
    assert run_claim("mp_esd_matches_wishart", profile="smoke").verdict.status == "fail"


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
