"""A fake Android phone for edgeseg's adb tests: real ``adb`` talks to it over loopback TCP."""

from .device import PIXEL_8, FakeDevice

__all__ = ["PIXEL_8", "FakeDevice"]
