"""The ``verify`` report: tables, figures (matplotlib) and the Markdown/HTML writer.

This subpackage only renders: it never computes a prediction or a measurement.
"""

from .writer import write_report

__all__ = ["write_report"]
