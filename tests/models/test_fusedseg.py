"""FusedSeg keeps the properties it exists for: dense convs only, no pad op at usual sizes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from edgeseg.models import create_model


@pytest.fixture(scope="module")
def model() -> nn.Module:
    return create_model("fusedseg_s", num_classes=11).eval()


def test_every_conv_is_dense(model) -> None:
    """A depthwise conv is slower in int8 than in fp32 on AVX2 without VNNI: none allowed."""
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 22
    assert all(conv.groups == 1 for conv in convs)
    assert model.backbone[0][0].stride == (4, 4)


def _ops(model: nn.Module, h: int, w: int) -> set[str]:
    program = torch.export.export(model, (torch.randn(1, 3, h, w),))
    return {str(n.target) for n in program.graph.nodes if n.op == "call_function"}


def test_stem_pads_only_when_four_does_not_divide_the_size(model) -> None:
    assert not any("pad" in op for op in _ops(model, 64, 96))
    assert any("pad" in op for op in _ops(model, 66, 96))
