"""The runtime registry, dispatch by suffix then content, the typed errors, and Session."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from edgeseg import runtimes
from edgeseg.contract import Quant
from edgeseg.converters import converter_names, get_converter
from edgeseg.errors import CheckpointError, EdgesegError
from edgeseg.runtimes import (
    ArtifactLoadError,
    Runtime,
    RuntimeNotInstalled,
    RuntimeUnavailable,
    Session,
    TensorInfo,
    register_runtime,
)
from tests.runtimes.conftest import random_file

NAMES = {"pytorch", "torchscript", "executorch", "onnxruntime", "tflite", "coreml"}


def test_every_runtime_is_registered_under_its_module_name() -> None:
    assert set(runtimes.runtime_names()) == NAMES
    for name in NAMES:
        runtime = runtimes.get_runtime(name)
        assert type(runtime).__module__ == f"edgeseg.runtimes.{name}"
        assert runtime.formats and all(s.startswith(".") for s in runtime.formats)


def test_duplicate_and_unknown_names() -> None:
    with pytest.raises(ValueError, match="registered twice"):

        @register_runtime
        class Again(Runtime):  # noqa: F841
            name = "tflite"

    with pytest.raises(ArtifactLoadError, match="Did you mean 'onnxruntime'.*Valid: coreml"):
        runtimes.get_runtime("onnxruntme")
    with pytest.raises(ArtifactLoadError, match="Unknown runtime 'x'"):
        runtimes.load("model.onnx", runtime="x")


def test_every_converter_names_a_runtime_that_opens_its_suffix() -> None:
    """Converters only convert: none can load; each says which runtime runs its files."""
    for name in converter_names():
        converter = get_converter(name)
        assert not hasattr(converter, "load"), name
        runtime = runtimes.get_runtime(converter.runtime)
        assert converter.suffix in runtime.formats, name
        assert (runtime.format_name or runtime.name) == name  # how errors name the format


def test_suffix_then_content(sample_checkpoint, tiny, tmp_path) -> None:
    assert runtimes.runtime_for(Path("m.TFLITE")).name == "tflite"
    assert runtimes.runtime_for("m.onnx").name == "onnxruntime"
    assert runtimes.runtime_for(sample_checkpoint).name == "pytorch"  # a .pt: content decides
    assert runtimes.runtime_for(tiny("torchscript")).name == "torchscript"
    with pytest.raises(ArtifactLoadError, match="no runtime recognises it.*not a PyTorch zip"):
        runtimes.runtime_for(random_file(tmp_path, "junk.pt"))
    with pytest.raises(ArtifactLoadError, match=r"no runtime opens '\.txt' files \(known: .*\.pte"):
        runtimes.load(tmp_path / "notes.txt")


class _Fake(Runtime):
    """Not registered: a runtime whose library is missing, or whose loader raises."""

    name = "fake"
    formats = (".fake",)
    requires = ("edgeseg_no_such_module",)
    install_hint = "pip install edgeseg-fake"
    hint = "pass a .fake file"
    error: Exception = ValueError("bad magic\nsecond line")

    def open(self, path: Path, threads: int) -> Session:
        raise self.error


def test_missing_library_names_the_install_command() -> None:
    with pytest.raises(
        RuntimeNotInstalled, match="'edgeseg_no_such_module'.*pip install edgeseg-fake"
    ):
        _Fake().check_available()


def test_a_runtime_error_becomes_one_typed_line(tmp_path) -> None:
    path = tmp_path / "m.fake"
    path.write_bytes(b"x")
    with pytest.raises(ArtifactLoadError) as caught:
        _Fake().load(path)
    assert str(caught.value) == "m.fake is not a file fake can run (bad magic); pass a .fake file"
    assert isinstance(caught.value, EdgesegError)
    fake = _Fake()
    fake.error = CheckpointError("m.fake is not an edgeseg checkpoint; pass best.pt")
    with pytest.raises(ArtifactLoadError, match="^m.fake is not an edgeseg checkpoint; pass"):
        fake.load(path)
    with pytest.raises(ArtifactLoadError, match="no such file"):
        fake.load(tmp_path / "missing.fake")


@pytest.mark.skipif(sys.platform == "darwin", reason="Core ML runs on macOS")
def test_coreml_is_unavailable_off_macos(tmp_path) -> None:
    with pytest.raises(RuntimeUnavailable, match="Core ML runs only on macOS"):
        runtimes.load(tmp_path / "m.mlpackage")


def test_run_float_quantizes_the_input_and_dequantizes_logits() -> None:
    seen = []

    def fn(x: np.ndarray) -> np.ndarray:
        seen.append(x)
        return np.full((1, 2, 1, 1), 10, dtype=np.int8)

    quant_in, quant_out = Quant(0.5, -3), Quant(0.25, 2)
    session = Session(
        fn, TensorInfo((1, 3, 1, 1), "int8", quant_in), TensorInfo((1, 2, 1, 1), "int8", quant_out)
    )
    y = session.run_float(np.array([1.0, 100.0, -100.0], dtype=np.float32).reshape(1, 3, 1, 1))
    assert seen[0].dtype == np.int8 and seen[0].ravel().tolist() == [-1, 127, -128]
    assert y.dtype == np.float32 and np.allclose(y, (10 - 2) * 0.25)
    assert session.run(seen[0]).dtype == np.int8  # run: the runtime's own tensors


def test_run_float_leaves_float_and_masks_alone() -> None:
    session = Session(lambda x: x[:, 0].astype(np.uint8), TensorInfo((1, 3, 2, 2), "float32"))
    x = np.ones((1, 3, 2, 2), dtype=np.float32)
    assert session.run_float(x).dtype == np.uint8  # a mask of class ids stays ids
