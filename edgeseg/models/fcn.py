"""FCN (Long, Shelhamer & Darrell, CVPR 2015, "Fully Convolutional Networks for Semantic
Segmentation", arXiv:1411.4038) on a dilated ResNet-50, the torchvision way.

Mirrors torchvision/models/segmentation/fcn.py (torchvision 0.28): ``FCNHead`` is
3×3 conv (``in // 4``) → BN → ReLU → Dropout(0.1) → 1×1 classifier; the backbone is ResNet-50
with ``replace_stride_with_dilation=[False, True, True]`` (output stride 8); the main head reads
layer4, the auxiliary head layer3. ``aux_loss=None`` builds the aux head, as in torchvision's
checkpoint, so the real weights load with ``strict=True``.
"""

from __future__ import annotations

from typing import TypeVar

from torch import nn

from edgeseg.models._base import VOC_CLASSES, PretrainedCfg, SimpleSegmentationModel
from edgeseg.models._registry import register_model
from edgeseg.models.resnet import RESNET50_WEIGHTS, resnet50

ModelT = TypeVar("ModelT", bound=SimpleSegmentationModel)


class FCN(SimpleSegmentationModel):
    """Fully convolutional network: ``FCNHead`` on the last backbone features."""


class FCNHead(nn.Sequential):
    """3×3 conv to a quarter of the channels → BN → ReLU → Dropout(0.1) → 1×1 classifier."""

    def __init__(self, in_channels: int, channels: int) -> None:
        inter_channels = in_channels // 4
        super().__init__(
            nn.Conv2d(in_channels, inter_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(inter_channels),
            nn.ReLU(),
            nn.Dropout(0.1),
            nn.Conv2d(inter_channels, channels, 1),
        )


def resnet50_segmentation(
    cls: type[ModelT], classifier: nn.Sequential, num_classes: int, aux_loss: bool | None
) -> ModelT:
    """torchvision's ``_fcn_resnet`` / ``_deeplabv3_resnet``: dilated ResNet-50 + heads.

    Unlike torchvision's builders (no aux head when ``aux_loss`` is None and no weights are
    given), ``aux_loss=None`` builds it: the model then always has the layout of torchvision's
    checkpoints, whichever way its weights arrive later.
    """
    backbone = resnet50(replace_stride_with_dilation=[False, True, True], include_top=False)
    aux = FCNHead(1024, num_classes) if aux_loss is None or aux_loss else None
    s = backbone.strides
    return cls(
        backbone,
        classifier,
        aux,
        num_classes=num_classes,
        aux_tap="layer3",
        channels={"low": 256, "mid": 512, "high": 2048},
        strides={"low": s["layer1"], "mid": s["layer2"], "high": s["layer4"]},
    )


_FCN_RESNET50_WEIGHTS = {
    "coco_voc": PretrainedCfg(
        url="https://download.pytorch.org/models/fcn_resnet50_coco-1167a1af.pth",
        num_classes=21,
        classes=VOC_CLASSES,
        dataset="coco-2017 (20 VOC categories)",
        input_size=(520, 520),
    ),
}


@register_model(
    role="teacher",
    backbone="resnet50",
    description="FCN on dilated ResNet-50, output stride 8 (Long et al., CVPR 2015), torchvision",
    torchvision=True,
    weights=_FCN_RESNET50_WEIGHTS,
    backbone_weights=RESNET50_WEIGHTS,
)
def fcn_resnet50(num_classes: int = 21, aux_loss: bool | None = None) -> FCN:
    return resnet50_segmentation(FCN, FCNHead(2048, num_classes), num_classes, aux_loss)
