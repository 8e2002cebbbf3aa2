"""MobileNetV3 backbone (Howard et al., ICCV 2019, "Searching for MobileNetV3",
arXiv:1905.02244).

Mirrors torchvision/models/mobilenetv3.py (torchvision 0.28) line for line where it matters:
BatchNorm ``eps=0.001, momentum=0.01``; SE squeeze = ``make_divisible(expanded // 4, 8)`` with
a hard-sigmoid gate; ``dilated=True`` dilates the last stage (C4) by 2 and, in each of its
blocks, uses ``stride = 1 if dilation > 1 else stride`` while ``_is_cn = cnf.stride > 1`` still
marks the stage start. Keys (``features.N.block.M.…``, ``classifier.{0,3}``) equal torchvision's,
so its ImageNet checkpoints load strictly. This is a classification net; the segmentation
families take its ``features``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import torch
from torch import Tensor, nn

from edgeseg.models._base import PretrainedCfg
from edgeseg.models.layers import ConvBnAct, SqueezeExcitation, make_divisible


@dataclass(frozen=True)
class InvertedResidualConfig:
    """One bottleneck row of the paper's tables (channels before width scaling)."""

    input_channels: int
    kernel: int
    expanded_channels: int
    out_channels: int
    use_se: bool
    activation: str  # "RE" (ReLU) or "HS" (hard-swish)
    stride: int
    dilation: int
    width_mult: float = 1.0

    def scaled(self, channels: int) -> int:
        return make_divisible(channels * self.width_mult, 8)


class InvertedResidual(nn.Module):
    """Expand 1×1 → depthwise k×k (dilated, maybe strided) → SE → project 1×1 (+ residual)."""

    def __init__(self, cnf: InvertedResidualConfig, norm_layer: partial[nn.BatchNorm2d]) -> None:
        super().__init__()
        if not 1 <= cnf.stride <= 2:
            raise ValueError("illegal stride value")
        cin = cnf.scaled(cnf.input_channels)
        cexp = cnf.scaled(cnf.expanded_channels)
        cout = cnf.scaled(cnf.out_channels)
        self.use_res_connect = cnf.stride == 1 and cin == cout
        act = nn.Hardswish if cnf.activation == "HS" else nn.ReLU
        layers: list[nn.Module] = []
        if cexp != cin:
            layers.append(ConvBnAct(cin, cexp, 1, norm_layer=norm_layer, act_layer=act))
        stride = 1 if cnf.dilation > 1 else cnf.stride
        layers.append(
            ConvBnAct(
                cexp,
                cexp,
                cnf.kernel,
                stride,
                groups=cexp,
                dilation=cnf.dilation,
                norm_layer=norm_layer,
                act_layer=act,
            )
        )
        if cnf.use_se:
            squeeze = make_divisible(cexp // 4, 8)
            layers.append(SqueezeExcitation(cexp, squeeze, scale_activation=nn.Hardsigmoid))
        layers.append(ConvBnAct(cexp, cout, 1, norm_layer=norm_layer, act_layer=None))
        self.block = nn.Sequential(*layers)
        self.out_channels = cout
        self._is_cn = cnf.stride > 1

    def forward(self, x: Tensor) -> Tensor:
        result = self.block(x)
        if self.use_res_connect:
            result = result + x
        return result


def _conf(
    arch: str, width_mult: float = 1.0, reduced_tail: bool = False, dilated: bool = False
) -> tuple[list[InvertedResidualConfig], int]:
    """The block table of torchvision's ``_mobilenet_v3_conf`` and the classifier width."""
    rd = 2 if reduced_tail else 1
    d = 2 if dilated else 1
    c = partial(InvertedResidualConfig, width_mult=width_mult)
    if arch == "mobilenet_v3_large":
        rows = [
            c(16, 3, 16, 16, False, "RE", 1, 1),
            c(16, 3, 64, 24, False, "RE", 2, 1),  # C1
            c(24, 3, 72, 24, False, "RE", 1, 1),
            c(24, 5, 72, 40, True, "RE", 2, 1),  # C2
            c(40, 5, 120, 40, True, "RE", 1, 1),
            c(40, 5, 120, 40, True, "RE", 1, 1),
            c(40, 3, 240, 80, False, "HS", 2, 1),  # C3
            c(80, 3, 200, 80, False, "HS", 1, 1),
            c(80, 3, 184, 80, False, "HS", 1, 1),
            c(80, 3, 184, 80, False, "HS", 1, 1),
            c(80, 3, 480, 112, True, "HS", 1, 1),
            c(112, 3, 672, 112, True, "HS", 1, 1),
            c(112, 5, 672, 160 // rd, True, "HS", 2, d),  # C4
            c(160 // rd, 5, 960 // rd, 160 // rd, True, "HS", 1, d),
            c(160 // rd, 5, 960 // rd, 160 // rd, True, "HS", 1, d),
        ]
        last_channel = make_divisible(1280 // rd * width_mult, 8)  # C5
    elif arch == "mobilenet_v3_small":
        rows = [
            c(16, 3, 16, 16, True, "RE", 2, 1),  # C1
            c(16, 3, 72, 24, False, "RE", 2, 1),  # C2
            c(24, 3, 88, 24, False, "RE", 1, 1),
            c(24, 5, 96, 40, True, "HS", 2, 1),  # C3
            c(40, 5, 240, 40, True, "HS", 1, 1),
            c(40, 5, 240, 40, True, "HS", 1, 1),
            c(40, 5, 120, 48, True, "HS", 1, 1),
            c(48, 5, 144, 48, True, "HS", 1, 1),
            c(48, 5, 288, 96 // rd, True, "HS", 2, d),  # C4
            c(96 // rd, 5, 576 // rd, 96 // rd, True, "HS", 1, d),
            c(96 // rd, 5, 576 // rd, 96 // rd, True, "HS", 1, d),
        ]
        last_channel = make_divisible(1024 // rd * width_mult, 8)  # C5
    else:
        raise ValueError(f"Unsupported MobileNetV3 arch {arch}")
    return rows, last_channel


class MobileNetV3(nn.Module):
    """Stem → inverted residuals → 1×1 conv (6× last width) → pooled MLP classifier."""

    def __init__(
        self,
        setting: list[InvertedResidualConfig],
        last_channel: int,
        num_classes: int = 1000,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        norm_layer = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
        first = setting[0].scaled(setting[0].input_channels)
        layers: list[nn.Module] = [
            ConvBnAct(3, first, 3, 2, norm_layer=norm_layer, act_layer=nn.Hardswish)
        ]
        layers += [InvertedResidual(cnf, norm_layer) for cnf in setting]
        last_in = setting[-1].scaled(setting[-1].out_channels)
        last_out = 6 * last_in
        layers.append(
            ConvBnAct(last_in, last_out, 1, norm_layer=norm_layer, act_layer=nn.Hardswish)
        )
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(last_out, last_channel),
            nn.Hardswish(inplace=True),
            nn.Dropout(p=dropout, inplace=True),
            nn.Linear(last_channel, num_classes),
        )
        _init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


def _init_weights(model: nn.Module) -> None:
    """torchvision's MobileNet init: Kaiming fan-out convs, unit BN, N(0, 0.01) linears."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)


def mobilenet_v3_large(num_classes: int = 1000, **kwargs: bool | float) -> MobileNetV3:
    """torchvision's ``mobilenet_v3_large`` (kwargs: width_mult, reduced_tail, dilated)."""
    return MobileNetV3(*_conf("mobilenet_v3_large", **kwargs), num_classes=num_classes)


def mobilenet_v3_small(num_classes: int = 1000, **kwargs: bool | float) -> MobileNetV3:
    """torchvision's ``mobilenet_v3_small`` (kwargs: width_mult, reduced_tail, dilated)."""
    return MobileNetV3(*_conf("mobilenet_v3_small", **kwargs), num_classes=num_classes)


def stage_indices(features: nn.Sequential) -> list[int]:
    """Indices of C0 (stem), the strided blocks C1…C4, and the last layer C5.

    torchvision's segmentation builders pick their taps from this list (low = ``[-4]``, the
    first stride-8 block; high = ``[-1]``), so edgeseg does too.
    """
    strided = [i for i, b in enumerate(features) if getattr(b, "_is_cn", False)]
    return [0, *strided, len(features) - 1]


MOBILENET_V3_LARGE_WEIGHTS = {
    "imagenet": PretrainedCfg(
        url="https://download.pytorch.org/models/mobilenet_v3_large-8738ca79.pth"
    ),
}
MOBILENET_V3_SMALL_WEIGHTS = {
    "imagenet": PretrainedCfg(
        url="https://download.pytorch.org/models/mobilenet_v3_small-047dcff4.pth"
    ),
}
