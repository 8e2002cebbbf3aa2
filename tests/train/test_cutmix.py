"""CutMix: boxes of a partner image pasted into pixels, labels and teacher logits alike."""

from __future__ import annotations

import pytest
import torch

from edgeseg.distill.objective import pasted_teacher
from edgeseg.distill.teachers import TeacherOutput
from edgeseg.train import TrainConfig
from edgeseg.train.cutmix import CutMix, paste


def test_paste_takes_the_box_from_the_partner_and_leaves_the_rest() -> None:
    images = torch.arange(2.0).view(2, 1, 1, 1).expand(2, 3, 4, 6).clone()  # image i is all i
    masks = torch.tensor([5, 7]).view(2, 1, 1).expand(2, 4, 6).clone()
    box = torch.zeros(2, 4, 6, dtype=torch.bool)
    box[0, 1:3, 2:5] = True  # image 0 gets a 2x3 box of image 1; image 1 gets nothing
    partner = torch.tensor([1, 0])
    mixed, labels = paste(images, partner, box), paste(masks, partner, box)
    assert mixed[0, :, 1:3, 2:5].eq(1).all() and mixed[0].sum() == 3 * 6
    assert labels[0, 1:3, 2:5].eq(7).all() and labels[0].eq(5).sum() == 24 - 6
    assert mixed[1].eq(1).all() and labels[1].eq(7).all()


def test_a_teacher_is_pasted_like_its_pixels_also_at_its_feature_stride() -> None:
    logits = torch.stack([torch.full((2, 8, 8), 1.0), torch.full((2, 8, 8), 2.0)])
    valid = torch.stack([torch.ones(8, 8, dtype=torch.bool), torch.zeros(8, 8, dtype=torch.bool)])
    features = {"high": torch.stack([torch.zeros(4, 2, 2), torch.ones(4, 2, 2)])}
    box = torch.zeros(2, 8, 8, dtype=torch.bool)
    box[0, :4, :4] = True  # the top-left quarter of image 0 comes from image 1
    out = pasted_teacher(TeacherOutput(logits, valid, features), torch.tensor([1, 0]), box)
    assert out.logits[0, :, :4, :4].eq(2).all() and out.logits[0].eq(1).sum() == 2 * 48
    assert not out.valid[0, :4, :4].any() and out.valid[0].sum() == 48  # invalid travels too
    assert out.features["high"][0].tolist() == [[[1.0, 0.0], [0.0, 0.0]]] * 4  # box at stride 4


def test_draws_are_boxes_of_every_size_and_repeat_under_a_seed() -> None:
    cutmix = CutMix(1.0)
    torch.manual_seed(3)
    first = [cutmix.draw(8, 30, 40, torch.device("cpu")) for _ in range(20)]
    torch.manual_seed(3)
    again = [cutmix.draw(8, 30, 40, torch.device("cpu")) for _ in range(20)]
    assert all(torch.equal(a[1], b[1]) and torch.equal(a[0], b[0]) for a, b in zip(first, again))
    areas = torch.cat([box.flatten(1).float().mean(1) for _, box in first])
    assert areas.min() < 0.1 and areas.max() > 0.7  # λ ~ U(0, 1): small and large boxes
    for _, box in first:  # each box is one rectangle: its rows x its columns
        for item in box:
            rows, cols = item.any(1), item.any(0)
            assert torch.equal(item, rows[:, None] & cols[None, :])
    assert CutMix(0.0).draw(8, 30, 40, torch.device("cpu")) is None
    assert CutMix(1.0).draw(1, 30, 40, torch.device("cpu")) is None  # nothing to mix with


@pytest.mark.parametrize("value", [-0.1, 1.5, float("nan")])
def test_a_cutmix_chance_outside_0_to_1_is_refused(tmp_path, value) -> None:
    with pytest.raises(Exception, match="--cutmix .* is out of range"):
        TrainConfig(arch="lraspp_mobilenet_v3_small", data="sample", out=tmp_path / "o",
                    cutmix=value)  # fmt: skip
