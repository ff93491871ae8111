"""Test-time adaptation (sstfill.adapt): never modifies the starting model, never returns a worse one."""

import copy

import numpy as np
import pytest
import torch

from sstfill import adapt
from sstfill.adapt import (
    _batch,
    _Examples,
    _split,
    _validation_rmse,
    adapt_model,
    loss_weights,
    validation_blocks,
    withheld_mean,
)
from sstfill.checkpoint import load_model
from sstfill.data.months import group_months
from sstfill.data.predict import read_month
from sstfill.io.land import resolve_land
from sstfill.io.read import open_daily

CPU = torch.device("cpu")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """These tiles are tiny: one thread is faster than several competing for busy cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def inputs(small_region, tiny_model):
    """(loaded tiny model, months, full MonthFields, land, sigma_px) of small_region, as reconstruct loads them."""
    daily = open_daily(small_region[0])
    loaded = load_model(tiny_model, CPU)
    months = group_months(daily.sst["time"])
    land, _ = resolve_land(daily)
    fields = [read_month(daily, m, ~land, loaded) for m in months]
    assert not daily.periodic_x
    return loaded, months, fields, land, loaded.contract.fill_sigma_px(daily.grid_steps_deg)


def _state(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _adapt(inputs, **kw):
    loaded, months, fields, land, sigma_px = inputs
    return adapt_model(loaded, months, fields, land, periodic_x=False, sigma_px=sigma_px, device=CPU, **kw)


def test_loss_weights_only_on_allowed_ocean_with_withheld_days():
    full = np.array([[12, 12, 12, 12, 3, 12]])
    thinned = np.array([[3, 8, 11, 3, 1, 3]])
    ocean = np.array([[True, True, True, True, True, False]])
    allowed = np.array([[True, True, True, False, True, True]])
    weights = loss_weights(full, thinned, ocean, allowed, few_days_weight=3.0)
    # few days left: 3; many left: 1; one day withheld (under MIN_HIDDEN_DAYS), not allowed, land: 0;
    # two of three withheld, one left: 3
    np.testing.assert_array_equal(weights, [[3.0, 1.0, 0.0, 0.0, 3.0, 0.0]])


def test_target_is_the_mean_of_the_withheld_days_only():
    full = np.full((1, 4, 1, 2), np.nan, np.float32)
    full[0, :, 0, 0] = [280.0, 281.0, 283.0, np.nan]
    full[0, :, 0, 1] = [290.0, 291.0, 292.0, 293.0]
    thinned = full.copy()
    thinned[0, 1:3, 0, 0] = np.nan  # days 2 and 3 withheld; day 4 was never seen
    thinned[0, 0, 0, 1] = np.nan
    target = withheld_mean(full, thinned, np.array([[[True, False]]]))
    np.testing.assert_allclose(target[0, 0, 0], 282.0)
    assert np.isnan(target[0, 0, 1])  # not scored


def test_validation_blocks_leave_both_sides_nonempty():
    for seed in range(20):
        blocks = validation_blocks((48, 64), 8, np.random.default_rng(seed))
        assert blocks.shape == (48, 64) and blocks.any() and not blocks.all()
        # whole 8 x 8 blocks
        assert (blocks.reshape(6, 8, 8, 8).all(axis=(1, 3)) == blocks.reshape(6, 8, 8, 8).any(axis=(1, 3))).all()


def test_examples_weigh_only_allowed_pixels(inputs):
    """On a checkerboard of allowed pixels, every weighted pixel of a tile has the same parity
    (flips of an even-sized tile keep that), so a weight on a disallowed pixel shows."""
    loaded, months, fields, land, sigma_px = inputs
    examples = _Examples(loaded, months, fields, land, periodic_x=False, sigma_px=sigma_px, few_days_weight=3.0)
    yy, xx = np.indices(land.shape)
    allowed = (yy + xx) % 2 == 0
    rng = np.random.default_rng(0)
    for _ in range(12):
        item = examples.draw(rng, allowed, flips=True)
        assert item is not None
        ty, tx = np.nonzero(item["weight"][0] > 0)
        assert ty.size > 0
        assert np.unique((ty + tx) % 2).size == 1
        assert np.all(np.isfinite(item["target"])) and np.all(np.isfinite(item["x"]))
    assert examples.draw(rng, np.zeros(land.shape, bool), flips=True) is None


@pytest.fixture
def quick(monkeypatch):
    """Fewer validation tiles and shorter rounds, so a test runs a few CPU steps only."""
    monkeypatch.setattr(adapt, "VALIDATION_TILES", 4)
    monkeypatch.setattr(adapt, "STEPS_PER_ROUND", 3)


def test_no_budget_returns_the_original(inputs):
    loaded = inputs[0]
    for kw in ({"budget_s": 0.0}, {"budget_s": 1e-3}, {"max_steps": 0}):
        result, report = _adapt(inputs, **kw)
        assert result is loaded, kw
        assert report.steps == 0 and not report.kept, kw


def test_everything_excluded_trains_nothing(inputs):
    loaded, land = inputs[0], inputs[3]
    result, report = _adapt(inputs, budget_s=30.0, exclude=np.ones(land.shape, bool))
    assert result is loaded
    assert report.steps == 0 and report.validation_pixels == 0 and not report.kept


def test_adapting_never_modifies_the_start_nor_returns_a_worse_model(inputs, quick):
    loaded, months, fields, land, sigma_px = inputs
    start = _state(loaded.model)
    exclude = np.zeros(land.shape, bool)
    exclude[:, :16] = True
    result, report = _adapt(inputs, budget_s=20.0, max_steps=6, batch_size=2, seed=1, exclude=exclude)

    after = _state(loaded.model)
    assert all(torch.equal(start[k], after[k]) for k in start)
    assert not loaded.model.training
    assert 0 < report.steps <= 6
    assert report.validation_rmse_after_k <= report.validation_rmse_before_k
    assert report.kept == (result is not loaded)
    if report.kept:
        assert result.model is not loaded.model and result.model_id == loaded.model_id + "+adapted"
    else:
        assert report.validation_rmse_after_k == report.validation_rmse_before_k

    # The report's numbers are the two models' scores on the same fixed validation tiles, none of them excluded.
    _, val_items, train_allowed = _split(loaded, months, fields, land, periodic_x=False, sigma_px=sigma_px, seed=1,
                                         exclude=exclude)
    assert not (train_allowed & exclude).any()
    batches = [_batch(val_items, CPU)]
    std = float(loaded.model.target_std)
    before, after = (_validation_rmse(m, batches, std) for m in (loaded.model, result.model))
    assert before == pytest.approx(report.validation_rmse_before_k, rel=1e-5)
    assert after == pytest.approx(report.validation_rmse_after_k, rel=1e-5)


def test_a_damaged_model_is_repaired_and_kept(inputs, quick):
    """A model whose maps are all offset by a constant must come back better, as a new model."""
    damaged = copy.deepcopy(inputs[0])
    with torch.no_grad():
        damaged.model.decoder.bias += 2.0  # two target standard deviations on every pixel
    start = _state(damaged.model)
    result, report = adapt_model(damaged, *inputs[1:4], periodic_x=False, sigma_px=inputs[4], device=CPU,
                                 budget_s=20.0, max_steps=6, batch_size=2, learning_rate=1e-2)
    assert report.kept and result is not damaged and result.model_id.endswith("+adapted")
    assert report.validation_rmse_after_k < report.validation_rmse_before_k
    assert abs(result.model.decoder.bias.item()) < abs(damaged.model.decoder.bias.item())
    assert not result.model.training
    assert all(torch.equal(v, damaged.model.state_dict()[k]) for k, v in start.items())
