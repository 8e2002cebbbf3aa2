"""Shared fixtures: where ../shared lives (real CamVid, TFLite models, torchvision manifests)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def find_shared() -> Path | None:
    env = os.environ.get("EDGESEG_SHARED")
    candidate = Path(env) if env else REPO.parent / "shared"
    return candidate if candidate.is_dir() else None


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    path = find_shared()
    if path is None:
        pytest.skip("../shared (or $EDGESEG_SHARED) is absent: real-data test skipped")
    return path


@pytest.fixture(scope="session")
def camvid_dir(shared_dir: Path) -> Path:
    path = shared_dir / "data" / "camvid"
    if not path.is_dir():
        pytest.skip(f"{path} is absent: CamVid test skipped")
    return path
