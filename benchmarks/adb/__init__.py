"""Benchmarks on Android phones over real ``adb``: device discovery, tools, parsers, runners.

Importing this package registers the ``adb-tflite``, ``adb-executorch`` and ``adb-onnxruntime``
runners and ``app`` (the demo app's bench mode, with on-device mIoU), all ``where="adb"``.
Modules: ``client`` (the adb subprocess wrapper), ``devices`` (discovery and ``--device``
resolution), ``thermal`` (temperatures, the cool-down gate), ``binaries`` (finding the phone-side
tools), ``parsers`` (their output formats), ``session`` (the push/run/parse/clean-up lifecycle and
the ``RunResult.extra`` schema), ``runners``, ``app`` and ``evalset`` (the evaluation set pushed
to the phone and the scoring of its masks).
"""

from edgeseg.benchmarks.adb import app, runners  # noqa: F401  (registers the adb runners)
from edgeseg.benchmarks.adb.client import Adb, AdbError, DeviceGone
from edgeseg.benchmarks.adb.devices import DeviceInfo, list_devices, resolve_devices

__all__ = ["Adb", "AdbError", "DeviceGone", "DeviceInfo", "list_devices", "resolve_devices"]
