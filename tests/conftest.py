"""Shared fixtures: small realistic inputs from sstfill's own seeded generator, and a tiny model."""

import pytest

from sstfill.testing import make_grid, synthetic_sst, write_netcdf


@pytest.fixture(scope="session")
def small_region(tmp_path_factory):
    """Four months of daily gappy SST and their monthly truth, 48 x 64 pixels at 0.25 degree off Newfoundland."""
    root = tmp_path_factory.mktemp("small_region")
    lat, lon = make_grid(40.0, 52.0, -60.0, -44.0, 0.25)
    daily, truth = synthetic_sst(lat, lon, start="2021-01-01", n_months=4, seed=3, cloud_cover=0.6)
    return write_netcdf(daily, root / "daily.nc"), write_netcdf(truth, root / "truth.nc")


@pytest.fixture(scope="session")
def store(small_region, tmp_path_factory):
    """A supervised training store of small_region (tests must not change it: copy it first)."""
    from sstfill.prepare import prepare

    daily, truth = small_region
    return prepare([daily], [truth], tmp_path_factory.mktemp("store") / "store.nc")


@pytest.fixture(scope="session")
def tiny_model(store, tmp_path_factory):
    """A model file trained for one tiny epoch on small_region (tiles of 32): fast, not accurate.

    Tests that reconstruct use it instead of the bundled default model, so they do not
    depend on that file or on its training.
    """
    from sstfill.config import ModelConfig, TrainConfig
    from sstfill.train import train

    root = tmp_path_factory.mktemp("tiny_model")
    config = TrainConfig(epochs=1, samples_per_epoch=4, batch_size=4, tile_size=32)
    train([store], root / "tiny.pt", config=config, model_config=ModelConfig(embed_dim=16, hidden=16, depth=1),
          device="cpu")
    return root / "tiny.pt"
