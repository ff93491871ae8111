"""How well reconstruct's check on withheld observations sees the true errors, on inputs with a truth.

For each month, observations are withheld as `reconstruct --check` withholds them, and the
bundled model and the filled composite are run on the thinned input. Per valid-day class
of the thinned month it prints:

- comp D2 / pred: the composite's mean squared difference from the withheld means, measured,
  and as the temporal variogram predicts it (m_K - 2 C_KW + v: the kept days' error, the
  covariance of the kept and withheld days' errors, the withheld days' error); agreement
  says the variogram model of the days holds (no prediction at 0 days, where the composite
  is the gap fill);
- model est / true: the model's RMSE as the check estimates it, sqrt(D2 - v + 2 C_KW), and
  its true RMSE against the monthly truth, on the same thinned input.

    python benchmarks/withheld_check.py sample_data/daily_sst.nc sample_data/monthly_truth.nc
    python benchmarks/withheld_check.py runs/cross_family/midlat_eddies/{daily,truth}.nc --months 2
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
import xarray as xr

from sstfill.checkpoint import load_model
from sstfill.data.baseline import monthly_baseline
from sstfill.data.months import MonthFields, group_months
from sstfill.data.predict import predict_window, read_month
from sstfill.data.scores import NOBS_CLASSES
from sstfill.data.tiling import ocean_tiles
from sstfill.data.withhold import day_variogram, mean_errors, withhold
from sstfill.io.land import resolve_land
from sstfill.io.read import open_daily


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("daily")
    parser.add_argument("truth")
    parser.add_argument("--months", type=int, default=3, help="the first this many months")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    device = torch.device("cpu")
    daily = open_daily([args.daily])
    loaded = load_model(None, device)
    land, _ = resolve_land(daily, None)
    ocean = ~land
    tiles = ocean_tiles(land, loaded.contract.tile_size, periodic_x=daily.periodic_x)
    sigma_px = loaded.contract.fill_sigma_px(daily.grid_steps_deg)
    with xr.open_dataset(args.truth) as ds:
        truth = next(ds[v] for v in ds.data_vars if ds[v].ndim == 3).values
    rng = np.random.default_rng(args.seed)
    sums = {name: np.zeros(7) for name, _, _ in NOBS_CLASSES}
    for i, month in enumerate(group_months(daily.sst["time"])[:args.months]):
        full, days = read_month(daily, month, ocean, loaded), month.days_in_month
        held = withhold(full.slots.copy(), ocean, rng, days_in_month=days, periodic_x=daily.periodic_x)
        baseline, nobs = monthly_baseline(held.slots, ocean, sigma_px=sigma_px, periodic_x=daily.periodic_x)
        sst, _ = predict_window(loaded, [MonthFields(held.slots, baseline, nobs)], land, [month], tiles,
                                periodic_x=daily.periodic_x, device=device)
        scored = held.scored & np.isfinite(truth[i])
        valid = np.isfinite(full.slots[:days])
        kept = np.isfinite(held.slots[:days])
        month_days = full.slots[:days]
        (m_k, c_kw), (_, v) = mean_errors(month_days[:, scored], [kept[:, scored], (valid & ~kept)[:, scored]],
                                          day_variogram(month_days))
        reference, t, counts = held.reference[scored], truth[i][scored], nobs[scored]
        model, composite = sst[0][scored], baseline[scored]
        for name, low, high in NOBS_CLASSES:
            pick = (counts >= low) & (counts <= high)
            sums[name] += [pick.sum(), np.sum((composite[pick] - reference[pick]) ** 2),
                           np.sum(m_k[pick] - 2 * c_kw[pick] + v[pick]) if low > 0 else np.nan,
                           np.sum((model[pick] - reference[pick]) ** 2),
                           np.sum(held.reference_var[scored][pick] - 2 * held.shared_var[scored][pick]),
                           np.sum((model[pick] - t[pick]) ** 2), np.sum((composite[pick] - t[pick]) ** 2)]
    print("| valid days (thinned) | scored pixels | comp D2 | pred | model est | true | composite true |")
    print("|---|---|---|---|---|---|---|")
    for name, (n, comp_d2, comp_pred, model_d2, v, model_t2, comp_t2) in sums.items():
        if n:
            pred = "–" if np.isnan(comp_pred) else f"{comp_pred / n:.4f}"
            print(f"| {name} | {int(n)} | {comp_d2 / n:.4f} | {pred} | "
                  f"{np.sqrt(max(model_d2 - v, 0) / n):.3f} | {np.sqrt(model_t2 / n):.3f} | "
                  f"{np.sqrt(comp_t2 / n):.3f} |")


if __name__ == "__main__":
    main()
