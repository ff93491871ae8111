"""Dropout whose mask is drawn from uniform floats on CPU.

On CPU, torch's dropout draws its mask with a Bernoulli sampler that takes about three times as
long as drawing uniform floats and comparing them; in a bf16 training step of the default
model dropout took a fifth of the time (docs/research.md#since-020). The distribution is the
same: each element is kept with probability 1 - p and scaled by 1 / (1 - p). On other
devices, in evaluation and for p = 0 or 1, torch's own dropout runs.
"""

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def draws_uniform(x: Tensor, p: float, training: bool) -> bool:
    """Whether ``dropout`` draws x's mask itself (training on CPU with 0 < p < 1) rather than calling torch's."""
    return training and 0 < p < 1 and x.device.type == "cpu"


def dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """F.dropout(x, p, training), with the mask drawn from uniform floats on CPU."""
    if not draws_uniform(x, p, training):
        return F.dropout(x, p, training)
    keep = (torch.rand(x.shape, device=x.device) >= p).to(x.dtype).mul_(1.0 / (1.0 - p))
    return x * keep


class Dropout(nn.Dropout):
    """nn.Dropout through ``dropout`` above."""

    def forward(self, x: Tensor) -> Tensor:
        return dropout(x, self.p, self.training)
