"""Conv → BatchNorm → activation blocks laid out like torchvision's ``Conv2dNormActivation``.

The block is an ``nn.Sequential`` whose children are ``0`` (conv), ``1`` (norm) and ``2``
(activation), so its state_dict keys are exactly torchvision's and real checkpoints load with
``strict=True``. ``Conv2dSame`` adds TensorFlow "SAME" padding for weights ported from TF.
"""

from __future__ import annotations

from collections.abc import Callable

import torch.nn.functional as F
from torch import Tensor, nn


class ConvBnAct(nn.Sequential):
    """Conv2d, optional norm, optional activation; padding keeps the size for stride 1.

    Mirrors ``torchvision.ops.misc.Conv2dNormActivation``: ``padding = (k - 1) // 2 * dilation``,
    the conv has a bias only when there is no norm layer, and the activation is built with
    ``inplace=True`` unless ``inplace`` is ``None``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int | None = None,
        groups: int = 1,
        norm_layer: Callable[..., nn.Module] | None = nn.BatchNorm2d,
        act_layer: Callable[..., nn.Module] | None = nn.ReLU,
        dilation: int = 1,
        inplace: bool | None = True,
        bias: bool | None = None,
        conv_layer: Callable[..., nn.Module] = nn.Conv2d,
    ) -> None:
        if padding is None:
            padding = (kernel_size - 1) // 2 * dilation
        if bias is None:
            bias = norm_layer is None
        layers: list[nn.Module] = [
            conv_layer(
                in_channels,
                out_channels,
                kernel_size,
                stride,
                padding,
                dilation=dilation,
                groups=groups,
                bias=bias,
            )
        ]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if act_layer is not None:
            layers.append(act_layer() if inplace is None else act_layer(inplace=inplace))
        super().__init__(*layers)
        self.out_channels = out_channels


def same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TensorFlow 'SAME' padding (before, after) for one spatial dimension.

    TF pads so that ``out = ceil(size / stride)`` and puts the odd pixel at the end; PyTorch's
    symmetric padding samples a one-pixel-shifted grid at stride 2, which costs accuracy with
    TF-trained weights.
    """
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


class Conv2dSame(nn.Conv2d):
    """``nn.Conv2d`` with TensorFlow 'SAME' padding computed from the (static) input size.

    The state_dict is the plain conv's (``weight`` / ``bias``). The pad is an explicit
    ``constant_pad_nd`` in exported graphs, which every int8 backend (XNNPACK, TFLite) supports
    and usually folds into the convolution.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        dilation: int = 1,
        groups: int = 1,
        bias: bool = True,
    ) -> None:
        del padding  # computed per input size in forward
        super().__init__(in_channels, out_channels, kernel_size, stride, 0, dilation, groups, bias)

    def forward(self, x: Tensor) -> Tensor:
        top, bottom = same_padding(
            x.shape[-2], self.kernel_size[0], self.stride[0], self.dilation[0]
        )
        left, right = same_padding(
            x.shape[-1], self.kernel_size[1], self.stride[1], self.dilation[1]
        )
        if top or bottom or left or right:
            x = F.pad(x, [left, right, top, bottom])
        return super().forward(x)
