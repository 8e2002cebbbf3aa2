"""How to feed an artifact and read its output: the :class:`~edgeseg.sidecar.Contract`, from
the best source there is.

1. the ``<artifact>.json`` sidecar (``edgeseg export`` writes one), checked against the tensors
   the runtime reports — a sidecar that does not describe the model is an error, not a guess;
2. metadata embedded in the file (ONNX ``metadata_props``, TorchScript ``extra/edgeseg.json``,
   an edgeseg checkpoint's own metadata);
3. for a foreign model: its tensors (size, layout, dtype, quantisation, scores or class ids),
   ``--mean/--std`` and ``--classes``, else a note from :mod:`edgeseg.benchmarks.foreign`. A uint8
   input without ``--mean/--std`` gets the raw pixels (the convention of quantised models); a
   float input without them has no contract: latency is still measured, mIoU is not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgeseg.benchmarks.base import BenchError
from edgeseg.benchmarks.foreign import known_note
from edgeseg.benchmarks.options import FeedOptions
from edgeseg.quantization import QuantLabel, read_label
from edgeseg.runtimes import Session, TensorInfo
from edgeseg.sidecar import IN_GRAPH, Contract, parse_meta, quant_label, read_sidecar


@dataclass
class Feed:
    contract: Contract | None  # None: the input normalisation is unknown (latency only)
    source: str  # sidecar | embedded | tensors
    quantization: QuantLabel | str | None  # str: a foreign label, kept as the file says it
    notes: list[str] = field(default_factory=list)
    missing: str = ""  # why there is no contract
    classes_named: bool = True  # False: ids only (foreign mask output, no --classes)
    origin: str | None = None  # "<checkpoint sha256>@HxW": rows of one model at one size


def resolve_feed(
    artifact: Path,
    session: Session,
    options: FeedOptions,
    data_classes: tuple[str, ...] = (),
    named: bool = True,
) -> Feed:
    """The contract for ``artifact`` as loaded in ``session`` (see the module docstring).

    ``named=False`` leaves a foreign model's classes as placeholders: enough to time it, and
    it keeps torch (which edgeseg's class lists import) out of a process whose RSS is measured.
    """
    side = read_sidecar(artifact, missing_ok=True)
    for source, meta in (("sidecar", side), ("embedded", session.meta or {})):
        if meta:
            contract = parse_meta(meta, f"{artifact.name} ({source})")
            if session.input.static:
                contract.check_input(session.input.shape, session.input.dtype)
            notes = list(session.notes)
            if options.mean or options.classes:
                notes.append(f"--mean/--std/--classes ignored: the {source} metadata says")
            label = quant_label(meta) or read_label(session.quantization)
            sha = meta.get("source_sha256")
            origin = f"{sha}@{contract.size[0]}x{contract.size[1]}" if sha else None
            return Feed(contract, source, label, notes, origin=origin)
    return _foreign(artifact, session, options, data_classes, named)


def _foreign(
    artifact: Path, session: Session, options: FeedOptions, data: tuple[str, ...], named: bool
) -> Feed:
    inp, out = session.input, session.output
    if not inp.static or len(inp.shape) != 4:
        raise BenchError(
            f"{artifact.name}: input {list(inp.shape)} is not a static 4-D image "
            "batch; re-export it with a fixed size"
        )
    layout = "NHWC" if inp.shape[3] == 3 and inp.shape[1] != 3 else "NCHW"
    size = list(inp.shape[1:3] if layout == "NHWC" else inp.shape[2:4])
    note = known_note(artifact)
    notes = [f"no sidecar: fed from its tensors ({layout}, {inp.dtype})", *session.notes]
    if note:
        notes.append(f"known model: {note.name}")
    mean = options.mean or (note.mean if note else None)
    std = options.std or (note.std if note else None)
    output, logits_count = _output_kind(artifact, out, layout)
    names, palette = _class_names(artifact, options, note, logits_count, data, notes, named)
    meta: dict[str, Any] = {
        "classes": list(names),
        "palette": palette,
        "input_size": size,
        "layout": layout,
        "input_dtype": inp.dtype,
        "output": output,
        "output_dtype": out.dtype if out else "float32",
    }
    if out and out.quant and output == "logits":
        meta["output_quantization"] = {"scale": out.quant.scale, "zero_point": out.quant.zero_point}
    feed = Feed(None, "tensors", read_label(session.quantization), notes)
    feed.classes_named = named and bool(options.classes or (note and note.classes))
    if mean is None and inp.dtype == "uint8":
        meta["mean"] = meta["std"] = IN_GRAPH
        notes.append("uint8 input fed raw pixels (pass --mean/--std to normalise instead)")
    elif mean is None or std is None:
        feed.missing = f"{inp.dtype} input with unknown normalisation: pass --mean and --std"
        return feed
    else:
        meta["mean"], meta["std"] = list(mean), list(std)
        if inp.quant:
            meta["input_quantization"] = {
                "scale": inp.quant.scale,
                "zero_point": inp.quant.zero_point,
            }
    feed.contract = parse_meta(meta, f"{artifact.name} (from its tensors)")
    return feed


def _output_kind(artifact: Path, out: TensorInfo | None, layout: str) -> tuple[str, int]:
    """("logits", C) for float/quantised scores, ("mask", 0) for integer class ids."""
    if out is None:
        raise BenchError(f"{artifact.name}: the runtime does not report the output tensor")
    if out.dtype.startswith("float") or (out.quant and len(out.shape) == 4):
        if len(out.shape) != 4:
            raise BenchError(
                f"{artifact.name}: output {list(out.shape)} is not [1, C, H, W] or "
                "[1, H, W, C] scores"
            )
        return "logits", int(out.shape[3] if layout == "NHWC" else out.shape[1])
    return "mask", 0


def _class_names(artifact, options, note, count: int, data, notes, named: bool):
    """(names, palette): from --classes, the known-model note, else placeholders."""
    if not named:
        names = tuple(f"class{i}" for i in range(max(count, 1)))
        return names, [[0, 0, 0]] * len(names)
    from edgeseg.data.classes import voc_colormap
    from edgeseg.distill.teachers.base import class_list

    names = class_list(options.classes or (note.classes if note else None))
    if names is None:
        names = _unnamed(count, data, notes)
    if count and len(names) != count:
        raise BenchError(
            f"{artifact.name} outputs {count} classes but --classes lists "
            f"{len(names)}; pass the model's class list"
        )
    return names, [list(c) for c in voc_colormap(len(names))]


def _unnamed(count: int, data: tuple[str, ...], notes: list[str]) -> tuple[str, ...]:
    if count == 0 and data:
        notes.append("class ids read as the dataset's ids (pass --classes to name them)")
        return data
    if count == 0:
        return ("class0",)  # latency only: nothing reads the names
    notes.append(f"{count} unnamed classes (pass --classes to name them)")
    return tuple(f"class{i}" for i in range(count))
