"""The lifecycle every adb runner shares: push, (cool down), run the tool, parse, clean up.

An adb :class:`~edgeseg.benchmarks.base.RunResult` holds the tool's own timings in milliseconds
(``load_ms`` = the tool's init/session-creation time, ``first_ms`` = first inference, ``latency``
pooled over all repeats; statistics the tool does not print stay ``None``) and, in ``extra``:

- ``device``: :class:`~edgeseg.benchmarks.adb.devices.DeviceInfo` as a dict (serial, state, model,
  device, soc, abi, android, sdk, battery_c);
- ``tool``: the binary's file name; ``tool_on_phone``: "set up" (the copy ``devices --setup``
  pushed, same sha256 as the cache, was used) or "pushed for this run"; ``format``: which
  output format was parsed;
  ``command``: the exact device-side command line;
- ``raw_output``: host paths of the saved tool output, one file per repeat (command, exit code,
  stdout, stderr);
- ``repeats``: per-repeat :class:`~edgeseg.benchmarks.adb.parsers.ToolTimings` dicts;
- ``spread``: ``{"mean_ms": [per repeat], "min_ms", "max_ms", "range_pct"}`` across repeats;
- ``temps_c``: device temperature before each repeat; ``cooldown_s``: time spent in the
  thermal gate; ``taskset``, ``threads``, ``delegate``; ``notes``: caveats (e.g. a tool whose
  warm-up count cannot be set).

Failures raise :class:`~edgeseg.benchmarks.base.BenchError` (``DeviceGone`` when the phone vanished)
whose one line names the device, the exit code, the tool's last error line and the saved log.
"""

from __future__ import annotations

import contextlib
import re
import shlex
import statistics
import sys
import tempfile
from pathlib import Path
from typing import ClassVar

from edgeseg.atomic import atomic_path
from edgeseg.benchmarks.adb.binaries import Tool, find_tool
from edgeseg.benchmarks.adb.client import Adb, ShellResult, adb_path, state_error
from edgeseg.benchmarks.adb.devices import device_info
from edgeseg.benchmarks.adb.parsers import ParseError, ToolTimings
from edgeseg.benchmarks.adb.provision import PUSH_DIR, set_up_on_phone
from edgeseg.benchmarks.adb.thermal import device_temp_c, wait_until_cool
from edgeseg.benchmarks.base import BenchError, LatencyStats, Progress, Runner, RunResult
from edgeseg.benchmarks.options import RunRequest
from edgeseg.progress import progress_bar
from edgeseg.sidecar import quant_label, read_sidecar

REMOTE_DIR = "/data/local/tmp/edgeseg"
TOOL_TIMEOUT_S = 900.0
PUSH_TIMEOUT_S = 300.0


class AdbRunner(Runner):
    """Base of the adb runners: subclasses give ``tool``, :meth:`tool_args` and :meth:`parse`."""

    where = "adb"
    tool: ClassVar[Tool]

    def check_available(self) -> None:
        adb_path()

    def tool_args(self, binary: str, model: str, request: RunRequest) -> list[str]:
        raise NotImplementedError

    def parse(self, text: str, request: RunRequest) -> ToolTimings:
        raise NotImplementedError

    def notes(self, request: RunRequest) -> list[str]:
        return []

    def run(
        self, artifact: Path, request: RunRequest, progress: Progress | None = None
    ) -> RunResult:
        """Push, run the tool ``request.timing.repeats`` times, parse, clean up (its own
        progress bar, one step per repeat: the tool reports no steps)."""
        if not artifact.is_file():
            raise BenchError(f"{artifact}: no such file")
        if request.device == "host":
            raise BenchError(f"{self.name} runs on a phone: pass --device SERIAL|ALIAS|all")
        info = device_info(request.device)
        binary, libs = find_tool(self.tool, info.abi, request.phone.runner_path)
        meta = read_sidecar(artifact, missing_ok=True)
        adb = Adb(request.device)
        tool_dir = PUSH_DIR if not libs and set_up_on_phone(adb, binary, info.abi) else REMOTE_DIR
        command = self.command(binary.name, artifact.name, request, tool_dir)
        try:
            adb.shell(f"mkdir -p {REMOTE_DIR}").check("mkdir")
            for local in (artifact, *([binary] if tool_dir == REMOTE_DIR else []), *libs):
                adb.push(local, f"{REMOTE_DIR}/{local.name}", timeout=PUSH_TIMEOUT_S)
            adb.shell(f"chmod 755 {tool_dir}/{shlex.quote(binary.name)}").check("chmod")
            repeats, logs, temps, cooldown = self._measure(
                adb, command, binary.name, artifact, request
            )
        finally:
            _cleanup(adb)
        result = RunResult(
            str(artifact),
            self.name,
            request.device,
            file_bytes=artifact.stat().st_size,
            quantization=quant_label(meta),
        )
        fill_result(result, repeats)
        result.extra = {
            "device": info.as_dict(),
            "tool": binary.name,
            "tool_on_phone": "set up" if tool_dir == PUSH_DIR else "pushed for this run",
            "format": repeats[0].format,
            "command": command,
            "raw_output": [str(p) for p in logs],
            "repeats": [r.as_dict() for r in repeats],
            "spread": spread(repeats),
            "temps_c": temps,
            "cooldown_s": round(cooldown, 1),
            "taskset": request.phone.taskset,
            "threads": request.timing.threads,
            "delegate": request.phone.delegate,
            "notes": self.notes(request),
        }
        return result

    def command(
        self, binary: str, model: str, request: RunRequest, tool_dir: str = REMOTE_DIR
    ) -> str:
        """``LD_LIBRARY_PATH=… [taskset MASK] /data/local/tmp/edgeseg/TOOL ARGS`` (the mask was
        checked by :class:`~edgeseg.benchmarks.options.PhoneOptions`); a tool ``devices --setup``
        left on the phone runs from there (``tool_dir``)."""
        args = self.tool_args(f"{tool_dir}/{binary}", f"{REMOTE_DIR}/{model}", request)
        prefix = [f"LD_LIBRARY_PATH={REMOTE_DIR}"]
        if request.phone.taskset:
            prefix += ["taskset", request.phone.taskset]
        return shlex.join(prefix + args)

    def _measure(self, adb: Adb, command: str, tool: str, artifact: Path, request: RunRequest):
        repeats: list[ToolTimings] = []
        logs: list[Path] = []
        temps: list[float | None] = []
        cooldown = 0.0
        with progress_bar(enabled=sys.stderr.isatty()) as bar:
            total = request.timing.repeats
            task = bar.add_task(f"{self.name} {artifact.name}", total=total, info="")
            max_temp_c = request.phone.max_temp_c
            for i in range(total):
                if max_temp_c is not None:
                    cooldown += wait_until_cool(adb, max_temp_c).waited_s
                temps.append(device_temp_c(adb))
                res = adb.shell(command, timeout=TOOL_TIMEOUT_S)
                logs.append(save_log(res, artifact, self.name, adb.serial or "", i, request))
                repeats.append(self._timings(adb, res, tool, logs[-1], request))
                bar.update(task, advance=1, info=f"{repeats[-1].mean_ms:.2f} ms")
        return repeats, logs, temps, cooldown

    def _timings(
        self, adb: Adb, res: ShellResult, tool: str, log: Path, request: RunRequest
    ) -> ToolTimings:
        """Parse, or explain: device gone, tool crashed (exit code), or output cut short."""
        if res.exit_code == 0:
            try:
                return self.parse(res.stdout + "\n" + res.stderr, request)
            except ParseError as exc:
                _raise_if_gone(adb, tool)
                raise ParseError(f"{tool} on {adb.serial}: {exc} (output: {log})") from exc
        _raise_if_gone(adb, tool)
        lines = (res.stderr.strip() or res.stdout.strip() or "no output").splitlines()
        raise BenchError(
            f"{tool} failed on {adb.serial} (exit {res.exit_code}): {lines[-1][:200]} "
            f"(output: {log})"
        )


def _raise_if_gone(adb: Adb, tool: str) -> None:
    state = adb.get_state()
    if state != "device":
        raise state_error(adb.serial or "?", state, during=tool)


def _cleanup(adb: Adb) -> None:
    """Remove everything pushed; a phone that is gone keeps its files (nothing to do)."""
    with contextlib.suppress(BenchError):
        adb.shell(f"rm -rf {REMOTE_DIR}", timeout=30)


def save_log(
    res: ShellResult, artifact: Path, runner: str, serial: str, i: int, request: RunRequest
) -> Path:
    """The tool's full output on the host, so a surprising number can be checked later."""
    log_dir = request.phone.log_dir
    folder = Path(log_dir) if log_dir else Path(tempfile.gettempdir()) / "edgeseg-adb"
    safe = re.sub(r"[^\w.-]+", "_", serial)
    path = folder / f"{artifact.name}.{runner}.{safe}.r{i}.log"
    with atomic_path(path) as tmp:
        tmp.write_text(
            f"$ adb -s {serial} shell {res.command}\n# exit {res.exit_code}, {res.seconds:.2f} s\n"
            f"# --- stdout\n{res.stdout}\n# --- stderr\n{res.stderr}"
        )
    return path


def fill_result(result: RunResult, repeats: list[ToolTimings]) -> None:
    """Pool the repeats: samples when every repeat has them, else the exactly poolable stats."""
    first = [r.first_ms for r in repeats if r.first_ms is not None]
    init = [r.init_ms for r in repeats if r.init_ms is not None]
    peaks = [r.peak_mem_mb for r in repeats if r.peak_mem_mb is not None]
    result.first_ms = statistics.median(first) if first else None
    result.load_ms = statistics.median(init) if init else None
    result.peak_rss_mb = max(peaks) if peaks else None
    result.latency = pool(repeats)


def pool(repeats: list[ToolTimings]) -> LatencyStats:
    if all(r.samples_ms for r in repeats):
        return LatencyStats.from_samples([s for r in repeats for s in r.samples_ms])
    if len(repeats) == 1:
        r = repeats[0]
        return LatencyStats(
            r.runs or 0, r.mean_ms, r.median_ms, r.p90_ms, r.min_ms, r.max_ms, r.std_ms
        )
    counts = [r.runs or 0 for r in repeats]
    total = sum(counts)
    means = [r.mean_ms for r in repeats]
    mean = sum(n * m for n, m in zip(counts, means)) / total if total else statistics.fmean(means)
    std = None
    if total and all(r.std_ms is not None for r in repeats):  # pooled: within + between repeats
        var = sum(n * (r.std_ms**2 + (r.mean_ms - mean) ** 2) for n, r in zip(counts, repeats))
        std = (var / total) ** 0.5
    mins = [r.min_ms for r in repeats if r.min_ms is not None]
    maxs = [r.max_ms for r in repeats if r.max_ms is not None]
    return LatencyStats(
        total,
        mean,
        None,
        None,
        min(mins) if len(mins) == len(repeats) else None,
        max(maxs) if len(maxs) == len(repeats) else None,
        std,
    )


def spread(repeats: list[ToolTimings]) -> dict:
    means = [r.mean_ms for r in repeats]
    center = statistics.median(means)
    rng = (max(means) - min(means)) / center * 100 if center else 0.0
    return {"mean_ms": means, "min_ms": min(means), "max_ms": max(means), "range_pct": rng}
