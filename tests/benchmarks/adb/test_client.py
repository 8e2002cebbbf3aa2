"""edgeseg's adb client, discovery and thermal gate against the real adb and a fake phone."""

from __future__ import annotations

import os

import pytest

from edgeseg.benchmarks.adb import Adb, AdbError, DeviceGone, list_devices, resolve_devices
from edgeseg.benchmarks.adb.devices import device_info
from edgeseg.benchmarks.adb.thermal import wait_until_cool
from edgeseg.benchmarks.base import BenchError
from tests.benchmarks.adb.conftest import PIXEL_7


def test_shell_exit_code_and_separate_stderr(pixel8) -> None:
    res = Adb(pixel8.serial).shell("echo hi && cat /no/such/file")
    assert res.exit_code == 1
    assert res.stdout == "hi\n"
    assert res.stderr == "cat: /no/such/file: No such file or directory\n"
    with pytest.raises(BenchError, match=r"reading failed on the device \(exit 1\): cat: /no/such"):
        res.check("reading")


def test_push_pull_roundtrip_and_missing_file(pixel8, tmp_path) -> None:
    data = os.urandom(300_000)  # several 64 KiB sync chunks and adb packets
    (tmp_path / "blob").write_bytes(data)
    adb = Adb(pixel8.serial)
    adb.push(tmp_path / "blob", "/data/local/tmp/edgeseg-test/blob")
    assert pixel8.host_path("/data/local/tmp/edgeseg-test/blob").read_bytes() == data
    assert adb.pull("/data/local/tmp/edgeseg-test/blob", tmp_path / "back").read_bytes() == data
    with pytest.raises(AdbError, match="failed to stat remote object"):
        adb.pull("/data/local/tmp/nothing", tmp_path / "nothing")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["back", "blob"]  # nothing partial
    adb.shell("rm -rf /data/local/tmp/edgeseg-test").check("rm")


def test_device_info_reads_pixel_properties(pixel8) -> None:
    info = device_info(pixel8.serial)
    assert (info.model, info.device, info.abi) == ("Pixel 8", "shiba", "arm64-v8a")
    assert (info.soc, info.android, info.sdk) == ("Google Tensor G3", "14", "34")
    assert info.battery_c == pytest.approx(31.2) and info.state == "device"


def test_unauthorized_and_offline_devices(pixel8, make_device, adb_server) -> None:
    locked = make_device(authorize=False, want="unauthorized")
    gone = make_device(PIXEL_7)
    gone.vanish()
    adb_server.wait_state(gone.serial, "offline")
    states = {d.serial: d.state for d in list_devices()}
    assert states[locked.serial] == "unauthorized" and states[gone.serial] == "offline"
    assert states[pixel8.serial] == "device"
    with pytest.raises(AdbError, match="is unauthorized: unlock the phone and accept"):
        device_info(locked.serial)
    with pytest.raises(AdbError, match="is offline: reconnect the cable"):
        device_info(gone.serial)
    with pytest.raises(DeviceGone, match="offline"):
        Adb(gone.serial).shell("true")
    assert [d.serial for d in resolve_devices("all")] == [pixel8.serial]  # only ready ones


def test_alias_resolution(pixel8, make_device) -> None:
    pixel7 = make_device(PIXEL_7)
    with pytest.raises(AdbError, match="'PIXEL' is ambiguous, it matches 2 devices") as err:
        resolve_devices("PIXEL")
    assert "Pixel 8, shiba" in str(err.value) and "Pixel 7, panther" in str(err.value)
    assert [d.serial for d in resolve_devices("pixel 7")] == [pixel7.serial]
    assert [d.serial for d in resolve_devices("Shiba")] == [pixel8.serial]
    assert [d.serial for d in resolve_devices(pixel8.serial)] == [pixel8.serial]
    assert {d.serial for d in resolve_devices("all")} == {pixel8.serial, pixel7.serial}
    with pytest.raises(AdbError, match="no Android device matches 'galaxy'"):
        resolve_devices("galaxy")


def test_thermal_gate_waits_then_gives_up(make_device) -> None:
    phone = make_device()
    phone.behaviour.battery_tenths_c = [455, 430, 395]
    cooled = wait_until_cool(Adb(phone.serial), 40.0, timeout_s=10, poll_s=0.01)
    assert (cooled.start_c, cooled.end_c) == (45.5, 39.5)
    phone.behaviour.battery_tenths_c = [470]
    with pytest.raises(BenchError, match=r"still at 47.0 °C after \d+ s \(limit 40 °C\)"):
        wait_until_cool(Adb(phone.serial), 40.0, timeout_s=0.2, poll_s=0.05)


def test_missing_adb_says_how_to_install(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(AdbError, match="adb not found on PATH: install adb .*apt-get install adb"):
        Adb()
