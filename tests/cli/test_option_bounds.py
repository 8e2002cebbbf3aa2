"""Options without bounds (issue 16, class 6): every numeric option has a range, checked by the
library's option objects before any work, and the one line names the option and the range."""

from __future__ import annotations

import pytest

import edgeseg.benchmarks.bench
import edgeseg.cli.distill
import edgeseg.cli.quickstart
import edgeseg.cli.train
import edgeseg.evaluate
import edgeseg.export
from edgeseg.apps.quickstart import QuickstartConfig
from edgeseg.cli import main
from edgeseg.distill.config import DistillConfig
from edgeseg.distill.losses.response import KDParams
from edgeseg.errors import ConfigError, EdgesegError
from edgeseg.train import TrainConfig
from edgeseg.utils import MAX_SIDE, MIN_SIDE, check_size
from tests.helpers import typed_options

RANGE = f"{MIN_SIDE}-{MAX_SIDE}"
TRAIN = ["train", "lraspp_mobilenet_v3_small", "--data", "sample", "--quiet", "--epochs", "1"]
DISTILL = [
    "distill",
    "lraspp_mobilenet_v3_small",
    "--teacher",
    "teacher.pt",
    "--data",
    "sample",
    "--quiet",
]


@pytest.fixture
def no_work(monkeypatch) -> list[str]:
    """Every command's first piece of real work, replaced by a spy that records the call."""
    calls: list[str] = []

    def spy(name: str):
        def record(*args, **kwargs):
            calls.append(name)
            raise AssertionError(f"{name} started although an option was out of range")

        return record

    monkeypatch.setattr(edgeseg.cli.train, "fit", spy("fit"))
    monkeypatch.setattr(edgeseg.cli.distill, "run_distill", spy("run_distill"))
    monkeypatch.setattr(edgeseg.cli.quickstart, "run_quickstart", spy("run_quickstart"))
    monkeypatch.setattr(edgeseg.evaluate, "load_model", spy("eval load_model"))
    monkeypatch.setattr(edgeseg.export, "load_model", spy("export load_model"))
    monkeypatch.setattr(edgeseg.benchmarks.bench, "run_bench", spy("run_bench"))
    return calls


CASES = [
    ("eval-visualize", ["eval", "ckpt.pt", "--visualize", "-1"], ["--visualize -1", "≥ 0"]),
    ("eval-batch", ["eval", "ckpt.pt", "--batch-size", "0"], ["--batch-size 0", "≥ 1"]),
    ("eval-size", ["eval", "ckpt.pt", "--size", "8x8"], ["--size 8x8", RANGE]),
    ("kd-temperature", [*DISTILL, "--loss", "kd:temperature=-1"], ["temperature -1", "> 0"]),
    ("kd-weight", [*DISTILL, "--loss", "kd:weight=-0.5"], ["--loss kd", "weight -0.5", "≥ 0"]),
    ("ce-ramp", [*DISTILL, "--loss", "ce:ramp=-2"], ["--loss ce", "ramp -2", "≥ 0"]),
    ("kd-stop", [*DISTILL, "--loss", "kd:stop=-1"], ["--loss kd", "stop -1", "≥ 0"]),
    ("cwd-tau", [*DISTILL, "--loss", "cwd:tau=0"], ["--loss cwd", "tau 0", "> 0"]),
    ("dist-gamma", [*DISTILL, "--loss", "dist:gamma=-1"], ["--loss dist", "gamma -1", "≥ 0"]),
    ("kd-switch", [*DISTILL, "--loss", "kd:correct_only=ture"], ["correct_only=ture", "true or"]),
    ("kd-nan", [*DISTILL, "--loss", "kd:temperature=nan"], ["temperature nan", "> 0"]),
    ("distill-size", [*DISTILL, "--size", "16x16"], ["--size 16x16", RANGE]),
    ("train-tiny", [*TRAIN, "--size", "1x1"], ["--size 1x1", "too small", RANGE]),
    ("train-huge", [*TRAIN, "--size", "20000x20000"], ["--size 20000x20000", "too large", RANGE]),
    ("train-workers", [*TRAIN, "--workers", "-1"], ["--workers -1", "[0, 256]"]),
    ("train-lr-inf", [*TRAIN, "--lr", "inf"], ["--lr inf", "> 0"]),
    ("distill-lr-0", [*DISTILL, "--lr", "0"], ["--lr 0.0", "> 0"]),
    ("train-warmup-inf", [*TRAIN, "--warmup-epochs", "inf"], ["--warmup-epochs inf", "≥ 0"]),
    ("train-cutmix", [*TRAIN, "--cutmix", "2"], ["--cutmix 2.0", "[0, 1]"]),
    ("distill-cutmix", [*DISTILL, "--cutmix", "-0.5"], ["--cutmix -0.5", "[0, 1]"]),
    ("train-jitter", [*TRAIN, "--color-jitter", "2"], ["--color-jitter 2.0", "[0, 1]"]),
    ("distill-jitter", [*DISTILL, "--color-jitter", "-1"], ["--color-jitter -1.0", "[0, 1]"]),
    ("train-limit", [*TRAIN, "--limit-train-batches", "0"], ["--limit-train-batches 0", "≥ 1"]),
    ("quickstart-size", ["quickstart", "--size", "16x16", "--quiet"], ["--size 16x16", RANGE]),
    ("export-huge", ["export", "c.pt", "--size", "30000x30000"], ["--size 30000x30000", RANGE]),
    ("export-tiny", ["export", "c.pt", "--size", "16x16"], ["--size 16x16", "too small"]),
    ("export-calib", ["export", "c.pt", "--calib-images", "0"], ["--calib-images 0", "≥ 1"]),
    ("export-parity", ["export", "c.pt", "--parity-images", "-1"], ["--parity-images -1", "≥ 0"]),
]


# Options that cannot act here (in this combination, or on this machine): refused up front.
IDLE = [
    ("train-device", [*TRAIN, "--device", "foo"], ["--device 'foo' is not a device", "auto | cpu"]),
    ("distill-device", [*DISTILL, "--device", "cuda:99"], ["--device cuda:99", "GPU"]),
    ("train-no-weights", [*TRAIN, "--weights", ""], ["--weights is empty", "a URL or a tag"]),
    ("export-no-target", ["export", "c.pt", "--target", ""], ["--target '' names no target"]),
    (
        "train-background",
        [*TRAIN, "--background", "sky"],
        ["--background sky", "--foreground-only"],
    ),
    (
        "distill-threshold",
        [*DISTILL, "--pseudo-threshold", "0.9"],
        ["--pseudo-threshold 0.9", "--pseudo-labels"],
    ),
]


@pytest.mark.parametrize(
    "args, needles", [c[1:] for c in CASES + IDLE], ids=[c[0] for c in CASES + IDLE]
)
def test_out_of_range_exits_2_before_any_work(capsys, no_work, tmp_path, args, needles) -> None:
    code = main([*args, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert "pass a larger" not in err
    for needle in needles:
        assert needle in err, err
    assert no_work == []
    assert not (tmp_path / "out").exists()


# Each command with the arguments it needs to reach its option checks (files need not exist).
BASE = {
    "train": TRAIN[1:],
    "distill": DISTILL[1:],
    "eval": ["ckpt.pt"],
    "export": ["c.pt"],
    "bench": ["m.onnx"],
    "quickstart": ["--quiet"],
}
EXTREMES = [
    (path, option, value)
    for path, option, kind, _ in typed_options("int", "float")
    if path[0] in BASE
    for value in ([str(2**70)] if kind == "int" else ["inf", "nan"])
]


@pytest.mark.parametrize(
    "path, option, value", EXTREMES, ids=[f"{' '.join(p)} {o} {v[:4]}" for p, o, v in EXTREMES]
)
def test_every_number_is_bounded(capsys, no_work, monkeypatch, tmp_path, path, option, value):
    """A count past what C's int holds (``--batch-size 2**70`` was an internal OverflowError deep
    in the DataLoader), an infinite or NaN float (``--lr inf`` trained to NaN): one line, exit 2,
    before any work, for every int and float option of every command."""
    monkeypatch.chdir(tmp_path)
    code = main([*path, *BASE[path[0]], option, value])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert option in err or option.lstrip("-") in err, err
    assert no_work == [] and list(tmp_path.iterdir()) == []


def test_boundary_sizes_are_accepted() -> None:
    assert check_size((MIN_SIDE, MIN_SIDE)) == (32, 32)
    assert check_size((MAX_SIDE, MAX_SIDE)) == (MAX_SIDE, MAX_SIDE)
    assert TrainConfig(arch="a", data="sample", size=(32, 32)).size == (32, 32)
    assert TrainConfig(arch="a", data="sample", size=(MAX_SIDE, 32)).size == (MAX_SIDE, 32)
    assert QuickstartConfig(size=(32, 48)).size == (32, 48)
    for bad in ((31, 32), (32, MAX_SIDE + 1)):
        with pytest.raises(ConfigError, match=RANGE):
            TrainConfig(arch="a", data="sample", size=bad)


def test_boundary_loss_values_are_accepted() -> None:
    ok = ("ce:weight=0", "kd:weight=0,temperature=0.01,ramp=0,stop=0")
    assert DistillConfig(arch="a", data="sample", teacher="t.pt", losses=ok).losses == ok
    assert KDParams(temperature=1e-3).temperature == 1e-3
    with pytest.raises(EdgesegError, match="temperature 0 is out of range"):
        KDParams(temperature=0)


def test_boundary_counts_are_accepted(monkeypatch) -> None:
    """eval: --visualize 0 and --batch-size 1 pass the checks (the spy sees the load)."""
    seen: list[str] = []

    def load(path):
        seen.append(str(path))
        raise EdgesegError("stop here")

    monkeypatch.setattr(edgeseg.evaluate, "load_model", load)
    with pytest.raises(EdgesegError, match="stop here"):
        edgeseg.evaluate.evaluate_checkpoint("c.pt", size="32x32", batch_size=1, visualize=0)
    assert seen == ["c.pt"]
    cfg = TrainConfig(arch="a", data="sample", workers=0, limit_train_batches=1, val_every=1)
    assert cfg.workers == 0
