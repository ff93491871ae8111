import logging
import re

from sstfill.config import ModelConfig, TrainConfig
from sstfill.train import throughput, train


def test_throughput_counts_tiles_and_pixel_days_per_second():
    # 512 tiles of 64 x 64 over 31 days in 2 s: 256 tiles/s, 256 * 4096 * 31 pixel-days/s
    assert throughput(512, 2.0, 64, 31) == "256.0 tiles/s, 32.51 M pixel-days/s"


def test_each_epoch_line_gives_the_training_throughput(small_region, tmp_path, caplog):
    from sstfill.prepare import prepare

    daily, truth = small_region
    store = prepare([daily], [truth], tmp_path / "store.nc")
    config = TrainConfig(epochs=2, samples_per_epoch=4, batch_size=4, tile_size=32)
    with caplog.at_level(logging.INFO, logger="sstfill.train"):
        train([store], tmp_path / "m.pt", config=config, model_config=ModelConfig(embed_dim=16, hidden=16, depth=1),
              device="cpu")
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("epoch ")]
    assert len(lines) == 2
    for line in lines:
        found = re.search(r"RMSE \S+ K, (\S+) tiles/s, (\S+) M pixel-days/s", line)
        assert found, line
        tiles_per_s, pixel_days = float(found[1]), float(found[2])
        assert tiles_per_s > 0
        assert abs(pixel_days - tiles_per_s * 32 * 32 * 31 / 1e6) <= 0.01 + 1e-3 * pixel_days
