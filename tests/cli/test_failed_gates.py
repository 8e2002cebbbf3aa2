"""A failed gate or stage exits 3 (issue 16, class 5): ``export`` whose parity check is
``below`` its threshold, ``quickstart`` with a failed export, gate or bench row; and
``--teacher-size`` has the same bounds as every ``--size``."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from edgeseg.apps.quickstart import QuickstartConfig, QuickstartResult
from edgeseg.benchmarks.base import RunResult
from edgeseg.checkpoint import weights_digest
from edgeseg.cli import main
from edgeseg.converters.base import ExportResult
from edgeseg.converters.parity import ParityResult
from edgeseg.distill.teachers.base import TeacherOptions
from edgeseg.errors import ConfigError, ExitCode
from edgeseg.export import ExportOutcome
from edgeseg.quantization import QuantLabel, QuantMode


def near_tie_checkpoint(src: Path, dst: Path) -> Path:
    """``src`` with a head whose two first classes differ by 1e-4 on a logit of 50 everywhere:
    fp32 tells them apart (class 1 wins), fp16 cannot (a tie: class 0) — a real artifact whose
    parity is far below the fp16 threshold."""
    payload = torch.load(src, map_location="cpu", weights_only=True)
    state = payload["state_dict"]
    for name in ("low_classifier", "high_classifier"):
        weight, bias = state[f"classifier.{name}.weight"], state[f"classifier.{name}.bias"]
        weight.zero_()
        bias.fill_(-100.0)
        if name == "low_classifier":
            bias[0], bias[1] = 50.0, 50.0001
        else:
            bias[0] = bias[1] = 0.0
    payload["meta"]["weights_sha256"] = weights_digest(state)
    torch.save(payload, dst)
    return dst


def test_export_parity_below_its_gate_exits_3(capsys, tmp_path, tiny_checkpoint) -> None:
    pytest.importorskip("onnxruntime")
    ckpt = near_tie_checkpoint(tiny_checkpoint, tmp_path / "tie.pt")
    code = main(
        [
            "export",
            str(ckpt),
            "--target",
            "onnx",
            "--quantize",
            "fp16",
            "--parity-images",
            "2",
            "--out",
            str(tmp_path / "out"),
            "--json",
        ]
    )
    out, err = capsys.readouterr()
    assert code == ExitCode.FAILED, out + err
    assert '"status": "below"' in out, out
    assert list((tmp_path / "out").glob("*.onnx"))  # exported: the gate, not the target, failed


def _outcome(status: str, exported: bool = True) -> ExportOutcome:
    result = ExportResult("onnx", QuantLabel.FP32, Path("m.onnx"), 10, 0.1) if exported else None
    return ExportOutcome("onnx", QuantMode.NONE, result, ParityResult(status))


def test_quickstart_result_names_what_failed(tmp_path) -> None:
    result = QuickstartResult(QuickstartConfig(out=tmp_path))
    result.exports = [_outcome("passed"), _outcome("skipped", exported=False)]
    assert result.failed == []  # a skipped target is no failure
    result.exports.append(_outcome("below"))
    result.exports.append(_outcome("failed", exported=False))
    assert result.failed == ["export onnx none", "parity onnx none below"]

    from edgeseg.benchmarks.bench import BenchReport
    from edgeseg.benchmarks.options import BenchOptions

    rows = [RunResult("a.onnx", "onnxruntime", "host"), RunResult("b.tflite", "tflite", "host")]
    rows[1].status = "failed"
    result.bench = BenchReport(rows, BenchOptions())
    assert result.failed[-1] == "bench b.tflite on host"


@pytest.mark.parametrize("size", [(1, 1), (30000, 30000)])
def test_teacher_size_is_bounded(size) -> None:
    with pytest.raises(ConfigError, match=r"--teacher-size .*(small|large)"):
        TeacherOptions(size=size)
    assert TeacherOptions(size=(64, 80)).size == (64, 80)


def test_cli_teacher_size_out_of_range_exits_2(capsys) -> None:
    code = main(
        ["distill", "lraspp_mobilenet_v3_small", "--teacher", "x.pt", "--teacher-size", "8x8"]
    )
    err = capsys.readouterr().err
    assert code == ExitCode.BAD_INPUT and "--teacher-size 8x8 is too small" in err, err
