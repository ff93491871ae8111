"""Score a model on generated regions it never trained on, beside the classic baselines.

Regions, seasons, resolutions and seeds come from --seed (the default model trains on
seed 2026; this uses 7 unless told otherwise). Each region is reconstructed through the
public API and scored with sstfill.evaluate; the figures are pooled over all regions
(pixel-weighted). Prints a Markdown table; --json writes the per-region reports too.

    python benchmarks/heldout.py --regions 12 --model sstfill/resources/default_model.pt
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
from pathlib import Path

import numpy as np

from sstfill.evaluate import evaluate
from sstfill.logs import setup_logging
from sstfill.reconstruct import reconstruct
from sstfill.testing import random_ocean_region, synthetic_sst, write_netcdf

GROUPS = (("all ocean", "overall"), ("< 5 valid days", "fewer_than_5_days"))


def pooled(stats: list[dict]) -> dict:
    """Pixel-weighted pool of per-region scores (rmse, bias and, where present, calibration)."""
    stats = [s for s in stats if s["n"]]
    n = sum(s["n"] for s in stats)
    if not n:
        return {"n": 0, "rmse": math.nan}
    out = {"n": n, "rmse": math.sqrt(sum(s["n"] * s["rmse"] ** 2 for s in stats) / n),
           "bias": sum(s["n"] * s["bias"] for s in stats) / n}
    if stats and all("within_1sigma" in s for s in stats):
        out["within_1sigma"] = sum(s["n"] * s["within_1sigma"] for s in stats) / n
        out["within_2sigma"] = sum(s["n"] * s["within_2sigma"] for s in stats) / n
    return out


def scores(reports: list[dict], method: str, group: str, valid_days: str | None = None) -> dict:
    """Pooled scores of one method over all regions, for a group (or one class of valid days)."""
    stats = [r["methods"][method][group] for r in reports if method in r["methods"]]
    return pooled([s[valid_days] for s in stats] if valid_days else stats)


def percent(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None, help="model file (default: the bundled model)")
    parser.add_argument("--regions", type=int, default=12)
    parser.add_argument("--months", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--no-check", dest="check", action="store_false",
                        help="reconstruct without the check on withheld observations (the model alone)")
    args = parser.parse_args()
    setup_logging(quiet=True)
    rng = np.random.default_rng(args.seed)
    reports = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.regions):
            lat, lon, res = random_ocean_region(rng)
            start = f"{int(rng.integers(2000, 2024))}-{int(rng.integers(1, 13)):02d}-01"
            daily, truth = synthetic_sst(lat, lon, start=start, n_months=args.months, seed=int(rng.integers(2**31)),
                                         cloud_cover=float(rng.uniform(0.4, 0.8)))
            daily_path = write_netcdf(daily, Path(tmp) / f"daily_{i}.nc")
            truth_path = write_netcdf(truth, Path(tmp) / f"truth_{i}.nc")
            out = reconstruct([daily_path], Path(tmp) / f"recon_{i}.nc", model=args.model, device="cpu",
                              check=args.check)
            report = evaluate(out, truth_path, daily_input=[daily_path])
            report["region"] = {"lat0": float(lat[0]), "lon0": float(lon[0]), "shape": [lat.size, lon.size],
                                "resolution_deg": res, "start": start}
            reports.append(report)
    print(f"Held-out generated regions: {args.regions} (seed {args.seed}), {args.months} month(s) each\n")
    print_tables(reports)
    if args.json:
        args.json.write_text(json.dumps(reports, indent=2))


def print_tables(reports: list[dict]) -> None:
    """Markdown tables: the goals (ratios to the filled composite), then RMSE by valid days."""
    print("| method | RMSE all ocean (K) | RMSE < 5 valid days (K) | all / filled composite "
          "| < 5 days / filled composite | ±1σ | ±2σ |")
    print("|---|---|---|---|---|---|---|")
    methods = [m for m in ("sstfill", "dineof", "composite_filled", "naive_composite")
               if any(m in r["methods"] for r in reports)]
    floor = {g: scores(reports, "composite_filled", g)["rmse"] for _, g in GROUPS}
    for method in methods:
        rows = {g: scores(reports, method, g) for _, g in GROUPS}
        sig = rows["overall"]
        print(f"| {method} | {rows['overall']['rmse']:.4f} | {rows['fewer_than_5_days']['rmse']:.4f} | "
              f"{rows['overall']['rmse'] / floor['overall']:.3f} | "
              f"{rows['fewer_than_5_days']['rmse'] / floor['fewer_than_5_days']:.3f} | "
              f"{percent(sig.get('within_1sigma'))} | {percent(sig.get('within_2sigma'))} |")
    print("\nRMSE (K) by valid days in the month (pixel-months in brackets):\n")
    classes = list(reports[0]["methods"]["sstfill"]["by_valid_days"])
    print("| method | " + " | ".join(f"{c} days" for c in classes) + " |")
    print("|---" * (len(classes) + 1) + "|")
    for method in methods:
        cells = [scores(reports, method, "by_valid_days", c) for c in classes]
        print(f"| {method} | " + " | ".join(f"{c['rmse']:.4f} ({c['n']})" if c["n"] else "–" for c in cells) + " |")


if __name__ == "__main__":
    main()
