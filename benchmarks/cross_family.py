"""Score sstfill on the independent evaluation family (benchmarks/independent): real SST fields
under real cloud shapes, made with none of the building blocks of sstfill.testing.

Install the real fields once (nothing is downloaded at run time):

    pip install -e '.[bench]'                          # iris-sample-data, eofs
    apt-get install libncarg-data r-cran-stars         # STR climatology + land mask, OISST day

Run (all cases, the bundled model; a few minutes on two cores):

    python benchmarks/cross_family.py --out runs/cross_family --json
    python benchmarks/cross_family.py --out runs/x --cases a,c --model my.pt \\
        --reconstruct-args '{"batch_size": 4}'

Each case's daily input, truth and reconstruction are written under --out/<case>/. The
reconstruction is scored with sstfill.evaluate (which also runs DINEOF and its own filled
composite) and against a composite computed here: the mean of each pixel's valid days
(quality_level >= 4), never-observed sea filled from the nearest valid pixel (distance in
km, wrapping on a global grid). Ratios are RMSE over that composite's RMSE. --json writes
every number to --out/results.json.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import xarray as xr
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent))

from independent.cases import select
from independent.files import write
from independent.regrid import is_global, pixel_km
from independent.sources import SourceMissing

CLASSES = (("0", 0, 0), ("1-4", 1, 4), ("5-9", 5, 9), (">=10", 10, 1 << 30))
FEW_DAYS = 5
MIN_QUALITY = 4
NEAREST = "composite_nearest"
METHODS = ("sstfill", NEAREST, "composite_filled", "dineof")


def nearest_composite(daily_path: Path, ocean: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray], list[str]]:
    """Per month of the daily file: (the mean of the valid days with never-observed sea filled
    from the nearest valid pixel, the number of valid days, 'YYYY-MM')."""
    with xr.open_dataset(daily_path) as ds:
        sst = ds["sea_surface_temperature"].where(ds["quality_level"] >= MIN_QUALITY)
        lat, lon = ds["lat"].values, ds["lon"].values
        labels = np.datetime_as_string(ds["time"].values, unit="M")
        values = sst.values
    dy, dx = pixel_km(lat, lon)
    maps, counts, months = [], [], []
    for i, label in enumerate(dict.fromkeys(labels)):
        days = values[labels == label]
        count = np.isfinite(days).sum(axis=0)
        mean = np.where(count > 0, np.nansum(days, axis=0) / np.maximum(count, 1), np.nan)
        maps.append(_fill_from_nearest(mean, count > 0, ocean[i], (dy, dx), periodic=is_global(lon)))
        counts.append(count)
        months.append(str(label))
    return maps, counts, months


def _fill_from_nearest(mean: np.ndarray, valid: np.ndarray, ocean: np.ndarray, spacing: tuple[float, float], *,
                       periodic: bool) -> np.ndarray:
    """Sea pixels without a valid day take the mean of the nearest pixel with one."""
    if not valid.any():
        return np.full(mean.shape, np.nan)
    pad = mean.shape[1] // 2 if periodic else 0
    wide_valid = np.pad(valid, ((0, 0), (pad, pad)), mode="wrap") if pad else valid
    wide_mean = np.pad(mean, ((0, 0), (pad, pad)), mode="wrap") if pad else mean
    rows, cols = ndimage.distance_transform_edt(~wide_valid, sampling=spacing, return_distances=False,
                                                return_indices=True)
    filled = wide_mean[rows, cols][:, pad:pad + mean.shape[1]]
    return np.where(ocean, filled, np.nan)


class Pool:
    """Pixel-pooled error sums of one method, overall and by valid-day class."""

    def __init__(self) -> None:
        self.sums: dict[str, list[float]] = {}

    def add(self, group: str, error: np.ndarray) -> None:
        s = self.sums.setdefault(group, [0, 0.0, 0.0])
        s[0] += error.size
        s[1] += float(error.sum())
        s[2] += float(np.square(error, dtype=np.float64).sum())

    def stats(self, group: str) -> dict:
        n, total, square = self.sums.get(group, [0, 0.0, 0.0])
        return {"n": n, "rmse": math.sqrt(square / n) if n else None, "bias": total / n if n else None}


def score_nearest(maps: list[np.ndarray], counts: list[np.ndarray], months: list[str], truth: dict[str, np.ndarray],
                  nobs: dict[str, np.ndarray]) -> dict:
    """Scores of the nearest-filled composite in evaluate's layout (overall, < 5 days, by class)."""
    pool = Pool()
    for estimate, count, month in zip(maps, counts, months, strict=True):
        if month not in truth:
            continue
        reference = truth[month]
        have = np.isfinite(reference) & np.isfinite(estimate)
        error = (estimate - reference)[have].astype(np.float64)
        days = nobs.get(month, count)[have]
        pool.add("overall", error)
        pool.add("fewer_than_5_days", error[days < FEW_DAYS])
        for name, low, high in CLASSES:
            pool.add(name, error[(days >= low) & (days <= high)])
    return {"overall": pool.stats("overall"), "fewer_than_5_days": pool.stats("fewer_than_5_days"),
            "by_valid_days": {name: pool.stats(name) for name, _, _ in CLASSES}}


def run_case(case, args, extra: dict) -> dict:
    from sstfill.evaluate import evaluate
    from sstfill.reconstruct import reconstruct

    folder = args.out / case.name
    began = time.perf_counter()
    daily, truth = case.build(args.seed)
    daily_path, truth_path = write(daily, folder / "daily.nc"), write(truth, folder / "truth.nc")
    built = time.perf_counter()
    recon = reconstruct([daily_path], folder / "recon.nc", model=args.model, device=args.device, overwrite=True,
                        **extra)
    reconstructed = time.perf_counter()
    report = evaluate(recon, truth_path, daily_input=[daily_path])
    evaluated = time.perf_counter()

    labels = np.datetime_as_string(truth["time"].values, unit="M")
    truth_maps = {m: truth["sst"].values[i] for i, m in enumerate(labels)}
    with xr.open_dataset(recon) as ds:
        labels = np.datetime_as_string(ds["time"].values, unit="M")
        nobs = {m: ds["nobs"].values[i] for i, m in enumerate(labels)} if "nobs" in ds else {}
    ocean = np.isfinite(truth["sst"].values)
    nearest = score_nearest(*nearest_composite(daily_path, ocean), truth_maps, nobs)
    methods = {name: nearest if name == NEAREST else report["methods"][name]
               for name in METHODS if name == NEAREST or name in report["methods"]}
    return {
        "case": case.name, "key": case.key, "summary": daily.attrs["summary"],
        "grid": [daily.sizes["lat"], daily.sizes["lon"]], "days": daily.sizes["time"],
        "months": report["months"], "seconds": {"build": built - began, "reconstruct": reconstructed - built,
                                                "evaluate": evaluated - reconstructed},
        "methods": methods, "ratios": ratios(methods), "evaluate_report": report,
    }


def ratios(methods: dict) -> dict:
    """Each method's RMSE over the nearest-filled composite's, overall and under 5 valid days."""
    out = {}
    for name, score in methods.items():
        out[name] = {}
        for group in ("overall", "fewer_than_5_days"):
            mine, floor = score[group].get("rmse"), methods[NEAREST][group].get("rmse")
            out[name][group] = mine / floor if mine is not None and floor else None
    return out


def _ratio(ratios: dict, method: str, group: str) -> float | None:
    return ratios.get(method, {}).get(group)


def _f(value, spec: str = ".3f") -> str:
    return "–" if value is None else format(value, spec)


def print_case(result: dict) -> None:
    print(f"\n### {result['key']}) {result['case']}\n\n{result['summary']}\n")
    print("| method | RMSE all (K) | / composite | RMSE < 5 d | / composite | 0 d | 1-4 d | 5-9 d | >=10 d "
          "| bias >=10 d | ±1σ | ±2σ |")
    print("|---" * 12 + "|")
    for name, score in result["methods"].items():
        ratio = result["ratios"][name]
        by = score["by_valid_days"]
        print(f"| {name} | {_f(score['overall']['rmse'])} | {_f(ratio['overall'])} | "
              f"{_f(score['fewer_than_5_days']['rmse'])} | {_f(ratio['fewer_than_5_days'])} | "
              + " | ".join(_f(by[c]["rmse"]) for c, _, _ in CLASSES)
              + f" | {_f(by['>=10']['bias'], '+.3f')} | {_f(score['overall'].get('within_1sigma'), '.1%')} | "
              f"{_f(score['overall'].get('within_2sigma'), '.1%')} |")
    s = result["seconds"]
    print(f"\nseconds: build + write {s['build']:.1f}, reconstruct {s['reconstruct']:.1f}, "
          f"evaluate (with DINEOF) {s['evaluate']:.1f}")


def print_summary(results: list[dict]) -> None:
    print("\n### Summary (RMSE ratios to the nearest-filled composite; < 1 is better)\n")
    print("| case | grid x days | sstfill all | sstfill < 5 d | DINEOF all | DINEOF < 5 d | filled (evaluate) all "
          "| sstfill ±1σ | sstfill ±2σ | reconstruct s |")
    print("|---" * 10 + "|")
    for r in results:
        if "error" in r:
            print(f"| {r['key']}) {r['case']} | {r['error']} |" + " |" * 8)
            continue
        sig = r["methods"]["sstfill"]["overall"]
        get = partial(_ratio, r["ratios"])
        print(f"| {r['key']}) {r['case']} | {r['grid'][0]}x{r['grid'][1]} x {r['days']} | "
              f"{_f(get('sstfill', 'overall'))} | {_f(get('sstfill', 'fewer_than_5_days'))} | "
              f"{_f(get('dineof', 'overall'))} | {_f(get('dineof', 'fewer_than_5_days'))} | "
              f"{_f(get('composite_filled', 'overall'))} | {_f(sig.get('within_1sigma'), '.1%')} | "
              f"{_f(sig.get('within_2sigma'), '.1%')} | {r['seconds']['reconstruct']:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="folder for each case's files (and results.json)")
    parser.add_argument("--model", type=Path, default=None, help="model file (default: the bundled model)")
    parser.add_argument("--cases", default=None, help="comma-separated keys or names (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--reconstruct-args", default="{}",
                        help="JSON object of extra keyword arguments to reconstruct")
    parser.add_argument("--json", action="store_true", help="also write every number to --out/results.json")
    args = parser.parse_args()
    extra = json.loads(args.reconstruct_args)
    if not isinstance(extra, dict):
        parser.error("--reconstruct-args must be a JSON object")
    from sstfill.logs import setup_logging

    setup_logging(quiet=True)
    cases = select(args.cases)
    began = time.perf_counter()
    results = []
    print(f"## Cross-family benchmark: independent real-field cases, seed {args.seed}, "
          f"model {args.model or 'bundled'}, reconstruct args {extra}")
    for case in cases:
        try:
            result = run_case(case, args, extra)
        except SourceMissing as exc:
            result = {"case": case.name, "key": case.key, "error": f"skipped: {exc}"}
            print(f"\n### {case.key}) {case.name}\n\nskipped: {exc}")
        else:
            print_case(result)
        results.append(result)
        sys.stdout.flush()
    print_summary(results)
    total = time.perf_counter() - began
    print(f"\ntotal {total:.0f} s")
    if args.json:
        path = args.out / "results.json"
        path.write_text(json.dumps({"seed": args.seed, "model": str(args.model) if args.model else None,
                                    "reconstruct_args": extra, "seconds": total, "cases": results},
                                   indent=1, default=_jsonable))
        print(f"wrote {path}")


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


if __name__ == "__main__":
    main()
