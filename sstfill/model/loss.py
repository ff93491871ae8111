"""Training objective: Gaussian negative log-likelihood over ocean pixels."""

from __future__ import annotations

import math

import torch


def gaussian_nll(mean: torch.Tensor, log_var: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean NLL of target under N(mean, exp(log_var)) over pixels where mask is True.

    The model learns both the monthly map and how sure it is of each pixel; the variance
    term lets it say so where a pixel was rarely seen instead of blurring everywhere.
    """
    nll = 0.5 * (log_var + (target - mean) ** 2 * torch.exp(-log_var) + math.log(2 * math.pi))
    weight = mask.to(nll.dtype)
    return (nll * weight).sum() / weight.sum().clamp_min(1.0)


def masked_mse(mean: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    weight = mask.to(mean.dtype)
    return (((mean - target) ** 2) * weight).sum() / weight.sum().clamp_min(1.0)


def training_loss(mean: torch.Tensor, log_var: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """MSE for the map plus NLL for the variance, with the mean detached in the NLL.

    Plain NLL lets the model buy a lower loss by widening its variance where the map is
    hard, which slows learning of the map itself; training the mean on MSE keeps it the
    best estimate in the RMSE sense, while the variance head still learns calibration.
    """
    return masked_mse(mean, target, mask) + gaussian_nll(mean.detach(), log_var, target, mask)
