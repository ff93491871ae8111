"""Error statistics of monthly maps, overall and by valid-day class.

A pixel's valid days in its month say how much a composite knows there, so every score is
also kept by class (NOBS_CLASSES). Used by evaluate, by reconstruct's check on withheld
observations and by training's loss weights, so the classes have one home.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

NOBS_CLASSES = (("0", 0, 0), ("1-4", 1, 4), ("5-9", 5, 9), (">=10", 10, 10_000))
FEW_DAYS = 5
"""Pixels seen on fewer days than this are also scored together (fewer_than_5_days)."""


@dataclass
class ErrorStats:
    """Running sums for RMSE, MAE, bias and uncertainty calibration."""

    n: int = 0
    total: float = 0.0
    total_abs: float = 0.0
    total_sq: float = 0.0
    n_sigma: int = 0
    within_1sigma: int = 0
    within_2sigma: int = 0

    def add(self, error: np.ndarray, sigma: np.ndarray | None = None) -> None:
        error = error.astype(np.float64)
        self.n += error.size
        self.total += float(error.sum())
        self.total_abs += float(np.abs(error).sum())
        self.total_sq += float(np.square(error).sum())
        if sigma is not None:
            ok = np.isfinite(sigma) & (sigma > 0)
            self.n_sigma += int(ok.sum())
            self.within_1sigma += int((np.abs(error[ok]) <= sigma[ok]).sum())
            self.within_2sigma += int((np.abs(error[ok]) <= 2 * sigma[ok]).sum())

    def as_dict(self) -> dict[str, float | int | None]:
        if not self.n:
            return {"n": 0, "rmse": None, "mae": None, "bias": None}
        out: dict[str, float | int | None] = {
            "n": self.n, "rmse": math.sqrt(self.total_sq / self.n), "mae": self.total_abs / self.n,
            "bias": self.total / self.n,
        }
        if self.n_sigma:
            out["within_1sigma"] = self.within_1sigma / self.n_sigma
            out["within_2sigma"] = self.within_2sigma / self.n_sigma
        return out


@dataclass
class MethodScore:
    overall: ErrorStats = field(default_factory=ErrorStats)
    per_month: dict[str, ErrorStats] = field(default_factory=dict)
    by_nobs: dict[str, ErrorStats] = field(default_factory=lambda: {name: ErrorStats() for name, _, _ in NOBS_CLASSES})
    ocean_pixels: int = 0
    missing_pixels: int = 0  # ocean pixels the method left empty

    def add(self, month: str, estimate: np.ndarray, reference: np.ndarray, nobs: np.ndarray | None,
            sigma: np.ndarray | None = None) -> None:
        ocean = np.isfinite(reference)
        have = ocean & np.isfinite(estimate)
        self.ocean_pixels += int(ocean.sum())
        self.missing_pixels += int((ocean & ~have).sum())
        error = (estimate - reference)[have]
        s = sigma[have] if sigma is not None else None
        self.overall.add(error, s)
        self.per_month.setdefault(month, ErrorStats()).add(error, s)
        if nobs is not None:
            counts = nobs[have]
            for name, low, high in NOBS_CLASSES:
                pick = (counts >= low) & (counts <= high)
                self.by_nobs[name].add(error[pick], s[pick] if s is not None else None)

    def as_dict(self) -> dict:
        fewer_than_5 = ErrorStats()
        for name in (name for name, _, high in NOBS_CLASSES if high < FEW_DAYS):
            for key in ("n", "total", "total_abs", "total_sq", "n_sigma", "within_1sigma", "within_2sigma"):
                setattr(fewer_than_5, key, getattr(fewer_than_5, key) + getattr(self.by_nobs[name], key))
        return {
            "overall": self.overall.as_dict(),
            "fewer_than_5_days": fewer_than_5.as_dict(),
            "by_valid_days": {name: stats.as_dict() for name, stats in self.by_nobs.items()},
            "per_month": {month: stats.as_dict() for month, stats in self.per_month.items()},
            "coverage": 1.0 - self.missing_pixels / self.ocean_pixels if self.ocean_pixels else None,
        }
