"""Where a training step of the default model spends its time: step times, and the costliest operations.

One step is what `sstfill train` does per batch: forward, the training loss, backward, AdamW.
The batch is random (8 tiles of 64 x 64 pixels x 31 days, 60 % of the pixel-days missing, as
under clouds): the cost does not depend on the values. Prints the median and fastest of
--steps timed steps (after two warm-up steps) and the throughput in the units of the training
log; --profile adds the forward time of each model component (as benchmarks/profile_reconstruct.py
labels them) and the operations that cost most, forward and backward, by input shape.

    OMP_NUM_THREADS=2 python benchmarks/profile_train.py
    OMP_NUM_THREADS=2 python benchmarks/profile_train.py --precision bf16 --profile
    OMP_NUM_THREADS=2 python benchmarks/profile_train.py --model-config '{"patch_size": [1, 4, 4]}'
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from profile_reconstruct import COMPONENTS, FORWARD, label_components
from sstfill.config import MAX_MONTH_DAYS, PRECISIONS, DataContract, TrainConfig
from sstfill.data.dataset import run_model
from sstfill.device import adamw
from sstfill.model import SpatioTemporalModel
from sstfill.model.loss import training_loss


def random_batch(tiles: int, size: int, seed: int) -> dict[str, torch.Tensor]:
    """A batch in the layout of sstfill.data.dataset.window_inputs, one month per tile."""
    generator = torch.Generator().manual_seed(seed)
    shape = (tiles, 1, MAX_MONTH_DAYS, size, size)
    land = torch.zeros(tiles, size, size, dtype=torch.bool)
    land[:, : size // 5, : size // 5] = True  # a corner of coast
    return {
        "x": torch.randn(shape, generator=generator),
        "daily_mask": torch.rand(shape, generator=generator) < 0.6,
        "padded_days_mask": torch.zeros(tiles, 1, MAX_MONTH_DAYS, dtype=torch.bool),
        "land_mask": land,
        "month_of_year": torch.zeros(tiles, 1, dtype=torch.long),
        "baseline": 290 + torch.randn(tiles, 1, size, size, generator=generator),
        "target": torch.randn(tiles, 1, size, size, generator=generator),
        "loss_mask": ~land[:, None].clone(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-size", type=int, default=TrainConfig.batch_size)
    parser.add_argument("--tile-size", type=int, default=DataContract.tile_size)
    parser.add_argument("--precision", choices=PRECISIONS, default="fp32")
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--profile", action="store_true", help="also profile two steps")
    parser.add_argument("--model-config", type=json.loads, default={}, help="ModelConfig fields, as JSON")
    args = parser.parse_args()
    torch.manual_seed(0)
    model = SpatioTemporalModel(**args.model_config).train()
    optimizer = adamw(model.parameters(), lr=1e-3)  # as sstfill train's
    batch = random_batch(args.batch_size, args.tile_size, seed=0)

    def step() -> None:
        mean, log_var = run_model(model, batch, args.precision)
        loss = training_loss(mean, log_var, batch["target"], batch["loss_mask"])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(2):
        step()
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    pixel_days = args.batch_size * args.tile_size ** 2 * MAX_MONTH_DAYS
    median = statistics.median(times)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {args.precision}, batch "
          f"{args.batch_size} x {args.tile_size}^2 x {MAX_MONTH_DAYS} days")
    print(f"step: median {1000 * median:.0f} ms, fastest {1000 * min(times):.0f} ms; "
          f"{args.batch_size / median:.1f} tiles/s, {pixel_days / median / 1e6:.2f} M pixel-days/s (median)")
    if not args.profile:
        return
    label_components(model)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], record_shapes=True) as profile:
        for _ in range(2):
            step()
    seconds = {e.key: e.cpu_time_total / 2e6 for e in profile.key_averages()}
    print("\n| forward of | ms per step |\n|---|---|")
    for label in (FORWARD, *(label for label, _ in COMPONENTS)):
        if label in seconds:
            print(f"| {label} | {1000 * seconds[label]:.0f} |")
    print()
    print(profile.key_averages(group_by_input_shape=True).table(sort_by="self_cpu_time_total", row_limit=25,
                                                                max_name_column_width=40,
                                                                max_shapes_column_width=80))


if __name__ == "__main__":
    main()
