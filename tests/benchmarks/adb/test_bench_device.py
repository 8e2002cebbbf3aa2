"""``edgeseg bench --device``: the phone rows go through the real adb path to the fake Pixel."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from edgeseg.cli import main


def test_bench_on_a_phone_by_alias(pixel8, runner_dir, onnx_model, tmp_path, capsys) -> None:
    out = tmp_path / "phone.json"
    code = main(
        [
            "bench",
            str(onnx_model),
            "--device",
            "pixel 8",
            "--device",
            "host",
            "--runner-path",
            str(runner_dir),
            "--runs",
            "3",
            "--warmup",
            "1",
            "--quiet",
            "--json",
            str(out),
        ]
    )
    text = capsys.readouterr().out
    assert code == 0, text
    phone, host = json.loads(out.read_text())["records"]
    assert (phone["device"], phone["runner"], phone["status"]) == (
        pixel8.serial,
        "adb-onnxruntime",
        "ok",
    ), phone["reason"]
    assert phone["latency"]["runs"] == 3 and phone["extra"]["device"]["model"] == "Pixel 8"
    assert (host["device"], host["runner"], host["status"]) == ("host", "onnxruntime", "ok")
    assert "device" in text and pixel8.serial in text


def test_unknown_phone_is_a_command_error(pixel8, onnx_model, capsys) -> None:
    assert main(["bench", str(onnx_model), "--device", "galaxy", "--quiet"]) == 2
    assert "no Android device matches 'galaxy'" in capsys.readouterr().err


def test_bench_calls_runner_run_for_host_and_phone_rows(
    pixel8, runner_dir, onnx_model, tmp_path, monkeypatch
) -> None:
    """The registered runners' own ``run`` makes every row: once per artifact × device."""
    from edgeseg.benchmarks.adb.runners import AdbOnnxruntime
    from edgeseg.benchmarks.runners.host import host_runner_class

    Onnxruntime = host_runner_class("onnxruntime")  # the class the registry holds

    calls: list[tuple[str, str, str]] = []

    def spy(cls):
        real = cls.run

        def run(self, artifact, request, progress=None):
            calls.append((self.name, Path(artifact).name, request.device))
            return real(self, artifact, request, progress)

        monkeypatch.setattr(cls, "run", run)

    spy(Onnxruntime)
    spy(AdbOnnxruntime)
    second = tmp_path / "second.onnx"
    shutil.copy(onnx_model, second)
    shutil.copy(onnx_model.with_name(onnx_model.name + ".json"), tmp_path / "second.onnx.json")
    out = tmp_path / "rows.json"
    args = ["--runner-path", str(runner_dir), "--runs", "2", "--warmup", "0", "--quiet"]
    code = main(
        ["bench", str(onnx_model), str(second), "--device", "host", "--device", "pixel 8"]
        + [*args, "--json", str(out)]
    )
    assert code == 0
    names = (onnx_model.name, "second.onnx")
    expected = [("onnxruntime", n, "host") for n in names]
    expected += [("adb-onnxruntime", n, pixel8.serial) for n in names]
    assert calls == expected
    records = json.loads(out.read_text())["records"]
    assert [(r["runner"], r["device"], r["status"]) for r in records] == [
        (name, device, "ok") for name, _, device in expected
    ]
