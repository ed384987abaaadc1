"""What the subcommands share: the one :class:`UsageError`, progress and executor choice."""

from __future__ import annotations

import contextlib
import sys

__all__ = ["UsageError", "progress_enabled", "executor_context"]


class UsageError(Exception):
    """A user error (bad option, unknown claim, unreadable input): printed as one line, exit status 2."""


def progress_enabled(args) -> bool:
    """Progress bars only on an interactive terminal, and never with ``--quiet``."""
    return not args.quiet and sys.stderr.isatty()


def executor_context(kind: str, scheduler: str | None, *, local=None, **dask_kw):
    """A context manager yielding the executor for ``--executor``.

    ``local()`` makes the context used for ``--executor local`` (default: run
    in-process, yielding ``None``); ``--executor dask`` gives
    :func:`~rmt_sparsity.experiments.executors.dask_executor` of ``scheduler``
    with ``dask_kw``. ``--scheduler`` without ``--executor dask`` is a usage error.
    """
    if kind == "local":
        if scheduler:
            raise UsageError("--scheduler is only valid with --executor dask")
        return contextlib.nullcontext(None) if local is None else local()
    from ..experiments.executors import dask_executor

    return dask_executor(scheduler, **dask_kw)
