"""Hostile: sys.exit(0) at import, hoping a grader reads exit status 0 as success."""

import sys

sys.exit(0)


def ttl_cache(ttl, *, maxsize=None, clock=None):
    raise AssertionError("never reached")
