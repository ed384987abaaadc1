"""Known bad: cases still handled badly, in areas whose boundaries a later phase hardens.

Each entry is ``(spec, argument, category, class)`` as ``report.py --known-bad``
prints it. ``test_fuzz.py`` runs each entry as a *strict* xfail: when the
boundary is fixed the entry's test passes, which fails the suite until the
entry is removed from this list. Entries are allowed only for ``LATER_AREAS``;
every other area must have none.
"""

from __future__ import annotations

#: Areas being rewritten in parallel; their bad cases are this list (phase B's work list).
LATER_AREAS = ("nn", "flatness", "metrics", "spectra", "experiments", "report", "cli")

KNOWN_BAD: list[tuple[str, str, str, str]] = [
]


def known_bad_pairs(spec: str) -> frozenset:
    """The ``(argument, category)`` pairs of ``spec`` on the list."""
    return frozenset((a, c) for s, a, c, _ in KNOWN_BAD if s == spec)
