"""``edgeseg bench --device``: the phone rows go through the real adb path to the fake Pixel."""

from __future__ import annotations

import json

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
