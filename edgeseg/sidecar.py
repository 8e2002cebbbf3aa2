"""The artifact sidecar: its schema and its whole life cycle (path, write, read, validation).

Every artifact ``edgeseg export`` writes has a sidecar next to it, ``<artifact>.json``
(``m.tflite`` → ``m.tflite.json``, :func:`sidecar_path`), that says how to feed the model and
read its output. This module is its one owner: :func:`write_sidecar` (export, atomically),
:func:`read_sidecar` (bench, the adb runners, ``edgeseg android-demo add``, artifact teachers),
:func:`parse_meta` (the validation, into a :class:`Contract`). Nothing else builds the path or
parses the file; :mod:`edgeseg.contract` holds the pixel-exact pre/postprocessing that uses a
:class:`Contract`, and the Android app's ``ModelMetadata.java`` repeats :func:`parse_meta` rule
for rule (``tests/android_demo`` holds both to the same cases).

The keys edgeseg writes (:data:`KEYS`). Writer: ``artifact_metadata`` is
``edgeseg.export.artifact_metadata`` (from the checkpoint and the export options); "export" is
``edgeseg.export`` after the conversion; a converter's are ``ExportResult.metadata``. Validated:
what :func:`parse_meta` checks; the others are information for people and reports.

``classes``
    Class names, in output-channel order. Writer: artifact_metadata. Readers: contract (number
    of logits), phone app (legend), bench (mIoU per class), artifact teachers. Validated.
``palette``
    One ``[r, g, b]`` per class for overlays. Writer: artifact_metadata. Readers: phone app,
    bench overlays. Validated.
``input_size``
    ``[height, width]`` the graph takes (static). Writer: artifact_metadata. Readers: everyone
    that feeds the model; ``android-demo add`` puts it in the app's index. Validated.
``layout``
    ``NCHW`` or ``NHWC``, of the input and of logits. Writer: artifact_metadata. Readers:
    contract, phone app, teachers. Validated.
``mean`` / ``std``
    Three floats in 0..1 pixel units (``(pixel/255 - mean) / std``), or ``"in-graph"`` when the
    graph takes raw uint8 pixels. Writer: artifact_metadata. Readers: contract, phone app,
    teachers (the only keys a hand-written partial teacher sidecar needs). Validated.
``input_dtype``
    ``float32``, ``uint8`` (in-graph normalisation) or ``int8``. Writer: artifact_metadata; a
    converter overrides it for int8 I/O (TFLite ``quantized_io``). Readers: contract, phone
    app, bench (checked against the runtime's tensor). Validated.
``input_quantization`` / ``output_quantization``
    ``{"scale", "zero_point"}`` of an integer input/output. Writer: a converter (TFLite int8
    I/O). Readers: contract (quantise input, read logits), phone app. Validated when present.
``output``
    ``logits`` (scores, argmax by the reader) or ``mask`` (class ids, argmax in the graph).
    Writer: artifact_metadata. Readers: contract, phone app, teachers. Validated.
``output_dtype``
    ``float32``/``uint8``/``int8`` for logits, ``uint8``/``int32``/``int64`` for masks. Writer:
    artifact_metadata (a converter may override). Readers: contract, phone app. Validated.
``quantization``
    The honest :class:`~edgeseg.quantization.QuantLabel` (``fp32``, ``int8-mixed``, …).
    Writer: artifact_metadata writes the requested mode, export replaces it with the
    converter's label. Readers: bench rows (:func:`quant_label`), the adb runners, the phone
    app (model switcher label), ``android-demo add`` (index label).
``arch``
    The architecture name. Writer: artifact_metadata. Readers: phone app and ``android-demo
    add`` (labels).
``source_checkpoint`` / ``source_sha256``
    The checkpoint's file name and content hash. Writer: artifact_metadata. Reader: bench (rows
    of one model at one size are compared by ``source_sha256``).
``edgeseg_version``
    The edgeseg that wrote it. Writer: artifact_metadata. Readers: people.
``target``
    The export target (``onnx``, ``tflite``, …). Writer: export. Readers: people, reports.
``parity``
    The parity check against the eager model (``ParityResult.as_dict``). Writer: export.
    Readers: people, reports.
``runtime_version`` (optional)
    ``{"runtime", "version"[, "opset" | "min_runtime_version"]}``: the runtime that verified the
    file at export (an edgeseg runtime name, e.g. ``executorch``) and its library's release
    (``1.5.1``); for ONNX also the file's ai.onnx opset, for TFLite the file's own
    ``min_runtime_version`` metadata (a TensorFlow Lite runtime release). Writer: export
    (``edgeseg.runtimes.versions``), absent when the library was not installed. Readers: the
    phone app, which refuses a ``.pte`` newer than its ExecuTorch, an opset its ONNX Runtime does
    not run and a TFLite file newer than its LiteRT implements, with a message
    (``RuntimeVersions`` in the app's core). Validated when present.
``reference`` (optional)
    The checkpoint's own mIoU on the export's evaluation data (the parity images' dataset and
    split, at the artifact's input size), with per-image intersection/union counts so any
    subset of those images can be scored exactly; the format is
    :class:`edgeseg.reference.Reference`. Writer: export, when that data has labels (absent
    otherwise). Reader: bench (Δ mIoU, ratio and the accuracy gates per artifact × device).
``artifact_bytes`` / ``artifact_sha256``
    The artifact's size and hash (:func:`artifact_digest`; a folder's files in sorted order).
    Optional (older sidecars lack them). Writer: export. Reader: :func:`verify_artifact`, in
    bench (a failed row), artifact teachers and ``android-demo add`` (refused).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgeseg.atomic import atomic_path
from edgeseg.quantization import QuantLabel, read_label
from edgeseg.sidecar_checks import (  # noqa: F401  (ContractError, Quant: re-exported)
    DTYPE_RANGES,
    IN_GRAPH,
    ContractError,
    Quant,
    _choice,
    _norm,
    _palette,
    _quant,
    _runtime_version,
    _shape,
    _size,
    _str_list,
)

SUFFIX = ".json"
LAYOUTS = ("NCHW", "NHWC")
INPUT_DTYPES = ("float32", "uint8", "int8")
LOGIT_DTYPES = ("float32", "uint8", "int8")
MASK_DTYPES = ("uint8", "int32", "int64")
VALIDATED = (
    "classes",
    "palette",
    "input_size",
    "layout",
    "mean",
    "std",
    "input_dtype",
    "input_quantization",
    "output",
    "output_dtype",
    "output_quantization",
)
INFORMATIONAL = (
    "quantization",
    "arch",
    "source_checkpoint",
    "source_sha256",
    "edgeseg_version",
    "target",
    "parity",
    "runtime_version",
    "reference",
)
INTEGRITY = ("artifact_bytes", "artifact_sha256")  # checked by verify_artifact, not parse_meta
KEYS = VALIDATED + INFORMATIONAL + INTEGRITY  # every key edgeseg writes (see the module docstring)


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

    def fits_output(self, shape: Sequence[int]) -> bool:
        """Whether ``shape`` is this output's; a mask's size-1 axes carry nothing
        (``[1, H, W]``, ``[H, W]``, ``[1, H, W, 1]`` all fit)."""
        if self.output == "mask":
            return [d for d in shape if d != 1] == [d for d in self.size if d != 1]
        return tuple(int(d) for d in shape) == self.output_shape

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
        ok = dtype == self.output_dtype and self.fits_output(shape)
        if not ok:
            raise ContractError(
                f"{self.source}: the model's output is {_shape(shape)} {dtype} but the sidecar "
                f"describes {_shape(self.output_shape)} {self.output_dtype} ({self.output}, "
                "classes, input_size, layout); re-export the model or fix the sidecar"
            )


def sidecar_path(artifact: str | Path) -> Path:
    """``m.tflite`` → ``m.tflite.json``: the one place that names a sidecar."""
    artifact = Path(artifact)
    return artifact.with_name(artifact.name + SUFFIX)


def write_sidecar(artifact: str | Path, data: Mapping[str, Any]) -> Path:
    """Write ``data`` as ``artifact``'s sidecar, atomically (a failed write leaves the old
    sidecar, or none, never half a file). ``data`` must validate and use only documented
    :data:`KEYS`: edgeseg never writes a sidecar its own readers (or the phone app) refuse."""
    path = sidecar_path(artifact)
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise ContractError(f"{path.name}: undocumented sidecar keys {unknown}; add them to KEYS")
    parse_meta(data, path.name)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(dict(data), indent=2) + "\n")
    return path


def read_sidecar(
    artifact: str | Path, missing_ok: bool = False, validate: bool = True
) -> dict[str, Any]:
    """The artifact's validated sidecar dict; absent, unreadable or invalid → ContractError.

    ``missing_ok``: a foreign model (no sidecar at all) gives ``{}`` instead; a sidecar that is
    present is still validated, since feeding a model from a broken one gives wrong numbers.
    ``validate=False`` reads a *partial* sidecar (still a JSON object) without checking it: an
    artifact teacher takes each key it finds and the rest from its options or the file's own
    input shape, so a hand-written ``{"mean": …, "std": …}`` for a third-party model is enough
    there, where bench and the app need the whole contract."""
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
    if validate:
        parse_meta(data, path.name)
    elif not isinstance(data, dict):
        raise ContractError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def artifact_digest(artifact: str | Path) -> dict[str, Any]:
    """``{"artifact_bytes", "artifact_sha256"}`` of a file, or of a folder's files in sorted
    order (names and sizes hashed too: a renamed, missing or extra file changes it)."""
    root = Path(artifact)
    files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
    digest, total = hashlib.sha256(), 0
    for path in files:
        total += (size := path.stat().st_size)
        if root.is_dir():
            digest.update(f"{path.relative_to(root).as_posix()}\0{size}\0".encode())
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return {"artifact_bytes": total, "artifact_sha256": digest.hexdigest()}


def verify_artifact(artifact: str | Path, meta: Mapping[str, Any] | None = None) -> None:
    """Raise :class:`ContractError` unless ``artifact`` is the file its sidecar (``meta``, or
    read here) describes; no sidecar, or one without the integrity keys, passes."""
    artifact = Path(artifact)
    meta = read_sidecar(artifact, missing_ok=True, validate=False) if meta is None else meta
    size, sha = meta.get("artifact_bytes"), meta.get("artifact_sha256")
    if (size is None and sha is None) or not artifact.exists():
        return  # nothing recorded, or a missing file (its runner or loader says so)
    found = artifact_digest(artifact)
    if size is not None and found["artifact_bytes"] != size:
        why = f"{found['artifact_bytes']} bytes, the sidecar records {size} (truncated or replaced)"
    elif sha is not None and found["artifact_sha256"] != sha:
        why = "its sha256 differs from the one recorded at export (damaged or replaced)"
    else:
        return
    raise ContractError(
        f"{artifact.name} does not match its sidecar {sidecar_path(artifact).name}: {why}; "
        "re-export it with edgeseg export (or copy it again with its sidecar)"
    )


def quant_label(meta: Mapping[str, Any]) -> QuantLabel | str | None:
    """The sidecar's ``quantization``: a :class:`QuantLabel`, or the string a foreign sidecar
    wrote (kept, not refused: see :func:`edgeseg.quantization.read_label`); None when absent."""
    return read_label(meta.get("quantization"))


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
    _runtime_version(meta, source)
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
