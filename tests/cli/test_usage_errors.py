"""Errors found while parsing the command line (a value that is not a number, an unknown option or
command, a missing argument) are one line and exit 2, like every other bad input, never Typer's
boxed usage message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edgeseg.cli import main
from tests.helpers import typed_options

NUMERIC = [(path, option, args) for path, option, _, args in typed_options("int", "float")]


def test_the_sweep_finds_the_numeric_options() -> None:
    names = {(" ".join(path), option) for path, option, _ in NUMERIC}
    assert {("train", "--epochs"), ("distill", "--lr"), ("bench", "--max-latency-ms")} <= names
    assert len(NUMERIC) >= 30


def assert_usage_line(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert "╭" not in err and "Usage:" not in err and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err


@pytest.mark.parametrize(
    "path, option, arguments", NUMERIC, ids=[f"{' '.join(p)} {o}" for p, o, _ in NUMERIC]
)
def test_a_value_that_is_not_a_number(capsys, monkeypatch, tmp_path, path, option, arguments):
    monkeypatch.chdir(tmp_path)
    code = main([*path, option, "abc", *arguments])
    command = " ".join(["edgeseg", *path])
    err = capsys.readouterr().err.strip()
    assert_usage_line(code, err, option, "got 'abc'", f"'{command} --help'")
    assert list(tmp_path.iterdir()) == []


PATHS = [(path, option, args) for path, option, _, args in typed_options("Path")]


def test_the_sweep_finds_the_path_options() -> None:
    names = {(" ".join(path), option) for path, option, _ in PATHS}
    assert {("train", "--out"), ("bench", "--json"), ("android-demo add", "--app")} <= names


@pytest.mark.parametrize("inline", [False, True], ids=["separate", "inline"])
@pytest.mark.parametrize(
    "path, option, arguments", PATHS, ids=[f"{' '.join(p)} {o}" for p, o, _ in PATHS]
)
def test_an_empty_path_is_refused(capsys, monkeypatch, tmp_path, path, option, arguments, inline):
    """Typer would make '' the current folder ('.'): ``train --out ''`` wrote into it."""
    monkeypatch.chdir(tmp_path)
    given = [f"{option}="] if inline else [option, ""]
    code = main([*path, *given, *arguments])
    command = " ".join(["edgeseg", *path])
    err = capsys.readouterr().err.strip()
    assert_usage_line(code, err, f"'{option}': an empty path", f"'{command} --help'")
    assert list(tmp_path.iterdir()) == []


CASES = [
    ("unknown-command", ["trian"], ["'trian'", "Did you mean 'train'", "'edgeseg --help'"]),
    ("unknown-option", ["eval", "c.pt", "--bach-size", "2"], ["--bach-size", "edgeseg eval"]),
    ("missing-argument", ["bench"], ["Missing argument", "'edgeseg bench --help'"]),
    ("missing-value", ["train", "lraspp_mobilenet_v3_small", "--epochs"], ["--epochs"]),
    ("unknown-sub-command", ["android-demo", "ad"], ["'ad'", "edgeseg android-demo"]),
    ("flag-given-a-value", ["export", "c.pt", "--json=yes"], ["--json"]),
]


@pytest.mark.parametrize("args, needles", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_usage_errors_are_one_line(capsys, monkeypatch, tmp_path, args, needles) -> None:
    monkeypatch.chdir(tmp_path)
    assert_usage_line(main(args), capsys.readouterr().err.strip(), *needles)
    assert list(tmp_path.iterdir()) == []


def test_the_installed_command_prints_one_line_also_with_debug(tmp_path) -> None:
    exe = Path(sys.executable).parent / "edgeseg"
    for extra in ([], ["--debug"]):
        cmd = [str(exe), "train", "lraspp_mobilenet_v3_small", "--cutmix", "abc", *extra]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert_usage_line(done.returncode, done.stderr.strip(), "--cutmix", "abc")
        assert done.stdout == ""


def test_help_and_version_still_exit_0(capsys) -> None:
    assert main(["train", "--help"]) == 0
    assert "--epochs" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("edgeseg ")
