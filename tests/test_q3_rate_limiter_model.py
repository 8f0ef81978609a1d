"""The trusted-side model of q3_rate_limiter's hidden suite (hidden/test_model.py), checked
on its own: refill, the cap, the highest-clock rule and the tolerance boundary."""

from __future__ import annotations

import importlib.util
from fractions import Fraction
from types import ModuleType

from tests.conftest import REPO


def _load() -> ModuleType:
    path = REPO / "challenges" / "q3_rate_limiter" / "hidden" / "test_model.py"
    spec = importlib.util.spec_from_file_location("q3_rate_limiter_model", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


model = _load()


def test_starts_full_and_refills_up_to_capacity():
    bucket = model.Model(rate=2.0, capacity=5.0, now=10.0)
    assert bucket.tokens == 5
    bucket.tokens -= 4
    bucket.refill(10.25)
    assert bucket.tokens == Fraction(3, 2)
    bucket.refill(100.0)
    assert bucket.tokens == 5


def test_the_highest_reading_rule():
    bucket = model.Model(rate=1.0, capacity=10.0, now=100.0)
    bucket.tokens = Fraction(2)
    bucket.refill(90.0)  # backwards: nothing added or removed
    assert bucket.tokens == 2 and bucket.high == 100
    bucket.refill(99.5)  # climbing back: nothing added
    assert bucket.tokens == 2
    bucket.refill(101.0)  # past the highest reading: 1 s of refill
    assert bucket.tokens == 3 and bucket.high == 101


def test_refill_is_exact_for_float_inputs():
    bucket = model.Model(rate=0.1, capacity=1.0, now=0.0)
    bucket.tokens = Fraction(0)
    bucket.refill(1 / 3)
    assert bucket.tokens == Fraction(0.1) * Fraction(1 / 3)


def test_must_grant_around_the_tolerance():
    bucket = model.Model(rate=1.0, capacity=2.0, now=0.0)
    bucket.tokens = Fraction(1) - Fraction(5, 10**7)  # 0.5e-6 missing: granted
    assert bucket.must_grant(Fraction(1)) is True
    bucket.tokens = Fraction(1) - Fraction(2, 10**6)  # 2e-6 missing: refused
    assert bucket.must_grant(Fraction(1)) is False
    bucket.tokens = Fraction(1) - model.TOLERANCE  # exactly at the boundary: either
    assert bucket.must_grant(Fraction(1)) is None


def test_amount_of_the_default_request_is_one():
    assert model.amount_of("default") == 1
    assert model.amount_of(0.25) == Fraction(1, 4)
