"""The CPU dropout keeps torch's distribution, and the spatial transformer's training path its arithmetic."""

import torch

from sstfill.model.dropout import Dropout, dropout
from sstfill.model.spatial import SpatialTransformer


def test_dropout_keeps_each_element_with_probability_one_minus_p_and_rescales_it():
    torch.manual_seed(0)
    x = torch.rand(999, 1001) + 0.5  # not a multiple of the four 16-bit draws that one 64-bit draw gives
    out = dropout(x, 0.1, True)
    kept = out != 0
    assert abs(kept.float().mean().item() - 0.9) < 0.002  # 1e6 draws: the standard error is 3e-4
    for part in range(4):  # each 16-bit quarter of a 64-bit draw is uniform on its own
        assert abs(kept.flatten()[part::4].float().mean().item() - 0.9) < 0.003
    keep_probability = 1 - round(0.1 * 65536) / 65536
    torch.testing.assert_close(out[kept], x[kept] / keep_probability, rtol=1e-6, atol=0)


def test_dropout_gradient_is_the_mask():
    torch.manual_seed(1)
    x = torch.randn(50, 40, requires_grad=True)
    out = dropout(x, 0.25, True)
    out.sum().backward()
    torch.testing.assert_close(x.grad, (out != 0).float() / 0.75)


def test_dropout_is_the_identity_in_evaluation_and_for_p_zero():
    x = torch.randn(30, 20)
    layer = Dropout(0.3).eval()
    assert torch.equal(layer(x), x)
    assert torch.equal(dropout(x, 0.0, True), x)


def test_spatial_transformer_training_path_computes_torchs_attention():
    """With a vanishing dropout, a training step's output is what torch's own layer gives in evaluation."""
    torch.manual_seed(2)
    spatial = SpatialTransformer(embed_dim=16, num_heads=4, depth=2, dropout=0.1)
    tokens = torch.randn(3, 20, 16)
    expected = spatial.eval()(tokens)
    for module in spatial.modules():
        if isinstance(module, torch.nn.MultiheadAttention):
            module.dropout = 1e-12
        elif isinstance(module, torch.nn.Dropout):
            module.p = 1e-12
    torch.testing.assert_close(spatial.train()(tokens), expected, atol=1e-5, rtol=1e-5)
