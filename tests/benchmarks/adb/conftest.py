"""A private adb server per test session, fake phones connected to it, tiny real artifacts.

The real ``adb`` binary is used unmodified: the server runs on a random port
(``ANDROID_ADB_SERVER_PORT``, never the user's 5037) with its keys in a temp HOME, the fake phones
(``fake/``) listen on random loopback ports and are attached with ``adb connect``; teardown runs
``adb disconnect`` and ``adb kill-server``. Without ``adb`` on PATH these tests skip (CI installs
it in ``.ci/run``).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.benchmarks.adb.fake import PIXEL_8, FakeDevice
from tests.conftest import find_shared

PIXEL_7 = {
    **PIXEL_8,
    "ro.product.model": "Pixel 7",
    "ro.product.device": "panther",
    "ro.product.name": "panther",
    "ro.soc.model": "Tensor G2",
}
TOOLS = ("benchmark_model", "benchmark_litert_model", "executor_runner", "onnxruntime_perf_test")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AdbServer:
    """The test session's adb server: runs the real client against the private port."""

    def __init__(self, home: Path) -> None:
        self.env = {**os.environ, "ANDROID_ADB_SERVER_PORT": str(_free_port()), "HOME": str(home)}

    def __call__(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["adb", *args],
            env=self.env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
        )

    def state(self, serial: str) -> str:
        for line in self("devices").stdout.splitlines()[1:]:
            if line.split("\t")[0] == serial:
                return line.split("\t")[1]
        return "missing"

    def wait_state(self, serial: str, want: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while (state := self.state(serial)) != want:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{serial} is {state}, expected {want}")
            time.sleep(0.05)

    def attach(self, device: FakeDevice, want: str = "device") -> FakeDevice:
        self("connect", device.serial)
        self.wait_state(device.serial, want)
        return device

    def detach(self, device: FakeDevice) -> None:
        self("disconnect", device.serial)
        device.vanish()


@pytest.fixture(scope="session")
def adb_server(tmp_path_factory) -> Iterator[AdbServer]:
    if shutil.which("adb") is None:
        pytest.skip("adb is not installed (apt-get install adb): adb tests skipped")
    server = AdbServer(tmp_path_factory.mktemp("adb-home"))
    started = server("start-server")
    assert started.returncode == 0, started.stderr
    with pytest.MonkeyPatch.context() as mp:  # edgeseg's own adb calls use the private server
        mp.setenv("ANDROID_ADB_SERVER_PORT", server.env["ANDROID_ADB_SERVER_PORT"])
        yield server
    server("disconnect")
    server("kill-server")


@pytest.fixture(scope="session")
def pixel8(adb_server, tmp_path_factory) -> FakeDevice:
    """The session's ready phone (tests must leave it connected and well-behaved)."""
    return adb_server.attach(FakeDevice(tmp_path_factory.mktemp("pixel8")))


@pytest.fixture
def make_device(adb_server, tmp_path) -> Iterator:
    """Extra phones for one test (a second Pixel, an unauthorized one…), detached afterwards."""
    made: list[FakeDevice] = []

    def make(props: dict | None = None, authorize: bool = True, want: str = "device"):
        device = FakeDevice(tmp_path / f"dev{len(made)}", props, authorize=authorize)
        made.append(device)
        return adb_server.attach(device, want)

    yield make
    for device in made:
        adb_server.detach(device)


@pytest.fixture(scope="session")
def runner_dir(tmp_path_factory) -> Path:
    """``<dir>/arm64-v8a/<tool>`` files standing for the phone-side binaries."""
    root = tmp_path_factory.mktemp("runners")
    (root / "arm64-v8a").mkdir()
    for tool in TOOLS:
        (root / "arm64-v8a" / tool).write_bytes(
            b"\x7fELF\x02\x01\x01 stand-in for " + tool.encode()
        )
    return root


def tiny_module():
    import torch
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 4, 1)).eval()
    return model, (torch.randn(1, 3, 32, 32),)


@pytest.fixture(scope="session")
def onnx_model(tmp_path_factory) -> Path:
    """A one-conv ONNX graph written with onnx.helper, plus an edgeseg-style sidecar."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.full((4, 3, 3, 3), 0.1, np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 32, 32])],
        [weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path_factory.mktemp("onnx") / "tiny.onnx"
    onnx.save(model, path)
    path.with_name("tiny.onnx.json").write_text(json.dumps(tiny_sidecar("fp32")))
    return path


def tiny_sidecar(quantization: str) -> dict:
    """A valid edgeseg sidecar for the one-conv graph: 3x32x32 float in, 4-class logits out."""
    return {
        "classes": ["a", "b", "c", "d"],
        "palette": [[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]],
        "input_size": [32, 32],
        "layout": "NCHW",
        "mean": [0.5, 0.5, 0.5],
        "std": [0.25, 0.25, 0.25],
        "input_dtype": "float32",
        "output": "logits",
        "output_dtype": "float32",
        "quantization": quantization,
    }


@pytest.fixture(scope="session")
def tflite_model(tmp_path_factory) -> Path:
    """Google's DeepLabV3 from ../shared when present (a real foreign model), else a tiny export."""
    shared = find_shared()
    real = shared / "models" / "deeplabv3_257_mv_gpu.tflite" if shared else None
    if real and real.is_file():
        return real
    litert_torch = pytest.importorskip("litert_torch")
    model, example = tiny_module()
    litert_torch.config.show_progress = False
    path = tmp_path_factory.mktemp("tflite") / "tiny.tflite"
    litert_torch.convert(model, example).export(str(path))
    return path


@pytest.fixture(scope="session")
def pte_model(tmp_path_factory) -> Path:
    pytest.importorskip("executorch")
    import torch
    from executorch.exir import to_edge

    model, example = tiny_module()
    path = tmp_path_factory.mktemp("pte") / "tiny.pte"
    path.write_bytes(to_edge(torch.export.export(model, example)).to_executorch().buffer)
    return path


def corrupt_copy(model: Path, folder: Path) -> Path:
    """Random bytes under the model's name: every runtime must reject it, none may hang."""
    path = folder / f"corrupt{model.suffix}"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    return path
