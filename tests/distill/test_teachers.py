"""Teachers: checkpoint (frozen), exported artifacts in their runtimes, class maps, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from edgeseg.checkpoint import load_model
from edgeseg.data import build_dataset
from edgeseg.data.camvid import CAMVID_CLASSES
from edgeseg.data.sample import SAMPLE_CLASSES
from edgeseg.data.transforms import Compose, Resize, ToTensor
from edgeseg.distill.classmap import NO_CLASS_LOGIT, ClassMap, resolve_class_map
from edgeseg.distill.teachers import TeacherOptions, build_teacher, teach
from edgeseg.errors import DistillError
from tests.distill.conftest import SIZE

VOC_TO_CAMVID = {
    "person": "Pedestrian",
    "car": "Car",
    "bus": "Car",
    "bicycle": "Bicyclist",
    "motorbike": "Bicyclist",
    "__background__": None,
}
GOOGLE = TeacherOptions(classes="voc", mean=(0.5,) * 3, std=(0.5,) * 3)


def test_class_map_merges_with_logsumexp_and_marks_unmapped_pixels(tmp_path) -> None:
    path = tmp_path / "map.json"
    path.write_text(json.dumps({"a": "x", "b": "x", "c": None}))
    cmap = resolve_class_map(("a", "b", "c"), ("x", "y"), path)
    logits = torch.tensor([[1.0, 2.0, 0.0], [0.0, 0.0, 5.0]]).T.reshape(1, 3, 1, 2)
    mapped, valid = cmap.apply(logits)
    expected = torch.logsumexp(torch.tensor([1.0, 2.0]), 0)
    assert mapped[0, 0, 0, 0] == pytest.approx(expected.item())
    assert mapped[0, 1, 0, 0] == NO_CLASS_LOGIT  # nothing maps onto y
    assert valid.tolist() == [[[True, False]]]  # pixel 2's teacher class c has no counterpart


def test_class_map_errors_name_the_problem(tmp_path) -> None:
    with pytest.raises(DistillError, match="--class-map"):
        resolve_class_map(("a", "b", "c"), ("x", "y"))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"a": "nope"}))
    with pytest.raises(DistillError, match="Unknown student class 'nope'"):
        resolve_class_map(("a", "b"), ("x", "y"), bad)
    assert resolve_class_map(None, ("x", "y"), num_teacher=2).identity
    assert isinstance(resolve_class_map(("X", "Y"), ("x", "y")), ClassMap)


def test_checkpoint_teacher_is_frozen_and_matches_the_model(teacher_ckpt) -> None:
    teacher = build_teacher(str(teacher_ckpt))
    assert teacher.kind == "checkpoint" and teacher.classes == SAMPLE_CLASSES
    assert all(not p.requires_grad for p in teacher.model.parameters())
    pixels = torch.rand(2, 3, *SIZE, requires_grad=True)
    out = teach(teacher, resolve_class_map(teacher.classes, SAMPLE_CLASSES), pixels, (32, 40))
    assert out.logits.shape == (2, 5, 32, 40) and not out.logits.requires_grad
    assert out.valid.all() and {"low", "high"} <= set(out.features)
    model, meta = load_model(teacher_ckpt)
    x = (pixels.detach() - torch.tensor(meta.mean).view(1, 3, 1, 1)) / torch.tensor(meta.std).view(
        1, 3, 1, 1
    )
    with torch.no_grad():
        reference = torch.nn.functional.interpolate(model(x), size=(32, 40), mode="bilinear")
    torch.testing.assert_close(out.logits, reference, atol=1e-5, rtol=1e-5)


def test_real_voc_tflite_teacher_labels_camvid_cars(voc_tflite, camvid_dir, tmp_path) -> None:
    """Google's VOC DeepLabV3 through ai_edge_litert, mapped onto CamVid: where the mapped teacher
    says Car, the ground truth is Car; with the wrong normalisation it is mostly wrong."""
    data = build_dataset(f"camvid:{camvid_dir}", "val", Compose([Resize((180, 240)), ToTensor()]))
    items = [data[i] for i in range(0, 100, 10)]
    pixels, masks = torch.stack([i[0] for i in items]), torch.stack([i[1] for i in items])
    cmap_path = tmp_path / "voc2camvid.json"
    cmap_path.write_text(json.dumps(VOC_TO_CAMVID))
    car = CAMVID_CLASSES.index("Car")
    precision = {}
    for name, options in (("right", GOOGLE), ("wrong", TeacherOptions(classes="voc"))):
        teacher = build_teacher(str(voc_tflite), options)
        assert (teacher.size, teacher.layout, teacher.num_classes) == ((257, 257), "NHWC", 21)
        cmap = resolve_class_map(teacher.classes, CAMVID_CLASSES, cmap_path)
        out = teach(teacher, cmap, pixels, (180, 240))
        said_car = out.valid & (out.logits.argmax(1) == car)
        assert int(said_car.sum()) > 500
        precision[name] = float((masks[said_car] == car).float().mean())
    assert precision["right"] > 0.9 and precision["wrong"] < 0.6, precision


def test_tflite_teacher_equals_a_manual_interpreter_run(voc_tflite) -> None:
    from ai_edge_litert.interpreter import Interpreter

    pixels = torch.rand(1, 3, 257, 257)
    logits, features = build_teacher(str(voc_tflite), GOOGLE).predict(pixels)
    interpreter = Interpreter(model_path=str(voc_tflite))
    interpreter.allocate_tensors()
    nhwc = ((pixels.permute(0, 2, 3, 1).numpy() * 255.0) - 127.5) / 127.5
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], nhwc.astype(np.float32))
    interpreter.invoke()
    ref = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    assert features is None
    np.testing.assert_allclose(logits.permute(0, 2, 3, 1).numpy(), ref, atol=1e-3)


def test_onnx_artifact_teacher_reads_its_sidecar(teacher_ckpt, tmp_path) -> None:
    pytest.importorskip("onnxruntime", reason="onnxruntime not installed")
    from edgeseg.export import export_checkpoint

    (outcome,) = export_checkpoint(teacher_ckpt, "onnx", out=tmp_path, parity_images=0)
    assert outcome.ok, outcome.parity.reason
    teacher = build_teacher(str(outcome.result.path))  # no options: all from the sidecar
    assert teacher.kind == "artifact" and teacher.classes == SAMPLE_CLASSES
    assert teacher.size == SIZE and teacher.layout == "NCHW"
    ckpt_teacher = build_teacher(str(teacher_ckpt))
    pixels = torch.rand(2, 3, *SIZE)
    torch.testing.assert_close(
        teacher.predict(pixels)[0], ckpt_teacher.predict(pixels)[0], atol=1e-4, rtol=1e-4
    )


def test_bad_teachers_are_one_line_errors(tmp_path, teacher_ckpt) -> None:
    fake = tmp_path / "fake.tflite"
    fake.write_bytes(b"not a flatbuffer at all")
    pytest.importorskip("ai_edge_litert.interpreter", reason="ai-edge-litert not installed")
    with pytest.raises(DistillError, match="is not a model"):
        build_teacher(str(fake))
    with pytest.raises(DistillError, match="does not exist"):
        build_teacher(str(tmp_path / "missing.onnx"))
    with pytest.raises(DistillError, match="Unknown teacher"):
        build_teacher("nonsense")
    not_ckpt = tmp_path / "x.pt"
    torch.save({"weights": torch.zeros(1)}, not_ckpt)
    with pytest.raises(DistillError, match="not an edgeseg checkpoint"):
        build_teacher(str(not_ckpt))
