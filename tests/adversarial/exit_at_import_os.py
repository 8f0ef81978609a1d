"""Hostile: os._exit(0) at import: the process ends at once with status 0, no cleanup."""

import os

os._exit(0)


def ttl_cache(ttl, *, maxsize=None, clock=None):
    raise AssertionError("never reached")
