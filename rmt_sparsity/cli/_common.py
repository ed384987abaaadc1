"""What the subcommands share: the one :class:`UsageError`, progress and executor choice."""

from __future__ import annotations

import contextlib

__all__ = ["UsageError", "progress_enabled", "executor_context"]


class UsageError(Exception):
    """A user error (bad option, unknown claim, unreadable input): printed as one line, exit status 2."""


def progress_enabled(args) -> bool:
    """Progress bars in a terminal (and in Jupyter), never in CI logs and never with ``--quiet``."""
    from .._progress import show_progress

    return False if args.quiet else show_progress(None)


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
