"""The three phone-side runners: TFLite ``benchmark_model``, ExecuTorch ``executor_runner``,
``onnxruntime_perf_test``. Each is a tool (names + where to get it), its flags, and its parser;
the push/run/clean-up lifecycle is :class:`~edgeseg.benchmarks.adb.session.AdbRunner`'s.

Names start with ``adb-`` so they never collide with the host runners of the same runtime.
"""

from __future__ import annotations

import statistics

from edgeseg.benchmarks.adb.binaries import Tool
from edgeseg.benchmarks.adb.parsers import (
    ToolTimings,
    parse_executor_runner,
    parse_onnxruntime_perf,
    parse_tflite,
)
from edgeseg.benchmarks.adb.session import AdbRunner
from edgeseg.benchmarks.base import BenchError, LatencyStats, register_runner
from edgeseg.benchmarks.options import RunRequest

TFLITE_NIGHTLY = (
    "https://storage.googleapis.com/tensorflow-nightly-public/prod/tensorflow/release/lite/tools/"
    "nightly/latest/android_aarch64_benchmark_model"
)
_CLASSIC_DELEGATES = {
    "xnnpack": ["--use_xnnpack=true"],
    "gpu": ["--use_gpu=true"],
    "nnapi": ["--use_nnapi=true"],
    "none": ["--use_xnnpack=false"],
}
_LITERT_DELEGATES = {
    "xnnpack": ["--use_cpu=true"],
    "none": ["--use_cpu=true"],
    "gpu": ["--use_gpu=true"],
}


@register_runner
class AdbTflite(AdbRunner):
    name = "adb-tflite"
    formats = (".tflite",)
    tool = Tool(
        ("benchmark_model", "android_aarch64_benchmark_model", "benchmark_litert_model"),
        f"TFLite's prebuilt nightly {TFLITE_NIGHTLY} (armeabi-v7a: android_arm_benchmark_model; "
        "chmod +x it), or LiteRT's benchmark_litert_model build",
    )

    def tool_args(self, binary: str, model: str, request: RunRequest) -> list[str]:
        litert = binary.endswith("benchmark_litert_model")
        table = _LITERT_DELEGATES if litert else _CLASSIC_DELEGATES
        delegate, timing = request.phone.delegate, request.timing
        if delegate not in table:
            tool = binary.rsplit("/", 1)[-1]
            raise BenchError(f"{tool} has no '{delegate}' delegate (use: {', '.join(table)})")
        return [
            binary,
            f"--graph={model}",
            f"--num_threads={timing.threads}",
            f"--warmup_runs={timing.warmup}",
            f"--num_runs={timing.runs}",
            "--min_secs=0",
            "--warmup_min_secs=0",
            *table[delegate],
        ]

    def parse(self, text: str, request: RunRequest) -> ToolTimings:
        return parse_tflite(text)


@register_runner
class AdbExecutorch(AdbRunner):
    name = "adb-executorch"
    formats = (".pte",)
    tool = Tool(
        ("executor_runner", "xnn_executor_runner"),
        "an ExecuTorch build for Android: cmake with the NDK toolchain (-DANDROID_ABI=arm64-v8a "
        "-DEXECUTORCH_BUILD_XNNPACK=ON -DEXECUTORCH_BUILD_EXECUTOR_RUNNER=ON), see ExecuTorch's "
        "'Building from Source' docs; the binary is cmake-out/executor_runner",
    )

    def tool_args(self, binary: str, model: str, request: RunRequest) -> list[str]:
        timing = request.timing
        return [
            binary,
            f"--model_path={model}",
            f"--num_executions={timing.warmup + timing.runs}",
            f"--cpu_threads={timing.threads}",
        ]

    def parse(self, text: str, request: RunRequest) -> ToolTimings:
        return split_warmup(parse_executor_runner(text), request.timing.warmup)

    def notes(self, request: RunRequest) -> list[str]:
        return ["delegates are baked into the .pte at export; --delegate does not apply"]


def split_warmup(t: ToolTimings, warmup: int) -> ToolTimings:
    """executor_runner has no warm-up flag: it ran warmup + runs times; drop the first ones."""
    if len(t.samples_ms) <= warmup:  # an older runner without per-iteration lines
        t.format += " (no per-iteration times: mean includes warm-up)"
        return t
    warm, timed = t.samples_ms[:warmup], t.samples_ms[warmup:]
    stats = LatencyStats.from_samples(timed)
    return ToolTimings(
        t.format,
        stats.mean_ms,
        runs=stats.runs,
        min_ms=stats.min_ms,
        max_ms=stats.max_ms,
        std_ms=stats.std_ms,
        median_ms=stats.median_ms,
        p90_ms=stats.p90_ms,
        init_ms=t.init_ms,
        first_ms=t.samples_ms[0],
        warmup_mean_ms=statistics.fmean(warm) if warm else None,
        samples_ms=timed,
    )


@register_runner
class AdbOnnxruntime(AdbRunner):
    name = "adb-onnxruntime"
    formats = (".onnx",)
    tool = Tool(
        ("onnxruntime_perf_test",),
        "an onnxruntime Android build: ./build.sh --android --android_abi arm64-v8a "
        "--android_api 29 --android_sdk_path … --android_ndk_path … --config Release; copy "
        "build/Android/Release/onnxruntime_perf_test (and libonnxruntime.so if built shared)",
    )

    def tool_args(self, binary: str, model: str, request: RunRequest) -> list[str]:
        provider = "nnapi" if request.phone.delegate == "nnapi" else "cpu"
        return [
            binary,
            "-e",
            provider,
            "-m",
            "times",
            "-r",
            str(request.timing.runs),
            "-x",
            str(request.timing.threads),
            "-I",
            model,
        ]

    def parse(self, text: str, request: RunRequest) -> ToolTimings:
        return parse_onnxruntime_perf(text)

    def notes(self, request: RunRequest) -> list[str]:
        return ["onnxruntime_perf_test always runs exactly one warm-up inference"]
