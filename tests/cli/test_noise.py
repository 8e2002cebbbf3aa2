"""No third-party noise before edgeseg's own line (issue 16, class 7), through the real CLI.

torch/torchao/ExecuTorch/LiteRT/onnxruntime warnings, log records and native stderr writes are
captured at the CLI's root (:mod:`edgeseg.noise`) and shown only with ``--debug``/``--verbose``.
Everything is checked at the file-descriptor level (capfd, or a child process's stderr pipe).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import warnings

import pytest

from edgeseg import noise
from edgeseg.cli import main
from edgeseg.errors import ExitCode

SLOW = pytest.mark.skipif(not os.environ.get("EDGESEG_SLOW"), reason="slow: set EDGESEG_SLOW=1")
NOISE = ("Warning", "W1204", "Failed to load", "INFO:", "I0000", "cpuinfo", "torchvision")


def make_noise() -> None:
    """What the libraries do: a native write to fd 2, a FutureWarning from library code, a
    record of a library's logger (no handler: logging's last resort) and a StreamHandler a
    library makes on import, during the command."""
    os.write(2, b"[cpuinfo_utils.cpp:71] native noise\n")
    warnings.warn_explicit("old API", FutureWarning, "/site-packages/lib/x.py", 1)
    logging.getLogger("torchao").warning("Failed to load /x/_C.so")
    lib = logging.getLogger("somelib")
    lib.propagate = False
    handler = logging.StreamHandler()  # binds sys.stderr as it is now
    lib.addHandler(handler)
    try:
        lib.warning("torchvision is not installed. Skipping torchvision::nms")
    finally:
        lib.removeHandler(handler)


def test_captured_keeps_noise_off_fd2_and_keeps_it(capfd) -> None:
    with noise.captured() as hidden:
        make_noise()
        print("edgeseg's own line", file=sys.stderr)
    err = capfd.readouterr().err
    assert "edgeseg's own line" in err
    assert not [n for n in ("native noise", "old API", "Failed", "torchvision") if n in err], err
    kept = "\n".join(hidden.lines())
    for text in ("native noise", "old API", "Failed to load", "torchvision is not installed"):
        assert text in kept, kept


def test_quiet_zone_hides_what_a_library_writes_through_sys_stderr(capfd) -> None:
    """pybind11 modules (ExecuTorch) log through Python's sys.stderr, past the fd capture: inside
    quiet_zone() (a runtime's load, a converter) that is noise; another thread (a progress
    bar) and the code outside the zone still reach the terminal."""
    import threading

    with noise.captured() as hidden:
        with noise.quiet_zone():
            sys.stderr.write("[threadpool.cpp:66] Resetting threadpool\n")
            other = threading.Thread(target=lambda: sys.stderr.write("bar refresh\n"))
            other.start()
            other.join()
        sys.stderr.write("after the zone\n")
    err = capfd.readouterr().err
    assert "threadpool" not in err and "bar refresh" in err and "after the zone" in err
    assert any("Resetting threadpool" in line for line in hidden.lines())


def test_captured_disabled_changes_nothing(capfd) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        with noise.captured(enabled=False) as hidden:
            make_noise()
    err = capfd.readouterr().err  # (pytest itself records warnings and log records)
    assert "native noise" in err and "torchvision is not installed" in err
    assert hidden.lines() == []


def test_fd2_and_sys_stderr_are_restored(capfd) -> None:
    before = sys.stderr
    with noise.captured():
        assert noise.terminal_stderr() is not None
    assert sys.stderr is before and noise.terminal_stderr() is None
    os.write(2, b"after\n")
    assert "after" in capfd.readouterr().err


def _python_default_showwarning(message, category, filename, lineno, file=None, line=None):
    """What Python does with a warning outside pytest: write it to sys.stderr."""
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def test_cli_root_captures_and_verbose_shows(capfd, tmp_path, tiny_checkpoint) -> None:
    """A real command: export to TorchScript (torch.jit warns about its deprecation)."""
    args = ["export", str(tiny_checkpoint), "--target", "torchscript", "--parity-images", "0"]
    with warnings.catch_warnings():
        warnings.simplefilter("always")  # what a fresh process does once per warning
        warnings.showwarning = _python_default_showwarning  # not pytest's recorder
        code = main([*args, "--out", str(tmp_path / "quiet")])
        quiet = capfd.readouterr()
        assert code == ExitCode.OK, quiet.out + quiet.err
        assert not [n for n in NOISE if n in quiet.err], quiet.err
        code = main(["--verbose", *args, "--out", str(tmp_path / "loud")])
        loud = capfd.readouterr()
    assert code == ExitCode.OK, loud.out + loud.err
    assert "DeprecationWarning" in loud.err  # shown with --verbose
    assert "torchscript" in quiet.out


def test_unknown_weights_tag_says_so(capfd) -> None:
    code = main(
        ["distill", "lraspp_mobilenet_v3_small", "--teacher", "lraspp_mobilenet_v3_large:nosuchtag"]
    )
    err = capfd.readouterr().err.strip()
    assert code == ExitCode.BAD_INPUT, err
    assert err.count("\n") == 0, err
    assert "unknown weights tag 'nosuchtag'" in err and "(known: coco_voc)" in err
    assert "not found" not in err


@SLOW
@pytest.mark.timeout(1800)  # three conversions in a fresh process: minutes on a busy machine
def test_fresh_export_to_three_runtimes_prints_no_noise(tmp_path, tiny_checkpoint) -> None:
    """A new process, so every once-per-process warning and C++ log fires: ONNX (torchvision
    "Skipping"), TFLite (absl, XNNPACK INFO) and ExecuTorch (cpuinfo logs, torchao "Failed to
    load"). Without --debug stderr stays empty; with it (ONNX alone), the noise is there."""
    base = [sys.executable, "-m", "edgeseg", "export", str(tiny_checkpoint), "--target"]
    quiet = subprocess.run(
        [*base, "onnx,tflite,executorch", "--parity-images", "1", "--out", str(tmp_path / "q")],
        capture_output=True,
        text=True,
    )
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert quiet.stderr.strip() == "", quiet.stderr
    assert quiet.stdout.count("passed") == 3, quiet.stdout
    debug = subprocess.run(
        [*base, "onnx", "--parity-images", "1", "--out", str(tmp_path / "d"), "--debug"],
        capture_output=True,
        text=True,
    )
    assert debug.returncode == 0, debug.stdout + debug.stderr
    assert [n for n in NOISE if n in debug.stderr], debug.stderr
