"""The named cases: each turns a seed into (daily L3 dataset, monthly truth dataset).

A case builds a true daily field on its grid (a real background plus, for most, simulated
variability), clips it at the freezing point of sea water, treats sea at freezing as ice
covered, and observes it through real cloud shapes, swath gaps and retrieval errors. The
truth is the monthly mean of the true daily field over the sea (ice included), NaN on land.

  a real_background   OSTIA monthly fields, 5 S-5 N round the globe, interpolated to days,
                      12 months, no added variability: a smooth, low-rank truth on which a
                      learned model should not invent texture.
  b ostia_anomalies   the same band, 3 months, plus slow large anomalies and tropical
                      instability waves, noisier retrievals.
  c midlat_eddies     Kuroshio Extension at 0.25 degree (from the 2-degree climatology) with
                      a meandering front, mesoscale structure and slow anomalies; 1-degree land.
  d global_1deg       60 S-60 N at 1 degree, January 1982, from a day of OISST v2 moved
                      along the climatology's seasonal cycle; global, longitude wraps.
  e nonsquare_agulhas 0.5 x 0.75 degree cells, Agulhas retroflection region, strong front.
  f ice_edge          Barents Sea at 0.25 degree in late winter, water at -1.8 degC under ice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import xarray as xr

from . import anomalies, regrid
from .clouds import distance_to_cloud, seviri_clouds, swath_gaps
from .files import l3_dataset, truth_dataset
from .noise import NoiseSpec, retrieve
from .sources import land_1deg, oisst_day, ostia_monthly, str_climatology

FREEZING_K = 273.15 - 1.8
"""Sea water of ordinary salinity freezes at about -1.8 degC; ice covers water this cold."""


@dataclass(frozen=True)
class Streams:
    """Independent random streams of one case and seed: changing one part of a case
    (say its clouds) leaves the draws of the others as they were."""

    ocean: np.random.Generator
    clouds: np.random.Generator
    swaths: np.random.Generator
    noise: np.random.Generator

    @classmethod
    def of(cls, seed: int, key: str) -> Streams:
        return cls(*(np.random.default_rng(s) for s in np.random.SeedSequence([seed, ord(key)]).spawn(4)))


@dataclass
class Truth:
    """A case's true daily field before it is observed."""

    days: np.ndarray  # datetime64[D]
    lat: np.ndarray
    lon: np.ndarray
    kelvin: np.ndarray  # (days, lat, lon) float32, any value on land
    land: np.ndarray  # (lat, lon) bool
    sources: list[str]


def observe(name: str, truth: Truth, streams: Streams, *, cover: float,
            noise: NoiseSpec) -> tuple[xr.Dataset, xr.Dataset]:
    """Clip at freezing, observe through clouds, swath gaps and noise; the case's two datasets."""
    kelvin = np.maximum(truth.kelvin, np.float32(FREEZING_K))
    ice = (kelvin <= FREEZING_K + 0.05) & ~truth.land
    n_days, shape = truth.days.size, truth.land.shape
    cloud = seviri_clouds(streams.clouds, truth.lat, truth.lon, n_days, cover=cover)
    swaths = swath_gaps(streams.swaths, truth.lat, truth.lon, n_days)
    seen = ~truth.land & ~ice & ~cloud & ~swaths.gap
    sst, quality = retrieve(streams.noise, noise, kelvin, seen, swaths.off_nadir, swaths.pass_id,
                            distance_to_cloud(cloud))
    quality[(quality > 1) & (sst < FREEZING_K - 1.0)] = 1  # colder than sea water can be: rejected as bad
    months = truth.days.astype("datetime64[M]")
    labels = np.unique(months)
    monthly = np.stack([kelvin[months == m].mean(axis=0) for m in labels])
    monthly[:, truth.land] = np.nan
    sea_days = (~truth.land).sum() * n_days
    good = int((quality >= 4).sum())
    summary = (f"{name}: {n_days} days on {shape[0]} x {shape[1]} "
               f"({truth.lat[0]:.2f}..{truth.lat[-1]:.2f} N, {truth.lon[0]:.2f}..{truth.lon[-1]:.2f} E); "
               f"cloud cover {cloud[:, ~truth.land].mean():.2f}, swath gaps {swaths.gap[:, ~truth.land].mean():.2f}, "
               f"ice {ice.sum() / sea_days:.2f}, quality >= 4 on {good / sea_days:.2f} of sea pixel-days")
    source = "; ".join(truth.sources)
    daily_ds = l3_dataset(truth.days, truth.lat, truth.lon, sst, quality, truth.land, ice,
                          title=f"benchmarks/independent case {name}: daily L3-like SST", source=source)
    truth_ds = truth_dataset(labels, truth.lat, truth.lon, monthly,
                             title=f"benchmarks/independent case {name}: monthly mean of the true daily SST",
                             source=source)
    daily_ds.attrs["summary"] = truth_ds.attrs["summary"] = summary
    return daily_ds, truth_ds


def _days(first_month: np.datetime64, n_months: int) -> np.ndarray:
    first = np.datetime64(first_month, "M")
    return np.arange(first.astype("datetime64[D]"), (first + n_months).astype("datetime64[D]"))


def _ostia_band(days: np.ndarray) -> Truth:
    ostia = ostia_monthly()
    land = ~np.isfinite(ostia.values).any(axis=0)
    daily = regrid.monthly_to_daily(regrid.fill_nearest(ostia.values), ostia.times, days)
    return Truth(days, ostia.lat, ostia.lon, daily, land, [ostia.source])


def _climatology_region(days: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> Truth:
    """The 2-degree climatology, day by day, on a regional grid; land from the 1-degree mask."""
    clim, mask = str_climatology(), land_1deg()
    rows = (clim.lat >= lat[0] - 8) & (clim.lat <= lat[-1] + 8)
    daily = regrid.climatology_to_daily(clim.values[:, rows], days)
    kelvin = regrid.to_grid(daily, clim.lat[rows], clim.lon, lat, lon)
    land = regrid.nearest_mask(mask.values, mask.lat, mask.lon, lat, lon)
    return Truth(days, lat, lon, kelvin, land, [clim.source, mask.source])


def real_background(seed: int) -> tuple[xr.Dataset, xr.Dataset]:
    streams = Streams.of(seed, "a")
    year = 2007 + seed % 3
    truth = _ostia_band(_days(np.datetime64(f"{year}-01"), 12))
    noise = NoiseSpec(base_sigma=0.06, pass_bias=0.03, contamination=0.03, flagged_share=0.8)
    return observe("real_background", truth, streams, cover=float(streams.ocean.uniform(0.5, 0.7)), noise=noise)


def ostia_anomalies(seed: int) -> tuple[xr.Dataset, xr.Dataset]:
    streams = Streams.of(seed, "b")
    rng = streams.ocean
    first = ostia_monthly().times[int(rng.integers(1, 50))].astype("datetime64[M]")
    truth = _ostia_band(_days(first, 3))
    n = truth.days.size
    truth.kelvin += anomalies.slow_anomalies(rng, truth.lat, truth.lon, n, rms=rng.uniform(0.3, 0.6),
                                             feature_km=(200.0, 500.0))
    truth.kelvin += anomalies.tropical_waves(rng, truth.lat, truth.lon, n, amplitude=rng.uniform(0.4, 1.0))
    truth.sources.append("HadISST EOF shapes (eofs example data)")
    noise = NoiseSpec(base_sigma=rng.uniform(0.1, 0.25), contamination=rng.uniform(0.05, 0.12),
                      flagged_share=rng.uniform(0.4, 0.8))
    return observe("ostia_anomalies", truth, streams, cover=float(rng.uniform(0.4, 0.8)), noise=noise)


def _variable_region(name: str, key: str, seed: int, lat: np.ndarray, lon: np.ndarray, first: str, n_months: int, *,
                     front: tuple[float, float, float | None] | None, eddy_km: tuple[float, float],
                     eddy_rms: tuple[float, float], cover: tuple[float, float]) -> tuple[xr.Dataset, xr.Dataset]:
    """A climatology region with slow anomalies, mesoscale structure and optionally a front
    (jump range low, high in kelvin and its latitude or None for a random one)."""
    streams = Streams.of(seed, key)
    rng = streams.ocean
    truth = _climatology_region(_days(np.datetime64(first), n_months), lat, lon)
    n = truth.days.size
    truth.kelvin += anomalies.slow_anomalies(rng, lat, lon, n, rms=rng.uniform(0.25, 0.5))
    truth.kelvin += anomalies.mesoscale(rng, lat, lon, n, rms=rng.uniform(*eddy_rms), peak_km=rng.uniform(*eddy_km),
                                        slope=rng.uniform(2.0, 3.0), tau_days=rng.uniform(15.0, 40.0),
                                        drift_km_day=rng.uniform(1.0, 8.0))
    if front is not None:
        truth.kelvin += anomalies.front(rng, lat, lon, n, jump=rng.uniform(front[0], front[1]),
                                        width_km=rng.uniform(20.0, 70.0), latitude=front[2])
    truth.sources.append("HadISST EOF shapes (eofs example data)")
    noise = NoiseSpec(base_sigma=rng.uniform(0.08, 0.2), contamination=rng.uniform(0.04, 0.1),
                      flagged_share=rng.uniform(0.5, 0.8))
    return observe(name, truth, streams, cover=float(rng.uniform(*cover)), noise=noise)


def midlat_eddies(seed: int) -> tuple[xr.Dataset, xr.Dataset]:
    month = 1 + seed % 12
    return _variable_region("midlat_eddies", "c", seed, regrid.cell_centres(25.0, 55.0, 0.25),
                            regrid.cell_centres(135.0, 185.0, 0.25), f"2015-{month:02d}", 2,
                            front=(2.0, 5.0, None), eddy_km=(120.0, 300.0), eddy_rms=(0.4, 0.8), cover=(0.55, 0.85))


def nonsquare_agulhas(seed: int) -> tuple[xr.Dataset, xr.Dataset]:
    month = 1 + (seed + 6) % 12
    return _variable_region("nonsquare_agulhas", "e", seed, regrid.cell_centres(-50.0, -20.0, 0.5),
                            regrid.cell_centres(5.0, 80.0, 0.75), f"2016-{month:02d}", 2,
                            front=(3.0, 5.0, -40.0), eddy_km=(200.0, 450.0), eddy_rms=(0.4, 0.8), cover=(0.5, 0.8))


def ice_edge(seed: int) -> tuple[xr.Dataset, xr.Dataset]:
    return _variable_region("ice_edge", "f", seed, regrid.cell_centres(66.0, 80.0, 0.25),
                            regrid.cell_centres(0.0, 50.0, 0.25), f"2018-{2 + seed % 2:02d}", 2,
                            front=None, eddy_km=(60.0, 150.0), eddy_rms=(0.2, 0.4), cover=(0.7, 0.9))


def global_1deg(seed: int) -> tuple[xr.Dataset, xr.Dataset]:
    """OISST of 31 December 1981 plus the climatology's change since that day, 1 degree, 60 S-60 N."""
    streams = Streams.of(seed, "d")
    rng = streams.ocean
    oisst, clim, mask = oisst_day(), str_climatology(), land_1deg()
    days = _days(np.datetime64("1982-01"), 1)
    anchor = oisst.sst.times[:1]
    seasonal = regrid.climatology_to_daily(clim.values, np.concatenate([anchor, days]))
    seasonal = regrid.to_grid(seasonal, clim.lat, clim.lon, oisst.sst.lat, oisst.sst.lon)
    background = oisst.sst.values[None] + (seasonal[1:] - seasonal[:1])
    background[:, np.nan_to_num(oisst.ice) > 0.15] = FREEZING_K
    background[:, ~np.isfinite(oisst.sst.values)] = np.nan  # land: filled from the sea by to_grid
    lat, lon = regrid.cell_centres(-60.0, 60.0, 1.0), regrid.cell_centres(0.0, 360.0, 1.0)
    kelvin = regrid.to_grid(background, oisst.sst.lat, oisst.sst.lon, lat, lon)
    land = regrid.nearest_mask(mask.values, mask.lat, mask.lon, lat, lon)
    truth = Truth(days, lat, lon, kelvin, land, [oisst.sst.source, clim.source, mask.source,
                                                 "HadISST EOF shapes (eofs example data)"])
    n = days.size
    truth.kelvin += anomalies.slow_anomalies(rng, lat, lon, n, rms=rng.uniform(0.2, 0.4), feature_km=(250.0, 600.0))
    truth.kelvin += anomalies.mesoscale(rng, lat, lon, n, rms=rng.uniform(0.1, 0.25), peak_km=rng.uniform(400.0, 800.0),
                                        slope=rng.uniform(2.0, 3.0), tau_days=rng.uniform(20.0, 40.0),
                                        drift_km_day=rng.uniform(1.0, 5.0))
    noise = NoiseSpec(base_sigma=rng.uniform(0.1, 0.2), contamination=rng.uniform(0.04, 0.1))
    return observe("global_1deg", truth, streams, cover=float(rng.uniform(0.5, 0.7)), noise=noise)


@dataclass(frozen=True)
class Case:
    key: str
    name: str
    build: Callable[[int], tuple[xr.Dataset, xr.Dataset]]


CASES = tuple(Case(key, build.__name__, build) for key, build in (
    ("a", real_background), ("b", ostia_anomalies), ("c", midlat_eddies), ("d", global_1deg),
    ("e", nonsquare_agulhas), ("f", ice_edge)))


def select(spec: str | None) -> list[Case]:
    """Cases by comma-separated keys or names ("a,c" or "real_background"); all for None or ""."""
    if not spec:
        return list(CASES)
    wanted = [part.strip() for part in spec.split(",") if part.strip()]
    found = [case for case in CASES if case.key in wanted or case.name in wanted]
    unknown = set(wanted) - {c.key for c in found} - {c.name for c in found}
    if unknown:
        raise ValueError(f"unknown case(s) {sorted(unknown)}; choose from "
                         + ", ".join(f"{c.key} ({c.name})" for c in CASES))
    return found
