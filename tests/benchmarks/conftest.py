"""Tiny real artifacts for the host-bench tests: one checkpoint, its ONNX (fp32, int8) and
TorchScript exports, a one-conv ExecuTorch program, bad files of every kind."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def bench_checkpoint(sample_checkpoint) -> Path:
    """lraspp_mobilenet_v3_small after 2 batches on the built-in sample (tests/conftest.py)."""
    return sample_checkpoint


@pytest.fixture(scope="session")
def exports(shared_export) -> dict[str, Path]:
    """{"onnx": fp32 .onnx, "onnx-int8": .onnx, "torchscript": .pt} with their sidecars: the
    session's shared exports, the same files the converter tests check."""
    found = {}
    for name, target, quantize in (
        ("onnx", "onnx", "none"),
        ("torchscript", "torchscript", "none"),
        ("onnx-int8", "onnx", "int8"),
    ):
        outcome = shared_export(target, quantize)
        assert outcome.ok, outcome.parity.reason
        found[name] = outcome.result.path
    return found


@pytest.fixture(scope="session")
def pte(tmp_path_factory) -> Path:
    """A one-conv ExecuTorch program (XNNPACK-free, fast to build) with a valid sidecar."""
    pytest.importorskip("executorch")
    import torch
    from executorch.exir import to_edge
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1)).eval()
    path = tmp_path_factory.mktemp("pte") / "conv.pte"
    example = (torch.zeros(1, 3, 32, 32),)
    path.write_bytes(to_edge(torch.export.export(model, example)).to_executorch().buffer)
    sidecar = {
        "classes": ["a", "b", "c", "d"],
        "palette": [[0, 0, 0]] * 4,
        "input_size": [32, 32],
        "layout": "NCHW",
        "mean": [0.5] * 3,
        "std": [0.25] * 3,
        "input_dtype": "float32",
        "output": "logits",
        "output_dtype": "float32",
        "quantization": "fp32",
    }
    path.with_name(path.name + ".json").write_text(json.dumps(sidecar))
    return path


def random_file(folder: Path, name: str, size: int = 4096) -> Path:
    """Random bytes under a model's name: every runtime must reject it, none may crash us."""
    path = folder / name
    path.write_bytes(np.random.default_rng(0).bytes(size))
    return path
