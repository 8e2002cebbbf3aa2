"""The ``app`` runner: the Android demo app's bench mode over adb (``edgeseg bench --runner app``).

The app runs a model the way users will run it (same sidecar contract, same runtime and delegate
code as the live camera view), so this runner answers what the tool runners cannot: how fast the
model is *in the app*, and how accurate it is *on the phone*. The protocol is
``android_demo/BENCH_MODE.md``; the lifecycle:

1. check the sidecar (the app cannot run a model without one) and that the app is installed;
2. push the artifact + sidecar, and with ``--data`` an evaluation set (:mod:`.evalset`), into a
   fresh folder under the app's files dir;
3. ``am start`` bench mode, poll ``status.json`` (the app's exit status) until it is not
   ``running``. A status stuck at ``running`` while the app's process is gone is a native crash
   (``adb logcat -b crash`` has it); a live process past the timeout is stopped;
4. pull the run folder, map ``result.json`` onto a :class:`~edgeseg.benchmarks.base.RunResult`
   (field mapping in BENCH_MODE.md), score the phone's masks against the labels, run the same
   artifact on the host over the same pictures, and report the difference;
5. remove everything pushed and written on the phone.

``RunResult.miou``/``per_class_iou`` are the **on-device** numbers. ``extra`` holds: ``device``
(DeviceInfo dict), ``app_device`` (the app's own device block), ``runtime``, ``delegate``,
``threads``, ``temps_c``/``cooldown_s`` (the thermal gate), ``notes``, ``run_id``, ``command`` (the
``am start`` line), ``pulled`` (host folder of the
pulled run, masks included), ``memory`` (before load / after runs, kB), ``samples_ms``,
``preprocess_ms_mean``, ``postprocess_ms_mean``, and with ``--data``: ``data``, ``image_indices``,
``host_miou``, ``miou_delta`` (on-device − host; negative: the port loses accuracy),
``pixel_agreement`` (share of pixels where phone and host masks agree) or ``accuracy_note``
when the host side could not run; on a crash, ``crash_log``.
"""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from edgeseg.app_protocol import BENCH_ACTIVITY, PACKAGE, read_bench_result
from edgeseg.atomic import scratch_dir
from edgeseg.benchmarks.adb.client import Adb, adb_path
from edgeseg.benchmarks.adb.devices import DeviceInfo, device_info
from edgeseg.benchmarks.adb.evalset import EvalSet, build_eval_set, fill_accuracy
from edgeseg.benchmarks.adb.thermal import device_temp_c, wait_until_cool
from edgeseg.benchmarks.base import (
    BenchError,
    LatencyStats,
    Progress,
    Runner,
    RunResult,
    register_runner,
)
from edgeseg.benchmarks.options import RunRequest
from edgeseg.errors import EdgesegError
from edgeseg.progress import progress_bar
from edgeseg.quantization import read_label
from edgeseg.sidecar import quant_label, sidecar_path
from edgeseg.sidecar import read_sidecar as read_contract

FILES = f"/sdcard/Android/data/{PACKAGE}/files"  # the app's getExternalFilesDir(null)
# edgeseg's --delegate → the app's delegate extra, per runtime (BENCH_MODE.md's table).
DELEGATES = {
    ".tflite": {"xnnpack": "cpu", "cpu": "cpu", "gpu": "gpu", "nnapi": "nnapi"},
    ".onnx": {"xnnpack": "cpu", "cpu": "cpu", "nnapi": "nnapi"},
    ".pte": {"xnnpack": "cpu", "cpu": "cpu"},
}
LATENCY_KEYS = ("runs", "mean_ms", "median_ms", "p90_ms", "min_ms", "max_ms", "std_ms")


@register_runner
class App(Runner):
    name = "app"
    formats = (".tflite", ".pte", ".onnx")
    where = "adb"
    by_suffix = False  # opt-in: the tool runners stay the default for phones
    start_timeout_s: float = 60.0  # am start → first status.json
    timeout_s: float = 900.0  # first status.json → ok/failed
    poll_s: float = 0.25

    def check_available(self) -> None:
        adb_path()

    def run(
        self, artifact: Path, request: RunRequest, progress: Progress | None = None
    ) -> RunResult:
        """Bench mode on ``request.device`` (its own progress bar: the app reports no steps)."""
        meta = self._check(artifact, request)
        info = device_info(request.device)
        adb = Adb(request.device)
        require_installed(adb, info)
        run_id = f"edgeseg-{uuid.uuid4().hex[:10]}"
        stage, out_dir = f"{FILES}/edgeseg/{run_id}", f"{FILES}/bench/{run_id}"
        with scratch_dir("edgeseg-app") as tmp:
            evalset = None
            data = request.accuracy.data
            if data:
                images = Path(tmp) / "images"
                evalset = build_eval_set(data, request.accuracy.phone_images, meta, images)
            command = am_command(artifact, request, stage, run_id, evalset is not None)
            max_temp_c = request.phone.max_temp_c
            try:
                push(adb, artifact, stage, evalset)
                gate = wait_until_cool(adb, max_temp_c) if max_temp_c else None
                temp = device_temp_c(adb)
                status = self._start_and_wait(adb, command, out_dir, artifact)
                pulled = _pull(adb, out_dir, artifact, request) if status["pull"] else None
            finally:
                with contextlib.suppress(EdgesegError):
                    adb.shell(f"rm -rf {shlex.quote(stage)} {shlex.quote(out_dir)}", timeout=30)
        result = RunResult(
            str(artifact),
            self.name,
            request.device,
            status=status["status"],
            reason=status["reason"],
            file_bytes=artifact.stat().st_size,
            quantization=quant_label(meta),
        )
        result.extra = {
            "device": info.as_dict(),
            "run_id": run_id,
            "command": command,
            "threads": request.timing.threads,
            "delegate": request.phone.delegate,
            "temps_c": [temp],
            "cooldown_s": round(gate.waited_s, 1) if gate else 0.0,
            "notes": notes(request),
            **status.get("extra", {}),
        }
        if pulled is not None:
            fill_from_bench(result, pulled, evalset, artifact, meta)
        return result

    def _check(self, artifact: Path, request: RunRequest) -> dict[str, Any]:
        """Everything that can be refused before touching the phone; returns the sidecar."""
        if not artifact.is_file():
            raise BenchError(f"{artifact}: no such file")
        if artifact.suffix.lower() not in self.formats:
            raise BenchError(f"{artifact.name}: the app runs {', '.join(self.formats)} files")
        if request.device == "host":
            raise BenchError("the app runner runs on a phone: pass --device SERIAL|ALIAS|all")
        app_delegate(artifact, request.phone.delegate)
        try:
            return read_contract(artifact)
        except EdgesegError as exc:  # the app refuses a model without a valid sidecar
            raise BenchError(f"the app cannot run it: {exc}") from exc

    def _start_and_wait(self, adb: Adb, command: str, out_dir: str, artifact: Path) -> dict:
        """Start bench mode and wait for its exit status; a crash or hang becomes a failure."""
        started = adb.shell(command, timeout=60)
        said = (started.stdout + started.stderr).strip()
        if started.exit_code != 0 or re.search(r"^Error", said, re.MULTILINE):
            last = said.splitlines()[-1] if said else f"exit {started.exit_code}"
            raise BenchError(f"`am start` of bench mode failed on {adb.serial}: {last}")
        with progress_bar(enabled=sys.stderr.isatty()) as bar:
            task = bar.add_task(f"app {artifact.name} on {adb.serial}", total=None, info="")
            outcome = wait_for_status(adb, out_dir, self, lambda s: bar.update(task, info=s))
        return outcome


def notes(request: RunRequest) -> list[str]:
    """Options of ``edgeseg bench`` that an app run cannot honour, said rather than ignored."""
    said = []
    if request.phone.taskset:
        said.append("--taskset does not apply to the app (Android schedules its threads)")
    if request.timing.repeats > 1:
        said.append("the app runs bench mode once per artifact; --repeats does not apply")
    return said


def app_delegate(artifact: Path, delegate: str) -> str:
    """edgeseg's ``--delegate`` in the app's words, or an error listing what the runtime has."""
    table = DELEGATES[artifact.suffix.lower()]
    if delegate not in table:
        raise BenchError(
            f"the app has no '{delegate}' delegate for {artifact.suffix} models "
            f"(use: {', '.join(table)})"
        )
    return table[delegate]


def require_installed(adb: Adb, info: DeviceInfo) -> None:
    """``pm path`` lists the APK of an installed package and fails quietly otherwise."""
    found = adb.shell(f"pm path {PACKAGE}", timeout=30)
    if found.exit_code != 0 or "package:" not in found.stdout:
        raise BenchError(
            f"the edgeseg demo app ({PACKAGE}) is not installed on {info.label()}: run "
            f"`edgeseg android-demo install --device {info.serial}`, then retry"
        )


def am_command(artifact: Path, request: RunRequest, stage: str, run_id: str, images: bool) -> str:
    """The exact ``am start`` line of BENCH_MODE.md (absolute model path: no name clashes)."""
    delegate = app_delegate(artifact, request.phone.delegate)
    timing = request.timing
    extras = [
        ("--es", "model", f"{stage}/{artifact.name}"),
        ("--ei", "warmup", str(timing.warmup)),
        ("--ei", "runs", str(timing.runs)),
        ("--es", "delegate", delegate),
        ("--ei", "threads", str(timing.threads)),
        ("--es", "run_id", run_id),
    ]
    if images:
        extras.append(("--es", "images", f"{stage}/images"))
    words = ["am", "start", "-n", BENCH_ACTIVITY]
    for kind, key, value in extras:
        words += [kind, key, value]
    return shlex.join(words)


def push(adb: Adb, artifact: Path, stage: str, evalset: EvalSet | None) -> None:
    adb.shell(f"mkdir -p {shlex.quote(stage)}", timeout=30).check("mkdir")
    for local in (artifact, sidecar_path(artifact)):
        adb.push(local, f"{stage}/{local.name}", timeout=300)
    if evalset is not None:
        adb.push(evalset.folder, f"{stage}/images", timeout=300)


def read_status(adb: Adb, out_dir: str) -> dict[str, Any] | None:
    """``status.json`` (written atomically by the app), or None while it does not exist yet."""
    res = adb.shell(f"cat {shlex.quote(out_dir)}/status.json", timeout=30)
    if res.exit_code != 0:
        return None
    with contextlib.suppress(ValueError):
        status = json.loads(res.stdout)
        return status if isinstance(status, dict) else None
    return None


def app_alive(adb: Adb) -> bool | None:
    """Whether the app's process exists (``pidof``); None where the phone has no pidof."""
    res = adb.shell(f"pidof {PACKAGE}", timeout=30)
    if res.exit_code == 127:
        return None
    return res.exit_code == 0 and bool(res.stdout.strip())


def wait_for_status(adb: Adb, out_dir: str, runner: App, show) -> dict[str, Any]:
    """Poll until ok/failed; a ``running`` status whose process is gone (twice) is a crash."""
    begun = time.monotonic()
    running_since, gone = None, 0
    while True:
        status = read_status(adb, out_dir)
        state = status.get("status") if status else None
        if state in ("ok", "failed"):
            return {"status": state, "reason": str(status.get("reason", "")), "pull": True}
        now = time.monotonic()
        if state == "running":
            running_since = running_since or now
            gone = gone + 1 if app_alive(adb) is False else 0
            if gone >= 2:
                return crashed(adb)
        if running_since is None and now - begun > runner.start_timeout_s:
            return stopped(adb, f"bench mode did not start within {runner.start_timeout_s:g} s")
        if running_since is not None and now - running_since > runner.timeout_s:
            return stopped(adb, f"bench mode still running after {runner.timeout_s:g} s")
        show(f"{state or 'starting'} {now - begun:.0f} s")
        time.sleep(runner.poll_s)


def crashed(adb: Adb) -> dict[str, Any]:
    log = adb.shell("logcat -b crash -d -t 40", timeout=30)
    lines = [ln for ln in log.stdout.splitlines() if PACKAGE in ln or "Fatal signal" in ln]
    reason = (
        f"the app crashed natively on {adb.serial} (status.json stuck at 'running', process "
        f"gone); see `adb -s {adb.serial} logcat -b crash`"
    )
    return {
        "status": "failed",
        "reason": reason,
        "pull": False,
        "extra": {"crash_log": lines[-10:]},
    }


def stopped(adb: Adb, why: str) -> dict[str, Any]:
    """A hung app: stop it so the next run starts clean, and say where to look."""
    with contextlib.suppress(EdgesegError):
        adb.shell(f"am force-stop {PACKAGE}", timeout=30)
    reason = f"{why} on {adb.serial}; app stopped; see `adb -s {adb.serial} logcat -b crash`"
    return {"status": "failed", "reason": reason, "pull": False}


def _pull(adb: Adb, out_dir: str, artifact: Path, request: RunRequest) -> Path:
    """The run folder on the host, kept beside the adb runners' logs for later checks."""
    log_dir = request.phone.log_dir
    folder = Path(log_dir) if log_dir else Path(tempfile.gettempdir()) / "edgeseg-adb"
    safe = re.sub(r"[^\w.-]+", "_", adb.serial or "")
    return adb.pull_dir(out_dir, folder / f"{artifact.name}.app.{safe}.{out_dir.rsplit('/')[-1]}")


def fill_from_bench(
    result: RunResult, folder: Path, evalset: EvalSet | None, artifact: Path, meta: dict
) -> None:
    """``result.json`` → RunResult (BENCH_MODE.md's field mapping), then on-device accuracy."""
    try:
        bench = read_bench_result(folder)
    except EdgesegError as exc:  # a failure before result.json: the status's reason says why
        if result.status != "failed":
            raise BenchError(f"the app on {result.device} said ok but: {exc}") from exc
        bench = {}
    if result.status == "ok" and bench.get("status") != "ok":
        result.status, result.reason = "failed", str(bench.get("reason", "result.json: failed"))
    if bench.get("model_bytes") not in (None, result.file_bytes):
        result.status, result.reason = (
            "failed",
            (
                f"the phone's copy of {artifact.name} is {bench['model_bytes']} bytes, the "
                f"artifact {result.file_bytes}: the push was corrupted, run again"
            ),
        )
    if result.status == "failed":
        result.reason = f"the app on {result.device}: {result.reason}"
    latency = bench.get("latency_ms")
    if isinstance(latency, dict) and latency.get("runs"):
        result.latency = LatencyStats(**{k: latency.get(k) for k in LATENCY_KEYS})
    result.load_ms, result.first_ms = bench.get("load_ms"), bench.get("first_ms")
    peak = (bench.get("memory_after_runs") or {}).get("peak_rss_kb")
    result.peak_rss_mb = peak / 1024 if peak else None
    result.quantization = read_label(bench.get("sidecar_quantization", result.quantization))
    result.extra.update(
        pulled=str(folder),
        app_device=bench.get("device"),
        runtime=bench.get("runtime"),
        memory={k: bench.get(k) for k in ("memory_before_load", "memory_after_runs")},
        samples_ms=bench.get("samples_ms"),
        preprocess_ms_mean=bench.get("preprocess_ms_mean"),
        postprocess_ms_mean=bench.get("postprocess_ms_mean"),
    )
    if result.status == "ok" and evalset is not None:
        fill_accuracy(result, bench.get("masks", []), evalset, artifact, meta)
