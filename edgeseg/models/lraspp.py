"""LR-ASPP (Howard et al., ICCV 2019, "Searching for MobileNetV3", arXiv:1905.02244, Sec. 6.3).

Mirrors torchvision/models/segmentation/lraspp.py (torchvision 0.28): the backbone is the
dilated MobileNetV3 ``features`` (output stride 16), the head reads ``low`` =
``stage_indices[-4]`` (first stride-8 block) and ``high`` = ``stage_indices[-1]`` (last 1×1
conv); ``high`` goes through a 1×1 conv-BN-ReLU gated by a pooled sigmoid branch, is resized
to ``low`` and both are classified and summed, then resized to the input. Keys equal
torchvision's (``backbone.N.…``, ``classifier.{cbr,scale,low_classifier,high_classifier}``).
``lraspp_mobilenet_v3_small`` is the same builder on MobileNetV3-Small (torchvision ships no
such model; its ImageNet backbone weights are torchvision's).
"""

from __future__ import annotations

from torch import Tensor, nn

from edgeseg.errors import ModelError
from edgeseg.models._base import VOC_CLASSES, PretrainedCfg, SegmentationModel
from edgeseg.models._registry import register_model
from edgeseg.models.layers import TapSequential, resize
from edgeseg.models.mobilenetv3 import (
    MOBILENET_V3_LARGE_WEIGHTS,
    MOBILENET_V3_SMALL_WEIGHTS,
    mobilenet_v3_large,
    mobilenet_v3_small,
    stage_indices,
)


class LRASPPHead(nn.Module):
    """1×1 conv-BN-ReLU on ``high`` × pooled sigmoid gate, up to ``low``, two 1×1 classifiers."""

    def __init__(
        self, low_channels: int, high_channels: int, num_classes: int, inter_channels: int
    ) -> None:
        super().__init__()
        self.cbr = nn.Sequential(
            nn.Conv2d(high_channels, inter_channels, 1, bias=False),
            nn.BatchNorm2d(inter_channels),
            nn.ReLU(inplace=True),
        )
        self.scale = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(high_channels, inter_channels, 1, bias=False),
            nn.Sigmoid(),
        )
        self.low_classifier = nn.Conv2d(low_channels, num_classes, 1)
        self.high_classifier = nn.Conv2d(inter_channels, num_classes, 1)

    def forward(self, low: Tensor, high: Tensor) -> Tensor:
        x = self.cbr(high) * self.scale(high)
        x = resize(x, low.shape[-2:])
        return self.low_classifier(low) + self.high_classifier(x)


def mobilenetv3_backbone(arch: str) -> tuple[TapSequential, dict[str, int], dict[str, int]]:
    """Dilated MobileNetV3 features tapped the torchvision way, with channels and strides.

    Taps: "low" = C2 (``stage_indices[-4]``, stride 8), "mid" = C3 (``[-3]``, stride 16),
    "high" = C5 (``[-1]``, stride 16). Shared by LR-ASPP, DeepLabV3 and DeepLabV3+.
    """
    build = {"mobilenet_v3_large": mobilenet_v3_large, "mobilenet_v3_small": mobilenet_v3_small}
    features = build[arch](dilated=True).features
    idx = stage_indices(features)
    positions = {"low": idx[-4], "mid": idx[-3], "high": idx[-1]}
    backbone = TapSequential(*features, taps={pos: name for name, pos in positions.items()})
    channels = {name: features[pos].out_channels for name, pos in positions.items()}
    return backbone, channels, {"low": 8, "mid": 16, "high": 16}


class LRASPP(SegmentationModel):
    """Backbone taps → ``LRASPPHead`` → bilinear resize to the input."""

    def __init__(self, backbone_arch: str, num_classes: int, inter_channels: int = 128) -> None:
        super().__init__(num_classes)
        self.backbone, channels, strides = mobilenetv3_backbone(backbone_arch)
        self.classifier = LRASPPHead(channels["low"], channels["high"], num_classes, inter_channels)
        self.classifier_keys = ("classifier.low_classifier.", "classifier.high_classifier.")
        self._set_taps(channels, strides)

    def _forward(self, x: Tensor, taps: bool) -> dict[str, Tensor]:
        features = self.backbone.forward_taps(x)
        out = resize(self.classifier(features["low"], features["high"]), x.shape[-2:])
        return {**features, "out": out} if taps else {"out": out}


def _lraspp(backbone: str, num_classes: int, aux_loss: bool | None) -> LRASPP:
    if aux_loss:
        raise ModelError("LR-ASPP has no auxiliary head: leave aux_loss unset or False")
    return LRASPP(backbone, num_classes)


_LRASPP_LARGE_WEIGHTS = {
    "coco_voc": PretrainedCfg(
        url="https://download.pytorch.org/models/lraspp_mobilenet_v3_large-d234d4ea.pth",
        num_classes=21,
        classes=VOC_CLASSES,
        dataset="coco-2017 (20 VOC categories)",
        input_size=(520, 520),
    ),
}


@register_model(
    role="student",
    backbone="mobilenet_v3_large",
    description="LR-ASPP on dilated MobileNetV3-Large (Howard et al., ICCV 2019), torchvision",
    torchvision=True,
    weights=_LRASPP_LARGE_WEIGHTS,
    backbone_weights=MOBILENET_V3_LARGE_WEIGHTS,
)
def lraspp_mobilenet_v3_large(num_classes: int = 21, aux_loss: bool | None = None) -> LRASPP:
    return _lraspp("mobilenet_v3_large", num_classes, aux_loss)


@register_model(
    role="student",
    backbone="mobilenet_v3_small",
    description="LR-ASPP on dilated MobileNetV3-Small (Howard et al., ICCV 2019)",
    backbone_weights=MOBILENET_V3_SMALL_WEIGHTS,
)
def lraspp_mobilenet_v3_small(num_classes: int = 21, aux_loss: bool | None = None) -> LRASPP:
    return _lraspp("mobilenet_v3_small", num_classes, aux_loss)
