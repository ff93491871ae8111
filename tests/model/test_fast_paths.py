"""The fast forms of the fixed encoder parts give what their plain definitions give."""

import torch
import torch.nn.functional as F

from sstfill.model import PixelPath, VideoEncoder
from sstfill.model.encoder import DailyNeighbourhood


def _normalised_convolution(values, valid, sigma):
    """Per day: Gaussian-weighted mean of the valid values (0 where the weight is below 1e-3) and the weight,
    by two zero-padded one-dimensional convolutions."""
    radius = max(1, int(torch.tensor(2.5 * sigma).ceil()))
    kernel = torch.exp(-0.5 * (torch.arange(-radius, radius + 1.0) / sigma) ** 2)
    kernel = kernel / kernel.sum()
    b, _, t, h, w = values.shape
    planes = torch.cat((values, valid), dim=1).reshape(b * 2 * t, 1, h, w)
    smooth = F.conv2d(planes, kernel.view(1, 1, 1, -1), padding=(0, radius))
    smooth = F.conv2d(smooth, kernel.view(1, 1, -1, 1), padding=(radius, 0)).reshape(b, 2, t, h, w)
    weight = smooth[:, 1]
    return torch.where(weight > 1e-3, smooth[:, 0] / weight.clamp_min(1e-3), 0.0), weight


def test_daily_neighbourhood_is_a_normalised_gaussian_convolution_of_each_day():
    torch.manual_seed(0)
    valid = (torch.rand(2, 1, 3, 13, 40) < 0.4).float()  # not square, wider than the widest kernel
    values = torch.randn(valid.shape) * valid
    out = DailyNeighbourhood((2.0, 6.0))(values, valid)
    assert out.shape == (2, 4, 3, 13, 40)
    for i, sigma in enumerate((2.0, 6.0)):
        mean, weight = _normalised_convolution(values, valid, sigma)
        torch.testing.assert_close(out[:, 2 * i], mean, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(out[:, 2 * i + 1], weight, atol=1e-6, rtol=1e-5)


def test_daily_features_hold_value_validity_neighbourhood_in_order():
    torch.manual_seed(1)
    encoder = VideoEncoder((1, 4, 4), embed_dim=8, dropout=0.0)
    x = torch.randn(2, 1, 5, 8, 12)
    mask = torch.rand(x.shape) < 0.5
    features = encoder.daily_features(x, mask)
    x_valid, valid = torch.where(mask, 0.0, x), (~mask).float()
    expected = torch.cat((x_valid, valid, encoder.neighbourhood(x_valid, valid)), dim=1)
    assert features.shape == (2, encoder.in_channels, 5, 8, 12)
    assert torch.equal(features, expected)


def _repeated_on_each_day(monthly, days):
    """(B, E, M, H, W) monthly maps as (B, E, M*days, H, W) day slots."""
    return monthly[:, :, :, None].expand(-1, -1, -1, days, -1, -1).flatten(2, 3)


def test_monthly_channels_embed_as_if_repeated_on_each_day():
    torch.manual_seed(6)
    for patch in ((1, 4, 4), (2, 2, 2)):
        encoder = VideoEncoder(patch, embed_dim=8, dropout=0.0, monthly_channels=3)
        features = torch.randn(2, encoder.daily_channels, 2 * 4, 8, 12)  # M=2 months of 4 day slots
        monthly = torch.randn(2, 3, 2, 8, 12)
        tokens, grid = encoder.embed(features, monthly)
        z = encoder.proj(torch.cat((features, _repeated_on_each_day(monthly, 4)), dim=1))
        expected = encoder.norm(z.flatten(2).transpose(1, 2))
        torch.testing.assert_close(tokens, expected + encoder.mlp(expected), atol=1e-5, rtol=1e-5)
        assert grid == tuple(z.shape[2:])


def test_pixel_path_applies_its_pointwise_convolutions():
    torch.manual_seed(2)
    path = PixelPath(in_channels=6, channels=5)
    features = torch.randn(2, 6, 2 * 4, 3, 7)
    real = torch.tensor([[True, True, True, False], [True, True, False, False]]).expand(2, 2, 4)
    weight = real.float().reshape(2, 1, 2, 4, 1, 1)
    daily = path.mlp(features).reshape(2, 5, 2, 4, 3, 7)  # the Conv3d modules themselves
    expected = ((daily * weight).sum(dim=3) / weight.sum(dim=3)).transpose(1, 2).reshape(4, 5, 3, 7)
    torch.testing.assert_close(path(features, real), expected, atol=1e-5, rtol=1e-5)


def _plain_pixel_path(path, features, real):
    """PixelPath by its definition: the Conv3d modules on every pixel-day, then the mean over real days."""
    b, _, _, h, w = features.shape
    m, d = real.shape[1:]
    weight = real.to(features.dtype).reshape(b, 1, m, d, 1, 1)
    daily = path.mlp(features).reshape(b, path.channels, m, d, h, w)
    return ((daily * weight).sum(dim=3) / weight.sum(dim=3)).transpose(1, 2).reshape(b * m, path.channels, h, w)


def test_pixel_path_gradients_are_those_of_its_plain_definition():
    torch.manual_seed(4)
    path = PixelPath(in_channels=6, channels=5).double()
    features = torch.randn(2, 6, 2 * 4, 3, 7, dtype=torch.float64, requires_grad=True)
    real = torch.tensor([[True, True, True, False], [True, True, False, False]]).expand(2, 2, 4)
    upstream = torch.randn(4, 5, 3, 7, dtype=torch.float64)
    grads = []
    for forward in (path, lambda f, r: _plain_pixel_path(path, f, r)):
        path.zero_grad()
        features.grad = None
        (forward(features, real) * upstream).sum().backward()
        grads.append([features.grad.clone()] + [p.grad.clone() for p in path.parameters()])
    for fast, plain in zip(*grads, strict=True):
        torch.testing.assert_close(fast, plain)


def test_pixel_path_takes_monthly_channels_as_if_repeated_on_each_day():
    torch.manual_seed(7)
    path = PixelPath(in_channels=6, channels=5).double()
    features = torch.randn(2, 4, 2 * 3, 3, 7, dtype=torch.float64, requires_grad=True)
    monthly = torch.randn(2, 2, 2, 3, 7, dtype=torch.float64, requires_grad=True)
    real = torch.tensor([[True, True, False], [True, False, False]]).expand(2, 2, 3)
    upstream = torch.randn(4, 5, 3, 7, dtype=torch.float64)
    grads = []
    for forward in (lambda: path(features, real, monthly),
                    lambda: _plain_pixel_path(path, torch.cat((features, _repeated_on_each_day(monthly, 3)), 1), real)):
        path.zero_grad()
        features.grad = monthly.grad = None
        (forward() * upstream).sum().backward()
        grads.append([features.grad.clone(), monthly.grad.clone()] + [p.grad.clone() for p in path.parameters()])
    for fast, plain in zip(*grads, strict=True):
        torch.testing.assert_close(fast, plain)


def test_pixel_path_trains_under_bf16_autocast():
    torch.manual_seed(5)
    path = PixelPath(in_channels=6, channels=5)
    features = torch.randn(2, 6, 4, 8, 8)
    real = torch.ones(2, 1, 4, dtype=torch.bool)
    path(features, real).square().sum().backward()
    reference = [p.grad.clone() for p in path.parameters()]
    path.zero_grad()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = path(features, real)
    out.float().square().sum().backward()
    for p, expected in zip(path.parameters(), reference, strict=True):
        assert p.grad.dtype == torch.float32
        torch.testing.assert_close(p.grad, expected, atol=0.1 * float(expected.abs().max()), rtol=0.05)


def test_pixel_path_gives_zero_for_a_month_without_real_days():
    path = PixelPath(in_channels=4, channels=3)
    real = torch.tensor([[True, True], [False, False]]).reshape(1, 2, 2)
    out = path(torch.randn(1, 4, 4, 2, 2), real)
    assert torch.equal(out[1], torch.zeros(3, 2, 2)) and out[0].abs().sum() > 0


def test_cached_tables_made_during_inference_serve_training_too():
    """The Gaussian bands and the spatial encodings are cached per size; one first made under
    inference_mode must still take part in a backward pass."""
    from sstfill.model import SpatioTemporalModel

    torch.manual_seed(3)
    model = SpatioTemporalModel(embed_dim=16, num_heads=2, depth=1, hidden=16, dropout=0.0, max_days=4)
    b, m, d, h, w = 2, 1, 4, 8, 12
    inputs = (torch.randn(b, 1, m * d, h, w), torch.rand(b, 1, m * d, h, w) < 0.5,
              torch.zeros(b, m, d, dtype=torch.bool), torch.zeros(b, h, w, dtype=torch.bool),
              torch.zeros(b, m, dtype=torch.long), torch.randn(b, m, h, w))
    with torch.inference_mode():
        before = model(*inputs)
    mean, log_var = model(*inputs)
    (mean.square().mean() + log_var.mean()).backward()
    assert all(p.grad is not None for p in model.encoder.proj.parameters())
    torch.testing.assert_close(mean.detach(), before[0])
