"""Roofline: this machine's peak GEMM throughput, each model's MACs, and how close it gets.

The peak is measured, not looked up: a large square matrix product with the benchmark's thread
count, best of a few repeats, in GMAC/s (one multiply-accumulate = 2 FLOPs). fp32:
``torch.matmul``. int8: onnxruntime's ``MatMulInteger`` (uint8 x int8 → int32, the weights a
constant so MLAS pre-packs them as it does for a quantized conv). ``torch._int_mm`` exists
on CPU but is a slow reference path here (~0.3 GMAC/s vs ~60 for MLAS): not a peak. A model's MACs
come from its own graph (see each runner's ``macs_method``); a format that cannot count (a
``.pte``) borrows the count of a row exported from the same checkpoint at the same size
(``source_sha256`` + input size), and says so. Achieved GMAC/s = MACs / median latency;
``fraction_of_peak`` divides by the fp32 peak, or the int8 one for int8-labelled artifacts.
Convolutions are not one big GEMM: a segmentation net at a few % of peak is normal on CPUs.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from edgeseg.benchmarks.base import RunResult
from edgeseg.quantization import QuantLabel, is_int8


@dataclass
class Peak:
    threads: int
    size: int  # N of the N x N x N GEMM
    fp32_gmacs: float
    int8_gmacs: float | None
    int8_method: str  # what measured int8, or why it was not measured

    def as_dict(self) -> dict:
        return asdict(self)


def measure_peak(threads: int, size: int = 2048, repeats: int = 3) -> Peak:
    """Best-of-``repeats`` GMAC/s of an ``size``³ GEMM in fp32 and (if it runs) int8."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        gen = torch.Generator().manual_seed(0)
        a, b = torch.randn(size, size, generator=gen), torch.randn(size, size, generator=gen)
        fp32 = _best(lambda: torch.matmul(a, b), size, repeats, threads)
    finally:
        torch.set_num_threads(before)
    int8, method = _int8_peak(threads, size, repeats)
    return Peak(threads, size, fp32, int8, method)


def _int8_peak(threads: int, size: int, repeats: int) -> tuple[float | None, str]:
    try:
        import onnxruntime as ort
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        return None, "not measured: needs onnx + onnxruntime (pip install 'edgeseg[onnx]')"
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (size, size), dtype=np.uint8)
    b = rng.integers(-128, 128, (size, size), dtype=np.int8)
    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["a", "b"], ["y"])],
        "gemm",
        [helper.make_tensor_value_info("a", TensorProto.UINT8, [size, size])],
        [helper.make_tensor_value_info("y", TensorProto.INT32, [size, size])],
        [numpy_helper.from_array(b, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    gemm = _best(lambda: session.run(None, {"a": a}), size, repeats, threads)
    return gemm, "onnxruntime MatMulInteger"


def _best(fn, size: int, repeats: int, threads: int) -> float:
    """GMAC/s of the fastest repeat. One thread: timed by the calling thread's CPU clock (the
    work runs there), so a neighbour's load on a shared CPU does not lower the peak, the same
    clock the model rows use (``thread_cpu_ms``); several threads: wall time."""
    clock = time.thread_time if threads == 1 else time.perf_counter
    fn()  # warm-up: allocations, thread pool start
    best = float("inf")
    for _ in range(repeats):
        started = clock()
        fn()
        best = min(best, clock() - started)
    return size**3 / best / 1e9


def share_macs(results: list[RunResult]) -> None:
    """Give rows that could not count MACs the count of a sibling from the same checkpoint."""
    counted = {}
    for r in results:
        key = r.extra.get("origin")
        if r.extra.get("macs") and key:
            counted.setdefault(key, r)
    for r in results:
        sibling = counted.get(r.extra.get("origin"))
        if r.status == "ok" and not r.extra.get("macs") and sibling:
            r.extra["macs"] = sibling.extra["macs"]
            r.extra["macs_method"] = f"from {sibling.runner} row of the same checkpoint and size"


def attach(results: list[RunResult], peak: Peak) -> None:
    """``extra["roofline"]``: achieved GMAC/s and the fraction of the matching peak (host rows
    only: a phone's peak is not this machine's)."""
    for r in results:
        macs = r.extra.get("macs")
        if r.status != "ok" or not macs or r.latency is None or r.device != "host":
            continue
        cpu = r.one_thread_cpu_ms
        median = cpu or r.latency.median_ms or r.latency.mean_ms
        achieved = macs / (median / 1000.0) / 1e9
        int8 = is_int8(r.quantization) and peak.int8_gmacs
        bound = peak.int8_gmacs if int8 else peak.fp32_gmacs
        r.extra["roofline"] = {
            "gmacs_per_s": achieved,
            "peak": QuantLabel.INT8 if int8 else QuantLabel.FP32,
            "clock": "thread-cpu" if cpu else "wall",
            "peak_gmacs_per_s": bound,
            "fraction_of_peak": achieved / bound if bound else None,
        }
