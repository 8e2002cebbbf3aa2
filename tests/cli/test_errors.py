"""Every bad input named in the foundation issue: one line naming the file, exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from edgeseg.cli import main
from tests.helpers import make_folder_dataset

TRAIN = [
    "train",
    "lraspp_mobilenet_v3_small",
    "--epochs",
    "1",
    "--batch-size",
    "2",
    "--workers",
    "0",
    "--quiet",
    "--size",
    "32x32",
]


def run_cli(capsys, args: list[str]) -> tuple[int, str]:
    code = main(args)
    err = capsys.readouterr().err.strip()
    return code, err


def assert_one_line(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err


def test_missing_dataset_folder(capsys, tmp_path) -> None:
    missing = tmp_path / "nope"
    code, err = run_cli(capsys, [*TRAIN, "--data", f"camvid:{missing}", "--out", str(tmp_path)])
    assert_one_line(code, err, str(missing))


def test_image_without_mask(capsys, tmp_path) -> None:
    root = make_folder_dataset(tmp_path / "ds")
    (root / "masks" / "img03.png").unlink()
    code, err = run_cli(capsys, [*TRAIN, "--data", f"folder:{root}", "--out", str(tmp_path)])
    assert_one_line(code, err, "img03")


def test_mask_size_mismatch(capsys, tmp_path) -> None:
    root = make_folder_dataset(tmp_path / "ds")
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(root / "masks" / "img02.png")
    code, err = run_cli(capsys, [*TRAIN, "--data", f"folder:{root}", "--out", str(tmp_path)])
    assert_one_line(code, err, "img02")


@pytest.mark.parametrize("workers", ["0", "2"])
def test_label_id_out_of_range(capsys, tmp_path, workers) -> None:
    root = make_folder_dataset(tmp_path / "ds", n=4)
    mask = np.asarray(Image.open(root / "masks" / "img01.png")).copy()
    mask[5, 5] = 7
    for i in range(4):  # every mask bad so the first batch hits it whatever the order
        Image.fromarray(mask).save(root / "masks" / f"img{i:02d}.png")
    args = [a if a != "0" else workers for a in TRAIN]
    code, err = run_cli(capsys, [*args, "--data", f"folder:{root}", "--out", str(tmp_path)])
    assert_one_line(code, err, "img0", "7")


def test_corrupt_image(capsys, tmp_path) -> None:
    root = make_folder_dataset(tmp_path / "ds")
    (root / "images" / "img04.png").write_bytes(b"not a png at all")
    code, err = run_cli(capsys, [*TRAIN, "--data", f"folder:{root}", "--out", str(tmp_path)])
    assert_one_line(code, err, "img04")


def test_unknown_arch_suggests(capsys, tmp_path) -> None:
    code, err = run_cli(
        capsys, ["train", "lraspp_mobilenet_v3_smal", "--data", "sample", "--out", str(tmp_path)]
    )
    assert_one_line(
        code, err, "lraspp_mobilenet_v3_smal", "Did you mean 'lraspp_mobilenet_v3_small'"
    )


def test_unknown_weights_file(capsys, tmp_path) -> None:
    missing = tmp_path / "weights.pth"
    code, err = run_cli(
        capsys, [*TRAIN, "--data", "sample", "--weights", str(missing), "--out", str(tmp_path)]
    )
    assert_one_line(code, err, str(missing))
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"\x89PNG not weights")
    code, err = run_cli(
        capsys, [*TRAIN, "--data", "sample", "--weights", str(garbage), "--out", str(tmp_path)]
    )
    assert_one_line(code, err, str(garbage))


OTHER_ARCH = ["train", "lraspp_mobilenet_v3_large", "--data", "sample", "--quiet"]


def test_checkpoint_of_another_arch(capsys, tmp_path, tiny_checkpoint) -> None:
    args = [*OTHER_ARCH, "--epochs", "1", "--weights", str(tiny_checkpoint), "--out", str(tmp_path)]
    code, err = run_cli(capsys, args)
    assert_one_line(code, err, str(tiny_checkpoint), "lraspp_mobilenet_v3_small")


def test_resume_from_another_arch(capsys, tiny_checkpoint) -> None:
    args = [*OTHER_ARCH, "--epochs", "2", "--resume", "--out", str(tiny_checkpoint.parent)]
    code, err = run_cli(capsys, args)
    assert_one_line(code, err, "last.pt", "lraspp_mobilenet_v3_small")


def test_eval_of_a_non_checkpoint(capsys, tmp_path) -> None:
    bare = tmp_path / "bare.pt"
    torch.save({"w": torch.zeros(1)}, bare)
    code, err = run_cli(capsys, ["eval", str(bare)])
    assert_one_line(code, err, str(bare), "--weights")


def test_bad_size_string(capsys, tmp_path) -> None:
    code, err = run_cli(capsys, [*TRAIN[:-2], "--size", "big", "--data", "sample"])
    assert_one_line(code, err, "big", "HxW")


def test_console_script_no_traceback_unless_debug(tmp_path) -> None:
    """The installed entry point: exit 2 and one line; --debug shows the traceback."""
    exe = Path(sys.executable).parent / "edgeseg"
    cmd = [str(exe), "eval", str(tmp_path / "missing.pt")]
    plain = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert plain.returncode == 2
    assert plain.stderr.strip().count("\n") == 0 and "missing.pt" in plain.stderr
    debug = subprocess.run([*cmd, "--debug"], capture_output=True, text=True, timeout=120)
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_one_line_keeps_the_fact_and_drops_the_advice() -> None:
    from edgeseg.errors import DataError, one_line

    torch_style = RuntimeError(
        "PytorchStreamReader failed reading zip archive: failed finding central directory. "
        "This is an internal miniz error. If you are seeing this, please report it.\nmore"
    )
    assert one_line(torch_style, 160) == (
        "RuntimeError: PytorchStreamReader failed reading zip archive: failed finding central "
        "directory. This is an internal miniz error."
    )
    assert one_line(torch_style, 100, typed=False) == (
        "PytorchStreamReader failed reading zip archive: failed finding central directory."
    )
    assert one_line(DataError("x.png is not an image; replace it\nsecond")) == (
        "x.png is not an image; replace it"
    )
    assert one_line(ValueError("a" * 50), 20) == "ValueError: aaaaaaa…"
    assert one_line(KeyError()) == "KeyError" and one_line(OSError(), typed=False) == "OSError"
