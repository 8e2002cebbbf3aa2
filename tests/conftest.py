"""Shared fixtures: where ../shared lives (real CamVid, TFLite models, torchvision manifests), and
one tiny trained checkpoint with its exports, built once per session for every test folder."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from edgeseg.export import ExportOutcome

REPO = Path(__file__).resolve().parents[1]
SIZE = (64, 80)  # (H, W) of the session checkpoint and of its exports


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


@pytest.fixture(scope="session")
def sample_checkpoint(tmp_path_factory) -> Path:
    """lraspp_mobilenet_v3_small after 2 batches on the built-in sample (real, tiny).

    One per session: the converter and the bench tests used to train the same one each.
    """
    from edgeseg.train import TrainConfig, fit

    cfg = TrainConfig(
        arch="lraspp_mobilenet_v3_small",
        data="sample",
        epochs=1,
        batch_size=4,
        size=SIZE,
        limit_train_batches=2,
        limit_val_batches=1,
        workers=0,
        progress=False,
        out=tmp_path_factory.mktemp("ckpt"),
    )
    return fit(cfg).best_path


@pytest.fixture(scope="session")
def shared_export(sample_checkpoint, tmp_path_factory) -> Callable[..., ExportOutcome]:
    """``shared_export(target, quantize="none", **options)`` → the ``ExportOutcome``, exported
    from ``sample_checkpoint`` once per session, each variant in its own folder.

    Why: an export costs 5–60 s of graph lowering whatever the image count, and several tests
    assert different things about the same artifact (parity, its ops, its size, how each runner
    runs it). 4 calibration and 4 parity images. Treat the outcome as read-only.
    """
    from edgeseg.export import export_checkpoint

    done: dict[tuple, ExportOutcome] = {}

    def export(target: str, quantize: str = "none", **options) -> ExportOutcome:
        key = (target, quantize, tuple(sorted(options.items())))
        if key not in done:
            out = tmp_path_factory.mktemp(f"export-{target}-{quantize}")
            (done[key],) = export_checkpoint(
                sample_checkpoint,
                target,
                quantize,
                out=out,
                calib_images=4,
                parity_images=4,
                **options,
            )
        return done[key]

    return export
