"""Temperatures and the thermal gate: phones throttle when hot, so back-to-back runs drift.

Battery temperature (``dumpsys battery``, tenths of °C) is readable on every phone without root
and moves slowly, which makes it a good gate; thermal zones (``/sys/class/thermal/*/temp``,
millidegrees on most kernels, some unreadable) are the fallback. :func:`wait_until_cool` polls
until the device is below the limit, or gives up with an error after a timeout.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from edgeseg.benchmarks.base import BenchError
from edgeseg.progress import progress_bar

if TYPE_CHECKING:
    from edgeseg.benchmarks.adb.client import Adb


def battery_temp_c(adb: Adb) -> float | None:
    match = re.search(r"^\s*temperature:\s*(-?\d+)", adb.shell("dumpsys battery").stdout, re.M)
    return int(match.group(1)) / 10 if match else None


def zone_temps_c(adb: Adb) -> list[float]:
    """Readable thermal zones in °C; implausible values (disabled sensors) are dropped."""
    out = adb.shell("cat /sys/class/thermal/thermal_zone*/temp").stdout  # unreadable ones: stderr
    temps = []
    for token in out.split():
        if token.lstrip("-").isdigit():
            value = int(token) / (1000 if abs(int(token)) >= 1000 else 1)
            if 0 < value < 150:
                temps.append(value)
    return temps


def device_temp_c(adb: Adb) -> float | None:
    """Battery temperature, else the hottest thermal zone, else None."""
    battery = battery_temp_c(adb)
    if battery is not None:
        return battery
    zones = zone_temps_c(adb)
    return max(zones) if zones else None


@dataclass
class CoolDown:
    start_c: float
    end_c: float
    waited_s: float


def wait_until_cool(
    adb: Adb, max_c: float, timeout_s: float = 600.0, poll_s: float = 10.0
) -> CoolDown:
    """Block until the device is below ``max_c`` °C; :class:`BenchError` after ``timeout_s``."""
    start = time.monotonic()
    temp = device_temp_c(adb)
    if temp is None:
        raise BenchError(
            f"{adb.serial}: no readable battery or thermal-zone temperature; run without --max-temp"
        )
    first = temp
    with progress_bar(enabled=sys.stderr.isatty() and temp >= max_c) as bar:
        task = bar.add_task(f"cooling {adb.serial}", total=None, info="")
        while temp >= max_c:
            waited = time.monotonic() - start
            if waited >= timeout_s:
                raise BenchError(
                    f"{adb.serial} still at {temp:.1f} °C after {waited:.0f} s (limit "
                    f"{max_c:g} °C): let it cool, or raise --max-temp"
                )
            bar.update(task, info=f"{temp:.1f} °C ≥ {max_c:g} °C")
            time.sleep(min(poll_s, max(0.0, timeout_s - waited)))
            temp = device_temp_c(adb)
            temp = first if temp is None else temp
    return CoolDown(first, temp, time.monotonic() - start)
