"""Exit codes that do not lie (issue 16, class 5): 0 done, 1 internal error, 2 bad input, 3 an
artifact failed — the same with or without ``--debug`` (which only adds the traceback)."""

from __future__ import annotations

import json
import sys

import pytest

import edgeseg.benchmarks.bench
import edgeseg.converters.base
from edgeseg.cli import main
from edgeseg.converters.base import _CONVERTERS, Converter, ExportResult
from edgeseg.errors import ExitCode

FAST = ["--runs", "1", "--warmup", "0", "--quiet", "--timeout", "120"]


def bench(capsys, *args) -> tuple[int, str, str]:
    code = main(["bench", *map(str, args), *FAST])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def junk(tmp_path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(b"\x00not a model\xff" * 8)
    return str(path)


def test_codes_are_documented() -> None:
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3, 4, 130]
    code = main(["--help"])
    assert code == 0


def test_help_lists_the_exit_codes(capsys) -> None:
    main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "Exit codes: 0" in out and "2 bad input" in out and "3 some artifact" in out


def test_bench_every_artifact_failed_exits_3(capsys, tmp_path) -> None:
    """A missing file and a corrupt model: two failed rows, not success."""
    code, out, err = bench(capsys, tmp_path / "missing.onnx", junk(tmp_path, "corrupt.onnx"))
    assert code == ExitCode.FAILED == 3, out + err
    assert "missing.onnx" in out and "corrupt.onnx" in out


def test_bench_invalid_class_map_exits_3(capsys, tmp_path, sample_checkpoint) -> None:
    """An artifact whose --class-map does not fit is a failed row: exit 3, not 0."""
    class_map = tmp_path / "map.json"
    class_map.write_text('{"no such class": "nor this"}')
    code, out, err = bench(
        capsys, sample_checkpoint, "--data", "sample", "--images", "1", "--class-map", class_map
    )
    assert code == ExitCode.FAILED, out + err
    assert "class" in out.lower()


def test_bench_some_failed_exits_3(capsys, tmp_path, sample_checkpoint) -> None:
    code, out, err = bench(capsys, sample_checkpoint, junk(tmp_path, "corrupt.onnx"))
    assert code == ExitCode.FAILED, out + err
    assert "✅" in out and "❌" in out  # one row measured, one failed


def test_bench_all_measured_exits_0(capsys, sample_checkpoint) -> None:
    code, out, err = bench(capsys, sample_checkpoint)
    assert code == ExitCode.OK, out + err


@pytest.mark.skipif(sys.platform == "darwin", reason="Core ML runs on macOS")
def test_bench_skipped_core_ml_is_not_a_failure(capsys, tmp_path) -> None:
    """An .mlpackage off macOS is a skipped row: nothing failed, exit 0."""
    (tmp_path / "model.mlpackage").mkdir()
    code, out, err = bench(capsys, tmp_path / "model.mlpackage")
    assert code == ExitCode.OK, out + err
    assert "⏭" in out or "skipped" in out.lower()


@pytest.mark.parametrize("debug", [[], ["--debug"]])
def test_bad_input_exits_2_with_and_without_debug(capsys, tmp_path, debug) -> None:
    code = main([*debug, "eval", str(tmp_path / "missing.pt")])
    err = capsys.readouterr().err
    assert code == ExitCode.BAD_INPUT, err
    assert "missing.pt" in err
    assert ("Traceback" in err) == bool(debug)


@pytest.mark.parametrize("debug", [[], ["--debug"]])
def test_bench_bad_option_exits_2_with_and_without_debug(capsys, tmp_path, debug) -> None:
    code = main(["bench", junk(tmp_path, "m.onnx"), "--threads", "0", *debug])
    err = capsys.readouterr().err
    assert code == ExitCode.BAD_INPUT, err
    assert "--threads" in err


@pytest.mark.parametrize("debug", [[], ["--debug"]])
def test_internal_error_exits_1_with_and_without_debug(
    monkeypatch, capsys, tmp_path, debug
) -> None:
    def boom(*args, **kwargs):
        raise RuntimeError("a bug in edgeseg")

    monkeypatch.setattr(edgeseg.benchmarks.bench, "run_bench", boom)
    code = main(["bench", junk(tmp_path, "m.onnx"), *FAST, *debug])
    err = capsys.readouterr().err
    assert code == ExitCode.INTERNAL, err
    assert "internal error: RuntimeError: a bug in edgeseg" in err
    assert ("Traceback" in err) == bool(debug)
    if not debug:
        assert len(err.strip().splitlines()) == 1, err


def test_usage_error_exits_2(capsys) -> None:
    assert main(["bench", "--no-such-flag"]) == ExitCode.BAD_INPUT
    capsys.readouterr()


class _Broken(Converter):
    name = "broken"
    suffix = ".bin"

    def convert(self, model, example, out_path, spec) -> ExportResult:
        raise RuntimeError("disk on fire")


@pytest.mark.parametrize("names", [("broken",), ("torchscript", "broken")])
def test_export_with_a_failed_target_exits_3(
    monkeypatch, capsys, tmp_path, sample_checkpoint, names
) -> None:
    """All targets failed, or one of two: exit 3 (was 1 — "internal error" — and 0)."""
    registry = {n: _CONVERTERS.get(n, _Broken) for n in names}
    monkeypatch.setattr(edgeseg.converters.base, "_CONVERTERS", registry)
    args = ["export", str(sample_checkpoint), "--out", str(tmp_path), "--parity-images", "1"]
    code = main([*args, "--json"])
    rows = {row["target"]: row for row in json.loads(capsys.readouterr().out)}
    assert code == ExitCode.FAILED, rows
    assert rows["broken"]["parity"]["reason"] == "RuntimeError: disk on fire"
    assert [n for n, row in rows.items() if row["path"]] == list(names[:-1])


class _NoToolchain(_Broken):
    name = "notoolchain"
    requires = ("edgeseg_no_such_module",)


def test_export_target_without_toolchain_under_all_is_a_skip(
    monkeypatch, capsys, tmp_path, sample_checkpoint
) -> None:
    """``--target all``: a target whose toolchain is not installed is skipped (exit 0 when the
    others exported); asked for by name it is bad input (exit 2)."""
    registry = {"torchscript": _CONVERTERS["torchscript"], "notoolchain": _NoToolchain}
    monkeypatch.setattr(edgeseg.converters.base, "_CONVERTERS", registry)
    args = ["export", str(sample_checkpoint), "--out", str(tmp_path), "--parity-images", "1"]
    code = main([*args, "--json"])
    rows = {row["target"]: row for row in json.loads(capsys.readouterr().out)}
    assert code == ExitCode.OK, rows
    assert rows["notoolchain"]["parity"]["status"] == "skipped"
    assert "edgeseg_no_such_module" in rows["notoolchain"]["parity"]["reason"]
    assert main([*args, "--target", "notoolchain"]) == ExitCode.BAD_INPUT
    capsys.readouterr()


def test_interrupt_exits_130(monkeypatch, capsys) -> None:
    import edgeseg.cli.train

    def interrupted(cfg):
        raise KeyboardInterrupt

    monkeypatch.setattr(edgeseg.cli.train, "fit", interrupted)
    code = main(["train", "lraspp_mobilenet_v3_small", "--data", "sample", "--quiet"])
    capsys.readouterr()
    assert code == ExitCode.INTERRUPTED == 130
