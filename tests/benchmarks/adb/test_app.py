"""The ``app`` runner end to end: real adb, a fake phone whose demo app runs bench mode for real.

The model is a colour classifier (a 1x1 convolution: class = the dominant RGB channel, black =
background) and the dataset pictures of coloured boxes, so the faithful port scores ~1.0 mIoU
and a port that reads the picture as BGR swaps red and blue: the on-device mIoU must show it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edgeseg.benchmarks.adb.app import FILES
from edgeseg.benchmarks.base import BenchError, get_runner, runner_for
from edgeseg.benchmarks.options import AccuracyOptions, PhoneOptions, RunRequest, TimingOptions

CLASSES = ["background", "red", "green", "blue"]
PALETTE = [[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]]
SIZE = 32


def colour_sidecar(**changes) -> dict:
    meta = {
        "arch": "colour",
        "classes": CLASSES,
        "palette": PALETTE,
        "input_size": [SIZE, SIZE],
        "layout": "NCHW",
        "mean": [0.485, 0.456, 0.406],
        "std": [0.229, 0.224, 0.225],
        "input_dtype": "float32",
        "output": "logits",
        "output_dtype": "float32",
        "quantization": "fp32",
    }
    return {**meta, **changes}


@pytest.fixture(scope="module")
def colour_onnx(tmp_path_factory) -> Path:
    """logit(background) = 0, logit(colour c) = normalised channel c: argmax names the colour."""
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper, numpy_helper

    weight = np.zeros((4, 3, 1, 1), np.float32)
    for c in range(3):
        weight[c + 1, c] = 1.0
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"])],
        "colour",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, SIZE, SIZE])],
        [numpy_helper.from_array(weight, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path_factory.mktemp("colour") / "colour_fp32.onnx"
    onnx.save(model, path)
    path.with_name(path.name + ".json").write_text(json.dumps(colour_sidecar()))
    return path


@pytest.fixture(scope="module")
def colour_data(tmp_path_factory) -> str:
    """A ``folder:`` dataset: 48x64 pictures of red/green/blue boxes on black, labels to match."""
    root = tmp_path_factory.mktemp("boxes")
    (root / "classes.txt").write_text(
        "".join(f"{n} {r} {g} {b}\n" for n, (r, g, b) in zip(CLASSES, PALETTE))
    )
    rng = np.random.default_rng(7)
    for split, count in (("train", 1), ("val", 5)):
        for sub in ("images", "masks"):
            (root / split / sub).mkdir(parents=True)
        for i in range(count):
            label = np.zeros((48, 64), np.uint8)
            for cls in (1, 2, 3):
                y, x = rng.integers(0, 30), rng.integers(0, 44)
                label[y : y + 18, x : x + 20] = cls
            image = np.asarray(PALETTE, np.uint8)[label]
            Image.fromarray(image).save(root / split / "images" / f"b{i}.png")
            Image.fromarray(label).save(root / split / "masks" / f"b{i}.png")
    return f"folder:{root}"


def spec_for(
    device, tmp_path: Path, data=None, images=None, threads: int = 1, **phone
) -> RunRequest:
    return RunRequest(
        device=device.serial,
        timing=TimingOptions(warmup=1, runs=5, threads=threads),
        accuracy=AccuracyOptions(data=data, images=images),
        phone=PhoneOptions(log_dir=str(tmp_path), **phone),
    )


def assert_clean(device) -> None:
    files = device.host_path(FILES)
    left = [p for p in files.rglob("*") if p.is_file()] if files.exists() else []
    assert left == [], f"the runner left files on the phone: {left}"
    assert device.errors == []


def test_app_is_opt_in_and_takes_the_three_formats() -> None:
    assert runner_for(Path("m.onnx"), where="adb").name == "adb-onnxruntime"
    app = get_runner("app")
    assert app.where == "adb" and set(app.formats) == {".tflite", ".pte", ".onnx"}


def test_faithful_port_latency_masks_and_on_device_miou(
    pixel8, tmp_path, colour_onnx, colour_data
) -> None:
    spec = spec_for(pixel8, tmp_path, data=colour_data, images=4, threads=2)
    result = get_runner("app").run(colour_onnx, spec)
    assert result.status == "ok", result.reason
    lat = result.latency
    assert lat.runs == 5 and 0 < lat.min_ms <= lat.median_ms <= lat.p90_ms <= lat.max_ms
    assert result.load_ms > 0 and result.first_ms > 0 and result.peak_rss_mb > 1
    assert result.quantization == "fp32" and result.file_bytes == colour_onnx.stat().st_size
    extra = result.extra
    assert extra["device"]["model"] == "Pixel 8" and extra["app_device"]["device"] == "shiba"
    assert extra["runtime"] == "onnxruntime/cpu ×2" and len(extra["samples_ms"]) == 5
    started = pixel8.shell.apps.starts[-1]
    assert started["model"].endswith("/colour_fp32.onnx") and started["images"].endswith("images")
    assert (started["warmup"], started["runs"], started["threads"], started["delegate"]) == (
        "1",
        "5",
        "2",
        "cpu",
    )
    masks = sorted((Path(extra["pulled"]) / "masks").iterdir())
    assert [m.name for m in masks] == [f"{i:04d}.u8.z" for i in range(4)]
    # the on-device number is the host's number: nothing was lost in the port
    assert result.images == 4 and result.miou > 0.9
    assert extra["pixel_agreement"] == 1.0 and extra["miou_delta"] == 0.0
    assert result.miou == extra["host_miou"] and set(result.per_class_iou) == set(CLASSES)
    assert_clean(pixel8)


def test_lossy_port_shows_the_miou_it_loses(make_device, tmp_path, colour_onnx, colour_data):
    phone = make_device()
    phone.behaviour.app_port = "bgr"
    result = get_runner("app").run(colour_onnx, spec_for(phone, tmp_path, data=colour_data))
    assert result.status == "ok", result.reason
    extra = result.extra
    assert extra["host_miou"] > 0.9 and extra["miou_delta"] < -0.3
    assert result.miou == pytest.approx(extra["host_miou"] + extra["miou_delta"])
    assert result.per_class_iou["red"] < 0.1 and result.per_class_iou["green"] > 0.8
    assert extra["pixel_agreement"] < 0.95
    assert_clean(phone)


def _with_sidecar(model: Path, folder: Path) -> Path:
    """A copy of a conftest model with a sidecar read off its real tensors (mean/std 0.5)."""
    copy = folder / model.name
    shutil.copy(model, copy)
    if model.suffix == ".tflite":
        from ai_edge_litert.interpreter import Interpreter

        interp = Interpreter(model_path=str(model))
        shape = [int(d) for d in interp.get_input_details()[0]["shape"]]
        classes = int(interp.get_output_details()[0]["shape"][-1 if shape[-1] == 3 else 1])
    else:
        shape, classes = [1, 3, SIZE, SIZE], 4  # conftest's tiny_module
    nhwc = shape[-1] == 3
    meta = colour_sidecar(
        classes=[f"c{i}" for i in range(classes)],
        palette=[[i, i, i] for i in range(classes)],
        input_size=shape[1:3] if nhwc else shape[2:],
        layout="NHWC" if nhwc else "NCHW",
        mean=[0.5] * 3,
        std=[0.5] * 3,
    )
    copy.with_name(copy.name + ".json").write_text(json.dumps(meta))
    return copy


@pytest.mark.parametrize(
    "fixture, runtime", [("tflite_model", "litert"), ("pte_model", "executorch")]
)
def test_litert_and_executorch_through_the_app(
    pixel8, tmp_path, colour_data, request, fixture, runtime
) -> None:
    """Unlabelled pictures (``images:``): no mIoU, but phone and host masks must still agree."""
    model = _with_sidecar(request.getfixturevalue(fixture), tmp_path)
    pictures = "images:" + colour_data.removeprefix("folder:") + "/val/images"
    spec = spec_for(pixel8, tmp_path, data=pictures, images=3)
    result = get_runner("app").run(model, spec)
    assert result.status == "ok", result.reason
    assert result.extra["runtime"] == f"{runtime}/cpu ×1" and result.latency.runs == 5
    assert result.images == 3 and result.miou is None and "host_miou" not in result.extra
    assert result.extra["pixel_agreement"] == 1.0
    assert_clean(pixel8)


def test_latency_only_without_data(pixel8, tmp_path, colour_onnx) -> None:
    spec = spec_for(pixel8, tmp_path, max_temp_c=40.0, taskset="f0")
    result = get_runner("app").run(colour_onnx, spec)
    assert result.status == "ok" and result.latency.runs == 5
    assert result.miou is None and result.images is None and "miou_delta" not in result.extra
    # already cool: the gate only reads the temperature (an adb round trip), it never sleeps
    assert result.extra["temps_c"] == [31.2] and result.extra["cooldown_s"] < 1.0
    assert result.extra["notes"] == [
        "--taskset does not apply to the app (Android schedules its threads)"
    ]
    assert "images" not in pixel8.shell.apps.starts[-1]
    assert_clean(pixel8)


def test_native_crash_is_a_failed_result_naming_logcat(make_device, tmp_path, colour_onnx):
    phone = make_device()
    phone.behaviour.app_port = "crash"
    result = get_runner("app").run(colour_onnx, spec_for(phone, tmp_path))
    assert result.status == "failed" and result.latency is None
    assert "crashed natively" in result.reason and "logcat -b crash" in result.reason
    assert any("SIGABRT" in line for line in result.extra["crash_log"])
    assert_clean(phone)


def test_hung_app_is_stopped_after_the_timeout(make_device, tmp_path, colour_onnx) -> None:
    phone = make_device()
    phone.behaviour.app_port = "hang"
    runner = get_runner("app")
    runner.timeout_s = 2.0
    result = runner.run(colour_onnx, spec_for(phone, tmp_path))
    assert result.status == "failed" and "still running after 2 s" in result.reason
    assert "app stopped" in result.reason
    assert phone.shell.apps.pidof(["dev.edgeseg.demo"])[2] == 1  # force-stopped
    assert_clean(phone)


def test_app_not_installed_says_how_to_install(make_device, tmp_path, colour_onnx) -> None:
    phone = make_device()
    phone.behaviour.app_installed = False
    with pytest.raises(BenchError) as err:
        get_runner("app").run(colour_onnx, spec_for(phone, tmp_path))
    message = str(err.value)
    assert "demo app (dev.edgeseg.demo) is not installed on" in message
    assert f"`edgeseg android-demo install --device {phone.serial}`" in message
    assert phone.shell.apps.starts == []


def test_missing_sidecar_is_refused_before_pushing(pixel8, tmp_path, colour_onnx) -> None:
    bare = tmp_path / "bare.onnx"
    shutil.copy(colour_onnx, bare)
    before = len(pixel8.commands)
    with pytest.raises(BenchError, match="the app cannot run it: bare.onnx has no sidecar"):
        get_runner("app").run(bare, spec_for(pixel8, tmp_path))
    assert len(pixel8.commands) == before  # the phone was not touched


def test_sidecar_disagreeing_with_the_model_fails_on_the_phone(pixel8, tmp_path, colour_onnx):
    wrong = tmp_path / "wrong.onnx"
    shutil.copy(colour_onnx, wrong)
    wrong.with_name("wrong.onnx.json").write_text(json.dumps(colour_sidecar(input_size=[16, 16])))
    result = get_runner("app").run(wrong, spec_for(pixel8, tmp_path))
    assert result.status == "failed" and result.reason.startswith(f"the app on {pixel8.serial}:")
    assert "input is [1, 3, 32, 32] float32 but the sidecar describes [1, 3, 16, 16]" in (
        result.reason
    )
    assert result.load_ms > 0  # what was measured before the failure is kept
    assert_clean(pixel8)


def test_bad_requests(pixel8, tmp_path, colour_onnx) -> None:
    runner = get_runner("app")
    with pytest.raises(BenchError, match="has 5 classes but the model predicts 4"):
        runner.run(colour_onnx, spec_for(pixel8, tmp_path, data="sample"))
    with pytest.raises(BenchError, match="no 'gpu' delegate for .onnx models"):
        runner.run(colour_onnx, spec_for(pixel8, tmp_path, delegate="gpu"))
    with pytest.raises(BenchError, match="runs on a phone"):
        runner.run(colour_onnx, RunRequest())
    assert_clean(pixel8)
