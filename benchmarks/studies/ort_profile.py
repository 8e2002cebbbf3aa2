"""Per-op time of an ONNX model in onnxruntime (its own profiler), grouped by op kind.

Why: "int8 is not faster" needs an answer a user can act on — which ops take the time in each
graph (e.g. depthwise convs, a uint8 resize at full resolution, the quantize/dequantize at the
graph's edges). Convs are split into depthwise / 1x1 / kxk by reading the optimised graph.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np


def profile_onnx(path: Path, runs: int = 5, threads: int = 1) -> dict:
    """``{"ms_per_run": …, "share_pct": {op kind: % of kernel time}}`` over ``runs`` runs."""
    import onnx
    import onnxruntime as ort

    with tempfile.TemporaryDirectory(prefix="edgeseg-prof-") as tmp:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.enable_profiling = True
        options.profile_file_prefix = str(Path(tmp) / "prof")
        options.optimized_model_filepath = str(Path(tmp) / "optimized.onnx")
        options.log_severity_level = 3
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        kinds = {n.name: _kind(n) for n in onnx.load(options.optimized_model_filepath).graph.node}
        feed = {i.name: _zeros(i) for i in session.get_inputs()}
        session.run(None, feed)  # first run (allocations) is not profiled separately: drop it
        events = json.loads(Path(session.end_profiling()).read_text())
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        for _ in range(runs):
            session.run(None, feed)
        events = json.loads(Path(session.end_profiling()).read_text())
    spent: Counter[str] = Counter()
    for event in events:
        name = event.get("name", "")
        if event.get("cat") == "Node" and name.endswith("_kernel_time"):
            node = name[: -len("_kernel_time")]
            spent[kinds.get(node, event.get("args", {}).get("op_name", "?"))] += event["dur"]
    total = sum(spent.values()) or 1
    return {
        "ms_per_run": round(total / runs / 1000, 2),
        "share_pct": {k: round(100 * v / total, 1) for k, v in spent.most_common()},
    }


def _kind(node) -> str:
    attrs = {a.name: a for a in node.attribute}
    if "Conv" not in node.op_type:
        return node.op_type
    group = attrs["group"].i if "group" in attrs else 1
    kernel = list(attrs["kernel_shape"].ints) if "kernel_shape" in attrs else []
    if group > 1:
        return f"{node.op_type} depthwise"
    return f"{node.op_type} {'1x1' if kernel == [1, 1] else 'kxk'}"


def _zeros(info) -> np.ndarray:
    dtype = {"tensor(uint8)": np.uint8, "tensor(int8)": np.int8}.get(info.type, np.float32)
    return np.zeros([d if isinstance(d, int) else 1 for d in info.shape], dtype=dtype)
