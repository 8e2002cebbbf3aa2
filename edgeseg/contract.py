"""The model contract: how a picture becomes an artifact's input and its output becomes a mask.

Every exported artifact carries a sidecar (``<artifact>.json``, written by
:func:`edgeseg.export.write_sidecar`) that says what its input and output are. This module is the
reference implementation of reading that sidecar, in numpy + PIL only (no torch), so host runners
and tools can feed any artifact the way the phone does. The Android app's Java core
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

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from edgeseg.errors import EdgesegError

IN_GRAPH = "in-graph"
LAYOUTS = ("NCHW", "NHWC")
INPUT_DTYPES = ("float32", "uint8", "int8")
LOGIT_DTYPES = ("float32", "uint8", "int8")
MASK_DTYPES = ("uint8", "int32", "int64")
_RANGES = {"uint8": (0, 255), "int8": (-128, 127)}


class ContractError(EdgesegError):
    """A sidecar, image or tensor that does not fit the model contract."""


@dataclass(frozen=True)
class Quant:
    """Affine quantisation: ``real = (q - zero_point) * scale``."""

    scale: float
    zero_point: int


@dataclass(frozen=True)
class Contract:
    """A validated sidecar: everything needed to feed the artifact and read its output."""

    classes: tuple[str, ...]
    palette: tuple[tuple[int, int, int], ...]
    size: tuple[int, int]  # (H, W)
    layout: str
    mean: tuple[float, ...] | None  # None: normalisation is in the graph
    std: tuple[float, ...] | None
    input_dtype: str
    input_quant: Quant | None
    output: str
    output_dtype: str
    output_quant: Quant | None
    source: str = "sidecar"

    @property
    def input_shape(self) -> tuple[int, ...]:
        h, w = self.size
        return (1, 3, h, w) if self.layout == "NCHW" else (1, h, w, 3)

    @property
    def output_shape(self) -> tuple[int, ...]:
        h, w = self.size
        if self.output == "mask":
            return (1, h, w)
        c = len(self.classes)
        return (1, c, h, w) if self.layout == "NCHW" else (1, h, w, c)

    def check_input(self, shape: Sequence[int], dtype: str) -> None:
        """Raise unless the model's real input tensor is what the sidecar describes."""
        if tuple(int(d) for d in shape) != self.input_shape or dtype != self.input_dtype:
            raise ContractError(
                f"{self.source}: the model's input is {_shape(shape)} {dtype} but the sidecar "
                f"describes {_shape(self.input_shape)} {self.input_dtype} (input_size, layout, "
                "input_dtype); re-export the model or fix the sidecar"
            )

    def check_output(self, shape: Sequence[int], dtype: str) -> None:
        """Raise unless the model's real output tensor is what the sidecar describes."""
        ok = dtype == self.output_dtype and _shape_fits(shape, self)
        if not ok:
            raise ContractError(
                f"{self.source}: the model's output is {_shape(shape)} {dtype} but the sidecar "
                f"describes {_shape(self.output_shape)} {self.output_dtype} ({self.output}, "
                "classes, input_size, layout); re-export the model or fix the sidecar"
            )


def parse_meta(meta: Mapping[str, Any], source: str = "sidecar") -> Contract:
    """Validate a sidecar dict; any problem is one :class:`ContractError` naming the key."""
    if isinstance(meta, Contract):
        return meta
    if not isinstance(meta, Mapping):
        raise ContractError(f"{source}: expected a JSON object, got {type(meta).__name__}")
    classes = _str_list(meta, "classes", source)
    palette = _palette(meta, len(classes), source)
    size = _size(meta, source)
    layout = _choice(meta, "layout", LAYOUTS, source)
    input_dtype = _choice(meta, "input_dtype", INPUT_DTYPES, source)
    mean, std = _norm(meta, "mean", source), _norm(meta, "std", source)
    if (mean is None) != (std is None):
        raise ContractError(f"{source}: mean and std must both be lists or both '{IN_GRAPH}'")
    if std is not None and any(s == 0 for s in std):
        raise ContractError(f"{source}: std has a zero: {list(std)}")
    input_quant = _quant(meta, "input", source)
    if mean is None and input_dtype != "uint8":
        raise ContractError(f"{source}: mean/std '{IN_GRAPH}' needs input_dtype uint8")
    if mean is not None and input_dtype != "float32" and input_quant is None:
        raise ContractError(
            f"{source}: input_dtype {input_dtype} with mean/std needs input_quantization "
            "{scale, zero_point}"
        )
    output = _choice(meta, "output", ("logits", "mask"), source)
    dtypes = LOGIT_DTYPES if output == "logits" else MASK_DTYPES
    output_dtype = _choice(meta, "output_dtype", dtypes, source)
    return Contract(
        classes,
        palette,
        size,
        layout,
        mean,
        std,
        input_dtype,
        input_quant,
        output,
        output_dtype,
        _quant(meta, "output", source),
        source,
    )


def sidecar_path(artifact: str | Path) -> Path:
    """``m.tflite`` → ``m.tflite.json``, as :func:`edgeseg.export.write_sidecar` names it."""
    artifact = Path(artifact)
    return artifact.with_name(artifact.name + ".json")


def read_sidecar(artifact: str | Path, missing_ok: bool = False) -> dict[str, Any]:
    """The artifact's validated sidecar dict; absent, unreadable or invalid → ContractError.

    ``missing_ok``: a foreign model (no sidecar at all) gives ``{}`` instead; a sidecar that is
    present is still validated, since feeding a model from a broken one gives wrong numbers."""
    path = sidecar_path(artifact)
    if not path.is_file() and missing_ok:
        return {}
    if not path.is_file():
        raise ContractError(
            f"{Path(artifact).name} has no sidecar {path.name}: export with edgeseg export "
            "(it writes one) or write one as android_demo/README.md describes"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContractError(f"{path}: invalid JSON ({exc}); re-export the model") from exc
    parse_meta(data, path.name)
    return data


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
    lo, hi = _RANGES[dtype]
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
        if dtype not in MASK_DTYPES or not _shape_fits(output.shape, c):
            c.check_output(output.shape, dtype)
        return np.ascontiguousarray(output.reshape(c.size).astype(np.uint8))
    if dtype not in (c.output_dtype, "float32") or not _shape_fits(output.shape, c):
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


def _shape_fits(shape: Sequence[int], c: Contract) -> bool:
    if c.output == "mask":  # [1, H, W], [H, W], [1, H, W, 1]…: size-1 axes carry nothing
        return [d for d in shape if d != 1] == [d for d in c.size if d != 1]
    return tuple(int(d) for d in shape) == c.output_shape


def _shape(shape: Sequence[int]) -> str:
    return "[" + ", ".join(str(int(d)) for d in shape) + "]"


def _get(meta: Mapping[str, Any], key: str, source: str) -> Any:
    if key not in meta:
        raise ContractError(f"{source}: missing key '{key}'; re-export the model with edgeseg")
    return meta[key]


def _choice(meta: Mapping[str, Any], key: str, valid: Sequence[str], source: str) -> str:
    value = _get(meta, key, source)
    if value not in valid:
        raise ContractError(f"{source}: {key} must be one of {', '.join(valid)}, got {value!r}")
    return value


def _str_list(meta: Mapping[str, Any], key: str, source: str) -> tuple[str, ...]:
    value = _get(meta, key, source)
    if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
        raise ContractError(f"{source}: {key} must be a non-empty list of names")
    return tuple(value)


def _palette(meta: Mapping[str, Any], n: int, source: str) -> tuple[tuple[int, int, int], ...]:
    value = _get(meta, "palette", source)
    ok = isinstance(value, list) and len(value) >= n
    ok = ok and all(
        isinstance(c, list) and len(c) == 3 and all(_is_int(v) and 0 <= v <= 255 for v in c)
        for c in value
    )
    if not ok:
        raise ContractError(f"{source}: palette must hold one [r, g, b] (0-255) per class ({n})")
    return tuple((int(c[0]), int(c[1]), int(c[2])) for c in value)


def _size(meta: Mapping[str, Any], source: str) -> tuple[int, int]:
    value = _get(meta, "input_size", source)
    if not (isinstance(value, list) and len(value) == 2 and all(_is_int(v) for v in value)):
        raise ContractError(f"{source}: input_size must be [height, width], got {value!r}")
    if min(value) <= 0:
        raise ContractError(f"{source}: input_size must be positive, got {value!r}")
    return int(value[0]), int(value[1])


def _norm(meta: Mapping[str, Any], key: str, source: str) -> tuple[float, ...] | None:
    value = _get(meta, key, source)
    if value == IN_GRAPH:
        return None
    if not (isinstance(value, list) and len(value) == 3 and all(_is_number(v) for v in value)):
        raise ContractError(f"{source}: {key} must be 3 numbers or '{IN_GRAPH}', got {value!r}")
    return tuple(float(v) for v in value)


def _quant(meta: Mapping[str, Any], kind: str, source: str) -> Quant | None:
    value = meta.get(f"{kind}_quantization")
    if value is None:
        return None
    scale = value.get("scale") if isinstance(value, Mapping) else None
    zero = value.get("zero_point") if isinstance(value, Mapping) else None
    if not (_is_number(scale) and math.isfinite(scale) and scale > 0 and _is_int(zero)):
        raise ContractError(
            f"{source}: {kind}_quantization must be {{scale > 0, zero_point integer}}, "
            f"got {value!r}"
        )
    dtype = meta.get(f"{kind}_dtype")
    lo, hi = _RANGES.get(dtype, (-(2**31), 2**31 - 1))
    if not lo <= zero <= hi:
        raise ContractError(f"{source}: {kind}_quantization.zero_point {zero} is outside {dtype}")
    return Quant(float(scale), int(zero))


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)
