"""Hypothesis draws of the bad values: a fixed, derandomized set per (spec, argument, category)."""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

__all__ = ["draw_spec", "cases_for", "EXAMPLES"]

#: Examples per category in the full (slow) run, by spec cost; the fast run draws one.
EXAMPLES = {"cheap": 3, "jax": 2, "heavy": 1}

_DRAWN: dict = {}


def draw_spec(spec, n: int) -> dict:
    """``{(arg, category): [Bad, ...]}``: up to ``n`` distinct draws per category of every argument.

    One derandomized Hypothesis run per spec draws a tuple holding one value of
    every (argument, category) strategy per example, so the draws are the same
    on every run and machine. The first example is Hypothesis' simplest value of
    each strategy (``-1`` for "negative", ``nan`` for "nan", ...), so the fast
    run (``n = 1``) tries the canonical bad value of each category.
    """
    key = (spec.name, n)
    if key in _DRAWN:
        return _DRAWN[key]
    slots = [(arg, cat, strat) for arg, cats in spec.categories().items() for cat, strat in cats.items()]
    out = {(arg, cat): [] for arg, cat, _ in slots}
    seen = {k: set() for k in out}
    if slots:

        @settings(max_examples=1 if n == 1 else 3 * n, derandomize=True, database=None, deadline=None,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck))
        @given(st.tuples(*(s for _, _, s in slots)))
        def collect(values):
            for (arg, cat, _), bad in zip(slots, values):
                k = (arg, cat)
                s = bad.short()
                if s not in seen[k] and len(out[k]) < n:
                    seen[k].add(s)
                    out[k].append(bad)

        collect()
    _DRAWN[key] = out
    return out


def cases_for(spec, n: int, *, skip=frozenset(), only=None):
    """``[(arg, Bad), ...]`` for ``spec``: ``n`` draws per category.

    ``skip``: ``(arg, category)`` pairs left out (the known-bad entries run in
    their own tests); ``only``: if given, just these pairs.
    """
    out = []
    for (arg, cat), bads in draw_spec(spec, n).items():
        if (arg, cat) in skip or (only is not None and (arg, cat) not in only):
            continue
        out.extend((arg, b) for b in bads)
    return out
