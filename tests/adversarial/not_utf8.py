# -*- coding: latin-1 -*-
"""Hostile: valid Python in Latin-1 but not UTF-8 (the test re-encodes this é): exit 2."""


def ttl_cache(ttl, *, maxsize=None, clock=None):
    raise NotImplementedError("café")
