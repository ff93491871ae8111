"""Choosing the estimator and calibrating sigma on an input's own withheld observations.

Each candidate estimator (the model, a low-rank DINEOF reconstruction, the filled
composite) is run on the input with observations withheld (sstfill.data.withhold) and
compared with the mean of what was withheld, by valid-day class. Per class the model is
kept unless another candidate was better by more than SIGNIFICANCE standard errors: the
withheld means are noisy, and a choice driven by that noise would cost accuracy where the
model is right. Sigma is then scaled to the chosen estimator's error on the withheld
observations. The same rule applies to the candidates run on the whole input. Why and how
well: docs/model.md, "Checks on withheld observations".

The withheld mean is itself an estimate of the month's mean, with an error variance
(Withheld.reference_var) that adds to every candidate's squared error alike: it does not
change which candidate is best, and it is subtracted before sigma is scaled. The withheld
and the kept days also share part of their departure from the month's mean (both are
clear-sky days of the same weeks), which a comparison between them cannot show: twice that
covariance (Withheld.shared_var) is added back, as if each candidate inherited the kept
days' departure in full, as the composite does. That is an upper estimate for a model that
corrects part of it from the neighbours. For the model, sigma is only ever scaled up.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from sstfill.data.scores import NOBS_CLASSES
from sstfill.data.withhold import Withheld

MIN_PIXELS = 200
"""A valid-day class with fewer withheld pixels than this takes the rule fitted on all classes."""

BLOCK_PX = 32
"""Errors are summed over blocks of this many pixels square (half a model tile), the independent
samples of the standard errors: neighbouring pixels' errors are not independent."""

SIGNIFICANCE = 2.0
"""Another candidate replaces the model in a class when its mean squared error on the withheld
observations is lower by more than this many standard errors."""

SIGMA_SCALE_RANGE = (0.1, 5.0)
"""Limits of the sigma scale: beyond them the withheld observations say more about their own
noise than about the estimators'."""

MODEL = "model"


@dataclass
class _Blocks:
    """Per block: pixel count, sums of each candidate's squared error, of the reference's error
    variance less twice the shared covariance, and of the model's sigma squared."""

    count: dict = field(default_factory=lambda: defaultdict(int))
    squared: dict = field(default_factory=dict)
    reference_var: dict = field(default_factory=lambda: defaultdict(float))
    sigma_sq: dict = field(default_factory=lambda: defaultdict(float))

    def add(self, keys: np.ndarray, errors: np.ndarray, reference_var: np.ndarray, sigma: np.ndarray) -> None:
        unique, inverse = np.unique(keys, return_inverse=True)
        counts = np.bincount(inverse)
        squared = np.stack([np.bincount(inverse, np.square(e)) for e in errors.T], axis=1)
        ref = np.bincount(inverse, reference_var)
        sig = np.bincount(inverse, np.square(sigma))
        for i, key in enumerate(unique.tolist()):
            self.count[key] += int(counts[i])
            self.squared[key] = self.squared.get(key, 0.0) + squared[i]
            self.reference_var[key] += float(ref[i])
            self.sigma_sq[key] += float(sig[i])

    def arrays(self) -> tuple[np.ndarray, ...]:
        """(count, squared, reference_var, sigma_sq), one row per block."""
        keys = list(self.count)
        return (np.array([self.count[k] for k in keys], float), np.array([self.squared[k] for k in keys]), np.array([self.reference_var[k] for k in keys]),
                np.array([self.sigma_sq[k] for k in keys]))

    def merged(self, other: _Blocks) -> _Blocks:
        out = _Blocks()
        for source in (self, other):
            for key in source.count:
                out.count[key] += source.count[key]
                out.squared[key] = out.squared.get(key, 0.0) + source.squared[key]
                out.reference_var[key] += source.reference_var[key]
                out.sigma_sq[key] += source.sigma_sq[key]
        return out


@dataclass(frozen=True)
class ClassRule:
    """The estimator chosen for one valid-day class, and its sigma scale."""

    choice: str
    sigma_scale: float
    pixels: int  # withheld pixels it was fitted on (those of all classes for a pooled rule)
    rmse: tuple[float, ...]  # each candidate's RMSE there, K, the withheld means' own variance removed
    pooled: bool = False  # too few pixels of this class: the rule of all classes


@dataclass(frozen=True)
class ChoiceRule:
    """Per valid-day class, which candidate's map is written and how sigma is scaled."""

    candidates: tuple[str, ...]
    classes: dict[str, ClassRule]

    def uses(self, candidate: str) -> bool:
        return any(rule.choice == candidate for rule in self.classes.values())

    def apply(self, maps: dict[str, np.ndarray], sigma: np.ndarray, nobs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(SST, scaled sigma), each (H, W), from the candidates' maps of the whole input."""
        sst = np.array(maps[MODEL], np.float32)
        scale = np.ones(sigma.shape, np.float32)
        for name, low, high in NOBS_CLASSES:
            pick = (nobs >= low) & (nobs <= high)
            rule = self.classes[name]
            sst[pick] = maps[rule.choice][pick]
            scale[pick] = rule.sigma_scale
        return np.where(np.isfinite(sigma), sst, np.nan).astype(np.float32), (sigma * scale).astype(np.float32)

    def describe(self) -> str:
        """One clause per class: the choice, sigma scale and RMSE on the withheld pixels."""
        parts = []
        for name, rule in self.classes.items():
            rmse = ", ".join(f"{c} {r:.3f}" for c, r in zip(self.candidates, rule.rmse))
            parts.append(f"{name} days: {rule.choice}, sigma x{rule.sigma_scale:.2f} (withheld RMSE {rmse} K on "
                         f"{rule.pixels} pixels{', all classes pooled' if rule.pooled else ''})")
        return "; ".join(parts)


@dataclass
class WithheldErrors:
    """Accumulates the candidates' errors on withheld observations, by valid-day class."""

    candidates: tuple[str, ...]  # MODEL among them
    blocks: dict[str, _Blocks] = field(default_factory=lambda: {name: _Blocks() for name, _, _ in NOBS_CLASSES})
    months: int = 0

    def add(self, maps: dict[str, np.ndarray], sigma: np.ndarray, withheld: Withheld, nobs: np.ndarray) -> None:
        """One month: each candidate's map and the model's sigma from the thinned input, what was
        withheld, and the thinned valid days per pixel."""
        reference = withheld.reference
        reference_var = withheld.reference_var - 2 * withheld.shared_var
        stack = np.stack([maps[c] for c in self.candidates]).astype(np.float64)
        scored = np.isfinite(reference) & np.isfinite(stack).all(axis=0) & np.isfinite(sigma)
        rows, cols = np.nonzero(scored)
        width = -(-scored.shape[1] // BLOCK_PX)
        keys = (self.months * (-(-scored.shape[0] // BLOCK_PX)) + rows // BLOCK_PX) * width + cols // BLOCK_PX
        self.months += 1
        errors = (stack - reference)[:, scored].T  # (pixels, candidates)
        counts = nobs[scored]
        for name, low, high in NOBS_CLASSES:
            pick = (counts >= low) & (counts <= high)
            if pick.any():
                self.blocks[name].add(keys[pick], errors[pick], reference_var[scored][pick].astype(np.float64),
                                      sigma[scored][pick].astype(np.float64))

    @property
    def pixels(self) -> int:
        return sum(sum(b.count.values()) for b in self.blocks.values())

    def rule(self) -> ChoiceRule:
        """The rule fitted on what was added; classes with fewer than MIN_PIXELS take the pooled fit."""
        pooled = _Blocks()
        for blocks in self.blocks.values():
            pooled = pooled.merged(blocks)
        if not pooled.count:
            raise ValueError("no withheld pixel to fit a rule on")
        pooled_rule = self._fit(pooled, pooled=True)
        classes = {name: self._fit(blocks) if sum(blocks.count.values()) >= MIN_PIXELS else pooled_rule
                   for name, blocks in self.blocks.items()}
        return ChoiceRule(self.candidates, classes)

    def _fit(self, blocks: _Blocks, *, pooled: bool = False) -> ClassRule:
        count, squared, reference_var, sigma_sq = blocks.arrays()
        n = count.sum()
        mse = squared.sum(axis=0) / n
        model = self.candidates.index(MODEL)
        best = int(np.argmin(mse))
        if best != model and not _significant(squared[:, model] - squared[:, best], count):
            best = model
        error_sq = max(mse[best] - reference_var.sum() / n, 0.0)
        scale = math.sqrt(error_sq / max(sigma_sq.sum() / n, 1e-12))
        if best == model:
            scale = max(scale, 1.0)  # the withheld errors understate the model's (module docstring)
        rmse = tuple(math.sqrt(max(float(m) - reference_var.sum() / n, 0.0)) for m in mse)
        return ClassRule(self.candidates[best], float(np.clip(scale, *SIGMA_SCALE_RANGE)), int(n), rmse, pooled)


def _significant(values: np.ndarray, counts: np.ndarray) -> bool:
    """Whether the mean of per-pixel values, given as sums per block, is positive by more than
    SIGNIFICANCE standard errors, the blocks taken as independent samples."""
    blocks = counts.size
    if blocks < 2:
        return False
    mean = values.sum() / counts.sum()
    spread = np.sum((values - mean * counts) ** 2) * blocks / (blocks - 1)
    return bool(mean > SIGNIFICANCE * math.sqrt(spread) / counts.sum())
