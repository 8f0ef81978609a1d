"""Hostile: a submission over the 256 KiB size cap (the test pads this file past it): exit 2.

The padding is a comment, so the file is still valid Python; only its size is wrong.
"""


def ttl_cache(ttl, *, maxsize=None, clock=None):
    raise NotImplementedError
