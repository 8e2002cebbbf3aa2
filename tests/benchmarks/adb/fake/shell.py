"""The fake phone's ``sh``: the handful of toybox commands edgeseg sends, and the runner tools.

``pm``, ``am``, ``pidof`` and ``logcat`` (the demo app's side) are :class:`~.apps.FakeApps`'.

Commands are split like mksh would (``&&`` and ``;``, quotes, leading ``VAR=value``
assignments, globs on device paths). Runner binaries pushed under ``/data/local/tmp`` are not
executed as ELF files: their basename selects a stand-in in ``tools.py`` that prints the real
tool's output format and really loads the pushed model in the host runtime (in a subprocess, so
ExecuTorch aborting on a corrupt file kills only that process, exit 134 like on a phone).
"""

from __future__ import annotations

import glob
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .apps import PACKAGE, FakeApps

if TYPE_CHECKING:
    from .device import FakeDevice

TOOLS = Path(__file__).with_name("tools.py")
Result = tuple[bytes, bytes, int]

BATTERY = """Current Battery Service state:
  AC powered: false
  USB powered: true
  Wireless powered: false
  Max charging current: 500000
  status: 2
  health: 2
  present: true
  level: 81
  scale: 100
  voltage: 4123
  temperature: {temp}
  technology: Li-ion
"""


THERMAL = """IsStatusOverride: false
ThermalEventListeners:
\tcallbacks: 1
ThermalStatusListeners:
\tcallbacks: 1
Thermal Status: {status}
Cached temperatures:
\tTemperature{{mValue=38.5, mType=3, mName=BATTERY, mStatus={status}}}
"""
PACKAGE_INFO = """Packages:
  Package [{package}] (1a2b3c4):
    userId=10234
    pkg=Package{{1a2b3c4 {package}}}
    versionCode=1 minSdk=26 targetSdk=36
    versionName={name}
    flags=[ DEBUGGABLE HAS_CODE ALLOW_CLEAR_USER_DATA ]
"""
DF = """Filesystem        1K-blocks     Used Available Use% Mounted on
/dev/block/dm-48  115881196 64843560  {free:>9}  56% /data
"""


class FakeShell:
    def __init__(self, device: FakeDevice) -> None:
        self.device = device
        self.runs: list[dict] = []  # one record per runner-tool invocation
        self.builtins: dict[str, Callable[[list[str]], Result]] = {
            "getprop": self._getprop,
            "dumpsys": self._dumpsys,
            "cat": self._cat,
            "mkdir": self._mkdir,
            "chmod": self._chmod,
            "rm": self._rm,
            "ls": self._ls,
            "echo": lambda args: ((" ".join(args) + "\n").encode(), b"", 0),
            "df": self._df,
            "true": lambda args: (b"", b"", 0),
        }
        self.apps = FakeApps(device)
        self.builtins.update(self.apps.builtins())

    def run(self, command: str) -> Result:
        lexer = shlex.shlex(command, posix=True, punctuation_chars=";&")
        lexer.whitespace_split = True
        out, err, code = b"", b"", 0
        words: list[str] = []
        for token in [*lexer, ";"]:
            if token not in ("&&", ";"):
                words.append(token)
                continue
            if words:
                o, e, code = self._simple(words)
                out, err, words = out + o, err + e, []
            if token == "&&" and code != 0:
                break
        return out, err, code

    def _simple(self, words: list[str]) -> Result:
        if ">" in words[:-1]:  # ``CMD > FILE``: stdout into a device file
            at = words.index(">")
            out, err, code = self._simple(words[:at])
            self.device.host_path(words[at + 1]).write_bytes(out)
            return b"", err, code
        env = {}
        while words and "=" in words[0] and not words[0].startswith("/"):
            key, _, value = words.pop(0).partition("=")
            env[key] = value
        mask = None
        if words[:1] == ["taskset"] and len(words) > 2:
            mask, words = words[1], words[2:]
        name = words[0]
        if name in self.builtins and mask is None:
            return self.builtins[name](words[1:])
        if name.startswith("/"):
            return self._exec(name, words[1:], env, mask)
        return b"", f"/system/bin/sh: {name}: inaccessible or not found\n".encode(), 127

    # --- runner binaries -------------------------------------------------------------------
    def _exec(self, path: str, args: list[str], env: dict, mask: str | None) -> Result:
        host = self.device.host_path(path)
        if not host.is_file():
            return b"", f"/system/bin/sh: {path}: inaccessible or not found\n".encode(), 127
        if not os.access(host, os.X_OK):
            return b"", f"/system/bin/sh: {path}: can't execute: Permission denied\n".encode(), 126
        tool = host.name
        time.sleep(self.device.behaviour.tool_delay_s)
        self.runs.append({"tool": tool, "args": args, "env": env, "taskset": mask})
        if self.device.behaviour.vanish_in == tool:
            self.device.vanish()
            return b"", b"", 137
        cmd = [sys.executable, str(TOOLS), tool, str(self.device.root), *args]
        child_env = {**os.environ, "OMP_NUM_THREADS": "1"}
        try:
            proc = subprocess.run(
                cmd,
                capture_output=True,
                env=child_env,
                timeout=self.device.behaviour.tool_timeout_s,
            )
        except subprocess.TimeoutExpired:
            return b"", b"Killed\n", 137
        code = proc.returncode if proc.returncode >= 0 else 128 - proc.returncode
        return proc.stdout, proc.stderr, code

    # --- toybox ----------------------------------------------------------------------------
    def _getprop(self, args: list[str]) -> Result:
        props = self.device.props
        if args:
            return (props.get(args[0], "") + "\n").encode(), b"", 0
        return "".join(f"[{k}]: [{v}]\n" for k, v in sorted(props.items())).encode(), b"", 0

    def _dumpsys(self, args: list[str]) -> Result:
        behaviour = self.device.behaviour
        if args == ["thermalservice"]:
            return THERMAL.format(status=behaviour.thermal_status).encode(), b"", 0
        if args[:1] == ["package"] and args[1:] == [PACKAGE]:
            if not self.apps.installed:
                return b"Unable to find package: " + args[1].encode() + b"\n", b"", 0
            name = behaviour.app_version_name
            return PACKAGE_INFO.format(package=args[1], name=name).encode(), b"", 0
        if args != ["battery"]:
            return b"", f"Can't find service: {' '.join(args)}\n".encode(), 0
        temps = self.device.behaviour.battery_tenths_c
        temp = temps.pop(0) if len(temps) > 1 else temps[0]
        return BATTERY.format(temp=temp).encode(), b"", 0

    def _expand(self, paths: list[str]) -> list[tuple[str, Path]]:
        root = self.device.root
        found: list[tuple[str, Path]] = []
        for p in paths:
            matches = sorted(glob.glob(str(self.device.host_path(p)))) if "*" in p else []
            if matches:
                found += [("/" + str(Path(m).relative_to(root)), Path(m)) for m in matches]
            else:
                found.append((p, self.device.host_path(p)))
        return found

    def _cat(self, args: list[str]) -> Result:
        out, err, code = b"", b"", 0
        for shown, host in self._expand(args):
            if host.is_file():
                out += host.read_bytes()
            else:
                err += f"cat: {shown}: No such file or directory\n".encode()
                code = 1
        return out, err, code

    def _mkdir(self, args: list[str]) -> Result:
        for _, host in self._expand([a for a in args if not a.startswith("-")]):
            host.mkdir(parents=True, exist_ok=True)
        return b"", b"", 0

    def _chmod(self, args: list[str]) -> Result:
        mode, paths = int(args[0], 8), args[1:]
        for shown, host in self._expand(paths):
            if not host.exists():
                return b"", f"chmod: {shown}: No such file or directory\n".encode(), 1
            host.chmod(mode)
        return b"", b"", 0

    def _rm(self, args: list[str]) -> Result:
        for _, host in self._expand([a for a in args if not a.startswith("-")]):
            if host.is_dir():
                shutil.rmtree(host)
            elif host.exists():
                host.unlink()
        return b"", b"", 0

    def _df(self, args: list[str]) -> Result:
        return DF.format(free=self.device.behaviour.free_kb).encode(), b"", 0

    def _ls(self, args: list[str]) -> Result:
        out = b""
        for shown, host in self._expand([a for a in args if not a.startswith("-")] or ["/"]):
            if not host.exists():
                return out, f"ls: {shown}: No such file or directory\n".encode(), 1
            names = sorted(c.name for c in host.iterdir()) if host.is_dir() else [shown]
            out += "".join(n + "\n" for n in names).encode()
        return out, b"", 0
