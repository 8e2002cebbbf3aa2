"""FusedSeg: an int8-first student made of dense convolutions only.

Why it exists: on a CPU without int8 dot-product instructions (AVX2 without VNNI, as on the
machine edgeseg's results come from) int8 only pays on long inner products. One thread, fp32 vs
int8 of the same op block (`benchmarks/results/xnnpack_ops.md`): a dense 3×3 conv runs 1.75×
faster in int8 under onnxruntime and 2.46× under ExecuTorch, a 64-channel 1×1 conv 0.83–1.06×, a
depthwise 3×3 0.49–0.75× — int8 is *slower* there. Depthwise-heavy students (MobileNetV3,
EfficientNet-Lite) therefore gain 1.4–1.6× from int8 here whatever is done to their graphs; this
one gains 1.6–1.8× (onnxruntime) and 2.2–2.3× (ExecuTorch), `benchmarks/results/export.md`.

So every block is a Fused-MBConv (EfficientNet-EdgeTPU, Google AI blog 2019; EfficientNetV2, Tan &
Le, ICML 2021, arXiv:2104.00298): a dense k×k expansion conv then a 1×1 projection, with a residual
when shapes allow. The stem is a 4×4 stride-4 "patchify" conv (ConvNeXt, Liu et al., CVPR 2022,
arXiv:2201.03545) instead of a 3×3 stride-2 conv on 3 channels: that one has a 27-long reduction at
the highest resolution, and its int8 kernel took 2.5× its fp32 time in a profile of a prototype.
Most compute sits at strides 8 and 16, in 3×3 convs with 576–1440-long reductions. Head:
``LiteSegHead`` (LR-ASPP without its gate). Only conv (BN folds in), ReLU, add and bilinear
resize: every op has an int8 kernel in onnxruntime, XNNPACK and TFLite.

Taps: "low" = end of the stride-8 stage (64 ch), "mid" = first stride-16 block (160 ch),
"high" = last block (160 ch, stride 16). There are no ImageNet weights: train it from scratch.
"""

from __future__ import annotations

from torch import Tensor, nn

from edgeseg.errors import ModelError
from edgeseg.models._registry import register_model
from edgeseg.models.layers import Conv2dSame, ConvBnAct
from edgeseg.models.liteseg import LiteSegBase
from edgeseg.models.mobilenetv3 import _init_weights

# (repeats, kernel, stride, hidden channels, out channels) per stage, after a 32-ch stride-4 stem.
_FUSEDSEG_S = [
    (1, 3, 1, 64, 32),  # stride 4
    (1, 3, 2, 128, 64),  # stride 8
    (2, 3, 1, 192, 64),
    (1, 3, 2, 384, 160),  # stride 16
    (4, 3, 1, 320, 160),
]


class FusedMBConv(nn.Module):
    """Dense k×k conv to ``hidden`` channels (+BN+ReLU), 1×1 projection (+BN), residual."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, hidden: int) -> None:
        super().__init__()
        self.block = nn.Sequential(
            ConvBnAct(cin, hidden, kernel, stride, act_layer=nn.ReLU),
            ConvBnAct(hidden, cout, 1, act_layer=None),
        )
        self.use_res_connect = stride == 1 and cin == cout
        self.out_channels = cout

    def forward(self, x: Tensor) -> Tensor:
        result = self.block(x)
        return result + x if self.use_res_connect else result


def fused_features(stem_channels: int = 32) -> tuple[list[nn.Module], list[int]]:
    """Stem + blocks of ``_FUSEDSEG_S``, and the index of each stage's last block."""
    # SAME padding: ceil(size / 4) outputs for any size, and no pad op when 4 divides it
    stem = ConvBnAct(3, stem_channels, 4, 4, act_layer=nn.ReLU, conv_layer=Conv2dSame)
    features: list[nn.Module] = [stem]
    ends: list[int] = []
    cin = stem_channels
    for repeats, kernel, stride, hidden, cout in _FUSEDSEG_S:
        for i in range(repeats):
            features.append(FusedMBConv(cin, cout, kernel, stride if i == 0 else 1, hidden))
            cin = cout
        ends.append(len(features) - 1)
    return features, ends


class FusedSeg(LiteSegBase):
    """Patchify stem → Fused-MBConv stages (strides 4, 8, 16) → ``LiteSegHead`` → resize."""

    def __init__(self, num_classes: int, inter_channels: int = 128) -> None:
        features, ends = fused_features()
        positions = {"low": ends[2], "mid": ends[3], "high": ends[4]}
        super().__init__(num_classes, features, positions, inter_channels)
        _init_weights(self)


@register_model(
    role="student",
    backbone="fusednet_s",
    description="Int8-first dense-conv student: Fused-MBConv stages, patchify stem (no ImageNet "
    "weights)",
    int8_friendly=True,
)
def fusedseg_s(num_classes: int = 21, aux_loss: bool | None = None) -> FusedSeg:
    if aux_loss:
        raise ModelError("fusedseg_s has no auxiliary head: leave aux_loss unset")
    return FusedSeg(num_classes)
