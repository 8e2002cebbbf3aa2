"""The demo app's bench mode as the fake phone runs it: ``python bench_app.py ROOT PORT EXTRAS``.

It follows ``android_demo/BENCH_MODE.md`` the way ``BenchActivity`` does: status.json first and
last (each written atomically), the model resolved from the ``model`` extra, its sidecar read and
checked against the real tensors through :mod:`edgeseg.contract`, the runtime picked by
extension (LiteRT, ONNX Runtime or ExecuTorch: the host builds of the phone's runtimes), warm-up
and timed forward passes, then one zlib mask per picture in ``images``. A failure writes a
one-line reason and keeps what was measured. ``PORT`` makes it misbehave like real ports do:

- ``faithful``: the contract exactly;
- ``bgr``: the picture's channels reversed before the contract (an Android Bitmap read as BGR),
  the kind of silent port bug that costs mIoU and not a millisecond;
- ``crash``: a native crash (SIGABRT) after status.json says ``running``;
- ``hang``: never finishes.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import time
import zlib
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from PIL import Image

from edgeseg.benchmarks.base import LatencyStats
from edgeseg.contract import ContractError, parse_meta, postprocess, preprocess

PACKAGE = "dev.edgeseg.demo"
FILES = f"/sdcard/Android/data/{PACKAGE}/files"
ET_DTYPES = {0: "uint8", 1: "int8", 3: "int32", 4: "int64", 6: "float32"}


class Failed(Exception):
    """What the app reports as ``failed`` with its one-line reason."""


def device_path(root: Path, path: str) -> Path:
    return root.joinpath(*[p for p in Path(path).parts if p not in ("/", "..", ".")])


def write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)


def memory_kb() -> dict[str, int]:
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    kb = lambda key: int(status.get(key, "0 kB").split()[0])  # noqa: E731
    return {
        "pss_kb": kb("VmRSS"),
        "peak_rss_kb": kb("VmHWM"),
        "native_heap_kb": kb("RssAnon"),
        "java_heap_kb": 0,
    }


class Model:
    """One loaded model: its real input tensor and a forward pass (numpy in, numpy out)."""

    def __init__(self, path: Path, threads: int) -> None:
        loaders = {".tflite": self._litert, ".onnx": self._onnx, ".pte": self._executorch}
        if path.suffix not in loaders:
            raise Failed(
                f"unsupported extension '{path.suffix}' (the app runs {', '.join(loaders)})"
            )
        self.runtime = path.suffix
        try:
            loaders[path.suffix](path, threads)
        except Exception as exc:
            raise Failed(f"{self.runtime} could not load {path.name}: {exc}") from exc

    def _litert(self, path: Path, threads: int) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self.runtime = "litert"
        interp = Interpreter(model_path=str(path), num_threads=threads)
        interp.allocate_tensors()
        inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
        self.shape, self.dtype = list(inp["shape"]), np.dtype(inp["dtype"]).name

        def forward(x: np.ndarray) -> np.ndarray:
            interp.set_tensor(inp["index"], x)
            interp.invoke()
            return interp.get_tensor(out["index"]).copy()

        self.forward = forward

    def _onnx(self, path: Path, threads: int) -> None:
        import onnxruntime as ort

        self.runtime = "onnxruntime"
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        inp = session.get_inputs()[0]
        self.shape = list(inp.shape)
        self.dtype = {
            "tensor(float)": "float32",
            "tensor(uint8)": "uint8",
            "tensor(int8)": "int8",
        }.get(inp.type, inp.type)
        self.forward = lambda x: session.run(None, {inp.name: x})[0]

    def _executorch(self, path: Path, threads: int) -> None:
        import torch
        from executorch.extension.pybindings import _C

        self.runtime = "executorch"
        module = _C._load_for_executorch(str(path))
        meta = module.method_meta("forward").input_tensor_meta(0)
        self.shape, self.dtype = list(meta.sizes()), ET_DTYPES.get(meta.dtype(), str(meta.dtype()))
        self.forward = lambda x: module.forward((torch.from_numpy(x),))[0].numpy()


def find_model(root: Path, files: Path, name: str) -> Path:
    path = device_path(root, name) if name.startswith("/") else files / "models" / name
    if not path.is_file():
        raise Failed(f"model {name} not found (looked in {FILES}/models and assets/models)")
    if not path.with_name(path.name + ".json").is_file():
        raise Failed(f"{path.name} has no sidecar {path.name}.json beside it")
    return path


def pictures(root: Path, files: Path, extras: dict, size: tuple[int, int], port: str):
    """(names, HxWx3 uint8 pictures as the app decodes them) — a mid-grey one without images."""
    folder = extras.get("images")
    if folder is None:
        return [], [np.full((*size, 3), 128, np.uint8)]
    path = device_path(root, folder) if folder.startswith("/") else files / folder
    names = sorted(p.name for p in path.iterdir() if p.suffix.lower() in (".png", ".jpg"))
    if not names:
        raise Failed(f"no .png/.jpg images in {folder}")
    images = [np.asarray(Image.open(path / n).convert("RGB")) for n in names]
    if port == "bgr":
        images = [np.ascontiguousarray(im[..., ::-1]) for im in images]
    return names, images


def measure(root: Path, files: Path, extras: dict, port: str, result: dict, out: Path) -> None:
    model_path = find_model(root, files, extras["model"])
    try:
        contract = parse_meta(
            json.loads(model_path.with_name(model_path.name + ".json").read_text())
        )
    except (ContractError, ValueError) as exc:
        raise Failed(str(exc)) from exc
    result["model_bytes"] = model_path.stat().st_size
    result["memory_before_load"] = memory_kb()
    start = time.perf_counter()
    threads = int(extras.get("threads", 4))
    model = Model(model_path, threads)
    result["load_ms"] = (time.perf_counter() - start) * 1000
    result["runtime"] = f"{model.runtime}/{extras.get('delegate', 'cpu')} ×{threads}"
    try:
        contract.check_input(model.shape, model.dtype)
    except ContractError as exc:
        raise Failed(str(exc)) from exc
    if port == "crash":
        os.abort()
    names, images = pictures(root, files, extras, contract.size, port)
    pre_ms, inputs = [], []
    for image in images:
        t = time.perf_counter()
        inputs.append(preprocess(image, contract))
        pre_ms.append((time.perf_counter() - t) * 1000)
    start = time.perf_counter()
    first = model.forward(inputs[0])
    result["first_ms"] = (time.perf_counter() - start) * 1000
    postprocess(first, contract)  # checks the output tensor
    for _ in range(int(extras.get("warmup", 3))):
        model.forward(inputs[0])
    samples = []
    for _ in range(int(extras.get("runs", 20))):
        t = time.perf_counter()
        model.forward(inputs[0])
        samples.append((time.perf_counter() - t) * 1000)
    while port == "hang":
        time.sleep(1)
    result["latency_ms"] = asdict(LatencyStats.from_samples(samples))
    result["samples_ms"] = samples
    result["memory_after_runs"] = memory_kb()
    if names:
        write_masks(model, contract, names, inputs, out, result)
        result["preprocess_ms_mean"] = statistics.fmean(pre_ms)


def write_masks(model, contract, names, inputs, out: Path, result: dict) -> None:
    (out / "masks").mkdir()
    rows, post_ms = [], []
    for i, (name, x) in enumerate(zip(names, inputs)):
        y = model.forward(x)
        t = time.perf_counter()
        mask = postprocess(y, contract)
        post_ms.append((time.perf_counter() - t) * 1000)
        (out / f"masks/{i:04d}.u8.z").write_bytes(zlib.compress(mask.tobytes()))
        rows.append(
            {
                "image": name,
                "file": f"masks/{i:04d}.u8.z",
                "height": mask.shape[0],
                "width": mask.shape[1],
                "encoding": "zlib-uint8",
            }
        )
    result["masks"] = rows
    result["postprocess_ms_mean"] = statistics.fmean(post_ms)


def device_block(props: dict) -> dict:
    return {
        "manufacturer": props.get("ro.product.manufacturer", ""),
        "model": props.get("ro.product.model", ""),
        "device": props.get("ro.product.device", ""),
        "sdk_int": int(props.get("ro.build.version.sdk", 0)),
        "release": props.get("ro.build.version.release", ""),
        "abis": [props.get("ro.product.cpu.abi", "")],
        "cores": os.cpu_count(),
        "soc_model": props.get("ro.soc.model", ""),
    }


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def main(root: Path, port: str, extras: dict, props: dict) -> int:
    files = device_path(root, FILES)
    out = files / "bench" / extras.get("run_id", "latest")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    write_json(out / "status.json", {"status": "running", "reason": "", "result": "result.json"})
    result = {
        "format": "edgeseg-android-bench",
        "version": 1,
        "status": "ok",
        "reason": "",
        "device": device_block(props),
        "started": now(),
        "model": extras.get("model"),
        "warmup": int(extras.get("warmup", 3)),
        "runs": int(extras.get("runs", 20)),
        "delegate": extras.get("delegate", "cpu"),
        "threads": int(extras.get("threads", 4)),
    }
    try:
        measure(root, files, extras, port, result, out)
    except Failed as exc:
        result["status"], result["reason"] = "failed", str(exc).splitlines()[0]
    result["finished"] = now()
    write_json(out / "result.json", result)
    status = {"status": result["status"], "reason": result["reason"], "result": "result.json"}
    write_json(out / "status.json", status)
    with open(root / "logcat.main", "a") as log:
        log.write(
            f"I EdgesegBench: status={result['status']} dir={out.name} reason={result['reason']}\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])))
