"""Training tiles from stores (sstfill.data.dataset): inputs, month splits, sampling, normalisation, flips."""

import numpy as np
import pytest

from sstfill.data.dataset import Normalisation, TileDataset, Window, pooled_normalisation, split_windows, window_inputs
from sstfill.io.store import Store


def fake_store(n_months=4, ny=40, nx=50, seed=0, **attrs):
    rng = np.random.default_rng(seed)
    daily = (290 + rng.normal(size=(n_months, 31, ny, nx))).astype(np.float32)
    daily[:, 5:] = np.where(rng.random((n_months, 26, ny, nx)) < 0.6, np.nan, daily[:, 5:])
    land = np.zeros((ny, nx), bool)
    land[:10, :10] = True
    padded = np.zeros((n_months, 31), bool)
    padded[1 % n_months, 28:] = True
    base = {"input_mean": 0.0, "input_std": 1.0, "input_count": 100,
            "target_mean": 0.0, "target_std": 0.5, "target_count": 10}
    baseline = np.where(land, np.nan, 290 + 0.01 * np.arange(nx)).astype(np.float32)[None].repeat(n_months, 0)
    return Store(path="mem", daily=daily, baseline=baseline,
                 target=np.where(land, np.nan, 290.5).astype(np.float32)[None].repeat(n_months, 0), padded=padded,
                 month_of_year=np.arange(n_months) % 12, year=np.full(n_months, 2021), land=land,
                 attrs={**base, **attrs})


def test_window_inputs_masks_gaps_land_and_padded_days():
    store = fake_store()
    norm = Normalisation(0.0, 2.0, 0.0, 1.0)
    out = window_inputs(store.daily[:2], store.baseline[:2], store.land, store.padded[:2], store.month_of_year[:2],
                        norm)
    assert out["x"].shape == (1, 62, 40, 50) and out["daily_mask"].shape == (1, 62, 40, 50)
    assert np.isfinite(out["x"]).all()
    assert out["daily_mask"][0, 31 + 28:31 + 31].all(), "padded February days are masked"
    assert out["daily_mask"][0, :, :10, :10].all(), "land is masked"
    valid = ~out["daily_mask"][0, 0]
    assert np.allclose(out["x"][0, 0][valid], (store.daily[0, 0] - store.baseline[0])[valid] / 2.0)
    ocean = ~store.land
    assert np.array_equal(out["baseline"][:, ocean], store.baseline[:2, ocean]), "the model sees the baseline itself"
    assert (out["baseline"][:, store.land] == 0).all(), "NaN on land becomes 0"


def test_split_by_month_never_mixes_training_and_validation_months():
    train, validation = split_windows([fake_store(n_months=8)], months_per_window=2, validation_fraction=0.25)
    train_months = {m for w in train for m in w.months}
    val_months = {m for w in validation for m in w.months}
    assert train_months == set(range(6)) and val_months == {6, 7} and not train_months & val_months
    assert all(len(w.months) == 2 for w in train)
    with pytest.raises(ValueError, match="too few"):
        split_windows([fake_store(n_months=1)], 1, 0.25)


def test_coarse_grids_are_drawn_more_often_by_the_square_root_of_their_spacing():
    fine, coarse = fake_store(grid_spacing_deg=0.05), fake_store(grid_spacing_deg=1.0)
    windows = [Window(0, (0,)), Window(0, (1,)), Window(1, (0,))]
    ds = TileDataset([fine, coarse], windows, 32, Normalisation(0.0, 1.0, 0.0, 0.5), random=True, samples=4000)
    drawn = np.bincount([ds._random_item(i)[0].store for i in range(4000)], minlength=2)
    # two fine windows of weight sqrt(0.05) against one coarse window of weight 1
    assert drawn[1] / drawn[0] == pytest.approx(1.0 / (2 * np.sqrt(0.05)), rel=0.1)
    same = TileDataset([fine, fine], windows, 32, Normalisation(0.0, 1.0, 0.0, 0.5), random=True, samples=10)
    np.testing.assert_allclose(same.window_p, 1 / 3)


def test_pooled_normalisation_matches_concatenation():
    a = fake_store(input_mean=1.0, input_std=2.0, input_count=100)
    b = fake_store(input_mean=3.0, input_std=1.0, input_count=300)
    norm = pooled_normalisation([a, b])
    rng = np.random.default_rng(0)
    xa = rng.normal(size=100)
    xa = (xa - xa.mean()) / xa.std() * 2 + 1
    xb = rng.normal(size=300)
    xb = (xb - xb.mean()) / xb.std() * 1 + 3
    both = np.concatenate([xa, xb])
    assert norm.input_mean == pytest.approx(both.mean()) and norm.input_std == pytest.approx(both.std())


def test_random_tiles_are_reproducible_and_flips_keep_pairs_aligned():
    store = fake_store()
    norm = Normalisation(0.0, 1.0, 0.0, 0.5)
    ds = TileDataset([store], [Window(0, (0,)), Window(0, (1,))], 32, norm, random=True, samples=6, seed=1)
    first = [ds[i] for i in range(6)]
    again = [ds[i] for i in range(6)]
    for a, b in zip(first, again, strict=True):
        assert all((a[k] == b[k]).all() for k in a)
    for item in first:
        assert item["x"].shape == (1, 31, 32, 32) and item["target"].shape == (1, 32, 32)
        land = item["land_mask"].numpy()
        assert not item["loss_mask"].numpy()[0][land].any(), "land never counts in the loss"
        assert item["daily_mask"].numpy()[0][:, land].all()
        assert (item["baseline"].numpy()[0][land] == 0).all() and (item["baseline"].numpy()[0][~land] > 0).all()
    validation = TileDataset([store], [Window(0, (3,))], 32, norm, random=False)
    assert len(validation) >= 4
