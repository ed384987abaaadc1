"""Known bad: cases still handled badly, listed so that the suite stays green while a boundary is being fixed.

The list is empty: every exported callable handles every bad-value category of
its spec. The mechanism stays for work in progress. Each entry is ``(spec,
argument, category, class)`` as ``report.py --known-bad`` prints it;
``test_fuzz.py`` runs each entry as a *strict* xfail, so when the boundary is
fixed the entry's test passes, which fails the suite until the entry is removed.
Entries are allowed only for ``LATER_AREAS`` (none now); every other area must
have none.
"""

from __future__ import annotations

#: Areas whose bad cases may sit on this list while their boundaries are being rewritten (none now).
LATER_AREAS: tuple[str, ...] = ()

#: Exports without a spec yet (none now): they are not fuzzed. ``test_every_export_has_a_spec`` fails for
#: any *other* export without a spec, and when a name here gains a spec or stops being exported.
PENDING_SPECS: frozenset = frozenset()

KNOWN_BAD: list[tuple[str, str, str, str]] = []


#: Entries of cheap specs that take long even so (measured > 5 s in the default run): run only with ``-m slow``.
SLOW_ENTRIES: frozenset = frozenset()


def known_bad_pairs(spec: str) -> frozenset:
    """The ``(argument, category)`` pairs of ``spec`` on the list."""
    return frozenset((a, c) for s, a, c, _ in KNOWN_BAD if s == spec)
