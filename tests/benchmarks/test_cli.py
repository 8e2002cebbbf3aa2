"""``edgeseg bench`` on the command line: a table and report files, one-line errors (exit 2)."""

from __future__ import annotations

import json

import pytest

from edgeseg.cli import main


def test_bench_writes_every_report(exports, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    code = main(
        [
            "bench",
            str(exports["onnx"]),
            str(exports["torchscript"]),
            "--data",
            "sample",
            "--images",
            "2",
            "--runs",
            "2",
            "--warmup",
            "0",
            "--quiet",
            "--json",
            str(out / "b.json"),
            "--csv",
            str(out / "b.csv"),
            "--plot",
            str(out / "b.png"),
            "--report",
            str(out / "b.html"),
        ]
    )
    text = capsys.readouterr().out
    assert code == 0, text
    assert "edgeseg bench" in text and "onnxruntime" in text and "torchscript" in text
    records = json.loads((out / "b.json").read_text())["records"]
    assert [r["status"] for r in records] == ["ok", "ok"]
    assert all((out / n).stat().st_size > 0 for n in ("b.csv", "b.png", "b.html"))
    assert len(list((out / "b_overlays").rglob("*.png"))) == 4  # min(3, --images) each


@pytest.mark.parametrize(
    "args,message",
    [
        (["--runs", "0"], "--threads, --runs and --images must be"),
        (["--mean", "1,2"], "--mean '1,2': give 3 numbers"),
        (["--data", "nope:x"], "Unknown dataset kind 'nope'"),
        (["--runner", "nope"], "no host runner 'nope'"),
    ],
)
def test_bad_input_is_one_line(exports, args, message, capsys) -> None:
    assert main(["bench", str(exports["onnx"]), "--quiet", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1


def test_empty_folder_is_an_error(tmp_path, capsys) -> None:
    assert main(["bench", str(tmp_path), "--quiet"]) == 2
    assert "holds no model files" in capsys.readouterr().err
