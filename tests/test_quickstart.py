"""``edgeseg quickstart``: the sample is learnable, the whole chain (teacher → distilled student →
export → bench → report) produces real results, and impossible settings fail before training."""

from __future__ import annotations

import base64
import csv
import json
import os
from pathlib import Path

import pytest

from edgeseg.apps.quickstart import DEFAULT_STUDENT, DEFAULT_TEACHER, DISTILL_LOSSES
from edgeseg.checkpoint import load_checkpoint
from edgeseg.cli import main

FAST = ["--workers", "0", "--quiet"]


def test_quickstart_learns_the_sample(tmp_path, capsys) -> None:
    args = [
        "quickstart",
        "--out",
        str(tmp_path),
        "--epochs",
        "2",
        "--size",
        "64x80",
        "--distill-epochs",
        "1",
        "--skip-export",
        "--skip-bench",
        *FAST,
    ]
    code = main(args)
    out = capsys.readouterr().out
    assert code == 0, out
    teacher = json.loads((tmp_path / "teacher" / "eval" / "eval.json").read_text())
    # 5 classes; background alone would score ~0.18. Two epochs (at a quarter of the pixels) of
    # the ImageNet-initialised teacher must already find every one of the four shapes
    # (measured: 0.49 mIoU, shapes 0.28-0.49).
    assert teacher["miou"] > 0.35, teacher
    shapes = {k: v for k, v in teacher["per_class_iou"].items() if k != "background"}
    assert len(shapes) == 4 and min(shapes.values()) > 0.15, shapes
    assert teacher["arch"] == DEFAULT_TEACHER and teacher["size"] == [64, 80]
    for role in ("teacher", "student"):
        assert len(list((tmp_path / role / "eval" / "overlays").glob("*.png"))) == 4
    assert not (tmp_path / "export").exists() and not (tmp_path / "report").exists()
    assert f"teacher {100 * teacher['miou']:.1f}" in out


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("EDGESEG_SLOW"), reason="~50 s CPU: set EDGESEG_SLOW=1")
def test_quickstart_runs_the_whole_chain(tmp_path, capsys) -> None:
    args = [
        "quickstart",
        "--out",
        str(tmp_path),
        "--epochs",
        "1",
        "--distill-epochs",
        "1",
        "--size",
        "64x80",
        "--limit-train-batches",
        "2",
        "--targets",
        "onnx",
        "--quantize",
        "none,int8",
        "--runs",
        "2",
        "--warmup",
        "1",
        *FAST,
    ]
    code = main(args)
    out = capsys.readouterr().out
    assert code == 0, out
    for stage in ("teacher", "student", "eval", "export", "bench", "report"):
        assert f"✔ {stage}" in out, out

    student = load_checkpoint(tmp_path / "student.pt").meta
    assert student.arch == DEFAULT_STUDENT and student.input_size == [64, 80]
    assert student.recipe["kind"] == "distill"
    assert student.recipe["teacher"] == str(tmp_path / "teacher.pt")
    losses = [entry["name"] for entry in student.recipe["losses"]]
    assert losses == [spec.split(":")[0] for spec in DISTILL_LOSSES] == ["ce", "cwd"]
    assert student.recipe["teacher_cache"]
    assert student.recipe["teacher_info"]["kind"] == "checkpoint"
    teacher = load_checkpoint(tmp_path / "teacher.pt").meta
    assert teacher.arch == DEFAULT_TEACHER and teacher.recipe["backbone_weights"] == "imagenet"

    onnx = {f"{DEFAULT_STUDENT}_{q}.onnx": q for q in ("fp32", "int8")}
    for name in onnx:
        sidecar = json.loads((tmp_path / "export" / f"{name}.json").read_text())
        assert sidecar["source_checkpoint"] == "student.pt", sidecar
    exported = json.loads((tmp_path / "export" / "export.json").read_text())
    assert [(e["target"], e["parity"]["status"]) for e in exported] == [("onnx", "passed")] * 2

    report = json.loads((tmp_path / "report" / "bench.json").read_text())
    records = {r["name"]: r for r in report["records"]}
    assert set(records) == {"student.pt", "teacher.pt", *onnx}
    for name, record in records.items():
        assert record["status"] == "ok", record
        assert record["latency"]["median_ms"] > 0 and record["latency"]["runs"] == 2
        assert 0.0 <= record["miou"] <= 1.0 and record["images"] == 48, record
        assert record["runner"] == ("pytorch" if name.endswith(".pt") else "onnxruntime")
    # every op int8 but the LR-ASPP head's linear Resize, which onnxruntime runs in float
    assert records[f"{DEFAULT_STUDENT}_int8.onnx"]["quantization"] == "int8-mixed"
    # the eager student through the bench harness scores what its own evaluation said
    evaluated = json.loads((tmp_path / "student" / "eval" / "eval.json").read_text())
    assert abs(records["student.pt"]["miou"] - evaluated["miou"]) < 1e-6

    with open(tmp_path / "report" / "bench.csv", newline="") as f:
        assert len(list(csv.DictReader(f))) == 4
    png = (tmp_path / "report" / "bench.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    html = (tmp_path / "report" / "bench.html").read_text()
    assert base64.b64encode(png).decode("ascii") in html  # the same plot, inlined
    assert "student.pt" in html and "bench_overlays" not in html  # overlays inlined too
    assert "data:image/png;base64," in html.split("Overlays", 1)[1]
    assert f"HTML report: {tmp_path / 'report' / 'bench.html'}" in out


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--targets", "torchscript", "--quantize", "int8"],
            "error: torchscript does not support --quantize int8",
        ),
        (["--quantize", "none,int4"], "error: --quantize: Unknown mode 'int4'. Did you mean"),
        (["--student-arch", "lraspp_mobilenet_v3_smal"], "error: Unknown model"),
    ],
)
def test_impossible_settings_fail_before_training(tmp_path, capsys, options, message) -> None:
    code = main(["quickstart", "--out", str(tmp_path / "qs"), *options, *FAST])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert err.startswith(message), err
    assert not Path(tmp_path / "qs").exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--threads", "100000"], "error: --threads 100000 is out of range"),
        (["--runs", "0"], "error: --runs 0 is out of range"),
    ],
)
def test_bench_timing_out_of_range_fails_before_training(tmp_path, capsys, options, message):
    """The bench's own bounds (edgeseg.benchmarks.options), checked before any training."""
    code = main(["quickstart", "--out", str(tmp_path / "qs"), *options, *FAST])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert err.startswith(message), err
    assert not Path(tmp_path / "qs").exists()
