from sstfill.config import TrainConfig
from sstfill.train import stop_early


def test_early_stopping_waits_for_the_second_half_of_the_schedule():
    config = TrainConfig(epochs=60, patience=10)
    assert not stop_early(23, 13, config)  # ten epochs without improvement, but still in the first half
    assert not stop_early(31, 22, config)
    assert stop_early(31, 21, config)
    assert stop_early(60, 50, config)
