"""The app's Java core agrees with edgeseg's Python contract, byte for byte, for every option.

Python (edgeseg.contract) writes golden vectors; the Java core, compiled here with javac, must
reproduce the input tensor, the mask and the overlay of each, reject the same bad sidecars and
models, and write a bench report that edgeseg.apps.android_demo reads back.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from edgeseg.benchmarks.base import LatencyStats
from edgeseg import contract
from edgeseg.apps.android_demo import APP_RUNTIMES, read_bench_result
from tests.android_demo import golden
from tests.android_demo.conftest import outcomes, run_java


def test_core_unit_tests_pass(java_core) -> None:
    proc = run_java(java_core, "TestRunner", "dev.edgeseg.core.CoreTests")
    found = outcomes(proc.stdout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(found) >= 15 and set(found.values()) == {"ok"}, proc.stdout


RUNTIME_TESTS = {  # issue 18: each core test the runtime boundary and bench mode rely on
    "RuntimeTests.testRuntimeFloatsAreReadInNativeOrderWhateverTheLabel",
    "RuntimeTests.testIntegerOutputsOfEveryWidthKeepTheirValues",
    "RuntimeTests.testOnlyTheRemainingBytesAreRead",
    "RuntimeTests.testBigEndianMachineBytesAreSwappedToTheCoresLittleEndian",
    "RuntimeTests.testRuntimeBufferOfTheWrongSizeIsAMessage",
    "RuntimeTests.testCheckedRuntimeErrorBecomesTheAppsMessage",
    "RuntimeTests.testExecuTorchAndNativeFailuresSayWhatToDo",
    "RuntimeTests.testNewerExecuTorchProgramIsRefusedByAnOlderAppRuntime",
    "RuntimeTests.testOnnxOpsetAboveTheAppsRuntimeIsRefused",
    "RuntimeTests.testVersionsCompareNumerically",
    "RuntimeTests.testTfliteNewerThanLiteRtImplementsIsRefused",
    "RuntimeTests.testMalformedRuntimeVersionNamesTheKey",
    "BenchRequestTests.testPathsUnderTheAppsFoldersAreAccepted",
    "BenchRequestTests.testPathsOutsideAreRefusedWithWhereToPutThem",
    "BenchRequestTests.testSymbolicLinksAreJudgedByWhereTheyPoint",
    "BenchRequestTests.testRunIdsArePlainNames",
}


def test_runtime_boundary_and_bench_request_tests_pass(java_core) -> None:
    """Byte order of runtime buffers, runtime exceptions as messages, runtime versions, and
    the paths / run ids the exported BenchActivity accepts (issue 18 items 1, 2, 3, 5)."""
    classes = ("dev.edgeseg.core.RuntimeTests", "dev.edgeseg.core.BenchRequestTests")
    proc = run_java(java_core, "TestRunner", *classes)
    found = outcomes(proc.stdout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert set(found) == RUNTIME_TESTS and set(found.values()) == {"ok"}, proc.stdout


def _images(request) -> dict[str, np.ndarray]:
    """Two real CamVid pictures when ../shared is here, plus a synthetic one (odd sizes)."""
    images = {"synthetic": golden.synthetic_image()}
    try:
        camvid = request.getfixturevalue("camvid_dir")
    except pytest.skip.Exception:
        return {**images, "synthetic2": golden.synthetic_image(37, 53, seed=2)}
    for path in sorted((camvid / "val").glob("*.png"))[:2]:
        images[path.stem] = golden.load_rgb(path)
    return images


def _real_tflite_cases(writer: golden.GoldenWriter, request, image: np.ndarray) -> list[str]:
    """Real runtime outputs of the two third-party TFLite models (NHWC logits; int64 mask)."""
    if importlib.util.find_spec("ai_edge_litert") is None:
        return []
    from ai_edge_litert.interpreter import Interpreter

    try:
        models = request.getfixturevalue("shared_dir") / "models"
    except pytest.skip.Exception:
        return []
    ids = []
    for path in sorted(models.glob("deeplabv3*.tflite")):
        interpreter = Interpreter(model_path=str(path), num_threads=1)
        interpreter.allocate_tensors()
        meta = golden.foreign_tflite_meta(path, interpreter)
        c = contract.parse_meta(meta)
        in_shape, in_dtype, out_shape, out_dtype = golden.tensor_io(interpreter)
        c.check_input(in_shape, in_dtype)  # the hand-written sidecar fits the real tensors
        c.check_output(out_shape, out_dtype)
        output = golden.run_tflite(interpreter, contract.preprocess(image, c))
        done = writer.case(f"real-{path.stem}", path.name, meta, "real", image, output, 0.6)
        assert len(np.unique(done["mask"])) > 1, "a real model on a real picture finds classes"
        wrong = {**meta, "layout": "NCHW"}  # a sidecar that disagrees with the model
        writer.bad_case(
            f"real-{path.stem}-layout",
            f"wrong-{path.name}",
            wrong,
            ["the model's input is", "layout"],
            "input",
            in_shape,
            in_dtype,
        )
        writer.bad_case(f"real-{path.stem}-output", f"wrong-{path.name}", wrong,
                        ["the model's output is"], "output", (1, 9, 9), out_dtype)
        ids.append(f"real-{path.stem}")
    return ids


def _bad_cases(writer: golden.GoldenWriter) -> None:
    for case_id, fields, fragment in golden.BAD_SIDECARS:
        meta = golden.bad_sidecar(fields)
        with pytest.raises(contract.ContractError, match=None) as err:  # Python rejects it…
            contract.parse_meta(meta, f"{case_id}.onnx.json")
        assert fragment in str(err.value), (case_id, str(err.value))
        writer.bad_case(case_id, f"{case_id}.onnx", meta, [fragment, f"{case_id}.onnx.json"])
    good = golden.base_meta((64, 80))
    writer.bad_case("not-json", "broken.onnx", '{"classes": [', ["broken.onnx.json", "JSON"])
    writer.bad_case("no-sidecar", "lonely.tflite", None, ["lonely.tflite.json", "edgeseg export"])
    writer.bad_case("coreml", "m.mlpackage", good, ["'.mlpackage'", ".tflite, .pte, .onnx"])
    writer.bad_case("input-nhwc", "shape.onnx", good, ["[1, 64, 80, 3] float32", "layout"],
                    "input", (1, 64, 80, 3), "float32")
    writer.bad_case("input-dtype", "shape.onnx", good, ["uint8"], "input", (1, 3, 64, 80),
                    "uint8")
    writer.bad_case("output-classes", "shape.onnx", good, ["[1, 21, 64, 80]", "classes"],
                    "output", (1, 21, 64, 80), "float32")


def test_golden_vectors_match_java(java_core, tmp_path, request) -> None:
    writer = golden.GoldenWriter(tmp_path / "golden")
    images = _images(request)
    golden.option_cases(writer, images)
    real = _real_tflite_cases(writer, request, images[list(images)[-1]])
    _bad_cases(writer)
    bench_ids = [writer.cases[0]["id"], writer.cases[-1]["id"]]
    samples = [12.5, 11.0, 13.25, 40.0, 11.5, 12.0, 12.75]
    writer.write_manifest({"dir": "bench", "cases": bench_ids, "samples_ms": samples,
                           "model": "golden.onnx"})

    proc = run_java(java_core, "GoldenTests", str(writer.root))
    found = outcomes(proc.stdout)
    failures = [line for line in found.values() if line != "ok"]
    assert not failures, "\n".join(failures[:10])
    expected = [c["id"] for c in writer.cases] + [f"bad:{b['id']}" for b in writer.bad]
    assert [i for i in expected if found.get(i) != "ok"] == [], proc.stdout[-2000:] + proc.stderr
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    assert len(writer.cases) >= 72 and len(real) in (0, 2)
    runtimes = proc.stdout.splitlines()[0]
    assert runtimes == "runtimes {" + ", ".join(f"{k}={v}" for k, v in APP_RUNTIMES.items()) + "}"

    report = read_bench_result(writer.root / "bench")
    assert report["status"] == "ok" and [m["image"] for m in report["masks"]] == [
        f"{i}.png" for i in bench_ids
    ]
    for row, case_id in zip(report["masks"], bench_ids):
        expected_mask = np.fromfile(writer.root / f"{case_id}.mask.bin", dtype=np.uint8)
        assert np.array_equal(row["mask"].ravel(), expected_mask)
    host = LatencyStats.from_samples(samples)
    for key, value in report["latency_ms"].items():
        assert value == pytest.approx(getattr(host, key), rel=1e-12), key
