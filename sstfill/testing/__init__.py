"""Seeded synthetic-data factory: gappy daily SST that looks like satellite L3, and its truth.

Tests, the bundled sample data and the training of the shipped default model all draw on
this, so the fields aim to look right to an oceanographer: a real coastline, a latitude and
seasonal climatology, cool eastern boundaries, a meandering western-boundary-current front
with rings, drifting mesoscale eddies and synoptic anomalies; then persistent clouds,
polar-orbiter swath gaps, areas unseen for a month and undetected-cloud retrievals hide them.
Scales are set in km and every field is a cell mean, so a region has the same feature sizes
and variances at 0.05 as at 1 degree (not the same realisation); on a global grid longitudes
wrap. All randomness comes from ``seed``.

Modules, one concern each: ``grid`` (boxes, random ocean regions, the grid's geography in
km), ``fields`` (Gaussian random fields), ``ocean`` (the truth), ``observe`` (what an L3
product sees of it), ``statistics`` (the numbers behind both, and random draws of them to
train on many families of data), ``times`` (calendars), ``synthetic`` (``synthetic_sst``,
tying them together) and ``formats`` (files as users hold them: CF cube, GHRSST L3S, ERA5,
CMIP tos).
"""

from sstfill.testing.formats import (
    GHRSST_TIME_UNITS,
    good_sst,
    write_cmip_tos,
    write_era5_like,
    write_ghrsst_l3,
    write_netcdf,
)
from sstfill.testing.grid import KM_PER_DEG, REGION_RESOLUTIONS, make_grid, random_ocean_region
from sstfill.testing.ocean import FREEZING_K
from sstfill.testing.statistics import GeneratorStatistics, random_statistics
from sstfill.testing.synthetic import synthetic_sst

__all__ = [
    "FREEZING_K",
    "GHRSST_TIME_UNITS",
    "KM_PER_DEG",
    "REGION_RESOLUTIONS",
    "GeneratorStatistics",
    "good_sst",
    "make_grid",
    "random_ocean_region",
    "random_statistics",
    "synthetic_sst",
    "write_cmip_tos",
    "write_era5_like",
    "write_ghrsst_l3",
    "write_netcdf",
]
