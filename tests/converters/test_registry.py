"""The Converter registry and protocol, parametrized over every registered target."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgeseg.converters import ExportSpec, converter_names, get_converter, register_converter
from edgeseg.converters.base import Converter, ExportResult, resolve_targets
from edgeseg.errors import ExportError


@pytest.mark.parametrize("name", converter_names())
def test_every_target_declares_the_protocol(name) -> None:
    conv = get_converter(name)
    assert conv.name == name and conv.suffix.startswith(".")
    assert "none" in conv.quant_modes
    assert conv.filename("m", ExportSpec()).endswith(conv.suffix)
    for mode in ("none", "fp16", "int8"):
        if mode not in conv.quant_modes:
            with pytest.raises(ExportError, match=f"does not support --quantize {mode}"):
                conv.check_quantize(mode)


def test_duplicate_name_is_an_error() -> None:
    with pytest.raises(ValueError, match="registered twice"):

        @register_converter
        class Again(Converter):  # noqa: F841
            name = "onnx"


def test_unknown_target_suggests() -> None:
    with pytest.raises(ExportError, match="Did you mean 'onnx'"):
        resolve_targets("onxx")
    assert resolve_targets("all") == converter_names()
    assert resolve_targets("onnx, torchscript,onnx") == ["onnx", "torchscript"]
    for empty in ("", " , ", []):  # nothing to export is bad input, not a failed export (3)
        with pytest.raises(ExportError, match="names no target; pass all or some of"):
            resolve_targets(empty)
    with pytest.raises(ExportError, match="^--targets '' names no target"):
        resolve_targets("", "--targets")


def test_missing_toolchain_names_install_hint() -> None:
    class Fake(Converter):
        name = "fake"
        requires = ("surely_not_installed_module",)
        install_hint = "pip install 'edgeseg[fake]'"

    with pytest.raises(ExportError, match=r"pip install 'edgeseg\[fake\]'"):
        Fake().check_available()


def test_spec_rejects_bad_values() -> None:
    with pytest.raises(ExportError, match="Unknown quantization 'int4'"):
        ExportSpec(quantize="int4")
    with pytest.raises(ExportError, match="Unknown output kind"):
        ExportSpec(output="probs")


def test_executorch_names_follow_xnnpack_convention() -> None:
    conv = get_converter("executorch")
    assert conv.filename("net", ExportSpec()) == "net_xnnpack_fp32.pte"
    assert conv.filename("net", ExportSpec(quantize="int8")) == "net_xnnpack_q8.pte"


@pytest.mark.parametrize("name", converter_names())
def test_every_target_declares_its_layouts(name) -> None:
    conv = get_converter(name)
    assert "nchw" in conv.layouts
    if "nhwc" in conv.layouts:
        assert conv.filename("m", ExportSpec(layout="nhwc")).endswith(f"_nhwc{conv.suffix}")
    else:
        with pytest.raises(ExportError, match="does not support --layout nhwc.*tflite"):
            conv.check_layout("nhwc")


def test_explain_defaults_to_nothing() -> None:
    result = ExportResult("x", "fp32", Path("x"), 0, 0.0)
    assert Converter().explain(result) == ["nothing to explain for this target"]
    result.details = ["XNNPACK partitions: 1"]
    assert Converter().explain(result) == ["XNNPACK partitions: 1"]
