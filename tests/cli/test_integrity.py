"""Corruption never passes silently (issue 16, class 3), through the real CLI.

Checkpoints: every zip member's CRC and a hash of the tensors recorded at save are checked on
load. Artifacts: the sidecar records the file's size and sha256; ``bench`` fails the row,
``android-demo add`` and artifact teachers refuse the file (exit 2) when it does not match or
does not load in its runtime.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
import torch

from edgeseg.checkpoint import load_checkpoint, weights_digest
from edgeseg.cli import main
from edgeseg.errors import ExitCode
from edgeseg.sidecar import artifact_digest, sidecar_path
from tests.android_demo.golden import base_meta

FAST_BENCH = ["--runs", "1", "--warmup", "0", "--quiet", "--timeout", "120"]


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def flip_weight_bytes(src: Path, dst: Path) -> str:
    """Copy ``src`` to ``dst`` with 64 bytes in the middle of its largest tensor record XORed:
    what a bad disk or a broken copy does. Returns the member's name."""
    shutil.copy(src, dst)
    with zipfile.ZipFile(dst) as archive:
        info = max(
            (i for i in archive.infolist() if "/data/" in i.filename), key=lambda i: i.file_size
        )
    with open(dst, "r+b") as fh:
        fh.seek(info.header_offset + 26)
        name_len, extra_len = (int.from_bytes(fh.read(2), "little") for _ in range(2))
        at = info.header_offset + 30 + name_len + extra_len + info.file_size // 2
        fh.seek(at)
        chunk = fh.read(64)
        fh.seek(at)
        fh.write(bytes(b ^ 0x55 for b in chunk))
    return info.filename.split("/", 1)[1]


def test_checkpoint_records_the_weights_hash(tiny_checkpoint) -> None:
    ckpt = load_checkpoint(tiny_checkpoint)
    assert ckpt.meta.weights_sha256 == weights_digest(ckpt.state_dict)
    assert len(ckpt.meta.weights_sha256) == 64


def test_flipped_weight_bytes_fail_eval_with_one_line(capsys, tmp_path, tiny_checkpoint) -> None:
    """Before: exit 0 and a wrong mIoU. Now the zip's own CRC catches it: exit 2."""
    bad = tmp_path / "flipped.pt"
    member = flip_weight_bytes(tiny_checkpoint, bad)
    code, out, err = run(capsys, "eval", bad, "--data", "sample")
    assert code == ExitCode.BAD_INPUT, out + err
    line = one_error_line(err)
    assert str(bad) in line and f"zip member {member} fails its CRC" in line
    assert "train it again" in line and "mIoU" not in out


def test_tampered_tensors_with_valid_crcs_fail_the_hash(capsys, tmp_path, tiny_checkpoint) -> None:
    """Rewritten through torch.save (so every CRC is right) with one weight changed: the hash
    recorded at save still tells."""
    payload = torch.load(tiny_checkpoint, map_location="cpu", weights_only=True)
    name = next(k for k, v in payload["state_dict"].items() if v.is_floating_point())
    payload["state_dict"][name] = payload["state_dict"][name] + 0.5
    bad = tmp_path / "tampered.pt"
    torch.save(payload, bad)
    for command in (["eval", bad, "--data", "sample"], ["export", bad, "--target", "onnx"]):
        code, out, err = run(capsys, *command)
        assert code == ExitCode.BAD_INPUT, out + err
        assert "do not match the hash recorded when it was saved" in one_error_line(err)


def test_checkpoint_without_the_hash_still_loads(capsys, tmp_path, tiny_checkpoint) -> None:
    """Older checkpoints (no weights_sha256) get the CRC check only."""
    payload = torch.load(tiny_checkpoint, map_location="cpu", weights_only=True)
    del payload["meta"]["weights_sha256"]
    old = tmp_path / "old.pt"
    torch.save(payload, old)
    ex = ["export", old, "--target", "torchscript", "--parity-images", "0", "--out", tmp_path]
    code, out, err = run(capsys, *ex)
    assert code == ExitCode.OK, out + err
    flip_weight_bytes(old, tmp_path / "old_flipped.pt")
    code, out, err = run(capsys, "eval", tmp_path / "old_flipped.pt", "--data", "sample")
    assert code == ExitCode.BAD_INPUT and "fails its CRC" in one_error_line(err)


def test_truncated_checkpoint_is_refused(capsys, tmp_path, tiny_checkpoint) -> None:
    cut = tmp_path / "cut.pt"
    cut.write_bytes(tiny_checkpoint.read_bytes()[: tiny_checkpoint.stat().st_size // 2])
    code, out, err = run(capsys, "eval", cut, "--data", "sample")
    assert code == ExitCode.BAD_INPUT, out + err
    assert str(cut) in one_error_line(err)


@pytest.fixture
def onnx_copy(shared_export, tmp_path) -> Path:
    """A real exported .onnx with its sidecar (which records its size and sha256), copied."""
    outcome = shared_export("onnx")
    assert outcome.ok, outcome.parity.reason
    folder = tmp_path / "copy"
    folder.mkdir()
    for src in (outcome.result.path, sidecar_path(outcome.result.path)):
        shutil.copy(src, folder / src.name)
    return folder / outcome.result.path.name


def test_export_records_size_and_sha256(onnx_copy) -> None:
    side = json.loads(sidecar_path(onnx_copy).read_text())
    assert side["artifact_bytes"] == onnx_copy.stat().st_size
    assert {k: side[k] for k in ("artifact_bytes", "artifact_sha256")} == artifact_digest(onnx_copy)


def test_folder_artifact_digest_covers_names_and_contents(tmp_path) -> None:
    pkg = tmp_path / "m.mlpackage"
    (pkg / "Data").mkdir(parents=True)
    (pkg / "Data" / "weights.bin").write_bytes(b"12345")
    (pkg / "Manifest.json").write_text("{}")
    before = artifact_digest(pkg)
    assert before["artifact_bytes"] == 7
    (pkg / "Data" / "weights.bin").rename(pkg / "Data" / "weights2.bin")
    assert artifact_digest(pkg)["artifact_sha256"] != before["artifact_sha256"]


def test_bench_fails_a_row_that_does_not_match_its_sidecar(capsys, tmp_path, onnx_copy) -> None:
    """Same size, one byte changed (a bit flip): that row fails with the reason, the good copy
    is measured, exit 3."""
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    bad = bad_dir / onnx_copy.name
    data = bytearray(onnx_copy.read_bytes())
    data[len(data) // 2] ^= 0x01
    bad.write_bytes(bytes(data))
    shutil.copy(sidecar_path(onnx_copy), sidecar_path(bad))
    json_out = tmp_path / "rows.json"
    code, out, err = run(capsys, "bench", onnx_copy, bad, *FAST_BENCH, "--json", json_out)
    assert code == ExitCode.FAILED, out + err
    rows = json.loads(json_out.read_text())["records"]
    by_path = {Path(r["artifact"]).parent.name: r for r in rows}
    assert by_path["copy"]["status"] == "ok"
    assert by_path["bad"]["status"] == "failed"
    assert "does not match its sidecar" in by_path["bad"]["reason"]
    assert "re-export" in by_path["bad"]["reason"]


def test_bench_fails_a_truncated_row(capsys, tmp_path, onnx_copy) -> None:
    onnx_copy.write_bytes(onnx_copy.read_bytes()[:1000])
    json_out = tmp_path / "rows.json"
    code, out, err = run(capsys, "bench", onnx_copy, *FAST_BENCH, "--json", json_out)
    assert code == ExitCode.FAILED, out + err
    (row,) = json.loads(json_out.read_text())["records"]
    assert "1000 bytes, the sidecar records" in row["reason"]


@pytest.fixture
def app(tmp_path) -> Path:
    from edgeseg.apps import android_demo

    root = tmp_path / "android_demo"
    (root / "app").mkdir(parents=True)
    shutil.copy(android_demo.default_app() / "app" / "build.gradle.kts", root / "app")
    return root


def test_android_demo_add_refuses_a_zero_byte_pte(capsys, tmp_path, app) -> None:
    pte = tmp_path / "m_fp32.pte"
    pte.write_bytes(b"")
    sidecar_path(pte).write_text(json.dumps(base_meta((64, 80))))  # no size/hash recorded
    code, out, err = run(capsys, "android-demo", "add", pte, "--app", app)
    assert code == ExitCode.BAD_INPUT, out + err
    line = one_error_line(err)
    assert str(pte) in line and "ExecuTorch" in line and "re-export" in line
    assert not (app / "app/src/main/assets/models").exists()


def test_android_demo_add_refuses_a_truncated_tflite(capsys, tmp_path, app, shared_export):
    outcome = shared_export("tflite")
    assert outcome.ok, outcome.parity.reason
    whole = outcome.result.path.read_bytes()
    cut = tmp_path / outcome.result.path.name
    cut.write_bytes(whole[: len(whole) // 2])
    side = json.loads(sidecar_path(outcome.result.path).read_text())
    sidecar_path(cut).write_text(json.dumps(side))  # records the whole file's size
    code, out, err = run(capsys, "android-demo", "add", cut, "--app", app)
    assert code == ExitCode.BAD_INPUT, out + err
    assert "does not match its sidecar" in one_error_line(err)
    for key in ("artifact_bytes", "artifact_sha256"):  # an older sidecar: the load decides
        del side[key]
    sidecar_path(cut).write_text(json.dumps(side))
    code, out, err = run(capsys, "android-demo", "add", cut, "--app", app)
    assert code == ExitCode.BAD_INPUT, out + err
    line = one_error_line(err)
    assert f"cannot add {cut}" in line and "re-export" in line
    assert not list((app / "app/src/main/assets").rglob("*.tflite"))


def test_artifact_teacher_refuses_a_file_that_does_not_match(capsys, tmp_path, onnx_copy):
    with open(onnx_copy, "ab") as fh:
        fh.write(b"\0" * 16)
    code, out, err = run(
        capsys,
        "distill",
        "lraspp_mobilenet_v3_small",
        "--teacher",
        onnx_copy,
        "--data",
        "sample",
        "--epochs",
        "1",
        "--out",
        tmp_path / "student",
        "--workers",
        "0",
    )
    assert code == ExitCode.BAD_INPUT, out + err
    line = one_error_line(err)
    assert onnx_copy.name in line and "does not match its sidecar" in line
    assert not (tmp_path / "student" / "best.pt").exists()


def test_weights_of_a_damaged_checkpoint_are_refused_as_weights(tmp_path, capsys) -> None:
    """``--weights`` reads checkpoints through another loader: it refuses the same damage."""
    from edgeseg.checkpoint import CheckpointMeta, save_checkpoint
    from edgeseg.data.sample import SAMPLE_CLASSES
    from edgeseg.models import create_model

    model = create_model("lraspp_mobilenet_v3_small", num_classes=len(SAMPLE_CLASSES))
    meta = CheckpointMeta(
        arch="lraspp_mobilenet_v3_small",
        num_classes=len(SAMPLE_CLASSES),
        classes=list(SAMPLE_CLASSES),
        palette=[[0, 0, 0]] * len(SAMPLE_CLASSES),
        mean=[0.5] * 3,
        std=[0.5] * 3,
        input_size=[32, 32],
        dataset="sample",
    )
    path = save_checkpoint(tmp_path / "w.pt", model, meta)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 32] = bytes(b ^ 0xFF for b in data[middle : middle + 32])
    path.write_bytes(bytes(data))
    argv = ["train", "lraspp_mobilenet_v3_small", "--data", "sample", "--epochs", "1"]
    code = main([*argv, "--quiet", "--weights", str(path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "is corrupt" in err and len(err.splitlines()) == 1, err
