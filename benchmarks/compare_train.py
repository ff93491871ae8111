"""Training steps of this checkout's model and another checkout's, alternating in one process.

On a shared virtual machine the speed of the same code drifts by 10-20 % from one minute to
the next, more than most changes to a training step are worth. Here both versions run the
same batch (as profile_train.py makes it) in one process, one step each in turn, so they
see the same machine; the ratio of each pair of steps is the comparison. The other
checkout's `sstfill/model` is copied to a temporary package so that both can be imported.

    OMP_NUM_THREADS=2 python benchmarks/compare_train.py --against ../sstfill-0.2.0
    OMP_NUM_THREADS=2 python benchmarks/compare_train.py --against ../sstfill-0.2.0 --precision bf16
"""

from __future__ import annotations

import argparse
import importlib
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from profile_train import random_batch
from sstfill.config import MAX_MONTH_DAYS, PRECISIONS, TrainConfig
from sstfill.data.dataset import run_model
from sstfill.device import adamw
from sstfill.model import SpatioTemporalModel
from sstfill.model.loss import training_loss

OTHER_PACKAGE = "other_sstfill_model"


def other_model_class(checkout: Path, workdir: Path) -> type[torch.nn.Module]:
    """SpatioTemporalModel of another checkout, imported as a package of its own."""
    source = checkout / "sstfill" / "model"
    if not (source / "spatiotemporal.py").is_file():
        raise SystemExit(f"--against {checkout}: expected an sstfill checkout with sstfill/model/spatiotemporal.py")
    target = workdir / OTHER_PACKAGE
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    for path in target.glob("*.py"):
        path.write_text(re.sub(r"\bsstfill\.model\b", OTHER_PACKAGE, path.read_text()))
    sys.path.insert(0, str(workdir))
    return importlib.import_module(OTHER_PACKAGE).SpatioTemporalModel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", type=Path, required=True, help="another sstfill checkout (a git worktree)")
    parser.add_argument("--precision", choices=PRECISIONS, default="fp32")
    parser.add_argument("--steps", type=int, default=20, help="timed steps of each version")
    parser.add_argument("--batch-size", type=int, default=TrainConfig.batch_size)
    parser.add_argument("--tile-size", type=int, default=64)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        other = other_model_class(args.against.resolve(), Path(workdir))
        torch.manual_seed(0)
        models = {"this": SpatioTemporalModel().train(), "other": other().train()}
    models["other"].load_state_dict(models["this"].state_dict())
    # Each version with the optimizer its sstfill train builds (sstfill.device.adamw where it has one).
    other_adamw = adamw if "def adamw(" in (args.against / "sstfill" / "device.py").read_text() else torch.optim.AdamW
    optimizers = {"this": adamw(models["this"].parameters(), lr=1e-3),
                  "other": other_adamw(models["other"].parameters(), lr=1e-3)}
    batch = random_batch(args.batch_size, args.tile_size, seed=0)

    def step(version: str) -> float:
        start = time.perf_counter()
        mean, log_var = run_model(models[version], batch, args.precision)
        loss = training_loss(mean, log_var, batch["target"], batch["loss_mask"])
        optimizers[version].zero_grad(set_to_none=True)
        loss.backward()
        optimizers[version].step()
        return time.perf_counter() - start

    for _ in range(2):
        for version in models:
            step(version)
    times: dict[str, list[float]] = {version: [] for version in models}
    for i in range(args.steps):
        for version in ("this", "other") if i % 2 else ("other", "this"):
            times[version].append(step(version))
    pixel_days = args.batch_size * args.tile_size ** 2 * MAX_MONTH_DAYS
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {args.precision}, {args.steps} steps each")
    for version, label in (("other", f"other ({args.against})"), ("this", "this checkout")):
        median = statistics.median(times[version])
        print(f"{label}: median {1000 * median:.0f} ms, fastest {1000 * min(times[version]):.0f} ms, "
              f"{pixel_days / median / 1e6:.2f} M pixel-days/s (median)")
    ratios = [a / b for a, b in zip(times["this"], times["other"], strict=True)]
    print(f"this / other, step by step: median {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
