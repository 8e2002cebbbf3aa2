"""What ``edgeseg bench`` is asked, one object per concern, each checked when it is made.

A runner reads only the groups that apply to it, and a bad value fails where it is given —
before a dataset is read, a child process started or a phone touched:

- :class:`TimingOptions` (every runner): warm-up, timed runs, threads, ``repeats`` of the whole
  measurement (phone tools) and ``timeout_s``, after which a host measurement is stopped;
- :class:`AccuracyOptions` (host runners, the ``app`` runner): the labelled dataset for mIoU,
  its split, how many images (all on the host, :data:`PHONE_IMAGES` on a phone unless given),
  the class map, overlays;
- :class:`FeedOptions` (host runners): how to feed a foreign model that has no metadata;
- :class:`PhoneOptions` (adb runners): delegate, CPU mask, thermal gate, tool binaries, where
  the tools' raw output is kept;
- :class:`RunRequest`: what :meth:`~edgeseg.benchmarks.base.Runner.run` receives for one
  artifact on one device: the groups above, the device, and what the bench derives (the
  dataset's classes, whether to count MACs);
- :class:`ScheduleOptions`: whether the host's rows run alongside the phones' (phones always
  run in parallel, one worker each: :mod:`~edgeseg.benchmarks.schedule`);
- :class:`GateOptions`: the pass/fail gates every measured row is judged by (mIoU drop and ratio
  against the artifact's reference, latency), for CI;
- :class:`ReportOptions`: the files the report is written to (``--json/--csv/--plot/--report``),
  checked writable when made, so a bad path fails before a single artifact is measured;
- :class:`BenchOptions`: the run as a whole (devices, runner name, roofline, progress bar) plus
  the groups above; :meth:`BenchOptions.request` makes each device's :class:`RunRequest`.

A value out of range raises :class:`BenchOptionError` (a BenchError and a ConfigError) whose one
line names the option in the command line's spelling (``--threads``; so too the options only the
library takes, e.g. ``--taskset``), the value, and what is valid; ``edgeseg bench`` prints it and
exits 2. The objects are frozen, so a checked value stays checked (``dataclasses.replace``
checks again).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields
from typing import Any

from edgeseg.benchmarks.base import BenchError
from edgeseg.distill.classmap import read_map_file
from edgeseg.errors import ConfigError, DistillError
from edgeseg.outputs import check_output_dir, check_output_file
from edgeseg.utils import MAX_COUNT

MAX_THREADS = 256  # far above any CPU edgeseg targets; 100000 kills runtimes (SIGSEGV)
PHONE_IMAGES = 16  # pictures the app runner pushes when ``images`` is not given
DELEGATES = ("xnnpack", "gpu", "nnapi", "none", "cpu")  # cpu: the app's own word for its CPU path
COUNTS = "--threads, --runs and --images must be whole numbers ≥ 1"


class BenchOptionError(BenchError, ConfigError):
    """A bench option out of its valid range (raised by the option objects themselves)."""


def _require(ok: bool, flag: str, value: Any, rule: str) -> None:
    if not ok:
        raise BenchOptionError(f"{flag} {value!r} {rule}")


def _require_defaults(options: Any, flags: dict[str, str], rule: str) -> None:
    """Each field in ``flags`` (field → flag) still at its declared default, else ``rule``: for
    options that would silently do nothing in this combination."""
    defaults = {f.name: f.default for f in fields(options)}
    for name, flag in flags.items():
        value = getattr(options, name)
        _require(value == defaults[name], flag, value, rule)


def _whole(value: Any, low: int, high: float = MAX_COUNT) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _text(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


@dataclass(frozen=True)
class TimingOptions:
    """How long and how hard to time each artifact."""

    warmup: int = 3  # untimed runs first
    runs: int = 20  # timed runs
    threads: int = 1  # the runtime's inference threads
    repeats: int = 1  # phone tools: the whole measurement again; the spread is reported
    timeout_s: float | None = 1800.0  # host: a measurement still running then is stopped

    def __post_init__(self) -> None:
        _require(_whole(self.warmup, 0), "--warmup", self.warmup, "is out of range: must be ≥ 0")
        _require(_whole(self.runs, 1), "--runs", self.runs, f"is out of range: {COUNTS}")
        _require(
            _whole(self.threads, 1, MAX_THREADS),
            "--threads",
            self.threads,
            f"is out of range: {COUNTS}, and --threads at most {MAX_THREADS}",
        )
        _require(_whole(self.repeats, 1), "--repeats", self.repeats, "is out of range: must be ≥ 1")
        _require(
            self.timeout_s is None or (_number(self.timeout_s) and self.timeout_s > 0),
            "--timeout",
            self.timeout_s,
            "is out of range: must be > 0 seconds (None: no limit)",
        )


@dataclass(frozen=True)
class AccuracyOptions:
    """mIoU through the artifact: which labelled images, and what to keep of them."""

    data: str | None = None  # dataset spec (``camvid:PATH``); None: latency only
    split: str = "val"
    images: int | None = None  # the first N images; None: all (host), PHONE_IMAGES (app)
    class_map: str | None = None  # JSON {"model class": "dataset class" | null}
    overlays: int = 0  # prediction overlays written per artifact
    overlay_dir: str | None = None  # where they go (one folder per artifact inside)

    def __post_init__(self) -> None:
        _require(self.data is None or _text(self.data), "--data", self.data, "is not a dataset")
        _require(_text(self.split), "--split", self.split, "is not a split name (e.g. val)")
        _require(
            self.images is None or _whole(self.images, 1),
            "--images",
            self.images,
            f"is out of range: {COUNTS}",
        )
        _require(_whole(self.overlays, 0), "--overlays", self.overlays, "is out of range: ≥ 0")
        if self.data is None:  # they choose and label the mIoU images: without data, nothing
            _require_defaults(
                self,
                {"split": "--split", "images": "--images", "class_map": "--class-map"},
                "needs --data (the labelled mIoU images)",
            )
        if self.class_map is not None:  # a broken file fails here, not after every row ran
            try:
                read_map_file(self.class_map)
            except DistillError as exc:
                raise BenchOptionError(f"--class-map: {exc}") from exc
        _require(
            not self.overlays or self.overlay_dir is not None,
            "--overlays",
            self.overlays,
            "needs a folder to write them to (overlay_dir)",
        )
        if self.overlay_dir is not None:
            check_output_dir(self.overlay_dir, "--report overlays")

    @property
    def phone_images(self) -> int:
        """How many pictures go to a phone: each is pushed and run there, so not all of them."""
        return self.images or PHONE_IMAGES


@dataclass(frozen=True)
class FeedOptions:
    """Options for models without metadata (ignored, with a note, for those that have it)."""

    mean: tuple[float, ...] | None = None  # r,g,b in 0-1 units
    std: tuple[float, ...] | None = None
    classes: str | None = None  # "voc" | classes.txt | "a,b,c"

    def __post_init__(self) -> None:
        for flag in ("mean", "std"):
            value = getattr(self, flag)
            if value is None:
                continue
            numbers = tuple(value) if isinstance(value, (tuple, list)) else ()
            ok = len(numbers) == 3 and all(_number(v) for v in numbers)
            _require(ok, f"--{flag}", value, "is not 3 numbers r,g,b in 0-1 units")
            positive = flag == "mean" or all(v > 0 for v in numbers)
            _require(positive, f"--{flag}", value, "is out of range: each must be > 0")
            object.__setattr__(self, flag, tuple(float(v) for v in numbers))
        _require(
            self.classes is None or _text(self.classes),
            "--classes",
            self.classes,
            "is not a class list (voc | FILE | a,b,c)",
        )


@dataclass(frozen=True)
class PhoneOptions:
    """How the adb runners run the phone-side tool or app."""

    delegate: str = "xnnpack"  # TFLite/app: xnnpack | gpu | nnapi | none (app also: cpu)
    taskset: str | None = None  # CPU mask the tool is pinned to, e.g. "f0" (big cores)
    max_temp_c: float | None = None  # wait until the device is below this before each run
    runner_path: str | None = None  # the tool binary, or a folder of them (else the ABI cache)
    log_dir: str | None = None  # where the tools' raw output is kept (else a temp folder)

    def __post_init__(self) -> None:
        _require(
            self.delegate in DELEGATES,
            "--delegate",
            self.delegate,
            f"is not a delegate (valid: {' | '.join(DELEGATES)})",
        )
        _require(
            self.taskset is None
            or (isinstance(self.taskset, str) and re.fullmatch(r"(0x)?[0-9a-fA-F]+", self.taskset)),
            "--taskset",
            self.taskset,
            "is not a hex CPU mask (e.g. f0)",
        )
        _require(
            self.max_temp_c is None or (_number(self.max_temp_c) and 0 < self.max_temp_c < 100),
            "--max-temp",
            self.max_temp_c,
            "is out of range: °C above 0 and below 100",
        )


@dataclass(frozen=True)
class ScheduleOptions:
    """How rows are scheduled: phones always in parallel (one worker each, one job at a time per
    phone); the host first and alone (clean timings) unless ``host_alongside``."""

    host_alongside: bool = False  # run host rows concurrently with the phones (noisier host)

    def __post_init__(self) -> None:
        _require(
            isinstance(self.host_alongside, bool),
            "--host-alongside",
            self.host_alongside,
            "is not true or false",
        )


@dataclass(frozen=True)
class GateOptions:
    """Pass/fail gates per artifact × device (None: that gate is off). The mIoU gates compare a
    row's mIoU with its sidecar's reference (the checkpoint's own mIoU on the same images,
    :mod:`edgeseg.reference`); MLPerf Mobile asks ≥ 96–97 % of the fp32 reference."""

    max_miou_drop: float | None = None  # points of mIoU (0-100) the row may lose
    min_miou_ratio: float | None = None  # row mIoU / reference mIoU, at least this
    max_latency_ms: float | None = None  # median latency (mean where no median), at most this

    def __post_init__(self) -> None:
        _require(
            self.max_miou_drop is None
            or (_number(self.max_miou_drop) and 0 <= self.max_miou_drop <= 100),
            "--max-miou-drop",
            self.max_miou_drop,
            "is out of range: mIoU points 0-100",
        )
        _require(
            self.min_miou_ratio is None
            or (_number(self.min_miou_ratio) and 0 < self.min_miou_ratio <= 1),
            "--min-miou-ratio",
            self.min_miou_ratio,
            "is out of range: a ratio above 0 and at most 1 (e.g. 0.97)",
        )
        _require(
            self.max_latency_ms is None
            or (_number(self.max_latency_ms) and self.max_latency_ms > 0),
            "--max-latency-ms",
            self.max_latency_ms,
            "is out of range: milliseconds above 0",
        )

    @property
    def miou(self) -> bool:
        """Whether an mIoU gate is on (it needs --data)."""
        return self.max_miou_drop is not None or self.min_miou_ratio is not None

    @property
    def any(self) -> bool:
        return self.miou or self.max_latency_ms is not None


@dataclass(frozen=True)
class ReportOptions:
    """Where the finished report goes; each path is checked writable before anything runs."""

    json: str | None = None  # the JSON report
    csv: str | None = None
    plot: str | None = None  # accuracy-vs-latency PNG
    html: str | None = None  # self-contained HTML report

    def __post_init__(self) -> None:
        for name, flag in (
            ("json", "--json"),
            ("csv", "--csv"),
            ("plot", "--plot"),
            ("html", "--report"),
        ):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, str(check_output_file(value, flag)))


def _groups(owner: Any) -> None:
    """The option groups of ``owner`` must be the option classes (a dict would skip checks)."""
    for name, kind in (
        ("timing", TimingOptions),
        ("accuracy", AccuracyOptions),
        ("feed", FeedOptions),
        ("phone", PhoneOptions),
    ):
        value = getattr(owner, name)
        if not isinstance(value, kind):
            raise BenchOptionError(f"{name} is a {type(value).__name__}, not {kind.__name__}")


@dataclass(frozen=True)
class RunRequest:
    """One artifact on one device: everything :meth:`Runner.run` may read."""

    device: str = "host"  # "host" or an adb serial
    timing: TimingOptions = field(default_factory=TimingOptions)
    accuracy: AccuracyOptions = field(default_factory=AccuracyOptions)
    feed: FeedOptions = field(default_factory=FeedOptions)
    phone: PhoneOptions = field(default_factory=PhoneOptions)
    macs: bool = False  # count each model's multiply-accumulates (the roofline needs them)
    data_classes: tuple[str, ...] = ()  # the dataset's classes, read once before any timing

    def __post_init__(self) -> None:
        _require(_text(self.device), "--device", self.device, "is not host or a phone")
        _groups(self)
        object.__setattr__(self, "data_classes", tuple(self.data_classes))


@dataclass(frozen=True)
class BenchOptions:
    """One ``edgeseg bench`` call: the option groups, and what applies to the run as a whole."""

    timing: TimingOptions = field(default_factory=TimingOptions)
    accuracy: AccuracyOptions = field(default_factory=AccuracyOptions)
    feed: FeedOptions = field(default_factory=FeedOptions)
    phone: PhoneOptions = field(default_factory=PhoneOptions)
    devices: tuple[str, ...] = ("host",)  # host | SERIAL | ALIAS | all
    runner: str | None = None  # tflite | executorch | onnxruntime | app | any host runner
    roofline: bool = False  # measure the peak GEMM; count MACs
    progress: bool = True
    reports: ReportOptions = field(default_factory=ReportOptions)
    schedule: ScheduleOptions = field(default_factory=ScheduleOptions)
    gates: GateOptions = field(default_factory=GateOptions)

    def __post_init__(self) -> None:
        devices = (self.devices,) if isinstance(self.devices, str) else tuple(self.devices)
        ok = bool(devices) and all(_text(d) for d in devices)
        _require(ok, "--device", self.devices, "is not host, SERIAL, ALIAS or all")
        object.__setattr__(self, "devices", devices)
        _require(self.runner is None or _text(self.runner), "--runner", self.runner, "is empty")
        _groups(self)
        if not isinstance(self.reports, ReportOptions):
            raise BenchOptionError(f"reports is a {type(self.reports).__name__}, not ReportOptions")
        if not isinstance(self.schedule, ScheduleOptions):
            raise BenchOptionError(
                f"schedule is a {type(self.schedule).__name__}, not ScheduleOptions"
            )
        if not isinstance(self.gates, GateOptions):
            raise BenchOptionError(f"gates is a {type(self.gates).__name__}, not GateOptions")
        flag = "--max-miou-drop" if self.gates.max_miou_drop is not None else "--min-miou-ratio"
        _require(
            not self.gates.miou or self.accuracy.data is not None,
            flag,
            self.gates.max_miou_drop if flag == "--max-miou-drop" else self.gates.min_miou_ratio,
            "needs --data: mIoU is measured on a labelled dataset",
        )

        if all(d == "host" for d in devices):  # the phone options would silently do nothing
            _require_defaults(
                self.phone,
                {"delegate": "--delegate", "runner_path": "--runner-path"},
                "applies to phone rows only: add --device SERIAL (or all), or drop it",
            )

    def request(self, device: str, data_classes: tuple[str, ...] = ()) -> RunRequest:
        """The request every artifact on ``device`` is run with."""
        return RunRequest(
            device,
            self.timing,
            self.accuracy,
            self.feed,
            self.phone,
            macs=self.roofline,
            data_classes=data_classes,
        )
