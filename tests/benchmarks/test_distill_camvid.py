"""The distillation evidence scripts' bookkeeping: which runs read the teacher cache, reuse of a
finished run, and the verdict against the +3 mIoU target. No training here (the runs take
minutes per epoch); the scripts' full path is exercised by a real run on CamVid."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from benchmarks import distill_camvid
from benchmarks.distill_camvid import RECIPES, render_camvid, run_command, run_once, write_results


@pytest.fixture
def args(camvid_dir: Path, tmp_path: Path, monkeypatch) -> argparse.Namespace:
    monkeypatch.setenv("EDGESEG_SHARED", str(camvid_dir.parents[1]))
    return argparse.Namespace(
        out=str(tmp_path / "runs"), student="lraspp_mobilenet_v3_small", size="180x240",
        epochs=2, seed=0, teacher="t.pt", teacher_size="240x320", cache=True,
    )  # fmt: skip


def test_only_logit_recipes_read_the_teacher_cache(args) -> None:
    alone = run_command("a_alone", RECIPES["a_alone"], args, [])
    assert alone[0] == "train" and "--teacher" not in alone
    cached = run_command("b_response_kd", RECIPES["b_response_kd"], args, ["--workers", "1"])
    assert cached[cached.index("--teacher-cache") + 1].endswith("teacher_cache")
    assert cached[cached.index("--teacher-size") + 1] == "240x320" and "--workers" in cached
    live = run_command("c_response_feature", RECIPES["c_response_feature"], args, [])
    assert "--teacher-cache" not in live  # feature KD needs the live teacher's features


def test_a_finished_run_is_reused_only_for_the_same_command(tmp_path, monkeypatch) -> None:
    calls = []
    monkeypatch.setattr(distill_camvid, "edgeseg_main", lambda cmd: calls.append(cmd) or 0)
    out = tmp_path / "run"
    out.mkdir()
    first = run_once(out, ["train", "x"])
    assert run_once(out, ["train", "x"]) == first and len(calls) == 1
    run_once(out, ["train", "y"])
    assert len(calls) == 2
    assert json.loads((out / "run.json").read_text())["command"] == ["train", "y"]


def _section(gain: float) -> dict:
    per_class = {"Sky": 0.9, "Pole": None}
    scores = (("a_alone", 0.3), ("d", 0.3 + gain))
    runs = [{"run": name, "command": "edgeseg …", "best_miou": miou, "best_epoch": 2,
             "last_miou": miou, "epoch_seconds": 1.0, "wall_seconds": 60.0,
             "per_class_iou": per_class} for name, miou in scores]  # fmt: skip
    return {"command": "python -m …", "student": "s", "size": "180x240", "epochs": 2, "seed": 0,
            "teacher": "t.pt", "teacher_size": None, "teacher_val_miou": 0.6, "runs": runs,
            "best_kd_gain": gain, "target_gain": 0.03}  # fmt: skip


def test_the_verdict_follows_the_numbers() -> None:
    assert "**not met**" in "\n".join(render_camvid(_section(0.02)))
    text = "\n".join(render_camvid(_section(0.05)))
    assert "+5.00 mIoU" in text and ": met)" in text and "| —" in text


def test_hand_written_notes_survive_a_re_render(tmp_path) -> None:
    write_results(tmp_path, "camvid", _section(0.01))
    md = tmp_path / "distill_camvid.md"
    md.write_text(md.read_text() + "\nWhy we chose 180x240.\n")
    write_results(tmp_path, "camvid", _section(0.04))
    text = md.read_text()
    assert "Why we chose 180x240." in text and "+4.00 mIoU" in text and "+1.00" not in text
