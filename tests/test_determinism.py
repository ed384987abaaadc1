"""Same seed => bit-identical results, across processes and thread counts (timings excepted).

Claims run in fresh processes (smoke profile) under ``NUMBA_NUM_THREADS=1`` with
the kernels' default ``threads=1``, and under ``NUMBA_NUM_THREADS=2`` with
``threads=2``; every field of every record except ``timings`` must be equal
bit for bit (compared as the exact JSON the report writes: floats by their
``repr``). The sparse kernels are also compared directly at ``threads=1`` and
``threads=2``, on every down-projection path and on the masked up-projection.

The one exception is the performance claim ``sparse_ffn_savings``: its
measurement *is* a timing (a speed-up, with its SE, milliseconds and GB/s),
and its verdict is a comparison of that timing with the goal, so both vary run
to run. Those fields are listed in :data:`TIMING_FIELDS` and left out; the
rest of its record (prediction, densities, sizes, the repeat count,
provenance) must still match. Its measurement sits under ``measurement``
rather than ``timings`` because it is the claim's measured quantity.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

#: Claims with Numba (prange) sampling, kernels and the noise simulator; seconds each at smoke size.
CLAIMS = ("tw_largest_eigenvalue", "mp_esd_matches_wishart", "sparse_ffn_savings")
MORE_CLAIMS = ("mp_extreme_ratio", "weighted_mp_discounted_covariance", "gaussian_concentration_band",
               "info_plus_noise_concentration", "random_layers_read_random")

#: Fields that are timings although they are not under ``timings`` (see the module docstring).
TIMING_FIELDS = {
    "sparse_ffn_savings": (
        ("measurement", "value"),  # fraction of ideal = measured speed-up x density
        ("measurement", "se"),  # SE of the measured speed-up
        ("measurement", "details", "speedup"),
        ("measurement", "details", "speedup_se"),
        ("measurement", "details", "dense_ms"),
        ("measurement", "details", "sparse_ms"),
        ("measurement", "details", "dense_GBps"),
        ("measurement", "details", "sparse_GBps"),
        ("measurement", "details", "loadavg_before"),  # the machine's load, not a result
        ("measurement", "details", "loadavg_after"),
        ("measurement", "details", "batch1_speedups"),
        ("measurement", "figures"),  # the speed-up curves
        ("verdict",),  # the timing compared with the goal
        ("rivals",),  # the "no savings" rival is judged on the same timed speed-up
        ("theory_verdict",),  # the theory's own verdict on the timing, before the rivals are combined
    ),
}

_SCRIPT = r"""
import json, sys
from rmt_sparsity.experiments import run_claim
from rmt_sparsity.kernels import set_kernel_threads
set_kernel_threads(int(sys.argv[1]))
json.dump([run_claim(c, profile="smoke", seed=0).to_json() for c in sys.argv[2:]], sys.stdout)
"""


def _start(threads: int, claims) -> subprocess.Popen:
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, "-c", _SCRIPT, str(threads), *claims], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _strip(record: dict) -> dict:
    rec = json.loads(json.dumps(record))
    rec.pop("timings")
    for path in TIMING_FIELDS.get(rec["id"], ()):
        node = rec
        for key in path[:-1]:
            node = node.get(key) or {}
        node.pop(path[-1], None)
    return rec


def _diff(a, b, path=""):
    """Paths where two JSON trees differ (exact equality: floats compare by value, NaN as the string 'nan')."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}.{k}: only in one run" for k in set(a) ^ set(b)]
        for k in sorted(set(a) & set(b)):
            out += _diff(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _diff(x, y, f"{path}[{i}]")]
    return [] if a == b and type(a) is type(b) else [f"{path}: {a!r} != {b!r}"]


def _run_and_compare(claims):
    procs = [_start(1, claims), _start(2, claims)]  # concurrently: two processes on two cores
    outs = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=900)
        assert p.returncode == 0, stderr[-2000:]
        outs.append(json.loads(stdout))
    one, two = outs
    assert [r["id"] for r in one] == list(claims)
    for r1, r2 in zip(one, two):
        assert r1["error"] is None, r1["error"]
        diffs = _diff(_strip(r1), _strip(r2), r1["id"])
        assert not diffs, "differs between NUMBA_NUM_THREADS/threads 1 and 2:\n" + "\n".join(diffs[:20])


def test_claims_identical_across_processes_and_threads():
    _run_and_compare(CLAIMS)


@pytest.mark.slow
def test_more_claims_identical_across_processes_and_threads():
    _run_and_compare(MORE_CLAIMS)


def test_timing_fields_are_the_only_exclusions():
    """The exclusion list is not a blanket: a record keeps every other field, and only listed claims lose any."""
    rec = {"id": "sparse_ffn_savings", "timings": {"measure_s": 1.0}, "prediction": {"value": 1.0},
           "measurement": {"value": 0.9, "se": 0.1, "n": 9, "details": {"speedup": 9.0, "density": 0.1}},
           "verdict": {"status": "pass"}, "provenance": {"seed": 0}}
    assert _strip(rec) == {"id": "sparse_ffn_savings", "prediction": {"value": 1.0},
                           "measurement": {"n": 9, "details": {"density": 0.1}}, "provenance": {"seed": 0}}
    other = dict(rec, id="mp_esd_matches_wishart")
    assert _strip(other)["measurement"]["value"] == 0.9 and "verdict" in _strip(other)
    assert _diff({"a": [1.0, 2.0]}, {"a": [1.0, 2.0000000000000004]}) == [".a[1]: 2.0 != 2.0000000000000004"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_bit_identical_across_threads(dtype):
    from rmt_sparsity.kernels import sparse_down, sparse_ffn, sparse_up

    rng = np.random.default_rng(7)
    d_model, d_ff = 48, 256
    w_in = rng.standard_normal((d_ff, d_model)).astype(dtype)
    w_out_t = rng.standard_normal((d_ff, d_model)).astype(dtype)
    x = rng.standard_normal((16, d_model)).astype(dtype)
    h = np.where(rng.random((16, d_ff)) < 0.1, rng.random((16, d_ff)), 0).astype(dtype)
    idx = np.flatnonzero(rng.random(d_ff) < 0.3)
    mask = rng.random((16, idx.size)) < 0.5
    for method in ("rows", "union", "dense", "auto"):
        a, b = (sparse_down(h, w_out_t, method=method, threads=t) for t in (1, 2))
        assert a.tobytes() == b.tobytes(), method
    a, b = (sparse_up(x, w_in, idx, mask=mask, threads=t) for t in (1, 2))
    assert a.tobytes() == b.tobytes()
    for kw in ({}, {"topk": 20}, {"threshold": 0.5}):
        a, b = (sparse_ffn(x, w_in, None, w_out_t, "relu", threads=t, **kw) for t in (1, 2))
        assert a.tobytes() == b.tobytes(), kw
