"""``edgeseg devices`` against the real adb server and fake phones."""

from __future__ import annotations

import json

from edgeseg.cli import main


def test_devices_table_and_json(pixel8, make_device, capsys) -> None:
    locked = make_device(authorize=False, want="unauthorized")
    assert main(["devices"]) == 0
    table = capsys.readouterr().out
    row = next(line for line in table.splitlines() if pixel8.serial in line)
    for cell in ("Pixel 8", "shiba", "Google Tensor G3", "arm64-v8a", "14 (API 34)", "31.2"):
        assert cell in row
    assert "unauthorized" in next(line for line in table.splitlines() if locked.serial in line)
    assert main(["devices", "--json"]) == 0
    rows = {r["serial"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows[pixel8.serial]["model"] == "Pixel 8" and rows[pixel8.serial]["battery_c"] == 31.2
    assert rows[locked.serial]["state"] == "unauthorized" and rows[locked.serial]["model"] == ""


def test_devices_without_adb_is_one_clear_line(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["devices"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: adb not found on PATH: install adb (Debian/Ubuntu: `apt-get")
    assert len(err.splitlines()) == 1
