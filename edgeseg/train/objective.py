"""What one training step minimises: an :class:`Objective` maps (model, batch) to a loss.

``edgeseg train`` minimises :class:`SupervisedObjective` (CE plus the aux head); ``edgeseg distill``
plugs its own objective (teacher + distillation losses) into the same loop. An objective is an
``nn.Module`` so that training-only parameters (feature adapters, an auxiliary foreground head)
are optimised with the model yet never land in the model's state_dict, and adaptive state (the KL
warm-up weight) is saved with ``last.pt`` and restored by ``--resume``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from edgeseg.train.cutmix import CutMix
from edgeseg.train.losses import segmentation_loss


@dataclass
class Batch:
    """One loader batch on the training device; ``extra`` holds whatever else the items carry
    (dataset indices and augmentation geometry for the teacher cache)."""

    images: torch.Tensor
    masks: torch.Tensor
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_loader(cls, item: Any, device: torch.device) -> Batch:
        images, masks = item[0], item[1]
        extra = dict(item[2]) if len(item) > 2 else {}
        return cls(images.to(device, non_blocking=True), masks.to(device), extra)

    @property
    def size(self) -> int:
        return int(self.images.shape[0])


def has_aux_head(model: nn.Module) -> bool:
    return getattr(model, "aux_classifier", None) is not None


def model_outputs(
    model: nn.Module, images: torch.Tensor, with_aux: bool
) -> dict[str, torch.Tensor]:
    """Main logits (and aux logits when asked and available) as a dict."""
    if with_aux and has_aux_head(model):
        feats = model.forward_features(images)
        return {"out": feats["out"], "aux": feats["aux"]}
    return {"out": model(images)}


class Objective(nn.Module):
    """Base class: ``forward(model, batch) -> scalar loss``; ``info()`` feeds the progress bar."""

    def forward(self, model: nn.Module, batch: Batch) -> torch.Tensor:
        raise NotImplementedError

    def info(self) -> str:
        """Short extra text for the progress bar (e.g. the current KL weight)."""
        return ""


class SupervisedObjective(Objective):
    """Cross-entropy on the labels (ignore 255, optional class weights) plus the aux head's;
    with ``cutmix``, on training batches whose boxes were pasted (:mod:`edgeseg.train.cutmix`)."""

    def __init__(
        self,
        class_weights: torch.Tensor | None = None,
        aux_weight: float = 0.5,
        cutmix: CutMix | None = None,
    ) -> None:
        super().__init__()
        self.class_weights = class_weights
        self.aux_weight = aux_weight
        self.cutmix = cutmix if cutmix is not None else CutMix(0.0)

    def forward(self, model: nn.Module, batch: Batch) -> torch.Tensor:
        images, masks, _ = self.cutmix.mix(batch.images, batch.masks, self.training)
        outputs = model_outputs(model, images, with_aux=self.aux_weight > 0)
        return segmentation_loss(outputs, masks, self.class_weights, self.aux_weight)
