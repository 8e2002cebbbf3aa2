"""Training throughput (images/s, forward + backward + optimizer step) per student on this CPU.

Run: ``python -m benchmarks.studies.train_throughput [--size 360x480] [--batch-size 4] [--steps
6]``. Writes ``benchmarks/results/train_throughput.{json,md}`` with the command and machine details.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

from edgeseg.models import create_model, list_models, model_info
from edgeseg.utils import parse_size

RESULTS = Path(__file__).resolve().parents[1] / "results"


def measure(name: str, size: tuple[int, int], batch: int, steps: int, warmup: int) -> dict:
    """Median and mean step time over ``steps`` timed steps after ``warmup`` untimed ones."""
    torch.manual_seed(0)
    model = create_model(name, num_classes=11).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    images = torch.randn(batch, 3, *size)
    target = torch.randint(0, 11, (batch, *size))
    times = []
    for step in range(warmup + steps):
        t0 = time.perf_counter()
        loss = torch.nn.functional.cross_entropy(model(images), target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step >= warmup:
            times.append(time.perf_counter() - t0)
    times.sort()
    median = times[len(times) // 2]
    return {
        "model": name,
        "params_m": round(sum(p.numel() for p in model.parameters()) / 1e6, 3),
        "step_s_median": round(median, 4),
        "images_per_s": round(batch / median, 3),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="360x480")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--models", default="students", help="'students' or comma-separated")
    args = parser.parse_args(argv)
    size = parse_size(args.size)
    names = (
        [n for n in list_models() if model_info(n).role == "student"]
        if args.models == "students"
        else args.models.split(",")
    )
    rows = []
    for name in names:
        row = measure(name, size, args.batch_size, args.steps, args.warmup)
        print(json.dumps(row), flush=True)
        rows.append(row)
    report = {
        "command": "python -m benchmarks.studies.train_throughput "
        + " ".join(argv or sys.argv[1:]),
        "size": list(size),
        "batch_size": args.batch_size,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "results": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "train_throughput.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        "# Training throughput on this CPU",
        "",
        f"Command: `{report['command'].strip()}`  ",
        f"Input {size[0]}x{size[1]}, batch {args.batch_size}, 11 classes, AdamW step included; "
        f"torch {report['torch']}, {report['threads']} threads, {report['cores']} cores.",
        "",
        "Measured with the machine otherwise idle. With another process busy on one of the two",
        "cores, torch's two OpenMP threads wait on each other and steps ran 10-40x slower here:",
        "set `OMP_NUM_THREADS=1` when the CPU is shared.",
        "",
        "| model | params (M) | step (s, median) | images/s |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| {r['model']} | {r['params_m']} | {r['step_s_median']} | {r['images_per_s']} |"
        for r in rows
    ]
    (RESULTS / "train_throughput.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
