"""The distillation study's held-out-drive split: a drive none of the training frames come from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.studies.distill_gains import (
    _extras_label,
    _portable,
    _short,
    configs,
    parse,
    teacher_label,
)
from benchmarks.studies.heldout import heldout_view
from edgeseg.data import build_dataset
from edgeseg.data.subsets import read_label_list
from edgeseg.errors import DataError


def _drive(path: Path) -> str:
    return path.name.split("_")[0]


def test_heldout_view_trains_without_the_drive_and_scores_on_it(camvid_dir, tmp_path) -> None:
    spec = heldout_view(camvid_dir, "0006R0", tmp_path)
    train, val = build_dataset(spec, "train"), build_dataset(spec, "val")
    full = build_dataset(f"camvid:{camvid_dir}", "train")
    train_drives = {_drive(train.image_path(i)) for i in range(len(train))}
    assert "0006R0" not in train_drives and train_drives
    assert {_drive(val.image_path(i)) for i in range(len(val))} == {"0006R0"}
    assert len(train) + len(val) == len(full)
    root = Path(spec.split(":", 1)[1])
    listed = read_label_list(root / "splits" / "train_10pct.txt", train)  # all in the new split
    every = read_label_list(camvid_dir / "splits" / "train_10pct.txt", full)
    held = sum(_drive(full.image_path(i)) == "0006R0" for i in every)
    assert len(listed) == len(every) - held and held > 0


def test_a_second_study_never_sees_the_view_lists_rewritten_in_place(camvid_dir, tmp_path) -> None:
    """Studies started side by side share the view: one that matches is left alone, one that
    differs is replaced whole, so a reader holding it open keeps the complete old list."""
    root = Path(heldout_view(camvid_dir, "0006R0", tmp_path).split(":", 1)[1])
    listed = root / "train.txt"
    first = listed.stat()
    heldout_view(camvid_dir, "0006R0", tmp_path)
    assert listed.stat().st_mtime_ns == first.st_mtime_ns and listed.stat().st_ino == first.st_ino
    right = listed.read_text()
    listed.write_text("stale\n")
    with listed.open() as reader:
        heldout_view(camvid_dir, "0006R0", tmp_path)
        assert reader.read() == "stale\n"  # not truncated under it
    assert listed.read_text() == right
    assert not [p for p in root.iterdir() if p.name.startswith(".")]  # no temp left behind


def test_the_study_trains_both_arms_on_the_view(camvid_dir, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("EDGESEG_SHARED", str(camvid_dir.parents[1]))
    args, extra = parse(
        ["--protocol", "labels_10pct", "--name", "t", "--teacher", "x.tflite", "--heldout",
         "0006R0", "--out", str(tmp_path)]
    )  # fmt: skip
    alone, kd = configs(args, extra, seed=0)
    view = f"camvid:{tmp_path / 'camvid_without_0006R0'}"
    assert alone.data == kd.data == view
    assert alone.labels == kd.labels == str(tmp_path / "camvid_without_0006R0" / "splits" /
                                             "train_10pct.txt")  # fmt: skip
    assert "without_0006R0" in str(kd.out) and "without_0006R0" in kd.teacher_cache


def test_a_drive_with_no_training_frame_is_one_line_before_anything_is_written(
    camvid_dir, tmp_path
) -> None:
    with pytest.raises(DataError, match="--heldout 9999XX: no training frame of that drive"):
        heldout_view(camvid_dir, "9999XX", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_teacher_options_reach_the_config_and_name_the_teacher(tmp_path, monkeypatch) -> None:
    teacher = "tta:/runs/teacher_lite0_10pct_180x240/last.pt"
    args, extra = parse(
        [
            "--protocol",
            "labels_10pct",
            "--name",
            "tta",
            "--teacher",
            teacher,
            "--out",
            str(tmp_path),
            "--teacher-option",
            "tta_scales=1,1.5",
        ]
    )
    _, kd = configs(args, extra, seed=0)
    assert kd.teacher == teacher and kd.teacher_options == ("tta_scales=1,1.5",)
    shown = _short(f"{teacher} + /shared/models/m.tflite [tta_scales=1,1.5]")
    assert shown == "tta:teacher_lite0_10pct_180x240/last.pt + m.tflite [tta_scales=1,1.5]"
    monkeypatch.setenv("EDGESEG_SHARED", str(tmp_path))
    (tmp_path / "m.tflite").write_bytes(b"")
    assert _portable(f"tta:{tmp_path / 'm.tflite'}") == "tta:$EDGESEG_SHARED/m.tflite"


def test_ensemble_weights_name_the_teacher_so_a_weighted_study_is_its_own_row(tmp_path) -> None:
    base = ["--protocol", "equal", "--name", "e", "--out", str(tmp_path)]
    base += ["--teacher", "/runs/t/last.pt", "--teacher", "/m/c.tflite"]
    weights = ["--teacher-weight", "0,Fence=1", "--teacher-weight", "1,Fence=0"]
    plain, _ = parse(base)
    weighted, extra = parse(base + weights)
    assert teacher_label(plain) == "/runs/t/last.pt + /m/c.tflite"
    shown = "[weights 0,Fence=1; 1,Fence=0]"
    assert teacher_label(weighted) == f"/runs/t/last.pt + /m/c.tflite {shown}"
    assert _short(teacher_label(weighted)) == f"t/last.pt + c.tflite {shown}"
    _, kd = configs(weighted, extra, seed=0)
    assert kd.teacher_weights == ("0,Fence=1", "1,Fence=0")


def test_a_bad_teacher_option_is_refused_before_either_arm_trains(
    camvid_dir, sample_checkpoint, tmp_path, monkeypatch
) -> None:
    from benchmarks.studies.distill_gains import main
    from edgeseg.errors import EdgesegError

    monkeypatch.setenv("EDGESEG_SHARED", str(camvid_dir.parents[1]))
    out, results = tmp_path / "runs", tmp_path / "results"
    argv = ["--protocol", "labels_10pct", "--name", "t", "--teacher", str(sample_checkpoint),
            "--teacher-option", "foo=1", "--size", "32x40", "--epochs", "1", "--seeds", "0",
            "--out", str(out), "--results", str(results), "--", "--workers", "0"]  # fmt: skip
    with pytest.raises(EdgesegError, match="t_s0 failed: --teacher-option foo: the checkpoint"):
        main(argv)
    assert not out.exists() and not results.exists()


def test_each_schedule_gets_its_own_panel_with_its_own_baseline(tmp_path) -> None:
    """A 60-epoch study's alone runs share names with the 30-epoch ones: neither may hide the
    other, and two teachers against one baseline draw that baseline once."""
    import json

    from benchmarks.studies.distill_gains import protocol_curves, study_key

    def run(folder: str, miou: float) -> dict:
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "history.jsonl").write_text(json.dumps({"epoch": 1, "miou": miou}))
        return {"command": f"edgeseg train x --out {tmp_path / folder} --quiet"}

    base = {"protocol": "equal", "student": "lraspp_mobilenet_v3_small", "recipe": "r"}
    base["size"] = "8x8"
    studies = [{**base, "teacher": t, "epochs": e} for t, e in (("a", 30), ("b", 30), ("a", 60))]
    studies.append({**base, "teacher": "a", "epochs": 60, "recipe": "r +pseudo +cutmix=0.5"})
    studies.append({**base, "teacher": "a", "epochs": 60, "student": "fusedseg_s"})
    alone = {30: [run("alone30", 0.1)], 60: [run("alone60", 0.2)], "cutmix": [run("alonecm", 0.4)]}
    alone["fusedseg_s"] = [run("alonefs", 0.5)]
    runs = {
        study_key(s): {
            "name": s["teacher"],
            "alone": alone[
                "cutmix" if "cutmix" in s["recipe"]
                else s["student"] if s["student"] == "fusedseg_s" else s["epochs"]
            ],
            "kd": [run(f"kd_{s['teacher']}{s['epochs']}{len(s['recipe'])}{s['student']}", 0.3)],
        }
        for s in studies
    }  # fmt: skip
    curves = protocol_curves(studies, runs, "equal", tmp_path)
    drawn = sorted((panel, label, rows[0]["miou"]) for panel, label, rows in curves)
    assert drawn == [
        ("equal 8x8, 30 epochs", "a s0", 0.3),
        ("equal 8x8, 30 epochs", "alone s0", 0.1),
        ("equal 8x8, 30 epochs", "b s0", 0.3),
        ("equal 8x8, 60 epochs", "a s0", 0.3),
        ("equal 8x8, 60 epochs", "alone s0", 0.2),
        ("equal 8x8, 60 epochs, cutmix=0.5", "a s0", 0.3),  # CutMix: its own baseline
        ("equal 8x8, 60 epochs, cutmix=0.5", "alone s0", 0.4),
        ("equal 8x8, 60 epochs, fusedseg_s", "a s0", 0.3),  # another student: its own baseline
        ("equal 8x8, 60 epochs, fusedseg_s", "alone s0", 0.5),
    ]


def test_a_run_folder_gone_draws_the_curve_its_record_kept(tmp_path) -> None:
    """Run folders live outside the repository: a study redrawn after they are gone uses the
    curve kept in its record; an older record without one has no curve, rather than a wrong one."""
    from benchmarks.studies.distill_gains import _history

    gone = {"command": f"edgeseg train x --out {tmp_path / 'gone'} --quiet"}
    assert _history(tmp_path, {**gone, "curve": [[1, 0.25], [2, 0.5]]}) == [
        {"epoch": 1, "miou": 0.25},
        {"epoch": 2, "miou": 0.5},
    ]
    assert _history(tmp_path, gone) == []
    # a rerun under the same folder name (another host) does not redraw the recorded curve
    (tmp_path / "gone").mkdir()
    (tmp_path / "gone" / "history.jsonl").write_text('{"epoch": 1, "miou": 0.9}\n')
    assert _history(tmp_path, {**gone, "curve": [[1, 0.25]]}) == [{"epoch": 1, "miou": 0.25}]
    assert _history(tmp_path, gone) == [{"epoch": 1, "miou": 0.9}]


def test_a_study_records_what_sets_its_floating_point_path() -> None:
    """Reruns of one command differ between sessions, not within one: the host line names the
    thread count and the numeric libraries, so two rows can be told apart."""
    from importlib import metadata

    import torch

    from benchmarks.studies.distill_gains import _host
    from edgeseg.benchmarks.bench import host_info

    host = _host()
    assert f"torch {torch.__version__}" in host
    assert f"numpy {metadata.version('numpy')}" in host and "pillow " in host
    assert f"{torch.get_num_threads()} thread(s)" in host
    assert host_info()["processor"] in host and host_info()["cpu_flags"] in host


def test_a_refused_option_leaves_no_heldout_view_behind(camvid_dir, tmp_path, monkeypatch) -> None:
    """The held-out view is written into --out; every option is checked before it, so a refused
    one leaves --out as it found it (it used to leave the view there)."""
    from benchmarks.studies.distill_gains import main
    from edgeseg.errors import EdgesegError

    monkeypatch.setenv("EDGESEG_SHARED", str(camvid_dir.parents[1]))
    out, results = tmp_path / "runs", tmp_path / "results"
    argv = ["--protocol", "equal", "--name", "t", "--teacher", "x.tflite", "--heldout", "0006R0",
            "--loss", "kd:correct_only=maybe", "--size", "32x40", "--epochs", "1", "--seeds", "0",
            "--out", str(out), "--results", str(results), "--", "--workers", "0"]  # fmt: skip
    with pytest.raises(EdgesegError, match="--loss kd: correct_only=maybe: write true or false"):
        main(argv)
    assert not out.exists() and not results.exists()


def test_the_gain_carries_the_standard_error_of_the_per_seed_gains() -> None:
    from benchmarks.studies.distill_gains import paired_spread

    # per-seed gains 1, 2, 3: sd 1, SE 1/sqrt(3)
    assert paired_spread([10.0, 20.0, 30.0], [11.0, 22.0, 33.0]) == " ± 0.58"
    assert paired_spread([10.0], [12.0]) == ""  # one seed has no spread
    assert paired_spread([10.0, 11.0], [12.0]) == ""  # unpaired arms are not paired


def test_the_markdown_says_where_the_teacher_argues_with_the_labels() -> None:
    """A KD run's record keeps its cached teacher's agreement with the labels; the study's
    Markdown prints it per class once, beside the commands (a class absent is left out)."""
    from benchmarks.studies.distill_gains import render, study_key
    from edgeseg.distill.agreement import LabelAgreement

    agreement = LabelAgreement(
        classes=("Road", "Pole", "Gone"),
        size=(120, 160),
        images=266,
        iou=(0.91, 0.125, None),
        probability=(0.96, 0.21, None),
        pixels=(100, 10, 0),
        confused_with=(None, ("Building", 0.5), None),
    ).as_dict()
    study = {
        "protocol": "equal", "student": "s", "teacher": "t.tflite", "recipe": "r",
        "size": "120x160", "epochs": 60, "alone_miou": [27.0], "kd_miou": [29.0], "gain": 2.0,
    }  # fmt: skip
    row = {"run": "x", "last_miou": 0.29, "best_miou": 0.3, "best_epoch": 9, "epoch_seconds": 1}
    runs = {
        study_key(study): {
            "name": "t", "host": "h", "alone": [{**row, "command": "a"}],
            "kd": [{**row, "command": "k", "teacher_vs_labels": json.loads(json.dumps(agreement))}],
        }
    }  # fmt: skip
    text = render([study], runs)
    assert (
        "Teacher vs labels (what KD teaches): mIoU 51.8 at 120x160 over 266 images; "
        "Road 91.0 (p 0.96), Pole 12.5 (p 0.21, 50% as Building)\n" in text
    )
    assert text.count("Teacher vs labels") == 1
    del runs[study_key(study)]["kd"][0]["teacher_vs_labels"]["confused_with"]  # an older record
    assert "Road 91.0 (p 0.96), Pole 12.5 (p 0.21)\n" in render([study], runs)


def _equal_study(out: Path) -> list[str]:
    return ["--protocol", "equal", "--name", "c", "--teacher", "/m/c.tflite", "--out", str(out)]


def test_cutmix_makes_its_own_runs_and_its_own_row(tmp_path) -> None:
    """``-- --cutmix 0.5`` changes both arms: new run folders (the plain study's alone runs are
    neither reused nor overwritten) and a recipe label of its own (the plain row stays)."""
    base = _equal_study(tmp_path)
    plain_args, plain_extra = parse(base)
    mixed_args, mixed_extra = parse([*base, "--", "--cutmix", "0.5"])
    plain, mixed = configs(plain_args, plain_extra, 0), configs(mixed_args, mixed_extra, 0)
    assert mixed[0].cutmix == mixed[1].cutmix == 0.5 and plain[0].cutmix == 0.0
    assert mixed[0].out.parent.name == "equal_120x160_e10_cutmix0.5" != plain[0].out.parent.name
    assert _extras_label(mixed_extra) == " +cutmix=0.5" and _extras_label(plain_extra) == ""


def test_another_student_trains_in_its_own_run_folders(tmp_path) -> None:
    base = _equal_study(tmp_path)
    default, _ = configs(*parse(base), 0)
    other, _ = configs(*parse([*base, "--student", "fusedseg_s"]), 0)
    assert other.arch == "fusedseg_s" and default.arch == "lraspp_mobilenet_v3_small"
    assert default.out.parent.name == "equal_120x160_e10"  # the folders it always had
    assert other.out.parent.name == "equal_120x160_e10_fusedseg_s"
