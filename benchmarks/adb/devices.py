"""Which phones are attached, what they are, and which one ``--device`` means.

``adb devices -l`` gives serial and state (device / unauthorized / offline / …); for ready devices
one ``getprop`` call adds model, codename, SoC, ABI and Android version, and ``dumpsys battery``
the battery temperature. ``--device`` takes ``all`` (every ready device), an exact serial, or an
alias matched case-insensitively against ``ro.product.model`` and ``ro.product.device``
(``pixel`` → "Pixel 8"); an alias that matches several devices is an error naming them.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from edgeseg.benchmarks.adb.client import Adb, AdbError, state_error
from edgeseg.benchmarks.adb.thermal import battery_temp_c


@dataclass
class DeviceInfo:
    serial: str
    state: str  # device | unauthorized | offline | authorizing | no permissions | …
    model: str = ""
    device: str = ""  # ro.product.device, the codename ("shiba")
    soc: str = ""
    abi: str = ""
    android: str = ""  # release, e.g. "14"
    sdk: str = ""
    battery_c: float | None = None

    @property
    def ready(self) -> bool:
        return self.state == "device"

    def label(self) -> str:
        name = f"{self.model}, {self.device}" if self.model else self.state
        return f"{self.serial} ({name})"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_devices_l(text: str) -> list[DeviceInfo]:
    """``adb devices -l`` → serial, state and the banner's model/device (spaces come as '_')."""
    found = []
    for line in text.splitlines():
        if not line.strip() or line.startswith(("List of devices", "*")):
            continue
        serial, _, rest = line.partition(" ") if "\t" not in line else line.partition("\t")
        rest = rest.strip()
        state = "no permissions" if rest.startswith("no permissions") else rest.split(" ")[0]
        attrs = dict(re.findall(r"(\w+):(\S+)", rest))
        found.append(
            DeviceInfo(
                serial.strip(),
                state,
                model=attrs.get("model", "").replace("_", " "),
                device=attrs.get("device", ""),
            )
        )
    return found


def parse_getprop(text: str) -> dict[str, str]:
    """``getprop`` with no argument prints ``[key]: [value]`` lines."""
    return dict(re.findall(r"^\[([^\]]+)\]: \[(.*)\]\s*$", text, flags=re.MULTILINE))


def describe(entry: DeviceInfo) -> DeviceInfo:
    """Fill a ready device's properties and battery temperature (one getprop, one dumpsys)."""
    if not entry.ready:
        return entry
    adb = Adb(entry.serial, timeout=20)
    props = parse_getprop(adb.shell("getprop").stdout)
    soc = " ".join(filter(None, (props.get("ro.soc.manufacturer"), props.get("ro.soc.model"))))
    return DeviceInfo(
        entry.serial,
        entry.state,
        model=props.get("ro.product.model", entry.model),
        device=props.get("ro.product.device", entry.device),
        soc=soc or props.get("ro.board.platform", ""),
        abi=props.get("ro.product.cpu.abi", ""),
        android=props.get("ro.build.version.release", ""),
        sdk=props.get("ro.build.version.sdk", ""),
        battery_c=battery_temp_c(adb),
    )


def list_devices() -> list[DeviceInfo]:
    """Every device the adb server knows, ready ones with their properties."""
    return [describe(d) for d in parse_devices_l(Adb().server_call(["devices", "-l"]))]


def device_info(serial: str) -> DeviceInfo:
    """One device by exact serial; an :class:`AdbError` with a hint when it is not ready."""
    adb = Adb(serial, timeout=20)
    state = adb.get_state()
    if state != "device":
        raise state_error(serial, state)
    return describe(DeviceInfo(serial, state))


def _norm(name: str) -> str:
    """Case- and underscore-blind (``adb devices -l`` writes "Pixel 8" as "Pixel_8")."""
    return name.lower().replace("_", " ").strip()


def resolve_devices(selector: str, devices: list[DeviceInfo] | None = None) -> list[DeviceInfo]:
    """``all`` | SERIAL | alias → the ready devices meant; errors say what was listed instead."""
    devices = list_devices() if devices is None else devices
    if selector == "all":
        ready = [d for d in devices if d.ready]
        if not ready:
            listed = ", ".join(f"{d.serial} {d.state}" for d in devices) or "none"
            raise AdbError(f"no ready Android device (listed: {listed}); check `adb devices -l`")
        return ready
    key = _norm(selector)
    names = {d.serial: (_norm(d.model), _norm(d.device)) for d in devices}
    matches = [d for d in devices if d.serial == selector]
    matches = matches or [d for d in devices if key in names[d.serial]]
    matches = matches or [d for d in devices if any(key in n for n in names[d.serial])]
    if not matches:
        listed = ", ".join(d.label() for d in devices) or "none"
        raise AdbError(f"no Android device matches '{selector}' (listed: {listed})")
    if len(matches) > 1:
        names = "; ".join(d.label() for d in matches)
        raise AdbError(
            f"--device '{selector}' is ambiguous, it matches {len(matches)} devices: {names}. "
            "Pass a serial or a more specific name"
        )
    if not matches[0].ready:
        raise state_error(matches[0].serial, matches[0].state)
    return matches
