"""``edgeseg devices --check``: per phone, what is ready for a benchmark and what is not.

For each ready phone: its ABI, thermal status (``dumpsys thermalservice``: none … shutdown) and
temperature, free space on ``/data/local/tmp`` (``df -k``; artifacts and tools are pushed
there), battery level and temperature; per runtime the command-line tool (cached on this
machine? its cache-manifest version and sha256, pushed to the phone by ``--setup`` with the same
sha256?) and the demo app (installed? the runtime versions it was built with — its
``versionName`` names them — against the versions on this machine that export the artifacts),
and which runner ``edgeseg bench`` would pick (:func:`~.select.choose`).

The app's pinned versions are read from ``android_demo/gradle/libs.versions.toml`` (what the next
``edgeseg android-demo install`` builds), never written here, so a bumped pin shows up at once.
"""

from __future__ import annotations

import contextlib
import re
from importlib import metadata
from pathlib import Path
from typing import Any

from edgeseg.app_protocol import PACKAGE, demo_project
from edgeseg.benchmarks.adb.binaries import find_tool
from edgeseg.benchmarks.adb.client import Adb
from edgeseg.benchmarks.adb.devices import DeviceInfo
from edgeseg.benchmarks.adb.provision import pushed_sha256, read_manifest
from edgeseg.benchmarks.adb.select import choose, tool_runner
from edgeseg.benchmarks.adb.thermal import battery_temp_c
from edgeseg.benchmarks.base import BenchError
from edgeseg.benchmarks.options import PhoneOptions

THERMAL = ("none", "light", "moderate", "severe", "critical", "emergency", "shutdown")
# runtime → (file suffix, the app's name for it in libs.versions.toml, the exporter's package)
RUNTIMES = {
    "tflite": (".tflite", "litert", "ai-edge-litert"),
    "executorch": (".pte", "executorch", "executorch"),
    "onnxruntime": (".onnx", "onnxruntime", "onnxruntime"),
}
VERSIONS_TOML = Path("gradle/libs.versions.toml")


def app_pins(app: Path | None = None) -> dict[str, str]:
    """The runtime versions ``android_demo`` builds with ({} when the project is absent)."""
    path = (app or demo_project()) / VERSIONS_TOML
    try:
        versions = toml_versions(path.read_text())
    except OSError:
        return {}
    return {rt: versions[name] for rt, (_, name, _) in RUNTIMES.items() if name in versions}


def toml_versions(text: str) -> dict[str, str]:
    """The ``[versions]`` table of a Gradle version catalog: ``name = "1.2.3"`` lines (Python
    3.10, which edgeseg supports, has no ``tomllib``; the catalog's table is this simple)."""
    section, out = "", {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("["):
            section = line.strip("[] ")
        elif section == "versions":
            match = re.fullmatch(r'([\w.-]+)\s*=\s*"([^"]*)"', line)
            if match:
                out[match.group(1)] = match.group(2)
    return out


def exporter_versions() -> dict[str, str | None]:
    """The installed Python packages that write (and on the host, run) each artifact type."""
    out: dict[str, str | None] = {}
    for runtime, (_, _, package) in RUNTIMES.items():
        try:
            out[runtime] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[runtime] = None
    return out


def installed_app(adb: Adb) -> dict[str, Any]:
    """Whether the app is installed, its versionName and the runtime versions it names."""
    res = adb.shell(f"dumpsys package {PACKAGE}", timeout=30)
    match = re.search(r"^\s*versionName=(.*)$", res.stdout, re.MULTILINE)
    if res.exit_code != 0 or f"Package [{PACKAGE}]" not in res.stdout or not match:
        return {"installed": False, "version_name": None, "runtimes": {}}
    name = match.group(1).strip()
    found = dict(re.findall(r"(litert|executorch|onnxruntime) ([\w.+-]+)", name))
    runtimes = {rt: found.get(app_name) for rt, (_, app_name, _) in RUNTIMES.items()}
    return {"installed": True, "version_name": name, "runtimes": runtimes}


def compare(app: str | None, exporter: str | None) -> str:
    """``same`` when major.minor agree, ``differs``, or ``unknown`` when either is missing."""
    if not app or not exporter:
        return "unknown"
    return "same" if app.split(".")[:2] == exporter.split(".")[:2] else "differs"


def free_mb(adb: Adb, path: str = "/data/local/tmp") -> float | None:
    """Available space from ``df -k`` (the last line's 4th column), in MB."""
    lines = adb.shell(f"df -k {path}", timeout=30).stdout.strip().splitlines()
    cols = lines[-1].split() if len(lines) > 1 else []
    return int(cols[3]) / 1024 if len(cols) > 3 and cols[3].isdigit() else None


def thermal_status(adb: Adb) -> str | None:
    match = re.search(r"Thermal Status:\s*(\d+)", adb.shell("dumpsys thermalservice").stdout)
    if not match:
        return None
    level = int(match.group(1))
    return THERMAL[level] if level < len(THERMAL) else str(level)


def battery_level(adb: Adb) -> int | None:
    match = re.search(r"^\s*level:\s*(\d+)", adb.shell("dumpsys battery").stdout, re.MULTILINE)
    return int(match.group(1)) if match else None


def check_device(info: DeviceInfo, phone: PhoneOptions | None = None) -> dict[str, Any]:
    """Everything ``devices --check`` says about one phone (JSON-ready)."""
    phone = phone or PhoneOptions()
    out: dict[str, Any] = {"serial": info.serial, "state": info.state, "model": info.model}
    if not info.ready:
        return {**out, "ready": False}
    adb = Adb(info.serial, timeout=30)
    app = installed_app(adb)
    pins, exporter = app_pins(), exporter_versions()
    runners = {}
    for runtime, (suffix, _, _) in RUNTIMES.items():
        runners[runtime] = _runtime(adb, info, runtime, suffix, phone, app, pins, exporter)
    return {
        **out,
        "ready": True,
        "abi": info.abi,
        "android": info.android,
        "thermal": thermal_status(adb),
        "temp_c": battery_temp_c(adb),
        "battery_pct": battery_level(adb),
        "free_mb": free_mb(adb),
        "app": {**app, "pins": pins},
        "runtimes": runners,
    }


def _runtime(
    adb: Adb,
    info: DeviceInfo,
    runtime: str,
    suffix: str,
    phone: PhoneOptions,
    app: dict[str, Any],
    pins: dict[str, str],
    exporter: dict[str, str | None],
) -> dict[str, Any]:
    tool = tool_runner(Path(f"model{suffix}"))
    name = tool.tool.names[0]
    cached, entry = None, {}
    with contextlib.suppress(BenchError):
        path, _ = find_tool(tool.tool, info.abi, phone.runner_path)
        cached, name = str(path), path.name
        entry = read_manifest(info.abi).get(path.name, {})
    on_phone = pushed_sha256(adb, name)
    pushed = "no" if on_phone is None else ("yes" if on_phone == entry.get("sha256") else "stale")
    app_version = app["runtimes"].get(runtime)
    try:
        model = Path(f"model{suffix}")  # an edgeseg export: it has a sidecar
        picked = choose(model, info, phone, installed=app["installed"], has_sidecar=True)
        will_use = f"{picked.runner.name} ({picked.why})"
    except BenchError:
        will_use = None
    return {
        "tool": name,
        "cached": cached,
        "version": entry.get("version"),
        "sha256": entry.get("sha256"),
        "pushed": pushed,
        "app_version": app_version,
        "app_pin": pins.get(runtime),
        "exporter_version": exporter.get(runtime),
        "app_vs_exporter": compare(app_version or None, exporter.get(runtime)),
        "will_use": will_use,
    }
