"""Sampling a small real image onto a larger grid: mirror tiling, scaling, rotation, drift.

The real images are small (a 160 x 256 satellite scene, 18 x 30 anomaly patterns) and a
case's grid may be larger or differently shaped. Reflecting the image about its edges
tiles the plane without seams, so any window at any scale and angle has continuous
content; it repeats only after two image widths.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage


def mirror_fold(x: np.ndarray, n: int) -> np.ndarray:
    """Map any coordinate onto 0..n-1 by reflecting at the ends (period 2 * (n - 1))."""
    period = 2.0 * (n - 1)
    y = np.mod(x, period)
    return np.where(y > n - 1, period - y, y)


@dataclass(frozen=True)
class View:
    """Where a target grid falls on the mirror-tiled image: target pixel (i, j) lands on
    source (row, col) = centre + rotation(angle) @ (scale_y * (i - ci), scale_x * (j - cj)),
    mirrored left-right when flip."""

    centre: tuple[float, float]  # source pixels
    angle: float  # radians
    scale: tuple[float, float]  # source pixels per target pixel, (y, x)
    flip: bool = False

    def moved(self, d_row: float, d_col: float, d_angle: float = 0.0) -> View:
        return View((self.centre[0] + d_row, self.centre[1] + d_col), self.angle + d_angle, self.scale, self.flip)


def random_view(rng: np.random.Generator, image_shape: tuple[int, int], scale: tuple[float, float], *,
                rotate: bool = True) -> View:
    """A view at a random place, angle (when rotate) and handedness of the mirror-tiled image."""
    ny, nx = image_shape
    centre = (float(rng.uniform(0, 2 * (ny - 1))), float(rng.uniform(0, 2 * (nx - 1))))
    angle = float(rng.uniform(0, 2 * np.pi)) if rotate else float(rng.choice([0.0, np.pi]))
    return View(centre, angle, scale, bool(rng.integers(2)))


def sample(image: np.ndarray, view: View, shape: tuple[int, int], *, order: int = 1) -> np.ndarray:
    """The mirror-tiled image seen through `view` on a target grid of `shape` (float32)."""
    ny, nx = shape
    i = (np.arange(ny) - 0.5 * (ny - 1)) * view.scale[0]
    j = (np.arange(nx) - 0.5 * (nx - 1)) * view.scale[1]
    if view.flip:
        j = -j
    ii, jj = np.meshgrid(i, j, indexing="ij")
    cos, sin = np.cos(view.angle), np.sin(view.angle)
    rows = mirror_fold(view.centre[0] + cos * ii - sin * jj, image.shape[0])
    cols = mirror_fold(view.centre[1] + sin * ii + cos * jj, image.shape[1])
    return ndimage.map_coordinates(image, [rows, cols], order=order, mode="nearest").astype(np.float32)


def periodic_scale(n_target: int, n_source: int, wanted: float) -> float:
    """The source-pixels-per-target-pixel nearest `wanted` at which n_target pixels span a
    whole number of mirror periods, so a sample wraps without a seam on a global grid."""
    period = 2.0 * (n_source - 1)
    repeats = max(1, round(n_target * wanted / period))
    return repeats * period / n_target
