"""``edgeseg bench`` runs every row through ``Runner.run(artifact, request, progress)``: host and
phone rows alike, once per artifact × device, each device with its own request."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

import edgeseg.benchmarks.adb
from edgeseg.benchmarks import base
from edgeseg.benchmarks.base import BenchError, Runner, RunResult
from edgeseg.benchmarks.bench import run_bench
from edgeseg.benchmarks.options import BenchOptions, PhoneOptions, RunRequest, TimingOptions

CALLS: list[tuple[str, str, RunRequest, bool]] = []


class SpyHost(Runner):
    name = "test-spy"
    formats = (".spy",)
    where = "host"

    def run(self, artifact: Path, request: RunRequest, progress=None) -> RunResult:
        CALLS.append((self.name, Path(artifact).name, request, callable(progress)))
        if progress:
            progress("latency", 1, 1)
        if Path(artifact).name.startswith("bad"):
            raise BenchError(f"{Path(artifact).name}: refused by the spy")
        return RunResult(str(artifact), self.name, request.device)


class SpyPhone(SpyHost):
    name = "adb-test-spy"
    where = "adb"


@pytest.fixture
def spies(monkeypatch, tmp_path) -> list[Path]:
    """Both spies registered (for this test only), two phones, three artifacts."""
    CALLS.clear()
    for cls in (SpyHost, SpyPhone):
        monkeypatch.setitem(base._RUNNERS, cls.name, cls)
    phones = [SimpleNamespace(serial="PHONE1"), SimpleNamespace(serial="PHONE2")]

    def resolve(selector: str) -> list[SimpleNamespace]:
        return [p for p in phones if selector in ("all", p.serial)]

    monkeypatch.setattr(edgeseg.benchmarks.adb, "resolve_devices", resolve)
    paths = [tmp_path / n for n in ("a.spy", "b.spy", "bad.spy")]
    for path in paths:
        path.write_bytes(b"spy")
    return paths


def test_every_row_is_one_runner_run_call(spies) -> None:
    options = BenchOptions(
        TimingOptions(warmup=0, runs=2, threads=2),
        phone=PhoneOptions(delegate="gpu"),
        devices=("host", "all"),
        progress=False,
    )
    report = run_bench(spies, options)
    rows = {(r.device, Path(r.artifact).name): r for r in report.results}
    assert len(CALLS) == len(report.results) == 3 * 3  # 3 artifacts × (host + 2 phones)
    seen = {(request.device, artifact): name for name, artifact, request, _ in CALLS}
    for device in ("host", "PHONE1", "PHONE2"):
        for artifact in ("a.spy", "b.spy", "bad.spy"):
            runner = "test-spy" if device == "host" else "adb-test-spy"
            assert seen[(device, artifact)] == runner
            row = rows[(device, artifact)]
            assert row.runner == runner and row.status == ("failed" if "bad" in artifact else "ok")
    assert rows[("PHONE2", "bad.spy")].reason == "bad.spy: refused by the spy"
    for _, _, request, with_progress in CALLS:
        assert with_progress and request.timing == options.timing
        assert request.phone.delegate == "gpu" and request.macs is False


def test_runner_by_name_on_host_and_phone(spies) -> None:
    options = BenchOptions(devices=("PHONE1", "host"), runner="test-spy", progress=False)
    report = run_bench(spies[:1], options)
    # the host's rows run first and alone (edgeseg.benchmarks.schedule), whatever the order given
    assert sorted((name, request.device) for name, _, request, _ in CALLS) == [
        ("adb-test-spy", "PHONE1"),
        ("test-spy", "host"),
    ]
    assert [r.status for r in report.results] == ["ok", "ok"]


def test_host_runner_refuses_a_phone_request(tmp_path) -> None:
    import edgeseg.benchmarks.runners  # noqa: F401  (register)

    with pytest.raises(BenchError, match="the onnxruntime runner runs on this machine"):
        base.get_runner("onnxruntime").run(tmp_path / "m.onnx", RunRequest(device="PHONE1"))
