"""Sweeps: grid expansion, stable hashing, resume after SIGKILL, Dask equals local."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rmt_sparsity.experiments.store import CorruptRecordWarning, ResultStore, canonical_json, expand_grid, point_key
from rmt_sparsity.experiments.sweep import Sweep, _demo_random, _demo_square

_json_scalars = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
                          st.text(max_size=5), st.booleans(), st.none())


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=5), _json_scalars, max_size=6), st.integers(0, 2**31))
def test_hash_independent_of_dict_order(config, seed):
    reordered = dict(reversed(list(config.items())))
    assert point_key(config, seed) == point_key(reordered, seed)


def test_hash_stable_across_processes():
    cfg = {"b": 0.1, "a": [1, 2.5e-300], "c": "x"}
    code = ("from rmt_sparsity.experiments.store import point_key; "
            f"print(point_key({cfg!r}, 7, 'exp'))")
    env = dict(os.environ, PYTHONHASHSEED="123")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout.strip()
    assert other == point_key(cfg, 7, "exp")


def test_expand_grid_and_bad_grids():
    assert len(expand_grid({"a": [1, 2, 3], "b": [0, 1]})) == 6
    assert expand_grid([{"a": 1}, {"a": 2}]) == [{"a": 1}, {"a": 2}]
    with pytest.raises(ValueError, match="grid must not be empty"):
        expand_grid({})
    with pytest.raises(ValueError, match="grid must not be empty"):
        expand_grid([])
    with pytest.raises(ValueError, match=r"grid\['a'\] must not be empty"):
        expand_grid({"a": []})
    with pytest.raises(TypeError, match="not JSON-serialisable"):
        expand_grid({"a": [object()]})
    with pytest.raises(TypeError, match="must be finite"):
        canonical_json({"a": float("nan")})


def test_bad_input_leaves_store_untouched(tmp_path):
    store = tmp_path / "store"
    with pytest.raises(TypeError):
        Sweep(_demo_square, {"x": [set()]}, seeds=[0], store=store)
    with pytest.raises(ValueError):
        Sweep(_demo_square, {}, seeds=[0], store=store)
    with pytest.raises(ValueError, match="seeds"):
        Sweep(_demo_square, {"x": [1]}, seeds=[], store=store)
    assert not store.exists()


def test_serial_run_and_reuse(tmp_path):
    sw = Sweep(_demo_square, {"x": [1, 2, 3]}, seeds=[0, 1], store=tmp_path, executor="serial")
    first = sw.run(progress=False)
    assert first.computed == 6 and first.reused == 0
    assert [r["result"]["y"] for r in first.records] == [1, 1, 4, 4, 9, 9]
    rec = first.records[0]
    assert {"config", "seed", "result", "versions", "host", "duration_s"} <= set(rec)
    again = sw.run(progress=False)
    assert again.computed == 0 and again.reused == 6 and again.records == first.records


def test_corrupt_record_is_reported_and_recomputed(tmp_path):
    sw = Sweep(_demo_square, {"x": [1, 2]}, seeds=[0], store=tmp_path, executor="serial")
    sw.run(progress=False)
    victim = sorted((tmp_path / "records").glob("*.json"))[0]
    victim.write_text('{"key": "torn')  # a torn file, e.g. written by a foreign tool
    with pytest.warns(CorruptRecordWarning, match="unreadable record"):
        res = sw.run(progress=False)
    assert res.computed == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(ResultStore(tmp_path)) == 2


def test_local_process_pool_matches_serial(tmp_path):
    grid = {"x": [1, 2, 3], "n": [50]}
    serial = Sweep(_demo_random, grid, seeds=[0, 1], store=tmp_path / "s", executor="serial").run(progress=False)
    pooled = Sweep(_demo_random, grid, seeds=[0, 1], store=tmp_path / "p", executor="local", workers=2).run(progress=False)
    assert [r["result"] for r in serial.records] == [r["result"] for r in pooled.records]


def test_sigkill_then_resume(tmp_path):
    """Kill a sweep midway with SIGKILL; the rerun computes only the missing points."""
    store = tmp_path / "store"
    script = textwrap.dedent(f"""
        from rmt_sparsity.experiments.sweep import Sweep, _demo_random
        Sweep(_demo_random, {{"x": list(range(8)), "sleep": [0.3]}}, seeds=[0], store={str(store)!r},
              executor="serial").run(progress=False)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done = len(list((store / "records").glob("*.json"))) if (store / "records").exists() else 0
        if done >= 3:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = {p.name for p in (store / "records").glob("*.json")}
    assert 3 <= len(done_before) < 8
    sw = Sweep(_demo_random, {"x": list(range(8)), "sleep": [0.3]}, seeds=[0], store=store, executor="serial")
    assert len(sw.missing()) == 8 - len(done_before)
    res = sw.run(progress=False)
    assert res.computed == 8 - len(done_before)
    files = list((store / "records").glob("*.json"))
    assert len(files) == 8 and len({json.loads(f.read_text())["key"] for f in files}) == 8


def test_dask_equals_local(tmp_path):
    pytest.importorskip("distributed")
    from rmt_sparsity.experiments.executors import dask_executor

    grid = {"x": [1, 2, 3], "n": [64]}
    local = Sweep(_demo_random, grid, seeds=[0, 5], store=tmp_path / "l", executor="serial").run(progress=False)
    with dask_executor(workers=2) as ex:
        dask = Sweep(_demo_random, grid, seeds=[0, 5], store=tmp_path / "d", executor=ex).run(progress=False)
    assert [r["result"] for r in local.records] == [r["result"] for r in dask.records]


def test_unreachable_scheduler():
    pytest.importorskip("distributed")
    from rmt_sparsity.experiments.executors import dask_executor

    with pytest.raises(ConnectionError, match="cannot reach Dask scheduler 'tcp://127.0.0.1:9'"):
        with dask_executor("tcp://127.0.0.1:9", timeout="2s"):
            pass


def test_sweep_vectorises_ensemble_experiments(tmp_path):
    """Sweep hands an EnsembleExperiment to the ensemble runner: same keys, one record per point."""
    pytest.importorskip("jax")
    from rmt_sparsity.experiments.ensemble_sweep import EXAMPLE

    grid = {"sigma": [0.0, 0.1], "steps": [20], "width": [8]}
    res = Sweep(EXAMPLE, grid, seeds=[0, 1], store=tmp_path).run(progress=False)
    assert res.computed == 4 and len(list((tmp_path / "records").glob("*.json"))) == 4
    assert all(r["experiment"] == EXAMPLE.name and "ensemble" in r for r in res.records)
    again = Sweep(EXAMPLE, grid, seeds=[0, 1], store=tmp_path, executor="serial").run(progress=False)
    assert again.computed == 0 and again.records == res.records
