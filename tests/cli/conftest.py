from __future__ import annotations

from pathlib import Path

import pytest

from edgeseg.cli import main


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """A real 1-epoch checkpoint of lraspp_mobilenet_v3_small on a few sample batches."""
    out = tmp_path_factory.mktemp("tiny")
    code = main(
        [
            "train",
            "lraspp_mobilenet_v3_small",
            "--data",
            "sample",
            "--epochs",
            "1",
            "--batch-size",
            "4",
            "--size",
            "64x80",
            "--workers",
            "0",
            "--quiet",
            "--limit-train-batches",
            "2",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    return out / "best.pt"
