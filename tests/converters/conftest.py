"""The session checkpoint under the name converter tests use, the slow-test gate, and helpers
every converter test shares."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import SIZE

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config, items) -> None:
    """Slow exports (ExecuTorch int8, TFLite: ≥ 50 s each on 2 shared cores) run only with
    EDGESEG_SLOW=1, so this folder stays under 3 minutes on one thread."""
    if os.environ.get("EDGESEG_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow export: set EDGESEG_SLOW=1 to run")
    for item in items:
        if "slow" in item.keywords and HERE in Path(str(item.fspath)).parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def checkpoint(sample_checkpoint) -> Path:
    """lraspp_mobilenet_v3_small after 2 batches on the built-in sample (tests/conftest.py)."""
    return sample_checkpoint


def sidecar(path: Path) -> dict:
    return json.loads(path.with_name(path.name + ".json").read_text())


def assert_sidecar(path: Path, *, quantization: str, input_dtype: str = "float32") -> dict:
    meta = sidecar(path)
    assert meta["arch"] == "lraspp_mobilenet_v3_small"
    assert meta["classes"][0] == "background" and len(meta["palette"]) == len(meta["classes"])
    assert meta["input_size"] == list(SIZE) and meta["layout"] == "NCHW"
    assert meta["quantization"] == quantization and meta["input_dtype"] == input_dtype
    assert len(meta["source_sha256"]) == 64 and meta["edgeseg_version"]
    if input_dtype == "uint8":
        assert meta["mean"] == meta["std"] == "in-graph"
    else:
        assert len(meta["mean"]) == 3
    return meta
