"""Choosing the estimator per valid-day class and scaling sigma from withheld observations."""

import numpy as np
import pytest

from sstfill.data.calibration import ChoiceRule, ClassRule, WithheldErrors
from sstfill.data.withhold import Withheld


def _month(rng, model_error, composite_error, *, size=96, nobs=3, sigma=0.1, reference_sd=0.0, shared=0.0):
    """(maps, sigma, Withheld, nobs) of a month with independent errors of the given sizes, and a
    shared covariance between the kept and withheld days' departures."""
    truth = rng.normal(290, 1, (size, size))
    reference = truth + rng.normal(0, reference_sd, truth.shape) if reference_sd else truth
    maps = {"model": truth + rng.normal(0, model_error, truth.shape),
            "composite": truth + rng.normal(0, composite_error, truth.shape)}
    withheld = Withheld(slots=np.empty(0), reference=reference, reference_var=np.full(truth.shape, reference_sd**2),
                        shared_var=np.full(truth.shape, shared))
    return maps, np.full(truth.shape, sigma), withheld, np.full(truth.shape, nobs)


def test_a_clearly_better_candidate_replaces_the_model_and_sigma_follows_its_error():
    rng = np.random.default_rng(0)
    errors = WithheldErrors(("model", "composite"))
    errors.add(*_month(rng, model_error=0.3, composite_error=0.05))
    rule = errors.rule().classes["1-4"]
    assert rule.choice == "composite" and not rule.pooled
    assert rule.sigma_scale == pytest.approx(0.5, abs=0.03)  # its 0.05 K errors, sigma 0.1
    assert rule.rmse == pytest.approx((0.3, 0.05), rel=0.05)


def test_a_candidate_better_only_by_chance_does_not_replace_the_model():
    rng = np.random.default_rng(1)
    errors = WithheldErrors(("model", "composite"))
    errors.add(*_month(rng, model_error=0.2, composite_error=0.199, reference_sd=0.5))
    assert errors.rule().classes["1-4"].choice == "model"


def test_the_withheld_means_own_error_is_removed_before_sigma_is_scaled():
    rng = np.random.default_rng(2)
    errors = WithheldErrors(("model", "composite"))
    errors.add(*_month(rng, model_error=0.2, composite_error=0.4, sigma=0.1, reference_sd=0.3))
    rule = errors.rule().classes["1-4"]
    assert rule.choice == "model"
    assert rule.sigma_scale == pytest.approx(2.0, rel=0.1), "the model's 0.2 K errors, not 0.36 K with the reference's"


def test_the_error_that_kept_and_withheld_days_share_is_added_back():
    rng = np.random.default_rng(7)
    errors = WithheldErrors(("model", "composite"))
    errors.add(*_month(rng, model_error=0.1, composite_error=0.4, sigma=0.1, shared=0.015))
    assert errors.rule().classes["1-4"].sigma_scale == pytest.approx(2.0, rel=0.05), "sqrt(0.01 + 2 * 0.015) / 0.1"


def test_the_model_sigma_is_never_scaled_down():
    rng = np.random.default_rng(3)
    errors = WithheldErrors(("model", "composite"))
    errors.add(*_month(rng, model_error=0.05, composite_error=0.4, sigma=0.2))
    assert errors.rule().classes["1-4"].sigma_scale == 1.0


def test_classes_with_few_pixels_take_the_pooled_rule():
    rng = np.random.default_rng(4)
    errors = WithheldErrors(("model", "composite"))
    maps, sigma, withheld, nobs = _month(rng, 0.3, 0.05)
    nobs[:5, :5] = 0  # 25 never-observed pixels only
    errors.add(maps, sigma, withheld, nobs)
    rule = errors.rule()
    assert rule.classes["0"].pooled and rule.classes["0"].pixels == 96 * 96
    assert not rule.classes["1-4"].pooled


def test_the_rule_applies_by_the_class_of_each_pixel():
    model = ClassRule("model", 1.5, 1000, (0.1, 0.2))
    composite = ClassRule("composite", 0.8, 1000, (0.2, 0.1))
    rule = ChoiceRule(("model", "composite"), {"0": model, "1-4": model, "5-9": composite, ">=10": composite})
    nobs = np.array([[0, 3, 7, 20]])
    maps = {"model": np.full((1, 4), 1.0), "composite": np.full((1, 4), 2.0)}
    sigma = np.array([[0.1, 0.1, 0.1, np.nan]])
    sst, scaled = rule.apply(maps, sigma, nobs)
    assert sst[0, :3].tolist() == [1.0, 1.0, 2.0] and np.isnan(sst[0, 3])
    assert np.allclose(scaled[0, :3], [0.15, 0.15, 0.08])
    assert rule.uses("composite") and not rule.uses("low_rank")
    assert "5-9 days: composite, sigma x0.80" in rule.describe()


def test_months_pooled_equal_months_added_together():
    """A rule fitted on months checked apart and pooled is the rule of the same months added to one record."""
    together = WithheldErrors(("model", "composite"))
    parts = []
    for seed in (3, 4, 5):
        month = _month(np.random.default_rng(seed), model_error=0.2, composite_error=0.25, reference_sd=0.1)
        together.add(*month)
        parts.append(WithheldErrors(("model", "composite")))
        parts[-1].add(*month)
    pooled = WithheldErrors.pooled(parts)
    assert pooled.pixels == together.pixels == 3 * 96 * 96
    assert pooled.rule() == together.rule()
    with pytest.raises(ValueError, match="different candidates"):
        WithheldErrors.pooled([parts[0], WithheldErrors(("model", "low_rank"))])


def test_a_months_rule_pools_it_and_its_neighbours():
    from sstfill.check import pooled_months

    assert list(pooled_months(0, 5)) == [0, 1]
    assert list(pooled_months(2, 5)) == [1, 2, 3]
    assert list(pooled_months(4, 5)) == [3, 4]
    assert list(pooled_months(0, 1)) == [0]
