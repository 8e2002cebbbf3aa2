"""The field checks behind :func:`edgeseg.sidecar.parse_meta`: one small validator per kind of
sidecar value, each raising a :class:`ContractError` that names the key, the file and what is
expected. Kept apart so that ``edgeseg.sidecar`` reads as the schema and the life cycle."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from edgeseg.errors import EdgesegError

IN_GRAPH = "in-graph"
DTYPE_RANGES = {"uint8": (0, 255), "int8": (-128, 127)}


class ContractError(EdgesegError):
    """A sidecar, image or tensor that does not fit the model contract."""


@dataclass(frozen=True)
class Quant:
    """Affine quantisation: ``real = (q - zero_point) * scale``."""

    scale: float
    zero_point: int


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
    lo, hi = DTYPE_RANGES.get(dtype, (-(2**31), 2**31 - 1))
    if not lo <= zero <= hi:
        raise ContractError(f"{source}: {kind}_quantization.zero_point {zero} is outside {dtype}")
    return Quant(float(scale), int(zero))


def _runtime_version(meta: Mapping[str, Any], source: str) -> None:
    """``runtime_version``, when present, as the phone app's ``ModelMetadata`` checks it."""
    value = meta.get("runtime_version")
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise ContractError(f"{source}: runtime_version must be an object, got {value!r}")
    for key in ("runtime", "version"):
        if not isinstance(value.get(key), str):
            raise ContractError(f"{source}: runtime_version.{key} must be a string")
    if not value["version"][:1].isdigit():
        raise ContractError(
            f"{source}: runtime_version.version must be a release like 1.5.1, "
            f"got {value['version']!r}"
        )
    opset = value.get("opset")
    if opset is not None and not (_is_int(opset) and 1 <= opset <= 1000):
        raise ContractError(f"{source}: runtime_version.opset must be a positive integer")
    minimum = value.get("min_runtime_version")
    if minimum is not None and not (isinstance(minimum, str) and minimum[:1].isdigit()):
        raise ContractError(f"{source}: runtime_version.min_runtime_version must be a release")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)
