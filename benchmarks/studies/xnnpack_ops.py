"""Why XNNPACK int8 is no faster than fp32 on this CPU: the same op blocks, fp32 vs int8.

Run: ``python -m benchmarks.studies.xnnpack_ops [--size 64x90x120] [--runs 10]``. Each block (eight
1x1 convs, eight 3x3 depthwise convs, four dense 3x3 convs, two MobileNetV2 inverted residuals; all
with ReLU6) is exported through edgeseg's own converters to ExecuTorch (XNNPACK) and TFLite
(XNNPACK delegate) as fp32 and int8, and onnxruntime (MLAS) for comparison, then timed with one
thread (median thread CPU time). The ratio per op kind shows where int8 pays on this CPU and
where it cannot: XNNPACK's x86 int8 kernels without AVX-VNNI multiply-accumulate at about the
fp32 rate, while onnxruntime's u8s8 kernels (``vpmaddubsw``) do twice the work per instruction.
Writes ``benchmarks/results/xnnpack_ops.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from edgeseg import runtimes
from edgeseg.benchmarks.bench import cpu_flags
from edgeseg.converters import ExportSpec, get_converter

RESULTS = Path(__file__).resolve().parents[1] / "results"
TARGETS = ("executorch", "tflite", "onnx")


def block(kind: str, c: int) -> nn.Module:
    def unit(*layers: nn.Module) -> nn.Sequential:
        return nn.Sequential(*layers, nn.ReLU6())

    blocks = {
        "conv 1x1": lambda: [unit(nn.Conv2d(c, c, 1)) for _ in range(8)],
        "depthwise 3x3": lambda: [unit(nn.Conv2d(c, c, 3, padding=1, groups=c)) for _ in range(8)],
        "conv 3x3": lambda: [unit(nn.Conv2d(c, c, 3, padding=1)) for _ in range(4)],
        "inverted residual": lambda: [
            nn.Sequential(
                unit(nn.Conv2d(c, 4 * c, 1)),
                unit(nn.Conv2d(4 * c, 4 * c, 3, padding=1, groups=4 * c)),
                nn.Conv2d(4 * c, c, 1),
            )
            for _ in range(2)
        ],
    }
    torch.manual_seed(0)
    return nn.Sequential(*blocks[kind]()).eval()


def time_cpu(run, x: np.ndarray, runs: int) -> float:
    for _ in range(3):
        run(x)
    samples = []
    for _ in range(runs):
        started = time.thread_time()
        run(x)
        samples.append(time.thread_time() - started)
    return 1000 * sorted(samples)[len(samples) // 2]


def measure(kind: str, shape: tuple[int, int, int], runs: int, tmp: Path) -> dict:
    model = block(kind, shape[0])
    example = torch.randn(1, *shape)
    calibration = [torch.randn(1, *shape) for _ in range(4)]
    row: dict = {"block": kind}
    for target in TARGETS:
        converter = get_converter(target)
        for quantize in ("none", "int8"):
            spec = ExportSpec(quantize=quantize, size=shape[1:], calibration=calibration)
            path = tmp / f"{kind.replace(' ', '_')}_{quantize}{converter.suffix}"
            converter.convert(model, example, path, spec)
            session = runtimes.load(path, threads=1, runtime=converter.runtime)
            row[f"{target}_{'fp32' if quantize == 'none' else 'int8'}_ms"] = round(
                time_cpu(session.run_float, example.numpy(), runs), 2
            )
        row[f"{target}_int8_speedup"] = round(
            row[f"{target}_fp32_ms"] / row[f"{target}_int8_ms"], 2
        )
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="64x90x120", help="CxHxW of the block input")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)
    from executorch.extension.pybindings.portable_lib import _unsafe_reset_threadpool

    _unsafe_reset_threadpool(1)  # before any .pte is loaded: one XNNPACK thread
    torch.set_num_threads(1)
    shape = tuple(int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory(prefix="edgeseg-ops-") as tmp:
        rows = [
            measure(k, shape, args.runs, Path(tmp))
            for k in ("conv 1x1", "depthwise 3x3", "conv 3x3", "inverted residual")
        ]
    report = {
        "command": "python -m benchmarks.studies.xnnpack_ops " + " ".join(argv or sys.argv[1:]),
        "cpu_flags": cpu_flags(),
        "input": list(shape),
        "rows": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "xnnpack_ops.json").write_text(json.dumps(report, indent=2) + "\n")
    head = " | ".join(f"{t} fp32 | {t} int8 | ×" for t in TARGETS)
    lines = [
        "# Op blocks, fp32 vs int8, one thread (median thread CPU ms)",
        "",
        f"Command: `{report['command']}`  ",
        f"CPU flags: {report['cpu_flags']}; block input {args.size} (CxHxW), batch 1.",
        "",
        f"| block | {head} |",
        "|---|" + "---:|" * 3 * len(TARGETS),
    ]
    for r in rows:
        cells = " | ".join(
            f"{r[f'{t}_fp32_ms']} | {r[f'{t}_int8_ms']} | {r[f'{t}_int8_speedup']}" for t in TARGETS
        )
        lines.append(f"| {r['block']} | {cells} |")
    (RESULTS / "xnnpack_ops.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
