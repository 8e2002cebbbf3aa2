"""ResNet-50 backbone (He et al., CVPR 2016, "Deep Residual Learning for Image Recognition",
arXiv:1512.03385), torchvision's "V1.5" variant with the stride on the 3×3 conv.

Mirrors torchvision/models/resnet.py (torchvision 0.28): keys ``conv1``, ``bn1``,
``layerN.M.{conv,bn}K``, ``layerN.0.downsample.{0,1}``, ``fc``; Kaiming fan-out init.
``replace_stride_with_dilation=[False, True, True]`` (what torchvision's FCN and DeepLabV3 use)
turns the strides of layer3/layer4 into dilations 2/4, and, exactly as torchvision, the first
block of a dilated layer still uses the previous dilation.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from edgeseg.models._base import PretrainedCfg


class Bottleneck(nn.Module):
    """1×1 reduce → 3×3 (strided / dilated) → 1×1 expand (×4), plus the shortcut."""

    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        dilation: int = 1,
    ) -> None:
        super().__init__()
        width = planes
        self.conv1 = nn.Conv2d(inplanes, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(
            width, width, 3, stride, padding=dilation, dilation=dilation, bias=False
        )
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """Stem (7×7/2 conv, 3×3/2 max-pool) → four Bottleneck layers → pooled linear classifier.

    ``include_top=False`` leaves out ``avgpool``/``fc`` (what torchvision's
    ``IntermediateLayerGetter`` keeps for segmentation) and adds ``forward_taps``.
    """

    def __init__(
        self,
        layers: list[int],
        num_classes: int = 1000,
        replace_stride_with_dilation: list[bool] | None = None,
        include_top: bool = True,
    ) -> None:
        super().__init__()
        dilate = replace_stride_with_dilation or [False, False, False]
        if len(dilate) != 3:
            raise ValueError("replace_stride_with_dilation should be None or a 3-element list")
        self.inplanes, self.dilation = 64, 1
        self.conv1 = nn.Conv2d(3, 64, 7, 2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(64, layers[0])
        self.layer2 = self._make_layer(128, layers[1], 2, dilate[0])
        self.layer3 = self._make_layer(256, layers[2], 2, dilate[1])
        self.layer4 = self._make_layer(512, layers[3], 2, dilate[2])
        if include_top:
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(512 * Bottleneck.expansion, num_classes)
        self.include_top = include_top
        stride, self.strides = 4, {"layer1": 4}
        for name, dilated in zip(("layer2", "layer3", "layer4"), dilate):
            stride = stride if dilated else stride * 2
            self.strides[name] = stride
        self._init_weights()

    def _make_layer(
        self, planes: int, blocks: int, stride: int = 1, dilate: bool = False
    ) -> nn.Sequential:
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        downsample = None
        if stride != 1 or self.inplanes != planes * Bottleneck.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * Bottleneck.expansion, 1, stride, bias=False),
                nn.BatchNorm2d(planes * Bottleneck.expansion),
            )
        layers = [Bottleneck(self.inplanes, planes, stride, downsample, previous_dilation)]
        self.inplanes = planes * Bottleneck.expansion
        layers += [
            Bottleneck(self.inplanes, planes, dilation=self.dilation) for _ in range(1, blocks)
        ]
        return nn.Sequential(*layers)

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def forward_taps(self, x: Tensor) -> dict[str, Tensor]:
        """layer1 ("low"), layer2 ("mid"), layer3 (the aux head's input) and layer4 ("high")."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        low = self.layer1(x)
        mid = self.layer2(low)
        c4 = self.layer3(mid)
        return {"low": low, "mid": mid, "layer3": c4, "high": self.layer4(c4)}

    def forward(self, x: Tensor) -> Tensor:
        if not self.include_top:
            raise RuntimeError("ResNet built with include_top=False: use forward_taps")
        x = self.avgpool(self.forward_taps(x)["high"])
        return self.fc(torch.flatten(x, 1))

    def classification_key(self, key: str) -> str | None:
        """Classification keys are this module's; ``fc`` is dropped without a top."""
        if key.startswith("fc.") and not self.include_top:
            return None
        return key


def resnet50(
    num_classes: int = 1000,
    replace_stride_with_dilation: list[bool] | None = None,
    include_top: bool = True,
) -> ResNet:
    """torchvision's ``resnet50``: Bottleneck blocks [3, 4, 6, 3]."""
    return ResNet([3, 4, 6, 3], num_classes, replace_stride_with_dilation, include_top)


RESNET50_WEIGHTS = {
    "imagenet": PretrainedCfg(url="https://download.pytorch.org/models/resnet50-0676ba61.pth"),
}
