"""Compile the Android app's plain-Java core once per session and run its mains under pytest."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

CORE_SRC = REPO / "android_demo" / "core" / "src"
JVM_FLAGS = ["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx1g"]  # 2 shared cores


@pytest.fixture(scope="session")
def java_core(tmp_path_factory) -> Path:
    """Classes of android_demo/core (main + test sources), compiled with javac --release 17."""
    if not (shutil.which("javac") and shutil.which("java")):
        pytest.skip("javac/java not found: the Android core's JVM tests need JDK 17")
    out = tmp_path_factory.mktemp("android_core")
    sources = sorted(str(p) for p in CORE_SRC.rglob("*.java"))
    assert len(sources) > 10, f"no Java sources under {CORE_SRC}"
    proc = subprocess.run(
        ["javac", "--release", "17", "-Xlint:all", "-Werror", "-d", str(out), *sources],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def run_java(classes: Path, main: str, *args: str) -> subprocess.CompletedProcess:
    cmd = ["java", *JVM_FLAGS, "-cp", str(classes), f"dev.edgeseg.core.{main}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def outcomes(stdout: str) -> dict[str, str]:
    """``ok ID …`` / ``FAIL ID: why`` lines → {ID: "ok" | the failure line}."""
    found: dict[str, str] = {}
    for line in stdout.splitlines():
        if line.startswith("ok "):
            found[line[3:].split(" | ")[0].split(" ")[0]] = "ok"
        elif line.startswith("FAIL "):
            found[line[5:].split(": ")[0]] = line
    return found
