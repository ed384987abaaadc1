"""When to show progress bars: in terminals and in Jupyter, never in CI logs.

Long work (training, sweeps, ``verify``, ``analyze``) draws its bars with
``tqdm.auto``, which renders as a widget in Jupyter and as text in a terminal.
:func:`show_progress` decides whether to draw one at all (docs/design.md §3,
"Long work"):

* an explicit ``True``/``False`` (``progress=``, or ``--quiet`` on the command line) wins;
* otherwise bars are on in a Jupyter kernel and on an interactive terminal (stderr is a TTY),
  and off when the ``CI`` environment variable is set (CI services set it) or stderr is a
  plain file or pipe, so logs stay free of carriage-return noise.

Examples
--------
>>> show_progress(False), show_progress(True)
(False, True)
>>> import os
>>> old = os.environ.get("CI")
>>> os.environ["CI"] = "true"
>>> show_progress(None)
False
>>> _ = os.environ.pop("CI") if old is None else os.environ.__setitem__("CI", old)
"""

from __future__ import annotations

import os
import sys

__all__ = ["show_progress", "in_notebook"]

_FALSE = ("", "0", "false", "no", "off")


def in_notebook() -> bool:
    """Whether this process is a Jupyter (IPython) kernel.

    Only looks at modules already imported, so it never imports IPython itself.
    """
    if "ipykernel" not in sys.modules or "IPython" not in sys.modules:
        return False
    try:
        shell = sys.modules["IPython"].get_ipython()
    except Exception:  # pragma: no cover - an unusual IPython
        return False
    return shell is not None and getattr(shell, "kernel", None) is not None


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in _FALSE


def show_progress(progress: bool | None = None) -> bool:
    """Whether to draw a progress bar: ``progress`` when given, else the automatic choice above.

    Parameters
    ----------
    progress : bool or None
        ``True``/``False`` forces the bar on/off; ``None`` chooses automatically.
    """
    if progress is not None:
        if not isinstance(progress, bool):
            raise TypeError(f"progress must be None or a bool; got {progress!r}")
        return progress
    if _in_ci():
        return False
    if in_notebook():
        return True
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):  # a replaced or closed stderr
        return False
