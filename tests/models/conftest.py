"""Fixtures for the model-zoo tests: the torchvision manifest, an isolated hub cache, threads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch


@pytest.fixture(scope="session")
def manifest(shared_dir: Path) -> dict:
    """torchvision 0.28's keys/shapes/param counts; skips when ../shared is absent."""
    path = shared_dir / "reference" / "torchvision_state_dicts.json"
    if not path.is_file():
        pytest.skip(f"{path} is absent: torchvision manifest tests skipped")
    return json.loads(path.read_text())["models"]


@pytest.fixture(autouse=True)
def _isolated_torch_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """URL downloads (file:// in these tests) land in a fresh cache, never in ~/.cache."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))


@pytest.fixture(autouse=True, scope="package")
def _one_thread() -> Iterator[None]:
    """One intra-op thread: these tiny inputs gain nothing from two, and on a shared 2-core
    runner OpenMP's barrier waits made every op ~30 ms (a 100× slowdown). Restored after."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
