"""Runners that provision themselves: the manifest of phone-side tools, the cache, the push.

Only TFLite publishes prebuilt Android benchmark binaries: ``benchmark_model`` for arm64-v8a and
armeabi-v7a, as *nightly* builds at a fixed "latest" URL (TensorFlow's "TFLite Model Benchmark
Tool" page). The bytes behind that URL change every night, so no sha256 can be pinned here
honestly; those downloads are verified against the publisher's checksum instead (the MD5 Google
Cloud Storage sends in ``x-goog-hash``), and the sha256 of what was verified is recorded in the
cache manifest. A :data:`MANIFEST` entry with ``sha256`` set is a pin and always wins. x86_64 (the
emulator) has no published binary, and ExecuTorch's ``executor_runner`` and onnxruntime's
``onnxruntime_perf_test`` have none for any ABI: those come from a lab mirror.

A mirror (``--runners-from DIR | file://URL | https://URL``, or ``$EDGESEG_RUNNERS_FROM``) is a
folder laid out like the cache, ``<abi>/<tool>``, with a ``SHA256SUMS`` file at its top in
``sha256sum`` format (``HEX  arm64-v8a/benchmark_model``; make it with ``sha256sum */* >
SHA256SUMS``). Every known tool it lists for the phone's ABI is fetched and verified against it.

The cache is ``<runners cache>/<abi>/`` (:func:`~.binaries.cache_root`) with ``manifest.json``:
per tool its version, sha256, source URL, how it was verified and when. The push puts each tool in
:data:`PUSH_DIR` on the phone with a ``<tool>.sha256`` beside it, which ``devices --check`` reads.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shlex
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgeseg.atomic import atomic_path
from edgeseg.benchmarks.adb.binaries import cache_root
from edgeseg.benchmarks.adb.client import Adb
from edgeseg.benchmarks.adb.devices import DeviceInfo
from edgeseg.benchmarks.adb.download import DownloadError, Fetched, fetch, file_digest
from edgeseg.benchmarks.base import BenchError
from edgeseg.benchmarks.options import BenchOptionError

NIGHTLY = (
    "https://storage.googleapis.com/tensorflow-nightly-public/prod/tensorflow/release/lite/tools/"
    "nightly/latest/"
)
PUSH_DIR = "/data/local/tmp/edgeseg-runners"
MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = "edgeseg-runners"
SUMS = "SHA256SUMS"
ABIS = ("arm64-v8a", "armeabi-v7a", "x86_64")
# Every tool name an adb runner accepts (binaries.Tool.names): what a mirror may provide.
KNOWN_TOOLS = (
    "benchmark_model",
    "android_aarch64_benchmark_model",
    "benchmark_litert_model",
    "executor_runner",
    "xnn_executor_runner",
    "onnxruntime_perf_test",
)


@dataclass(frozen=True)
class RunnerSpec:
    """One downloadable tool for one ABI: where it is published and what it must hash to."""

    tool: str
    abi: str
    url: str | None  # None: nothing published for this ABI (``how`` says what to do)
    version: str
    sha256: str | None = None  # a pin; None: the publisher's checksum (x-goog-hash MD5)
    how: str = ""


_X86_BUILD = (
    "TFLite publishes no x86_64 Android benchmark_model: build it (bazel build -c opt "
    "--config=android_x86_64 //tensorflow/lite/tools/benchmark:benchmark_model) and set it up "
    "with --runners-from"
)
MANIFEST: dict[str, dict[str, RunnerSpec]] = {
    "arm64-v8a": {
        "benchmark_model": RunnerSpec(
            "benchmark_model", "arm64-v8a", NIGHTLY + "android_aarch64_benchmark_model", "nightly"
        )
    },
    "armeabi-v7a": {
        "benchmark_model": RunnerSpec(
            "benchmark_model", "armeabi-v7a", NIGHTLY + "android_arm_benchmark_model", "nightly"
        )
    },
    "x86_64": {
        "benchmark_model": RunnerSpec("benchmark_model", "x86_64", None, "", how=_X86_BUILD)
    },
}


@dataclass(frozen=True)
class Provisioned:
    """One tool ready in the cache (and on the phone when pushed)."""

    tool: str
    abi: str
    path: Path
    entry: dict[str, Any]  # its cache-manifest entry
    fetched: Fetched | None  # None: it was already cached with the same sha256
    pushed_to: str | None = None


def mirror_from_env() -> str | None:
    return os.environ.get("EDGESEG_RUNNERS_FROM") or None


def mirror_url(mirror: str) -> str:
    """A folder or URL → a URL ending in '/' (a missing folder is refused at once)."""
    if "://" in mirror:
        return mirror.rstrip("/") + "/"
    folder = Path(mirror).expanduser().resolve()
    if not folder.is_dir():
        raise BenchError(f"--runners-from {mirror}: no such folder (a mirror folder or a URL)")
    return folder.as_uri() + "/"


def read_sums(base: str) -> dict[str, str]:
    """The mirror's ``SHA256SUMS`` → {"abi/tool": sha256}; missing or malformed is refused."""
    url = base + SUMS
    try:
        with urllib.request.urlopen(url, timeout=30) as fh:  # noqa: S310 (http/file)
            text = fh.read().decode("utf-8", "replace")
    except (OSError, ValueError) as exc:
        raise BenchError(
            f"{url}: the mirror has no readable {SUMS} ({exc}); create it in the mirror folder "
            f"with `sha256sum */* > {SUMS}`"
        ) from exc
    sums = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        digest, _, name = line.strip().partition(" ")
        name = name.strip().lstrip("*")
        if len(digest) != 64 or not name:
            raise BenchError(f"{url} line {number}: not `SHA256  ABI/TOOL`: {line.strip()[:80]}")
        sums[name.removeprefix("./")] = digest.lower()
    return sums


def plan(abi: str, mirror: str | None) -> list[tuple[RunnerSpec, str, str | None, str]]:
    """What to fetch for ``abi``: (spec, url, expected sha256, where the sha256 came from)."""
    if abi not in ABIS:
        raise BenchError(f"no runner manifest for ABI '{abi}' (known: {', '.join(ABIS)})")
    if mirror is None:
        spec = MANIFEST[abi]["benchmark_model"]
        if spec.url is None:
            raise BenchError(spec.how)
        return [(spec, spec.url, spec.sha256, "pinned")]
    base = mirror_url(mirror)
    sums = read_sums(base)
    jobs = []
    for name, digest in sorted(sums.items()):
        folder, _, tool = name.partition("/")
        if folder != abi or tool not in KNOWN_TOOLS:
            continue
        spec = MANIFEST[abi].get(tool) or RunnerSpec(tool, abi, None, "mirror")
        pinned = spec.sha256 is not None
        version = spec.version if spec.url else "local build"
        jobs.append(
            (
                RunnerSpec(tool, abi, base + name, version, spec.sha256),
                base + urllib.parse.quote(name),
                spec.sha256 if pinned else digest,
                "pinned" if pinned else f"mirror {SUMS}",
            )
        )
    if not jobs:
        raise BenchError(
            f"{base}{SUMS} lists no runner tool for {abi} (expected lines like "
            f"`HEX  {abi}/benchmark_model`)"
        )
    return jobs


def read_manifest(abi: str) -> dict[str, dict[str, Any]]:
    """The cache manifest's tools for ``abi`` ({} when there is none or it is unreadable)."""
    path = cache_root() / abi / MANIFEST_NAME
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    tools = data.get("tools") if isinstance(data, dict) else None
    return tools if isinstance(tools, dict) else {}


def _write_manifest(abi: str, tools: dict[str, dict[str, Any]]) -> None:
    path = cache_root() / abi / MANIFEST_NAME
    with atomic_path(path) as tmp:
        tmp.write_text(
            json.dumps({"format": MANIFEST_FORMAT, "version": 1, "tools": tools}, indent=1)
        )


def provision(abi: str, mirror: str | None = None, progress: bool = True) -> list[Provisioned]:
    """Fetch (or find already verified) every tool the manifest or mirror has for ``abi``."""
    mirror = mirror if mirror is not None else mirror_from_env()
    done = []
    for spec, url, sha256, source in plan(abi, mirror):
        done.append(_one(spec, url, sha256, source, progress))
    return done


def _one(spec: RunnerSpec, url: str, sha256: str | None, source: str, progress: bool):
    target = cache_root() / spec.abi / spec.tool
    entries = read_manifest(spec.abi)
    old = entries.get(spec.tool)
    same = old and (sha256 is None or old.get("sha256") == sha256)
    if same and target.is_file() and file_digest(target) == old.get("sha256"):  # still verified
        return Provisioned(spec.tool, spec.abi, target, old, None)
    fetched = fetch(url, target, sha256, source, progress)
    entry = {
        "version": spec.version,
        "sha256": fetched.sha256,
        "bytes": fetched.size,
        "source": url,
        "verified_by": fetched.verified_by,
        "fetched": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    _write_manifest(spec.abi, {**read_manifest(spec.abi), spec.tool: entry})
    return Provisioned(spec.tool, spec.abi, target, entry, fetched)


def push(adb: Adb, item: Provisioned) -> Provisioned:
    """Put a cached tool on the phone with its sha256 beside it (what ``--check`` compares)."""
    remote = f"{PUSH_DIR}/{item.tool}"
    adb.shell(f"mkdir -p {PUSH_DIR}", timeout=30).check("mkdir")
    adb.push(item.path, remote, timeout=300)
    digest = shlex.quote(item.entry["sha256"])
    adb.shell(f"chmod 755 {shlex.quote(remote)} && echo {digest} > {remote}.sha256").check("chmod")
    return Provisioned(item.tool, item.abi, item.path, item.entry, item.fetched, remote)


def pushed_sha256(adb: Adb, tool: str) -> str | None:
    """The sha256 the last ``--setup`` wrote beside ``tool`` on the phone, or None."""
    res = adb.shell(f"cat {PUSH_DIR}/{shlex.quote(tool)}.sha256", timeout=30)
    text = res.stdout.strip()
    return text if res.exit_code == 0 and len(text) == 64 else None


def set_up_on_phone(adb: Adb, binary: Path, abi: str) -> bool:
    """Whether ``binary`` is the cache's verified tool and ``--setup`` left the same bytes on
    the phone (then a run need not push it again)."""
    entry = read_manifest(abi).get(binary.name)
    if not entry or binary.parent.resolve() != (cache_root() / abi).resolve():
        return False
    if pushed_sha256(adb, binary.name) != entry.get("sha256"):
        return False
    return file_digest(binary) == entry["sha256"]


@dataclass(frozen=True)
class SetupOptions:
    """``edgeseg devices --setup``: which phones, and where the tools come from."""

    devices: tuple[str, ...] = ("all",)  # SERIAL | ALIAS | all, as ``bench --device``
    runners_from: str | None = None  # mirror folder or URL; None: $EDGESEG_RUNNERS_FROM, else web
    progress: bool = True

    def __post_init__(self) -> None:
        devices = (self.devices,) if isinstance(self.devices, str) else tuple(self.devices)
        if not devices or not all(isinstance(d, str) and d.strip() for d in devices):
            raise BenchOptionError(f"--device {self.devices!r} is not SERIAL, ALIAS or all")
        if "host" in devices:
            raise BenchOptionError("--device host: --setup provisions phones, not this machine")
        object.__setattr__(self, "devices", devices)
        if self.runners_from is not None:
            mirror_url(self.runners_from)  # a missing folder fails before any phone is asked


@dataclass(frozen=True)
class SetupResult:
    device: DeviceInfo
    tools: list[Provisioned]


def setup(options: SetupOptions) -> list[SetupResult]:
    """Provision each selected phone's ABI once (cache), then push the tools to every phone."""
    from edgeseg.benchmarks.adb.devices import resolve_devices

    phones = list({d.serial: d for s in options.devices for d in resolve_devices(s)}.values())
    by_abi: dict[str, list[Provisioned]] = {}
    for abi in dict.fromkeys(d.abi for d in phones):
        by_abi[abi] = provision(abi, options.runners_from, options.progress)
    out = []
    for info in phones:
        adb = Adb(info.serial, timeout=60)
        out.append(SetupResult(info, [push(adb, item) for item in by_abi[info.abi]]))
    return out


__all__ = [
    "MANIFEST",
    "PUSH_DIR",
    "DownloadError",
    "Provisioned",
    "RunnerSpec",
    "SetupOptions",
    "setup",
    "provision",
    "push",
    "pushed_sha256",
    "read_manifest",
]
