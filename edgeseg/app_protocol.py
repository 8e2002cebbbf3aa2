"""The demo app's side of the contract: its package, its bench activity, what it writes back.

Both the bench layer (the ``app`` runner over adb) and the ``android-demo`` application speak to
the app; this module is what they share, so neither imports the other. The app's bench-mode
result format is specified in ``android_demo/BENCH_MODE.md``.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from edgeseg.errors import EdgesegError

# The app's runtime per extension; android_demo/core ModelFiles.RUNTIMES holds the same map
# (tests/android_demo checks they agree).
APP_RUNTIMES = {".tflite": "litert", ".pte": "executorch", ".onnx": "onnxruntime"}
PACKAGE = "dev.edgeseg.demo"
BENCH_ACTIVITY = f"{PACKAGE}/.BenchActivity"
BENCH_FORMAT = "edgeseg-android-bench"


def demo_project() -> Path:
    """``android_demo/`` of the checkout this edgeseg runs from (the app's Gradle project)."""
    return Path(__file__).resolve().parents[1] / "android_demo"


class AndroidDemoError(EdgesegError):
    """The demo app project, a model for it, or its build prerequisites are not usable."""


def read_bench_result(folder: str | Path) -> dict[str, Any]:
    """A pulled bench folder → result dict; each ``masks`` row gains ``mask`` (HxW uint8)."""
    folder = Path(folder)
    path = folder / "result.json"
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AndroidDemoError(f"{path}: no readable bench result ({exc})") from exc
    if result.get("format") != BENCH_FORMAT or result.get("version") != 1:
        raise AndroidDemoError(f"{path}: not an {BENCH_FORMAT} v1 result; update the app")
    for row in result.get("masks", []):
        h, w = int(row["height"]), int(row["width"])
        try:
            raw = zlib.decompress((folder / row["file"]).read_bytes())
        except (OSError, zlib.error) as exc:
            raise AndroidDemoError(f"{folder / row['file']}: unreadable mask ({exc})") from exc
        if len(raw) != h * w:
            raise AndroidDemoError(f"{row['file']}: {len(raw)} bytes, expected {h}x{w}")
        row["mask"] = np.frombuffer(raw, dtype=np.uint8).reshape(h, w)
    return result
