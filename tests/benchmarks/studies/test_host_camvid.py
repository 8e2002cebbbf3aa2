"""The host evidence script's bookkeeping: its commands and its best-int8 / best-fp32 verdict."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from benchmarks.studies.host_camvid import CLASS_MAP, commands, summarize
from edgeseg.data.camvid import CAMVID_CLASSES
from edgeseg.data.voc import VOC_CLASSES
from edgeseg.distill.classmap import resolve_class_map


def rec(name: str, runner: str, quant: str, median: float | None, status: str = "ok") -> dict:
    latency = None if median is None else {"median_ms": median}
    return {
        "name": name,
        "runner": runner,
        "quantization": quant,
        "status": status,
        "latency": latency,
    }


def test_best_int8_over_best_fp32_leaves_out_the_checkpoint_and_failures() -> None:
    records = [
        rec("best.pt", "pytorch", "fp32", 5.0),  # eager checkpoint: the baseline, not an artifact
        rec("m_fp32.onnx", "onnxruntime", "fp32", 20.0),
        rec("m_fp32.tflite", "tflite", "fp32", 16.0),
        rec("m_int8.tflite", "tflite", "int8-mixed", 12.0),
        rec("m_int8.onnx", "onnxruntime", "int8", 10.0),
        rec("m_q8.pte", "executorch", "int8", None, status="failed"),
    ]
    s = summarize(records)
    assert (s["best_fp32"], s["best_int8"], s["best_int8_speedup"]) == (
        "m_fp32.tflite",
        "m_int8.onnx",
        1.6,
    )


def test_commands_are_real_edgeseg_invocations(tmp_path: Path, camvid_dir, monkeypatch) -> None:
    monkeypatch.setenv("EDGESEG_SHARED", str(camvid_dir.parents[1]))
    args = argparse.Namespace(
        student=Path("s.pt"), size="180x240", threads=1, runs=5, targets="all", images=None
    )
    steps = commands(args, tmp_path)
    assert steps["export_int8"][:2] == ["export", "s.pt"] and "int8" in steps["export_int8"]
    assert "--roofline" in steps["bench_student"]
    voc = steps["bench_voc"]
    assert voc[voc.index("--class-map") + 1] == str(CLASS_MAP)
    assert Path(voc[1]).name == "deeplabv3_257_mv_gpu.tflite"
    cmap = resolve_class_map(list(VOC_CLASSES), list(CAMVID_CLASSES), str(CLASS_MAP), 21)
    car, pedestrian = CAMVID_CLASSES.index("Car"), CAMVID_CLASSES.index("Pedestrian")
    assert {VOC_CLASSES[i] for i in cmap.sources[car]} == {"car", "bus", "train"}
    assert [VOC_CLASSES[i] for i in cmap.sources[pedestrian]] == ["person"]


def test_data_sends_every_bench_to_another_split(tmp_path: Path, camvid_dir, monkeypatch) -> None:
    """``--data`` (e.g. a held-out drive's view) scores the student and the reference model on
    the same list; without it both score the shared CamVid."""
    from benchmarks.studies.host_camvid import parse

    monkeypatch.setenv("EDGESEG_SHARED", str(camvid_dir.parents[1]))
    folder = tmp_path / "view"  # a held-out-drive view: two training frames as its val list
    folder.mkdir()
    for sub in ("train", "trainannot"):
        (folder / sub).symlink_to(camvid_dir / sub)
    pairs = (camvid_dir / "train.txt").read_text().splitlines()
    (folder / "train.txt").write_text("\n".join(pairs[2:]) + "\n")
    (folder / "val.txt").write_text("\n".join(pairs[:2]) + "\n")
    view = f"camvid:{folder}"
    for argv, data in (([], f"camvid:{camvid_dir}"), (["--data", view], view)):
        steps = commands(parse(["s.pt", *argv]), tmp_path)
        for name in ("bench_student", "bench_voc"):
            assert steps[name][steps[name].index("--data") + 1] == data, (name, argv)


def test_a_missing_data_folder_is_refused_before_any_export(tmp_path: Path, camvid_dir) -> None:
    """Through the script's entry point: one line, exit 2, and no export folder."""
    import subprocess
    import sys

    out = tmp_path / "run"
    argv = ["s.pt", "--data", f"camvid:{tmp_path / 'nowhere'}", "--out", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.studies.host_camvid", *argv],
        capture_output=True,
        text=True,
        cwd=Path(CLASS_MAP).parents[2].parent,
        env={**os.environ, "EDGESEG_SHARED": str(camvid_dir.parents[1])},
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0 and "nowhere does not exist" in done.stderr
    assert not out.exists()


def test_the_recorded_commands_are_what_the_recorded_run_does_now(camvid_dir, monkeypatch) -> None:
    """``benchmarks/results/host_camvid.json``'s commands, derived again from its own options:
    the same words, but for the class map, which moved to ``benchmarks/studies/classmaps``."""
    record = json.loads((Path(CLASS_MAP).parents[2] / "results" / "host_camvid.json").read_text())
    monkeypatch.setenv("EDGESEG_SHARED", str(camvid_dir.parents[1]))
    student, out = (
        record["command"].split()[3],
        Path(record["command"].split("--out ")[1].split()[0]),
    )
    args = argparse.Namespace(
        student=Path(student), size="180x240", threads=1, runs=30, targets="all", images=None
    )
    shared = str(camvid_dir.parents[1])
    expected = {
        name: [w.replace("/work/shared", shared) for w in argv]
        for name, argv in record["commands"].items()
    }
    voc = expected["bench_voc"]
    voc[voc.index("--class-map") + 1] = str(CLASS_MAP)
    assert commands(args, out) == expected
