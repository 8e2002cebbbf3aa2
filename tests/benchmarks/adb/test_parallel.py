"""Phones in parallel: one worker per phone, one job at a time each; host first or alongside."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from edgeseg.benchmarks.base import RunResult
from edgeseg.benchmarks.options import RunRequest
from edgeseg.benchmarks.schedule import Job, run_jobs
from edgeseg.cli import main

DELAY_S = 2.0  # each fake tool run takes at least this long: the overlap is measurable


def test_two_phones_at_once_finish_faster_than_one_after_the_other(
    make_device, runner_dir, onnx_model, tmp_path, capsys
) -> None:
    phones = [make_device(), make_device()]
    for phone in phones:
        phone.behaviour.tool_delay_s = DELAY_S
    second = tmp_path / "second.onnx"
    second.write_bytes(onnx_model.read_bytes())
    second.with_name("second.onnx.json").write_bytes(
        onnx_model.with_name(onnx_model.name + ".json").read_bytes()
    )
    out = tmp_path / "rows.json"
    devices = [w for p in phones for w in ("--device", p.serial)]
    args = ["--runner-path", str(runner_dir), "--runs", "2", "--warmup", "0", "--quiet"]
    start = time.perf_counter()
    code = main(["bench", str(onnx_model), str(second), *devices, *args, "--json", str(out)])
    wall = time.perf_counter() - start
    table = capsys.readouterr().out
    assert code == 0, table
    rows = json.loads(out.read_text())["records"]
    assert [(r["device"], Path(r["artifact"]).name, r["status"]) for r in rows] == [
        (p.serial, name, "ok") for p in phones for name in (onnx_model.name, "second.onnx")
    ]
    row_s = [r["extra"]["wall_s"] for r in rows]
    assert all(s >= DELAY_S for s in row_s)
    assert wall < sum(row_s) * 0.85, (wall, row_s)  # sequential would be ≥ the sum
    for phone in phones:  # each phone ran its two jobs, one after the other
        assert [r["tool"] for r in phone.shell.runs] == ["onnxruntime_perf_test"] * 2
    # the table groups rows by artifact, each artifact's devices together
    lines = [ln for ln in table.splitlines() if phones[0].serial in ln or phones[1].serial in ln]
    names = ["second" if "second" in ln else "first" for ln in lines]
    assert names == ["first", "first", "second", "second"], table


def _sleepy(log: list, pause: float):
    def one(job: Job) -> RunResult:
        log.append(("start", job.lane, time.perf_counter(), threading.current_thread().name))
        time.sleep(pause)
        log.append(("end", job.lane, time.perf_counter(), threading.current_thread().name))
        return RunResult(str(job.artifact), "test", job.lane)

    return one


def _jobs(lanes: list[str]) -> list[Job]:
    return [Job(i, Path(f"m{i}.onnx"), "x", RunRequest(device=d)) for i, d in enumerate(lanes)]


def test_host_runs_first_alone_unless_alongside() -> None:
    jobs = _jobs(["host", "host", "phone-a", "phone-b", "phone-a"])
    log: list = []
    results = run_jobs(jobs, _sleepy(log, 0.2))
    assert [r.device for r in results] == [j.lane for j in jobs]  # rows keep their order
    host_end = max(t for kind, lane, t, _ in log if kind == "end" and lane == "host")
    phone_start = min(t for kind, lane, t, _ in log if kind == "start" and lane != "host")
    assert host_end <= phone_start
    for lane in ("phone-a", "phone-b"):  # one job at a time per phone, on its own thread
        events = [(k, t, n) for k, ln, t, n in log if ln == lane]
        assert [k for k, _, _ in events] == ["start", "end"] * (len(events) // 2)
        assert len({n for _, _, n in events}) == 1
    log.clear()
    start = time.perf_counter()
    run_jobs(jobs, _sleepy(log, 0.2), host_alongside=True)
    assert time.perf_counter() - start < 0.2 * 5 * 0.7  # three lanes overlapped
    first_phone = min(t for kind, lane, t, _ in log if kind == "start" and lane != "host")
    host_last_end = max(t for kind, lane, t, _ in log if kind == "end" and lane == "host")
    assert first_phone < host_last_end


def test_a_bug_in_one_lane_is_raised_after_the_lanes_stop() -> None:
    def one(job: Job) -> RunResult:
        if job.lane == "b":
            raise RuntimeError("runner bug")
        time.sleep(0.05)
        return RunResult(str(job.artifact), "test", job.lane)

    try:
        run_jobs(_jobs(["a", "b", "a"]), one)
    except RuntimeError as exc:
        assert "runner bug" in str(exc)
    else:
        raise AssertionError("the bug was swallowed")
