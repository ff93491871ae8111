"""Dropout whose mask is drawn from random 16-bit integers on CPU.

On CPU, torch's dropout draws its mask with a Bernoulli sampler that takes about three times as
long as drawing uniform floats and comparing them (docs/research.md#since-020), and uniform floats
take three times as long as the same number of 16-bit integers cut from 64-bit draws
(docs/research.md#a-fifth-session-the-training-step). Each
element is kept with probability 1 - p, p rounded to a multiple of 1/65536 (for p = 0.1 the
difference is 6e-6), and scaled by the inverse of that probability, so the expectation is exact.
On other devices, in evaluation and for p = 0 or 1, torch's own dropout runs.
"""

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def draws_uniform(x: Tensor, p: float, training: bool) -> bool:
    """Whether ``dropout`` draws x's mask itself (training on CPU with 0 < p < 1) rather than calling torch's."""
    return training and 0 < p < 1 and x.device.type == "cpu"


def dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """F.dropout(x, p, training), with the mask drawn from 16-bit integers on CPU."""
    if not draws_uniform(x, p, training):
        return F.dropout(x, p, training)
    levels = 1 << 16
    dropped = round(p * levels)  # of the 65536 values of an int16, those below -32768 + dropped drop an element
    draws = torch.empty(-(-x.numel() // 4), dtype=torch.int64, device=x.device).random_(-(1 << 63), None)
    keep = draws.view(torch.int16)[:x.numel()].view(x.shape) >= dropped - levels // 2
    return x * keep.to(x.dtype).mul_(levels / (levels - dropped))


class Dropout(nn.Dropout):
    """nn.Dropout through ``dropout`` above."""

    def forward(self, x: Tensor) -> Tensor:
        return dropout(x, self.p, self.training)
