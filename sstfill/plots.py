"""Figures for 'sstfill evaluate --plot': maps of a month and RMSE by valid days.

matplotlib is an optional extra (pip install 'sstfill[plot]'), imported only here and only
when a figure is drawn. Figures are drawn on matplotlib's Agg canvas through the
object-oriented API (matplotlib.figure.Figure), never through pyplot, so the backend of a
notebook or script that calls sstfill is left as it was, and nothing needs a display.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from sstfill.data.scores import NOBS_CLASSES
from sstfill.errors import InputError, OutputError

LAND_GREY = (0.78, 0.78, 0.78, 1.0)


def require_matplotlib():
    """Return the matplotlib module, or raise InputError saying how to install it."""
    try:
        import matplotlib
    except ImportError:
        raise InputError("expected matplotlib for --plot, found none; pip install 'sstfill[plot]'") from None
    return matplotlib


def plot_month_maps(path: str | os.PathLike, month: str, reference: np.ndarray, reconstruction: np.ndarray,
                    lat: np.ndarray, lon: np.ndarray, *, name: str = "sstfill") -> Path:
    """One PNG with three maps side by side: reference, reconstruction, reconstruction - reference.

    Reference and reconstruction share one colour scale (kelvin); the error map uses a
    diverging colormap centred at 0. Land (where the reference is NaN) is grey; ocean pixels
    the reconstruction left empty are white.
    """
    require_matplotlib()
    from matplotlib.figure import Figure

    reference = np.asarray(reference, dtype=np.float64)
    reconstruction = np.asarray(reconstruction, dtype=np.float64)
    land = ~np.isfinite(reference)
    error = np.where(land, np.nan, reconstruction - reference)
    values = np.concatenate([reference[~land], reconstruction[np.isfinite(reconstruction) & ~land]])
    low, high = np.percentile(values, [1, 99]) if values.size else (0.0, 1.0)
    finite_error = np.abs(error[np.isfinite(error)])
    spread = float(np.percentile(finite_error, 99)) if finite_error.size else 0.0
    spread = spread or 1e-3
    rmse = float(np.sqrt(np.mean(finite_error**2))) if finite_error.size else float("nan")

    height, width = reference.shape
    aspect = width / max(height, 1)
    fig = Figure(figsize=(3 * min(max(3.2 * aspect, 2.5), 6.0) + 1.5, 3.6), layout="constrained")
    axes = fig.subplots(1, 3, sharex=True, sharey=True)
    panels = [(reference, "reference", "viridis", low, high),
              (reconstruction, name, "viridis", low, high),
              (error, f"{name} − reference (RMSE {rmse:.3f} K)", "RdBu_r", -spread, spread)]
    extent, origin = _extent(lat, lon)
    land_rgba = np.zeros((*land.shape, 4))
    land_rgba[land] = LAND_GREY
    import matplotlib

    for ax, (field, title, cmap_name, vmin, vmax) in zip(axes, panels, strict=True):
        cmap = matplotlib.colormaps[cmap_name].with_extremes(bad=(0, 0, 0, 0))
        ax.set_facecolor("white")
        image = ax.imshow(np.ma.masked_invalid(field), cmap=cmap, vmin=vmin, vmax=vmax, extent=extent, origin=origin,
                          interpolation="nearest", aspect="auto")
        ax.imshow(land_rgba, extent=extent, origin=origin, interpolation="nearest", aspect="auto")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("longitude (°)", fontsize=8)
        ax.tick_params(labelsize=7)
        bar = fig.colorbar(image, ax=ax, shrink=0.85)
        bar.set_label("K", fontsize=8)
        bar.ax.tick_params(labelsize=7)
    axes[0].set_ylabel("latitude (°)", fontsize=8)
    fig.suptitle(f"{month}: monthly mean SST", fontsize=10)
    return _save(fig, path)


def plot_rmse_by_valid_days(path: str | os.PathLike, report: dict) -> Path:
    """One PNG: RMSE against the number of valid days of the pixel (0, 1–4, 5–9, ≥10), one line per method."""
    require_matplotlib()
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.0, 4.0), layout="constrained")
    ax = fig.subplots()
    keys = [key for key, _, _ in NOBS_CLASSES]
    x = np.arange(len(keys))
    styles = [("o", "-"), ("s", "--"), ("^", ":"), ("D", "-."), ("v", "-")]
    for i, (name, score) in enumerate(report["methods"].items()):
        groups = score["by_valid_days"]
        rmse = [groups.get(key, {}).get("rmse") for key in keys]
        marker, line = styles[i % len(styles)]  # distinct, so that methods that coincide stay visible
        ax.plot(x, [np.nan if r is None else r for r in rmse], marker=marker, linestyle=line, label=name,
                markersize=7 - i, alpha=0.9)
    ax.set_xticks(x, [f"{key.replace('-', '–').replace('>=', '≥')} days" for key in keys])  # typographic labels
    ax.set_xlabel("valid days of the pixel in the month")
    ax.set_ylabel("RMSE of the monthly mean (K)")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"{Path(report['reconstruction']).name} vs {Path(report['reference']).name}", fontsize=9)
    return _save(fig, path)


def _extent(lat: np.ndarray, lon: np.ndarray) -> tuple[list[float], str]:
    """imshow extent (pixel edges) and origin for a regular-ish (lat, lon) grid in either order."""
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    dlat = abs(lat[1] - lat[0]) if lat.size > 1 else 1.0
    dlon = abs(lon[1] - lon[0]) if lon.size > 1 else 1.0
    origin = "lower" if lat.size < 2 or lat[-1] > lat[0] else "upper"
    return [lon.min() - dlon / 2, lon.max() + dlon / 2, lat.min() - dlat / 2, lat.max() + dlat / 2], origin


def _save(fig, path: str | os.PathLike) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
    except OSError as exc:
        raise OutputError(f"expected to write the figure {path}, found {exc.strerror or exc}; "
                          "choose a writable --plot directory") from None
    return path
