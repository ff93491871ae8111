"""Output faults through the real CLI: nothing lost, nothing half-written, never another run's file replaced."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time

import netCDF4
import numpy as np
import pytest
from harness import assert_ok, assert_refused, listing, sstfill, start

RECONSTRUCT = ["--device", "cpu", "--no-check"]


def reconstruct(daily, out, model, *options, **kwargs):
    return sstfill("reconstruct", daily, out, "--model", model, *RECONSTRUCT, *options, **kwargs)


def digest(path) -> bytes:
    return path.read_bytes()


@pytest.mark.slow
def test_output_naming_an_input_is_refused_even_with_overwrite(one_month, small_region, tiny_model, tmp_path):
    """The land mask, the target and the model are inputs too: --overwrite must not replace them."""
    mask = tmp_path / "mask.nc"
    with netCDF4.Dataset(one_month) as src, netCDF4.Dataset(mask, "w") as nc:
        for name in ("lat", "lon"):
            nc.createDimension(name, src[name].size)
            nc.createVariable(name, "f8", (name,))[:] = src[name][:]
        nc.createVariable("land", "i1", ("lat", "lon"))[:] = 0
    before = digest(mask)
    run = reconstruct(one_month, mask, tiny_model, "--land-mask", mask, "--overwrite")
    assert_refused(run, ["expected an output path different from the inputs", str(mask)])
    assert digest(mask) == before

    model_copy = tmp_path / "model.pt"
    model_copy.write_bytes(tiny_model.read_bytes())
    run = reconstruct(one_month, model_copy, model_copy, "--overwrite")
    assert_refused(run, ["different from the inputs"])
    assert digest(model_copy) == tiny_model.read_bytes()

    daily, truth = small_region
    before = digest(truth)
    run = sstfill("prepare", daily, "--target", truth, "--out", truth, "--overwrite")
    assert_refused(run, ["different from the inputs"])
    assert digest(truth) == before


@pytest.mark.slow
def test_directory_dash_and_dangling_link_outputs_are_refused(one_month, tiny_model, out_dir):
    assert_refused(reconstruct(one_month, f"{out_dir}/newdir/", tiny_model), ["found the directory"], out_dir)
    assert_refused(reconstruct(one_month, "-", tiny_model, cwd=out_dir), ["found '-'"], out_dir)
    link = out_dir / "monthly.nc"
    link.symlink_to(out_dir / "elsewhere.nc")
    assert_refused(reconstruct(one_month, link, tiny_model), ["already exists", "--overwrite"], out_dir,
                   before=["monthly.nc"])
    assert link.is_symlink() and not link.exists()


@pytest.mark.slow
def test_longest_output_name_is_written(one_month, tiny_model, out_dir):
    """A valid 250-byte name: the temporary name beside it must still fit the 255-byte limit."""
    name = "m" * 247 + ".nc"
    assert_ok(reconstruct(one_month, out_dir / name, tiny_model))
    assert listing(out_dir) == [name]
    too_long = "m" * 253 + ".nc"
    assert_refused(reconstruct(one_month, out_dir / too_long, tiny_model), ["at most 255 bytes"], out_dir,
                   before=[name])


@pytest.mark.parametrize(("stage", "options", "fragments"), [
    ("reconstruct", ["--batch-size", "-1"], ["--batch-size", "found -1"]),
    ("reconstruct", ["--batch-size", "0"], ["--batch-size", "found 0"]),
    ("reconstruct", ["--seed", "-5"], ["--seed", "found -5"]),
    ("reconstruct", ["--min-quality", "7"], ["--min-quality", "found 7"]),
    ("prepare", ["--min-target-days", "0"], ["--min-target-days", "found 0"]),
    ("prepare", ["--seed", "-1"], ["--seed", "found -1"]),
])
def test_numbers_that_cannot_be_meant_are_refused(stage, options, fragments, one_month, tiny_model, out_dir):
    if stage == "reconstruct":
        run = reconstruct(one_month, out_dir / "m.nc", tiny_model, *options)
    else:
        run = sstfill("prepare", one_month, "--out", out_dir / "store.nc", *options)
    assert_refused(run, fragments, out_dir)


def _limited_file_size(limit_bytes: int):
    def preexec():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
    return preexec


@pytest.mark.parametrize("stage", ["reconstruct", "prepare"])
def test_disk_full_is_one_line_and_leaves_nothing(stage, small_region, tiny_model, out_dir):
    """A file-size limit makes writes fail as a full disk does (Python ignores SIGXFSZ: the write gets EFBIG)."""
    daily, truth = small_region
    out = out_dir / "out.nc"
    if stage == "reconstruct":
        args = ["reconstruct", daily, out, "--model", tiny_model, *RECONSTRUCT]
    else:
        args = ["prepare", daily, "--target", truth, "--out", out]
    done = subprocess.run([sys.executable, "-m", "sstfill", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": "1"}, preexec_fn=_limited_file_size(30_000),
                          timeout=300)
    from harness import Run

    run = Run(args, done.returncode, done.stdout, done.stderr)
    assert_refused(run, ["could not write", "free disk space", "nothing was written"], out_dir)


def _wait_for_line(process: subprocess.Popen, fragment: str, seen: list[str]) -> None:
    for line in process.stderr:
        seen.append(line)
        if fragment in line:
            return
    raise AssertionError(f"{fragment!r} never logged:\n{''.join(seen)}")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1])
def test_stop_signal_during_reconstruct_leaves_nothing(signum, small_region, tiny_model, out_dir):
    daily, _ = small_region
    process = start("reconstruct", daily, out_dir / "monthly.nc", "--model", tiny_model, "--device", "cpu")
    seen: list[str] = []
    _wait_for_line(process, "reconstructing", seen)
    process.send_signal(signum)
    _rest, _ = process.communicate(timeout=120)
    stderr = "".join(seen) + process.stderr.read() if not process.stderr.closed else "".join(seen)
    assert process.returncode == 128 + signum, stderr
    assert "Traceback" not in stderr
    assert listing(out_dir) == []


def test_stop_signal_during_prepare_leaves_nothing(small_region, out_dir):
    daily, truth = small_region
    process = start("prepare", daily, "--target", truth, "--out", out_dir / "store.nc")
    seen: list[str] = []
    _wait_for_line(process, "land from", seen)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM
    assert listing(out_dir) == []


@pytest.mark.slow
def test_killed_run_leaves_a_temporary_file_that_the_next_run_removes(small_region, tiny_model, out_dir):
    daily, _ = small_region
    out = out_dir / "monthly.nc"
    process = start("reconstruct", daily, out, "--model", tiny_model, *RECONSTRUCT)
    deadline = time.monotonic() + 120
    while not listing(out_dir) and time.monotonic() < deadline:
        time.sleep(0.01)
    process.kill()  # SIGKILL: no clean-up can run
    process.communicate()
    left = listing(out_dir)
    assert len(left) == 1 and left[0].startswith(".monthly.nc.") and left[0].endswith(".tmp"), left
    run = reconstruct(daily, out, tiny_model)
    assert_ok(run)
    assert "removed" in run.stderr and left[0] in run.stderr
    assert listing(out_dir) == ["monthly.nc"]


@pytest.mark.slow
def test_a_live_writer_is_never_replaced(one_month, tiny_model, out_dir):
    """Two runs writing one output at once, without --overwrite: one writes it, the other refuses."""
    out = out_dir / "monthly.nc"
    runs = [start("reconstruct", one_month, out, "--model", tiny_model, *RECONSTRUCT) for _ in range(2)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in runs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 1], results
    refusal = next(err for code, err in results if code == 1)
    assert "Traceback" not in refusal and "sstfill: error:" in refusal
    assert listing(out_dir) == ["monthly.nc"]
    with netCDF4.Dataset(out) as nc:
        assert np.isfinite(nc["sst"][:].compressed()).all()

    # a temporary file of a live process on this host means another run is writing the output now
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        import socket

        host = socket.gethostname().split(".")[0].replace("-", "_")
        busy = out_dir / f".other.nc.sstfill-{host}-{sleeper.pid}.tmp"
        busy.write_bytes(b"")
        run = reconstruct(one_month, out_dir / "other.nc", tiny_model)
        assert_refused(run, [f"process {sleeper.pid}", "wait for it to end"], out_dir,
                       before=["monthly.nc", busy.name])
    finally:
        sleeper.kill()
        sleeper.wait()


def test_implausible_model_output_is_never_written(one_month, tiny_model, tmp_path, out_dir):
    """A model file that is intact but yields SST far outside the valid range: refused, nothing written."""
    from sstfill.checkpoint import load_model, save_model

    loaded = load_model(tiny_model)
    with __import__("torch").no_grad():
        loaded.model.decoder.bias.fill_(1e6)
    broken = tmp_path / "broken.pt"
    save_model(broken, loaded.model, loaded.config, loaded.contract, loaded.training)
    run = reconstruct(one_month, out_dir / "monthly.nc", broken)
    assert_refused(run, ["expected SST within", "nothing was written"], out_dir)


def test_grid_too_large_for_memory_is_refused_before_any_work(tmp_path, out_dir, tiny_model):
    """A grid several times larger than this machine's memory (stored sparsely: the file stays small)."""
    memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    side = int(np.sqrt(memory / 31)) + 1  # > memory / 31 pixels: far more than 12 bytes per pixel-day fit
    path = tmp_path / "huge.nc"
    with netCDF4.Dataset(path, "w") as nc:
        nc.createDimension("time", 31)
        nc.createDimension("lat", side)
        nc.createDimension("lon", side)
        nc.createVariable("time", "f8", ("time",), fill_value=False).setncatts(
            {"units": "days since 2021-01-01", "calendar": "standard"})
        nc["time"][:] = np.arange(31)
        for name, extent in (("lat", 80.0), ("lon", 80.0)):
            nc.createVariable(name, "f8", (name,)).setncatts(
                {"units": "degrees_north" if name == "lat" else "degrees_east"})
            nc[name][:] = np.linspace(-extent / 2, extent / 2, side)
        sst = nc.createVariable("sst", "f4", ("time", "lat", "lon"), chunksizes=(1, 512, 512),
                                fill_value=np.float32(np.nan))
        sst.setncatts({"units": "K", "standard_name": "sea_surface_temperature"})
        sst[0, :512, :512] = np.full((512, 512), 290.0, np.float32)
    assert path.stat().st_size < 50e6
    started = time.monotonic()
    run = reconstruct(path, out_dir / "monthly.nc", tiny_model)
    assert_refused(run, ["fits in memory", "GB"], out_dir)
    assert time.monotonic() - started < 60
