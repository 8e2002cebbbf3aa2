"""A thin client over the real ``adb`` binary, run as a subprocess.

Why a subprocess and not a Python adb library: the ``adb`` users already have (Debian's package or
Android's platform-tools) owns the server, the USB permissions and the auth keys, and it honours
``ANDROID_ADB_SERVER_PORT`` (inherited through the environment), so edgeseg behaves exactly like
the commands a user would type. Every call has a timeout. ``shell`` returns the device-side exit
code and stderr separately (adb's ``shell_v2``); failures of adb itself (device not found, offline,
unauthorized, connection closed) raise :class:`AdbError` instead of posing as command output.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from edgeseg.atomic import atomic_path
from edgeseg.benchmarks.base import BenchError
from edgeseg.benchmarks.stopping import started

INSTALL_HINT = (
    "install adb (Debian/Ubuntu: `apt-get install adb`; elsewhere Android SDK platform-tools, "
    "https://developer.android.com/tools/releases/platform-tools) and put it on PATH"
)
STATE_HINTS = {
    "unauthorized": "unlock the phone and accept the 'Allow USB debugging?' prompt, then retry",
    "offline": "reconnect the cable (or run `adb reconnect`), then retry",
    "missing": "check the cable and `adb devices -l`",
    "authorizing": "wait a few seconds for the phone to finish authorizing, then retry",
}
# What adb itself prints (stderr, exit 1) when the failure is adb's, not the device command's.
_ADB_FAILURE = re.compile(
    r"^(adb: )?error: (device (?P<state>offline|unauthorized|still authorizing)"
    r"|device '.*' not found|no devices|more than one device|closed|protocol fault"
    r"|cannot connect)"
)


class AdbError(BenchError):
    """adb itself failed: not installed, timed out, or the device is missing/offline/locked."""


class DeviceGone(AdbError):
    """The device disappeared or went offline while edgeseg was using it."""


def adb_path() -> str:
    """The ``adb`` on PATH (else the SDK's platform-tools), or an :class:`AdbError` saying how
    to install it."""
    path = shutil.which("adb")
    sdk = os.environ.get("ANDROID_HOME") or os.environ.get("ANDROID_SDK_ROOT")
    if path is None and sdk and (Path(sdk) / "platform-tools" / "adb").is_file():
        path = str(Path(sdk) / "platform-tools" / "adb")
    if path is None:
        raise AdbError(f"adb not found on PATH: {INSTALL_HINT}")
    return path


def state_error(serial: str, state: str, during: str = "") -> AdbError:
    """One line for a device that is not ready, with what the user can do about it."""
    hint = STATE_HINTS.get(state, "check `adb devices -l`")
    cls = DeviceGone if during else AdbError
    when = f" during {during}" if during else ""
    return cls(f"device {serial} is {state}{when}: {hint}")


@dataclass
class ShellResult:
    """A device command's outcome: its own exit code and separate stdout/stderr."""

    command: str
    stdout: str
    stderr: str
    exit_code: int
    seconds: float

    def check(self, what: str) -> ShellResult:
        if self.exit_code != 0:
            last = (self.stderr.strip() or self.stdout.strip() or "no output").splitlines()[-1]
            raise BenchError(f"{what} failed on the device (exit {self.exit_code}): {last}")
        return self


class Adb:
    """``adb [-s SERIAL] …`` with timeouts; one instance per device (or none for server calls)."""

    def __init__(self, serial: str | None = None, timeout: float = 60.0) -> None:
        self.exe = adb_path()
        self.serial = serial
        self.timeout = timeout

    def _run(self, args: list[str], timeout: float | None = None) -> subprocess.CompletedProcess:
        cmd = [self.exe, *(["-s", self.serial] if self.serial else []), *args]
        limit = self.timeout if timeout is None else timeout
        try:
            # started: a stopped bench kills this client instead of leaving it running (stopping)
            with started(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
            ) as p:
                out, err = p.communicate(timeout=limit)
        except subprocess.TimeoutExpired as exc:
            where = f" on {self.serial}" if self.serial else ""
            raise AdbError(
                f"`adb {shlex.join(args)[:80]}` timed out after {limit:g}s{where}"
            ) from exc
        return subprocess.CompletedProcess(cmd, p.returncode, out, err)

    def _raise_if_adb_failed(self, proc: subprocess.CompletedProcess, what: str) -> None:
        text = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        first = text[0] if text else ""
        match = _ADB_FAILURE.match(first)
        if proc.returncode == 0 or not match:
            return
        state = match.group("state") or ("missing" if "not found" in first else "")
        if state:
            raise state_error(self.serial or "?", state.replace("still ", ""), during=what)
        raise DeviceGone(f"adb {what} on {self.serial}: {first.removeprefix('adb: ')}")

    def server_call(self, args: list[str], timeout: float | None = None) -> str:
        """A server-level command (``devices -l``, ``connect``…); stdout, or AdbError."""
        proc = self._run(args, timeout)
        if proc.returncode != 0:
            raise AdbError(f"`adb {shlex.join(args)}` failed: {proc.stderr.strip() or proc.stdout}")
        return proc.stdout

    def shell(self, command: str, timeout: float | None = None) -> ShellResult:
        """Run ``command`` in the device's sh. A non-zero device exit code is *returned*."""
        start = time.perf_counter()
        proc = self._run(["shell", command], timeout)
        self._raise_if_adb_failed(proc, f"`{command.split()[0]}`")
        return ShellResult(
            command, proc.stdout, proc.stderr, proc.returncode, time.perf_counter() - start
        )

    def get_state(self) -> str:
        """``device``, ``offline``, ``unauthorized``, ``authorizing`` or ``missing``."""
        proc = self._run(["get-state"], timeout=10)
        if proc.returncode == 0:
            return proc.stdout.strip() or "missing"
        match = _ADB_FAILURE.match(proc.stderr.strip())
        state = match.group("state") if match else None
        return state.replace("still ", "") if state else "missing"

    def push(self, local: Path, remote: str, timeout: float | None = None) -> None:
        proc = self._run(["push", str(local), remote], timeout)
        self._raise_if_adb_failed(proc, "push")
        if proc.returncode != 0:
            raise AdbError(f"adb push {local} → {remote} failed: {_last_line(proc)}")

    def pull(self, remote: str, local: Path, timeout: float | None = None) -> Path:
        """Copy a device file to ``local`` atomically (a failed pull leaves nothing behind)."""
        with atomic_path(local) as tmp:
            proc = self._run(["pull", remote, str(tmp)], timeout)
            self._raise_if_adb_failed(proc, "pull")
            if proc.returncode != 0:
                raise AdbError(f"adb pull {remote} failed on {self.serial}: {_last_line(proc)}")
        return Path(local)

    def pull_dir(self, remote: str, local: Path, timeout: float | None = None) -> Path:
        """Copy a device folder to ``local`` (replaced whole; a failed pull leaves nothing)."""
        local = Path(local)
        with atomic_path(local, directory=True) as staging:
            proc = self._run(["pull", remote, str(staging)], timeout)
            self._raise_if_adb_failed(proc, "pull")
            if proc.returncode != 0 or not staging.is_dir():
                raise AdbError(f"adb pull {remote} failed on {self.serial}: {_last_line(proc)}")
        return local

    def install(self, apk: Path, timeout: float | None = None) -> None:
        """``adb install -r APK``; the package manager's refusal (``Failure [...]``) is raised."""
        proc = self._run(["install", "-r", str(apk)], timeout)
        self._raise_if_adb_failed(proc, "install")
        if proc.returncode != 0 or "Success" not in proc.stdout:
            raise AdbError(
                f"adb install {Path(apk).name} failed on {self.serial}: {_last_line(proc)}"
            )


def _last_line(proc: subprocess.CompletedProcess) -> str:
    lines = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()
    return lines[-1].removeprefix("adb: ").removeprefix("error: ")
