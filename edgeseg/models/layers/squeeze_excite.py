"""Squeeze-and-Excitation (Hu et al., CVPR 2018, "Squeeze-and-Excitation Networks").

Mirrors ``torchvision.ops.misc.SqueezeExcitation`` (children ``avgpool``, ``fc1``,
``activation``, ``fc2``, ``scale_activation``) so MobileNetV3 checkpoints keep their
``block.N.fc1.weight`` keys; MobileNetV3 passes ``scale_activation=nn.Hardsigmoid``.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor, nn


class SqueezeExcitation(nn.Module):
    """Channel gate: global average → 1×1 conv → act → 1×1 conv → gate, multiplied in."""

    def __init__(
        self,
        input_channels: int,
        squeeze_channels: int,
        activation: Callable[..., nn.Module] = nn.ReLU,
        scale_activation: Callable[..., nn.Module] = nn.Sigmoid,
    ) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def forward(self, x: Tensor) -> Tensor:
        scale = self.avgpool(x)
        scale = self.fc1(scale)
        scale = self.activation(scale)
        scale = self.fc2(scale)
        return self.scale_activation(scale) * x
