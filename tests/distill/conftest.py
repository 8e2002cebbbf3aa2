"""Tiny real checkpoints (untrained weights, real metadata) for the teacher and loss tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from edgeseg.checkpoint import CheckpointMeta, save_checkpoint
from edgeseg.data.sample import SAMPLE_CLASSES, SAMPLE_PALETTE
from edgeseg.models import create_model

SIZE = (64, 80)
TFLITE = "deeplabv3_257_mv_gpu.tflite"


def make_checkpoint(path: Path, arch: str = "lraspp_mobilenet_v3_small", seed: int = 0) -> Path:
    """A checkpoint of freshly initialised ``arch`` for the sample classes (no training)."""
    torch.manual_seed(seed)
    model = create_model(arch, num_classes=len(SAMPLE_CLASSES))
    meta = CheckpointMeta(
        arch=arch,
        num_classes=len(SAMPLE_CLASSES),
        classes=list(SAMPLE_CLASSES),
        palette=[list(c) for c in SAMPLE_PALETTE],
        mean=[0.485, 0.456, 0.406],
        std=[0.229, 0.224, 0.225],
        input_size=list(SIZE),
        dataset="sample",
    )
    return save_checkpoint(path, model.eval(), meta)


@pytest.fixture(scope="session")
def teacher_ckpt(tmp_path_factory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("teacher") / "teacher.pt", seed=1)


@pytest.fixture(scope="session")
def voc_tflite(shared_dir: Path) -> Path:
    path = shared_dir / "models" / TFLITE
    if not path.is_file():
        pytest.skip(f"{path} is absent: real TFLite teacher test skipped")
    pytest.importorskip("ai_edge_litert.interpreter", reason="ai-edge-litert not installed")
    return path


@pytest.fixture(autouse=True, scope="package")
def _one_thread() -> Iterator[None]:
    """One intra-op thread: tiny inputs gain nothing from two on a shared 2-core runner."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
