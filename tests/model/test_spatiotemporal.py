"""The whole model: data contract, masking, gradients, and checkpoint round trip."""

import json

import pytest
import torch

from sstfill.model import SpatioTemporalModel

TINY = {"embed_dim": 16, "num_heads": 4, "depth": 1, "hidden": 16, "dropout": 0.0}


def tiny_model(patch_size=(1, 4, 4), seed: int = 0) -> SpatioTemporalModel:
    torch.manual_seed(seed)
    return SpatioTemporalModel(patch_size=patch_size, **TINY).eval()


def _ocean(batch, out: torch.Tensor) -> torch.Tensor:
    return ~batch["land_mask"][:, None].expand_as(out)


def test_default_model_is_small():
    n_params = sum(p.numel() for p in SpatioTemporalModel().parameters())
    assert n_params < 1_000_000


@pytest.mark.parametrize("patch_size", [(1, 4, 4), (2, 4, 4), (3, 3, 5)])
@pytest.mark.parametrize(("m", "h", "w"), [(1, 8, 8), (3, 9, 10), (2, 5, 17), (1, 1, 1)])
def test_output_shape_and_land(batch_factory, patch_size, m, h, w):
    batch = batch_factory(b=2, m=m, h=h, w=w)
    mean, log_var = tiny_model(patch_size)(**batch)
    assert mean.shape == log_var.shape == (2, m, h, w)
    land = batch["land_mask"][:, None].expand_as(mean)
    assert bool((mean[land] == 0.0).all()) and bool((log_var[land] == 0.0).all())
    assert bool(torch.isfinite(mean).all()) and bool(torch.isfinite(log_var).all())
    assert bool((mean[~land] != 0.0).all())


def test_pixel_path_can_be_left_out(batch_factory):
    torch.manual_seed(0)
    model = SpatioTemporalModel(**TINY, pixel_channels=0).eval()
    assert model.pixels is None and model.config["pixel_channels"] == 0
    batch = batch_factory(b=1, m=2, h=8, w=8)
    mean, _ = model(**batch)
    assert mean.shape == (1, 2, 8, 8) and bool(torch.isfinite(mean).all())


def test_the_baseline_counts_by_its_local_structure_only(batch_factory):
    model = tiny_model()
    batch = batch_factory(b=2, m=2, h=9, w=10)
    reference = model(**batch)
    shifted = model(**{**batch, "baseline": batch["baseline"] + 15.0})  # another level, the same structure
    assert torch.allclose(shifted[0], reference[0], atol=1e-4) and torch.allclose(shifted[1], reference[1], atol=1e-4)
    land = batch["land_mask"][:, None].expand_as(batch["baseline"])
    on_land = model(**{**batch, "baseline": torch.where(land, 1e6, batch["baseline"])})
    assert torch.equal(on_land[0], reference[0])
    flipped = model(**{**batch, "baseline": 580.0 - batch["baseline"]})  # warm and cold swapped
    assert not torch.allclose(flipped[0], reference[0], atol=1e-3)
    with pytest.raises(ValueError, match="needs the baseline"):
        model(**{**batch, "baseline": None})
    torch.manual_seed(0)
    plain = SpatioTemporalModel(**TINY, baseline_structure=False).eval()
    assert torch.equal(plain(**batch)[0], plain(**{**batch, "baseline": None})[0])


@pytest.mark.parametrize("patch_size", [(1, 4, 4), (2, 4, 4)])
def test_values_under_the_mask_have_no_influence(batch_factory, patch_size):
    model = tiny_model(patch_size)
    batch = batch_factory(b=2, m=2, h=9, w=10)
    hidden = batch["daily_mask"]
    assert hidden.any() and (~hidden).any()
    reference = model(**batch)
    g = torch.Generator().manual_seed(1)
    for fill in (torch.nan, 1e6, -1e6, torch.randn(hidden.shape, generator=g)):
        x = torch.where(hidden, fill, batch["x"])
        mean, log_var = model(**{**batch, "x": x})
        assert torch.equal(mean, reference[0]) and torch.equal(log_var, reference[1])


def test_padded_days_and_land_are_ignored_even_if_daily_mask_forgets_them(batch_factory):
    model = tiny_model()
    batch = batch_factory(b=2, m=2, h=9, w=10)
    b, _, t, h, w = batch["x"].shape
    padded = batch["padded_days_mask"].reshape(b, 1, t, 1, 1).expand(b, 1, t, h, w)
    land = batch["land_mask"][:, None, None].expand(b, 1, t, h, w)
    assert padded.any() and land.any()
    clouds_only = batch["daily_mask"] & ~padded & ~land
    reference = model(**{**batch, "daily_mask": clouds_only})
    x = torch.where(padded | land, 1e6, batch["x"])
    mean, log_var = model(**{**batch, "x": x, "daily_mask": clouds_only})
    assert torch.equal(mean, reference[0]) and torch.equal(log_var, reference[1])


def test_an_observed_value_changes_the_output_there(batch_factory):
    model = tiny_model()
    batch = batch_factory(b=1, m=2, h=9, w=10, land=0.0)
    observed = (~batch["daily_mask"][0, 0, :31]).nonzero()
    day, i, j = observed[len(observed) // 2].tolist()
    with torch.no_grad():
        mean_before, _ = model(**batch)
    x = batch["x"].clone()
    x[0, 0, day, i, j] += 5.0
    with torch.no_grad():
        mean_after, _ = model(**{**batch, "x": x})
    change = (mean_after - mean_before).abs()[0, 0]
    assert float(change[i, j]) > 0.0
    # The effect is local-first: larger at the pixel's patch than on average over the tile.
    pi, pj = i // 4 * 4, j // 4 * 4
    assert float(change[pi : pi + 4, pj : pj + 4].mean()) > float(change.mean())


def test_gradients_reach_every_parameter_and_stay_finite(batch_factory):
    model = tiny_model().train()
    batch = batch_factory(b=2, m=2, h=8, w=8)  # NaN at every missing pixel
    mean, log_var = model(**batch)
    (mean.square().mean() + log_var.square().mean()).backward()
    # softmax is shift-invariant, so the day score's final bias has exactly zero gradient
    shift_invariant = {"temporal.day_score.3.bias"}
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, name
        assert bool(torch.isfinite(parameter.grad).all()), name
        if name not in shift_invariant:
            assert float(parameter.grad.abs().sum()) > 0.0, name


def test_tiny_model_overfits_one_sample(batch_factory):
    model = tiny_model().train()
    batch = batch_factory(b=1, m=2, h=8, w=8, seed=3)
    target = torch.randn(1, 2, 8, 8, generator=torch.Generator().manual_seed(4))
    ocean = _ocean(batch, target)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)

    def loss() -> torch.Tensor:
        mean, _ = model(**batch)
        return (mean - target)[ocean].square().mean()

    initial = loss().item()
    for _ in range(80):
        optimiser.zero_grad()
        value = loss()
        value.backward()
        optimiser.step()
    assert loss().item() < initial / 100


def test_config_rebuilds_the_model_and_state_dict_round_trips(batch_factory):
    model = SpatioTemporalModel(patch_size=(2, 4, 4), embed_dim=16, depth=1, hidden=8)
    model.set_normalisation(input_mean=0.5, input_std=2.0, target_mean=-1.0, target_std=3.0)
    config = json.loads(json.dumps(model.config))
    assert config["patch_size"] == [2, 4, 4]
    clone = SpatioTemporalModel(**config)
    clone.load_state_dict(model.state_dict())
    assert float(clone.input_std) == 2.0 and float(clone.target_mean) == -1.0
    batch = batch_factory(b=1, m=2, h=6, w=7)
    model.eval(), clone.eval()
    for a, b in zip(model(**batch), clone(**batch), strict=True):
        assert torch.equal(a, b)


def test_state_dict_holds_normalisation_but_no_positional_tables():
    state = SpatioTemporalModel().state_dict()
    for name in ("input_mean", "input_std", "target_mean", "target_std"):
        assert state[name].dtype == torch.float32 and state[name].shape == ()
    assert float(state["input_mean"]) == 0.0 and float(state["input_std"]) == 1.0
    assert not [key for key in state if key.endswith(".pe")]


def test_set_normalisation_rejects_bad_std():
    model = SpatioTemporalModel(**TINY)
    with pytest.raises(ValueError, match="input_std"):
        model.set_normalisation(0.0, 0.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="target_mean"):
        model.set_normalisation(0.0, 1.0, float("nan"), 1.0)


def test_inputs_breaking_the_contract_are_rejected(batch_factory):
    model = tiny_model()
    batch = batch_factory(b=1, m=2, h=8, w=8)
    with pytest.raises(ValueError, match="padded_days_mask"):
        model(**{**batch, "padded_days_mask": batch["padded_days_mask"][:, :, :30]})
    with pytest.raises(ValueError, match="land_mask"):
        model(**{**batch, "land_mask": batch["land_mask"][:, :7]})
    with pytest.raises(ValueError, match=r"0..11"):
        model(**{**batch, "month_of_year": torch.tensor([[11, 12]])})
