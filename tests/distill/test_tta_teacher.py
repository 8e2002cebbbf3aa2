"""``tta:SPEC``: the teacher averaged over flips and input scales, checked against manual passes."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from edgeseg.checkpoint import load_checkpoint
from edgeseg.cli import main
from edgeseg.data.sample import SAMPLE_CLASSES
from edgeseg.distill.teachers import TeacherOptions, build_teacher
from edgeseg.errors import DistillError
from tests.distill.conftest import SIZE


def _options(**extra: str) -> TeacherOptions:
    return TeacherOptions(size=SIZE, student_classes=SAMPLE_CLASSES, extra=dict(extra))


def test_flip_and_scales_average_the_manual_passes(teacher_ckpt) -> None:
    tta = build_teacher(f"tta:{teacher_ckpt}", _options(tta_scales="1,1.5"))
    plain = build_teacher(str(teacher_ckpt), _options())
    big = build_teacher(str(teacher_ckpt), TeacherOptions(size=(96, 120)))
    pixels = torch.rand(2, 3, *SIZE)
    passes = [plain.predict(pixels)[0], plain.predict(pixels.flip(-1))[0].flip(-1)]
    for logits in (big.predict(pixels)[0], big.predict(pixels.flip(-1))[0].flip(-1)):
        passes.append(F.interpolate(logits, size=passes[0].shape[-2:], mode="bilinear"))
    logits, features = tta.predict(pixels)
    torch.testing.assert_close(logits, torch.stack(passes).mean(0), atol=1e-5, rtol=1e-5)
    assert not torch.allclose(logits, passes[0], atol=1e-3)  # the extra passes changed it
    torch.testing.assert_close(features["high"], plain.predict(pixels)[1]["high"])
    assert tta.inner.size == SIZE  # the inner teacher's size is restored after the 1.5x pass
    assert tta.describe()["scales"] == [1.0, 1.5] and tta.describe()["flip"] is True


def test_flip_only_on_a_fixed_size_artifact(teacher_ckpt, tmp_path) -> None:
    pytest.importorskip("onnxruntime", reason="onnxruntime not installed")
    from edgeseg.export import export_checkpoint

    (outcome,) = export_checkpoint(teacher_ckpt, "onnx", out=tmp_path, parity_images=0)
    onnx = str(outcome.result.path)
    tta = build_teacher(f"tta:{onnx}", TeacherOptions(extra={"tta_flip": "true"}))
    plain = build_teacher(onnx)
    pixels = torch.rand(1, 3, *SIZE)
    expected = (plain.predict(pixels)[0] + plain.predict(pixels.flip(-1))[0].flip(-1)) / 2
    torch.testing.assert_close(tta.predict(pixels)[0], expected, atol=1e-5, rtol=1e-5)
    for scales in ("0.5", "1,5"):  # windows bigger than the image, or a few pixels high
        with pytest.raises(DistillError, match="fixed input size.*from 1 to 4"):
            build_teacher(f"tta:{onnx}", TeacherOptions(extra={"tta_scales": scales}))


def test_scales_on_a_fixed_size_artifact_are_overlapping_windows(teacher_ckpt, tmp_path) -> None:
    """A 96x160 image at scale 1.5 before a 64x80 file: windows 64 high, 80 wide (the file's
    aspect), rows at 0 and 32, columns at 0, 40 and 80, each run as is and averaged where they
    overlap; scale 1 beside it is the whole image squeezed into the file, as without tta."""
    pytest.importorskip("onnxruntime", reason="onnxruntime not installed")
    from edgeseg.export import export_checkpoint

    (outcome,) = export_checkpoint(teacher_ckpt, "onnx", out=tmp_path, parity_images=0)
    onnx = str(outcome.result.path)
    plain = build_teacher(onnx)
    pixels = torch.rand(1, 3, 96, 160)
    total = torch.zeros(1, plain.num_classes, 96, 160)
    count = torch.zeros(1, 1, 96, 160)
    for top in (0, 32):
        for left in (0, 40, 80):
            window = pixels[..., top : top + 64, left : left + 80]
            total[..., top : top + 64, left : left + 80] += plain.predict(window)[0]
            count[..., top : top + 64, left : left + 80] += 1
    windows = total / count
    only = build_teacher(
        f"tta:{onnx}", TeacherOptions(extra={"tta_scales": "1.5", "tta_flip": "false"})
    )
    torch.testing.assert_close(only.predict(pixels)[0], windows, atol=1e-5, rtol=1e-5)
    assert only.describe()["scales_as"] == "sliding windows"
    both = build_teacher(
        f"tta:{onnx}", TeacherOptions(extra={"tta_scales": "1,1.5", "tta_flip": "false"})
    )
    whole = F.interpolate(plain.predict(pixels)[0], size=(96, 160), mode="bilinear")
    torch.testing.assert_close(both.predict(pixels)[0], (whole + windows) / 2, atol=1e-5, rtol=1e-5)


def test_foreground_inside_tta_flips_the_masks_too(teacher_ckpt) -> None:
    tta = build_teacher(f"tta:foreground:{teacher_ckpt}", _options())
    fg = build_teacher(f"foreground:{teacher_ckpt}", _options())
    pixels = torch.rand(1, 3, *SIZE)
    masks = torch.zeros(1, *SIZE, dtype=torch.long)
    masks[:, 10:40, 5:30] = 1  # not symmetric: an unflipped mask would black out other pixels
    expected = (
        fg.predict(pixels, masks)[0] + fg.predict(pixels.flip(-1), masks.flip(-1))[0].flip(-1)
    ) / 2
    torch.testing.assert_close(tta.predict(pixels, masks)[0], expected)
    assert tta.needs_masks


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"tta_scales": "1,x"}, "write positive numbers"),
        ({"tta_scales": "0"}, "positive"),
        ({"tta_flip": "maybe"}, "write true or false"),
        ({"iou": "0.5"}, "iou: the checkpoint teacher takes no options"),
    ],
)
def test_bad_tta_options_are_one_line_errors(teacher_ckpt, extra, message) -> None:
    with pytest.raises(DistillError, match=message):
        build_teacher(f"tta:{teacher_ckpt}", _options(**extra))


def test_distill_with_a_tta_teacher_through_the_cache(teacher_ckpt, tmp_path, capsys) -> None:
    args = [
        "distill",
        "lraspp_mobilenet_v3_small",
        "--teacher",
        f"tta:{teacher_ckpt}",
        "--teacher-option",
        "tta_scales=1,1.25",
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
        "--limit-val-batches",
        "1",
        "--loss",
        "ce",
        "--loss",
        "cwd",
        "--quiet",
        "--teacher-cache",
        str(tmp_path / "cache"),
        "--out",
        str(tmp_path / "student"),
    ]
    assert main(args) == 0, capsys.readouterr().err
    info = load_checkpoint(tmp_path / "student" / "best.pt").meta.recipe["teacher_info"]
    assert info["kind"] == "tta" and info["scales"] == [1.0, 1.25]
    assert info["inner"]["kind"] == "checkpoint"


def test_wrapped_teachers_report_their_inner_models_device(teacher_ckpt) -> None:
    from edgeseg.distill.cache import teacher_device

    options = TeacherOptions(size=SIZE, student_classes=SAMPLE_CLASSES, device=torch.device("meta"))
    tta = build_teacher(f"tta:foreground:{teacher_ckpt}", options)
    assert teacher_device(tta) == torch.device("meta")  # the cache sends pixels there
