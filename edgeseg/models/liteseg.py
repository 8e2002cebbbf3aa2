"""LiteSeg: an int8-friendly LR-ASPP-style student on EfficientNet-Lite0.

Head after LR-ASPP (Howard et al., ICCV 2019, "Searching for MobileNetV3", arXiv:1905.02244)
minus its pooled sigmoid gate; backbone EfficientNet-Lite0 (Tan & Le, ICML 2019,
arXiv:1905.11946, Lite variant) made output-stride 16 by dilating its last stride-2 stage.
Every op — conv (BN folds into it), ReLU/ReLU6, add, constant pad, bilinear resize — has an int8
kernel in XNNPACK and TFLite; there is no hard-swish, hard-/sigmoid or global pooling, which
either lack int8 kernels on some delegates or force requantisation round trips.

Taps: "low" = end of the stride-8 stage (40 ch), "mid" = end of the 112-ch stage (stride 16),
"high" = last MBConv block (320 ch, stride 16). The 1280-ch head conv of the classification net
is dropped: at output stride 16 it would cost about as much as the rest of the head for little
gain in segmentation.
"""

from __future__ import annotations

from torch import Tensor, nn

from edgeseg.errors import ModelError
from edgeseg.models._base import SegmentationModel
from edgeseg.models._registry import register_model
from edgeseg.models.efficientnet_lite import (
    EFFICIENTNET_LITE0_WEIGHTS,
    convert_lukemelas,
    efficientnet_lite0,
    is_lukemelas,
)
from edgeseg.models.layers import TapSequential, resize


class LiteSegHead(nn.Module):
    """1×1 conv-BN-ReLU on ``high``, resized to ``low``; ``low`` and ``high`` classified, summed."""

    def __init__(
        self, low_channels: int, high_channels: int, num_classes: int, inter_channels: int = 128
    ) -> None:
        super().__init__()
        self.cbr = nn.Sequential(
            nn.Conv2d(high_channels, inter_channels, 1, bias=False),
            nn.BatchNorm2d(inter_channels),
            nn.ReLU(inplace=True),
        )
        self.low_classifier = nn.Conv2d(low_channels, num_classes, 1)
        self.high_classifier = nn.Conv2d(inter_channels, num_classes, 1)

    def forward(self, low: Tensor, high: Tensor) -> Tensor:
        x = resize(self.cbr(high), low.shape[-2:])
        return self.low_classifier(low) + self.high_classifier(x)


class LiteSegBase(SegmentationModel):
    """``features`` tapped at ``positions`` (low: stride 8, mid and high: stride 16) →
    ``LiteSegHead`` on low + high → bilinear resize to the input; every LiteSeg-headed student."""

    def __init__(
        self,
        num_classes: int,
        features: list[nn.Module],
        positions: dict[str, int],
        inter_channels: int = 128,
    ) -> None:
        super().__init__(num_classes)
        self.backbone = TapSequential(*features, taps={p: n for n, p in positions.items()})
        channels = {name: features[pos].out_channels for name, pos in positions.items()}
        self.classifier = LiteSegHead(
            channels["low"], channels["high"], num_classes, inter_channels
        )
        self.classifier_keys = ("classifier.low_classifier.", "classifier.high_classifier.")
        self._set_taps(channels, {"low": 8, "mid": 16, "high": 16})

    def _forward(self, x: Tensor, taps: bool) -> dict[str, Tensor]:
        features = self.backbone.forward_taps(x)
        out = resize(self.classifier(features["low"], features["high"]), x.shape[-2:])
        return {**features, "out": out} if taps else {"out": out}


class LiteSeg(LiteSegBase):
    """Dilated EfficientNet-Lite0 taps → ``LiteSegHead`` → bilinear resize to the input."""

    def __init__(self, num_classes: int, inter_channels: int = 128) -> None:
        net = efficientnet_lite0(dilated=True)
        ends = net.stage_ends  # features index of each stage's last block
        positions = {"low": ends[2], "mid": ends[4], "high": ends[6]}
        features = list(net.features)[: ends[-1] + 1]  # drop the 1280-ch head conv
        super().__init__(num_classes, features, positions, inter_channels)

    def adapt_backbone_state_dict(self, state_dict: dict[str, Tensor]) -> dict[str, Tensor]:
        """Accept lukemelas-layout checkpoints (the packaged ImageNet weights) as well."""
        return convert_lukemelas(state_dict) if is_lukemelas(state_dict) else state_dict


@register_model(
    role="student",
    backbone="efficientnet_lite0",
    description="Int8-friendly LR-ASPP-style head (no gate) on EfficientNet-Lite0 (Tan & Le, 2019)",
    int8_friendly=True,
    backbone_weights=EFFICIENTNET_LITE0_WEIGHTS,
)
def liteseg_efficientnet_lite0(num_classes: int = 21, aux_loss: bool | None = None) -> LiteSeg:
    if aux_loss:
        raise ModelError("liteseg_efficientnet_lite0 has no auxiliary head: leave aux_loss unset")
    return LiteSeg(num_classes)
