"""Modules wrapped around a model before export so the phone app does less work.

``NormalizeInput``: the graph takes uint8 NCHW pixels and normalises them itself
(``x.float() / 255``, then ``(x - mean) / std``). ``ArgmaxMask``: the graph returns a uint8 class
mask ``[N, H, W]`` instead of float logits.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from edgeseg.converters.base import ExportSpec


class NormalizeInput(nn.Module):
    def __init__(self, model: nn.Module, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.model = model
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        # the buffers' dtype, not float32: a half-precision export normalises in fp16
        return self.model((x.to(self.mean.dtype) / 255.0 - self.mean) / self.std)


class ArgmaxMask(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x).argmax(dim=1).to(torch.uint8)


def wrap_model(
    model: nn.Module, spec: ExportSpec, mean: Sequence[float], std: Sequence[float]
) -> nn.Module:
    """The module that is actually exported for ``spec`` (eval mode)."""
    if spec.input_dtype == "uint8":
        model = NormalizeInput(model, mean, std)
    if spec.output == "mask":
        model = ArgmaxMask(model)
    return model.eval()


def example_input(spec: ExportSpec) -> Tensor:
    """A batch-1 input of the exported graph's dtype and shape."""
    height, width = spec.size
    if spec.input_dtype == "uint8":
        return torch.full((1, 3, height, width), 128, dtype=torch.uint8)
    return torch.zeros(1, 3, height, width)
