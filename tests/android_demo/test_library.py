"""edgeseg.apps.android_demo and ``edgeseg android-demo``: models into the app, the app onto a phone.

Each test works on a copy of the app's Gradle files in tmp_path (--app), never on the checkout.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from edgeseg.apps import android_demo
from edgeseg.apps.android_demo import AndroidDemoError, add_model, read_index
from edgeseg.cli import main
from edgeseg.contract import ContractError
from tests.android_demo.golden import base_meta

SLOW = pytest.mark.skipif(not os.environ.get("EDGESEG_SLOW"), reason="slow: set EDGESEG_SLOW=1")


@pytest.fixture
def app(tmp_path):
    """An app folder holding the real app/build.gradle.kts (what check_app looks for)."""
    root = tmp_path / "android_demo"
    (root / "app").mkdir(parents=True)
    shutil.copy(android_demo.default_app() / "app" / "build.gradle.kts", root / "app")
    return root


_REAL: dict[str, bytes] = {}  # suffix → a real exported model (add_model loads what it adds)


@pytest.fixture
def real_models(shared_export) -> None:
    """The session's real .onnx/.tflite/.pte exports, for tests whose models must load."""
    for target in ("onnx", "tflite", "executorch"):
        outcome = shared_export(target)
        if outcome.ok:
            _REAL[outcome.result.path.suffix] = outcome.result.path.read_bytes()


def _artifact(folder, name="lraspp_fp32.onnx", sidecar=True, **fields):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    suffix = path.suffix
    path.write_bytes(_REAL[suffix] if suffix in _REAL else b"model bytes " + name.encode())
    if sidecar:
        meta = {**base_meta((64, 80)), **fields}
        path.with_name(name + ".json").write_text(json.dumps(meta))
    return path


def test_add_copies_model_and_sidecar_and_indexes_them_in_order(app, tmp_path, real_models):
    first = add_model(_artifact(tmp_path / "e", "a_fp32.onnx"), app)
    add_model(_artifact(tmp_path / "e", "b_int8.tflite", quantization="int8"), app)
    models = app / "app/src/main/assets/models"
    assert first.model == models / "a_fp32.onnx" and first.sidecar.is_file()
    assert first.label == "lraspp_mobilenet_v3_small · fp32 · onnxruntime"
    _artifact(tmp_path / "e", "a_fp32.onnx", quantization="fp16")  # re-export, re-add
    add_model(tmp_path / "e" / "a_fp32.onnx", app)
    rows = read_index(app)
    assert [r["file"] for r in rows] == ["a_fp32.onnx", "b_int8.tflite"]  # order kept
    assert rows[0]["label"].endswith("fp16 · onnxruntime") and rows[1]["runtime"] == "litert"
    assert rows[0]["bytes"] == (models / "a_fp32.onnx").stat().st_size
    index = json.loads((models / "index.json").read_text())
    assert index["format"] == "edgeseg-android-models" and index["version"] == 1
    assert not [p for p in models.iterdir() if p.name.endswith(".tmp")]


def test_add_refuses_models_the_app_cannot_use(app, tmp_path) -> None:
    with pytest.raises(AndroidDemoError, match=r"cannot run '\.pt' files .*\.tflite, \.pte"):
        add_model(_artifact(tmp_path, "m_fp32.pt"), app)
    with pytest.raises(ContractError, match="m.onnx has no sidecar m.onnx.json"):
        add_model(_artifact(tmp_path, "m.onnx", sidecar=False), app)
    with pytest.raises(ContractError, match="layout must be one of"):
        add_model(_artifact(tmp_path, "bad.onnx", layout="CHW"), app)
    with pytest.raises(AndroidDemoError, match="is not the edgeseg Android demo"):
        add_model(_artifact(tmp_path, "ok.onnx"), tmp_path)
    assert read_index(app) == []


def test_install_without_an_sdk_says_what_is_missing(app, monkeypatch) -> None:
    monkeypatch.delenv("ANDROID_HOME", raising=False)
    monkeypatch.delenv("ANDROID_SDK_ROOT", raising=False)
    with pytest.raises(AndroidDemoError) as err:
        android_demo.install(None, app)
    message = str(err.value)
    assert message.startswith("cannot build the Android demo: ANDROID_HOME is not set")
    assert "gradle-wrapper.jar is absent (run `gradle wrapper`" in message


def test_read_bench_result_refuses_other_files(tmp_path) -> None:
    with pytest.raises(AndroidDemoError, match="no readable bench result"):
        android_demo.read_bench_result(tmp_path)
    (tmp_path / "result.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(AndroidDemoError, match="not an edgeseg-android-bench v1 result"):
        android_demo.read_bench_result(tmp_path)


def test_cli_add_list_and_errors(app, tmp_path, capsys, real_models) -> None:
    model = _artifact(tmp_path / "e", "m_fp32.pte")
    assert main(["android-demo", "add", str(model), "--app", str(app), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["label"].endswith("executorch")
    assert main(["android-demo", "list", "--app", str(app), "--json"]) == 0
    assert [r["file"] for r in json.loads(capsys.readouterr().out)] == ["m_fp32.pte"]
    code = main(["android-demo", "add", str(_artifact(tmp_path, "x.onnx", sidecar=False)),
                 "--app", str(app)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: x.onnx has no sidecar") and err.count("\n") == 1


def test_cli_install_without_sdk_exits_2(app, monkeypatch, capsys) -> None:
    monkeypatch.delenv("ANDROID_HOME", raising=False)
    monkeypatch.delenv("ANDROID_SDK_ROOT", raising=False)
    assert main(["android-demo", "install", "--device", "pixel", "--app", str(app)]) == 2
    assert "ANDROID_HOME is not set" in capsys.readouterr().err


@SLOW
def test_export_android_demo_adds_what_the_app_runs(app, tmp_path, capsys) -> None:
    pytest.importorskip("onnxruntime")
    ckpt = _tiny_checkpoint(tmp_path)
    code = main(["export", str(ckpt), "--target", "torchscript,onnx", "--parity-images", "0",
                 "--out", str(tmp_path / "out"), "--android-demo", str(app)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "android-demo: skipped lraspp_mobilenet_v3_small_fp32.pt" in out
    assert "android-demo: added lraspp_mobilenet_v3_small_fp32.onnx" in out
    assert [r["file"] for r in read_index(app)] == ["lraspp_mobilenet_v3_small_fp32.onnx"]


def test_export_android_demo_flag_without_path(tmp_path, capsys) -> None:
    """``--android-demo`` alone means this checkout's app; a TorchScript file is only skipped."""
    code = main(["export", str(_tiny_checkpoint(tmp_path)), "--target", "torchscript",
                 "--parity-images", "0", "--out", str(tmp_path / "out"), "--android-demo"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "android-demo: skipped lraspp_mobilenet_v3_small_fp32.pt (the app runs .tflite" in out


def _tiny_checkpoint(tmp_path):
    from edgeseg.checkpoint import CheckpointMeta, save_checkpoint
    from edgeseg.models import create_model

    arch = "lraspp_mobilenet_v3_small"
    meta = CheckpointMeta(arch, 2, ["bg", "fg"], [[0, 0, 0], [255, 0, 0]], [0.5] * 3, [0.25] * 3,
                          [64, 80], dataset="sample")
    return save_checkpoint(tmp_path / "best.pt", create_model(arch, num_classes=2), meta)
