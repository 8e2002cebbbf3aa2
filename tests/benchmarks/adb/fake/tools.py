"""Stand-ins for the phone-side runner binaries, run as ``python tools.py TOOL ROOT ARGS...``.

Each parses the real tool's flags, really loads the pushed model (device paths map under ROOT)
in the host runtime, times real inferences and prints them in the real tool's output format:
TFLite ``benchmark_model`` (classic) and LiteRT ``benchmark_litert_model``, ExecuTorch
``executor_runner`` (ET_LOG lines on stderr) and ``onnxruntime_perf_test`` (stdout). A file the
runtime rejects fails the way the real tool does (error text, non-zero exit; ExecuTorch may
abort the process, which the shell reports as 134).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(".")


def host(device_path: str) -> Path:
    return ROOT.joinpath(*[p for p in Path(device_path).parts if p not in ("/", "..")])


def flags(args: list[str]) -> dict[str, str]:
    return dict(a[2:].partition("=")[::2] for a in args if a.startswith("--"))


def timed(fn, count: int) -> list[float]:
    """Microseconds per call, like the tools' own clocks."""
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e6)
    return samples


def rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096 / 2**20


def _tflite_session(f: dict[str, str]):
    from ai_edge_litert.interpreter import Interpreter

    start = time.perf_counter()
    interp = Interpreter(model_path=str(host(f["graph"])), num_threads=int(f.get("num_threads", 1)))
    interp.allocate_tensors()
    init_us = (time.perf_counter() - start) * 1e6
    for d in interp.get_input_details():
        interp.set_tensor(d["index"], np.ones(d["shape"], d["dtype"]))
    return interp, init_us


def _count_line(us: list[float], percentiles: bool) -> str:
    line = (
        f"count={len(us)} first={us[0]:.0f} curr={us[-1]:.0f} min={min(us):.0f} "
        f"max={max(us):.0f} avg={statistics.fmean(us):g} std={statistics.pstdev(us):.0f}"
    )
    if percentiles:
        q = np.percentile(us, [5, 50, 95])
        line += f" p5={q[0]:.0f} median={q[1]:.0f} p95={q[2]:.0f}"
    return line


def benchmark_model(args: list[str]) -> int:
    f = flags(args)
    say = lambda text: print(f"INFO: {text}", file=sys.stderr)  # noqa: E731 -- TFLITE_LOG
    say("STARTING!")
    say(f"Num threads: [{f.get('num_threads', 1)}]")
    say(f"Graph: [{f['graph']}]")
    rss0 = rss_mb()
    try:
        interp, init_us = _tflite_session(f)
    except Exception as exc:  # the real tool: "Failed to mmap model" / "Failed to construct"
        print(f"ERROR: Failed to construct interpreter: {exc}", file=sys.stderr)
        print("ERROR: Benchmarking failed.", file=sys.stderr)
        return 1
    say(f"Loaded model {f['graph']}")
    if f.get("use_xnnpack") == "true":
        say("Created TensorFlow Lite XNNPACK delegate for CPU.")
    say(f"The input model file size (MB): {host(f['graph']).stat().st_size / 1e6:g}")
    say(f"Initialized session in {init_us / 1000:.3f}ms.")
    rss_init = rss_mb()
    warm = timed(interp.invoke, max(1, int(f.get("warmup_runs", 1))))
    runs = timed(interp.invoke, max(1, int(f.get("num_runs", 50))))
    for label, us in (("warmup", warm), ("timed", runs)):
        say(f"Running benchmark for at least {len(us)} iterations ({label}).")
        say(_count_line(us, percentiles=label == "timed") + "\n")
    say(
        f"Inference timings in us: Init: {init_us:.0f}, First inference: {warm[0]:.0f}, "
        f"Warmup (avg): {statistics.fmean(warm):g}, Inference (avg): {statistics.fmean(runs):g}"
    )
    say(
        "Note: as the benchmark tool itself affects memory footprint, the following is only "
        "APPROXIMATE to the actual memory footprint of the model at runtime."
    )
    say(
        f"Memory footprint delta from the start of the tool (MB): init={rss_init - rss0:g} "
        f"overall={rss_mb() - rss0:g}"
    )
    say(f"Overall peak memory footprint (MB) via periodic monitoring: {rss_mb():g}")
    return 0


def benchmark_litert_model(args: list[str]) -> int:
    """LiteRT's CompiledModel benchmark: the same flags, a block of ``Inference (…)`` lines."""
    f = flags(args)
    log = lambda text: print(f"INFO: [benchmark_litert_model.h:68] {text}", file=sys.stderr)  # noqa: E731
    try:
        interp, init_us = _tflite_session(f)
    except Exception as exc:
        print(
            f"ERROR: [benchmark_litert_model.cc:120] Failed to load model: {exc}", file=sys.stderr
        )
        return 1
    rss0 = rss_mb()
    warm = timed(interp.invoke, max(1, int(f.get("warmup_runs", 1))))
    runs = timed(interp.invoke, max(1, int(f.get("num_runs", 50))))
    ms = [u / 1000 for u in runs]
    log("\n========== BENCHMARK RESULTS ==========")
    log(f"Model initialization: {init_us / 1000:.2f} ms")
    log(f"Warmup (first):       {warm[0] / 1000:.2f} ms")
    log(f"Warmup (avg):         {statistics.fmean(warm) / 1000:.2f} ms ({len(warm)} runs)")
    log(f"Inference (avg):      {statistics.fmean(ms):.2f} ms ({len(ms)} runs)")
    log(f"Inference (min):      {min(ms):.2f} ms")
    log(f"Inference (max):      {max(ms):.2f} ms")
    log(f"Inference (std):      {statistics.pstdev(ms):.2f}")
    log("Throughput:           12.34 MB/s")
    log("\nMemory Usage:")
    log(f"Init footprint:       {rss0:.2f} MB")
    log(f"Overall footprint:    {rss_mb():.2f} MB")
    log(f"Peak memory:          {rss_mb():.2f} MB")
    log("======================================\n")
    return 0


def et_log(level: str, line: int, text: str) -> None:
    stamp = time.perf_counter() % 60
    print(
        f"{level} 00:00:{stamp:09.6f} executorch:executor_runner.cpp:{line}] {text}",
        file=sys.stderr,
    )


def executor_runner(args: list[str]) -> int:
    f = flags(args)
    import torch
    from executorch.extension.pybindings import _C  # executorch.runtime without exir's import

    start = time.perf_counter()
    try:
        module = _C._load_for_executorch(str(host(f["model_path"])))
    except Exception:
        et_log("E", 190, f"Failed to parse model file {f['model_path']}")
        return 1
    et_log("I", 192, f"Model file {f['model_path']} is loaded.")
    meta = module.method_meta("forward")
    inputs = tuple(torch.ones(meta.input_tensor_meta(i).sizes()) for i in range(meta.num_inputs()))
    et_log("I", 200, "Using method forward")
    et_log("I", 330, f"Model loaded in {(time.perf_counter() - start) * 1000:f} ms.")
    n = int(f.get("num_executions", 1))
    total = 0.0
    for i in range(n):
        (us,) = timed(lambda: module.forward(inputs), 1)
        total += us
        et_log("I", 470, f"Iteration {i + 1} of {n}: {us / 1000:f} ms")
    et_log("I", 480, f"Model executed successfully {n} time(s) in {total / 1000:f} ms.")
    et_log("I", 485, f"{meta.num_outputs()} outputs: ")
    print(f"OutputX 0: tensor(sizes={list(meta.output_tensor_meta(0).sizes())}, [...])")
    return 0


def onnxruntime_perf_test(args: list[str]) -> int:
    import onnxruntime as ort

    opts = dict(zip(args[:-1], args[1:]))
    runs, threads, model = int(opts.get("-r", 1000)), int(opts.get("-x", 0)), args[-1]
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    print(f"Setting intra_op_num_threads to {threads}")
    start = time.perf_counter()
    try:
        sess = ort.InferenceSession(str(host(model)), so, providers=["CPUExecutionProvider"])
    except Exception as exc:
        print(f"Load model from {model} failed:{exc}", file=sys.stderr)
        return 255  # the real tool returns -1
    created = time.perf_counter() - start
    feed = {
        i.name: np.ones([d if isinstance(d, int) else 1 for d in i.shape], np.float32)
        for i in sess.get_inputs()
    }
    (first,) = timed(lambda: sess.run(None, feed), 1)
    sec = [u / 1e6 for u in timed(lambda: sess.run(None, feed), runs)]
    total = sum(sec)
    q = np.percentile(sec, [50, 90, 95, 99, 99.9])
    print(f"Session creation time cost: {created:g} s")
    print(f"First inference time cost: {first / 1000:.0f} ms")
    print(f"Total inference time cost: {total:g} s")
    print(f"Total inference requests: {runs}")
    print(f"Average inference time cost: {total / runs * 1000:g} ms")
    print(f"Total inference run time: {total:g} s")
    print(f"Number of inferences per second: {runs / total:g} ")
    print("Avg CPU usage: 98 %")
    print(f"Peak working set size: {int(rss_mb() * 2**20)} bytes")
    print(f"Min Latency: {min(sec):g} s")
    print(f"Max Latency: {max(sec):g} s")
    for name, value in zip(("P50", "P90", "P95", "P99", "P999"), q):
        print(f"{name} Latency: {value:g} s")
    return 0


TOOLS = {
    "benchmark_model": benchmark_model,
    "benchmark_litert_model": benchmark_litert_model,
    "executor_runner": executor_runner,
    "onnxruntime_perf_test": onnxruntime_perf_test,
}

if __name__ == "__main__":
    tool, ROOT = sys.argv[1], Path(sys.argv[2])
    if tool not in TOOLS:
        print(f"/system/bin/sh: {tool}: not executable: 64-bit ELF file", file=sys.stderr)
        sys.exit(126)
    sys.exit(TOOLS[tool](sys.argv[3:]))
