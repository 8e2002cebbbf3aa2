"""Every registered runtime round-trips a small real artifact: it opens the file, reports its
tensors and embedded metadata, runs it, and gives the float model's output back."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from edgeseg import runtimes
from edgeseg.runtimes import RuntimeUnavailable, Session
from tests.runtimes.conftest import CLASSES, SIZE, sidecar_meta

EMBEDDED = {"onnxruntime", "torchscript", "coreml"}  # formats that carry the sidecar inside


@pytest.mark.parametrize("name", runtimes.runtime_names())
def test_round_trip(name, tiny, sample_checkpoint) -> None:
    if name == "coreml" and sys.platform != "darwin":
        with pytest.raises(RuntimeUnavailable, match="only on macOS"):
            runtimes.load(tiny.folder / "tiny.mlpackage", runtime=name)
        return
    if name == "pytorch":
        return _checkpoint_round_trip(sample_checkpoint)
    path = tiny(name)
    session = runtimes.load(path)  # found by suffix (and content, for the .pt)
    assert isinstance(session, Session) and session.runtime == name
    assert session.input.shape == (1, 3, *SIZE) and session.input.dtype == "float32"
    if session.output is not None:
        assert tuple(session.output.shape) == (1, len(CLASSES), *SIZE)
    if name in EMBEDDED:
        assert session.meta["classes"] == CLASSES and session.meta["input_size"] == list(SIZE)
    x = np.random.default_rng(0).standard_normal((1, 3, *SIZE)).astype(np.float32)
    with torch.no_grad():
        expected = tiny.model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(session.run(x), expected, atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(session(x), session.run_float(x), atol=0)


def _checkpoint_round_trip(checkpoint) -> None:
    from edgeseg.checkpoint import load_model

    session = runtimes.load(checkpoint, threads=1)
    model, meta = load_model(checkpoint)
    assert session.runtime == "pytorch" and session.meta["quantization"] == "fp32"
    assert session.meta["classes"] == list(meta.classes) and session.meta["source_sha256"]
    x = np.random.default_rng(0).standard_normal(session.input.shape).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(x))
    np.testing.assert_allclose(session.run(x), expected.numpy(), atol=1e-5, rtol=1e-5)


def test_threads_reach_the_runtime(tiny) -> None:
    """The thread count is the runtime's own setting (torch's is process-wide: put back)."""
    before = torch.get_num_threads()
    try:
        runtimes.load(tiny("torchscript"), threads=2)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    session = runtimes.load(tiny("onnxruntime"), threads=2)
    assert session.handle.get_session_options().intra_op_num_threads == 2
    pte = tiny("executorch")
    from executorch.extension.pybindings.portable_lib import _threadpool_get_thread_count

    runtimes.load(pte, threads=2)
    assert _threadpool_get_thread_count() == 2
    runtimes.load(pte, threads=1)
    assert _threadpool_get_thread_count() == 1


def test_sidecar_fields_stay_what_the_converter_embedded(tiny) -> None:
    meta = runtimes.load(tiny("onnxruntime")).meta
    assert {k: meta[k] for k in sidecar_meta()} == sidecar_meta()
