"""Atrous Spatial Pyramid Pooling (Chen et al., 2017, "Rethinking Atrous Convolution for
Semantic Image Segmentation", arXiv:1706.05587).

Mirrors ``ASPP``, ``ASPPConv`` and ``ASPPPooling`` of torchvision/models/segmentation/
deeplabv3.py, keys included (``convs.N.*``, ``project.*``). VainF's DeepLabV3+ uses the same
layout with ``Dropout(0.1)``, hence the ``dropout`` argument.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from edgeseg.models.layers.helpers import resize


class ASPPConv(nn.Sequential):
    """3×3 atrous conv → BN → ReLU; ``padding = dilation`` keeps the size."""

    def __init__(self, in_channels: int, out_channels: int, dilation: int) -> None:
        super().__init__(
            nn.Conv2d(
                in_channels, out_channels, 3, padding=dilation, dilation=dilation, bias=False
            ),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )


class ASPPPooling(nn.Sequential):
    """Image-level branch: global average → 1×1 conv → BN → ReLU, broadcast back by resize."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )

    def forward(self, x: Tensor) -> Tensor:
        size = x.shape[-2:]
        for module in self:
            x = module(x)
        return resize(x, size)


class ASPP(nn.Module):
    """1×1 branch + one atrous branch per rate + image pooling, concatenated and projected."""

    def __init__(
        self,
        in_channels: int,
        atrous_rates: Sequence[int],
        out_channels: int = 256,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        modules: list[nn.Module] = [
            nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, bias=False),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(),
            )
        ]
        modules += [ASPPConv(in_channels, out_channels, rate) for rate in atrous_rates]
        modules.append(ASPPPooling(in_channels, out_channels))
        self.convs = nn.ModuleList(modules)
        self.project = nn.Sequential(
            nn.Conv2d(len(self.convs) * out_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.Dropout(dropout),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.project(torch.cat([conv(x) for conv in self.convs], dim=1))
