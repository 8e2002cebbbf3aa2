"""The model contract: how a picture becomes an artifact's input and its output becomes a mask.

Every exported artifact carries a sidecar (``<artifact>.json``) that says what its input and
output are; :mod:`edgeseg.sidecar` owns it (path, write, read, validation into a
:class:`Contract`; this module re-exports those names). This module is the reference
implementation of using it, in numpy + PIL only (no torch), so host runners and tools can feed
any artifact the way the phone does. The Android app's Java core
(``android_demo/core``) implements the same steps, and ``tests/android_demo`` checks that both
produce identical bytes. Every step is therefore defined exactly:

1. **Resize** to ``input_size`` with Pillow's ``Image.resize((W, H), Image.BILINEAR)``: the resize
   edgeseg trains and evaluates with (a triangle filter widened by the scale factor when
   shrinking, so it antialiases; separable, horizontal pass first; 22-bit fixed-point weights;
   each pass rounds to uint8). An image already at ``input_size`` is not touched.
2. **Normalise** when ``mean``/``std`` are lists: float32 ``(pixel / 255 - mean) / std``, every
   operation rounded to float32 (mean/std rounded from the JSON doubles). ``"in-graph"``: the
   raw uint8 pixels are the input (the graph normalises).
3. **Quantise** when ``input_dtype`` is int8/uint8 and mean/std are lists:
   ``clip(rint(x / scale) + zero_point)`` in float32, rint = round half to even.
4. **Layout**: ``NCHW`` → ``[1, 3, H, W]``, ``NHWC`` → ``[1, H, W, 3]``; C-contiguous.

Output → mask: ``"logits"`` (``[1, C, H, W]`` or ``[1, H, W, C]``, float32 or quantised int8/uint8)
→ argmax over C, first maximum wins, NaN counts as the maximum (numpy's rule); quantised logits
are compared raw, as argmax does not change under a positive scale. ``"mask"`` (any integer
dtype, ``H·W`` elements) → cast to uint8.

Overlay: the mask is resized to the image by nearest neighbour with half-pixel centres
(``src = (2·dst + 1)·in // (2·out)``, exact integers); ``alpha = floor(opacity·255 + 0.5)``;
``pixel = (image·(255 − alpha) + colour·alpha + 127) // 255`` where the label has a palette
colour, unchanged elsewhere (255 = ignore).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from PIL import Image

from edgeseg.sidecar import (
    DTYPE_RANGES,
    IN_GRAPH,
    INPUT_DTYPES,
    LAYOUTS,
    LOGIT_DTYPES,
    MASK_DTYPES,
    Contract,
    ContractError,
    Quant,
    parse_meta,
    read_sidecar,
    sidecar_path,
)

__all__ = [  # the sidecar names stay importable from here (the Android tests and bench use them)
    "IN_GRAPH",
    "INPUT_DTYPES",
    "LAYOUTS",
    "LOGIT_DTYPES",
    "MASK_DTYPES",
    "Contract",
    "ContractError",
    "Quant",
    "dequantize",
    "overlay",
    "parse_meta",
    "postprocess",
    "preprocess",
    "quantize",
    "read_sidecar",
    "resize_image",
    "resize_mask",
    "sidecar_path",
]


def resize_image(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """HxWx3 uint8 → ``size`` (H, W) with Pillow's antialiased BILINEAR (see module docstring)."""
    _check_image(image)
    h, w = size
    if image.shape[:2] == (h, w):
        return image.copy()
    return np.asarray(Image.fromarray(image, "RGB").resize((w, h), Image.BILINEAR))


def resize_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Nearest neighbour with half-pixel centres, in exact integers (no class is invented)."""
    h_in, w_in = mask.shape
    h, w = size
    ys = (2 * np.arange(h, dtype=np.int64) + 1) * h_in // (2 * h)
    xs = (2 * np.arange(w, dtype=np.int64) + 1) * w_in // (2 * w)
    return np.ascontiguousarray(mask[ys[:, None], xs[None, :]])


def quantize(x: np.ndarray, quant: Quant, dtype: str) -> np.ndarray:
    """float32 → int8/uint8: ``clip(rint(x / scale) + zero_point)``, all in float32."""
    lo, hi = DTYPE_RANGES[dtype]
    q = np.rint(x.astype(np.float32) / np.float32(quant.scale)) + np.float32(quant.zero_point)
    return np.clip(q, lo, hi).astype(dtype)


def dequantize(q: np.ndarray, quant: Quant) -> np.ndarray:
    """int8/uint8 → float32: ``(q - zero_point) * scale``."""
    centred = (q.astype(np.int32) - quant.zero_point).astype(np.float32)
    return centred * np.float32(quant.scale)


def preprocess(image: np.ndarray, meta: Mapping[str, Any] | Contract) -> np.ndarray:
    """HxWx3 uint8 RGB → the exact input tensor the artifact takes (batch of one)."""
    c = parse_meta(meta)
    rgb = resize_image(image, c.size)
    if c.mean is None:
        x = rgb
    else:
        mean = np.asarray(c.mean, dtype=np.float32)
        std = np.asarray(c.std, dtype=np.float32)
        x = (rgb.astype(np.float32) / np.float32(255.0) - mean) / std
        if c.input_dtype != "float32":
            x = quantize(x, c.input_quant, c.input_dtype)
    x = x.transpose(2, 0, 1)[None] if c.layout == "NCHW" else x[None]
    return np.ascontiguousarray(x)


def postprocess(output: np.ndarray, meta: Mapping[str, Any] | Contract) -> np.ndarray:
    """The artifact's output → HxW uint8 class mask at ``input_size``."""
    c = parse_meta(meta)
    output = np.asarray(output)
    dtype = output.dtype.name
    if c.output == "mask":
        if dtype not in MASK_DTYPES or not c.fits_output(output.shape):
            c.check_output(output.shape, dtype)
        return np.ascontiguousarray(output.reshape(c.size).astype(np.uint8))
    if dtype not in (c.output_dtype, "float32") or not c.fits_output(output.shape):
        c.check_output(output.shape, dtype)
    axis = 1 if c.layout == "NCHW" else 3
    return np.ascontiguousarray(np.argmax(output, axis=axis)[0].astype(np.uint8))


def overlay(
    image: np.ndarray, mask: np.ndarray, palette: Sequence[Sequence[int]], opacity: float
) -> np.ndarray:
    """Blend class colours over ``image`` (HxWx3 uint8); ``mask`` is resized to fit."""
    _check_image(image)
    if not (isinstance(mask, np.ndarray) and mask.ndim == 2 and mask.dtype == np.uint8):
        raise ContractError(f"expected an HxW uint8 mask, got {getattr(mask, 'shape', mask)}")
    if not 0.0 <= opacity <= 1.0:
        raise ContractError(f"opacity must be in [0, 1], got {opacity}")
    if mask.shape != image.shape[:2]:
        mask = resize_mask(mask, image.shape[:2])
    alpha = int(math.floor(opacity * 255.0 + 0.5))
    n = min(len(palette), 256)
    lut = np.zeros((256, 3), dtype=np.int32)
    lut[:n] = np.asarray(palette, dtype=np.int32)[:n]
    colour = lut[mask]
    blended = (image.astype(np.int32) * (255 - alpha) + colour * alpha + 127) // 255
    keep = (mask < n)[..., None]
    return np.where(keep, blended, image).astype(np.uint8)


def _check_image(image: np.ndarray) -> None:
    if not (isinstance(image, np.ndarray) and image.ndim == 3 and image.shape[2] == 3):
        shape = getattr(image, "shape", type(image).__name__)
        raise ContractError(f"expected an HxWx3 RGB image, got {shape}")
    if image.dtype != np.uint8:
        raise ContractError(f"expected a uint8 image, got {image.dtype}")
