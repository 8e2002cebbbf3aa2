"""Tiny real artifacts of every format, converted by edgeseg's own converters from one small
float model, with sidecars: enough to open, run and compare each runtime in seconds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from edgeseg.converters import ExportSpec, converter_names, get_converter
from edgeseg.converters.parity import ParityData

SIZE = (32, 40)  # (H, W): not square, so a swapped axis shows
CLASSES = ["a", "b", "c", "d"]
MEAN, STD = [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]
LIBRARIES = {  # converter target → what it and its runtime need
    "torchscript": ("torch",),
    "onnx": ("onnx", "onnxruntime"),
    "executorch": ("executorch",),
    "tflite": ("litert_torch", "ai_edge_litert"),
    "coreml": ("coremltools",),
}


def sidecar_meta() -> dict:
    return {
        "classes": CLASSES,
        "palette": [[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]],
        "input_size": list(SIZE),
        "layout": "NCHW",
        "mean": MEAN,
        "std": STD,
        "input_dtype": "float32",
        "output": "logits",
        "output_dtype": "float32",
        "quantization": "fp32",
    }


class Tiny:
    """A 4-class two-conv segmenter and its artifacts, converted on first use per runtime."""

    def __init__(self, folder: Path) -> None:
        torch.manual_seed(0)
        self.model = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 4, 1)
        ).eval()
        self.folder = folder
        self.paths: dict[str, Path] = {}

    def target(self, runtime: str) -> str:
        """The export target whose files ``runtime`` runs."""
        return next(n for n in converter_names() if get_converter(n).runtime == runtime)

    def __call__(self, runtime: str) -> Path:
        if runtime not in self.paths:
            target = self.target(runtime)
            for module in LIBRARIES[target]:
                pytest.importorskip(module, reason=f"{module} not installed")
            converter = get_converter(target)
            path = self.folder / f"tiny{converter.suffix}"
            spec = ExportSpec(size=SIZE, metadata=sidecar_meta())
            converter.convert(self.model, torch.zeros(1, 3, *SIZE), path, spec)
            path.with_name(path.name + ".json").write_text(json.dumps(sidecar_meta()))
            self.paths[runtime] = path
        return self.paths[runtime]

    def parity_data(self, images: int = 2) -> ParityData:
        rng = np.random.default_rng(0)
        uint8 = torch.from_numpy(rng.integers(0, 256, (images, 3, *SIZE), dtype=np.uint8))
        mean, std = torch.tensor(MEAN).view(1, 3, 1, 1), torch.tensor(STD).view(1, 3, 1, 1)
        return ParityData(uint8, (uint8.float() / 255 - mean) / std, None, len(CLASSES))


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> Tiny:
    return Tiny(tmp_path_factory.mktemp("tiny"))


def random_file(folder: Path, name: str, size: int = 4096) -> Path:
    """Random bytes under a model's name: every runtime must refuse it, none may crash us."""
    path = folder / name
    path.write_bytes(np.random.default_rng(0).bytes(size))
    return path
