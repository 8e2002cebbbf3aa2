"""From plugging a phone in to a report: the commands a new user runs, with their real output.

Run: ``python -m benchmarks.studies.phone_ready [--delay 2.0]``. There is no phone on this
machine, so the phones are the test suite's fake ones (``tests/benchmarks/adb/fake``: they speak
the adb wire protocol on loopback to the real ``adb``, run the pushed model in the host's build of
its runtime and print the real tools' output formats). Two are attached, a "Pixel 8" and a
"Pixel 7", both arm64-v8a with the demo app installed. The runner mirror is a local folder whose
``benchmark_model`` is the fake's stand-in (the fake phone picks its tool by file name), with a
``SHA256SUMS`` made by ``sha256sum``. The models: Google's DeepLabV3 ``.tflite`` from ``--shared``
(a foreign model: the tool runner) and a one-convolution ``.onnx`` with an edgeseg sidecar (the
app runner: no ``onnxruntime_perf_test`` is cached).

Each command is run as a user would type it (``python -m edgeseg …`` in a subprocess, 150
columns) and its output recorded verbatim, temp paths shortened to ``$WORK``. The two-phone run
is timed against each phone alone. A fake phone's compute is the host's, and this host has two
shared cores, so each fake tool run is held ``--delay`` seconds longer, standing in for the phone's
own compute time (which real phones do in parallel on their own CPUs); the numbers say so.
Writes ``benchmarks/results/phone_ready.{md,json}``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from edgeseg.sidecar import sidecar_path
from tests.benchmarks.adb.fake import PIXEL_8, FakeDevice

RESULTS = Path(__file__).resolve().parents[1] / "results"
PIXEL_7 = {**PIXEL_8, "ro.product.model": "Pixel 7", "ro.product.device": "panther"}
PIXEL_7["ro.product.name"], PIXEL_7["ro.soc.model"] = "panther", "Tensor G2"
SIDECAR = {
    "classes": ["background", "red", "green", "blue"],
    "palette": [[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]],
    "input_size": [32, 32],
    "layout": "NCHW",
    "mean": [0.5, 0.5, 0.5],
    "std": [0.25, 0.25, 0.25],
    "input_dtype": "float32",
    "output": "logits",
    "output_dtype": "float32",
    "quantization": "fp32",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tiny_onnx(folder: Path) -> Path:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.full((4, 3, 3, 3), 0.1, np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 32, 32])],
        [weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = folder / "tiny_fp32.onnx"
    onnx.save(model, path)
    sidecar_path(path).write_text(json.dumps(SIDECAR))
    return path


def mirror(folder: Path) -> Path:
    tool = folder / "arm64-v8a" / "benchmark_model"
    tool.parent.mkdir(parents=True)
    tool.write_bytes(b"\x7fELF\x02\x01\x01 stand-in for benchmark_model " + bytes(range(256)) * 64)
    digest = hashlib.sha256(tool.read_bytes()).hexdigest()
    (folder / "SHA256SUMS").write_text(f"{digest}  arm64-v8a/benchmark_model\n")
    return folder


class Session:
    """The private adb server, the work folder and the recorded commands."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.env = {
            **os.environ,
            "ANDROID_ADB_SERVER_PORT": str(free_port()),
            "HOME": str(work / "home"),
            "EDGESEG_RUNNERS": str(work / "home/.cache/edgeseg/runners"),
            "COLUMNS": "150",
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        }
        (work / "home").mkdir()
        self.steps: list[dict] = []

    def adb(self, *args: str) -> str:
        return subprocess.run(["adb", *args], env=self.env, capture_output=True, text=True).stdout

    def edgeseg(self, *args: str, why: str) -> dict:
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "edgeseg", *args], env=self.env, capture_output=True, text=True
        )
        wall = time.perf_counter() - start
        text = (proc.stdout + proc.stderr).replace(str(self.work), "$WORK")
        command = ("edgeseg " + " ".join(args)).replace(str(self.work), "$WORK")
        step = {"command": command, "why": why, "exit": proc.returncode}
        step.update(output=text.rstrip(), wall_s=round(wall, 1))
        self.steps.append(step)
        return step


def run(args: argparse.Namespace, work: Path) -> dict:
    s = Session(work)
    s.adb("start-server")
    phones = [FakeDevice(work / "pixel8"), FakeDevice(work / "pixel7", PIXEL_7)]
    for phone in phones:
        phone.behaviour.tool_delay_s = args.delay
        s.adb("connect", phone.serial)
    deadline = time.monotonic() + 20
    while s.adb("devices").count("\tdevice") < len(phones) and time.monotonic() < deadline:
        time.sleep(0.1)
    p8, p7 = (p.serial for p in phones)
    models = work / "models"
    models.mkdir()
    tflite = models / "deeplabv3_257_mv_gpu.tflite"
    shutil.copy(Path(args.shared) / "models" / tflite.name, tflite)
    onnx = tiny_onnx(models)
    lab = mirror(work / "lab-mirror")
    bench = [str(tflite), str(onnx), "--runs", "10", "--warmup", "2", "--quiet"]
    try:
        s.edgeseg("devices", why="1. which phones does adb see?")
        s.edgeseg("devices", "--check", why="2. what is ready on them? (nothing cached yet)")
        s.edgeseg(
            "devices",
            "--setup",
            "--runners-from",
            str(lab),
            why="3. get the runner tools (offline, from the lab mirror), verify, cache, push",
        )
        s.edgeseg("devices", "--check", why="4. ready now?")
        both = s.edgeseg(
            "bench",
            *bench,
            "--device",
            "all",
            "--json",
            str(work / "both.json"),
            "--max-latency-ms",
            str(args.max_latency_ms),
            "--report",
            str(work / "report.html"),
            why="5. benchmark on both phones at once, gated on latency, with an HTML report "
            "(mIoU gates need --data and a sidecar reference: `edgeseg export` writes one)",
        )
        one8 = s.edgeseg("bench", *bench, "--device", p8, why="6a. the same, Pixel 8 alone")
        one7 = s.edgeseg("bench", *bench, "--device", p7, why="6b. the same, Pixel 7 alone")
    finally:
        for phone in phones:
            s.adb("disconnect", phone.serial)
            phone.vanish()
        s.adb("kill-server")
    rows = json.loads((work / "both.json").read_text())["records"]
    return {
        "delay_s": args.delay,
        "steps": s.steps,
        "wall_s": {"both": both["wall_s"], "pixel8": one8["wall_s"], "pixel7": one7["wall_s"]},
        "rows": [
            {k: r.get(k) for k in ("artifact", "runner", "device", "status")}
            | {"wall_s": r["extra"].get("wall_s")}
            for r in rows
        ],
    }


def write(data: dict, command: str, results: Path) -> None:
    results.mkdir(parents=True, exist_ok=True)
    (results / "phone_ready.json").write_text(json.dumps(data, indent=1))
    w = data["wall_s"]
    lines = [
        "# From plugging the phone in to a report (fake phones)",
        "",
        f"Command: `{command}`  ",
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; host: 2 shared CPU cores.",
        "",
        "The phones are the test suite's fake phones on the real `adb` (see the module docstring",
        "of `benchmarks/studies/phone_ready.py`): latencies below are this host's CPU, not a",
        f"phone's, and every fake tool run is held {data['delay_s']:g} s longer to stand in for",
        "the phone's own compute. The mirror's `benchmark_model` is the fake's stand-in file.",
        "Both fake phones run their models on the same two host cores, so the latencies of the",
        "two-phone run are higher than those of a phone alone; real phones compute on their own",
        "CPUs. What the two-phone run shows is the scheduling: both phones' rows run at once.",
        "",
        "## Two phones at once vs one",
        "",
        "| run | wall s |",
        "|---|---:|",
        f"| `--device all` (Pixel 8 + Pixel 7 in parallel) | {w['both']} |",
        f"| Pixel 8 alone | {w['pixel8']} |",
        f"| Pixel 7 alone | {w['pixel7']} |",
        f"| sum of the two alone | {round(w['pixel8'] + w['pixel7'], 1)} |",
        "",
        "Wall times include starting `python -m edgeseg` (imports) and the device checks.",
        "",
        "## The commands and their output",
        "",
    ]
    for step in data["steps"]:
        lines += [f"### {step['why']}", "", "```console", f"$ {step['command']}"]
        lines += [step["output"], f"# exit {step['exit']}, {step['wall_s']} s", "```", ""]
    (results / "phone_ready.md").write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=2.0, help="extra s per fake tool run")
    parser.add_argument("--max-latency-ms", type=float, default=500.0, help="latency gate")
    parser.add_argument("--shared", default=os.environ.get("EDGESEG_SHARED", "../shared"))
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the .md/.json go")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="phone_ready.") as tmp:
        data = run(args, Path(tmp))
    argv_text = " ".join(sys.argv[1:] if argv is None else argv)
    write(data, f"python -m benchmarks.studies.phone_ready {argv_text}".strip(), args.results)


if __name__ == "__main__":
    main()
