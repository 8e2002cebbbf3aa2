"""The studies call the library, never the CLI, yet every command they record still means what
ran: the real ``edgeseg`` CLI parses each recorded command into the very config the study builds,
both the commands it derives now and the ones already in ``benchmarks/results``. No training."""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import typer

from benchmarks.studies import recipe
from edgeseg.distill.config import DistillConfig
from edgeseg.errors import EdgesegError
from edgeseg.train import TrainConfig

STUDIES = Path(__file__).resolve().parents[3] / "benchmarks" / "studies"
RESULTS = STUDIES.parent / "results"
RECORDED_CAMVID = "camvid:/work/shared/data/camvid"  # where the recorded runs read CamVid


def cli_config(argv: list[str], monkeypatch) -> TrainConfig:
    """The config ``edgeseg ARGV`` would train with (the CLI runs; ``fit``/``distill`` do not)."""
    import edgeseg.cli.distill as distill_cmd
    import edgeseg.cli.train as train_cmd
    from edgeseg.cli import main

    seen: list[TrainConfig] = []
    done = SimpleNamespace(best_miou=0.0, best_epoch=0, seconds=0.0, best_path="best.pt")
    monkeypatch.setattr(train_cmd, "fit", lambda cfg: seen.append(cfg) or done)
    monkeypatch.setattr(distill_cmd, "run_distill", lambda cfg: seen.append(cfg) or done)
    assert main(list(argv)) == 0 and len(seen) == 1, argv
    return seen[0]


def recorded(command: str, camvid: str) -> list[str]:
    """A recorded ``edgeseg …`` line as argv, reading CamVid where this machine has it."""
    words = command.replace(RECORDED_CAMVID, camvid).split()
    assert words[0] == "edgeseg"
    return words[1:]


def test_no_study_imports_the_cli() -> None:
    """The studies stand on the library: ``edgeseg.cli`` is a layer above them."""
    offenders = []
    for path in sorted(STUDIES.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            if any(n == "edgeseg.cli" or n.startswith("edgeseg.cli.") for n in names):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


@pytest.mark.parametrize("cls, name", [(TrainConfig, "train"), (DistillConfig, "distill")])
def test_the_option_table_is_the_cli_s(cls, name) -> None:
    """Every option the study parser takes is one of the command's, and none is missing."""
    from edgeseg.cli import app

    command = typer.main.get_command(app).commands[name]
    cli = {o for p in command.params for o in p.opts if o.startswith("--")} - {"--help"}
    parser = recipe.add_options(argparse.ArgumentParser(add_help=False), cls)
    ours = {o for a in parser._actions for o in a.option_strings if o.startswith("--")}
    assert ours == cli


def test_a_config_round_trips_through_the_real_cli(monkeypatch, tmp_path) -> None:
    cfg = DistillConfig(
        arch="lraspp_mobilenet_v3_small",
        data="sample",
        out=tmp_path / "d",
        epochs=3,
        lr=2e-3,
        size=(96, 128),
        bn_momentum=0.1,
        resume=True,
        progress=False,
        teacher="t.pt",
        losses=("ce:weight=1", "kd:weight=1,temperature=1", "cwd"),
        teacher_mean=(0.5, 0.5, 0.5),
        teacher_size=(240, 320),
        teacher_options=("tta_scales=1,1.5", "flip=true"),
        background=("Sky", "Road"),
        teacher_cache=str(tmp_path / "cache"),
    )
    argv = recipe.command(cfg)
    assert argv[:2] == ["distill", "lraspp_mobilenet_v3_small"] and "--quiet" in argv
    assert argv[argv.index("--teacher-mean") + 1] == "0.5,0.5,0.5"
    assert cli_config(argv, monkeypatch) == cfg
    plain = TrainConfig(arch="fcn_resnet50", data="sample", foreground_only=True, workers=0)
    assert cli_config(recipe.command(plain), monkeypatch) == plain


def test_a_config_the_cli_cannot_spell_is_refused() -> None:
    with pytest.raises(EdgesegError, match="amp=False has no `edgeseg train` option"):
        recipe.command(TrainConfig(arch="x", data="sample", amp=False))
    with pytest.raises(EdgesegError, match="freeze_backbone_until=2 has no `edgeseg distill`"):
        recipe.command(DistillConfig(arch="x", data="sample", teacher="t", freeze_backbone_until=2))


def test_pass_through_options_become_config_fields() -> None:
    extra = ["--class-weights", "enet", "--bn-momentum", "0.1", "--workers", "1", "--quiet"]
    got = recipe.parse_options(extra, TrainConfig, "study")
    assert got == {"class_weights": "enet", "bn_momentum": 0.1, "workers": 1, "progress": False}
    got = recipe.parse_options(
        ["--loss", "ce", "--loss", "cwd", "--size", "9x10"], DistillConfig, "s"
    )
    assert got == {"losses": ("ce", "cwd"), "size": (9, 10)}
    with pytest.raises(SystemExit):
        recipe.parse_options(["--teacher-cache", "x"], TrainConfig, "study")  # not a train option


def _camvid(camvid_dir: Path, monkeypatch) -> str:
    monkeypatch.setenv("EDGESEG_SHARED", str(camvid_dir.parents[1]))
    return f"camvid:{camvid_dir}"


def test_the_recorded_distill_camvid_runs_are_what_its_recorded_command_runs(
    camvid_dir, monkeypatch
) -> None:
    from benchmarks.studies import distill_camvid

    camvid = _camvid(camvid_dir, monkeypatch)
    section = json.loads((RESULTS / "distill_camvid.json").read_text())["camvid"]
    argv = section["command"].split()[3:]  # python -m benchmarks.(studies.)distill_camvid …
    out = str(Path(section["runs"][0]["command"].split("--out ")[1].split()[0]).parent)
    _, configs = distill_camvid.plan(["--out", out, *argv])
    for run in section["runs"]:
        cfg = configs[run["run"]]
        assert cli_config(recorded(run["command"], camvid), monkeypatch) == cfg, run["run"]
        assert cli_config(recipe.command(cfg), monkeypatch) == cfg


def test_the_recorded_cache_speed_runs_are_what_its_command_runs(camvid_dir, monkeypatch) -> None:
    from benchmarks.studies import distill_cache_speed as study

    camvid = _camvid(camvid_dir, monkeypatch)
    record = json.loads((RESULTS / "distill_cache_speed.json").read_text())
    plain = record["runs"][0]["command"]
    out = Path(plain.split("--out ")[1].split()[0]).parent
    args = study.parser().parse_args(["--out", str(out), *record["command"].split()[4:]])
    for run in record["runs"]:
        cfg = study.run_config(run["run"], args, str(out / "teacher.pt"))
        assert cli_config(recorded(run["command"], camvid), monkeypatch) == cfg, run["run"]
        assert cli_config(recipe.command(cfg), monkeypatch) == cfg


def test_the_recorded_camvid_train_run_is_what_its_command_runs(camvid_dir, monkeypatch) -> None:
    from benchmarks.studies import camvid_train

    camvid = _camvid(camvid_dir, monkeypatch)
    record = json.loads((RESULTS / "camvid_train.json").read_text())
    out = record["edgeseg_command"].split("--out ")[1].split()[0]
    cfg, _ = camvid_train.parse([*record["command"].split()[3:], "--out", out])
    assert cli_config(recorded(record["edgeseg_command"], camvid), monkeypatch) == cfg
    assert cli_config(recipe.command(cfg), monkeypatch) == cfg


def test_the_recorded_pseudo_label_run_is_what_the_study_runs(camvid_dir, monkeypatch) -> None:
    from benchmarks.studies import distill_pseudo

    camvid = _camvid(camvid_dir, monkeypatch)
    command = json.loads((RESULTS / "distill_camvid.json").read_text())["pseudo"]["command"]
    out = Path(command.split("--out ")[1].split()[0]).parent
    monkeypatch.setattr(distill_pseudo, "unlabeled_folder", lambda out: out / "unlabeled")
    teacher = command.split("--teacher ")[1].split()[0]
    args = argparse.Namespace(
        student="lraspp_mobilenet_v3_small", teacher=teacher, size="180x240", epochs=12, seed=0
    )
    extra = recipe.parse_options(["--bn-momentum", "0.1", "--workers", "1"], DistillConfig, "s")
    cfg = distill_pseudo.student_config(args, out, extra)
    assert cli_config(recorded(command, camvid), monkeypatch) == cfg
    assert cli_config(recipe.command(cfg), monkeypatch) == cfg


@pytest.mark.parametrize("verbose", [False, True])
def test_a_study_keeps_native_library_output_off_the_terminal(verbose) -> None:
    """LiteRT writes "Created TensorFlow Lite XNNPACK delegate" on fd 2 at every teacher load;
    a study shows it only under ``--verbose``, its own lines always."""
    done = _study(["--verbose"] if verbose else [], crash=False)
    assert done.returncode == 0
    assert "ours []" in done.stderr
    assert ("XNNPACK delegate" in done.stderr) is verbose


def test_a_study_that_crashes_says_how_much_was_hidden() -> None:
    """As under ``edgeseg``: the hidden lines may hold the cause, so a crash says they exist."""
    done = _study([], crash=True)
    assert done.returncode == 1 and "RuntimeError: boom" in done.stderr
    assert "XNNPACK delegate" not in done.stderr
    assert "(1 lines of third-party output were hidden; --verbose shows them)" in done.stderr


def _study(argv: list[str], crash: bool) -> subprocess.CompletedProcess:
    script = (
        "import os, sys\n"
        "from benchmarks.studies.recipe import study_main\n"
        "def main(argv):\n"
        "    os.write(2, b'INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\\n')\n"
        "    print('ours', argv, file=sys.stderr)\n"
        f"    if {crash}: raise RuntimeError('boom')\n"
        "    return 0\n"
        "study_main(main)\n"
    )
    return subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True)
