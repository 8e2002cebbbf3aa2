"""Which runner a phone row gets (tool cached → app installed → download → one line), and
``edgeseg devices --check``, against the real adb and fake phones."""

from __future__ import annotations

import hashlib
import json
import shutil
from importlib import metadata

import pytest

from edgeseg.benchmarks.adb.provision import PUSH_DIR, provision, push
from edgeseg.benchmarks.adb.readiness import app_pins
from edgeseg.cli import main
from tests.benchmarks.adb.test_provision import TOOL, make_mirror

FAST = ["--runs", "2", "--warmup", "0", "--quiet"]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGESEG_RUNNERS", str(tmp_path / "cache"))
    monkeypatch.delenv("EDGESEG_RUNNERS_FROM", raising=False)
    return tmp_path / "cache"


def bench_rows(capsys, tmp_path, *args: str) -> tuple[int, list[dict], str]:
    out = tmp_path / "rows.json"
    code = main(["bench", *args, *FAST, "--json", str(out)])
    text = capsys.readouterr()
    rows = json.loads(out.read_text())["records"] if out.is_file() else []
    return code, rows, text.out + text.err


def test_app_when_no_tool_else_one_line_naming_both(
    make_device, cache, onnx_model, runner_dir, tmp_path, capsys
) -> None:
    with_app, bare = make_device(), make_device()
    bare.behaviour.app_installed = False
    args = [str(onnx_model), "--device", with_app.serial, "--device", bare.serial]
    code, rows, text = bench_rows(capsys, tmp_path, *args)
    assert code == 3, text  # one row failed
    by_device = {r["device"]: r for r in rows}
    app_row, none_row = by_device[with_app.serial], by_device[bare.serial]
    assert (app_row["runner"], app_row["status"]) == ("app", "ok"), app_row["reason"]
    assert with_app.shell.apps.starts and app_row["latency"]["runs"] == 2
    assert none_row["status"] == "failed" and bare.shell.apps.starts == []
    reason = none_row["reason"]
    assert (
        "neither onnxruntime_perf_test (arm64-v8a) is cached nor the demo app installed" in reason
    )
    assert f"`edgeseg devices --setup --device {bare.serial}" in reason
    assert f"`edgeseg android-demo install --device {bare.serial}`" in reason
    # with the tool in the cache, the tool wins over the installed app
    (cache / "arm64-v8a").mkdir(parents=True)
    shutil.copy(runner_dir / "arm64-v8a" / "onnxruntime_perf_test", cache / "arm64-v8a")
    code, rows, text = bench_rows(capsys, tmp_path, str(onnx_model), "--device", with_app.serial)
    assert code == 0 and rows[0]["runner"] == "adb-onnxruntime", text


def test_first_tflite_use_downloads_the_tool(
    make_device, cache, tflite_model, onnx_model, tmp_path, capsys
) -> None:
    """A foreign model (no sidecar) never goes to the app, even when it is installed."""
    phone = make_device()
    assert not tflite_model.with_name(tflite_model.name + ".json").exists()
    bare = tmp_path / "bare.onnx"
    shutil.copy(onnx_model, bare)
    code, rows, text = bench_rows(capsys, tmp_path, str(bare), "--device", phone.serial)
    assert code == 3 and rows[0]["status"] == "failed"
    assert "the demo app needs the model's sidecar (bare.onnx.json)" in rows[0]["reason"]
    mirror = make_mirror(tmp_path / "mirror")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDGESEG_RUNNERS_FROM", mirror.as_uri())
        code, rows, text = bench_rows(capsys, tmp_path, str(tflite_model), "--device", phone.serial)
    assert code == 0, text
    assert (rows[0]["runner"], rows[0]["status"]) == ("adb-tflite", "ok")
    assert (cache / "arm64-v8a" / "benchmark_model").read_bytes() == TOOL
    assert phone.shell.runs[-1]["tool"] == "benchmark_model" and phone.shell.apps.starts == []
    # cached, then pushed once to the phone: the run used that copy instead of pushing again
    assert rows[0]["extra"]["tool_on_phone"] == "set up"
    assert f"{PUSH_DIR}/benchmark_model --graph=" in rows[0]["extra"]["command"]
    assert phone.host_path(f"{PUSH_DIR}/benchmark_model").read_bytes() == TOOL


def test_devices_check_json_and_table(make_device, cache, tmp_path, capsys) -> None:
    phone = make_device()
    phone.behaviour.thermal_status, phone.behaviour.free_kb = 3, 500 * 1024
    locked = make_device(authorize=False, want="unauthorized")
    mirror = make_mirror(tmp_path / "mirror")
    from edgeseg.benchmarks.adb import Adb

    (item,) = provision("arm64-v8a", str(mirror), progress=False)
    push(Adb(phone.serial), item)
    args = ["devices", "--check", "--device", phone.serial, "--device", locked.serial]
    assert main([*args, "--json"]) == 0
    report = {r["serial"]: r for r in json.loads(capsys.readouterr().out)}
    assert (
        report[locked.serial]["ready"] is False and report[locked.serial]["state"] == "unauthorized"
    )
    r = report[phone.serial]
    assert (r["abi"], r["thermal"], r["free_mb"], r["battery_pct"], r["temp_c"]) == (
        "arm64-v8a",
        "severe",
        500.0,
        81,
        31.2,
    )
    assert r["app"]["installed"] and r["app"]["pins"] == app_pins()
    tflite, et, ort = (r["runtimes"][k] for k in ("tflite", "executorch", "onnxruntime"))
    assert tflite["cached"] == str(cache / "arm64-v8a" / "benchmark_model")
    assert (tflite["version"], tflite["pushed"]) == ("nightly", "yes")
    assert tflite["sha256"] == hashlib.sha256(TOOL).hexdigest()
    assert tflite["will_use"].startswith("adb-tflite (benchmark_model cached")
    assert et["cached"] is None and et["will_use"].startswith("app (demo app installed")
    assert et["app_version"] == phone.behaviour.app_version_name.split("executorch ")[1][:5]
    try:
        host_et = metadata.version("executorch")
    except metadata.PackageNotFoundError:
        host_et = None
    assert et["exporter_version"] == host_et
    same = host_et is not None and host_et.split(".")[:2] == et["app_version"].split(".")[:2]
    assert et["app_vs_exporter"] == ("same" if same else "differs" if host_et else "unknown")
    assert ort["pushed"] == "no"
    phone.behaviour.app_version_name = "0.1.0"  # an app built before it named its runtimes
    assert main(["devices", "--check", "--device", phone.serial, "--json"]) == 0
    (older,) = json.loads(capsys.readouterr().out)
    assert older["app"]["installed"] and older["runtimes"]["executorch"]["app_version"] is None
    assert older["runtimes"]["executorch"]["app_vs_exporter"] == "unknown"
    # a phone whose pushed copy is another build says so; the table shows the same facts
    phone.host_path(f"{PUSH_DIR}/benchmark_model.sha256").write_text("0" * 64 + "\n")
    assert main(args) == 0
    table = capsys.readouterr().out
    row = next(line for line in table.splitlines() if phone.serial in line and "severe" in line)
    assert "arm64-v8a" in row and "500" in row and "81%" in row
    tflite_row = next(line for line in table.splitlines() if "tflite" in line)
    assert "nightly" in tflite_row and "stale" in tflite_row
    assert "unauthorized" in table
