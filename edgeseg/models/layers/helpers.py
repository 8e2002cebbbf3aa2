"""Small helpers shared by every model family: channel rounding, resizing, tapped Sequentials."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


def make_divisible(value: float, divisor: int, min_value: int | None = None) -> int:
    """Round a channel count to a multiple of ``divisor`` without losing more than 10 %.

    Copied semantics of torchvision's ``models._utils._make_divisible`` (itself from the TF
    MobileNet repo): every width multiplier must give the exact channel counts of the
    checkpoints, so the rounding rule cannot be "improved".
    """
    if min_value is None:
        min_value = divisor
    new_value = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new_value < 0.9 * value:
        new_value += divisor
    return new_value


def resize(x: Tensor, size: tuple[int, int] | list[int] | Tensor) -> Tensor:
    """Bilinear resize with ``align_corners=False``, the only mode every runtime agrees on.

    torchvision uses exactly this call for its logits; TFLite, XNNPACK and Core ML all map it to
    their half-pixel bilinear kernels, so one helper keeps every model export-consistent.
    """
    return F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=False)


class TapSequential(nn.Sequential):
    """An ``nn.Sequential`` that can also return named intermediate outputs.

    It replaces torchvision's ``IntermediateLayerGetter`` for sequential backbones: the children
    keep their indices ("0", "1", …) so the state_dict is unchanged, and the taps are read while
    running the layers instead of through hooks, which keeps ``torch.export`` graphs plain.
    """

    def __init__(self, *layers: nn.Module, taps: dict[int, str]) -> None:
        super().__init__(*layers)
        bad = [i for i in taps if not 0 <= i < len(self)]
        if bad:
            raise ValueError(f"tap positions {bad} outside 0..{len(self) - 1}")
        self.taps = dict(taps)

    def forward_taps(self, x: Tensor) -> dict[str, Tensor]:
        """Run every layer and return the outputs of the tapped positions by name."""
        out: dict[str, Tensor] = {}
        for index, layer in enumerate(self):
            x = layer(x)
            if index in self.taps:
                out[self.taps[index]] = x
        return out

    def classification_key(self, key: str) -> str | None:
        """Map a classification checkpoint key (``features.N.…``) onto this module.

        Layers the segmentation backbone no longer has (the last 1×1 conv of some nets) and the
        ``classifier.*`` head are dropped on purpose (``None``); anything else is returned
        unchanged so that the caller reports it as unexpected.
        """
        if key.startswith("classifier."):
            return None
        if key.startswith("features."):
            index, _, rest = key[len("features.") :].partition(".")
            if index.isdigit() and int(index) >= len(self):
                return None
            return f"{index}.{rest}"
        return key
