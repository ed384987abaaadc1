"""The fuzz suite: every exported callable called with one bad argument at a time (see test_fuzz.py)."""
