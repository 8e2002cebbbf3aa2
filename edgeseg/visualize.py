"""Side-by-side PNGs (input | ground truth | prediction) with a class legend, for ``edgeseg eval``.

People judge segmentation by looking at it; these panels make a silent accuracy loss visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from edgeseg.atomic import atomic_path

IGNORE_COLOR = (0, 0, 0)


def colorize(mask: np.ndarray, palette: Sequence[Sequence[int]]) -> np.ndarray:
    """uint8 label map → RGB using ``palette``; ignore (255) and unknown ids become black."""
    lut = np.zeros((256, 3), dtype=np.uint8)
    lut[: len(palette)] = np.asarray(palette, dtype=np.uint8)[:256]
    lut[255] = IGNORE_COLOR
    return lut[mask.astype(np.uint8)]


def blend(image: np.ndarray, color: np.ndarray, mask: np.ndarray, alpha: float = 0.6) -> np.ndarray:
    """Overlay colours on the image, leaving ignored pixels untouched."""
    out = image.astype(np.float32)
    keep = mask != 255
    out[keep] = (1 - alpha) * out[keep] + alpha * color[keep].astype(np.float32)
    return out.clip(0, 255).astype(np.uint8)


def _legend(classes: Sequence[str], palette: Sequence[Sequence[int]], width: int) -> Image.Image:
    cols = max(1, width // 150)
    rows = (len(classes) + cols - 1) // cols
    legend = Image.new("RGB", (width, 18 * rows + 6), (255, 255, 255))
    draw = ImageDraw.Draw(legend)
    for i, name in enumerate(classes):
        x, y = 6 + (i % cols) * 150, 4 + (i // cols) * 18
        draw.rectangle([x, y, x + 12, y + 12], fill=tuple(int(c) for c in palette[i]))
        draw.text((x + 18, y), name[:20], fill=(0, 0, 0))
    return legend


def save_comparison(
    image: np.ndarray,
    target: np.ndarray | None,
    pred: np.ndarray,
    palette: Sequence[Sequence[int]],
    classes: Sequence[str],
    path: str | Path,
    title: str = "",
) -> Path:
    """Write input | ground truth | prediction overlay (+ legend) as one PNG."""
    panels = [image]
    if target is not None:
        panels.append(blend(image, colorize(target, palette), target, alpha=0.7))
    panels.append(blend(image, colorize(pred, palette), pred, alpha=0.6))
    strip = np.concatenate(panels, axis=1)
    canvas = Image.fromarray(strip)
    header = Image.new("RGB", (canvas.width, 18), (255, 255, 255))
    labels = ["input"] + (["ground truth"] if target is not None else []) + ["prediction"]
    draw = ImageDraw.Draw(header)
    for i, label in enumerate(labels):
        draw.text((4 + i * image.shape[1], 3), label if i else f"{label} {title}", fill=(0, 0, 0))
    legend = _legend(classes, palette, canvas.width)
    full = Image.new("RGB", (canvas.width, header.height + canvas.height + legend.height))
    full.paste(header, (0, 0))
    full.paste(canvas, (0, header.height))
    full.paste(legend, (0, header.height + canvas.height))
    path = Path(path)
    with atomic_path(path) as tmp:
        full.save(tmp, format="PNG")
    return path
