"""MobileNetV2 backbone (Sandler et al., CVPR 2018, "MobileNetV2: Inverted Residuals and
Linear Bottlenecks", arXiv:1801.04381).

Mirrors torchvision/models/mobilenetv2.py (torchvision 0.28): same ``features.N.conv.M`` keys,
BatchNorm defaults, ReLU6 and init, so torchvision's ImageNet checkpoint loads strictly.
``output_stride`` adds the dilation schedule of VainF's DeepLabV3Plus-Pytorch
(network/backbone/mobilenetv2.py): once the stride reaches ``output_stride`` later strides
become dilations, and the first block of such a stage keeps the previous dilation.
``MobileNetV2Backbone`` renames the layers the way VainF's ``_segm_mobilenet`` does
(``low_level_features`` = features[0:4], ``high_level_features`` = features[4:-1]).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from edgeseg.models._base import PretrainedCfg
from edgeseg.models.layers import ConvBnAct, make_divisible
from edgeseg.models.mobilenetv3 import _init_weights

# t (expansion), c (channels), n (repeats), s (stride) — the paper's Table 2.
_SETTING = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]


class InvertedResidual(nn.Module):
    """Expand 1×1 (ReLU6) → depthwise 3×3 (ReLU6) → linear 1×1 projection (+ residual)."""

    def __init__(
        self, inp: int, oup: int, stride: int, expand_ratio: int, dilation: int = 1
    ) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride should be 1 or 2 instead of {stride}")
        hidden = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(ConvBnAct(inp, hidden, 1, act_layer=nn.ReLU6))
        layers += [
            ConvBnAct(
                hidden, hidden, 3, stride, groups=hidden, dilation=dilation, act_layer=nn.ReLU6
            ),
            nn.Conv2d(hidden, oup, 1, 1, 0, bias=False),
            nn.BatchNorm2d(oup),
        ]
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup
        self._is_cn = stride > 1

    def forward(self, x: Tensor) -> Tensor:
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


class MobileNetV2(nn.Module):
    """torchvision's MobileNetV2; ``output_stride`` (8/16) dilates instead of striding."""

    def __init__(
        self,
        num_classes: int = 1000,
        width_mult: float = 1.0,
        output_stride: int | None = None,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        round_nearest = 8
        input_channel = make_divisible(32 * width_mult, round_nearest)
        self.last_channel = make_divisible(1280 * max(1.0, width_mult), round_nearest)
        features: list[nn.Module] = [ConvBnAct(3, input_channel, 3, 2, act_layer=nn.ReLU6)]
        current_stride, dilation = 2, 1
        for t, c, n, s in _SETTING:
            output_channel = make_divisible(c * width_mult, round_nearest)
            previous_dilation = dilation
            if output_stride is not None and current_stride == output_stride:
                stride, dilation = 1, dilation * s
            else:
                stride, current_stride = s, current_stride * s
            for i in range(n):
                features.append(
                    InvertedResidual(
                        input_channel,
                        output_channel,
                        stride if i == 0 else 1,
                        t,
                        previous_dilation if i == 0 else dilation,
                    )
                )
                input_channel = output_channel
        features.append(ConvBnAct(input_channel, self.last_channel, 1, act_layer=nn.ReLU6))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Linear(self.last_channel, num_classes)
        )
        _init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        x = nn.functional.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(torch.flatten(x, 1))


def mobilenet_v2(num_classes: int = 1000, **kwargs: float | int | None) -> MobileNetV2:
    """torchvision's ``mobilenet_v2`` (kwargs: width_mult, output_stride, dropout)."""
    return MobileNetV2(num_classes=num_classes, **kwargs)


class MobileNetV2Backbone(nn.Module):
    """VainF's split of MobileNetV2: stride-4 low-level features and the 320-ch trunk.

    Taps: "low" (24 ch, stride 4), "mid" (32 ch, stride 8, end of that stage) and "high"
    (320 ch, stride ``output_stride``). The 1280-ch last conv and the classifier are dropped.
    """

    def __init__(self, output_stride: int = 16) -> None:
        super().__init__()
        features = mobilenet_v2(output_stride=output_stride).features
        self.low_level_features = nn.Sequential(*features[0:4])
        self.high_level_features = nn.Sequential(*features[4:-1])
        self.channels = {"low": 24, "mid": 32, "high": 320}
        self.strides = {"low": 4, "mid": 8, "high": output_stride}

    def forward_taps(self, x: Tensor) -> dict[str, Tensor]:
        low = self.low_level_features(x)
        out = {"low": low}
        x = low
        for index, layer in enumerate(self.high_level_features):
            x = layer(x)
            if index == 2:  # features[6]: last block of the stride-8 stage
                out["mid"] = x
        out["high"] = x
        return out

    def classification_key(self, key: str) -> str | None:
        """``features.N`` → low_level_features (N < 4) / high_level_features (N − 4)."""
        if key.startswith("classifier."):
            return None
        if not key.startswith("features."):
            return key
        index, _, rest = key[len("features.") :].partition(".")
        if not index.isdigit():
            return key
        n = int(index)
        if n < len(self.low_level_features):
            return f"low_level_features.{n}.{rest}"
        n -= len(self.low_level_features)
        if n < len(self.high_level_features):
            return f"high_level_features.{n}.{rest}"
        return None  # the 1280-ch last conv


MOBILENET_V2_WEIGHTS = {
    "imagenet": PretrainedCfg(url="https://download.pytorch.org/models/mobilenet_v2-b0353104.pth"),
}
