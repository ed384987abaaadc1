"""The benchmark's bookkeeping: keys, statistics, figure data, the check rule, JSON output, CLI exit status (tiny sizes).

These run the benchmark on matrices of a few hundred kilobytes, so the timings
themselves mean nothing here; the tests assert only structure, arithmetic
identities between reported numbers, and the pass/fail rule on synthetic rows.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from rmt_sparsity.kernels import bench


@pytest.fixture(scope="module")
def tiny():
    return bench.run_benchmark(
        sizes=[(64, 256)], batches=[1, 8, 64], densities=[0.5, 0.1], repeats=3, ffn_repeats=2,
        first_result=False, verbose=False,
    )


def test_result_structure(tiny):
    assert [(r["batch"], r["density"]) for r in tiny["down"]] == [(b, d) for b in (1, 8, 64) for d in (0.5, 0.1)]
    for r in tiny["down"]:
        assert r["fraction_of_ideal"] == pytest.approx(r["speedup"] * r["union_density"])
        assert r["floor_ms"] == pytest.approx(r["union_density"] * r["dense_ms"])
        # union density of independent Bernoulli(rho) rows: 1-(1-rho)^B
        assert r["union_density_independent"] == pytest.approx(1 - (1 - r["density"]) ** r["batch"])
        assert 0 < r["union_density"] <= 1
        assert r["speedup_ci"][0] <= r["speedup"] <= r["speedup_ci"][1]
        assert r["auto_path"] in ("rows", "union", "dense") and sum(r["auto_paths"].values()) == 3
        assert r["project_method"] == ("auto" if r["batch"] == 1 else "union")
        # roofline fractions are the achieved rates over the same run's limits
        roof = tiny["roofline"]["64x256"]
        assert r["sparse_bandwidth_fraction"] == pytest.approx(r["sparse_GBps"] / roof["bandwidth_GBps"])
        assert r["dense_peak_fraction"] == pytest.approx(r["dense_GFlops"] / roof["peak_GFlops"])
        assert r["sparse_GFlops"] == pytest.approx(2 * r["density_measured"] * r["batch"] * 256 * 64 / r["sparse_ms"] / 1e6)
        assert set(r["ms"]) == {"dense", "dense_same", "project", "auto", "reference"}
        assert r["project_vs_reference"] is not None and r["ci_coverage"] == pytest.approx(0.75)
    fig = tiny["figures"][0]
    assert fig["kind"] == "speedup_vs_density"
    assert fig["data"]["density"] == [0.5, 0.1]
    assert fig["data"]["ideal"] == [2.0, 10.0]
    assert set(fig["data"]["speedup"]) == set(fig["data"]["roofline_bound"]) == {"1", "8", "64"}
    assert [(r["batch"], r["density"]) for r in tiny["ffn"]] == [(b, d) for d in (0.5, 0.1) for b in (1, 8, 64)]
    for f in tiny["ffn"]:
        assert f["ideal_no_predictor"] == pytest.approx(2 / (1 + f["density"]))
        assert 0 <= f["recall"] <= 1 and 0 <= f["precision"] <= 1 and 0 < f["up_density"] <= 1
    m = tiny["machine"]
    assert m["kernel_threads"] == 1 and m["numba_threads"] == 1
    assert all(b["num_threads"] == 1 for b in m["blas"])
    cross = tiny["summary"]["64x256"]["crossover"]
    assert set(cross) == {"1", "8", "64"} and all(0 < c["model"] <= 1 for c in cross.values())
    # the goals are defined at 4096 x 16384 only: none evaluated on tiny sizes
    assert tiny["check"]["evaluated"] and tiny["check"]["goals"] == []


def _row(**kw):
    row = {"d_model": 4096, "d_ff": 16384, "batch": 64, "density": 0.1, "speedup": 2.5, "auto_path": "union",
           "project_vs_reference": (1.5, 1.2, 1.8), "auto_vs_dense_same": (1.3, 1.1, 1.6)}
    row.update(kw)
    return row


def test_check_rule_on_synthetic_rows():
    ok = bench._evaluate_check([_row()], threads=1, reference_available=True)
    assert ok["passed"] and ok["failures"] == []
    # project's CI wholly below the reference: fails; an interval straddling 1 does not
    bad = bench._evaluate_check([_row(project_vs_reference=(0.8, 0.7, 0.95))], 1, True)
    assert not bad["passed"] and "wholly below 1" in bad["failures"][0]
    assert bench._evaluate_check([_row(project_vs_reference=(0.9, 0.7, 1.05))], 1, True)["passed"]
    # auto more than 5 % slower than dense beyond the noise: fails; within the noise: passes
    bad = bench._evaluate_check([_row(auto_vs_dense_same=(0.9, 0.85, 0.94))], 1, True)
    assert not bad["passed"] and "0.95" in bad["failures"][0]
    assert bench._evaluate_check([_row(auto_vs_dense_same=(0.9, 0.85, 0.96))], 1, True)["passed"]
    # no reference to compare with: the check cannot pass
    assert not bench._evaluate_check([_row()], 1, False)["passed"]
    # goals at the goal size, one thread: reported with met / not met, never failing the check
    res = bench._evaluate_check([_row(speedup=2.0), _row(batch=1, density=0.1, speedup=9.0)], 1, True)
    assert res["passed"]
    goals = {(g["batch"], g["density"]): g for g in res["goals"]}
    assert goals[(64, 0.1)]["goal"] == 2.2 and not goals[(64, 0.1)]["met"]
    assert goals[(1, 0.1)]["goal"] == pytest.approx(8.0) and goals[(1, 0.1)]["met"]
    assert bench._evaluate_check([_row()], 2, True)["goals"] == []  # goals are single-thread figures


def test_crossing_interpolation():
    rows = [
        {"d_model": 1, "d_ff": 1, "batch": 64, "density": d, "speedup": s}
        for d, s in [(0.5, 0.5), (0.2, 0.8), (0.1, 1.25), (0.05, 3.0)]
    ]
    be = bench._break_even(rows, 1, 1, 64)
    # log-linear crossing between (0.1, 1.25) and (0.2, 0.8): f = ln1.25/(ln1.25-ln0.8) = 0.5
    assert be == pytest.approx(np.exp(0.5 * (np.log(0.1) + np.log(0.2))))
    assert bench._crossing([(0.1, 2.0), (0.5, 1.5)]) == 0.5  # never crosses: the largest density
    assert bench._crossing([(0.1, 0.5), (0.5, 0.2)]) is None
    assert bench.goal_speedup(0.1) == pytest.approx(8.0)


def test_json_and_main_exit_status(tmp_path, monkeypatch):
    out = tmp_path / "b.json"
    res = bench.run_benchmark(
        sizes=[(32, 128)], batches=[1, 4], densities=[0.2], repeats=2, ffn=False, first_result=False,
        verbose=False, json_out=out, check=True,
    )
    data = json.loads(out.read_text())
    assert data["check"]["passed"] == res["check"]["passed"]
    assert [r["batch"] for r in data["down"]] == [1, 4]

    seen = {}

    def fake(passed):
        def run(**kw):
            seen.update(kw)
            return {"check": {"passed": passed, "failures": ["x"]}}

        return run

    monkeypatch.setattr(bench, "run_benchmark", fake(False))
    assert bench.main(["--quick", "--check"]) == 1
    assert bench.main(["--quick"]) == 0
    monkeypatch.setattr(bench, "run_benchmark", fake(True))
    assert bench.main(["--check", "--size", "64x256", "--batches", "1,8", "--densities", "0.5,0.1", "--repeats", "4", "--no-ffn"]) == 0
    assert seen["sizes"] == [(64, 256)] and seen["batches"] == [1, 8] and seen["densities"] == [0.5, 0.1]
    assert seen["repeats"] == 4 and seen["ffn"] is False and seen["clock"] == "cpu"
    assert bench.main(["--threads", "2"]) == 0 and seen["clock"] == "wall"


def test_bad_benchmark_arguments(capsys):
    with pytest.raises(ValueError, match=r"densities\[0\] must be a finite number > 0.0 and <= 1.0; got 1.5"):
        bench.run_benchmark(sizes=[(8, 32)], densities=[1.5], verbose=False)
    with pytest.raises(ValueError, match=r"repeats = 10\*\*12 means about"):
        bench.run_benchmark(sizes=[(8, 32)], batches=[1], densities=[0.5], repeats=10**12, verbose=False)
    with pytest.raises(ValueError, match="sizes, batches = .* needs about"):
        bench.run_benchmark(sizes=[(2**30, 2**30)], verbose=False)
    with pytest.raises(ValueError, match="json_out's directory"):
        bench.run_benchmark(sizes=[(8, 32)], json_out="/nonexistent/dir/out.json", verbose=False)
    with pytest.raises(ValueError, match="threads"):
        bench.run_benchmark(threads=0, verbose=False)
    with pytest.raises(ValueError, match="clock"):
        bench.run_benchmark(threads=2, clock="cpu", verbose=False)
    assert bench.main(["--densities", "0"]) == 2
    assert "densities" in capsys.readouterr().err
