"""The Android app's runtime pins against what edgeseg exports with (issue 18, item 1).

``android_demo/gradle/libs.versions.toml`` pins the runtimes the APK links; edgeseg's exporter
writes ``.pte`` files with the ``executorch`` of ``pyproject.toml`` and ONNX files at
``converters/onnx.OPSET``, and records the runtime that verified each file in the sidecar
(``runtime_version``). :func:`drift` lists every way the two sides disagree; the app's own check
(the Java core's ``RuntimeVersions``, run here on the JVM) is asked about sidecars as the exporter
writes them. The test fails as soon as a pin moves without the other, and the last test proves
that it does, on altered pins.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path

import pytest

from edgeseg.apps.android_demo import default_app
from edgeseg.runtimes.versions import library_version
from tests.android_demo.conftest import run_java
from tests.conftest import REPO

APP = default_app()
TOML = APP / "gradle/libs.versions.toml"
APP_BUILD = APP / "app/build.gradle.kts"
RUNTIMES_KT = APP / "app/src/main/java/dev/edgeseg/demo/runtime"
SLOW = pytest.mark.skipif(not os.environ.get("EDGESEG_SLOW"), reason="slow: set EDGESEG_SLOW=1")
OLDEST_LITERT = (1, 4, 2)  # the newest 1.x release found (README.md, "Versions")


def _release(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def exporter_pins() -> dict[str, str]:
    """What edgeseg exports with: the executorch pin, the ONNX opset, the installed ORT."""
    from edgeseg.converters.onnx import OPSET

    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    (spec,) = extras["optional-dependencies"]["executorch"]
    name, _, version = spec.partition("==")
    assert name == "executorch" and version, f"executorch must be pinned exactly: {spec}"
    return {
        "executorch": version,
        "opset": str(OPSET),
        # informational: the app decides an ONNX file by its opset, not by the exporter's ORT
        "onnxruntime": library_version("onnxruntime") or "0",
    }


def _ask_app(java_core, tmp_path: Path, record: dict, runtime: str, version: str) -> str:
    """The app's decision (``ok`` / ``refused: …``) for a sidecar carrying ``record``."""
    from tests.android_demo.golden import base_meta

    sidecar = tmp_path / f"m.{runtime}.json"
    sidecar.write_text(json.dumps({**base_meta((64, 80)), "runtime_version": record}))
    proc = run_java(java_core, "VersionCheck", str(sidecar), runtime, version)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout.strip()


def drift(pins: dict[str, str], exporter: dict[str, str], java_core, tmp_path: Path) -> list[str]:
    """Every disagreement between the app's pins and the exporter's (empty: in step)."""
    problems = []
    if pins["executorch"] != exporter["executorch"]:
        problems.append(
            f"executorch: the app links {pins['executorch']}, edgeseg exports with "
            f"{exporter['executorch']} (ExecuTorch programs are not forward compatible)"
        )
    et = {"runtime": "executorch", "version": exporter["executorch"]}
    answer = _ask_app(java_core, tmp_path, et, "executorch", pins["executorch"])
    if answer != "ok":
        problems.append(f"executorch: the app would refuse edgeseg's .pte: {answer}")
    ort = {
        "runtime": "onnxruntime",
        "version": exporter["onnxruntime"],
        "opset": int(exporter["opset"]),
    }
    answer = _ask_app(java_core, tmp_path, ort, "onnxruntime", pins["onnxruntime"])
    if answer != "ok":
        problems.append(
            f"onnxruntime: the app would refuse edgeseg's opset {exporter['opset']}: {answer}"
        )
    litert = _release(pins["litert"])
    if litert[0] != 1 or litert < OLDEST_LITERT:
        problems.append(
            f"litert {pins['litert']}: the app uses the Interpreter API with its GPU and NNAPI "
            f"delegates, which only the 1.x line (>= {'.'.join(map(str, OLDEST_LITERT))}) has"
        )
    return problems


def app_pins() -> dict[str, str]:
    return tomllib.loads(TOML.read_text())["versions"]


def test_app_runtimes_are_in_step_with_the_exporter(java_core, tmp_path) -> None:
    assert drift(app_pins(), exporter_pins(), java_core, tmp_path) == []


def test_installed_executorch_is_the_pinned_one() -> None:
    installed = library_version("executorch")
    if installed is None:
        pytest.skip("executorch not installed")
    assert _release(installed) == _release(exporter_pins()["executorch"])


def test_the_apk_checks_models_against_the_pinned_versions() -> None:
    """The versions the app checks against are the catalog's, compiled in (BuildConfig)."""
    build = APP_BUILD.read_text()
    runtimes = (RUNTIMES_KT / "SegRuntime.kt").read_text()
    for kind, const in (
        ("litert", "LITERT"),
        ("executorch", "EXECUTORCH"),
        ("onnxruntime", "ONNXRUNTIME"),
    ):
        field = f'buildConfigField("String", "{const}_VERSION", "\\"${{libs.versions.{kind}.get()}}\\"")'
        assert field in build, f"{const}_VERSION must come from libs.versions.toml"
        assert f'RuntimeKind("{kind}", BuildConfig.{const}_VERSION' in runtimes
    assert (
        "RuntimeVersions.check("
        in (APP / "app/src/main/java/dev/edgeseg/demo/Segmenter.kt").read_text()
    )


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"executorch": "1.4.0"}, "executorch: the app would refuse edgeseg's .pte"),
        ({"executorch": "1.6.0"}, "executorch: the app links 1.6.0, edgeseg exports with"),
        ({"onnxruntime": "1.13.1"}, "onnxruntime: the app would refuse edgeseg's opset"),
        ({"litert": "2.1.5"}, "litert 2.1.5: the app uses the Interpreter API"),
    ],
)
def test_drifted_pins_are_caught(java_core, tmp_path, change, fragment) -> None:
    problems = drift({**app_pins(), **change}, exporter_pins(), java_core, tmp_path)
    assert any(p.startswith(fragment) for p in problems), problems


@SLOW
@pytest.mark.parametrize("quantize", ["none", "int8"])
def test_the_app_accepts_edgesegs_real_tflite_exports(java_core, tmp_path, shared_export, quantize):
    """The op versions of real exports (their min_runtime_version) are ones the app's LiteRT runs."""
    from edgeseg.sidecar import read_sidecar

    outcome = shared_export("tflite", quantize)
    assert outcome.ok, outcome.parity.reason
    record = read_sidecar(outcome.result.path)["runtime_version"]
    assert record["runtime"] == "tflite" and "min_runtime_version" in record, record
    assert _ask_app(java_core, tmp_path, record, "litert", app_pins()["litert"]) == "ok"
