"""Which runner measures an artifact on a phone when ``--runner`` is not given.

Per artifact and phone: the runtime's command-line tool when it is in the cache (or under
``--runner-path``), else the demo app's bench mode when the app is installed (it runs ``.tflite``,
``.pte`` and ``.onnx`` with the same runtimes users get), else — for ``.tflite`` only, the one
tool with published Android binaries — the tool downloaded now (:mod:`.provision`, first use per
ABI). Otherwise one line names both ways to get a runner. The app runs only models that carry
an edgeseg sidecar, so a foreign model without one never goes to it. Why the tool first: it
measures the bare runtime with the runtime's own clock, the reference the app's numbers are
compared with.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from edgeseg.app_protocol import PACKAGE
from edgeseg.benchmarks.adb.app import App
from edgeseg.benchmarks.adb.binaries import find_tool
from edgeseg.benchmarks.adb.client import Adb
from edgeseg.benchmarks.adb.devices import DeviceInfo, device_info
from edgeseg.benchmarks.adb.provision import MANIFEST, mirror_from_env, provision, push
from edgeseg.benchmarks.adb.session import AdbRunner
from edgeseg.benchmarks.base import BenchError, Runner, get_runner, runner_for
from edgeseg.benchmarks.options import PhoneOptions, RunRequest
from edgeseg.sidecar import sidecar_path

_DOWNLOADING = threading.Lock()


@dataclass(frozen=True)
class Choice:
    """The runner picked and why (shown in ``devices --check`` and the row's notes)."""

    runner: Runner
    why: str


def app_installed(adb: Adb) -> bool:
    """``pm path`` lists an installed package's APK and prints nothing otherwise."""
    found = adb.shell(f"pm path {PACKAGE}", timeout=30)
    return found.exit_code == 0 and "package:" in found.stdout


def tool_runner(artifact: Path) -> AdbRunner:
    """The command-line tool runner for the file's type (an error for types phones cannot run)."""
    runner = runner_for(artifact, "adb")
    if not isinstance(runner, AdbRunner):
        raise BenchError(f"{artifact.name}: no phone-side tool runs {artifact.suffix} files")
    return runner


def can_download(tool: AdbRunner, abi: str) -> bool:
    """Whether :func:`provision` has somewhere to get this tool for this ABI."""
    spec = MANIFEST.get(abi, {}).get(tool.tool.names[0])
    return mirror_from_env() is not None or (spec is not None and spec.url is not None)


def choose(
    artifact: Path,
    info: DeviceInfo,
    phone: PhoneOptions,
    installed: bool | None = None,
    has_sidecar: bool | None = None,
) -> Choice:
    """The runner for ``artifact`` on ``info`` (no download: see :func:`pick_for`). The app
    runs only models with a sidecar (``has_sidecar`` None: look for ``<artifact>.json``)."""
    tool, suffix = tool_runner(artifact), artifact.suffix.lower()
    try:
        path, _ = find_tool(tool.tool, info.abi, phone.runner_path)
        return Choice(tool, f"{path.name} cached")
    except BenchError:
        pass
    if installed is None:
        installed = app_installed(Adb(info.serial, timeout=30))
    if has_sidecar is None:
        has_sidecar = sidecar_path(artifact).is_file()
    if installed and has_sidecar and suffix in App.formats:
        return Choice(get_runner("app"), "demo app installed, no tool cached")
    if phone.runner_path is None and can_download(tool, info.abi):
        return Choice(tool, "to download (first use)")
    if installed:  # the app is there, but this model has no sidecar for it
        raise BenchError(
            f"no runner for {artifact.name} on {info.label()}: {tool.tool.names[0]} "
            f"({info.abi}) is not cached and the demo app needs the model's sidecar "
            f"({sidecar_path(artifact).name}); run `edgeseg devices --setup --device "
            f"{info.serial} --runners-from MIRROR` with a mirror that has the tool"
        )
    raise BenchError(no_runner_line(tool, suffix, info))


def no_runner_line(tool: AdbRunner, suffix: str, info: DeviceInfo) -> str:
    return (
        f"no runner for {suffix} on {info.label()}: neither {tool.tool.names[0]} ({info.abi}) "
        f"is cached nor the demo app installed; run `edgeseg devices --setup --device "
        f"{info.serial} [--runners-from MIRROR]` or `edgeseg android-demo install --device "
        f"{info.serial}`"
    )


def pick_for(artifact: Path, request: RunRequest) -> Runner:
    """:func:`choose` for ``request.device``, downloading the tool when that is the choice (first
    use per ABI); a failed download's line also names the other ways to get a runner."""
    found = runner_for(artifact, "adb")
    if not isinstance(found, AdbRunner):
        return found  # a registered phone runner that brings no tool of its own runs as it is
    tool_runner(artifact)  # a type no phone runs fails before adb is asked anything
    info = device_info(request.device)
    choice = choose(artifact, info, request.phone)
    if choice.why.startswith("to download"):
        try:
            with _DOWNLOADING:  # two phones of one ABI, in parallel, share one download
                items = provision(info.abi, progress=sys.stderr.isatty())
            for item in items:
                push(Adb(info.serial, timeout=60), item)
        except BenchError as exc:
            line = no_runner_line(tool_runner(artifact), artifact.suffix.lower(), info)
            raise BenchError(f"{exc} (or: {line})") from exc
    return choice.runner
