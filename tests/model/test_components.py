"""Each component on its own: shapes, masking, and the fixed position encodings."""

import pytest
import torch

from sstfill.model import (
    BaselineStructure,
    MonthlyConvDecoder,
    PixelPath,
    SpatialPositionalEncoding2D,
    SpatialTransformer,
    TemporalAttentionAggregator,
    TemporalPositionalEncoding,
    VideoEncoder,
)


def _pairwise_distinct(rows: torch.Tensor) -> bool:
    distances = torch.cdist(rows.double(), rows.double())
    off_diagonal = ~torch.eye(len(rows), dtype=torch.bool)
    return bool((distances[off_diagonal] > 1e-6).all())


# --- VideoEncoder -------------------------------------------------------------------------


@pytest.mark.parametrize(("patch", "thw"), [((1, 4, 4), (6, 8, 12)), ((2, 4, 4), (32, 4, 8)), ((3, 2, 5), (9, 6, 10))])
def test_encoder_shapes(patch, thw):
    t, h, w = thw
    encoder = VideoEncoder(patch, embed_dim=8, dropout=0.0)
    x = torch.randn(2, 1, t, h, w)
    tokens, grid = encoder(x, torch.zeros_like(x, dtype=torch.bool))
    assert grid == (t // patch[0], h // patch[1], w // patch[2])
    assert tokens.shape == (2, grid[0] * grid[1] * grid[2], 8)


def test_encoder_ignores_values_under_the_mask():
    encoder = VideoEncoder((1, 4, 4), embed_dim=8, dropout=0.0)
    x = torch.randn(1, 1, 3, 8, 8)
    mask = torch.rand(x.shape) < 0.5
    reference, _ = encoder(x, mask)
    for fill in (torch.nan, 1e6, -3.0):
        tokens, _ = encoder(torch.where(mask, fill, x), mask)
        assert torch.equal(tokens, reference)


def test_encoder_rejects_unpadded_video():
    encoder = VideoEncoder((2, 4, 4), embed_dim=8)
    x = torch.randn(1, 1, 31, 8, 8)
    with pytest.raises(ValueError, match="multiple of the patch"):
        encoder(x, torch.zeros_like(x, dtype=torch.bool))


# --- PixelPath ----------------------------------------------------------------------------


def test_pixel_path_is_a_per_pixel_mean_over_real_days():
    torch.manual_seed(0)
    path = PixelPath(in_channels=6, channels=5)
    features = torch.randn(2, 6, 2 * 4, 3, 5)  # B=2, M=2 months of 4 day slots
    real = torch.tensor([[True, True, True, False], [True, True, False, False]]).expand(2, 2, 4)
    out = path(features, real)
    assert out.shape == (4, 5, 3, 5)
    # Padded slots have no influence, whatever they hold.
    changed = features.clone()
    changed[:, :, 3] = 1e3
    changed[:, :, 6:] = torch.nan
    assert torch.equal(path(changed.nan_to_num(7.0), real), out)
    # Pointwise: a change at one pixel of one real day moves that pixel of that month only.
    changed = features.clone()
    changed[0, :, 5, 1, 2] += 1.0
    moved = (path(changed, real) - out).abs().sum(dim=1) > 0
    expected = torch.zeros(4, 3, 5, dtype=torch.bool)
    expected[1, 1, 2] = True
    assert torch.equal(moved, expected)


# --- Positional encodings -----------------------------------------------------------------


def test_baseline_structure_shows_a_pixel_against_its_ocean_neighbours():
    structure = BaselineStructure((1.0, 2.0))
    land = torch.zeros(1, 9, 9, dtype=torch.bool)
    land[0, :, 7:] = True
    flat = torch.full((1, 2, 9, 9), 288.0)
    out = structure(torch.where(land[:, None], 1e6, flat), land)  # land values must not leak in
    assert out.shape == (1, 2, 2, 9, 9) and torch.allclose(out, torch.zeros_like(out), atol=1e-3)
    bump = flat.clone()
    bump[0, 1, 4, 4] += 1.0  # one warm pixel in the second month
    out = structure(bump, land)
    assert bool((out[0, :, 1, 4, 4] > 0.3).all()) and bool((out[0, :, 1, 4, 3] < 0).all())
    assert torch.allclose(out[0, :, 0], torch.zeros(2, 9, 9), atol=1e-3), "months stay apart"
    assert bool((out[0, :, :, :, 7:] == 0).all()), "zero on land"
    assert out[0, 1, 1, 4, 4] > out[0, 0, 1, 4, 4], "a wider scale sets the pixel against a wider, cooler mean"


def test_temporal_encoding_is_fixed_and_distinct():
    pe = TemporalPositionalEncoding(embed_dim=16, max_len=31)
    assert len(list(pe.parameters())) == 0
    assert len(pe.state_dict()) == 0
    table = pe(31)
    assert table.shape == (31, 16)
    assert _pairwise_distinct(table)
    assert torch.equal(table[0, 0::2], torch.zeros(8))  # sin(0) on even dims
    assert torch.equal(table[0, 1::2], torch.ones(8))  # cos(0) on odd dims
    assert torch.equal(pe(5), table[:5])


def test_temporal_encoding_indexed_by_tensor():
    pe = TemporalPositionalEncoding(embed_dim=8, max_len=12)
    months = torch.tensor([[11, 0, 1], [5, 6, 7]])
    assert torch.equal(pe(months), pe(12)[months])
    with pytest.raises(ValueError, match=r"positions must lie in 0\.\.11"):
        pe(torch.tensor([12]))
    with pytest.raises(ValueError, match="requested 13 positions"):
        pe(13)


def test_spatial_encoding_is_fixed_and_distinct():
    pe = SpatialPositionalEncoding2D(embed_dim=16)
    assert len(list(pe.parameters())) == 0
    assert len(pe.state_dict()) == 0
    table = pe(5, 7)
    assert table.shape == (35, 16)
    assert _pairwise_distinct(table)
    grid = table.reshape(5, 7, 16)
    assert torch.equal(grid[:, :1, :8].expand(5, 7, 8), grid[..., :8])  # first half: row only
    assert torch.equal(grid[:1, :, 8:].expand(5, 7, 8), grid[..., 8:])  # second half: column only


def test_spatial_encoding_needs_embed_dim_divisible_by_four():
    with pytest.raises(ValueError, match="divisible by 4"):
        SpatialPositionalEncoding2D(embed_dim=10)


# --- TemporalAttentionAggregator ----------------------------------------------------------


def _aggregate(days_per_token: int, padded_days_mask: torch.Tensor, month_of_year: torch.Tensor):
    torch.manual_seed(0)
    b, m, days = padded_days_mask.shape
    t, gh, gw = days // days_per_token, 2, 3
    aggregator = TemporalAttentionAggregator(embed_dim=16, num_heads=4, max_days=31, dropout=0.0).eval()
    tokens = torch.randn(b, m * t * gh * gw, 16)
    return aggregator(tokens, (m * t, gh, gw), padded_days_mask, month_of_year, return_weights=True)


def test_padded_days_get_exactly_zero_weight():
    lengths = torch.tensor([[28, 31, 30], [29, 31, 31]])  # February, March, April; leap February, ...
    padded = torch.arange(31) >= lengths[..., None]
    out, weights = _aggregate(1, padded, torch.tensor([[1, 2, 3], [1, 2, 3]]))
    assert out.shape == (2, 3, 6, 16)
    assert weights.shape == (2, 3, 6, 31)
    padded_weights = weights.masked_select(padded[:, :, None, :].expand_as(weights))
    assert padded_weights.numel() == 6 * (3 + 1 + 2 + 0 + 0)
    assert bool((padded_weights == 0.0).all())
    assert bool((weights.masked_select(~padded[:, :, None, :].expand_as(weights)) > 0).all())
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3, 6))


def test_token_is_padded_only_when_all_its_days_are():
    # 32 slots in 2-day tokens: a 29-day month has slots 29..31 padded, so token 14 (days 28, 29)
    # still holds a real day and only token 15 is padded.
    lengths = torch.tensor([[29, 28]])
    padded = torch.arange(32) >= lengths[..., None]
    _, weights = _aggregate(2, padded, torch.tensor([[1, 1]]))
    assert weights.shape == (1, 2, 6, 16)
    assert bool((weights[0, 0, :, 14] > 0).all())
    assert bool((weights[0, 0, :, 15] == 0.0).all())
    assert bool((weights[0, 1, :, 14:] == 0.0).all())
    torch.testing.assert_close(weights.sum(-1), torch.ones(1, 2, 6))


def test_month_with_only_padded_days_is_rejected():
    padded = torch.zeros(1, 2, 31, dtype=torch.bool)
    padded[0, 1] = True
    with pytest.raises(ValueError, match="every day slot"):
        _aggregate(1, padded, torch.tensor([[0, 1]]))


def test_month_of_year_changes_the_monthly_tokens():
    padded = torch.zeros(1, 2, 31, dtype=torch.bool)
    january, _ = _aggregate(1, padded, torch.tensor([[0, 1]]))
    july, _ = _aggregate(1, padded, torch.tensor([[6, 7]]))
    assert not torch.allclose(january, july)


# --- SpatialTransformer and MonthlyConvDecoder --------------------------------------------


def test_spatial_transformer_keeps_shape():
    transformer = SpatialTransformer(embed_dim=16, num_heads=4, depth=2, dropout=0.0)
    tokens = torch.randn(6, 12, 16)
    out = transformer(tokens)
    assert out.shape == tokens.shape
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("patch_hw", [(4, 4), (2, 3), (1, 1)])
@pytest.mark.parametrize("overlap", [0, 1, 2])
def test_decoder_restores_pixel_grid_and_masks_land(patch_hw, overlap):
    decoder = MonthlyConvDecoder(embed_dim=16, hidden=8, patch_hw=patch_hw, overlap=overlap).eval()
    gh, gw = 3, 5
    h, w = gh * patch_hw[0], gw * patch_hw[1]
    land = torch.rand(4, h, w) < 0.3
    out = decoder(torch.randn(4, gh * gw, 16), (gh, gw), land)
    assert out.shape == (4, 2, h, w)
    assert bool((out.masked_select(land[:, None].expand_as(out)) == 0.0).all())
    assert bool((out.masked_select(~land[:, None].expand_as(out)) != 0.0).all())


def test_decoder_joins_full_resolution_skip_features():
    torch.manual_seed(0)
    decoder = MonthlyConvDecoder(embed_dim=8, hidden=8, patch_hw=(4, 4), skip_channels=3).eval()
    tokens, skip = torch.randn(2, 4, 8), torch.randn(2, 3, 8, 8)
    out = decoder(tokens, (2, 2), skip=skip)
    assert out.shape == (2, 2, 8, 8)
    skip[0, :, 5, 6] += 1.0  # reaches only the 3x3 refinement neighbourhood of that pixel
    moved = (decoder(tokens, (2, 2), skip=skip) - out).abs().sum(dim=1) > 0
    assert moved[0, 4:7, 5:8].all()
    assert int(moved.sum()) == 9


def test_decoder_clamps_log_variance():
    decoder = MonthlyConvDecoder(embed_dim=8, hidden=8, patch_hw=(2, 2)).eval()
    with torch.no_grad():
        decoder.head.bias.copy_(torch.tensor([0.0, 1e4]))
        out = decoder(torch.randn(1, 4, 8), (2, 2))
    assert float(out[:, 1].max()) == 10.0
