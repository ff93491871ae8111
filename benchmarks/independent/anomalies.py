"""Day-to-day SST variability added to a real background: kinds and statistics of our own.

- slow_anomalies: large anomalies whose shapes are the leading EOFs of 50 winters of
  HadISST anomalies (shrunk to synoptic sizes, hundreds of km to ~1500 km) and whose
  amplitudes follow damped oscillators (AR(2)) with decorrelation times of weeks.
- mesoscale: a random field synthesised in Fourier space with a peaked spectrum falling as
  k**-slope beyond the peak (slope 2-3, as observed SST spectra), advected by a uniform
  current and decorrelating through random phase drift, faster at small scales.
- front: a sharp (clipped linear) front with a meandering path of a few sinusoidal
  modes travelling east, warm side towards the equator.
- tropical_waves: westward tropical instability waves north of the equator in the
  eastern Pacific and Atlantic.

All return float32 (days, lat, lon) kelvin anomalies; all randomness comes from `rng`.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from .regrid import KM_PER_DEGREE, fill_nearest, is_global, pixel_km
from .sampling import periodic_scale, random_view, sample
from .sources import hadisst_winter_anomalies


@cache
def hadisst_eofs(n_modes: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """(patterns (n_modes, lat, lon) of unit RMS over the sea, land filled by the nearest sea
    value; the standard deviation of each mode's principal component, kelvin), from an
    area-weighted SVD of the HadISST winter anomalies."""
    field = hadisst_winter_anomalies()
    sea = np.isfinite(field.values).all(axis=0)
    weight = np.sqrt(np.cos(np.radians(field.lat)))[:, None] * np.ones(field.lon.size)
    matrix = (field.values[:, sea] * weight[sea]).astype(np.float64)
    matrix -= matrix.mean(axis=0)
    _, singular, vt = np.linalg.svd(matrix, full_matrices=False)
    patterns = np.full((n_modes, *sea.shape), np.nan, np.float32)
    std = np.empty(n_modes, np.float32)
    for k in range(n_modes):
        mode = vt[k] / weight[sea]  # back to kelvin per unit principal component
        rms = np.sqrt(np.mean(mode**2))
        patterns[k][sea] = mode / rms
        std[k] = singular[k] / np.sqrt(matrix.shape[0]) * rms
    return fill_nearest(patterns), std


def damped_oscillators(rng: np.random.Generator, n_days: int, n_series: int, tau_days: np.ndarray,
                       period_days: np.ndarray, spin_up: int = 365) -> np.ndarray:
    """(n_days, n_series) unit-variance AR(2) series, each with its own damping time and period."""
    r = np.exp(-1.0 / tau_days)
    a1, a2 = 2.0 * r * np.cos(2.0 * np.pi / period_days), -(r**2)
    shocks = rng.standard_normal((spin_up + n_days, n_series))
    x = np.zeros_like(shocks)
    for t in range(2, x.shape[0]):
        x[t] = a1 * x[t - 1] + a2 * x[t - 2] + shocks[t]
    x = x[spin_up:]
    return (x / x.std(axis=0)).astype(np.float32)


def slow_anomalies(rng: np.random.Generator, lat: np.ndarray, lon: np.ndarray, n_days: int, *, rms: float,
                   feature_km: tuple[float, float] = (150.0, 350.0), tau_days: tuple[float, float] = (8.0, 30.0),
                   n_modes: int = 8) -> np.ndarray:
    """Large slow anomalies of spatio-temporal RMS `rms` kelvin: HadISST EOF shapes, AR(2) amplitudes.

    One HadISST 5-degree cell is laid over feature_km (drawn in that range) of the target,
    so the basin-scale patterns become regional ones; all modes share that view so they
    keep their real co-location.
    """
    patterns, std = hadisst_eofs(n_modes)
    dy, dx = pixel_km(lat, lon)
    cell_km = rng.uniform(*feature_km)
    scale = (dy / cell_km, dx / cell_km)
    periodic = is_global(lon)
    if periodic:
        scale = (scale[0], periodic_scale(lon.size, patterns.shape[2], scale[1]))
    view = random_view(rng, patterns.shape[1:], scale, rotate=not periodic)
    maps = np.stack([sample(p, view, (lat.size, lon.size), order=3) for p in patterns])
    series = damped_oscillators(rng, n_days, n_modes, rng.uniform(*tau_days, n_modes),
                                rng.uniform(40.0, 160.0, n_modes))
    field = np.einsum("tk,kyx->tyx", series * std, maps, optimize=True)
    return (field * (rms / field.std())).astype(np.float32)


def mesoscale(rng: np.random.Generator, lat: np.ndarray, lon: np.ndarray, n_days: int, *, rms: float,
              peak_km: float, slope: float, tau_days: float, drift_km_day: float) -> np.ndarray:
    """Mesoscale structure of RMS `rms` kelvin by spectral synthesis.

    Isotropic 1-D spectrum E(k) ~ (k/k0)**2 below the peak k0 = 2 pi / peak_km and ~ k**-slope
    above it. Each Fourier mode's phase drifts at a Gaussian random rate of standard
    deviation (sqrt(2) / tau_days) * (k/k0)**(2/3) radians a day, and the whole field moves with a uniform current of
    drift_km_day in a random direction; so at the peak scale a day's field correlates with
    the field L days later as about exp(-(L / tau_days)**2). The domain is padded by half in each direction
    (not in longitude on a global grid, which wraps) so that the FFT's own periodicity
    does not show.
    """
    ny, nx = lat.size, lon.size
    dy, dx = pixel_km(lat, lon)
    py = ny + max(8, ny // 2)
    px = nx if is_global(lon) else nx + max(8, nx // 2)
    ky = 2.0 * np.pi * np.fft.fftfreq(py, d=dy)[:, None]
    kx = 2.0 * np.pi * np.fft.fftfreq(px, d=dx)[None, :]
    k = np.hypot(ky, kx)
    k0 = 2.0 * np.pi / peak_km
    with np.errstate(divide="ignore", invalid="ignore"):
        q = k / k0
        spectrum_1d = q**2 / (1.0 + q**2) ** ((slope + 2.0) / 2.0)
        amplitude = np.sqrt(np.where(k > 0, spectrum_1d / k, 0.0))
    phase = rng.uniform(0.0, 2.0 * np.pi, k.shape)
    rate = rng.standard_normal(k.shape) * (np.sqrt(2.0) / tau_days) * q ** (2.0 / 3.0)
    heading = rng.uniform(0.0, 2.0 * np.pi)
    advect = kx * drift_km_day * np.cos(heading) + ky * drift_km_day * np.sin(heading)
    out = np.empty((n_days, ny, nx), np.float32)
    for t in range(n_days):
        spectrum = amplitude * np.exp(1j * (phase + (rate - advect) * t))
        out[t] = np.fft.ifft2(spectrum).real[:ny, :nx]
    out *= np.float32(rms / out.std())
    return out


def front(rng: np.random.Generator, lat: np.ndarray, lon: np.ndarray, n_days: int, *, jump: float,
          width_km: float, latitude: float | None = None) -> np.ndarray:
    """A front of `jump` kelvin across width_km, its path meandering and travelling east.

    The path runs within 30 degrees of east through `latitude` (default: a random place in
    the middle half of the grid); three meander modes of 150-700 km wavelength and 10-60 km
    amplitude move east at 2-10 km/day. The anomaly is -jump/2 on the poleward side and
    +jump/2 on the equatorward side, so it sharpens the background's gradient.
    """
    middle = float(np.median(lat))
    if latitude is None:
        latitude = rng.uniform(lat[0] + 0.25 * (lat[-1] - lat[0]), lat[-1] - 0.25 * (lat[-1] - lat[0]))
    y = ((lat - latitude) * KM_PER_DEGREE)[:, None]
    x = ((lon - np.median(lon)) * KM_PER_DEGREE * np.cos(np.radians(middle)))[None, :]
    angle = rng.uniform(-np.pi / 6, np.pi / 6)
    along = x * np.cos(angle) + y * np.sin(angle)
    across = -x * np.sin(angle) + y * np.cos(angle)
    wavelength = rng.uniform(150.0, 700.0, 3)
    amplitude = rng.uniform(10.0, 60.0, 3)
    speed = rng.uniform(2.0, 10.0, 3)
    offset = rng.uniform(0.0, 2.0 * np.pi, 3)
    poleward = 1.0 if middle >= 0 else -1.0
    out = np.empty((n_days, lat.size, lon.size), np.float32)
    for t in range(n_days):
        path = sum(a * np.sin(2.0 * np.pi * (along - c * t) / w + o)
                   for a, w, c, o in zip(amplitude, wavelength, speed, offset, strict=True))
        out[t] = -poleward * jump * np.clip((across - path) / width_km, -0.5, 0.5)
    return out


TIW_BASINS = ((180.0, 265.0), (-35.0, 10.0))
"""Longitude spans (degrees east) of the eastern Pacific and Atlantic cold tongues."""


def tropical_waves(rng: np.random.Generator, lat: np.ndarray, lon: np.ndarray, n_days: int, *,
                   amplitude: float) -> np.ndarray:
    """Tropical instability waves: `amplitude` kelvin, 700-1300 km long, 18-35 day periods,
    travelling west, centred 1-3 N over 2-3 degrees of latitude, in TIW_BASINS only."""
    wavelength, period = rng.uniform(700.0, 1300.0), rng.uniform(18.0, 35.0)
    centre, width, phase = rng.uniform(1.0, 3.0), rng.uniform(2.0, 3.0), rng.uniform(0.0, 2.0 * np.pi)
    envelope = np.exp(-(((lat - centre) / width) ** 2))[:, None]
    taper = np.zeros(lon.size)
    for west, east in TIW_BASINS:
        position = (np.mod(lon - west, 360.0)) / (east - west)
        inside = position <= 1.0
        taper = np.maximum(taper, np.where(inside, np.sin(np.pi * np.clip(position, 0, 1)) ** 0.5, 0.0))
    x_km = lon * KM_PER_DEGREE
    out = np.empty((n_days, lat.size, lon.size), np.float32)
    for t in range(n_days):
        wave = taper * np.cos(2.0 * np.pi * (x_km / wavelength + t / period) + phase)
        out[t] = amplitude * envelope * wave[None, :]
    return out
