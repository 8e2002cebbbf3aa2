"""Class scores read before a graph's final ArgMax / Softmax (issue 19, item 1): each format's
rewritten graph must give exactly the model's own pre-ArgMax output, and the automatic choice,
a named tensor and a format that cannot (``.pte``) each behave as documented."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from edgeseg import runtimes

SIZE = (16, 20)


class Head(nn.Module):
    """A conv 'segmenter' whose graph ends in ArgMax (class ids) or Softmax (probabilities)."""

    def __init__(self, end: str) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 5, 3, padding=1)
        self.end = end

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.conv(x)
        return logits.argmax(1) if self.end == "argmax" else logits.softmax(1)


def _input() -> np.ndarray:
    return np.random.default_rng(0).random((1, 3, *SIZE), dtype=np.float32)


def _logits(model: Head, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model.conv(torch.from_numpy(x)).numpy()


def _onnx(tmp_path: Path, end: str) -> tuple[Head, Path]:
    pytest.importorskip("onnxruntime", reason="onnxruntime not installed")
    model, path = Head(end).eval(), tmp_path / f"{end}.onnx"
    torch.onnx.export(model, (torch.zeros(1, 3, *SIZE),), str(path), dynamo=False, opset_version=17)
    return model, path


@pytest.mark.parametrize("end", ["argmax", "softmax"])
def test_onnx_scores_are_the_models_own_pre_argmax_output(tmp_path, end) -> None:
    model, path = _onnx(tmp_path, end)
    x = _input()
    session = runtimes.load(path, scores=True)
    scores = session.run_float(x)
    np.testing.assert_allclose(scores, _logits(model, x), atol=1e-5)
    assert "ArgMax" in session.notes[0] if end == "argmax" else "Softmax" in session.notes[0]
    plain = runtimes.load(path).run(x)  # the file itself still ends where it ended
    if end == "argmax":
        np.testing.assert_array_equal(plain.reshape(scores.argmax(1).shape), scores.argmax(1))


def test_a_named_tensor_is_read_and_an_unknown_one_is_refused(tmp_path) -> None:
    model, path = _onnx(tmp_path, "argmax")
    x = _input()
    onnx = pytest.importorskip("onnx", reason="onnx not installed")
    named = next(n.output[0] for n in onnx.load(str(path)).graph.node)
    session = runtimes.load(path, scores=named)
    np.testing.assert_allclose(session.run_float(x), _logits(model, x), atol=1e-5)
    assert "as named" in session.notes[0]
    with pytest.raises(runtimes.TensorNotFound, match="has no tensor 'nope'.*name one"):
        runtimes.load(path, scores="nope")


def test_a_fused_name_part_shared_with_a_constant_names_the_activation() -> None:
    """TFLite gives a conv's bias the name of its BiasAdd too: the one 4-D tensor is meant; two
    4-D tensors sharing the part are refused, saying so rather than 'no tensor'."""
    from edgeseg.runtimes.scores import named_tensor

    names = ["head/BiasAdd;head/Conv2D;head/biases", "x", "head/BiasAdd;head/Conv2D;head/biases1"]
    assert named_tensor("head/BiasAdd", names, "m.tflite", [names[2]]) == 2
    with pytest.raises(runtimes.TensorNotFound, match="has 2 4-D tensors named with 'head/Conv2D'"):
        named_tensor("head/Conv2D", names, "m.tflite", [names[0], names[2]])
    with pytest.raises(
        runtimes.TensorNotFound, match="has no 4-D tensors named with 'head/Conv2D'"
    ):
        named_tensor("head/Conv2D", names, "m.tflite", ["x"])


def test_a_graph_without_argmax_keeps_its_output(tiny) -> None:
    session = runtimes.load(tiny("onnxruntime"), scores=True)
    assert "the graph's output" in session.notes[0]
    x = _input()[:, :, :1, :1].repeat(32, 2).repeat(40, 3)
    np.testing.assert_allclose(session.run(x), runtimes.load(tiny("onnxruntime")).run(x))


def test_tflite_scores_are_the_models_own_pre_argmax_output(tmp_path) -> None:
    litert_torch = pytest.importorskip("litert_torch", reason="litert-torch not installed")
    pytest.importorskip("ai_edge_litert", reason="ai-edge-litert not installed")
    model, path = Head("argmax").eval(), tmp_path / "argmax.tflite"
    litert_torch.convert(model, (torch.zeros(1, 3, *SIZE),)).export(str(path))
    x = _input()
    session = runtimes.load(path, scores=True)
    assert "ARG_MAX" in session.notes[0]
    np.testing.assert_allclose(session.run_float(x), _logits(model, x), atol=1e-4)
    with pytest.raises(runtimes.TensorNotFound, match="no tensor 'nope'"):
        runtimes.load(path, scores="nope")


def test_executorch_cannot_hand_out_an_inner_tensor(tiny) -> None:
    with pytest.raises(runtimes.ScoresUnavailable, match="outputs fixed when written"):
        runtimes.load(tiny("executorch"), scores=True)


def test_a_pte_teacher_notes_its_fixed_output_only_when_it_had_to_search(tiny, tmp_path) -> None:
    """Its sidecar says the output is logits: nothing is searched, no note. The same program
    without a sidecar: one note, printed once the file has loaded, and the same scores."""
    from edgeseg.distill.teachers import TeacherOptions, build_teacher
    from edgeseg.progress import console

    from .conftest import CLASSES, MEAN, STD

    exported_path = tiny("executorch")
    with console.capture() as said:
        exported = build_teacher(str(exported_path))
    assert "as it is" not in " ".join(said.get().split()), said.get()  # rich wraps lines
    foreign = tmp_path / "foreign.pte"
    foreign.write_bytes(exported_path.read_bytes())
    options = TeacherOptions(classes=",".join(CLASSES), mean=tuple(MEAN), std=tuple(STD))
    with console.capture() as said:
        bare = build_teacher(str(foreign), options)
    note = " ".join(said.get().split())
    assert note.count("distilling from its output as it is") == 1, note
    assert note.startswith("teacher foreign.pte: executorch files have their outputs fixed"), note
    pixels = torch.rand(1, 3, 32, 40)
    torch.testing.assert_close(bare.predict(pixels)[0], exported.predict(pixels)[0])


def test_real_cityscapes_model_scores_agree_with_its_own_argmax(shared_dir) -> None:
    path = shared_dir / "models" / "deeplab_mobilenet_edgetpu_slim_cityscapes_quant.tflite"
    if not path.is_file():
        pytest.skip(f"{path} is absent: real ArgMax-model test skipped")
    pytest.importorskip("ai_edge_litert", reason="ai-edge-litert not installed")
    x = np.random.default_rng(0).integers(0, 256, (1, 513, 513, 3), dtype=np.uint8)
    scores = runtimes.load(path, threads=2, scores=True)
    assert scores.output.shape == (1, 513, 513, 19) and scores.output.quant is not None
    ids = runtimes.load(path, threads=2).run(x)
    assert (scores.run(x).argmax(-1) == ids).mean() > 0.999  # ties aside, the same classes


def test_a_pte_teacher_cannot_serve_an_inner_tensor_as_features(tiny) -> None:
    from edgeseg.distill.teachers import TeacherOptions, build_teacher
    from edgeseg.errors import DistillError

    options = TeacherOptions(extra={"features": "anything"})
    with pytest.raises(DistillError, match="features=anything: .*outputs fixed when written"):
        build_teacher(str(tiny("executorch")), options)
