"""DeepLabV3 (Chen et al., 2017, "Rethinking Atrous Convolution for Semantic Image
Segmentation", arXiv:1706.05587) and DeepLabV3+ (Chen et al., ECCV 2018, "Encoder-Decoder with
Atrous Separable Convolution for Semantic Image Segmentation", arXiv:1802.02611).

DeepLabV3 mirrors torchvision/models/segmentation/deeplabv3.py (torchvision 0.28):
``DeepLabHead`` = ASPP(rates 12/24/36, dropout 0.5) → 3×3 conv-BN-ReLU → 1×1; ResNet-50 dilated
``[False, True, True]`` (aux head on layer3) or dilated MobileNetV3-Large (head on
``stage_indices[-1]``, aux on ``stage_indices[-4]``); keys equal torchvision's.

DeepLabV3+ students (no torchvision counterpart):
* ``deeplabv3plus_mobilenet_v2`` follows VainF/DeepLabV3Plus-Pytorch (network/_deeplab.py,
  modeling.py) for output stride 16: low = features[0:4] (24 ch, stride 4) → 1×1 to 48 ch;
  ASPP(6/12/18 + pooling, dropout 0.1) on the 320-ch trunk; concat (304 ch) → one 3×3 conv →
  1×1. Keys equal VainF's, so its checkpoints load (``{"model_state": …}`` is unwrapped), but
  VainF pads its MobileNetV2 unusually (the stem conv unpadded, each block's input padded
  before the 1×1 expand); edgeseg keeps torchvision's padding, which the ImageNet weights were
  trained with, so VainF checkpoints are not bit-exact here.
* ``deeplabv3plus_mobilenet_v3_small`` (Queen's-lab student): dilated MobileNetV3-Small
  (output stride 16) with taps low/mid/high = 24/40/576 channels. The spec gave their strides as
  4/8/16, but in torchvision's MobileNetV3-Small the 24-ch stage is at stride 8 and the 40-ch
  stage at stride 16; edgeseg keeps the channels and declares the real strides 8/16/16.
  ASPP(6/12/18 + 1×1 + pooling → 256, dropout 0.5), low → 48 ch, concat 304 → two 3×3 convs
  (256) → 1×1, bilinear up to the input.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from edgeseg.errors import ModelError
from edgeseg.models._base import (
    VOC_CLASSES,
    PretrainedCfg,
    SegmentationModel,
    SimpleSegmentationModel,
)
from edgeseg.models._registry import register_model
from edgeseg.models.fcn import FCNHead, resnet50_segmentation
from edgeseg.models.layers import ASPP, resize
from edgeseg.models.lraspp import mobilenetv3_backbone
from edgeseg.models.mobilenetv2 import MOBILENET_V2_WEIGHTS, MobileNetV2Backbone
from edgeseg.models.mobilenetv3 import MOBILENET_V3_LARGE_WEIGHTS, MOBILENET_V3_SMALL_WEIGHTS
from edgeseg.models.resnet import RESNET50_WEIGHTS


class DeepLabV3(SimpleSegmentationModel):
    """DeepLabV3: ``DeepLabHead`` on the last backbone features, optional FCN aux head."""


class DeepLabHead(nn.Sequential):
    """ASPP(12/24/36) → 3×3 conv-BN-ReLU (256) → 1×1 classifier, as in torchvision."""

    def __init__(self, in_channels: int, num_classes: int) -> None:
        super().__init__(
            ASPP(in_channels, [12, 24, 36]),
            nn.Conv2d(256, 256, 3, padding=1, bias=False),
            nn.BatchNorm2d(256),
            nn.ReLU(),
            nn.Conv2d(256, num_classes, 1),
        )


class DeepLabV3PlusHead(nn.Module):
    """Decoder of DeepLabV3+: ASPP on ``high``, resized to ``low`` (projected to 48 ch),
    concatenated, refined by ``decoder_convs`` 3×3 conv-BN-ReLU (256) and classified."""

    def __init__(
        self,
        in_channels: int,
        low_channels: int,
        num_classes: int,
        atrous_rates: Sequence[int] = (6, 12, 18),
        aspp_dropout: float = 0.5,
        decoder_convs: int = 2,
    ) -> None:
        super().__init__()
        self.project = nn.Sequential(
            nn.Conv2d(low_channels, 48, 1, bias=False), nn.BatchNorm2d(48), nn.ReLU(inplace=True)
        )
        self.aspp = ASPP(in_channels, atrous_rates, 256, aspp_dropout)
        layers: list[nn.Module] = []
        channels = 48 + 256
        for _ in range(decoder_convs):
            layers += [
                nn.Conv2d(channels, 256, 3, padding=1, bias=False),
                nn.BatchNorm2d(256),
                nn.ReLU(inplace=True),
            ]
            channels = 256
        layers.append(nn.Conv2d(256, num_classes, 1))
        self.classifier = nn.Sequential(*layers)
        for m in self.modules():  # VainF's _init_weight
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def forward(self, low: Tensor, high: Tensor) -> Tensor:
        low = self.project(low)
        x = resize(self.aspp(high), low.shape[-2:])
        return self.classifier(torch.cat([low, x], dim=1))


class DeepLabV3Plus(SegmentationModel):
    """Backbone taps → ``DeepLabV3PlusHead`` → bilinear resize to the input."""

    def __init__(
        self,
        backbone: nn.Module,
        head: DeepLabV3PlusHead,
        num_classes: int,
        channels: dict[str, int],
        strides: dict[str, int],
    ) -> None:
        super().__init__(num_classes)
        self.backbone = backbone
        self.classifier = head
        self.classifier_keys = (f"classifier.classifier.{len(head.classifier) - 1}.",)
        self._set_taps(channels, strides)

    def _forward(self, x: Tensor, taps: bool) -> dict[str, Tensor]:
        features = self.backbone.forward_taps(x)
        out = resize(self.classifier(features["low"], features["high"]), x.shape[-2:])
        return {**features, "out": out} if taps else {"out": out}


def _no_aux(aux_loss: bool | None, name: str) -> None:
    if aux_loss:
        raise ModelError(f"{name} has no auxiliary head: leave aux_loss unset or False")


def _coco_voc(url: str) -> dict[str, PretrainedCfg]:
    cfg = PretrainedCfg(
        url=url,
        num_classes=21,
        classes=VOC_CLASSES,
        dataset="coco-2017 (20 VOC categories)",
        input_size=(520, 520),
    )
    return {"coco_voc": cfg}


_MODELS = "https://download.pytorch.org/models/"


@register_model(
    role="teacher",
    backbone="resnet50",
    description="DeepLabV3 on dilated ResNet-50, output stride 8 (Chen et al., 2017), torchvision",
    torchvision=True,
    weights=_coco_voc(_MODELS + "deeplabv3_resnet50_coco-cd0a2569.pth"),
    backbone_weights=RESNET50_WEIGHTS,
)
def deeplabv3_resnet50(num_classes: int = 21, aux_loss: bool | None = None) -> DeepLabV3:
    head = DeepLabHead(2048, num_classes)
    return resnet50_segmentation(DeepLabV3, head, num_classes, aux_loss)


@register_model(
    role="teacher",
    backbone="mobilenet_v3_large",
    description="DeepLabV3 on dilated MobileNetV3-Large (Chen et al., 2017), torchvision",
    torchvision=True,
    weights=_coco_voc(_MODELS + "deeplabv3_mobilenet_v3_large-fc3c493d.pth"),
    backbone_weights=MOBILENET_V3_LARGE_WEIGHTS,
)
def deeplabv3_mobilenet_v3_large(num_classes: int = 21, aux_loss: bool | None = None) -> DeepLabV3:
    backbone, channels, strides = mobilenetv3_backbone("mobilenet_v3_large")
    aux = FCNHead(channels["low"], num_classes) if aux_loss is None or aux_loss else None
    head = DeepLabHead(channels["high"], num_classes)
    return DeepLabV3(
        backbone,
        head,
        aux,
        num_classes=num_classes,
        aux_tap="low",
        channels=channels,
        strides=strides,
    )


@register_model(
    role="student",
    backbone="mobilenet_v3_small",
    description="DeepLabV3+ on dilated MobileNetV3-Small, OS16 (Chen et al., ECCV 2018)",
    backbone_weights=MOBILENET_V3_SMALL_WEIGHTS,
)
def deeplabv3plus_mobilenet_v3_small(
    num_classes: int = 21, aux_loss: bool | None = None
) -> DeepLabV3Plus:
    _no_aux(aux_loss, "deeplabv3plus_mobilenet_v3_small")
    backbone, channels, strides = mobilenetv3_backbone("mobilenet_v3_small")
    head = DeepLabV3PlusHead(channels["high"], channels["low"], num_classes)
    return DeepLabV3Plus(backbone, head, num_classes, channels, strides)


@register_model(
    role="student",
    backbone="mobilenet_v2",
    description="DeepLabV3+ on MobileNetV2, OS16, VainF layout (Chen et al., ECCV 2018)",
    backbone_weights=MOBILENET_V2_WEIGHTS,
)
def deeplabv3plus_mobilenet_v2(
    num_classes: int = 21, aux_loss: bool | None = None
) -> DeepLabV3Plus:
    _no_aux(aux_loss, "deeplabv3plus_mobilenet_v2")
    backbone = MobileNetV2Backbone(output_stride=16)
    head = DeepLabV3PlusHead(320, 24, num_classes, (6, 12, 18), aspp_dropout=0.1, decoder_convs=1)
    return DeepLabV3Plus(backbone, head, num_classes, backbone.channels, backbone.strides)
