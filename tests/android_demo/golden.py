"""Golden vectors for the Android core: edgeseg's Python contract computes, Java must agree.

Each case is a sidecar (written as ``<model_file>.json`` so the Java side loads it the way the
app does), a picture, the input tensor Python made from it, an output tensor (synthetic or from
a real runtime), the mask Python read from that output and the overlay Python drew. The Java
runner (``GoldenTests``) recomputes input, mask and overlay and compares byte for byte.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
from PIL import Image

from edgeseg import contract
from edgeseg.data.camvid import CAMVID_CLASSES, CAMVID_PALETTE

INPUTS = {  # input kind → the sidecar fields that describe it
    "float": {"input_dtype": "float32"},
    "u8in": {"input_dtype": "uint8", "mean": "in-graph", "std": "in-graph"},
    "int8": {"input_dtype": "int8", "input_quantization": {"scale": 0.0187, "zero_point": -3}},
    "u8q": {"input_dtype": "uint8", "input_quantization": {"scale": 0.021, "zero_point": 117}},
}
OUTPUTS = {
    "logits": {"output": "logits", "output_dtype": "float32"},
    "mask": {"output": "mask", "output_dtype": "uint8"},
    "int8logits": {
        "output": "logits",
        "output_dtype": "int8",
        "output_quantization": {"scale": 0.083, "zero_point": 5},
    },
}
LAYOUTS = ("NCHW", "NHWC")
SIZES = ((64, 80), (33, 47), (150, 190))  # down, odd, and up from the synthetic picture
OPACITIES = (0.0, 0.35, 0.6, 1.0)
SUFFIXES = (".onnx", ".tflite", ".pte")


def base_meta(size: tuple[int, int]) -> dict:
    """A sidecar as edgeseg writes it for a CamVid model (keys from artifact_metadata)."""
    return {
        "arch": "lraspp_mobilenet_v3_small",
        "classes": list(CAMVID_CLASSES),
        "palette": [list(c) for c in CAMVID_PALETTE],
        "input_size": list(size),
        "layout": "NCHW",
        "mean": [0.485, 0.456, 0.406],
        "std": [0.229, 0.224, 0.225],
        "input_dtype": "float32",
        "output": "logits",
        "output_dtype": "float32",
        "quantization": "fp32",
        "target": "onnx",
    }


def synthetic_image(height: int = 90, width: int = 120, seed: int = 0) -> np.ndarray:
    """Gradients, hard edges and noise: every resize weight and rounding path gets exercised."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    img = np.stack([x * 255 // max(width - 1, 1), y * 255 // max(height - 1, 1),
                    ((x // 7 + y // 5) % 2) * 255], axis=-1)
    img = img + rng.integers(-20, 21, size=img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def synthetic_output(c: contract.Contract, rng: np.random.Generator) -> np.ndarray:
    """An output of the declared shape and dtype, with ties (first max must win) and a NaN."""
    shape = c.output_shape
    if c.output == "mask":
        mask = rng.integers(0, len(c.classes), size=shape).astype(np.uint8)
        mask.flat[::7] = 255  # ignore: the overlay must leave these pixels alone
        return mask
    if c.output_dtype == "int8":
        return rng.integers(-128, 128, size=shape).astype(np.int8)
    logits = np.round(rng.normal(size=shape) * 2) / 2  # coarse steps: many exact ties
    logits = logits.astype(np.float32)
    logits.flat[17] = np.nan
    return logits


class GoldenWriter:
    """Writes cases into ``root`` and the manifest the Java runner reads."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cases: list[dict] = []
        self.bad: list[dict] = []
        self.images: dict[str, tuple[str, int, int]] = {}
        root.mkdir(parents=True, exist_ok=True)

    def image(self, name: str, image: np.ndarray) -> str:
        if name not in self.images:
            (self.root / f"{name}.rgb").write_bytes(image.tobytes())
            self.images[name] = (f"{name}.rgb", image.shape[1], image.shape[0])
        return name

    def case(self, case_id: str, model_file: str, meta: dict, image_name: str,
             image: np.ndarray, output: np.ndarray, opacity: float) -> dict:
        """Python computes input, mask and overlay; the files hold what Java must reproduce."""
        c = contract.parse_meta(meta, f"{model_file}.json")
        x = contract.preprocess(image, c)
        mask = contract.postprocess(output, c)
        over = contract.overlay(image, mask, c.palette, opacity)
        (self.root / f"{model_file}.json").write_text(json.dumps(meta))
        files = {"input": x, "output": output, "mask": mask, "overlay": over}
        for kind, array in files.items():
            (self.root / f"{case_id}.{kind}.bin").write_bytes(np.ascontiguousarray(array).tobytes())
        rgb, width, height = self.images[self.image(image_name, image)]
        row = {
            "id": case_id, "model_file": model_file, "image": rgb, "image_width": width,
            "image_height": height, "input_shape": list(x.shape), "input_dtype": x.dtype.name,
            "output_shape": list(output.shape), "output_dtype": output.dtype.name,
            "opacity": opacity, **{k: f"{case_id}.{k}.bin" for k in files},
        }
        self.cases.append(row)
        return {"input": x, "mask": mask, "overlay": over}

    def bad_case(self, case_id: str, model_file: str, meta: dict | str | None, expect: list[str],
                 stage: str = "load", shape=None, dtype=None) -> None:
        if meta is not None:
            text = meta if isinstance(meta, str) else json.dumps(meta)
            (self.root / f"{model_file}.json").write_text(text)
        row = {"id": case_id, "model_file": model_file, "stage": stage, "expect": expect}
        if shape is not None:
            row.update(shape=list(shape), dtype=dtype)
        self.bad.append(row)

    def write_manifest(self, bench: dict | None = None) -> Path:
        manifest = {"cases": self.cases, "bad": self.bad}
        if bench:
            manifest["bench"] = bench
        path = self.root / "manifest.json"
        path.write_text(json.dumps(manifest, indent=1))
        return path


def option_cases(writer: GoldenWriter, images: dict[str, np.ndarray]) -> None:
    """Every export option combination, at several sizes, with synthetic outputs."""
    rng = np.random.default_rng(1)
    names = itertools.cycle(images)
    opacities = itertools.cycle(OPACITIES)
    suffixes = itertools.cycle(SUFFIXES)
    for inp, layout, out, size in itertools.product(INPUTS, LAYOUTS, OUTPUTS, SIZES):
        meta = {**base_meta(size), **INPUTS[inp], **OUTPUTS[out], "layout": layout}
        case_id = f"{inp}-{layout}-{out}-{size[0]}x{size[1]}"
        c = contract.parse_meta(meta)
        name = next(names)
        writer.case(case_id, case_id + next(suffixes), meta, name, images[name],
                    synthetic_output(c, rng), next(opacities))


def load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


# (id, fields to change (None deletes the key), a fragment both Python's and Java's message hold)
BAD_SIDECARS = [
    ("no-classes", {"classes": None}, "missing key 'classes'"),
    ("empty-classes", {"classes": []}, "classes must be a non-empty list"),
    ("short-palette", {"palette": [[0, 0, 0]]}, "palette must hold one [r, g, b]"),
    ("palette-300", {"palette": [[300, 0, 0]] * 11}, "palette must hold one [r, g, b]"),
    ("palette-float", {"palette": [[1.0, 0, 0]] * 11}, "palette must hold one [r, g, b]"),
    ("size-zero", {"input_size": [0, 64]}, "input_size must be positive"),
    ("size-one-number", {"input_size": [64]}, "input_size must be [height, width]"),
    ("layout-chw", {"layout": "CHW"}, "layout must be one of"),
    ("mean-two", {"mean": [0.5, 0.5]}, "mean must be 3 numbers"),
    ("std-zero", {"std": [0.2, 0.0, 0.2]}, "std has a zero"),
    ("half-in-graph", {"mean": "in-graph"}, "mean and std must both be"),
    ("in-graph-float", {"mean": "in-graph", "std": "in-graph"}, "needs input_dtype uint8"),
    ("int8-no-quant", {"input_dtype": "int8"}, "needs input_quantization"),
    (
        "quant-scale-zero",
        {"input_dtype": "int8", "input_quantization": {"scale": 0, "zero_point": 0}},
        "input_quantization must be {scale > 0, zero_point integer}",
    ),
    (
        "quant-zp-range",
        {"input_dtype": "int8", "input_quantization": {"scale": 0.1, "zero_point": 200}},
        "input_quantization.zero_point 200 is outside int8",
    ),
    ("input-float16", {"input_dtype": "float16"}, "input_dtype must be one of"),
    ("output-probs", {"output": "probs"}, "output must be one of"),
    ("logits-float16", {"output_dtype": "float16"}, "output_dtype must be one of"),
    ("mask-float", {"output": "mask", "output_dtype": "float32"}, "output_dtype must be one of"),
    ("runtime-version-text", {"runtime_version": "1.5.1"}, "runtime_version must be"),
    (
        "runtime-version-name",
        {"runtime_version": {"runtime": "executorch", "version": "latest"}},
        "runtime_version.version",
    ),
    (
        "runtime-version-opset",
        {"runtime_version": {"runtime": "onnxruntime", "version": "1.32.0", "opset": 0}},
        "runtime_version.opset",
    ),
    (
        "runtime-version-tflite",
        {"runtime_version": {"runtime": "tflite", "version": "2.3.0", "min_runtime_version": "x"}},
        "runtime_version.min_runtime_version",
    ),
]


def bad_sidecar(fields: dict) -> dict:
    meta = base_meta((64, 80))
    for key, value in fields.items():
        if value is None:
            meta.pop(key)
        else:
            meta[key] = value
    return meta


def foreign_tflite_meta(path: Path, interpreter) -> dict | None:
    """Hand-written sidecars for the two third-party DeepLabV3 models in shared/models."""
    from edgeseg.data.voc import VOC_CLASSES, VOC_PALETTE

    inp = interpreter.get_input_details()[0]
    h, w = int(inp["shape"][1]), int(inp["shape"][2])
    meta = {
        "arch": path.stem, "classes": list(VOC_CLASSES),
        "palette": [list(c) for c in VOC_PALETTE], "input_size": [h, w], "layout": "NHWC",
        "quantization": "fp32", "target": "tflite",
    }
    if inp["dtype"] == np.float32:  # floe/backscrub deeplabv3_257: (x - 127.5) / 127.5
        return {**meta, "mean": [0.5] * 3, "std": [0.5] * 3, "input_dtype": "float32",
                "output": "logits", "output_dtype": "float32"}
    out = interpreter.get_output_details()[0]  # Coral: uint8 pixels in, int64 class ids out
    return {**meta, "mean": "in-graph", "std": "in-graph", "input_dtype": "uint8",
            "output": "mask", "output_dtype": np.dtype(out["dtype"]).name,
            "quantization": "int8"}


def run_tflite(interpreter, x: np.ndarray) -> np.ndarray:
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    interpreter.set_tensor(inp["index"], x)
    interpreter.invoke()
    return interpreter.get_tensor(out["index"]).copy()


def tensor_io(interpreter) -> tuple[tuple, str, tuple, str]:
    """The real (input shape, dtype, output shape, dtype) a TFLite file declares."""
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    return (tuple(int(d) for d in inp["shape"]), np.dtype(inp["dtype"]).name,
            tuple(int(d) for d in out["shape"]), np.dtype(out["dtype"]).name)
