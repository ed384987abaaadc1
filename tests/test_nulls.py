"""Monte-Carlo critical values (experiments.nulls), the shipped table, and the ESD distances (experiments.spectral)."""

import json

import numpy as np
import pytest

from rmt_sparsity.experiments import nulls
from rmt_sparsity.experiments.nulls import LEVELS, NullSpec, null_band, null_critical_value, simulate_null
from rmt_sparsity.experiments.spectral import esd_distance, tabulated, weighted_covariance_eigenvalues


def _max_uniform(m):
    return NullSpec("test", "theory", f"max of {m} uniforms", {"m": m}, lambda g: float(g.random(m).max()),
                    draws=2000, sampler="numpy uniform")


def test_spec_seed_is_a_function_of_the_key():
    a, b = _max_uniform(10), _max_uniform(10)
    assert a.key == b.key and np.array_equal(simulate_null(a), simulate_null(b))
    c = _max_uniform(11)
    assert c.key != a.key and not np.array_equal(simulate_null(c)[:5], simulate_null(a)[:5])
    with pytest.raises(ValueError, match="draws"):
        simulate_null(a, draws=3)


def test_critical_value_matches_the_exact_quantile():
    """max of m uniforms: the (1-alpha) quantile is (1-alpha)^(1/m); the MC value lies in its order-statistic CI."""
    spec = _max_uniform(10)
    thr = null_critical_value(spec, alpha=0.05, use_table=False)
    exact = 0.95 ** 0.1
    assert thr.kind == "critical_value" and "2000 Monte-Carlo draws" in thr.derivation
    lo, hi = (float(x) for x in thr.derivation.split("95 % CI [")[1].split("]")[0].split(", "))
    assert lo <= exact <= hi and abs(thr.value - exact) < 0.003
    band = null_band(spec, level=0.9, use_table=False)
    assert band.value[0] < 0.95 ** 0.1 < band.value[1] and abs(band.value[0] - 0.05 ** 0.1) < 0.01


def test_order_statistic_is_conservative():
    s = nulls.summarize_null(np.arange(1, 100) / 100)  # R = 99: (R+1) q integer
    assert s["quantiles"]["0.95"] == 0.95 and s["quantiles"]["0.05"] == 0.05
    s = nulls.summarize_null(np.arange(1, 11) / 10)  # R = 10: ceil(0.95 * 11) = 11 -> clipped to the max
    assert s["quantiles"]["0.95"] == 1.0


def test_recording_collects_specs_without_simulating():
    spec = NullSpec("test", "theory", "boom", {}, lambda g: 1 / 0, draws=50)
    with nulls.recording() as rec:
        thr = null_critical_value(spec, use_table=False)
    assert rec == [spec] and thr.value == np.inf and "not computed" in thr.derivation  # a placeholder: no bound


def test_table_entries_are_complete():
    doc = json.loads(nulls.TABLE_PATH.read_text())
    assert doc["generated_by"] == "data/make_null_quantiles.py" and doc["levels"] == list(LEVELS)
    for key, e in doc["entries"].items():
        assert json.loads(key)["claim"] == e["claim"]
        q = [e["quantiles"][str(lev)] for lev in LEVELS]
        assert q == sorted(q), key
        assert e["draws"] >= 100 and e["sd"] >= 0


def test_every_quick_and_smoke_null_is_in_the_table():
    """verify never falls back to an in-run simulation at the smoke and quick profiles."""
    from data.make_null_quantiles import collect_specs

    table = nulls.load_table()
    missing = [f"{p}: {s.claim}/{s.hypothesis} {dict(s.sizes)}" for k, (p, s) in
               collect_specs(["smoke", "quick"]).items() if k not in table]
    assert not missing, "run python data/make_null_quantiles.py --missing:\n" + "\n".join(missing)


@pytest.mark.slow
def test_table_regenerates_bit_for_bit():
    """Each smoke entry of data/null_quantiles.json is reproduced from its key (the seed is a hash of it)."""
    from data.make_null_quantiles import check, collect_specs

    bad = check(collect_specs(["smoke"]), nulls.load_table())
    assert not bad, bad


# ----------------------------------------------------------------------------- distances


def test_esd_distance_matches_spectra_and_quantile_form():
    from rmt_sparsity.ensembles import laguerre_eigenvalues
    from rmt_sparsity.laws import MarchenkoPastur
    from rmt_sparsity.spectra import esd_distances

    law = MarchenkoPastur(0.3)
    e = laguerre_eigenvalues(128, 400, rng=3)
    ks, w1 = esd_distances(e, law.cdf, law.support())
    assert esd_distance(e, law) == pytest.approx(ks, rel=1e-12)
    assert esd_distance(e, law, metric="w1") == pytest.approx(w1, rel=1e-12)
    t = tabulated(law)
    assert t.max_step < 2e-3
    # quantile form on the table: same W1 up to the table's resolution
    assert esd_distance(e, t, metric="w1") == pytest.approx(w1, rel=1e-4)
    assert esd_distance(e, t) == pytest.approx(ks, abs=t.max_step)
    # normalised: the same as rescaling both to mean 1 by hand
    en = e / e.mean()
    ks_n = esd_distances(en, lambda x: law.cdf(x * law.mean()), np.array(law.support()) / law.mean())[0]
    assert esd_distance(e, law, normalise=True) == pytest.approx(ks_n, rel=1e-12)
    with pytest.raises(ValueError, match="metric"):
        esd_distance(e, law, metric="l2")


def test_esd_distance_to_atoms_is_exact():
    atoms = np.array([1.0, 2.0, 3.0, 4.0])
    assert esd_distance(atoms, atoms) == 0.0
    assert esd_distance(atoms + 10, atoms) == 1.0
    assert esd_distance(np.array([1.0, 2.0]), atoms, metric="w1") == pytest.approx(1.0)


def test_weighted_covariance_sampler_mean():
    """E tr(S)/p = mean weight (each column has unit-variance entries)."""
    w = np.linspace(0.5, 1.5, 400)
    ev = np.concatenate([weighted_covariance_eigenvalues(40, w, rng=s) for s in range(20)])
    assert ev.mean() == pytest.approx(1.0, abs=4 * np.sqrt(2 * 1.08 / (40 * 400 * 20)) + 1e-3)
