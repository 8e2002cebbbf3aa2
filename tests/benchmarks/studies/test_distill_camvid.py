"""The distillation evidence scripts' bookkeeping: which runs read the teacher cache, reuse of a
finished run, and the verdict against the +3 mIoU target. No training here (the runs take
minutes per epoch); the scripts' full path is exercised by a real run on CamVid."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from benchmarks.studies.distill_camvid import (
    RECIPES,
    render_camvid,
    reuse_or_run,
    run_config,
    write_results,
)
from benchmarks.studies.recipe import command


def run_command(name: str, losses, args, extra: dict) -> list[str]:
    """The ``edgeseg`` argv the study records for one run (derived from its config)."""
    return command(run_config(name, losses, args, extra))


@pytest.fixture
def args(camvid_dir: Path, tmp_path: Path, monkeypatch) -> argparse.Namespace:
    monkeypatch.setenv("EDGESEG_SHARED", str(camvid_dir.parents[1]))
    return argparse.Namespace(
        out=str(tmp_path / "runs"),
        student="lraspp_mobilenet_v3_small",
        size="180x240",
        epochs=2,
        seed=0,
        teacher="t.pt",
        teacher_size="240x320",
        cache=True,
        teacher_option=[],
    )


def test_only_logit_recipes_read_the_teacher_cache(args) -> None:
    alone = run_command("a_alone", RECIPES["a_alone"], args, {})
    assert alone[0] == "train" and "--teacher" not in alone
    cached = run_command("b_response_kd", RECIPES["b_response_kd"], args, {"workers": 1})
    assert cached[cached.index("--teacher-cache") + 1].endswith("teacher_cache")
    assert cached[cached.index("--teacher-size") + 1] == "240x320" and "--workers" in cached
    live = run_command("c_response_feature", RECIPES["c_response_feature"], args, {})
    assert "--teacher-cache" not in live  # feature KD needs the live teacher's features


def test_teacher_options_go_to_the_distill_runs_only(args) -> None:
    args.teacher_option = ["tta_scales=1,1.5"]
    kd = run_command("d_alt", RECIPES["d_alt"], args, {})
    assert kd[kd.index("--teacher-option") + 1] == "tta_scales=1,1.5"
    assert "--teacher-option" not in run_command("a_alone", None, args, {})


def test_a_finished_run_is_reused_only_for_the_same_command(tmp_path) -> None:
    calls = []

    def run_once(out: Path, cmd: list[str]) -> float:
        return reuse_or_run(out / "run.json", cmd, lambda: calls.append(cmd))

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
    runs = [
        {
            "run": name,
            "command": "edgeseg …",
            "best_miou": miou,
            "best_epoch": 2,
            "last_miou": miou,
            "epoch_seconds": 1.0,
            "wall_seconds": 60.0,
            "per_class_iou": per_class,
        }
        for name, miou in scores
    ]
    return {
        "command": "python -m …",
        "student": "s",
        "size": "180x240",
        "epochs": 2,
        "seed": 0,
        "teacher": "t.pt",
        "teacher_size": None,
        "teacher_val_miou": 0.6,
        "runs": runs,
        "best_kd_gain": gain,
        "target_gain": 0.03,
    }


def test_the_verdict_follows_the_numbers() -> None:
    assert "**not met**" in "\n".join(render_camvid(_section(0.02)))
    assert "(from scratch)" in "\n".join(render_camvid(_section(0.02)))
    text = "\n".join(render_camvid(_section(0.05)))
    assert "+5.00 mIoU" in text and ": met)" in text and "| —" in text


def test_hand_written_notes_survive_a_re_render(tmp_path) -> None:
    write_results(tmp_path, "camvid", _section(0.01))
    md = tmp_path / "distill_camvid.md"
    md.write_text(md.read_text() + "\nWhy we chose 180x240.\n")
    write_results(tmp_path, "camvid", _section(0.04))
    text = md.read_text()
    assert "Why we chose 180x240." in text and "+4.00 mIoU" in text and "+1.00" not in text


def _history(folder: Path, mious: list[float]) -> Path:
    folder.mkdir(parents=True)
    rows = [{"epoch": i + 1, "loss": 1.0, "miou": m} for i, m in enumerate(mious)]
    (folder / "history.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def test_curves_summarise_each_run_and_write_a_png(tmp_path, capsys) -> None:
    from benchmarks.studies import distill_curves

    alone = _history(tmp_path / "alone", [0.1, 0.5, 0.4, 0.45, 0.42, 0.44, 0.43])
    kd = _history(tmp_path / "kd", [0.3, 0.6, 0.5])
    out = tmp_path / "curves.png"
    assert distill_curves.main([f"s/alone={alone}", f"s/kd={kd}", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "best 50.00 (epoch 2) last-5 mean 42.80" in lines[0]  # (.4+.45+.42+.44+.43)/5
    assert "best 60.00 (epoch 2) last-5 mean 46.67" in lines[1]  # fewer epochs than 5
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(SystemExit, match="write PANEL/LABEL=RUN_DIR"):
        distill_curves.main([f"alone={alone}", "--out", str(out)])
    with pytest.raises(SystemExit, match="must be an edgeseg train/distill --out"):
        distill_curves.main([f"s/x={tmp_path / 'missing'}", "--out", str(tmp_path / "y.png")])
    assert not (tmp_path / "y.png").exists()


def test_a_bad_teacher_option_is_refused_before_the_plain_run_trains(
    camvid_dir, sample_checkpoint, tmp_path, monkeypatch
) -> None:
    from benchmarks.studies.distill_camvid import main
    from edgeseg.errors import EdgesegError

    monkeypatch.setenv("EDGESEG_SHARED", str(camvid_dir.parents[1]))
    out, results = tmp_path / "runs", tmp_path / "results"
    argv = ["--teacher", str(sample_checkpoint), "--teacher-option", "foo=1", "--size", "32x40",
            "--epochs", "1", "--only", "a_alone,b_response_kd", "--out", str(out),
            "--results", str(results), "--", "--workers", "0"]  # fmt: skip
    with pytest.raises(EdgesegError, match="b_response_kd failed: --teacher-option foo: the"):
        main(argv)
    assert not (out / "a_alone").exists() and not results.exists()


def test_a_crowded_panel_draws_each_study_as_its_seed_mean() -> None:
    """Past CROWDED runs a panel draws one line per study: the mean over the epochs every seed
    reached, with the seeds' min–max band; a single-seed study keeps its own name."""
    from benchmarks.studies import distill_curves

    def rows(*mious: float) -> list[dict]:
        return [{"epoch": i + 1, "miou": m} for i, m in enumerate(mious)]

    runs = [("kd s0", rows(0.2, 0.4, 0.5)), ("kd s1", rows(0.4, 0.6)), ("alone s0", rows(0.1))]
    lines = distill_curves.seed_means(runs)
    assert [label for label, _, _ in lines] == ["kd, mean of 2", "alone"]
    label, mean, (low, high) = lines[0]
    assert [r["epoch"] for r in mean] == [1, 2]  # epoch 3: one seed only, not a mean
    assert [round(r["miou"], 6) for r in mean] == [0.3, 0.5]
    assert [round(x, 6) for x in low] == [20.0, 40.0] and [round(x, 6) for x in high] == [40, 60]
    crowded = [("p", f"t{k % 3} s{k // 3}", rows(0.1 * k, 0.1 * k + 0.05)) for k in range(9)]
    assert distill_curves.plot_png(crowded)[:8] == b"\x89PNG\r\n\x1a\n"
