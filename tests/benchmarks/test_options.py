"""Bench options check themselves when they are made: each bound is one line naming the option,
its value and what is valid; ``edgeseg bench`` prints it and exits 2 before anything runs."""

from __future__ import annotations

import dataclasses

import pytest

from edgeseg.benchmarks.base import BenchError
from edgeseg.benchmarks.options import (
    MAX_THREADS,
    PHONE_IMAGES,
    AccuracyOptions,
    BenchOptionError,
    BenchOptions,
    FeedOptions,
    PhoneOptions,
    RunRequest,
    TimingOptions,
)
from edgeseg.cli import main
from edgeseg.errors import ConfigError

BAD = [
    (TimingOptions, {"warmup": -1}, "--warmup -1 is out of range: must be ≥ 0"),
    (TimingOptions, {"runs": 0}, "--runs 0 is out of range: --threads, --runs and --images"),
    (TimingOptions, {"threads": 0}, "--threads 0 is out of range"),
    (TimingOptions, {"threads": 100000}, "--threads 100000 is out of range: --threads, --runs"),
    (TimingOptions, {"threads": MAX_THREADS + 1}, f"--threads {MAX_THREADS + 1} is out of range"),
    (TimingOptions, {"runs": 2.5}, "--runs 2.5 is out of range"),
    (TimingOptions, {"repeats": 0}, "--repeats 0 is out of range: must be ≥ 1"),
    (TimingOptions, {"timeout_s": 0}, "--timeout 0 is out of range: must be > 0 seconds"),
    (TimingOptions, {"timeout_s": float("nan")}, "--timeout nan is out of range"),
    (AccuracyOptions, {"images": 0}, "--images 0 is out of range: --threads, --runs and --images"),
    (AccuracyOptions, {"split": ""}, "--split '' is not a split name"),
    (AccuracyOptions, {"data": " "}, "--data ' ' is not a dataset"),
    (AccuracyOptions, {"overlays": -1}, "--overlays -1 is out of range: ≥ 0"),
    (AccuracyOptions, {"overlays": 3}, "--overlays 3 needs a folder to write them to"),
    (AccuracyOptions, {"images": 5}, "--images 5 needs --data (the labelled mIoU images)"),
    (AccuracyOptions, {"split": "train"}, "--split 'train' needs --data"),
    (AccuracyOptions, {"class_map": "m.json"}, "--class-map 'm.json' needs --data"),
    (FeedOptions, {"mean": (0.5, 0.5)}, "--mean (0.5, 0.5) is not 3 numbers r,g,b"),
    (FeedOptions, {"std": (0.5, 0.0, 0.5)}, "--std (0.5, 0.0, 0.5) is out of range: each must be"),
    (FeedOptions, {"classes": ""}, "--classes '' is not a class list"),
    (PhoneOptions, {"delegate": "tpu"}, "--delegate 'tpu' is not a delegate (valid: xnnpack |"),
    (PhoneOptions, {"taskset": "big"}, "--taskset 'big' is not a hex CPU mask (e.g. f0)"),
    (PhoneOptions, {"max_temp_c": 0}, "--max-temp 0 is out of range: °C above 0 and below 100"),
    (RunRequest, {"device": ""}, "--device '' is not host or a phone"),
    (RunRequest, {"timing": {"runs": 3}}, "timing is a dict, not TimingOptions"),
    (BenchOptions, {"devices": ()}, "--device () is not host, SERIAL, ALIAS or all"),
    (BenchOptions, {"runner": ""}, "--runner '' is empty"),
    (BenchOptions, {"phone": PhoneOptions("gpu")}, "--delegate 'gpu' applies to phone rows only"),
    (
        BenchOptions,
        {"phone": PhoneOptions(runner_path="tools")},
        "--runner-path 'tools' applies to phone rows only",
    ),
]


@pytest.mark.parametrize("kind, values, message", BAD)
def test_each_bound_is_one_typed_line(kind, values, message) -> None:
    with pytest.raises(BenchOptionError) as err:
        kind(**values)
    text = str(err.value)
    assert text.startswith(message) and len(text.splitlines()) == 1, text
    assert isinstance(err.value, BenchError) and isinstance(err.value, ConfigError)


def test_edges_are_valid_and_checked_values_stay_checked() -> None:
    timing = TimingOptions(warmup=0, runs=1, threads=MAX_THREADS, repeats=1, timeout_s=None)
    assert timing.threads == MAX_THREADS
    with pytest.raises(dataclasses.FrozenInstanceError):
        timing.threads = 100000  # type: ignore[misc]
    with pytest.raises(BenchOptionError, match=f"--threads 100000 .* at most {MAX_THREADS}$"):
        dataclasses.replace(timing, threads=100000)
    assert FeedOptions(mean=[0, 0, 0], std=[1, 1, 1]).mean == (0.0, 0.0, 0.0)  # lists → tuples
    assert AccuracyOptions().phone_images == PHONE_IMAGES
    assert AccuracyOptions(data="sample", images=4).phone_images == 4
    assert AccuracyOptions().images is None
    assert PhoneOptions(taskset="0xF0", max_temp_c=40.0).taskset == "0xF0"


def test_bench_options_make_each_devices_request() -> None:
    options = BenchOptions(
        TimingOptions(runs=3),
        AccuracyOptions(data="sample"),
        devices="host",
        roofline=True,
    )
    assert options.devices == ("host",)
    request = options.request("SERIAL", ("a", "b"))
    assert (request.device, request.data_classes, request.macs) == ("SERIAL", ("a", "b"), True)
    assert request.timing is options.timing and request.accuracy is options.accuracy
    assert BenchOptions().request("host").macs is False
    phones = BenchOptions(phone=PhoneOptions("gpu", runner_path="tools"), devices=("host", "all"))
    assert phones.request("SERIAL").phone.delegate == "gpu"  # any phone row takes them


@pytest.fixture
def nothing_runs(monkeypatch):
    """Fail the test if ``edgeseg bench`` gets as far as benchmarking (or measuring) anything."""
    import edgeseg.benchmarks.bench
    import edgeseg.benchmarks.runners.host

    def refuse(*args, **kwargs):
        raise AssertionError("the bench started although an option is out of range")

    monkeypatch.setattr(edgeseg.benchmarks.bench, "run_bench", refuse)
    monkeypatch.setattr(edgeseg.benchmarks.runners.host, "run_isolated", refuse)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--threads", "100000"], "--threads 100000 is out of range"),
        (["--threads", "0"], "--threads 0 is out of range"),
        (["--warmup", "-1"], "--warmup -1 is out of range"),
        (["--runs", "0"], "--runs 0 is out of range"),
        (["--images", "0"], "--images 0 is out of range"),
        (["--timeout", "0"], "--timeout 0.0 is out of range"),
        (["--std", "0.5,0,0.5"], "--std (0.5, 0.0, 0.5) is out of range"),
        (["--delegate", "tpu"], "--delegate 'tpu' is not a delegate"),
        (["--delegate", "gpu"], "--delegate 'gpu' applies to phone rows only: add --device"),
        (["--images", "5"], "--images 5 needs --data"),
    ],
)
def test_cli_refuses_before_anything_runs(nothing_runs, tmp_path, capsys, args, message) -> None:
    model = tmp_path / "m.onnx"
    model.write_bytes(b"not even read")
    assert main(["bench", str(model), "--quiet", *args]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith(f"error: {message}") and len(err.splitlines()) == 1, err
    assert captured.out == ""


def test_a_broken_class_map_fails_before_any_row(tmp_path) -> None:
    from edgeseg.benchmarks.options import AccuracyOptions

    bad = tmp_path / "map.json"
    bad.write_text("{not json")
    with pytest.raises(BenchOptionError, match="--class-map: .* is not valid JSON"):
        AccuracyOptions(data="sample", class_map=str(bad))
    with pytest.raises(BenchOptionError, match="does not exist"):
        AccuracyOptions(data="sample", class_map=str(tmp_path / "none.json"))
