"""FSI's foreground-specialised teacher: ``train --foreground-only`` and ``foreground:SPEC``."""

from __future__ import annotations

import torch

from edgeseg.checkpoint import load_checkpoint
from edgeseg.cli import main
from edgeseg.data import IGNORE_INDEX
from edgeseg.data.sample import SAMPLE_CLASSES
from edgeseg.data.transforms import ForegroundOnly
from edgeseg.distill.teachers import TeacherOptions, build_teacher
from tests.distill.conftest import SIZE


def test_foreground_only_blacks_out_background_and_ignore() -> None:
    image = torch.rand(3, 2, 3) + 0.1
    mask = torch.tensor([[0, 1, 2], [IGNORE_INDEX, 4, 0]])
    out, same = ForegroundOnly({0})(image, mask)
    assert same is mask
    keep = torch.tensor([[False, True, True], [False, True, False]])
    assert torch.equal(out[:, keep], image[:, keep]) and (out[:, ~keep] == 0).all()


def test_foreground_teacher_ignores_background_pixels(teacher_ckpt) -> None:
    """Changing pixels outside the objects changes the plain teacher, never the foreground one."""
    options = TeacherOptions(student_classes=SAMPLE_CLASSES)
    fg_teacher = build_teacher(f"foreground:{teacher_ckpt}", options)
    plain = build_teacher(str(teacher_ckpt), options)
    assert fg_teacher.kind == "foreground" and fg_teacher.background == {0}
    pixels = torch.rand(1, 3, *SIZE)
    masks = torch.zeros(1, *SIZE, dtype=torch.long)
    masks[:, 16:48, 20:60] = 1
    other = pixels.clone()
    other[:, :, masks[0] == 0] = torch.rand(3, int((masks[0] == 0).sum()))
    same = [fg_teacher.predict(x, masks)[0] for x in (pixels, other)]
    torch.testing.assert_close(same[0], same[1])
    assert not torch.allclose(plain.predict(pixels)[0], plain.predict(other)[0])


def test_train_foreground_only_then_distill_from_it(tmp_path, capsys) -> None:
    common = [
        "--data",
        "sample",
        "--size",
        "64x80",
        "--batch-size",
        "4",
        "--workers",
        "0",
        "--epochs",
        "1",
        "--limit-train-batches",
        "2",
        "--quiet",
    ]
    teacher_out = tmp_path / "teacher"
    args = ["train", "lraspp_mobilenet_v3_small", *common, "--foreground-only"]
    assert main([*args, "--out", str(teacher_out)]) == 0
    recipe = load_checkpoint(teacher_out / "best.pt").meta.recipe
    assert recipe["foreground_only"] is True
    args = [
        "distill",
        "lraspp_mobilenet_v3_small",
        *common,
        "--limit-val-batches",
        "1",
        "--teacher",
        f"foreground:{teacher_out / 'best.pt'}",
        "--loss",
        "ce",
        "--loss",
        "fsi",
        "--loss",
        "kd",
        "--out",
        str(tmp_path / "student"),
    ]
    assert main(args) == 0, capsys.readouterr().err
    recipe = load_checkpoint(tmp_path / "student" / "best.pt").meta.recipe
    assert recipe["teacher_info"]["kind"] == "foreground"
    assert (
        main(
            [
                "train",
                "lraspp_mobilenet_v3_small",
                "--foreground-only",
                "--background",
                "sky",
                "--out",
                str(tmp_path / "x"),
            ]
        )
        == 2
    )
    assert "Background class 'sky'" in capsys.readouterr().err
