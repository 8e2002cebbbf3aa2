"""edgeseg.sidecar: the one owner of ``<artifact>.json`` (write, read, validate, document)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from edgeseg import sidecar
from edgeseg.contract import ContractError, parse_meta, read_sidecar, sidecar_path
from edgeseg.errors import DistillError
from edgeseg.quantization import QuantLabel

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("edgeseg", "converters", "benchmarks")


def meta(**changes) -> dict:
    """A complete sidecar with every key edgeseg writes."""
    data = {
        "arch": "lraspp_mobilenet_v3_small",
        "classes": ["bg", "thing"],
        "palette": [[0, 0, 0], [255, 0, 0]],
        "input_size": [8, 12],
        "layout": "NCHW",
        "mean": [0.485, 0.456, 0.406],
        "std": [0.229, 0.224, 0.225],
        "input_dtype": "int8",
        "input_quantization": {"scale": 0.02, "zero_point": -3},
        "output": "logits",
        "output_dtype": "int8",
        "output_quantization": {"scale": 0.1, "zero_point": 0},
        "quantization": QuantLabel.INT8_MIXED,
        "source_checkpoint": "best.pt",
        "source_sha256": "ab" * 32,
        "edgeseg_version": "0.1.0",
        "target": "tflite",
        "parity": {"status": "passed", "agreement": 0.99},
        "runtime_version": {"runtime": "tflite", "version": "2.3.0"},
        "reference": {  # one image; per class: intersection 1, union 2 (edgeseg.reference)
            "miou": 0.5,
            "per_class_iou": {"bg": 0.5, "thing": 0.5},
            "dataset": "sample",
            "split": "val",
            "size": [8, 12],
            "images": 1,
            "image_counts": "AQAAAAEAAAACAAAAAgAAAA==",
        },
        "artifact_bytes": 5,
        "artifact_sha256": "cd" * 32,
    }
    data.update(changes)
    return data


def test_contract_reexports_the_sidecar_names() -> None:
    from edgeseg import contract

    for name in ("parse_meta", "read_sidecar", "sidecar_path", "Contract", "ContractError"):
        assert getattr(contract, name) is getattr(sidecar, name)
    assert contract.Quant is sidecar.Quant and contract.IN_GRAPH == sidecar.IN_GRAPH


def test_write_then_read_round_trips(tmp_path) -> None:
    artifact = tmp_path / "m_int8.tflite"
    artifact.write_bytes(b"model")
    written = sidecar.write_sidecar(artifact, meta())
    assert written == sidecar_path(artifact) == tmp_path / "m_int8.tflite.json"
    assert written.read_text() == json.dumps(meta(), indent=2) + "\n"  # the bytes as before
    back = read_sidecar(artifact)
    assert back == meta() and back["quantization"] == "int8-mixed"
    assert sidecar.quant_label(back) is QuantLabel.INT8_MIXED
    c = parse_meta(back)
    assert c.size == (8, 12) and c.input_quant == sidecar.Quant(0.02, -3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m_int8.tflite", "m_int8.tflite.json"]


def test_failed_write_leaves_the_old_sidecar_and_no_partial_file(tmp_path, monkeypatch) -> None:
    artifact = tmp_path / "m.onnx"
    sidecar.write_sidecar(artifact, meta())
    before = sidecar_path(artifact).read_bytes()

    def half_then_fail(self, text, *args, **kwargs):
        with open(self, "w") as fh:
            fh.write(text[: len(text) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_text", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        sidecar.write_sidecar(artifact, meta(target="onnx"))
    monkeypatch.undo()
    with pytest.raises(TypeError):  # not JSON: fails mid-write too
        sidecar.write_sidecar(artifact, meta(parity={"x": object()}))
    assert sidecar_path(artifact).read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx.json"]
    sidecar.write_sidecar(tmp_path / "new.onnx", meta())
    monkeypatch.setattr(Path, "write_text", half_then_fail)
    with pytest.raises(OSError):
        sidecar.write_sidecar(tmp_path / "none.onnx", meta())
    assert not sidecar_path(tmp_path / "none.onnx").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx.json", "new.onnx.json"]


def test_writer_refuses_undocumented_keys_and_invalid_contracts(tmp_path) -> None:
    artifact = tmp_path / "m.onnx"
    with pytest.raises(ContractError, match=r"undocumented sidecar keys \['colour'\]"):
        sidecar.write_sidecar(artifact, meta(colour="red"))
    with pytest.raises(ContractError, match="input_size"):
        sidecar.write_sidecar(artifact, meta(input_size=[0, 4]))
    assert list(tmp_path.iterdir()) == []


def test_every_key_is_documented_and_the_full_sidecar_uses_them_all() -> None:
    doc = sidecar.__doc__
    for key in sidecar.KEYS:
        assert f"``{key}``" in doc, f"{key} is not documented in edgeseg.sidecar"
    assert set(meta()) == set(sidecar.KEYS)
    assert not set(sidecar.VALIDATED) & set(sidecar.INFORMATIONAL)
    for key in sidecar.VALIDATED:  # each validated key is checked: a bad value is refused
        if key.endswith("_quantization"):
            bad = meta(**{key: {"scale": -1, "zero_point": 0}})
        else:
            bad = meta(**{key: [None]})
        with pytest.raises(ContractError, match=key):
            parse_meta(bad)


def test_a_real_export_writes_only_documented_keys(shared_export, sample_checkpoint) -> None:
    from edgeseg.checkpoint import load_checkpoint
    from edgeseg.converters.base import ExportSpec
    from edgeseg.export import artifact_metadata

    outcome = shared_export("torchscript")
    assert outcome.ok, outcome.parity.reason
    written = read_sidecar(outcome.result.path)
    assert set(written) <= set(sidecar.KEYS), set(written) - set(sidecar.KEYS)
    assert {"target", "quantization", "parity"} <= set(written)
    assert sidecar.quant_label(written) is QuantLabel.FP32
    checkpoint_meta = load_checkpoint(sample_checkpoint).meta
    for input_dtype, output in (("float", "logits"), ("uint8", "mask")):
        spec = ExportSpec(size=(64, 64), input_dtype=input_dtype, output=output)
        keys = artifact_metadata(checkpoint_meta, spec, sample_checkpoint)
        assert set(keys) <= set(sidecar.KEYS), set(keys) - set(sidecar.KEYS)


def test_a_real_export_records_the_runtime_that_verified_it(shared_export) -> None:
    import torch

    outcome = shared_export("torchscript")
    assert outcome.ok, outcome.parity.reason
    written = read_sidecar(outcome.result.path)
    assert written["runtime_version"] == {"runtime": "torchscript", "version": torch.__version__}


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("1.5.1", "runtime_version must be an object"),
        ({"runtime": "executorch"}, "runtime_version.version must be a string"),
        ({"version": "1.5.1"}, "runtime_version.runtime must be a string"),
        ({"runtime": "executorch", "version": "latest"}, "runtime_version.version must be a"),
        ({"runtime": "onnxruntime", "version": "1.3", "opset": 0}, "runtime_version.opset"),
        ({"runtime": "onnxruntime", "version": "1.3", "opset": True}, "runtime_version.opset"),
        (
            {"runtime": "tflite", "version": "2.3.0", "min_runtime_version": 2},
            "runtime_version.min_runtime_version",
        ),
    ],
)
def test_bad_runtime_version_is_refused(value, fragment) -> None:
    with pytest.raises(ContractError, match=fragment):
        parse_meta(meta(runtime_version=value), "m.onnx.json")
    parse_meta(meta(runtime_version={"runtime": "onnxruntime", "version": "1.32.0", "opset": 18}))
    parse_meta({k: v for k, v in meta().items() if k != "runtime_version"})  # optional


def test_read_missing_partial_and_foreign(tmp_path) -> None:
    artifact = tmp_path / "foreign.tflite"
    assert read_sidecar(artifact, missing_ok=True) == {}
    assert sidecar.read_sidecar(artifact, missing_ok=True, validate=False) == {}
    sidecar_path(artifact).write_text(json.dumps({"mean": [0.5] * 3, "std": [0.5] * 3}))
    with pytest.raises(ContractError, match="missing key 'classes'"):
        read_sidecar(artifact, missing_ok=True)
    assert sidecar.read_sidecar(artifact, validate=False) == {"mean": [0.5] * 3, "std": [0.5] * 3}
    sidecar_path(artifact).write_text("[1, 2]")
    with pytest.raises(ContractError, match="expected a JSON object"):
        sidecar.read_sidecar(artifact, validate=False)
    assert sidecar.quant_label({"quantization": "w4a16"}) == "w4a16"  # foreign: kept
    assert sidecar.quant_label({}) is None


def test_artifact_teacher_reads_a_partial_sidecar_through_sidecar(tmp_path) -> None:
    from edgeseg.distill.teachers.artifact import _sidecar

    model = tmp_path / "t.onnx"
    assert _sidecar(model) == {}
    sidecar_path(model).write_text(json.dumps({"mean": "in-graph"}))
    assert _sidecar(model) == {"mean": "in-graph"}
    sidecar_path(model).write_text("{broken")
    with pytest.raises(DistillError, match="t.onnx.json: invalid JSON"):
        _sidecar(model)


# --- no other module reads or names a sidecar ------------------------------------------------


def sidecar_handling(source: str) -> list[str]:
    """Lines that build a ``<name>.json`` path or json-parse a sidecar by hand."""
    found = []
    for node in ast.walk(ast.parse(source)):
        text = ast.unparse(node) if isinstance(node, (ast.BinOp, ast.JoinedStr, ast.Call)) else ""
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            right = node.right
            if isinstance(right, ast.Constant) and str(right.value).endswith(".json"):
                found.append(f"{node.lineno}: {text}")
        elif isinstance(node, ast.JoinedStr) and len(node.values) >= 2:
            last, before = node.values[-1], node.values[-2]
            named = isinstance(before, ast.FormattedValue) and ast.unparse(before.value).endswith(
                ".name"
            )
            if named and isinstance(last, ast.Constant) and str(last.value).startswith(".json"):
                found.append(f"{node.lineno}: {text}")
        elif isinstance(node, ast.Call) and ast.unparse(node.func) in ("json.load", "json.loads"):
            argument = " ".join(ast.unparse(a) for a in node.args)
            if "side" in argument:
                found.append(f"{node.lineno}: {text}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver = node.func.value
            opens = node.func.attr in ("read_text", "read_bytes", "open")
            if opens and isinstance(receiver, ast.Call) and "sidecar_path" in ast.unparse(receiver):
                found.append(f"{node.lineno}: {text}")
    return found


def test_the_detector_catches_the_old_hand_written_readers() -> None:
    old_teacher = (
        "def _sidecar(path):\n"
        "    side = path.with_name(path.name + '.json')\n"
        "    return json.loads(side.read_text())\n"
    )
    assert len(sidecar_handling(old_teacher)) == 2
    assert sidecar_handling("p = a.with_name(f'{a.name}.json')")
    assert sidecar_handling("d = json.loads(sidecar_path(a).read_text())")
    assert sidecar_handling("d = json.loads(side_file.read_text())")
    assert not sidecar_handling("d = json.loads((folder / 'index.json').read_text())")


def test_no_module_but_sidecar_names_or_parses_a_sidecar() -> None:
    own = REPO / "edgeseg" / "sidecar.py"
    found = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            if path != own:
                rel = path.relative_to(REPO)
                found += [f"{rel}:{hit}" for hit in sidecar_handling(path.read_text())]
    assert found == [], "read and name sidecars through edgeseg.sidecar:\n" + "\n".join(found)
