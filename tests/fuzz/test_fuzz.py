"""Every exported callable, fuzzed: one bad argument at a time against a valid baseline.

The table of specs (``specs.py``) covers every callable in ``rmt_sparsity.__all__``
and in each subpackage's ``__all__``; a new export without a spec fails
:func:`test_every_export_has_a_spec`. For each spec argument Hypothesis draws
bad values of every category (``values.py``: NaN, inf, negative, zero,
``2**64``, wrong dtypes including float16/bfloat16, wrong ndim/shape, mismatched
shapes, None, wrong types, a ``RandomState`` or a JAX key for ``rng``, ...),
derandomized, so every run tries the same values. Each call runs in a worker
process (``engine.py``) under a time limit and a memory cap, and its outcome is
classified; the only accepted outcomes are a ``ValueError``/``TypeError`` from
rmt_sparsity naming the argument, or the documented scipy-style result (NaN,
the limit at ±inf, NaN propagation in the kernels).

* ``test_fuzz_fast``: the default ``pytest`` run -- the cheap (NumPy/Numba)
  specs, Hypothesis' first (simplest) draw of every category.
* ``test_fuzz_full`` (``-m slow``): every spec, several draws per category.
* ``test_known_bad``: the cases still handled badly in areas fixed in a later
  phase (``known_bad.py``), as strict xfails: fixing one makes its test fail
  until the entry is removed.

``python -m tests.fuzz.report`` prints the whole table (calls, classes, areas).
"""

from __future__ import annotations

import os
import tempfile

import pytest

from .cases import EXAMPLES, cases_for
from .engine import Runner
from .known_bad import KNOWN_BAD, LATER_AREAS, PENDING_SPECS, SLOW_ENTRIES, known_bad_pairs
from .specs import BY_NAME, SPECS, exported_callables

FAST = [s.name for s in SPECS if not s.exempt and s.cost == "cheap"]
ALL = [s.name for s in SPECS if not s.exempt]


@pytest.fixture(scope="module")
def runner():
    fd, log = tempfile.mkstemp(prefix="rmt-fuzz-", suffix=".log")
    os.close(fd)
    r = Runner(f"{__package__}.specs", log_path=log)
    yield r
    r.close()
    os.unlink(log)


def _covered(name: str) -> bool:
    return name in BY_NAME or any(s.startswith(name + "[") for s in BY_NAME)


def test_every_export_has_a_spec():
    exported = set(exported_callables())
    missing = sorted(n for n in exported if not _covered(n) and n not in PENDING_SPECS)
    assert not missing, f"exported callables without a fuzz spec (add them to tests/fuzz/specs_*.py): {missing}"
    stale = sorted(n for n in PENDING_SPECS if n not in exported or _covered(n))
    assert not stale, f"PENDING_SPECS entries that are specced or no longer exported (remove them): {stale}"


def test_specs_name_real_arguments(runner):
    problems = runner.evaluate("signature_problems")
    assert not problems, "specs whose arguments are not parameters of the callable:\n" + "\n".join(problems)


def test_known_bad_entries_are_well_formed():
    cats = {s.name: s.categories() for s in SPECS if not s.exempt}
    for spec, arg, category, cls in KNOWN_BAD:
        assert spec.split(".")[0].split("[")[0] in LATER_AREAS, f"{spec}: only later-phase areas may hold known-bad cases"
        assert spec in cats and arg in cats[spec] and category in cats[spec][arg], (spec, arg, category)
    assert len(set((s, a, c) for s, a, c, _ in KNOWN_BAD)) == len(KNOWN_BAD), "duplicate known-bad entries"
    assert SLOW_ENTRIES <= {(s, a, c) for s, a, c, _ in KNOWN_BAD}, "SLOW_ENTRIES must be known-bad entries"


def _check(runner, spec, n, *, only=None, skip=frozenset()):
    base = runner.run(spec.name, None, None, spec.timeout)
    assert base.cls == "ok", f"the spec's own baseline call failed: {base.detail}"
    bad = []
    for arg, value in cases_for(spec, n, only=only, skip=skip):
        out = runner.run(spec.name, arg, value, spec.timeout)
        if out.cls != "ok":
            bad.append(out.line()[:400])
    return bad


@pytest.mark.parametrize("name", FAST)
def test_fuzz_fast(runner, name):
    spec = BY_NAME[name]
    bad = _check(runner, spec, 1, skip=known_bad_pairs(name))
    assert not bad, f"{len(bad)} bad outcome(s):\n" + "\n".join(bad)


@pytest.mark.slow
@pytest.mark.parametrize("name", ALL)
def test_fuzz_full(runner, name):
    spec = BY_NAME[name]
    bad = _check(runner, spec, spec.examples or EXAMPLES[spec.cost], skip=known_bad_pairs(name))
    assert not bad, f"{len(bad)} bad outcome(s):\n" + "\n".join(bad)


def _known_bad_params():
    out = []
    for spec, arg, category, cls in KNOWN_BAD:
        marks = [pytest.mark.xfail(strict=True, reason=f"known bad ({cls}); fixed in a later phase")]
        if BY_NAME[spec].cost != "cheap" or (spec, arg, category) in SLOW_ENTRIES:
            marks.append(pytest.mark.slow)
        out.append(pytest.param(spec, arg, category, marks=marks, id=f"{spec}-{arg}-{category}"))
    return out


@pytest.mark.parametrize("spec_name, arg, category", _known_bad_params())
def test_known_bad(runner, spec_name, arg, category):
    spec = BY_NAME[spec_name]
    # the draws the list was made from (report.py's full run), so an entry stays bad until it is fixed
    bad = _check(runner, spec, spec.examples or EXAMPLES[spec.cost], only={(arg, category)})
    assert not bad, "\n".join(bad)
