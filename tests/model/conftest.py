"""A seeded batch factory that honours SpatioTemporalModel's data contract."""

from collections.abc import Callable

import pytest
import torch

MONTH_LENGTHS = torch.tensor([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
MAX_DAYS = 31


def make_batch(
    b: int = 2,
    m: int = 2,
    h: int = 9,
    w: int = 10,
    seed: int = 0,
    cloud: float = 0.5,
    land: float = 0.2,
) -> dict[str, torch.Tensor]:
    """Random anomalies, clouds and land; missing pixels hold NaN, as the data module delivers them."""
    g = torch.Generator().manual_seed(seed)
    month_of_year = torch.randint(0, 12, (b, m), generator=g)
    padded_days_mask = torch.arange(MAX_DAYS) >= MONTH_LENGTHS[month_of_year][..., None]  # (B, M, D)
    land_mask = torch.rand(b, h, w, generator=g) < land
    clouds = torch.rand(b, 1, m * MAX_DAYS, h, w, generator=g) < cloud
    daily_mask = (
        clouds
        | padded_days_mask.reshape(b, 1, m * MAX_DAYS, 1, 1)
        | land_mask[:, None, None]
    )
    x = torch.randn(b, 1, m * MAX_DAYS, h, w, generator=g)
    x = torch.where(daily_mask, torch.nan, x)
    baseline = 290.0 + torch.randn(b, m, h, w, generator=g)  # kelvin; NaN on land, which the model must ignore
    baseline = torch.where(land_mask[:, None], torch.nan, baseline)
    return {
        "x": x,
        "daily_mask": daily_mask,
        "padded_days_mask": padded_days_mask,
        "land_mask": land_mask,
        "month_of_year": month_of_year,
        "baseline": baseline,
    }


@pytest.fixture
def batch_factory() -> Callable[..., dict[str, torch.Tensor]]:
    return make_batch
