"""Error statistics of monthly maps (sstfill.data.scores): against numpy, by valid-day class, and calibration."""

import numpy as np
import pytest

from sstfill.data.scores import ErrorStats, MethodScore


def test_error_stats_against_numpy():
    rng = np.random.default_rng(0)
    error = rng.normal(0.1, 0.5, size=1000)
    stats = ErrorStats()
    stats.add(error[:400])
    stats.add(error[400:])
    out = stats.as_dict()
    assert out["rmse"] == pytest.approx(np.sqrt(np.mean(error**2)))
    assert out["mae"] == pytest.approx(np.mean(np.abs(error)))
    assert out["bias"] == pytest.approx(np.mean(error))


def test_calibration_and_nobs_classes():
    score = MethodScore()
    reference = np.zeros((2, 2))
    estimate = np.array([[0.5, 1.5], [2.5, np.nan]])
    score.add("2021-01", estimate, reference, nobs=np.array([[0, 3], [7, 12]]), sigma=np.ones((2, 2)))
    out = score.as_dict()
    assert out["coverage"] == pytest.approx(0.75)
    assert out["overall"]["within_1sigma"] == pytest.approx(1 / 3)
    assert out["overall"]["within_2sigma"] == pytest.approx(2 / 3)
    assert out["by_valid_days"]["0"]["n"] == 1 and out["by_valid_days"]["5-9"]["rmse"] == pytest.approx(2.5)
    assert out["fewer_than_5_days"]["n"] == 2
    assert out["fewer_than_5_days"]["rmse"] == pytest.approx(np.sqrt((0.25 + 2.25) / 2))
