"""The fake phone's package and activity managers, for one app: the edgeseg demo.

- ``pm path`` / ``pm list packages`` show ``dev.edgeseg.demo`` while it is installed
  (``behaviour.app_installed``; ``adb install`` of any APK named like the app installs it);
- ``am start -n dev.edgeseg.demo/.BenchActivity --es K V --ei K N …`` parses the extras like
  ``am`` and starts bench mode (``bench_app.py``) in a background process, returning at once
  like the real ``am start``; ``behaviour.app_port`` picks how faithful that port is;
- ``pidof`` sees that process while it lives, ``am force-stop`` kills it, and
  ``logcat -b crash -d`` shows debuggerd's line for a process that died of a signal.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .device import FakeDevice

PACKAGE = "dev.edgeseg.demo"
ACTIVITY = f"{PACKAGE}/.BenchActivity"
BENCH_APP = Path(__file__).with_name("bench_app.py")
REPO = Path(__file__).resolve().parents[4]
Result = tuple[bytes, bytes, int]


class FakeApps:
    def __init__(self, device: FakeDevice) -> None:
        self.device = device
        self.procs: list[subprocess.Popen] = []
        self.starts: list[dict[str, str]] = []  # the extras of every am start, in order

    def builtins(self) -> dict:
        return {"pm": self.pm, "am": self.am, "pidof": self.pidof, "logcat": self.logcat}

    @property
    def installed(self) -> bool:
        return self.device.behaviour.app_installed

    def pm(self, args: list[str]) -> Result:
        if args[:1] == ["path"]:
            if self.installed and args[1:] == [PACKAGE]:
                return f"package:/data/app/~~fake==/{PACKAGE}-1/base.apk\n".encode(), b"", 0
            return b"", b"", 1
        if args[:2] == ["list", "packages"]:
            names = ["com.android.settings", *([PACKAGE] if self.installed else [])]
            wanted = [n for n in names if not args[2:] or args[2] in n]
            return "".join(f"package:{n}\n" for n in wanted).encode(), b"", 0
        return b"", f"Unknown command: {' '.join(args[:1])}\n".encode(), 255

    def install(self, apk: bytes) -> bytes:
        """``cmd package install`` of a streamed APK (``adb install``)."""
        if not apk.startswith(b"PK"):
            return b"Failure [INSTALL_PARSE_FAILED_NOT_APK: not a zip archive]\n"
        self.device.behaviour.app_installed = True
        return b"Success\n"

    def am(self, args: list[str]) -> Result:
        if args[:1] == ["force-stop"]:
            for proc in self.procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            return b"", b"", 0
        if args[:1] != ["start"] or "-n" not in args:
            return b"", b"Error: unsupported am command in the fake\n", 255
        component = args[args.index("-n") + 1]
        said = f"Starting: Intent {{ cmp={component} (has extras) }}\n"
        if component != ACTIVITY or not self.installed:
            full = component.replace("/.", f"/{component.split('/')[0]}.")
            return (
                (
                    said + f"Error type 3\nError: Activity class {{{full}}} does not exist.\n"
                ).encode(),
                b"",
                1,
            )
        extras = {}
        for i, word in enumerate(args):
            if word in ("--es", "--ei"):
                extras[args[i + 1]] = args[i + 2]
        self.starts.append(extras)
        self._launch(extras)
        return said.encode(), b"", 0

    def _launch(self, extras: dict[str, str]) -> None:
        device = self.device
        cmd = [
            sys.executable,
            str(BENCH_APP),
            str(device.root),
            device.behaviour.app_port,
            json.dumps(extras),
            json.dumps(device.props),
        ]
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
        self.procs.append(
            subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )

    def pidof(self, args: list[str]) -> Result:
        alive = [p.pid for p in self.procs if p.poll() is None] if args == [PACKAGE] else []
        if not alive:
            return b"", b"", 1
        return (" ".join(map(str, alive)) + "\n").encode(), b"", 0

    def logcat(self, args: list[str]) -> Result:
        if "-b" in args and args[args.index("-b") + 1] == "crash":
            out = "--------- beginning of crash\n"
            for proc in self.procs:
                code = proc.poll()
                if code is not None and code < 0:
                    name = signal.Signals(-code).name
                    out += (
                        f"F libc    : Fatal signal {-code} ({name}), code -1 (SI_QUEUE) in "
                        f"tid {proc.pid} (Thread-2), pid {proc.pid} ({PACKAGE})\n"
                    )
            return out.encode(), b"", 0
        main = self.device.root / "logcat.main"
        return (main.read_bytes() if main.is_file() else b""), b"", 0

    def stop_all(self) -> None:
        """Kill bench processes still running (the phone is unplugged or the test is over)."""
        self.am(["force-stop", PACKAGE])
