"""CutMix for segmentation (``--cutmix P``): each image of a batch gets a box of another image of
the same batch pasted in — its pixels, its labels and, when distilling, its teacher's logits.

Why: a few hundred training pictures show each street, each car, each pole in only one context.
Pasting a box of one picture into another makes new scenes whose labels are still exact (every
pixel keeps the label of the image it came from), the cheapest "strong, varied perturbation"
(French et al., BMVC 2020, arXiv:1906.01916; Yun et al., ICCV 2019, arXiv:1905.04899). Under
distillation the teacher's logits are pasted the same way, so a cached teacher (which ran once on
the un-mixed image) still gives the pasted pixels its own reading of where they came from; only
right at the seam does that differ from what it would say about the mixed image.

One draw per image, as Yun et al.: a box of area ``1 - λ`` of the frame, λ ~ U(0, 1), with the
frame's aspect, centred anywhere (clipped at the borders); the partner is a random permutation of
the batch (an image paired with itself is left as it is). A batch is mixed with probability ``P``.
The draws use torch's global generator, which ``--seed`` seeds, so runs repeat.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


class CutMix:
    """Draw (partner, box) for a batch; :func:`paste` applies one draw to any per-pixel tensor.
    ``CutMix(0)`` never draws (nor consumes a random number): the objectives' default."""

    def __init__(self, prob: float) -> None:
        self.prob = prob

    def draw(
        self, batch: int, height: int, width: int, device: torch.device
    ) -> tuple[torch.Tensor, torch.Tensor] | None:
        """``(partner [B], box [B, H, W] bool)``, or None when this batch stays un-mixed."""
        if self.prob <= 0 or batch < 2 or float(torch.rand(())) >= self.prob:
            return None
        partner = torch.randperm(batch)
        side = (1.0 - torch.rand(batch)).sqrt()  # box side / frame side, area 1 - λ
        box_h, box_w = (side * height).round(), (side * width).round()
        cy, cx = torch.rand(batch) * height, torch.rand(batch) * width
        top, bottom = (cy - box_h / 2).clamp(0, height), (cy + box_h / 2).clamp(0, height)
        left, right = (cx - box_w / 2).clamp(0, width), (cx + box_w / 2).clamp(0, width)
        rows = torch.arange(height).view(1, height, 1)
        cols = torch.arange(width).view(1, 1, width)
        box = (
            (rows >= top.view(-1, 1, 1).floor())
            & (rows < bottom.view(-1, 1, 1).floor())
            & (cols >= left.view(-1, 1, 1).floor())
            & (cols < right.view(-1, 1, 1).floor())
        )
        return partner.to(device), box.to(device)

    def mix(
        self, images: torch.Tensor, masks: torch.Tensor, training: bool
    ) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, torch.Tensor] | None]:
        """A batch's pixels ``[B, 3, H, W]`` and labels ``[B, H, W]`` with this batch's boxes
        pasted, and the draw (to paste the teacher's output with it); outside training, or when
        the batch stays un-mixed, the inputs as they are and None."""
        batch, _, height, width = images.shape
        draw = self.draw(batch, height, width, images.device) if training else None
        if draw is None:
            return images, masks, None
        return paste(images, *draw), paste(masks, *draw), draw


def paste(tensor: torch.Tensor, partner: torch.Tensor, box: torch.Tensor) -> torch.Tensor:
    """``tensor`` with each item's box taken from ``tensor[partner]``. ``tensor`` is ``[B, H, W]``
    or ``[B, C, h, w]``; a box drawn at another size (teacher features at stride 8) is resized to
    the tensor's with nearest neighbours, so it covers the same part of the picture."""
    mask = box.unsqueeze(1)
    if mask.shape[-2:] != tensor.shape[-2:]:
        mask = F.interpolate(mask.float(), size=tensor.shape[-2:], mode="nearest").bool()
    return torch.where(mask if tensor.dim() == 4 else mask[:, 0], tensor[partner], tensor)
