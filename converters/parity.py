"""Parity: run an exported artifact in its own runtime and compare it with the fp32 eager model.

The artifact is opened by :func:`edgeseg.runtimes.load` with the converter's ``runtime``: the same
:class:`~edgeseg.runtimes.Session` ``edgeseg bench`` and the artifact teachers get, so parity
checks the file exactly as it will be run. A runtime that does not exist here (Core ML off
macOS) makes the check ``skipped``, not failed.

Reported: argmax agreement (share of pixels with the same class), max |Δlogit| when the artifact
returns logits, and the mIoU of both on the labels when the images have them. Status: ``passed``
(agreement at or above the threshold for the quantization), ``below`` (exported, but under it) or
``failed`` (the artifact did not load or run).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from edgeseg import runtimes
from edgeseg.metrics import ConfusionMatrix
from edgeseg.quantization import QuantMode
from edgeseg.runtimes import RuntimeUnavailable, Session

# Minimum argmax agreement per requested quantization. Measured on LR-ASPP MobileNetV3-Small
# trained 25 epochs on `sample` (val mIoU 0.646), 120x160, 16 val images, 32 calibration images:
# fp32 100 % on every target (max |Δlogit| ≤ 4e-6); int8 ONNX QDQ 98.3 % (ΔmIoU −1.1 pt),
# ExecuTorch XNNPACK 99.7 % (−0.3 pt), TFLite 99.7 % (−0.3 pt). 95 % leaves room for other models.
THRESHOLDS = {QuantMode.NONE: 0.99, QuantMode.FP16: 0.98, QuantMode.INT8: 0.95}


@dataclass
class ParityResult:
    status: str  # passed | below | failed | skipped
    images: int = 0
    agreement: float | None = None
    max_abs_diff: float | None = None
    miou_eager: float | None = None
    miou_export: float | None = None
    threshold: float | None = None
    reason: str = ""

    @property
    def miou_delta(self) -> float | None:
        if self.miou_eager is None or self.miou_export is None:
            return None
        return self.miou_export - self.miou_eager

    def as_dict(self) -> dict:
        return {**self.__dict__, "miou_delta": self.miou_delta}


@dataclass
class ParityData:
    """K validation images as uint8 ``[K, 3, H, W]`` and normalised float, labels or None."""

    uint8: torch.Tensor
    normalized: torch.Tensor
    labels: torch.Tensor | None
    num_classes: int


def parity_of(
    path: Path,
    runtime: str,
    eager: nn.Module,
    data: ParityData,
    uint8_input: bool,
    quantize: QuantMode,
    layout: str = "nchw",
) -> ParityResult:
    """Open ``path`` in ``runtime`` (one thread) and :func:`check_parity` it; ``skipped`` when the
    runtime cannot run on this platform. An artifact the runtime refuses raises
    :class:`~edgeseg.runtimes.ArtifactLoadError` (the export reports the target as failed)."""
    torch_threads = torch.get_num_threads()  # a torch runtime sets it process-wide
    try:
        try:
            session = runtimes.load(path, threads=1, runtime=runtime)
        except RuntimeUnavailable as exc:
            return ParityResult("skipped", reason=f"{exc}: parity not checked here")
        return check_parity(session, eager, data, uint8_input, quantize, layout)
    finally:
        torch.set_num_threads(torch_threads)


@torch.no_grad()
def check_parity(
    session: Session,
    eager: nn.Module,
    data: ParityData,
    uint8_input: bool,
    quantize: str,
    layout: str = "nchw",
) -> ParityResult:
    """Compare ``session`` (artifact) with ``eager`` (fp32 model on normalised input) image by
    image; float inputs are quantized and int8 logits dequantized as the file's tensors say.

    ``layout="nhwc"``: the artifact is fed ``[1, H, W, 3]`` and its logits ``[1, H, W, C]`` are
    moved back to channel-first before comparing (a mask is ``[N, H, W]`` either way).
    """
    threshold = THRESHOLDS[quantize]
    n = data.num_classes
    same = total = 0
    max_diff = 0.0
    cm_eager, cm_export = ConfusionMatrix(n), ConfusionMatrix(n)
    for i in range(data.uint8.shape[0]):
        ref = eager(data.normalized[i : i + 1])
        source = data.uint8 if uint8_input else data.normalized
        x = source[i : i + 1].clone()
        if layout == "nhwc":
            x = x.permute(0, 2, 3, 1).contiguous()
        out = torch.from_numpy(session.run_float(x.numpy()))
        if layout == "nhwc" and out.dim() == 4:
            out = out.permute(0, 3, 1, 2)
        if out.dim() == 3:  # a baked-in argmax mask
            pred = out.to(torch.int64)
        else:
            out = out.float()
            max_diff = max(max_diff, float((out - ref).abs().max()))
            pred = out.argmax(1)
        ref_pred = ref.argmax(1)
        same += int((pred == ref_pred).sum())
        total += pred.numel()
        if data.labels is not None:
            cm_eager.update(data.labels[i : i + 1], ref_pred)
            cm_export.update(data.labels[i : i + 1], pred)
    agreement = same / total
    result = ParityResult(
        status="passed" if agreement >= threshold else "below",
        images=int(data.uint8.shape[0]),
        agreement=agreement,
        max_abs_diff=None if out.dim() == 3 else max_diff,
        threshold=threshold,
    )
    if data.labels is not None:
        result.miou_eager = cm_eager.compute().miou
        result.miou_export = cm_export.compute().miou
    return result
