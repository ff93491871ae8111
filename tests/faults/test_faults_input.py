"""Faults in what sstfill reads: truncated files, ambiguous variables, impossible grids,
evaluate given the wrong files, an unlistable directory, a target with an empty month."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import xarray as xr
from harness import Run, assert_ok, assert_refused, sstfill

from sstfill.testing import write_netcdf


def reconstruct(model: Path, source: Path, out_dir: Path, *options) -> Run:
    return sstfill("reconstruct", source, out_dir / "monthly.nc", "--model", model, "--device", "cpu", "--no-check",
                   *options)


def as_netcdf3(source: Path, path: Path, data_model: str) -> Path:
    """The daily file in a classic format, time as the record dimension: coordinates first, days last."""
    ds = xr.load_dataset(source)
    for var in ds.variables.values():
        var.encoding = {}
    ds.to_netcdf(path, format=data_model, engine="netcdf4", unlimited_dims=["time"])
    return path


def cut(path: Path, size: int, name: str) -> Path:
    truncated = path.with_name(name)
    truncated.write_bytes(path.read_bytes()[:size])
    return truncated


@pytest.mark.slow
def test_truncated_netcdf3_and_netcdf4_are_named_truncated(one_month, tiny_model, out_dir, tmp_path):
    """At 90 % a classic file used to be read with zeros for the missing days and a warning."""
    classic = as_netcdf3(one_month, tmp_path / "classic.nc", "NETCDF3_CLASSIC")
    offset64 = as_netcdf3(one_month, tmp_path / "offset64.nc", "NETCDF3_64BIT_OFFSET")
    cdf5 = as_netcdf3(one_month, tmp_path / "cdf5.nc", "NETCDF3_64BIT_DATA")
    with netCDF4.Dataset(cdf5) as nc:  # every variable's data is a multiple of 4 bytes: no padding
        header_end = cdf5.stat().st_size - sum(var.size * var.dtype.itemsize for var in nc.variables.values())
    cases = [(classic, int(0.9 * classic.stat().st_size)), (offset64, int(0.5 * offset64.stat().st_size)),
             (cdf5, header_end), (one_month, int(0.5 * one_month.stat().st_size))]
    for whole, size in cases:
        truncated = cut(whole, size, f"cut_{size}_{whole.name}")
        assert_refused(reconstruct(tiny_model, truncated, out_dir),
                       [f"{truncated.resolve()} is truncated", f"expected {whole.stat().st_size} bytes",
                        f"found {size}", "re-download or regenerate it"], out_dir)


@pytest.mark.slow
def test_two_sst_variables_are_refused_listing_both(one_month, tiny_model, out_dir, tmp_path):
    """sst_night before sst, both with an SST standard_name: the first used to be taken silently."""
    ds = xr.load_dataset(one_month)
    night = (ds["sst"] + 5.0).assign_attrs(ds["sst"].attrs)
    both = write_netcdf(xr.Dataset({"sst_night": night, **ds.data_vars}, attrs=ds.attrs), tmp_path / "both.nc")
    with netCDF4.Dataset(both) as nc:
        assert list(nc.variables).index("sst_night") < list(nc.variables).index("sst")
    assert_refused(reconstruct(tiny_model, both, out_dir),
                   ["found 2 that look like SST", "'sst_night' (standard_name sea_surface_temperature)",
                    "'sst' (standard_name sea_surface_temperature)", "--var"], out_dir)
    chosen = reconstruct(tiny_model, both, out_dir, "--var", "sst")
    assert_ok(chosen)
    assert "SST of the input from variable 'sst'" in chosen.stderr
    with xr.open_dataset(out_dir / "monthly.nc") as out, xr.open_dataset(one_month) as daily:
        assert abs(float(out["sst"].mean()) - float(daily["sst"].mean())) < 1.0, "the day SST, not sst_night"


@pytest.mark.slow
def test_latitudes_past_the_poles_and_longitudes_past_one_turn_are_refused(one_month, tiny_model, out_dir, tmp_path):
    ds = xr.load_dataset(one_month)
    north = write_netcdf(ds.assign_coords(lat=ds["lat"] + 60.0), tmp_path / "north.nc")  # 100..106
    south = write_netcdf(ds.assign_coords(lat=ds["lat"] - 135.0), tmp_path / "south.nc")  # -95..-89
    for path in (north, south):
        assert_refused(reconstruct(tiny_model, path, out_dir), ["expected latitudes within -90..90", str(path)],
                       out_dir)
    lon = np.arange(0.125, 720.0, 0.25)  # two turns: every meridian twice
    twice = ds.isel(lon=np.arange(lon.size) % ds.sizes["lon"]).assign_coords(lon=lon).isel(lat=slice(0, 4),
                                                                                             time=slice(0, 3))
    twice = write_netcdf(twice, tmp_path / "twice.nc")
    assert_refused(reconstruct(tiny_model, twice, out_dir),
                   ["expected longitudes covering at most 360 degrees", "720 degrees", "meridians appear twice"],
                   out_dir)


@pytest.mark.slow
def test_evaluate_refuses_a_daily_recon_and_an_empty_reference(small_region, out_dir, tmp_path):
    daily, truth = small_region
    assert_refused(sstfill("evaluate", daily, truth),
                   ["expected a monthly reconstruction", "time steps in 4 month(s)", "sstfill reconstruct"], out_dir)
    ds = xr.load_dataset(truth)
    empty = write_netcdf(ds.assign(sst=ds["sst"] * np.nan), tmp_path / "empty_reference.nc")
    assert_refused(sstfill("evaluate", truth, empty),
                   [f"expected valid SST in the reference {empty}", "found none"], out_dir)


def without_file_permission_override() -> None:
    """In the child: drop root's power to read and list regardless of permissions (Linux capabilities
    CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the bounding set), so chmod 000 binds as for a user."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def can_drop_root_file_access() -> bool:
    try:
        subprocess.run([sys.executable, "-c", "pass"], preexec_fn=without_file_permission_override, check=True)
    except (OSError, subprocess.SubprocessError):
        return False
    return True


@pytest.mark.slow
def test_an_unlistable_input_directory_is_refused(one_month, out_dir, tmp_path):
    """As root, chmod 000 does not stop listing: the CLI runs without root's permission override,
    and the test is skipped only where that cannot be dropped. An unreadable file, and a file in
    a directory that cannot be searched, are refused the same way."""
    as_root = os.geteuid() == 0
    if as_root and not (sys.platform.startswith("linux") and can_drop_root_file_access()):
        pytest.skip("running as root without the means to drop CAP_DAC_OVERRIDE: chmod 000 would not bind")
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "daily.nc").write_bytes(one_month.read_bytes())
    unreadable = tmp_path / "unreadable.nc"
    unreadable.write_bytes(one_month.read_bytes())
    cases = [(locked, [f"expected to list the NetCDF files in directory {locked}", "check its permissions"]),
             (locked / "daily.nc", [f"expected to read {locked / 'daily.nc'}", "check the permissions"]),
             (unreadable, [f"expected a readable NetCDF file at {unreadable}", "check its permissions"])]
    locked.chmod(0)
    unreadable.chmod(0)
    try:
        for source, fragments in cases:
            command = [sys.executable, "-m", "sstfill", "reconstruct", str(source), str(out_dir / "monthly.nc"),
                       "--no-check"]
            done = subprocess.run(command, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True,
                                  timeout=300, preexec_fn=without_file_permission_override if as_root else None)
            assert_refused(Run(command[3:], done.returncode, done.stdout, done.stderr), fragments, out_dir)
    finally:
        locked.chmod(0o755)
        unreadable.chmod(0o644)


@pytest.mark.slow
def test_a_target_month_without_values_is_left_out_with_a_warning(small_region, out_dir, tmp_path):
    """The other months still train; the empty one is named, not a traceback."""
    daily, truth = small_region
    ds = xr.load_dataset(truth)
    gap = write_netcdf(ds.assign(sst=ds["sst"].where(ds["time"].dt.month != 2)), tmp_path / "target_gap.nc")
    store = out_dir / "store.nc"
    run = sstfill("prepare", daily, "--target", gap, "--out", store)
    assert_ok(run)
    assert "no valid value in 2021-02" in run.stderr
    with xr.open_dataset(store) as written:
        assert written["month_of_year"].values.tolist() == [1, 3, 4]
    empty = write_netcdf(ds.assign(sst=ds["sst"] * np.nan), tmp_path / "target_empty.nc")
    assert_refused(sstfill("prepare", daily, "--target", empty, "--out", out_dir / "other.nc"),
                   ["expected valid SST in the target", "found none in any month", "--target-var"], out_dir,
                   before=["store.nc"])


def test_a_monthly_sst_file_given_as_land_mask_is_refused(tiny_model, small_region, out_dir):
    """Its only 2-D variable is time_bnds, which is no map: refused, not indexed as one."""
    daily, truth = small_region
    run = reconstruct(tiny_model, daily, out_dir, "--land-mask", truth)
    assert_refused(run, ["expected one 2-D land-mask variable", str(truth)], out_dir)
