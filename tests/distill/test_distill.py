"""``edgeseg distill`` end to end on the built-in sample: checkpoints, recipe, learning from the
teacher, SIGKILL + ``--resume``, and bad input as one line with exit code 2."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from edgeseg.checkpoint import load_checkpoint
from edgeseg.cli import main
from edgeseg.data import build_dataset, eval_transforms
from edgeseg.distill.config import DistillConfig
from edgeseg.distill.losses.response import pixel_kl
from edgeseg.distill.run import distill
from edgeseg.models import create_model
from tests.distill.conftest import SIZE
from tests.helpers import make_folder_dataset

REPO = Path(__file__).resolve().parents[2]
STUDENT = "lraspp_mobilenet_v3_small"


def tiny(out: Path, teacher: Path, **kw) -> DistillConfig:
    base = dict(
        arch=STUDENT,
        data="sample",
        out=out,
        epochs=1,
        batch_size=4,
        size=SIZE,
        workers=0,
        progress=False,
        limit_train_batches=3,
        limit_val_batches=1,
        lr=2e-3,
        teacher=str(teacher),
    )
    base.update(kw)
    return DistillConfig(**base)


def test_checkpoint_is_the_bare_student_with_the_kd_recipe(tmp_path, teacher_ckpt) -> None:
    losses = ("ce", "kd", "feature:taps=high", "fsi", "warmup")
    result = distill(tiny(tmp_path, teacher_ckpt, losses=losses))
    ckpt = load_checkpoint(result.best_path)
    student_keys = set(create_model(STUDENT, num_classes=5).state_dict())
    assert set(ckpt.state_dict) == student_keys  # no adapters, no foreground head
    recipe = ckpt.meta.recipe
    assert recipe["kind"] == "distill" and recipe["teacher"] == str(teacher_ckpt)
    assert [entry["name"] for entry in recipe["losses"]] == [s.split(":")[0] for s in losses]
    kd = next(e for e in recipe["losses"] if e["name"] == "kd")
    assert (kd["weight"], kd["temperature"]) == (0.9, 4.0)
    assert recipe["teacher_info"]["kind"] == "checkpoint"
    state = load_checkpoint(result.last_path).train_state
    assert "losses.warmup.kl_weight" in state["objective"]
    assert any(k.startswith("losses.feature.adapters.") for k in state["objective"])


def test_response_kd_pulls_the_student_towards_the_teacher(tmp_path, teacher_ckpt) -> None:
    val = build_dataset("sample", "val", eval_transforms(SIZE))
    images = torch.stack([val[i][0] for i in range(4)])
    teacher = load_checkpoint(teacher_ckpt)
    t_model = create_model(STUDENT, num_classes=5)
    t_model.load_state_dict(teacher.state_dict)

    def distance(state) -> float:
        student = create_model(STUDENT, num_classes=5)
        student.load_state_dict(state)
        with torch.no_grad():
            return float(pixel_kl(student.eval()(images), t_model.eval()(images), 1.0).mean())

    torch.manual_seed(0)
    start = distance(create_model(STUDENT, num_classes=5).state_dict())
    cfg = tiny(tmp_path, teacher_ckpt, losses=("kd:weight=1",), limit_train_batches=6, lr=5e-3)
    after = distance(load_checkpoint(distill(cfg).last_path).state_dict)
    assert after < start * 0.7, (start, after)


def _cli(out: Path, teacher: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "edgeseg",
        "distill",
        STUDENT,
        "--teacher",
        str(teacher),
        "--data",
        "sample",
        "--size",
        "64x80",
        "--batch-size",
        "4",
        "--workers",
        "0",
        "--limit-train-batches",
        "4",
        "--limit-val-batches",
        "1",
        "--epochs",
        "4",
        "--quiet",
        "--loss",
        "ce",
        "--loss",
        "kd",
        "--loss",
        "warmup",
        "--loss",
        "feature",
        "--out",
        str(out),
        *extra,
    ]


@pytest.mark.skipif(not os.environ.get("EDGESEG_SLOW"), reason="~30 s: set EDGESEG_SLOW=1")
def test_sigkill_then_resume_equals_an_uninterrupted_run(tmp_path, teacher_ckpt) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    straight = subprocess.run(
        _cli(tmp_path / "a", teacher_ckpt),
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert straight.returncode == 0, straight.stderr
    history = tmp_path / "b" / "history.jsonl"
    proc = subprocess.Popen(
        _cli(tmp_path / "b", teacher_ckpt),
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 240
    while not (history.is_file() and history.read_text().count("\n") >= 1):
        assert proc.poll() is None and time.monotonic() < deadline, "run ended before epoch 1"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    done = history.read_text().count("\n")
    assert done < 4, "killed too late to test resuming"
    resumed = subprocess.run(
        [*_cli(tmp_path / "b", teacher_ckpt), "--resume"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    a, b = load_checkpoint(tmp_path / "a" / "last.pt"), load_checkpoint(tmp_path / "b" / "last.pt")
    for key, value in a.state_dict.items():
        assert torch.equal(value, b.state_dict[key]), key
    for key, value in a.train_state["objective"].items():
        assert torch.equal(value, b.train_state["objective"][key]), key
    losses = [
        [r["loss"] for r in json.loads(f"[{p.read_text().strip().replace(chr(10), ',')}]")]
        for p in (tmp_path / "a" / "history.jsonl", history)
    ]
    assert losses[0] == losses[1]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--loss", "kdd"], "Unknown loss 'kdd'"),
        (["--unlabeled", "EMPTY"], "No images found"),
        (["--teacher-layout", "HWC"], "NCHW or NHWC"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, teacher_ckpt, capsys, extra, message) -> None:
    (tmp_path / "empty").mkdir()
    extra = [str(tmp_path / "empty") if e == "EMPTY" else e for e in extra]
    code = main(
        [
            "distill",
            STUDENT,
            "--teacher",
            str(teacher_ckpt),
            "--quiet",
            "--out",
            str(tmp_path / "o"),
            *extra,
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error: ") and message in err and "\n" not in err


def test_class_mismatch_and_non_model_teacher_exit_2(tmp_path, teacher_ckpt, capsys) -> None:
    folder = make_folder_dataset(tmp_path / "data", size=(64, 80))
    args = ["distill", STUDENT, "--teacher", str(teacher_ckpt), "--data", f"folder:{folder}"]
    assert main([*args, "--out", str(tmp_path / "o")]) == 2
    assert "--class-map" in capsys.readouterr().err
    fake = tmp_path / "teacher.onnx"
    fake.write_bytes(b"\x00garbage")
    assert main(["distill", STUDENT, "--teacher", str(fake), "--out", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert "is not a model onnx can load" in err and err.count("\n") == 1


def test_pseudo_label_mode_from_the_real_voc_tflite(tmp_path, voc_tflite, camvid_dir) -> None:
    """Unlabeled CamVid images, Google's VOC teacher: the student learns VOC's 21 classes and is
    scored by agreement with the teacher's labels on held-out images."""
    folder = tmp_path / "unlabeled"
    folder.mkdir()
    for path in sorted((camvid_dir / "val").glob("*.png"))[:11]:
        (folder / path.name).symlink_to(path)
    cfg = tiny(
        tmp_path / "out",
        voc_tflite,
        unlabeled=str(folder),
        teacher_classes="voc",
        teacher_mean=(0.5,) * 3,
        teacher_std=(0.5,) * 3,
        size=(64, 80),
        limit_train_batches=2,
        pseudo_threshold=0.3,
    )
    result = distill(cfg)
    meta = load_checkpoint(result.best_path).meta
    assert meta.num_classes == 21 and meta.classes[15] == "person"
    assert meta.recipe["unlabeled"] == str(folder)
    assert 0.0 <= result.history[0]["miou"] <= 1.0


def test_a_stopped_loss_is_off_from_its_step(tmp_path, teacher_ckpt) -> None:
    """``kd:stop=2``: KD counts for steps 0 and 1, then the objective is CE alone."""
    from edgeseg.distill.run import prepare_distill
    from edgeseg.train.objective import Batch

    losses = ("ce:weight=1", "kd:weight=1,stop=2")
    run = prepare_distill(tiny(tmp_path, teacher_ckpt, losses=losses))
    items = [run.train_set[i] for i in range(2)]
    batch = Batch(torch.stack([i[0] for i in items]), torch.stack([i[1] for i in items]))
    objective, model = run.objective.train(), run.model.train()
    totals = []
    for _ in range(3):
        totals.append(float(objective(model, batch)))
        kd, ce = objective.last["kd"], objective.last["ce"]
        assert (kd > 0) if len(totals) <= 2 else (kd == 0.0 and abs(totals[-1] - ce) < 1e-5)
    assert int(objective.step) == 3 and totals[0] > objective.last["ce"]
