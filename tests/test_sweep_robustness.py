"""Sweeps under real use: functions from ``__main__``, concurrent sweeps on one store, malformed records,
killed parents and Ctrl-C.

The subprocess tests define their work function in the ``python -c`` script itself, i.e. in ``__main__``,
which a pool that pickles functions by reference cannot ship.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path

import pytest

from rmt_sparsity.experiments.store import CorruptRecordWarning, ResultStore, point_record
from rmt_sparsity.experiments.sweep import Sweep, _demo_square

# A work function defined in __main__ that logs each call (pid, x) to LOG, one line per call
# (O_APPEND writes of one short line are atomic), sleeps SLEEP seconds and returns x².
_PRELUDE = """
import json, os, sys, time
from rmt_sparsity.experiments.sweep import Sweep

LOG = {log!r}

def work(config, seed):
    with open(LOG, "a") as fh:
        fh.write(json.dumps({{"pid": os.getpid(), "x": config["x"]}}) + "\\n")
    time.sleep(config.get("sleep", 0.0))
    return {{"y": config["x"] ** 2}}
"""


def _script(log, body):
    return _PRELUDE.format(log=str(log)) + textwrap.dedent(body)


def _calls(log: Path):
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie left for init to reap counts as dead)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def _wait_for(cond, timeout=120.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_sweep_of_a_main_function_runs_on_the_default_local_pool(tmp_path):
    """`python -c`: the function lives in __main__ and reaches the workers by value."""
    log = tmp_path / "calls.log"
    code = _script(log, f"""
        res = Sweep(work, {{"x": [1, 2, 3]}}, seeds=[0], store={str(tmp_path / 'store')!r}, workers=2).run(progress=False)
        print(json.dumps([r["result"]["y"] for r in res.records]), res.computed)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[1,", "4,", "9]", "3"]
    assert {c["pid"] for c in _calls(log)} - {os.getpid()}  # computed in worker processes


def test_unshippable_function_says_why(tmp_path):
    lock = threading.Lock()

    def holds_a_lock(config, seed):
        with lock:
            return {"y": 1}

    with pytest.raises(TypeError, match=r"cannot be sent to worker processes.*lock.*executor='serial'"):
        Sweep(holds_a_lock, {"x": [1]}, seeds=[0], store=tmp_path, workers=1).run(progress=False)
    assert not (tmp_path / "records").exists()  # refused before any work
    # the same function runs in this process
    assert Sweep(holds_a_lock, {"x": [1]}, seeds=[0], store=tmp_path, executor="serial").run(progress=False).computed == 1


def test_malformed_record_is_reported_and_recomputed(tmp_path):
    sw = Sweep(_demo_square, {"x": [1, 2]}, seeds=[0], store=tmp_path, executor="serial")
    sw.run(progress=False)
    victim = sorted((tmp_path / "records").glob("*.json"))[0]
    victim.write_text(json.dumps({"key": victim.stem, "answer": 42}))  # valid JSON, wrong keys
    with pytest.warns(CorruptRecordWarning, match=r"malformed record .*missing field 'experiment'"):
        res = sw.run(progress=False)
    assert res.computed == 1 and res.reused == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(ResultStore(tmp_path)) == 2 and sorted(r["result"]["y"] for r in res.records) == [1, 4]


def test_record_under_another_key_is_malformed(tmp_path):
    store = ResultStore(tmp_path)
    store.put(point_record("a" * 24, "demo", {"x": 1}, 0, {"y": 1}, 0.1))
    (tmp_path / "records" / ("a" * 24 + ".json")).rename(tmp_path / "records" / ("b" * 24 + ".json"))
    with pytest.warns(CorruptRecordWarning, match="is not its file name's"):
        assert store.keys() == set()


def test_put_refuses_an_incomplete_record(tmp_path):
    with pytest.raises(ValueError, match="missing field 'config'"):
        ResultStore(tmp_path).put({"key": "k", "result": {}})


@pytest.mark.parametrize("executor", ["serial", "local"])
def test_two_concurrent_sweeps_compute_each_point_once(tmp_path, executor):
    """Two processes run the same sweep on one store at the same time: every point is computed exactly once."""
    log, store = tmp_path / "calls.log", tmp_path / "store"
    n = 8
    code = _script(log, f"""
        res = Sweep(work, {{"x": list(range({n})), "sleep": [0.3]}}, seeds=[0], store={str(store)!r},
                    executor={executor!r}, workers=1).run(progress=False)
        assert [r["result"]["y"] for r in res.records] == [x * x for x in range({n})]
        print(res.computed, res.reused)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e for _, e in outs]
    counts = [tuple(map(int, o.split())) for o, _ in outs]
    calls = _calls(log)
    assert sorted(c["x"] for c in calls) == list(range(n))  # each point computed once, by one of the two
    assert sum(c for c, _ in counts) == n and all(c + r == n for c, r in counts)
    assert len(list((store / "records").glob("*.json"))) == n


def _start_slow_sweep(tmp_path, workers=2, sleep=60.0):
    log = tmp_path / "calls.log"
    code = _script(log, f"""
        Sweep(work, {{"x": list(range(6)), "sleep": [{sleep}]}}, seeds=[0], store={str(tmp_path / 'store')!r},
              workers={workers}).run(progress=False)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: len(_calls(log)) >= workers or proc.poll() is not None, what="the workers to start")
    assert proc.poll() is None, proc.communicate()
    return proc, sorted({c["pid"] for c in _calls(log)})


def test_workers_die_with_a_killed_parent(tmp_path):
    proc, workers = _start_slow_sweep(tmp_path)
    assert workers and all(_alive(p) for p in workers)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    _wait_for(lambda: not any(_alive(p) for p in workers), timeout=10, what="the orphaned workers to exit")


def test_ctrl_c_stops_the_sweep_within_two_seconds(tmp_path):
    proc, workers = _start_slow_sweep(tmp_path)
    t0 = time.monotonic()
    os.kill(proc.pid, signal.SIGINT)
    proc.wait(timeout=30)
    elapsed = time.monotonic() - t0
    assert proc.returncode != 0 and "KeyboardInterrupt" in proc.stderr.read()
    assert elapsed < 2.0, f"Ctrl-C took {elapsed:.2f} s"
    _wait_for(lambda: not any(_alive(p) for p in workers), timeout=5, what="the workers to exit")


def test_killing_the_cli_leaves_no_orphans(tmp_path):
    """`rmt-sparsity sweep` killed with SIGKILL: its pool workers exit too."""
    spec = tmp_path / "spec.toml"
    spec.write_text(textwrap.dedent("""
        experiment = "concentration_vs_effective_ratio"
        seeds = [0, 1, 2, 3]
        store = "store"
        [grid]
        p = [256]
        batch = [64]
        steps = [1000000]
        lr = [0.1]
        weight_decay = [0.01]
    """))
    proc = subprocess.Popen([sys.executable, "-m", "rmt_sparsity.cli", "sweep", str(spec), "--workers", "2", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def children():
        out = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            if int(fields[1]) == proc.pid:
                out.append(int(stat.parent.name))
        return out

    _wait_for(lambda: len(children()) >= 2 or proc.poll() is not None, what="the CLI's workers to start")
    assert proc.poll() is None, proc.communicate()
    time.sleep(1.0)  # let the workers get their points
    workers = children()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    _wait_for(lambda: not any(_alive(p) for p in workers), timeout=10, what="the CLI's orphaned workers to exit")
