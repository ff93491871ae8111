"""Retrieval errors and GHRSST quality levels of the pixels a radiometer sees.

- Noise is heteroscedastic, 0.05-0.5 K: larger towards the swath edge (longer path through
  the atmosphere), next to clouds, and over warm (humid) water; heavy-tailed (Student t
  with 4 degrees of freedom, scaled to that sigma).
- Each pass has its own bias (calibration and atmospheric correction differ by orbit).
- Next to clouds, some retrievals are cloud-contaminated: 0.3 K to 6 K too cold. A share of
  them is caught and flagged with quality level 1-3, the rest pass as acceptable (4), the
  hardest case for any method that trusts quality level 4 and up.

Quality levels: 0 no data, 1 bad, 2 worst, 3 low, 4 acceptable, 5 best.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SIGMA_RANGE = (0.05, 0.5)
T_DOF = 4


@dataclass(frozen=True)
class NoiseSpec:
    """How noisy a case's retrievals are (kelvin, probabilities)."""

    base_sigma: float = 0.12  # noise at nadir, far from clouds, over 20 degC water
    pass_bias: float = 0.08  # standard deviation of a pass's bias
    contamination: float = 0.08  # chance that a clear pixel touching a cloud is contaminated
    flagged_share: float = 0.6  # of contaminated retrievals, the share given quality level 1-3


def retrieval_sigma(spec: NoiseSpec, truth: np.ndarray, off_nadir: np.ndarray, cloud_px: np.ndarray) -> np.ndarray:
    """One-sigma retrieval noise (kelvin) of each pixel-day, within SIGMA_RANGE."""
    humid = 1.0 + 0.03 * np.clip(truth - 293.15, 0.0, None)
    edge = 1.0 + 0.8 * np.exp(-(cloud_px - 1.0) / 1.5)
    view = 1.0 + 1.2 * off_nadir**2
    return np.clip(spec.base_sigma * humid * edge * view, *SIGMA_RANGE).astype(np.float32)


def retrieve(rng: np.random.Generator, spec: NoiseSpec, truth: np.ndarray, seen: np.ndarray, off_nadir: np.ndarray,
             pass_id: np.ndarray, cloud_px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(retrieved SST, NaN where not seen; quality_level int8) for (days, lat, lon) arrays.

    cloud_px: distance in grid pixels to the nearest cloud (clouds.distance_to_cloud).
    """
    sigma = retrieval_sigma(spec, truth, off_nadir, cloud_px)
    noise = rng.standard_t(T_DOF, truth.shape).astype(np.float32) * np.float32(np.sqrt((T_DOF - 2) / T_DOF))
    ids, inverse = np.unique(pass_id, return_inverse=True)
    bias = (spec.pass_bias * rng.standard_normal(ids.size)).astype(np.float32)[inverse.reshape(pass_id.shape)]
    sst = truth + sigma * noise + bias

    quality = np.where(seen, 5, 0).astype(np.int8)
    quality[seen & ((cloud_px <= 2.0) | (off_nadir > 0.8) | (sigma > 0.3))] = 4
    near = seen & (cloud_px <= 3.0)
    chance = spec.contamination * np.exp(-(cloud_px - 1.0) / 1.0)
    bad = near & (rng.random(truth.shape) < chance)
    cold = np.minimum(0.3 + rng.exponential(1.0, int(bad.sum())), 6.0).astype(np.float32)
    sst[bad] -= cold
    flagged = rng.random(cold.size) < spec.flagged_share
    levels = np.where(cold > 2.5, 1, np.where(cold > 1.0, 2, 3)).astype(np.int8)
    quality[bad] = np.where(flagged, levels, np.int8(4))
    sst[~seen] = np.nan
    return sst.astype(np.float32), quality
