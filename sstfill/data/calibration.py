"""Choosing the estimator and calibrating sigma on an input's own withheld observations.

Each candidate estimator (the model, a low-rank DINEOF reconstruction, the filled
composite) is run on the input with observations withheld (sstfill.data.withhold) and
compared with the mean of what was withheld, by valid-day class. Per class the model is
kept unless another candidate was better by more than SIGNIFICANCE standard errors (the
composite with the shared departure below counted against it, as it inherits it in full):
the withheld means are noisy, and a choice driven by that noise would cost accuracy where
the model is right. Sigma is then scaled to the chosen estimator's error on the withheld
observations. The same rule applies to the candidates run on the whole input. Why:
docs/model.md#step-9 and #step-10; how well: docs/accuracy.md#the-check-on-withheld-observations.

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
COMPOSITES = ("composite", "wide_fill")
"""Candidates that are the composite wherever a day was seen, and so inherit its error there."""


class _Blocks:
    """Per block of pixels, sums of: 1 (the pixel count), each candidate's squared error, the
    withheld mean's error variance less twice the shared covariance, the positive part of
    that covariance, and the model's sigma squared."""

    def __init__(self) -> None:
        self.sums: dict = {}  # block key (an int, or (month, key) once pooled) -> sums

    def add(self, keys: np.ndarray, columns: np.ndarray) -> None:
        """keys (P,) block of each pixel; columns (P, C) the values summed."""
        unique, inverse = np.unique(keys, return_inverse=True)
        totals = np.stack([np.bincount(inverse, column) for column in columns.T], axis=1)
        for key, total in zip(unique.tolist(), totals, strict=True):
            self.sums[key] = self.sums.get(key, 0.0) + total

    def merged(self, other: _Blocks) -> _Blocks:
        out = _Blocks()
        for source in (self, other):
            for key, total in source.sums.items():
                out.sums[key] = out.sums.get(key, 0.0) + total
        return out

    @property
    def pixels(self) -> int:
        return int(sum(total[0] for total in self.sums.values()))

    def table(self) -> np.ndarray:
        return np.array(list(self.sums.values()))


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
            rmse = ", ".join(f"{c} {r:.3f}" for c, r in zip(self.candidates, rule.rmse, strict=True))
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
        scored = withheld.scored & np.isfinite(sigma)
        for candidate in self.candidates:
            scored &= np.isfinite(maps[candidate])
        estimates = np.stack([maps[c][scored] for c in self.candidates]).astype(np.float64)  # scored pixels only
        rows, cols = np.nonzero(scored)
        width = -(-scored.shape[1] // BLOCK_PX)
        keys = (self.months * (-(-scored.shape[0] // BLOCK_PX)) + rows // BLOCK_PX) * width + cols // BLOCK_PX
        self.months += 1
        shared = withheld.shared_var[scored].astype(np.float64)
        columns = np.column_stack([np.ones(shared.size), np.square(estimates - withheld.reference[scored]).T,
                                   withheld.reference_var[scored] - 2 * shared, np.maximum(shared, 0.0),
                                   np.square(sigma[scored], dtype=np.float64)])
        counts = nobs[scored]
        for name, low, high in NOBS_CLASSES:
            pick = (counts >= low) & (counts <= high)
            if pick.any():
                self.blocks[name].add(keys[pick], columns[pick])

    @property
    def pixels(self) -> int:
        return sum(blocks.pixels for blocks in self.blocks.values())

    @classmethod
    def pooled(cls, parts: list[WithheldErrors]) -> WithheldErrors:
        """The errors of several months (each its own WithheldErrors) together, their blocks kept apart."""
        pooled = cls(parts[0].candidates)
        for index, part in enumerate(parts):
            if part.candidates != pooled.candidates:
                raise ValueError("pooling withheld errors of different candidates")
            for name, blocks in part.blocks.items():
                for key, total in blocks.sums.items():
                    pooled.blocks[name].sums[(index, key)] = total
            pooled.months += part.months
        return pooled

    def rule(self) -> ChoiceRule:
        """The rule fitted on what was added; classes with fewer than MIN_PIXELS take the pooled fit."""
        pooled = _Blocks()
        for blocks in self.blocks.values():
            pooled = pooled.merged(blocks)
        if not pooled.sums:
            raise ValueError("no withheld pixel to fit a rule on")
        pooled_rule = self._fit(pooled, pooled=True)
        classes = {name: self._fit(blocks) if blocks.pixels >= MIN_PIXELS else pooled_rule
                   for name, blocks in self.blocks.items()}
        return ChoiceRule(self.candidates, classes)

    def _fit(self, blocks: _Blocks, *, pooled: bool = False) -> ClassRule:
        table = blocks.table()
        count, squared, shared = table[:, 0], table[:, 1:1 + len(self.candidates)], table[:, -2]
        n = count.sum()
        reference_var, sigma_sq = table[:, -3].sum() / n, table[:, -1].sum() / n
        # The composite inherits the kept days' shared departure in full, which no withholding
        # shows; the model may correct it from the neighbours: it must win with that counted.
        handicap = np.stack([2 * shared if c in COMPOSITES else 0 * shared for c in self.candidates], axis=1)
        mse = squared.sum(axis=0) / n
        model = self.candidates.index(MODEL)
        best = int(np.argmin(mse + handicap.sum(axis=0) / n))
        if best != model and not _significant(squared[:, model] - squared[:, best] - handicap[:, best], count):
            best = model
        error_sq = max(mse[best] - reference_var, 0.0)
        scale = math.sqrt(error_sq / max(sigma_sq, 1e-12))
        if best == model:
            scale = max(scale, 1.0)  # the withheld errors understate the model's (module docstring)
        rmse = tuple(math.sqrt(max(float(m) - reference_var, 0.0)) for m in mse)
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
