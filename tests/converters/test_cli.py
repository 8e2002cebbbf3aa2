"""``edgeseg export`` on the command line: output, bad input → one line + exit 2, atomicity."""

from __future__ import annotations

import json

import pytest
import torch

import edgeseg.converters.base
from edgeseg.cli import main
from edgeseg.converters.base import _CONVERTERS, Converter, ExportResult
from edgeseg.export import export_checkpoint


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["export", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err.strip()


def assert_one_line(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], err


def test_json_rows(capsys, checkpoint, tmp_path) -> None:
    code, out, err = run_cli(
        capsys,
        checkpoint,
        "--target",
        "torchscript",
        "--out",
        tmp_path,
        "--json",
        "--parity-images",
        "2",
    )
    assert code == 0, err
    (row,) = json.loads(out)
    assert row["target"] == "torchscript" and row["parity"]["status"] == "passed"
    assert row["bytes"] > 0 and row["seconds"] > 0


def test_table(capsys, checkpoint, tmp_path) -> None:
    code, out, err = run_cli(
        capsys, checkpoint, "--target", "torchscript", "--out", tmp_path, "--parity-images", "1"
    )
    assert code == 0, err
    assert "lraspp_mobilenet_v3_small_fp32.pt" in out and "✅" in out


def test_torchscript_int8_points_to_executorch(capsys, checkpoint, tmp_path) -> None:
    code, _, err = run_cli(capsys, checkpoint, "--target", "torchscript", "--quantize", "int8")
    assert_one_line(code, err, "torchscript", "int8", "ExecuTorch")


def test_unknown_target_suggests(capsys, checkpoint) -> None:
    code, _, err = run_cli(capsys, checkpoint, "--target", "onxx")
    assert_one_line(code, err, "onxx", "Did you mean 'onnx'")


def test_not_an_edgeseg_checkpoint(capsys, tmp_path) -> None:
    path = tmp_path / "foreign.pt"
    torch.save({"conv.weight": torch.zeros(1)}, path)
    code, _, err = run_cli(capsys, path, "--target", "torchscript")
    assert_one_line(code, err, "foreign.pt", "not an edgeseg checkpoint")


def test_missing_calibration_data(capsys, checkpoint, tmp_path) -> None:
    pytest.importorskip("onnxruntime")
    missing = tmp_path / "nope"
    code, _, err = run_cli(
        capsys,
        checkpoint,
        "--target",
        "onnx",
        "--quantize",
        "int8",
        "--calib-data",
        f"folder:{missing}",
    )
    assert_one_line(code, err, str(missing))


def test_too_small_size(capsys, checkpoint) -> None:
    code, _, err = run_cli(capsys, checkpoint, "--target", "torchscript", "--size", "16x16")
    assert_one_line(code, err, "16x16", "too small")


@pytest.mark.parametrize(
    ("extra", "flag"),
    [
        (["--per-tensor"], "--per-tensor"),
        (["--calib-images", "8"], "--calib-images"),
        (["--target", "onnx", "--quantize", "fp16", "--per-tensor"], "--per-tensor"),
    ],
)
def test_int8_calibration_options_without_int8_are_refused(
    capsys, checkpoint, tmp_path, extra, flag
) -> None:
    """They would change nothing: refused before anything is loaded or written."""
    out = tmp_path / "out"
    target = [] if "--target" in extra else ["--target", "torchscript"]
    code, _, err = run_cli(capsys, checkpoint, *target, "--out", out, *extra)
    assert_one_line(code, err, f"{flag} has no effect with --quantize", "--quantize int8")
    assert not out.exists()


class _Broken(Converter):
    name = "broken"
    suffix = ".bin"

    def convert(self, model, example, out_path, spec) -> ExportResult:
        out_path.write_bytes(b"half a file")
        raise RuntimeError("disk on fire")


def test_failure_leaves_no_file_and_others_still_run(monkeypatch, checkpoint, tmp_path) -> None:
    registry = {"torchscript": _CONVERTERS["torchscript"], "broken": _Broken}
    monkeypatch.setattr(edgeseg.converters.base, "_CONVERTERS", registry)  # keep "all" fast
    outcomes = export_checkpoint(checkpoint, "all", out=tmp_path, parity_images=1)
    broken = next(o for o in outcomes if o.target == "broken")
    assert not broken.ok and broken.parity.status == "failed"
    assert broken.parity.reason == "RuntimeError: disk on fire"
    assert any(o.ok for o in outcomes)
    assert not list(tmp_path.glob("*.bin*")) and not list(tmp_path.glob(".*.tmp"))


def test_failed_export_never_overwrites_a_good_artifact(monkeypatch, checkpoint, tmp_path) -> None:
    (good,) = export_checkpoint(checkpoint, "torchscript", out=tmp_path, parity_images=1)
    before = good.result.path.read_bytes()

    def garbage(self, model, example, out_path, spec):
        out_path.write_bytes(b"not torchscript")  # converts "fine", but cannot be loaded
        return ExportResult("torchscript", "fp32", out_path, 15, 0.0)

    monkeypatch.setattr(_CONVERTERS["torchscript"], "convert", garbage)
    (bad,) = export_checkpoint(checkpoint, "torchscript", out=tmp_path, parity_images=1)
    assert not bad.ok and bad.parity.status == "failed"
    assert good.result.path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        good.result.path.name,
        good.result.path.name + ".json",
    ]


def test_absent_dataset_skips_parity_but_exports(checkpoint, tmp_path) -> None:
    payload = torch.load(checkpoint, weights_only=True)
    payload["meta"]["dataset"] = f"folder:{tmp_path / 'gone'}"
    moved = tmp_path / "moved.pt"
    torch.save(payload, moved)
    (outcome,) = export_checkpoint(moved, "torchscript", out=tmp_path / "out")
    assert outcome.ok and outcome.parity.status == "skipped"
    assert "gone" in outcome.parity.reason


def test_all_int8_records_unsupported_targets_and_explains(
    monkeypatch, capsys, checkpoint, tmp_path
) -> None:
    """``--target all --quantize int8 --explain --json``: the int8 target is exported and
    explained op by op; the one without int8 is a failed row with its reason, not an error."""
    pytest.importorskip("onnxruntime")
    registry = {k: _CONVERTERS[k] for k in ("onnx", "torchscript")}
    monkeypatch.setattr(edgeseg.converters.base, "_CONVERTERS", registry)
    code, out, err = run_cli(
        capsys,
        checkpoint,
        "--target",
        "all",
        "--quantize",
        "int8",
        "--calib-images",
        "2",
        "--parity-images",
        "1",
        "--out",
        tmp_path,
        "--explain",
        "--json",
    )
    assert code == 0, err
    by_name = {row["target"]: row for row in json.loads(out)}
    onnx, torchscript = by_name["onnx"], by_name["torchscript"]
    assert onnx["path"] and onnx["quantize"] in ("int8", "int8-mixed")
    # the census of what onnxruntime executes: fused QLinear kernels, float ops named
    explain = onnx["explain"]
    assert any(line.startswith("QLinearConv: ") and " int8, " in line for line in explain)
    assert any(line.startswith(("float ops: ", "every compute op is int8")) for line in explain)
    assert torchscript["path"] is None and "ExecuTorch" in torchscript["parity"]["reason"]
    assert torchscript["explain"] == [f"not exported: {torchscript['parity']['reason']}"]
    code = main(
        [
            "export",
            str(checkpoint),
            "--target",
            "torchscript",
            "--out",
            str(tmp_path),
            "--parity-images",
            "1",
            "--explain",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "--explain" in out and "nothing to explain" in out
