"""Each study that drives the library end to end, run on tiny settings (the built-in ``sample``
data where the study allows it, else one CamVid batch): what it writes, that it records the
command that ran, that ``--help`` and a failure record nothing. The real runs take hours."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from benchmarks.studies import recipe

TINY = ["--limit-train-batches", "1", "--limit-val-batches", "1", "--workers", "0"]


def slow(test):
    """More than ~30 s on two cores: run with EDGESEG_SLOW=1 (as tests/test_quickstart.py)."""
    skip = pytest.mark.skipif(not os.environ.get("EDGESEG_SLOW"), reason="set EDGESEG_SLOW=1")
    return skip(pytest.mark.slow(test))


def untrained_camvid_student(path: Path, camvid_dir: Path) -> Path:
    """A CamVid-class lraspp_mobilenet_v3_small at 32x48, random weights (nothing to learn)."""
    import torch

    from edgeseg.checkpoint import CheckpointMeta, save_checkpoint
    from edgeseg.data.camvid import CAMVID_CLASSES
    from edgeseg.data.classes import voc_colormap
    from edgeseg.models import create_model

    torch.manual_seed(0)
    model = create_model("lraspp_mobilenet_v3_small", num_classes=len(CAMVID_CLASSES)).eval()
    meta = CheckpointMeta(
        arch="lraspp_mobilenet_v3_small",
        num_classes=len(CAMVID_CLASSES),
        classes=list(CAMVID_CLASSES),
        palette=[list(c) for c in voc_colormap(len(CAMVID_CLASSES))],
        mean=[0.485, 0.456, 0.406],
        std=[0.229, 0.224, 0.225],
        input_size=[32, 48],
        dataset=f"camvid:{camvid_dir}",
    )
    return save_checkpoint(path, model, meta)


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_camvid_train_help_shows_the_options_and_records_nothing(tmp_path, capsys) -> None:
    from benchmarks.studies import camvid_train

    before = {p: p.stat().st_mtime for p in camvid_train.RESULTS.glob("camvid_train.*")}
    with pytest.raises(SystemExit) as exc:
        camvid_train.main(["--results", str(tmp_path), "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "--epochs" in text and "--class-weights" in text and "--backbone-weights" in text
    assert files(tmp_path) == []
    assert {p: p.stat().st_mtime for p in camvid_train.RESULTS.glob("camvid_train.*")} == before


def test_camvid_train_that_fails_records_nothing(tmp_path, camvid_dir, monkeypatch) -> None:
    from benchmarks.studies import camvid_train
    from edgeseg.errors import EdgesegError

    monkeypatch.setenv("EDGESEG_SHARED", str(camvid_dir.parents[1]))
    results, out = tmp_path / "results", tmp_path / "run"
    with pytest.raises(EdgesegError):  # validated by TrainConfig before anything runs
        camvid_train.main(["lraspp_mobilenet_v3_small", "--epochs", "0", "--results", str(results)])
    with pytest.raises(EdgesegError):  # fails inside fit
        camvid_train.main(["no_such_model", "--out", str(out), "--results", str(results)])
    assert files(results) == []


@slow
def test_camvid_train_records_the_run_and_its_command(tmp_path, camvid_dir, monkeypatch) -> None:
    from benchmarks.studies import camvid_train

    monkeypatch.setenv("EDGESEG_SHARED", str(camvid_dir.parents[1]))
    results, out = tmp_path / "results", tmp_path / "run"
    argv = ["lraspp_mobilenet_v3_small", "--size", "32x48", "--epochs", "1", "-b", "2"]
    argv += [*TINY, "--out", str(out), "--results", str(results)]
    assert camvid_train.main(argv) == 0
    assert files(results) == ["camvid_train.json", "camvid_train.md"]
    record = json.loads((results / "camvid_train.json").read_text())
    assert record["command"] == "python -m benchmarks.studies.camvid_train " + " ".join(argv)
    assert record["edgeseg_command"].startswith(
        f"edgeseg train lraspp_mobilenet_v3_small --data camvid:{camvid_dir} --out {out}"
    )
    assert (
        " --size 32x48 " in record["edgeseg_command"]
        and " --batch-size 2 " in (record["edgeseg_command"])
    )
    assert record["epochs"] == 1 and len(record["per_class_iou"]) == 11  # from the evaluation
    assert (out / "eval" / "eval.json").is_file()
    assert "| Sky |" in (results / "camvid_train.md").read_text()


def test_distill_camvid_runs_each_recipe_once_and_records_its_command(
    tmp_path, sample_checkpoint, monkeypatch
) -> None:
    """On ``sample`` (the study reads CamVid through ``camvid_spec``), the teacher a tiny
    checkpoint: a student alone and with response KD from the live teacher (``--no-cache``:
    filling the cache is the cache-speed study's test)."""
    from benchmarks.studies import distill_camvid

    monkeypatch.setattr(distill_camvid, "camvid_spec", lambda: "sample")
    runs, results = tmp_path / "runs", tmp_path / "results"
    argv = ["--teacher", str(sample_checkpoint), "--size", "32x48", "--epochs", "1"]
    argv += ["--only", "a_alone,b_response_kd", "--no-cache", "--out", str(runs)]
    argv += ["--results", str(results)]
    argv += ["--", *TINY, "--batch-size", "2"]
    assert distill_camvid.main(argv) == 0
    assert files(results) == ["distill_camvid.json", "distill_camvid.md"]
    section = json.loads((results / "distill_camvid.json").read_text())["camvid"]
    assert section["command"] == "python -m benchmarks.studies.distill_camvid " + " ".join(argv)
    alone, kd = section["runs"]
    assert alone["command"].startswith("edgeseg train lraspp_mobilenet_v3_small --data sample")
    assert kd["command"].startswith("edgeseg distill lraspp_mobilenet_v3_small --data sample")
    assert (
        f"--teacher {sample_checkpoint} " in kd["command"]
        and "--teacher-cache" not in kd["command"]
    )
    assert " --loss ce --loss kd" in kd["command"] and " --batch-size 2 " in kd["command"]
    assert not (runs / "teacher_cache").exists() and 0 <= section["teacher_val_miou"] <= 1
    for run in (alone, kd):
        marker = json.loads((runs / run["run"] / "run.json").read_text())
        assert recipe.shown(marker["command"]) == run["command"]
    md = (results / "distill_camvid.md").read_text()
    assert f"- b_response_kd: `{kd['command']}`" in md and "Best KD − alone" in md

    def no_second_run(cfg):
        raise AssertionError(f"{cfg.out} ran again")

    monkeypatch.setattr(recipe, "execute", no_second_run)  # same commands: both runs reused
    assert distill_camvid.main(argv) == 0
    again = json.loads((results / "distill_camvid.json").read_text())["camvid"]["runs"]
    assert [r["wall_seconds"] for r in again] == [alone["wall_seconds"], kd["wall_seconds"]]


def test_distill_cache_speed_times_three_runs(tmp_path, sample_checkpoint, monkeypatch) -> None:
    from benchmarks.studies import distill_cache_speed

    monkeypatch.setattr(distill_cache_speed, "camvid_spec", lambda: "sample")
    runs, results = tmp_path / "runs", tmp_path / "results"
    argv = ["--teacher", str(sample_checkpoint), "--size", "32x48", "--epochs", "1"]
    argv += ["--batch-size", "2", "--workers", "0", "--limit-train-batches", "1"]
    argv += ["--out", str(runs), "--results", str(results)]
    assert distill_cache_speed.main(argv) == 0
    assert files(results) == ["distill_cache_speed.json", "distill_cache_speed.md"]
    record = json.loads((results / "distill_cache_speed.json").read_text())
    plain, cached, uncached = record["runs"]
    assert [r["run"] for r in record["runs"]] == ["plain", "cached", "uncached"]
    assert plain["command"].startswith("edgeseg train ") and plain["ratio_to_plain"] == 1.0
    assert f"--teacher-cache {runs / 'cache'}" in cached["command"]
    assert "--teacher-cache" not in uncached["command"] and "--loss kd" in uncached["command"]
    assert " --limit-train-batches 1 " in uncached["command"]
    assert record["cached_ratio"] == cached["ratio_to_plain"] and len(plain["epoch_seconds"]) == 1
    assert f"`{cached['command']}`" in (results / "distill_cache_speed.md").read_text()


@slow
def test_distill_pseudo_records_agreement_and_latency(tmp_path, camvid_dir, monkeypatch) -> None:
    """Google's VOC TFLite teaches on 20 CamVid photos; the student is exported and timed."""
    from benchmarks.studies import distill_pseudo

    monkeypatch.setenv("EDGESEG_SHARED", str(camvid_dir.parents[1]))

    def twenty_photos(out: Path) -> Path:
        folder = out / "unlabeled"
        folder.mkdir(parents=True)
        for image in sorted((camvid_dir / "val").glob("*.png"))[:20]:
            (folder / image.name).symlink_to(image)
        return folder

    monkeypatch.setattr(distill_pseudo, "unlabeled_folder", twenty_photos)
    runs, results = tmp_path / "runs", tmp_path / "results"
    argv = ["--size", "32x48", "--epochs", "1", "--runs", "2", "--out", str(runs)]
    argv += ["--results", str(results), "--", *TINY, "--batch-size", "2"]
    assert distill_pseudo.main(argv) == 0
    section = json.loads((results / "distill_camvid.json").read_text())["pseudo"]
    assert section["command"].startswith("edgeseg distill lraspp_mobilenet_v3_small --data sample")
    assert "--teacher-classes voc" in section["command"] and section["images"] == 20
    assert Path(section["student_file"]).suffix == ".tflite" and section["latency_ratio"] > 0
    assert json.loads((runs / "student" / "run.json").read_text())["command"][0] == "distill"
    assert "## 2. Pseudo-label distillation" in (results / "distill_camvid.md").read_text()


@slow
def test_host_camvid_exports_benches_and_records(tmp_path, camvid_dir, monkeypatch) -> None:
    """An untrained CamVid-class student, ONNX only, 2 images for mIoU, 2 timed runs."""
    from benchmarks.studies import host_camvid

    monkeypatch.setenv("EDGESEG_SHARED", str(camvid_dir.parents[1]))
    student = untrained_camvid_student(tmp_path / "student.pt", camvid_dir)
    out, results = tmp_path / "run", tmp_path / "results"
    argv = [str(student), "--size", "32x48", "--runs", "2", "--targets", "onnx", "--images", "2"]
    argv += ["--out", str(out), "--results", str(results)]
    assert host_camvid.main(argv) == 0
    assert files(results) == ["host_camvid.json", "host_camvid.md", "host_camvid.png"]
    record = json.loads((results / "host_camvid.json").read_text())
    assert record["commands"] == host_camvid.commands(host_camvid.parse(argv), out)
    names = {r["name"] for r in record["student"]["records"]}
    assert any(n.endswith(".onnx") for n in names) and "student.pt" in names
    assert (out / "student.html").is_file() and record["voc"]["records"]
    md = (results / "host_camvid.md").read_text()
    assert "- bench_voc: `edgeseg bench " in md and "--targets" not in md
