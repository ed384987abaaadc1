"""Shared test configuration.

Hypothesis runs derandomized by default, so CI and every developer see the same examples
(a failure is reproducible from the commit alone). Explore new examples locally with
``pytest --hypothesis-profile=explore``.
"""

from hypothesis import settings

settings.register_profile("default", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", derandomize=False, deadline=None, max_examples=500, print_blob=True)
settings.load_profile("default")
