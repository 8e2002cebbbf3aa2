"""Accuracy and latency gates through the real CLI: Δ mIoU against the sidecar's reference, the
gate column in table/JSON/CSV, exit 0 when every row passes, 4 when one fails, 3 before 4.

The lossy port is a colour classifier whose red and blue weights are swapped (what a BGR/RGB
mix-up does to a real port); its sidecar carries the reference of the faithful model, measured
on the host the way export measures a checkpoint. The session's tiny trained checkpoint is too
close to chance for any port to lose much against it, so it serves the passing case.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from edgeseg.cli import main
from edgeseg.errors import ExitCode
from tests.benchmarks.adb.test_app import colour_data, colour_sidecar  # noqa: F401  (fixture)
from tests.benchmarks.conftest import random_file

FAST = ["--runs", "2", "--warmup", "0", "--quiet"]


def colour_model(path: Path, swap: bool = False) -> Path:
    """logit(colour c) = normalised channel c (``swap``: red and blue read each other's)."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    weight = np.zeros((4, 3, 1, 1), np.float32)
    for c in range(3):
        weight[c + 1, 2 - c if swap and c != 1 else c] = 1.0
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"])],
        "colour",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 32, 32])],
        [numpy_helper.from_array(weight, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def host_reference(model: Path, data: str) -> dict:
    """What export records for a checkpoint, measured here for the faithful colour model."""
    from edgeseg import runtimes
    from edgeseg.contract import postprocess, preprocess, resize_mask
    from edgeseg.data import build_dataset
    from edgeseg.reference import Reference, dataset_key, image_counts

    meta = colour_sidecar()
    session = runtimes.load(model, threads=1)
    dataset = build_dataset(data, "val")
    counts = []
    for i in range(len(dataset)):
        pred = postprocess(session.run(preprocess(np.asarray(dataset.load_image(i)), meta)), meta)
        counts.append(image_counts(pred, resize_mask(dataset.load_mask(i), (32, 32)), 4))
    ref = Reference(tuple(meta["classes"]), dataset_key(data), "val", (32, 32), np.stack(counts))
    return ref.as_dict()


@pytest.fixture(scope="module")
def ports(tmp_path_factory, colour_data) -> dict[str, Path]:  # noqa: F811
    """{"faithful", "lossy"}: two ONNX ports of one model, the faithful one's reference in both."""
    folder = tmp_path_factory.mktemp("ports")
    faithful = colour_model(folder / "faithful.onnx")
    reference = host_reference(faithful, colour_data)
    lossy = colour_model(folder / "lossy.onnx", swap=True)
    for path in (faithful, lossy):
        sidecar = {**colour_sidecar(), "reference": reference}
        path.with_name(path.name + ".json").write_text(json.dumps(sidecar))
    return {"faithful": faithful, "lossy": lossy}


def bench(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["bench", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_faithful_port_passes_every_gate(ports, colour_data, tmp_path, capsys) -> None:  # noqa: F811
    args = [
        "--data",
        colour_data,
        "--json",
        str(tmp_path / "b.json"),
        "--csv",
        str(tmp_path / "b.csv"),
    ]
    gates = ["--max-miou-drop", "0.5", "--min-miou-ratio", "0.97", "--max-latency-ms", "5000"]
    code, out, _ = bench(capsys, str(ports["faithful"]), *args, *gates, *FAST)
    assert code == ExitCode.OK, out
    assert "gates (ΔmIoU ≥ −0.5 points, mIoU ratio ≥ 0.97, median ≤ 5000 ms): passed" in out
    (record,) = json.loads((tmp_path / "b.json").read_text())["records"]
    ref = record["extra"]["reference"]
    assert ref["images"] == 5 and ref["delta"] == pytest.approx(0.0, abs=1e-6)
    assert ref["ratio"] == pytest.approx(1.0, abs=1e-6)
    assert record["miou"] > 0.9 and record["extra"]["gate"]["status"] == "pass"
    (row,) = csv.DictReader((tmp_path / "b.csv").open())
    assert row["gate"] == "pass" and abs(float(row["delta_miou"])) < 1e-6


def test_lossy_port_fails_the_accuracy_gate(ports, colour_data, tmp_path, capsys) -> None:  # noqa: F811
    out_json = tmp_path / "b.json"
    args = [str(ports["faithful"]), str(ports["lossy"]), "--data", colour_data, "--images", "3"]
    code, out, _ = bench(capsys, *args, "--min-miou-ratio", "0.97", "--json", str(out_json), *FAST)
    assert code == ExitCode.GATE_FAILED == 4, out
    good, bad = json.loads(out_json.read_text())["records"]
    assert good["extra"]["gate"]["status"] == "pass" and good["extra"]["reference"]["images"] == 3
    assert bad["status"] == "ok" and bad["extra"]["gate"]["status"] == "fail"
    lost = bad["extra"]["reference"]
    assert lost["delta"] < -0.3 and lost["ratio"] < 0.7
    assert bad["miou"] == pytest.approx(lost["miou"] + lost["delta"])
    assert "🚫2 lossy.onnx: gate fail: mIoU ratio" in out and "FAILED — 1 pass, 1 fail" in out


def test_latency_gate_and_failed_rows_first(exports, tmp_path, capsys) -> None:
    onnx = str(exports["onnx"])
    code, out, _ = bench(capsys, onnx, "--max-latency-ms", "0.001", *FAST)
    assert code == ExitCode.GATE_FAILED, out
    assert "gate fail: latency" in out and "> 0.001 ms" in out
    bad = random_file(tmp_path, "bad.onnx")
    code, out, _ = bench(capsys, onnx, str(bad), "--max-latency-ms", "0.001", *FAST)
    assert code == ExitCode.FAILED, out  # an artifact that did not run outranks a gate


def test_rows_without_a_reference_are_unchecked_not_passed(exports, tmp_path, capsys) -> None:
    """The real export's artifact is checked against its reference; the same file with a
    sidecar that has none (an export without labelled data) is shown, never passed."""
    bare = tmp_path / "bare.onnx"
    shutil.copy(exports["onnx"], bare)
    sidecar = json.loads(Path(f"{exports['onnx']}.json").read_text())
    del sidecar["reference"]
    Path(f"{bare}.json").write_text(json.dumps(sidecar))
    out_json = tmp_path / "b.json"
    args = [str(exports["onnx"]), str(bare), "--data", "sample", "--images", "2"]
    code, out, _ = bench(capsys, *args, "--max-miou-drop", "0", "--json", str(out_json), *FAST)
    assert code == ExitCode.OK, out
    exported, no_reference = json.loads(out_json.read_text())["records"]
    assert exported["extra"]["gate"]["status"] == "pass"  # fp32 ONNX: ΔmIoU 0 exactly
    assert exported["extra"]["reference"]["delta"] == pytest.approx(0.0, abs=1e-6)
    assert no_reference["extra"]["gate"]["status"] == "unchecked"
    assert no_reference["extra"]["reference"]["why"].startswith("no reference")
    assert "no ref" in out and "1 pass, 0 fail, 1 unchecked" in out


@pytest.mark.parametrize(
    "args,message",
    [
        (["--max-miou-drop", "-1", "--data", "sample"], "--max-miou-drop -1.0 is out of range"),
        (["--min-miou-ratio", "1.5", "--data", "sample"], "a ratio above 0 and at most 1"),
        (["--max-latency-ms", "0"], "--max-latency-ms 0.0 is out of range"),
        (["--min-miou-ratio", "0.97"], "--min-miou-ratio 0.97 needs --data"),
    ],
)
def test_bad_gates_are_one_line(exports, args, message, capsys) -> None:
    code, _, err = bench(capsys, str(exports["onnx"]), *args, "--quiet")
    assert code == ExitCode.BAD_INPUT and message in err and len(err.strip().splitlines()) == 1
