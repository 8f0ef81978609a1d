"""The statistics behind performance verdicts: pure functions, synthetic data."""

import numpy as np
import pytest

from graders.performance import (
    bootstrap_interval,
    compared_figure,
    compared_figures,
    host_factor,
    verdict,
)


def test_verdict_needs_the_whole_interval_on_one_side():
    assert verdict((1.0, 1.9), 2.0) == "pass"
    assert verdict((2.1, 3.0), 2.0) == "fail"
    assert verdict((1.5, 2.5), 2.0) == "inconclusive"


def test_paired_ratio_cancels_a_shared_drift():
    # The machine slows down 3x halfway: each round's pair slows together.
    drift = np.array([1.0] * 10 + [3.0] * 10)
    reference = 0.010 * drift
    submission = 0.015 * drift
    assert compared_figure("median", submission, reference) == pytest.approx(1.5)
    assert compared_figure("p95", submission, reference) == pytest.approx(1.5)


def test_bootstrap_interval_is_reproducible_and_brackets_the_ratio():
    rng = np.random.default_rng(1)
    reference = 0.01 * (1 + 0.05 * rng.standard_normal(30))
    submission = 0.02 * (1 + 0.05 * rng.standard_normal(30))

    def figure(idx):
        return compared_figures("median", submission[idx], reference[idx])

    first = bootstrap_interval(figure, 30, 0.95, seed=7)
    assert first == bootstrap_interval(figure, 30, 0.95, seed=7)
    assert first[0] < 2.0 < first[1]
    assert first[1] - first[0] < 0.3


@pytest.mark.parametrize("statistic", ["median", "mean", "p95"])
def test_a_stack_of_resamples_gives_each_row_its_own_figure(statistic):
    rng = np.random.default_rng(4)
    submission, reference = rng.random(12) + 0.5, rng.random(12) + 0.5
    rows = rng.integers(0, 12, (5, 12))
    stacked = compared_figures(statistic, submission[rows], reference[rows])
    assert stacked.shape == (5,)
    for row, figure in zip(rows, stacked, strict=True):
        assert figure == pytest.approx(compared_figure(statistic, submission[row],
                                                       reference[row]))


def test_noisier_data_gives_a_wider_interval():
    rng = np.random.default_rng(2)
    base = rng.standard_normal(30)
    widths = []
    for noise in (0.01, 0.3):
        reference = 0.01 * np.ones(30)
        submission = 0.01 * (1.0 + noise * np.abs(base))

        def figure(idx, s=submission, r=reference):
            return compared_figures("median", s[idx], r[idx])

        low, high = bootstrap_interval(figure, 30, 0.95, seed=3)
        widths.append(high - low)
    assert widths[0] < widths[1]


def test_host_factor():
    from graders.performance import CALIBRATION_REFERENCE_S

    assert host_factor(CALIBRATION_REFERENCE_S * 2) == pytest.approx(2.0)
