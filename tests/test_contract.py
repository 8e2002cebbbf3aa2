"""edgeseg.contract on its own: the steps agree with export's own preprocessing and converters.

(The Java core's agreement with these functions is tests/android_demo/test_core_java.py.)
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from edgeseg import contract
from edgeseg.contract import ContractError, Quant
from tests.android_demo.golden import base_meta, synthetic_image


def test_float_input_is_what_export_feeds_its_parity_check() -> None:
    """Same normalisation as edgeseg.export.load_images (uint8 → float32 → (x/255-m)/s)."""
    torch = pytest.importorskip("torch")
    meta = base_meta((64, 80))
    image = synthetic_image()
    x = contract.preprocess(image, meta)
    rgb = np.array(Image.fromarray(image).resize((80, 64), Image.BILINEAR))
    uint8 = torch.from_numpy(rgb).permute(2, 0, 1)[None]
    mean = torch.tensor(meta["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(meta["std"]).view(1, 3, 1, 1)
    expected = ((uint8.float() / 255.0 - mean) / std).numpy()
    assert x.dtype == np.float32 and x.shape == (1, 3, 64, 80)
    assert np.array_equal(x, expected)


def test_layouts_hold_the_same_values() -> None:
    image = synthetic_image()
    nchw = contract.preprocess(image, base_meta((33, 47)))
    nhwc = contract.preprocess(image, {**base_meta((33, 47)), "layout": "NHWC"})
    assert nhwc.shape == (1, 33, 47, 3) and nhwc.flags.c_contiguous
    assert np.array_equal(nchw.transpose(0, 2, 3, 1), nhwc)


def test_in_graph_input_is_the_resized_pixels() -> None:
    image = synthetic_image()
    meta = {**base_meta((64, 80)), "input_dtype": "uint8", "mean": "in-graph", "std": "in-graph"}
    x = contract.preprocess(image, meta)
    assert x.dtype == np.uint8
    assert np.array_equal(x[0].transpose(1, 2, 0), contract.resize_image(image, (64, 80)))


def test_int8_input_matches_the_tflite_converters_quantisation() -> None:
    """edgeseg.runtimes.base.quantize_input quantises float inputs for int8 graphs the same way."""
    from edgeseg.runtimes.base import TensorInfo, quantize_input

    q = {"scale": 0.0187, "zero_point": -3}
    meta = {**base_meta((64, 80)), "input_dtype": "int8", "input_quantization": q}
    x = contract.preprocess(synthetic_image(), meta)
    floats = contract.preprocess(synthetic_image(), base_meta((64, 80)))
    detail = TensorInfo(x.shape, "int8", Quant(q["scale"], q["zero_point"]))
    assert x.dtype == np.int8 and np.array_equal(x, quantize_input(floats, detail))
    back = contract.dequantize(x, Quant(**q))
    inside = (x > -128) & (x < 127)  # away from clipping, one step of error at most
    assert np.abs(back - floats)[inside].max() <= q["scale"] / 2 + 1e-6


def test_argmax_first_maximum_wins_and_int8_logits_need_no_dequantising() -> None:
    meta = {**base_meta((1, 2)), "classes": ["a", "b", "c"], "palette": [[0, 0, 0]] * 3}
    logits = np.array([[[[1.0, 2.0]], [[1.0, 5.0]], [[0.5, 5.0]]]], dtype=np.float32)
    assert contract.postprocess(logits, meta).tolist() == [[0, 1]]
    q = {"output_dtype": "int8", "output_quantization": {"scale": 0.1, "zero_point": 3}}
    as_int8 = np.array([[[[-7, 9]], [[4, 9]], [[4, 8]]]], dtype=np.int8)
    assert contract.postprocess(as_int8, {**meta, **q}).tolist() == [[1, 0]]


def test_mask_output_casts_foreign_int64() -> None:
    meta = {**base_meta((2, 3)), "output": "mask", "output_dtype": "int64"}
    ids = np.array([[[0, 1, 2], [3, 10, 4]]], dtype=np.int64)
    assert contract.postprocess(ids, meta).tolist() == [[0, 1, 2], [3, 10, 4]]
    with pytest.raises(ContractError, match=r"output is \[1, 3, 2\]"):
        contract.postprocess(ids.reshape(1, 3, 2), meta)


def test_overlay_blends_palette_colours_and_leaves_ignore_alone() -> None:
    image = np.full((2, 2, 3), 100, dtype=np.uint8)
    mask = np.array([[0, 1], [255, 1]], dtype=np.uint8)
    palette = [[0, 0, 0], [255, 255, 255]]
    assert np.array_equal(contract.overlay(image, mask, palette, 0.0), image)
    full = contract.overlay(image, mask, palette, 1.0)
    assert full[0, 0].tolist() == [0, 0, 0] and full[0, 1].tolist() == [255] * 3
    assert full[1, 0].tolist() == [100] * 3  # 255 = ignore: untouched
    half = contract.overlay(image, mask, palette, 0.5)  # alpha 128: (100*127+255*128+127)//255
    assert half[0, 1].tolist() == [(100 * 127 + 255 * 128 + 127) // 255] * 3
    big = contract.overlay(np.zeros((4, 4, 3), np.uint8), mask, palette, 1.0)
    assert big[0:2, 2:4].min() == 255 and big[0:2, 0:2].max() == 0  # nearest, 2x up


def test_resize_mask_invents_no_class() -> None:
    mask = np.arange(12, dtype=np.uint8).reshape(3, 4)
    for size in [(7, 5), (2, 2), (3, 4), (1, 9)]:
        out = contract.resize_mask(mask, size)
        assert out.shape == size and set(out.ravel()) <= set(mask.ravel())
    assert np.array_equal(contract.resize_mask(mask, (3, 4)), mask)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.zeros((4, 4), np.uint8), "HxWx3"),
        (np.zeros((4, 4, 3), np.float32), "uint8 image"),
    ],
)
def test_bad_images_are_refused(bad, message) -> None:
    with pytest.raises(ContractError, match=message):
        contract.preprocess(bad, base_meta((8, 8)))


def test_opacity_outside_0_1_is_refused() -> None:
    with pytest.raises(ContractError, match="opacity"):
        contract.overlay(synthetic_image(), np.zeros((2, 2), np.uint8), [[0, 0, 0]], 1.2)


def test_read_sidecar_missing_and_broken(tmp_path) -> None:
    model = tmp_path / "m.onnx"
    model.write_bytes(b"x")
    with pytest.raises(ContractError, match=r"m.onnx has no sidecar m.onnx.json"):
        contract.read_sidecar(model)
    contract.sidecar_path(model).write_text("{not json")
    with pytest.raises(ContractError, match="invalid JSON"):
        contract.read_sidecar(model)
    contract.sidecar_path(model).write_text(json.dumps(base_meta((8, 8))))
    assert contract.read_sidecar(model)["input_size"] == [8, 8]


def test_check_input_names_both_shapes() -> None:
    c = contract.parse_meta(base_meta((64, 80)), "m.onnx.json")
    c.check_input((1, 3, 64, 80), "float32")
    expected = r"input is \[1, 64, 80, 3\] float32 .* \[1, 3, 64, 80\]"
    with pytest.raises(ContractError, match=expected):
        c.check_input((1, 64, 80, 3), "float32")
