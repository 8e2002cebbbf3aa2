"""Gates on on-device mIoU: the app runner's masks from the phone, judged against the reference
the artifact's sidecar carries (the model's own mIoU on the same pictures)."""

from __future__ import annotations

import json

import pytest

from edgeseg.cli import main
from edgeseg.errors import ExitCode
from tests.benchmarks.adb.test_app import colour_data, colour_sidecar  # noqa: F401  (fixture)
from tests.benchmarks.test_gates import colour_model, host_reference


def test_the_phone_port_is_gated_on_its_on_device_miou(
    make_device,
    tmp_path,
    colour_data,  # noqa: F811  (the fixture imported above)
    capsys,
) -> None:
    model = colour_model(tmp_path / "colour.onnx")
    sidecar = {**colour_sidecar(), "reference": host_reference(model, colour_data)}
    (tmp_path / "colour.onnx.json").write_text(json.dumps(sidecar))
    faithful, bgr = make_device(), make_device({"ro.product.model": "Pixel 7"})
    bgr.behaviour.app_port = "bgr"  # the app reads the picture as BGR: red and blue swap
    out_json = tmp_path / "b.json"
    args = ["bench", str(model), "--runner", "app", "--data", colour_data, "--images", "3"]
    args += ["--device", faithful.serial, "--device", bgr.serial, "--max-miou-drop", "1"]
    code = main([*args, "--runs", "2", "--warmup", "0", "--quiet", "--json", str(out_json)])
    out = capsys.readouterr().out
    assert code == ExitCode.GATE_FAILED, out
    good, bad = json.loads(out_json.read_text())["records"]
    assert (good["device"], bad["device"]) == (faithful.serial, bgr.serial)
    assert good["extra"]["image_indices"] == [0, 2, 4]  # spread over the 5 val pictures
    assert good["extra"]["reference"]["delta"] == pytest.approx(0.0, abs=1e-6)  # float32 sums
    assert good["extra"]["gate"]["status"] == "pass"
    lost = bad["extra"]["reference"]
    assert bad["status"] == "ok" and lost["delta"] < -0.3 and lost["images"] == 3
    assert bad["extra"]["gate"]["status"] == "fail" and "gate fail: ΔmIoU" in out
