"""The teacher-quality study: a teacher (and its options) against the labels, before training."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from benchmarks.studies.teacher_quality import main
from edgeseg.data import build_dataset
from edgeseg.data.transforms import ToTensor
from edgeseg.distill.classmap import resolve_class_map
from edgeseg.distill.teachers import TeacherOptions, build_teacher, teach
from edgeseg.errors import EdgesegError
from edgeseg.metrics import ConfusionMatrix


def _by_hand(checkpoint, every: int, size: tuple[int, int]) -> list[float]:
    """Per-class IoU of the teacher's argmax on every ``every``-th sample image at ``size``."""
    split = build_dataset("sample", "train")
    teacher = build_teacher(str(checkpoint), TeacherOptions(student_classes=split.info.classes))
    class_map = resolve_class_map(teacher.classes, split.info.classes, None, teacher.num_classes)
    confmat = ConfusionMatrix(len(split.info.classes))
    for i in range(0, len(split), every):
        image, mask = split[i]
        pixels, _ = ToTensor()(image, mask)
        logits = teach(teacher, class_map, pixels[None], size).logits
        labels = torch.from_numpy(np.asarray(mask.resize(size[::-1], Image.NEAREST), np.int64))
        confmat.update(labels[None], logits.argmax(1))
    return [100 * x for x in confmat.compute().per_class_iou]


def test_rows_are_the_teacher_against_the_sampled_labels(sample_checkpoint, tmp_path) -> None:
    """tta: without flip is the plain checkpoint teacher, so its row is checked by hand."""
    base = ["--teacher", f"tta:{sample_checkpoint}", "--data", "sample", "--size", "32x40"]
    base += ["--every", "40", "--results", str(tmp_path)]
    assert main([*base, "--setting", "tta_flip=false"]) == 0
    (row,) = json.loads((tmp_path / "teacher_quality.json").read_text())["rows"]
    assert row["images"] == 6 and row["size"] == "32x40" and row["every"] == 40
    expected = _by_hand(sample_checkpoint, 40, (32, 40))
    assert list(row["iou"].values()) == pytest.approx(expected, abs=0.01)
    assert row["miou"] == pytest.approx(sum(expected) / len(expected), abs=0.01)
    md = tmp_path / "teacher_quality.md"
    md.write_text(md.read_text() + "\n<!-- notes -->\nkept by hand\n")
    assert main([*base, "--setting", "tta_flip=false", "--setting", "tta_flip=true"]) == 0
    rows = json.loads((tmp_path / "teacher_quality.json").read_text())["rows"]
    assert [r["setting"] for r in rows] == [
        "tta_flip=false",
        "tta_flip=true",
    ]  # the first replaced, not added
    text = md.read_text()
    assert "| tta_flip=true |" in text and text.endswith("kept by hand\n")
    assert "python -m benchmarks.studies.teacher_quality --teacher" in text


def test_a_malformed_setting_is_refused_before_any_teacher_runs(sample_checkpoint, tmp_path):
    argv = ["--teacher", str(sample_checkpoint), "--data", "sample", "--setting", "tta_flip"]
    with pytest.raises(EdgesegError, match="tta_flip"):
        main([*argv, "--results", str(tmp_path / "r")])
    assert not (tmp_path / "r").exists()
