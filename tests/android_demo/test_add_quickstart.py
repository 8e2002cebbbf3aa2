"""``edgeseg android-demo add`` on a fresh clone with the quickstart's export folder (issue 18).

The app ships one sample picture drawn by edgeseg's own ``sample`` generator; ``add`` takes the
quickstart's export folder (every file the app runs, the rest skipped with a note), checks every
file before copying any, and writes the golden mask of the sample picture that the app's
instrumented tests compare with the phone's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from edgeseg import contract
from edgeseg.apps import android_demo
from edgeseg.apps.android_demo import (
    GOLDEN_SUFFIX,
    SAMPLE_PICTURE,
    add_models,
    read_index,
    sample_picture,
)
from edgeseg.cli import main
from tests.android_demo.golden import base_meta
from tests.conftest import REPO

SLOW = pytest.mark.skipif(not os.environ.get("EDGESEG_SLOW"), reason="slow: set EDGESEG_SLOW=1")


@pytest.fixture
def app(tmp_path):
    """A fresh app folder: the real build file and the real shipped sample picture."""
    root = tmp_path / "android_demo"
    (root / "app").mkdir(parents=True)
    shutil.copy(android_demo.default_app() / "app" / "build.gradle.kts", root / "app")
    (root / SAMPLE_PICTURE).parent.mkdir(parents=True)
    shutil.copy(android_demo.default_app() / SAMPLE_PICTURE, root / SAMPLE_PICTURE)
    return root


def _fake(folder, name, **fields):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(b"not a real model")
    (folder / f"{name}.json").write_text(json.dumps({**base_meta((64, 80)), **fields}))
    return folder / name


def test_the_shipped_sample_picture_is_edgesegs_own_drawing() -> None:
    path = android_demo.default_app() / SAMPLE_PICTURE
    assert 10_000 < path.stat().st_size < 64_000  # a few tens of KB
    shipped = np.asarray(Image.open(path).convert("RGB"))
    assert np.array_equal(shipped, sample_picture())  # redrawn here, byte for byte
    tracked = subprocess.run(
        ["git", "ls-files", "--error-unmatch", str(path)], cwd=REPO, capture_output=True
    )
    assert tracked.returncode == 0, "the sample picture must be committed (a fresh clone has it)"
    ignored = subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=REPO)
    assert ignored.returncode == 1, "android_demo/.gitignore must not hide the sample picture"


def test_a_folder_is_checked_whole_before_anything_is_copied(app, tmp_path) -> None:
    pytest.importorskip("onnxruntime")
    export = tmp_path / "export"
    export.mkdir()
    meta = base_meta((64, 80))
    for name in ("a_fp32.onnx", "b_int8.onnx"):  # real models: add loads each one
        _conv_onnx(export / name, len(meta["classes"]), (64, 80))
        (export / f"{name}.json").write_text(json.dumps(meta))
    (export / "b_int8.onnx.json").write_text(json.dumps({**meta, "layout": "CHW"}))  # broken
    (export / "c_fp32.pt").write_bytes(b"torchscript")
    (export / "export.json").write_text("[]")
    with pytest.raises(contract.ContractError, match="b_int8.onnx.json: layout must be one of"):
        add_models([export], app)
    assert read_index(app) == [] and not (app / "app/src/main/assets/models").exists()

    (export / "b_int8.onnx.json").write_text(json.dumps(meta))
    results, notes = add_models([export], app)
    assert [r.model.name for r in results] == ["a_fp32.onnx", "b_int8.onnx"]
    assert notes == [f"skipped in {export}: c_fp32.pt (the app runs .tflite, .pte, .onnx)"]
    assert [r["file"] for r in read_index(app)] == ["a_fp32.onnx", "b_int8.onnx"]


def test_a_folder_without_models_says_what_to_run(app, tmp_path, capsys) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["android-demo", "add", str(tmp_path / "empty"), "--app", str(app)]) == 2
    err = capsys.readouterr().err
    assert "no .tflite, .pte or .onnx files in it" in err and "edgeseg quickstart" in err


def _conv_onnx(path, classes: int, size: tuple[int, int]) -> None:
    """A real ONNX model (1x1 convolution: 3 channels → ``classes`` logits) that onnxruntime
    runs, so the golden mask is computed for real in a second, without an export."""
    onnx = pytest.importorskip("onnx")
    h, w = size
    rng = np.random.default_rng(0)
    weight = onnx.numpy_helper.from_array(
        rng.normal(size=(classes, 3, 1, 1)).astype(np.float32), "w"
    )
    graph = onnx.helper.make_graph(
        [onnx.helper.make_node("Conv", ["image", "w"], ["output"])],
        "conv",
        [onnx.helper.make_tensor_value_info("image", onnx.TensorProto.FLOAT, [1, 3, h, w])],
        [onnx.helper.make_tensor_value_info("output", onnx.TensorProto.FLOAT, [1, classes, h, w])],
        [weight],
    )
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 18)])
    model.ir_version = 8
    onnx.save(model, path)


def test_add_writes_the_golden_mask_of_the_sample_picture(app, tmp_path) -> None:
    pytest.importorskip("onnxruntime")
    meta = base_meta((64, 80))
    (tmp_path / "e").mkdir()
    model = tmp_path / "e" / "conv_fp32.onnx"
    _conv_onnx(model, len(meta["classes"]), (64, 80))
    model.with_name(model.name + ".json").write_text(json.dumps(meta))
    (result,), _ = add_models([tmp_path / "e"], app)
    assert result.golden == result.model.with_name("conv_fp32.onnx" + GOLDEN_SUFFIX)
    mask = np.asarray(Image.open(result.golden))
    import onnxruntime as ort

    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    (y,) = session.run(None, {"image": contract.preprocess(sample_picture(), meta)})
    assert mask.shape == (64, 80) and np.array_equal(mask, contract.postprocess(y, meta))
    assert len(np.unique(mask)) > 1  # the picture's colours pick different classes


@SLOW
def test_quickstart_export_folder_adds_with_golden_masks(app, shared_export, capsys) -> None:
    """A real export folder as the quickstart leaves it: ONNX + TorchScript + export.json."""
    pytest.importorskip("onnxruntime")
    onnx = shared_export("onnx")
    assert onnx.ok, onnx.parity.reason
    folder = onnx.result.path.parent
    (folder / "export.json").write_text("[]")
    code = main(["android-demo", "add", str(folder), "--app", str(app)])
    out = " ".join(capsys.readouterr().out.split())  # rich wraps long lines
    assert code == 0, out
    assert f"added {onnx.result.path.name}" in out and "sample mask written" in out

    golden = app / "app/src/main/assets/models" / (onnx.result.path.name + GOLDEN_SUFFIX)
    mask = np.asarray(Image.open(golden))
    meta = contract.read_sidecar(onnx.result.path)
    assert mask.shape == tuple(meta["input_size"]) and mask.dtype == np.uint8
    # the same mask, computed here without edgeseg's runtime layer
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx.result.path), providers=["CPUExecutionProvider"])
    x = contract.preprocess(sample_picture(), meta)
    (y,) = session.run(None, {session.get_inputs()[0].name: x})
    assert np.array_equal(mask, contract.postprocess(y, meta))
    assert mask.max() < len(meta["classes"])
