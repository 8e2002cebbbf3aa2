"""edgeseg.quantization: the modes and labels are enums that print exactly as the old strings."""

from __future__ import annotations

import ast
import csv
import io
import json
from pathlib import Path

import pytest
from rich.console import Console
from rich.table import Table

from edgeseg import quantization
from edgeseg.converters import converter_names, get_converter
from edgeseg.converters.base import QUANT_MODES, ExportResult, ExportSpec
from edgeseg.converters.parity import THRESHOLDS
from edgeseg.errors import EdgesegError, ExportError
from edgeseg.quantization import QuantizationError, QuantLabel, QuantMode, is_int8, read_label

REPO = Path(__file__).resolve().parents[1]
MODES = ("none", "fp16", "int8")
LABELS = ("fp32", "fp16", "fp16-weights", "int8", "int8-mixed", "int8-weights")


class _Fallback(quantization._StrEnum):
    """Python 3.10's base, tested on any Python: it must print the same way StrEnum does."""

    A = "int8-mixed"


def test_values_are_the_strings() -> None:
    assert QuantMode.values() == MODES and tuple(QuantMode) == QUANT_MODES
    assert QuantLabel.values() == LABELS
    for member in (*QuantMode, *QuantLabel):
        assert isinstance(member, str) and member == member.value
        assert {member.value: 1}[member] == 1  # same hash: old string keys still find it
        assert type(member)(member.value) is member


@pytest.mark.parametrize("member", [*QuantMode, *QuantLabel, _Fallback.A], ids=str)
def test_members_serialise_as_their_value(member) -> None:
    value = member.value
    assert str(member) == value and f"{member}" == value and f"{member!s:>14}" == f"{value:>14}"
    assert format(member, ">14") == format(value, ">14")
    assert json.dumps({"q": member, "l": [member]}) == json.dumps({"q": value, "l": [value]})
    buf = io.StringIO()
    csv.writer(buf).writerow([member])
    assert buf.getvalue() == f"{value}\r\n"
    assert _rich_cell(member) == _rich_cell(value)
    assert Path(f"arch_{member}.onnx").name == f"arch_{value}.onnx"


def _rich_cell(value: str) -> str:
    table = Table()
    table.add_column("quant")
    table.add_row(value)
    console = Console(record=True, width=40)
    console.print(table)
    return console.export_text()


@pytest.mark.parametrize("cls", [QuantMode, QuantLabel])
def test_unknown_value_is_a_one_line_error_listing_the_valid_ones(cls) -> None:
    with pytest.raises(QuantizationError) as info:
        cls("int4")
    message = str(info.value)
    assert isinstance(info.value, EdgesegError) and isinstance(info.value, ValueError)
    assert "\n" not in message and "'int4'" in message
    assert all(v in message.split("Valid: ")[1] for v in cls.values()), message


def test_export_spec_refuses_unknown_modes_as_before_and_keeps_members() -> None:
    with pytest.raises(ExportError, match="Unknown quantization 'int4'.*Valid: fp16, int8, none"):
        ExportSpec(quantize="int4")
    assert ExportSpec(quantize="int8").quantize is QuantMode.INT8
    assert ExportSpec().quantize is QuantMode.NONE


def test_mode_label_names_the_files() -> None:
    assert [m.label for m in QuantMode] == [QuantLabel.FP32, QuantLabel.FP16, QuantLabel.INT8]
    spec = ExportSpec(quantize="none", size=(64, 64))
    assert get_converter("onnx").filename("arch", spec) == "arch_fp32.onnx"
    assert get_converter("executorch").filename("a", spec) == "a_xnnpack_fp32.pte"


def test_every_converter_declares_modes_as_members_and_parity_knows_each() -> None:
    assert set(THRESHOLDS) == set(QuantMode) and all(type(k) is QuantMode for k in THRESHOLDS)
    for name in converter_names():
        modes = get_converter(name).quant_modes
        assert modes and all(type(m) is QuantMode for m in modes), (name, modes)


def test_export_result_refuses_a_label_that_is_not_a_member() -> None:
    assert ExportResult("x", "int8-mixed", Path("x"), 0, 0.0).quantize is QuantLabel.INT8_MIXED
    with pytest.raises(QuantizationError, match="quantization label 'int7'"):
        ExportResult("x", "int7", Path("x"), 0, 0.0)


def test_converters_write_no_label_or_mode_as_a_bare_string() -> None:
    """Labels and modes in the converters are members: no ``ExportResult(name, "fp32", …)``, no
    ``return "int8-mixed", …``, no ``spec.quantize == "int8"`` (dtype strings are fine)."""
    found = []
    for path in sorted((REPO / "converters").glob("*.py")):
        found += [f"{path.name}:{line}" for line in _bare_quant_strings(path.read_text())]
    assert found == []
    old = 'def f(spec):\n    if spec.quantize == "fp16":\n        return "fp16-weights", []\n'
    assert len(_bare_quant_strings(old)) == 2  # the check does catch the old code


def _bare_quant_strings(source: str) -> list[int]:
    values = set(MODES) | set(LABELS)

    def is_value(node) -> bool:
        return isinstance(node, ast.Constant) and node.value in values

    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare) and "quantize" in ast.unparse(node.left):
            lines += [node.lineno for c in node.comparators if is_value(c)]
        elif isinstance(node, ast.Return) and node.value is not None:
            elts = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
            lines += [node.lineno for e in elts[:1] if is_value(e) or _ifexp_value(e, is_value)]
        elif isinstance(node, ast.Call) and ast.unparse(node.func) == "ExportResult":
            lines += [node.lineno for a in node.args[1:2] if is_value(a)]
        elif isinstance(node, ast.ClassDef):
            for stmt in node.body:
                if isinstance(stmt, ast.Assign) and ast.unparse(stmt.targets[0]) == "quant_modes":
                    lines += [stmt.lineno for c in ast.walk(stmt.value) if is_value(c)]
    return lines


def _ifexp_value(node, is_value) -> bool:
    return isinstance(node, ast.IfExp) and (is_value(node.body) or is_value(node.orelse))


def test_foreign_labels_are_kept_known_ones_become_members() -> None:
    assert read_label("int8-mixed") is QuantLabel.INT8_MIXED
    assert read_label("w4a16") == "w4a16" and type(read_label("w4a16")) is str
    assert read_label(None) is None and read_label("") == ""
    assert is_int8(QuantLabel.INT8_WEIGHTS) and is_int8("int8") and not is_int8("fp16")
    assert not is_int8(None) and not is_int8("")
