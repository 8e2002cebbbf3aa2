"""Artifact teacher: an exported model file run in its real runtime (.tflite, .onnx, .pte).

The file is opened by :func:`edgeseg.runtimes.load`, the one code path the export parity check
and ``edgeseg bench`` use too, so a teacher runs exactly as the parity check ran it, behind the
same header checks. How to feed the file comes, in order, from the options (``--teacher-mean``,
…), the ``<artifact>.json`` sidecar that ``edgeseg export`` writes
(``edgeseg.export.artifact_metadata``) and the input tensor the runtime reports (NHWC when the
last axis is 3). Example: Google's VOC DeepLabV3,
``deeplabv3_257_mv_gpu.tflite`` — 257×257 NHWC, ``(x - 127.5) / 127.5`` (``--teacher-mean
0.5,0.5,0.5 --teacher-std 0.5,0.5,0.5``), 21 VOC scores (``--teacher-classes voc``).
Artifacts take one image at a time (static batch 1); a ``mask`` output (class ids, argmax in
the graph) becomes one-hot logits: a hard teacher.

``--teacher-option features=TENSOR`` also reads an inner tensor (by name, a unique ';'-part of
a TFLite name, or index) as the teacher's feature tap (``feature_tap``, default ``high``), for
``--loss feature``: a model trained elsewhere knows more than its class scores say, and its
decoder features carry it (Coral's Cityscapes DeepLab: ``concat_projection/Relu``, 128 channels
at stride 16). The graph then runs twice per image, once per output; the teacher cache makes that
a one-time cost.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from edgeseg import runtimes
from edgeseg.distill.teachers.base import Teacher, TeacherOptions, class_list, register_teacher
from edgeseg.errors import DistillError
from edgeseg.progress import console
from edgeseg.sidecar import IN_GRAPH, ContractError, read_sidecar, verify_artifact

HARD_LOGIT = 20.0  # one-hot logit of a mask-output teacher: softmax ≈ 1 on its class
# The runtimes that read any file of their format (edgeseg's or not) and report its input tensor
# from the graph: what a teacher is fed from. Left out: the edgeseg checkpoint (the checkpoint
# teacher's), TorchScript (its input size only comes from edgeseg's embedded metadata) and
# Core ML (a folder, and macOS only).
TEACHER_RUNTIMES = ("tflite", "onnxruntime", "executorch")


def teacher_suffixes() -> list[str]:
    """The file suffixes an artifact teacher takes: those of :data:`TEACHER_RUNTIMES`."""
    return sorted({s for n in TEACHER_RUNTIMES for s in runtimes.get_runtime(n).formats})


def _open(
    path: Path, tensor: str | None, logits_out: bool = False
) -> tuple[runtimes.Session, str | None]:
    """The file in its runtime, one thread, its output moved to the class scores (``tensor``, or
    the input of a final ArgMax/Softmax); a format that cannot hand out an inner tensor runs as
    it is, and the note saying so is returned, for when the teacher is accepted. ``logits_out``:
    the sidecar says the output already is the scores, so nothing is searched for. A file the
    runtime refuses is a one-line DistillError."""
    if path.suffix.lower() not in teacher_suffixes():
        raise DistillError(
            f"Teacher file {path} has suffix '{path.suffix}'; artifact teachers are "
            f"{', '.join(teacher_suffixes())} files"
        )
    runtime = runtimes.runtime_for(path)
    try:
        try:
            scores = tensor or not logits_out
            return runtimes.load(path, threads=1, runtime=runtime.name, scores=scores), None
        except runtimes.ScoresUnavailable as exc:
            if tensor is not None:
                raise DistillError(f"--teacher-option tensor={tensor}: {exc}") from exc
            session = runtimes.load(path, threads=1, runtime=runtime.name)
            return session, f"teacher {exc}; distilling from its output as it is"
    except (runtimes.RuntimeNotInstalled, runtimes.RuntimeUnavailable):
        raise  # how to install it, not a fault of the file
    except runtimes.TensorNotFound as exc:
        raise DistillError(f"--teacher-option tensor: {exc}") from exc
    except runtimes.ArtifactLoadError as exc:
        kind = runtime.format_name or runtime.name
        raise DistillError(f"Teacher {path} is not a model {kind} can load: {exc}") from exc


class ArtifactTeacher(Teacher):
    kind = "artifact"
    # tensor: the scores tensor, by name or index (default: found); features: an inner tensor
    # served as the feature tap named by feature_tap
    option_keys = ("tensor", "features", "feature_tap")

    def __init__(self, path: Path, options: TeacherOptions) -> None:
        side = _sidecar(path)  # checked against the file first: a damaged file is never run
        logits_out = side.get("output") == "logits"  # edgeseg's own fp32/int8 exports
        self.session, note = _open(path, options.extra.get("tensor"), logits_out)
        shape = list(self.session.input.shape)
        self.layout = (options.layout or side.get("layout") or _layout(shape)).upper()
        spatial = shape[1:3] if self.layout == "NHWC" else shape[2:4]
        size = options.size or side.get("input_size") or spatial
        if min(int(v) for v in size) <= 0:
            raise DistillError(f"{path} has a dynamic input size; pass --teacher-size HxW")
        self.size = (int(size[0]), int(size[1]))
        self.mean, self.std = _normalisation(side, options, self.session.input)
        self.path = path
        classes = class_list(options.classes) or tuple(side.get("classes") or ()) or None
        self.hard_width = len(classes) if classes else None
        probe = self._forward(torch.zeros(1, 3, *self.size))
        if not bool(torch.isfinite(probe).all()):  # damaged weights: NaN logits train to NaN
            raise DistillError(
                f"Teacher {path} outputs NaN or inf on a test image: its weights are damaged; "
                "re-export it"
            )
        if self.hard and classes is None:
            raise DistillError(
                f"{path} outputs class ids, not scores; pass --teacher-classes (e.g. voc) so "
                "they can be turned into one-hot logits"
            )
        super().__init__(classes, int(probe.shape[1]))
        if classes is not None and len(classes) != self.num_classes:
            raise DistillError(
                f"{path} outputs {self.num_classes} classes but --teacher-classes lists "
                f"{len(classes)}; pass the matching class list"
            )
        self.feature_session = None
        if features := options.extra.get("features"):
            self._open_features(path, features, options.extra.get("feature_tap") or "high")
        elif "feature_tap" in options.extra:
            raise DistillError("--teacher-option feature_tap: name the tensor too (features=…)")
        if note:  # said once the teacher is accepted, so a refusal stays one line
            console.print(note)

    def _open_features(self, path: Path, tensor: str, tap: str) -> None:
        """A second session whose output is the inner tensor ``tensor``, served as ``tap``."""
        try:
            self.feature_session = runtimes.load(path, threads=1, scores=tensor)
        except (runtimes.ScoresUnavailable, runtimes.TensorNotFound) as exc:
            raise DistillError(f"--teacher-option features={tensor}: {exc}") from exc
        except runtimes.ArtifactLoadError as exc:
            raise DistillError(f"Teacher {path}: cannot read tensor '{tensor}': {exc}") from exc
        probe = self._features(torch.zeros(1, 3, *self.size))
        if probe.ndim != 4 or not bool(torch.isfinite(probe).all()):
            raise DistillError(
                f"--teacher-option features={tensor}: {path} gives it as shape "
                f"{list(probe.shape)}; name a finite 4-D feature map ([1, H, W, C] or [1, C, H, W])"
            )
        self.feature_tap, self.feature_tensor = tap, tensor
        self.feature_channels = {tap: int(probe.shape[1])}

    def _features(self, pixels: torch.Tensor) -> torch.Tensor:
        """One image → the feature tensor, float32 NCHW (dequantized)."""
        y = torch.from_numpy(np.asarray(self.feature_session.run_float(self._input(pixels))))
        y = y.float()
        return y.permute(0, 3, 1, 2) if self.layout == "NHWC" and y.ndim == 4 else y

    def _input(self, pixels: torch.Tensor) -> np.ndarray:
        """0..1 pixels [1, 3, H, W] → the graph's input: resized, normalised, in its layout."""
        x = F.interpolate(pixels, size=self.size, mode="bilinear", align_corners=False)
        x = (x - self.mean) / self.std
        if self.layout == "NHWC":
            x = x.permute(0, 2, 3, 1)
        return x.contiguous().cpu().numpy()

    def _forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """One image [1, 3, H, W] of 0..1 pixels → logits [1, C, h, w] (float32, NCHW).

        Outputs are in the input's layout (NHWC in, NHWC out, as TF-converted models do)."""
        y = torch.from_numpy(np.asarray(self.session.run_float(self._input(pixels))))
        self.hard = y.ndim == 3 or not torch.is_floating_point(y)
        if self.hard:  # class ids (argmax in the graph): one-hot logits
            ids = y.reshape(y.shape[0], *y.shape[-2:]).long()
            width = self.hard_width or int(ids.max()) + 1
            return F.one_hot(ids.clamp(0, width - 1), width).permute(0, 3, 1, 2) * HARD_LOGIT
        return (y.permute(0, 3, 1, 2) if self.layout == "NHWC" else y).float()

    @torch.no_grad()
    def predict(self, pixels: torch.Tensor, masks: torch.Tensor | None = None):
        device = pixels.device
        images = [pixels[i : i + 1].float().cpu() for i in range(pixels.shape[0])]
        logits = torch.cat([self._forward(x) for x in images]).float().to(device)
        if self.feature_session is None:
            return logits, None
        features = torch.cat([self._features(x) for x in images]).to(device)
        return logits, {self.feature_tap: features}

    def input_size(self) -> tuple[int, int]:
        return self.size  # fixed: set_input_size stays the base class's False

    def describe(self) -> dict:
        return {
            **super().describe(),
            "source": str(self.path),
            "input_size": list(self.size),
            "layout": self.layout,
            "mean": self.mean.flatten().tolist(),
            "std": self.std.flatten().tolist(),
            "scores": "; ".join(self.session.notes) or "the graph's output",
            **(
                {"features": {self.feature_tap: self.feature_tensor}}
                if self.feature_session
                else {}
            ),
        }


def _layout(shape: list[int]) -> str:
    return "NHWC" if len(shape) == 4 and shape[-1] == 3 and shape[1] != 3 else "NCHW"


def _sidecar(path: Path) -> dict:
    """The sidecar as far as it goes: a teacher fills what it lacks from its options and the
    file's input shape, so a partial one is read without the full contract check. When it
    records the artifact's size and hash, the file must match them."""
    try:
        side = read_sidecar(path, missing_ok=True, validate=False)
        verify_artifact(path, side)
        return side
    except ContractError as exc:
        raise DistillError(str(exc)) from exc  # names the file and what is wrong


def _normalisation(
    side: dict, options: TeacherOptions, tensor: runtimes.TensorInfo
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean/std in 0..1 pixel units; an "in-graph" sidecar means the graph takes 0..255. A
    graph with a quantized uint8 input and nothing else said takes raw pixels (Coral's models):
    the mean/std under which quantizing gives back ``255 · pixel``."""
    mean, std = options.mean, options.std
    if side.get("mean") == IN_GRAPH and mean is None:
        mean, std = (0.0, 0.0, 0.0), (1 / 255,) * 3
    quant = tensor.quant
    if mean is None and "mean" not in side and tensor.dtype == "uint8" and quant and quant.scale:
        mean = (quant.zero_point / 255,) * 3
        std = (1 / (255 * quant.scale),) * 3
    mean = mean if mean is not None else side.get("mean", (0.0, 0.0, 0.0))
    std = std if std is not None else side.get("std", (1.0, 1.0, 1.0))
    return (
        torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1),
        torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1),
    )


def _accepts(spec: str) -> bool:
    return Path(spec).suffix.lower() in teacher_suffixes() and Path(spec).is_file()


@register_teacher("artifact", accepts=_accepts)
def build(spec: str, options: TeacherOptions) -> ArtifactTeacher:
    path = Path(spec)
    if not path.is_file():
        raise DistillError(f"Teacher file {path} does not exist; check the path")
    return ArtifactTeacher(path, options)
