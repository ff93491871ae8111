import pytest
import torch

from sstfill.config import TrainConfig
from sstfill.errors import InputError
from sstfill.train import _loss_weight, stop_early


def test_early_stopping_waits_for_the_second_half_of_the_schedule():
    config = TrainConfig(epochs=60, patience=10)
    assert not stop_early(23, 13, config)  # ten epochs without improvement, but still in the first half
    assert not stop_early(31, 22, config)
    assert stop_early(31, 21, config)
    assert stop_early(60, 50, config)


def test_pixels_seen_on_fewer_than_5_days_weigh_more_in_the_loss():
    days = 31
    missing = torch.ones(1, 1, 2 * days, 1, 4, dtype=torch.bool)  # two months, four pixels
    for pixel, seen in enumerate((0, 4, 5, 12)):
        missing[0, 0, :seen, 0, pixel] = False  # month 1
        missing[0, 0, days:days + 20, 0, pixel] = False  # month 2: every pixel well seen
    loss_mask = torch.ones(1, 2, 1, 4, dtype=torch.bool)
    loss_mask[0, 1, 0, 3] = False  # land or no target
    weight = _loss_weight({"loss_mask": loss_mask, "daily_mask": missing}, 3.0)
    assert weight[0, 0, 0].tolist() == [3.0, 3.0, 1.0, 1.0]
    assert weight[0, 1, 0].tolist() == [1.0, 1.0, 1.0, 0.0]
    with pytest.raises(InputError, match="positive few_days_weight"):
        TrainConfig(few_days_weight=0.0)
