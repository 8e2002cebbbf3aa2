"""Issue 15's acceptance test: exactly one code path opens each kind of artifact on the host.

For each format, the file is opened through the real code of each consumer — the export parity
check, the artifact teacher and ``edgeseg bench``'s host measurement — with nothing patched but
a spy around :func:`edgeseg.runtimes.load`, and every consumer must end up holding a session of
the same class, opened by the same runtime, around the same kind of runtime object.
"""

from __future__ import annotations

import pytest

import edgeseg.benchmarks.runners  # noqa: F401  (register the host runners)
from edgeseg import runtimes
from edgeseg.benchmarks.base import get_runner, runner_for
from edgeseg.benchmarks.measure import measure
from edgeseg.benchmarks.options import RunRequest, TimingOptions
from edgeseg.converters import get_converter
from edgeseg.converters.parity import parity_of
from edgeseg.distill.teachers import build_teacher
from edgeseg.runtimes import Session

FEEDS_A_TEACHER = {"onnxruntime", "tflite", "executorch"}  # .pt is the checkpoint teacher's


@pytest.fixture
def opened(monkeypatch) -> list[tuple[Session, dict]]:
    """Every session :func:`edgeseg.runtimes.load` hands out, with the arguments it was given."""
    calls: list[tuple[Session, dict]] = []
    real = runtimes.load

    def spy(path, threads=1, runtime=None, scores=False):
        session = real(path, threads, runtime, scores)
        calls.append(
            (session, {"path": path, "threads": threads, "runtime": runtime, "scores": scores})
        )
        return session

    monkeypatch.setattr(runtimes, "load", spy)
    return calls


@pytest.mark.parametrize("runtime", ["onnxruntime", "tflite", "executorch", "torchscript"])
def test_parity_teacher_and_bench_get_the_same_session(runtime, tiny, opened) -> None:
    path = tiny(runtime)
    converter = get_converter(tiny.target(runtime))
    holders = {}

    parity = parity_of(path, converter.runtime, tiny.model, tiny.parity_data(), False, "none")
    assert parity.status == "passed", parity
    holders["parity"] = opened[-1][0]

    if runtime in FEEDS_A_TEACHER:
        teacher = build_teacher(str(path))
        holders["teacher"] = teacher.session
        assert teacher.session is opened[-1][0]

    runner = runner_for(path)
    assert runner.name == runtime
    row = measure(get_runner(runner.name), path, RunRequest(timing=TimingOptions(warmup=0, runs=1)))
    assert row.status == "ok" and row.extra["feed"] == "sidecar"
    holders["bench"] = opened[-1][0]

    assert len(opened) == len(holders)  # each consumer opened the file once, through load
    kinds = {(type(s), s.runtime, type(s.handle)) for s in holders.values()}
    assert len(kinds) == 1, {
        name: (type(s), s.runtime, type(s.handle)) for name, s in holders.items()
    }
    ((session_class, name, _),) = kinds
    assert session_class is Session and name == runtime


def test_export_checks_parity_through_the_runtime_layer(
    sample_checkpoint, tmp_path, opened
) -> None:
    pytest.importorskip("onnxruntime")
    from edgeseg.export import export_checkpoint

    outcomes = export_checkpoint(
        sample_checkpoint, "onnx,torchscript", out=tmp_path, parity_images=1
    )
    assert [o.parity.status for o in outcomes] == ["passed", "passed"]
    asked = [(args["runtime"], args["threads"]) for _, args in opened]
    assert asked == [("onnxruntime", 1), ("torchscript", 1)]
