"""CF-1.8 / ACDD-1.3 monthly output, written month by month so memory stays bounded.

    dimensions: time = N ; nv = 2 ; lat = NY ; lon = NX ;
    variables:
        double time(time) ;  standard_name = "time", bounds = "time_bnds", calendar = <input's>
        double time_bnds(time, nv) ;             start and end of each month
        double lat(lat), lon(lon) ;              the input's grid, unchanged
        float  sst(time, lat, lon) ;             monthly mean, K, standard_name of the input,
                                                 cell_methods = "time: mean", _FillValue on land
        float  sst_uncertainty(time, lat, lon) ; one standard deviation of the reconstruction, K
        short  nobs(time, lat, lon) ;            valid daily observations in the month,
                                                 standard_name = "number_of_observations"
    global attributes: CF-1.8 and ACDD-1.3 (title, summary, history, source, date_created,
        time_coverage_*, geospatial_*), one map per zlib-compressed chunk.

With ``pack`` the SST is int16 with scale_factor 0.001 K and add_offset 298.15 K, as
GHRSST L4 analysed_sst. Checked by tests/io/test_write.py with the IOOS compliance-checker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import cftime
import netCDF4
import numpy as np

from sstfill import __version__
from sstfill.errors import ResultError

FLOAT_FILL = np.float32(netCDF4.default_fillvals["f4"])
SHORT_FILL = np.int16(-32768)
PACK_SCALE, PACK_OFFSET = 0.001, 298.15  # as GHRSST L4 analysed_sst: 265.4 K .. 330.9 K in 1 mK steps
PACK_RANGE = (-32767, 32767)
SST_VALID_RANGE = (260.0, 320.0)  # K; the float output's valid_min/valid_max
UNCERTAINTY_MAX = 50.0  # K; sst_uncertainty's valid_max
TIME_UNITS = "days since 1970-01-01 00:00:00"
STANDARD_NAME_VOCABULARY = "CF Standard Name Table v93"
SELF_SUPERVISED_UNCERTAINTY = ("the model was trained self-supervised, against the mean of well-observed days rather "
                               "than a gap-free truth: this is its spread around such means and understates the error "
                               "against the true monthly mean")

UNCALIBRATED = "the model's own estimate, not checked on withheld observations of this input"


@dataclass
class OutputInfo:
    standard_name: str
    calendar: str
    history: str
    model_id: str
    sources: list[str]
    land_source: str
    pack: bool = False
    training_mode: str = "supervised"  # the model's (DataContract.training_mode)
    calibration: str = UNCALIBRATED  # how sst and sigma were chosen on withheld observations (reconstruct)


def _num(times: np.ndarray, calendar: str) -> np.ndarray:
    values = [t if isinstance(t, cftime.datetime) else np.datetime64(t, "us").astype(datetime) for t in times]
    return np.asarray(cftime.date2num(values, TIME_UNITS, calendar=calendar), dtype=np.float64)


class MonthlyWriter:
    """Create the output file up front, then fill it one month (or window) at a time."""

    def __init__(self, path: Path, lat: np.ndarray, lon: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                 info: OutputInfo):
        self.path, self.info = path, info
        self.nc = netCDF4.Dataset(path, "w", format="NETCDF4")
        try:
            self._define(lat, lon, starts, ends)
        except BaseException:
            self.nc.close()
            raise

    def _define(self, lat: np.ndarray, lon: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> None:
        nc, info = self.nc, self.info
        ny, nx, nt = lat.size, lon.size, len(starts)
        nc.createDimension("time", nt)
        nc.createDimension("nv", 2)
        nc.createDimension("lat", ny)
        nc.createDimension("lon", nx)

        start_num, end_num = _num(starts, info.calendar), _num(ends, info.calendar)
        time = nc.createVariable("time", "f8", ("time",))
        time.setncatts({"standard_name": "time", "long_name": "time", "units": TIME_UNITS, "calendar": info.calendar,
                        "axis": "T", "bounds": "time_bnds"})
        time[:] = 0.5 * (start_num + end_num)
        bounds = nc.createVariable("time_bnds", "f8", ("time", "nv"))
        bounds[:] = np.stack([start_num, end_num], axis=1)

        for name, values, attrs in (
            ("lat", lat, {"standard_name": "latitude", "long_name": "latitude", "units": "degrees_north",
                          "axis": "Y"}),
            ("lon", lon, {"standard_name": "longitude", "long_name": "longitude", "units": "degrees_east",
                          "axis": "X"}),
        ):
            var = nc.createVariable(name, "f8", (name,))
            var.setncatts(attrs)
            var[:] = values

        chunks = (1, ny, nx)  # one map per chunk
        common: dict[str, Any] = {"zlib": True, "complevel": 4, "chunksizes": chunks}
        if info.pack:
            sst = nc.createVariable("sst", "i2", ("time", "lat", "lon"), fill_value=SHORT_FILL, **common)
            sst.setncatts({"scale_factor": np.float32(PACK_SCALE), "add_offset": np.float32(PACK_OFFSET),
                           "valid_min": np.int16(PACK_RANGE[0]), "valid_max": np.int16(PACK_RANGE[1])})
            sst.set_auto_maskandscale(False)  # packed by _pack, so rounding and land are explicit
        else:
            sst = nc.createVariable("sst", "f4", ("time", "lat", "lon"), fill_value=FLOAT_FILL, **common)
            sst.setncatts({"valid_min": np.float32(SST_VALID_RANGE[0]), "valid_max": np.float32(SST_VALID_RANGE[1])})
        sst.setncatts({
            "standard_name": info.standard_name,
            "long_name": "monthly mean sea surface temperature, gap-filled by sstfill",
            "units": "K", "cell_methods": "time: mean", "coverage_content_type": "modelResult",
            "ancillary_variables": "sst_uncertainty nobs",
        })
        unc = nc.createVariable("sst_uncertainty", "f4", ("time", "lat", "lon"), fill_value=FLOAT_FILL, **common)
        unc.setncatts({"standard_name": f"{info.standard_name} standard_error",
                       "long_name": "one-sigma uncertainty of the monthly mean sea surface temperature",
                       "units": "K", "cell_methods": "time: mean", "coverage_content_type": "qualityInformation",
                       "valid_min": np.float32(0.0), "valid_max": np.float32(UNCERTAINTY_MAX)})
        unc.calibration = info.calibration
        if info.training_mode == "self-supervised":
            unc.comment = SELF_SUPERVISED_UNCERTAINTY
        nobs = nc.createVariable("nobs", "i2", ("time", "lat", "lon"), fill_value=np.int16(-1), **common)
        nobs.setncatts({"standard_name": "number_of_observations",
                        "long_name": "number of days with a valid observation in the month", "units": "1",
                        "coverage_content_type": "auxiliaryInformation",
                        "valid_min": np.int16(0), "valid_max": np.int16(31)})
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        nc.setncatts({
            "Conventions": "CF-1.8, ACDD-1.3",
            "title": "Gap-free monthly sea surface temperature",
            "summary": ("Monthly mean sea surface temperature reconstructed from gappy daily observations by sstfill's "
                        "spatio-temporal transformer; sst_uncertainty is the model's one-sigma estimate and nobs the "
                        "number of valid daily observations behind each value."),
            "keywords": "sea surface temperature, gap filling, monthly mean, deep learning",
            "history": f"{now} {info.history}",
            "source": f"sstfill {__version__}, model {info.model_id}",
            "sstfill_version": __version__,
            "model_id": info.model_id,
            "model_training_mode": info.training_mode,
            "input_files": " ".join(Path(s).name for s in info.sources),
            "land_mask_source": info.land_source,
            "date_created": now,
            "creator_name": "sstfill",
            "product_version": __version__,
            "processing_level": "L4",
            "cdm_data_type": "Grid",
            "standard_name_vocabulary": STANDARD_NAME_VOCABULARY,
            "time_coverage_start": _iso(starts[0]),
            "time_coverage_end": _iso(ends[-1]),
            "time_coverage_duration": f"P{_months_between(starts[0], ends[-1])}M",
            "time_coverage_resolution": "P1M",
            **geospatial_attributes(lat, lon),
        })

    def write(self, index: int, sst: np.ndarray, uncertainty: np.ndarray, nobs: np.ndarray) -> None:
        """Month `index`: arrays (lat, lon), NaN where there is no value (land)."""
        nc = self.nc
        nc["sst"][index] = _pack(sst) if self.info.pack else np.ma.masked_invalid(sst)
        nc["sst_uncertainty"][index] = np.ma.masked_invalid(uncertainty)
        nc["nobs"][index] = np.ma.masked_array(nobs.astype(np.int16), mask=~np.isfinite(sst))

    def set_calibration(self, text: str) -> None:
        """How sst and sigma were chosen (reconstruct's check), known only once every month is done."""
        self.nc["sst_uncertainty"].calibration = text

    def close(self) -> None:
        if self.nc.isopen():
            self.nc.close()


def check_result(sst: np.ndarray, uncertainty: np.ndarray, ocean: np.ndarray, *, pack: bool, where: str) -> None:
    """Refuse a month whose SST or sigma is missing, non-finite or outside the range the file declares, on any
    ocean pixel: such a map is a damaged or unsuited model's, never data (inputs outside that range are dropped)."""
    low, high = SST_VALID_RANGE
    if pack:
        low = max(low, PACK_OFFSET + PACK_RANGE[0] * PACK_SCALE)
        high = min(high, PACK_OFFSET + PACK_RANGE[1] * PACK_SCALE)
    with np.errstate(invalid="ignore"):
        bad_sst = ocean & ~((sst >= low) & (sst <= high))
        bad_sigma = ocean & ~((uncertainty >= 0) & (uncertainty <= UNCERTAINTY_MAX))
    for bad, name, values, (lo, hi) in ((bad_sst, "SST", sst, (low, high)),
                                        (bad_sigma, "uncertainty", uncertainty, (0.0, UNCERTAINTY_MAX))):
        if bad.any():
            y, x = np.argwhere(bad)[0]
            raise ResultError(
                f"expected {name} within {lo:g}..{hi:g} K on every ocean pixel of {where}, found {int(bad.sum())} "
                f"pixel(s) that are not (the first at row {y}, column {x}: {values[y, x]:g}); nothing was written; "
                "the model file may be damaged or unsuited to this input: retry with the bundled model (omit --model)"
            )


def _pack(sst: np.ndarray) -> np.ndarray:
    """Kelvin to int16 counts of PACK_SCALE about PACK_OFFSET, rounded and clipped; fill where NaN."""
    finite = np.isfinite(sst)
    counts = np.round((np.where(finite, sst, PACK_OFFSET) - np.float32(PACK_OFFSET)) / np.float32(PACK_SCALE))
    return np.where(finite, np.clip(counts, *PACK_RANGE), SHORT_FILL).astype(np.int16)


def geospatial_attributes(lat: np.ndarray, lon: np.ndarray) -> dict:
    """ACDD extents of the grid's cell centres, in the input's own longitude convention
    (-180..180, 0..360, or 160..200 past the date line), so they match the lon variable."""
    south, north = float(np.min(lat)), float(np.max(lat))
    west, east = float(np.min(lon)), float(np.max(lon))
    corners = [(west, south), (east, south), (east, north), (west, north), (west, south)]
    attrs = {
        "geospatial_lat_min": south, "geospatial_lat_max": north,
        "geospatial_lon_min": west, "geospatial_lon_max": east,
        "geospatial_lat_units": "degrees_north", "geospatial_lon_units": "degrees_east",
        "geospatial_bounds": "POLYGON ((" + ", ".join(f"{y:g} {x:g}" for x, y in corners) + "))",
        "geospatial_bounds_crs": "EPSG:4326",  # latitude first, as the polygon above
    }
    for name, values in (("lat", lat), ("lon", lon)):
        if values.size > 1:
            attrs[f"geospatial_{name}_resolution"] = f"{float(np.median(np.abs(np.diff(values)))):g} degree"
    return attrs


def _months_between(start, end) -> int:
    def year_month(t) -> int:
        t = t if isinstance(t, cftime.datetime) else np.datetime64(t, "s").astype(datetime)
        return t.year * 12 + t.month - 1
    return year_month(end) - year_month(start)


def _iso(t) -> str:
    if isinstance(t, cftime.datetime):
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(np.datetime_as_string(np.datetime64(t, "s"), unit="s")) + "Z"
