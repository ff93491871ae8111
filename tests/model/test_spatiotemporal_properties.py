"""Property test: any tile size and window length (runs where hypothesis is installed)."""

import pytest
import torch

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sstfill.model import SpatioTemporalModel  # noqa: E402

TINY = {"embed_dim": 16, "num_heads": 4, "depth": 1, "hidden": 16, "dropout": 0.0}


def _tiny(patch_size: tuple[int, int, int]) -> SpatioTemporalModel:
    torch.manual_seed(0)
    return SpatioTemporalModel(patch_size=patch_size, **TINY).eval()


_MODELS = {patch: _tiny(patch) for patch in [(1, 4, 4), (2, 4, 4), (1, 3, 2)]}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    patch_size=st.sampled_from(sorted(_MODELS)),
    b=st.integers(1, 2),
    m=st.integers(1, 3),
    h=st.integers(1, 13),
    w=st.integers(1, 13),
    seed=st.integers(0, 2**16),
)
def test_any_tile_size_and_window_length(batch_factory, patch_size, b, m, h, w, seed):
    batch = batch_factory(b=b, m=m, h=h, w=w, seed=seed)
    with torch.no_grad():
        mean, log_var = _MODELS[patch_size](**batch)
    assert mean.shape == log_var.shape == (b, m, h, w)
    land = batch["land_mask"][:, None].expand_as(mean)
    assert bool((mean[land] == 0.0).all()) and bool((log_var[land] == 0.0).all())
    assert bool(torch.isfinite(mean).all()) and bool(torch.isfinite(log_var).all())


