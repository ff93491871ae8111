"""The sstfill command line: thin commands over the Python API.

Each command parses its options, calls one function of the API and turns sstfill's typed
errors into a one-line message and exit code 1 (usage errors exit 2, as Typer does).
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import signal
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from sstfill import __version__
from sstfill.config import (
    DEVICE,
    MIN_QUALITY,
    TRAIN_PRECISION,
    TRAIN_WORKERS,
    ModelConfig,
    PrepareConfig,
    ReconstructConfig,
    SynthConfig,
    TrainConfig,
)
from sstfill.errors import SstfillError

EXIT_CODES = ("Exit status: 0 done; 1 bad input, a failed check or a failed write (one line on stderr says "
              "which); 2 a usage error; 130 interrupted (Ctrl-C); 128 + N stopped by signal N (143: SIGTERM, "
              "a batch system's time limit).")

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Gap-free monthly sea-surface-temperature maps from gappy daily observations.",
                  epilog=EXIT_CODES)
log = logging.getLogger("sstfill")

Device = Annotated[str, typer.Option(help="auto (CUDA when available, else CPU), cpu, cuda or cuda:N.")]
Variable = Annotated[str | None, typer.Option("--var", help="Name of the SST variable (default: found by "
                                                             "standard_name, then by common names).")]
MinQuality = Annotated[int, typer.Option(help="Keep only observations with GHRSST quality_level >= this (when the "
                                              "file has quality_level).")]
LandMask = Annotated[str | None, typer.Option(help="NetCDF land mask on the input grid (1 = land), or 'coastline' for "
                                                   "the bundled coastline.")]
Months = Annotated[str | None, typer.Option(help="Only these months: YYYY-MM, an inclusive range YYYY-MM:YYYY-MM, "
                                                 "or a comma list (default: all). Split a long input across jobs.")]
Precision = Annotated[str, typer.Option(help="fp32; or bf16 / fp16: mixed precision, the model's layers computing "
                                        "with about 3 significant digits, faster on GPUs and on CPUs with bf16 "
                                        "instructions (fp16 pays only on GPUs).")]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace an existing output file.")]
AsJson = Annotated[bool, typer.Option("--json", help="When done, print one line of JSON on stdout: what was written, "
                                      "its months and the time taken (logs stay on stderr).")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Log debugging detail.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Log warnings and errors only.")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"sstfill {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    verbose: Verbose = False,
    quiet: Quiet = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version.")] = False,
) -> None:
    from sstfill.logs import setup_logging

    setup_logging(verbose=verbose, quiet=quiet)
    for signum in STOP_SIGNALS:
        signal.signal(signum, _stop)


def _begin(verbose: bool, quiet: bool) -> None:
    """Each command's start: -v or -q given after its name (as they may be before it), then the threads."""
    from sstfill.device import configure_threads

    if verbose or quiet:
        logging.getLogger("sstfill").setLevel(logging.DEBUG if verbose else logging.WARNING)
    configure_threads()


def _print_json(summary: dict, started: float) -> None:
    typer.echo(json.dumps({**summary, "seconds": round(time.monotonic() - started, 1)}))


# What a batch system sends at a time limit or on preemption (SLURM: SIGTERM, or the --signal of the job),
# and what a closed terminal sends: each stops the run like Ctrl-C, so nothing half-written is left.
STOP_SIGNALS = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGUSR1") if hasattr(signal, name)]


class Stopped(KeyboardInterrupt):
    """Raised in the main thread when a stop signal arrives; a KeyboardInterrupt, so every clean-up runs."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _stop(signum, frame) -> None:
    raise Stopped(signum)


def _run(call):
    """Run an API call; sstfill errors become one line on stderr and exit code 1, a stop 128 + the signal."""
    try:
        return call()
    except SstfillError as exc:
        typer.echo(f"sstfill: error: {exc}", err=True)
        raise typer.Exit(1) from None
    except Stopped as exc:
        if _is_first_process():  # under torchrun or srun every process gets the signal: one line is enough
            name = signal.Signals(exc.signum).name
            typer.echo(f"sstfill: error: stopped by {name} before the end; no partial file is left", err=True)
        raise typer.Exit(128 + exc.signum) from None
    except KeyboardInterrupt:
        typer.echo("sstfill: error: interrupted before the end; no partial file is left", err=True)
        raise typer.Exit(130) from None


def _is_first_process() -> bool:
    return os.environ.get("RANK", os.environ.get("SLURM_PROCID", "0")) == "0"


def _command_line() -> str:
    return "sstfill " + " ".join(shlex.quote(a) for a in sys.argv[1:])


@app.command()
def prepare(
    daily: Annotated[list[str], typer.Argument(help="Daily SST: files, directories or quoted globs.")],
    out: Annotated[str, typer.Option(help="The training store to write (NetCDF).")],
    target: Annotated[list[str] | None, typer.Option(help="Gap-free target on the same grid, monthly (or daily/hourly: "
                                                        "averaged to months); repeatable. Without it the store is "
                                                        "self-supervised.")] = None,
    min_target_days: Annotated[int, typer.Option(help="Self-supervised: learn only from pixels seen on at least this "
                                                      "many days of a month.")] = PrepareConfig.min_target_days,
    seed: Annotated[int, typer.Option(
        help="Self-supervised: seed of the extra hiding of days.")] = PrepareConfig.seed,
    land_mask: LandMask = None,
    var: Variable = None,
    target_var: Annotated[str | None, typer.Option(help="Name of the target's SST variable.")] = None,
    min_quality: MinQuality = PrepareConfig.min_quality,
    months: Months = None,
    overwrite: Overwrite = False,
    as_json: AsJson = False,
    verbose: Verbose = False,
    quiet: Quiet = False,
) -> None:
    """Build a training store from daily gappy SST and a gap-free monthly target (or from the daily SST alone)."""
    from sstfill.io.summary import store_summary
    from sstfill.prepare import prepare as run

    _begin(verbose, quiet)
    started = time.monotonic()
    written = _run(lambda: run(daily, target or None, out, land_mask=land_mask, variable=var,
                               target_variable=target_var, min_quality=min_quality, min_target_days=min_target_days,
                               seed=seed, months=months, overwrite=overwrite))
    if as_json:
        _print_json({"command": "prepare", **store_summary(written)}, started)


@app.command()
def train(
    stores: Annotated[list[Path], typer.Argument(help="One or more stores from 'sstfill prepare'.")],
    out: Annotated[str, typer.Option(help="The model file to write.")],
    device: Device = DEVICE,
    epochs: Annotated[int, typer.Option(help="Maximum number of epochs.")] = TrainConfig.epochs,
    batch_size: Annotated[int, typer.Option(help="Tiles per optimisation step.")] = TrainConfig.batch_size,
    samples_per_epoch: Annotated[int, typer.Option(
        help="Random tiles drawn per epoch.")] = TrainConfig.samples_per_epoch,
    learning_rate: Annotated[float, typer.Option(
        help="Peak learning rate (AdamW, one-cycle schedule).")] = TrainConfig.learning_rate,
    patience: Annotated[int, typer.Option(
        help="Stop after this many epochs without validation improvement.")] = TrainConfig.patience,
    validation_fraction: Annotated[float, typer.Option(
        help="Fraction of each store's months (the last ones) held out.")] = TrainConfig.validation_fraction,
    tile_size: Annotated[int, typer.Option(help="Tile size in pixels.")] = TrainConfig.tile_size,
    months_per_window: Annotated[int, typer.Option(
        help="Months the model sees together (cross-month attention).")] = TrainConfig.months_per_window,
    target_form: Annotated[str, typer.Option(help="residual (predict the correction to the filled composite) or "
                                                  "absolute.")] = TrainConfig.target_form,
    embed_dim: Annotated[int, typer.Option(help="Token width of the transformer.")] = ModelConfig.embed_dim,
    depth: Annotated[int, typer.Option(help="Spatial transformer layers.")] = ModelConfig.depth,
    seed: Annotated[int, typer.Option(help="Random seed.")] = TrainConfig.seed,
    workers: Annotated[int, typer.Option(help="Data-loading worker processes.")] = TRAIN_WORKERS,
    precision: Annotated[str, typer.Option(help="auto: bf16 mixed precision (autocast) where the device computes "
                                           "bfloat16 natively (GPUs from Ampere on, CPUs with AVX512-BF16 or AMX), "
                                           "fp32 elsewhere; or fp32, or bf16.")] = TRAIN_PRECISION,
    resume: Annotated[bool, typer.Option("--resume", help="Continue a stopped run from the training state it left "
                                         "beside --out (OUT.resume), with the same stores and options.")] = False,
    overwrite: Overwrite = False,
    as_json: AsJson = False,
    verbose: Verbose = False,
    quiet: Quiet = False,
) -> None:
    """Train the spatio-temporal model and write a self-contained model file.

    On SIGTERM, SIGUSR1 or SIGHUP (a batch job's time limit) it stops and keeps the training state of the
    last completed epoch beside the model file; run the same command with --resume to go on. Under
    torchrun or srun, the processes train together (PyTorch DDP)."""
    from sstfill.train import train as run

    _begin(verbose, quiet)
    started = time.monotonic()

    def run_training():
        config = TrainConfig(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                             samples_per_epoch=samples_per_epoch, validation_fraction=validation_fraction,
                             patience=patience, seed=seed, tile_size=tile_size, months_per_window=months_per_window,
                             target_form=target_form)
        model_config = ModelConfig(embed_dim=embed_dim, hidden=embed_dim, depth=depth)
        return run(stores, out, config=config, model_config=model_config, device=device, workers=workers,
                   precision=precision, overwrite=overwrite, resume=resume)

    result = _run(run_training)
    if as_json and result.main_process:
        summary = {"command": "train", "output": str(Path(result.path).resolve()), "model_id": result.model_id,
                   "best_epoch": result.best_epoch, "epochs_run": result.epochs_run,
                   "validation_rmse_k": result.validation_rmse_k}
        _print_json(summary, started)


@app.command()
def reconstruct(
    paths: Annotated[list[str], typer.Argument(help="Daily SST inputs (files, directories or quoted globs), then the "
                                                    "output file.")],
    model: Annotated[Path | None, typer.Option(
        help="Model file from 'sstfill train' (default: the bundled model).")] = None,
    device: Device = DEVICE,
    var: Variable = None,
    min_quality: MinQuality = ReconstructConfig.min_quality,
    land_mask: LandMask = None,
    batch_size: Annotated[int | None, typer.Option(
        help="Tiles per forward pass (default: 4 on CPU, where a few tiles stay in the cache, "
             "8 on CUDA).")] = ReconstructConfig.batch_size,
    precision: Precision = ReconstructConfig.precision,
    pack: Annotated[bool, typer.Option(
        "--pack", help="Write SST as int16 with scale/offset, like GHRSST L4 files.")] = ReconstructConfig.pack,
    check: Annotated[bool, typer.Option("--check/--no-check", help="First score the model, a low-rank (DINEOF) fill "
                                        "and the composite on observations withheld from the input; per valid-day "
                                        "class keep the model unless another did significantly better, and scale "
                                        "sigma to the errors seen there.")] = ReconstructConfig.check,
    adapt: Annotated[bool, typer.Option("--adapt", help="First fine-tune the model on this input (self-supervised, "
                                        "guarded: kept only if it does better on withheld observations). Off by "
                                        "default: it helps on some inputs and harms others "
                                        "(docs/research.md#adapting-to-the-input).")] = ReconstructConfig.adapt,
    adapt_seconds: Annotated[float, typer.Option(
        help="Wall-time budget of --adapt, in seconds.")] = ReconstructConfig.adapt_seconds,
    seed: Annotated[int, typer.Option(
        help="Which observations --check and --adapt withhold.")] = ReconstructConfig.seed,
    months: Months = None,
    overwrite: Overwrite = False,
    as_json: AsJson = False,
    verbose: Verbose = False,
    quiet: Quiet = False,
) -> None:
    """Reconstruct gap-free monthly SST maps (CF NetCDF) from daily gappy SST."""
    from sstfill.io.summary import reconstruction_summary
    from sstfill.reconstruct import reconstruct as run

    _begin(verbose, quiet)
    started = time.monotonic()
    if len(paths) < 2:
        typer.echo("sstfill: error: expected at least one input and an output path, e.g. "
                   "'sstfill reconstruct daily.nc monthly.nc'", err=True)
        raise typer.Exit(2)
    *inputs, out = paths
    written = _run(lambda: run(inputs, out, model=model, device=device, variable=var, min_quality=min_quality,
                               land_mask=land_mask, batch_size=batch_size, precision=precision, pack=pack, check=check,
                               adapt=adapt, adapt_seconds=adapt_seconds, seed=seed, months=months, overwrite=overwrite,
                               history=_command_line()))
    if as_json:
        _print_json({"command": "reconstruct", **reconstruction_summary(written)}, started)


@app.command()
def evaluate(
    recon: Annotated[Path, typer.Argument(help="Monthly reconstruction (from 'sstfill reconstruct').")],
    reference: Annotated[Path, typer.Argument(help="Gap-free reference on the same grid, monthly (or daily/hourly: "
                                                   "averaged to months).")],
    input: Annotated[list[str] | None, typer.Option("--input", help="Daily input, to score the baselines (composites, "
                                                                    "DINEOF) beside it.")] = None,
    var: Variable = None,
    min_quality: MinQuality = MIN_QUALITY,
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON.")] = False,
    dineof: Annotated[bool, typer.Option("--dineof/--no-dineof", help="With --input, also score DINEOF (skip it on "
                                                                       "large domains).")] = True,
    plot: Annotated[Path | None, typer.Option("--plot", metavar="DIR", help="Write map and RMSE figures (PNG) to this "
                                                                            "directory; needs matplotlib (the 'plot' "
                                                                            "extra).")] = None,
    verbose: Verbose = False,
    quiet: Quiet = False,
) -> None:
    """Score a reconstruction against a reference: RMSE, MAE and bias over ocean."""
    from sstfill.evaluate import evaluate as run
    from sstfill.tables import render_table

    _begin(verbose, quiet)

    report = _run(lambda: run(recon, reference, daily_input=input, variable=var, min_quality=min_quality,
                              dineof=dineof, plot_dir=plot))
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        from rich.console import Console

        Console(width=None if sys.stdout.isatty() else 120).print(render_table(report))


@app.command()
def synth(
    out_dir: Annotated[Path, typer.Argument(help="New directory for daily input(s) and truth.nc.")],
    region: Annotated[tuple[float, float, float, float], typer.Option(help="LAT_MIN LAT_MAX LON_MIN LON_MAX in "
                                                                           "degrees.")] = (24.0, 48.0, -80.0, -48.0),
    resolution: Annotated[float, typer.Option(
        help="Grid spacing in degrees (0.05 to 1).")] = SynthConfig.resolution_deg,
    start: Annotated[str, typer.Option(help="First day (a month start), YYYY-MM-DD.")] = SynthConfig.start,
    months: Annotated[int, typer.Option(help="Number of whole months.")] = SynthConfig.months,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same data.")] = SynthConfig.seed,
    cloud_cover: Annotated[float, typer.Option(help="Mean cloud cover, 0..1.")] = SynthConfig.cloud_cover,
    calendar: Annotated[str, typer.Option(help="standard, noleap, 360_day, all_leap, ...")] = SynthConfig.calendar,
    form: Annotated[str, typer.Option(help="cube, ghrsst (one L3S file per day), era5 or cmip.")] = SynthConfig.form,
    verbose: Verbose = False,
    quiet: Quiet = False,
) -> None:
    """Generate realistic synthetic daily gappy SST and its monthly truth."""
    from sstfill.synth import synth as run

    _begin(verbose, quiet)

    lat_min, lat_max, lon_min, lon_max = region
    _run(lambda: run(out_dir, lat_min=lat_min, lat_max=lat_max, lon_min=lon_min, lon_max=lon_max,
                     resolution_deg=resolution, start=start, months=months, seed=seed, cloud_cover=cloud_cover,
                     calendar=calendar, form=form))
