"""``edgeseg export``: one checkpoint → artifacts for phone runtimes, each checked for parity.

For every requested target: wrap the model (uint8 input / mask output if asked), convert through
the target's :class:`~edgeseg.converters.base.Converter` into a temporary file, load that file in
the target's own runtime and compare it with the fp32 eager model on validation images, then move it
into place and write the ``<artifact>.json`` sidecar. A target that fails becomes a ``failed``
outcome with a one-line reason; the others still run. Bad input (unknown target, unsupported
quantization, a file that is not an edgeseg checkpoint, no calibration data) raises before any
work, as an :class:`~edgeseg.errors.EdgesegError`.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

import edgeseg
from edgeseg.atomic import atomic_path, check_room
from edgeseg.checkpoint import CheckpointMeta, file_sha256, load_model
from edgeseg.converters import ExportResult, ExportSpec, get_converter, resolve_targets
from edgeseg.converters.base import CALIB_IMAGES
from edgeseg.converters.int8prep import prepare_for_int8
from edgeseg.converters.parity import ParityData, ParityResult, parity_of
from edgeseg.converters.wrappers import example_input, wrap_model
from edgeseg.data import build_dataset
from edgeseg.data.transforms import Compose, Resize, ToTensor
from edgeseg.errors import EdgesegError, ExportError, OutputPathError, one_line
from edgeseg.evaluate import checkpoint_reference
from edgeseg.noise import quiet_zone
from edgeseg.outputs import check_output_dir
from edgeseg.progress import progress_bar
from edgeseg.quantization import QuantMode
from edgeseg.runtimes.versions import runtime_version
from edgeseg.sidecar import IN_GRAPH, artifact_digest, write_sidecar
from edgeseg.utils import SIZE_RANGE, check_range, check_size, parse_size


@dataclass
class ExportOutcome:
    """One target's result: the artifact (None if it failed) and its parity check."""

    target: str
    quantize: QuantMode
    result: ExportResult | None
    parity: ParityResult
    explain: list[str] | None = None  # filled when asked for (``--explain``)

    @property
    def ok(self) -> bool:
        return self.result is not None

    @property
    def failed(self) -> bool:
        """Not exported for a reason other than "this target does not apply here" (a target
        under ``all`` that cannot take the quantization/layout or lacks its toolchain is a
        ``skipped`` row, like a Core ML parity check on Linux): the CLI exits 3."""
        return self.result is None and self.parity.status != "skipped"

    @property
    def below(self) -> bool:
        """Exported, but its parity gate failed (agreement under the threshold): exit 3 too."""
        return self.result is not None and self.parity.status == "below"

    def as_dict(self) -> dict:
        r = self.result
        extra = {} if self.explain is None else {"explain": self.explain}
        return {
            "target": self.target,
            "quantize": r.quantize if r else self.quantize,
            "path": str(r.path) if r else None,
            "bytes": r.bytes if r else None,
            "seconds": round(r.seconds, 3) if r else None,
            "cpu_seconds": round(r.cpu_seconds, 3) if r and r.cpu_seconds is not None else None,
            "notes": r.notes if r else [],
            "parity": self.parity.as_dict(),
            **extra,
        }


def export_checkpoint(
    checkpoint: str | Path,
    targets: str | list[str] = "all",
    quantize: str | QuantMode = QuantMode.NONE,
    *,
    size: str | tuple[int, int] | None = None,
    input_dtype: str = "float",
    output: str = "logits",
    per_channel: bool = True,
    layout: str = "nchw",
    calib_data: str | None = None,
    calib_images: int = CALIB_IMAGES,
    parity_images: int = 8,
    reference_images: int | None = None,
    out: str | Path | None = None,
    explain: bool = False,
    progress: bool = False,
) -> list[ExportOutcome]:
    """Export ``checkpoint`` to each of ``targets`` ("all", a name, or a list/comma list);
    ``progress`` shows a bar over the targets (each takes seconds to a minute).

    ``reference_images``: the checkpoint's reference mIoU (:mod:`edgeseg.reference`) goes into
    every sidecar, measured on the first N val images of the parity data (None: all, 0: none);
    without labelled data there is none, and the outcome's notes say why."""
    asked = check_size(parse_size(size))  # numbers first: before the checkpoint is read
    check_range("--calib-images", calib_images, 1, whole=True)
    check_range("--parity-images", parity_images, 0, whole=True)
    if reference_images is not None:
        check_range("--reference-images", reference_images, 0, whole=True)
    names = check_targets(targets, quantize, layout)
    out_dir = Path(out) if out is not None else Path(checkpoint).parent / "export"
    check_output_dir(out_dir, "--out")  # before the model is loaded, calibrated or converted
    model, meta = load_model(checkpoint)
    hw = asked or (int(meta.input_size[0]), int(meta.input_size[1]))
    spec = ExportSpec(
        quantize, hw, input_dtype, output, per_channel, layout, calib_data, calib_images
    )
    _check_size(model, hw, checkpoint)
    data = calib_data or meta.dataset
    if not data:
        raise ExportError(f"{checkpoint} records no dataset; pass --calib-data SPEC")
    if quantize == QuantMode.INT8:
        calib = load_images(data, "train", hw, calib_images, meta)
        spec.calibration = [x.unsqueeze(0) for x in _model_inputs(calib, spec)]
    parity: ParityData | str = "--parity-images 0"
    if parity_images:
        try:
            parity = load_images(data, "val", hw, parity_images, meta)
        except EdgesegError as exc:  # recorded dataset absent here: export, but say so
            if calib_data or quantize == QuantMode.INT8:
                raise
            parity = f"no parity data ({one_line(exc)})"
    spec.metadata = artifact_metadata(meta, spec, checkpoint)
    wrapped = wrap_model(model, spec, meta.mean, meta.std)
    prepared = _Int8Prepared(wrapped, spec) if quantize == QuantMode.INT8 else None
    outcomes = []
    with progress_bar(progress) as bar:
        reference = _reference(model, meta, data, hw, reference_images, bar)
        if isinstance(reference, dict):
            spec.metadata["reference"] = reference
        task = bar.add_task(f"export {quantize}", total=len(names), info="")
        for name in names:
            bar.update(task, info=name)
            float_model, notes = prepared.get(name) if prepared else (wrapped, [])
            notes = notes if isinstance(reference, dict) else [*notes, reference]
            outcome = _export_one(name, float_model, model, spec, meta.arch, out_dir, parity, notes)
            if explain:
                outcome.explain = _explain(outcome)
            outcomes.append(outcome)
            bar.advance(task)
    return outcomes


def _reference(model, meta, data: str, hw, count: int | None, bar) -> dict | str:
    """The checkpoint's reference mIoU (a sidecar value), or a note saying why there is none:
    an export without labelled data still exports, and bench then says "no reference"."""
    if count == 0:
        return "no reference mIoU (--reference-images 0)"
    task = bar.add_task("reference mIoU", total=None, info=data)
    try:
        found = checkpoint_reference(
            model, meta, data, "val", hw, count, lambda i, n: bar.update(task, completed=i, total=n)
        )
    except EdgesegError as exc:
        return f"no reference mIoU: {one_line(exc)}"
    return found.as_dict()


class _Int8Prepared:
    """The float model each target's int8 quantizer starts from: weights on that target's grid
    (``Converter.weight_qmax``) with biases corrected for it, prepared once per grid."""

    def __init__(self, wrapped: nn.Module, spec: ExportSpec) -> None:
        self.wrapped, self.spec = wrapped, spec
        self.by_qmax: dict[int, tuple[nn.Module, list[str]]] = {}

    def get(self, target: str) -> tuple[nn.Module, list[str]]:
        qmax = get_converter(target).weight_qmax  # names were validated by check_targets
        if qmax not in self.by_qmax:
            model, prep = prepare_for_int8(
                self.wrapped, self.spec.calibration, self.spec.per_channel, qmax
            )
            self.by_qmax[qmax] = (model, [prep.note()])
        return self.by_qmax[qmax]


def check_int8_only(quantize: str | QuantMode, per_channel: bool, calib_images: int) -> None:
    """``--per-tensor`` and ``--calib-images`` shape int8 calibration only; given with another
    ``--quantize`` they would change nothing, so the command line refuses them rather than
    ignore them. (:func:`export_checkpoint` itself takes them with any mode: a program that
    loops over modes passes one calibration setting to all.)"""
    check_range("--calib-images", calib_images, 1, whole=True)  # out of range says so first
    mode = str(getattr(quantize, "value", quantize))
    if mode == QuantMode.INT8.value:
        return
    for given, flag in (
        (not per_channel, "--per-tensor"),
        (calib_images != CALIB_IMAGES, "--calib-images"),
    ):
        if given:
            raise ExportError(
                f"{flag} has no effect with --quantize {mode}: it sets int8 calibration; "
                "add --quantize int8 or drop it"
            )


def check_targets(
    targets: str | list[str], quantize: str | QuantMode, layout: str = "nchw"
) -> list[str]:
    """The target names ``targets`` stands for. A target asked for *by name* that cannot take
    ``quantize``/``layout`` or lacks its toolchain is bad input and raises here; under ``all``
    such a target becomes a failed row instead (one target never stops the others)."""
    names = resolve_targets(targets)
    requested = targets.split(",") if isinstance(targets, str) else list(targets)
    if "all" not in [t.strip().lower() for t in requested]:
        for name in names:
            converter = get_converter(name)
            converter.check_quantize(quantize)
            converter.check_layout(layout)
            converter.check_available()
    return names


def _explain(outcome: ExportOutcome) -> list[str]:
    """The target's own account of its artifact; a failure to explain is one line, not a crash."""
    if outcome.result is None:
        return [f"not exported: {outcome.parity.reason}"]
    try:
        return get_converter(outcome.target).explain(outcome.result)
    except Exception as exc:  # the artifact is fine; only the explanation is missing
        return [f"cannot explain: {one_line(exc)}"]


def _export_one(name, wrapped, eager, spec, arch, out_dir, parity, notes) -> ExportOutcome:
    try:
        converter = get_converter(name)
        converter.check_quantize(spec.quantize)
        converter.check_layout(spec.layout)
        converter.check_available()
    except EdgesegError as exc:  # only under "all" (by name it raised in check_targets)
        return ExportOutcome(
            name, spec.quantize, None, ParityResult("skipped", reason=one_line(exc))
        )
    try:
        target = out_dir / converter.filename(arch, spec)
        check_room(target, _estimate_bytes(wrapped, spec.quantize))  # native writers may exit
        with atomic_path(target, directory=converter.directory) as tmp:
            cpu_started = time.process_time()
            with quiet_zone():  # the converter's libraries log their own way (edgeseg.noise)
                result = converter.convert(wrapped, example_input(spec), tmp, spec)
            result.cpu_seconds = time.process_time() - cpu_started
            # parity runs before the swap: a file its runtime cannot run replaces nothing
            if isinstance(parity, str):
                check = ParityResult("skipped", reason=parity)
            else:
                check = _parity(converter, tmp, eager, parity, spec)
        result = dataclasses.replace(
            result, path=target, bytes=_size(target), notes=[*notes, *result.notes]
        )
        labels = {"target": name, "quantization": result.quantize, "parity": check.as_dict()}
        verified_by = runtime_version(converter.runtime, target)
        if verified_by is not None:
            labels["runtime_version"] = verified_by
        integrity = artifact_digest(target)  # what bench, teachers and the app check it against
        write_sidecar(target, {**spec.metadata, **result.metadata, **labels, **integrity})
        return ExportOutcome(name, spec.quantize, result, check)
    except OutputPathError:  # a full disk fails every target alike: bad input, exit 2
        raise
    except Exception as exc:  # one target's failure never stops the others
        reason = one_line(exc)
        return ExportOutcome(name, spec.quantize, None, ParityResult("failed", reason=reason))


def _parity(converter, path: Path, eager, parity: ParityData, spec: ExportSpec) -> ParityResult:
    """The file as its runtime (``converter.runtime``) runs it, against the eager model."""
    uint8_input = spec.input_dtype == "uint8"
    return parity_of(
        path, converter.runtime, eager, parity, uint8_input, spec.quantize, spec.layout
    )


def _estimate_bytes(model: nn.Module, quantize: str) -> int:
    """About how large the artifact will be: its weights at the quantization's width (graph
    and metadata on top are small), as a lower bound for :func:`check_room`."""
    width = {QuantMode.FP16: 2, QuantMode.INT8: 1}.get(quantize, 4)
    count = sum(t.numel() for t in (*model.parameters(), *model.buffers()))
    return count * width + 64 * 1024


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return path.stat().st_size


def _check_size(model: nn.Module, hw: tuple[int, int], checkpoint) -> None:
    """The size the artifact is made at — ``--size`` or the checkpoint's own (a checkpoint
    trained at 1x1 before sizes were bounded) — in range, and one the model can run at."""
    try:
        check_size(hw)
    except EdgesegError as exc:
        raise ExportError(f"{exc} ({Path(checkpoint).name})") from None
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, *hw))
    except RuntimeError as exc:
        raise ExportError(
            f"{Path(checkpoint).name} cannot run at {hw[0]}x{hw[1]} "
            f"({one_line(exc, 120)}); pass another --size ({SIZE_RANGE}, multiples of 32)"
        ) from exc


def load_images(spec: str, split: str, hw, count: int, meta: CheckpointMeta) -> ParityData:
    """The first ``count`` images of ``spec``/``split`` at ``hw``: deterministic, eval-style."""
    dataset = build_dataset(spec, split, Compose([Resize(hw), ToTensor()]))
    if len(dataset) == 0:
        raise ExportError(f"{spec} has no {split} images for calibration/parity")
    items = [dataset[i] for i in range(min(count, len(dataset)))]
    uint8 = torch.stack([img for img, _ in items]).mul(255).round().to(torch.uint8)
    mean = torch.tensor(meta.mean).view(1, 3, 1, 1)
    std = torch.tensor(meta.std).view(1, 3, 1, 1)
    normalized = (uint8.float() / 255.0 - mean) / std
    labels = torch.stack([m for _, m in items]) if dataset.info.labeled else None
    return ParityData(uint8, normalized, labels, meta.num_classes)


def _model_inputs(data: ParityData, spec: ExportSpec) -> torch.Tensor:
    return data.uint8 if spec.input_dtype == "uint8" else data.normalized


def artifact_metadata(meta: CheckpointMeta, spec: ExportSpec, checkpoint) -> dict:
    """What an app needs to feed the artifact and read its output (also embedded in ONNX)."""
    baked = spec.input_dtype == "uint8"
    return {
        "arch": meta.arch,
        "classes": list(meta.classes),
        "palette": [list(c) for c in meta.palette],
        "input_size": list(spec.size),
        "layout": spec.layout.upper(),
        "mean": IN_GRAPH if baked else list(meta.mean),
        "std": IN_GRAPH if baked else list(meta.std),
        "input_dtype": "uint8" if baked else "float32",
        "output": "mask" if spec.output == "mask" else "logits",
        "output_dtype": "uint8" if spec.output == "mask" else "float32",
        "quantization": spec.quantize,
        "source_checkpoint": Path(checkpoint).name,
        "source_sha256": file_sha256(checkpoint),
        "edgeseg_version": edgeseg.__version__,
    }
