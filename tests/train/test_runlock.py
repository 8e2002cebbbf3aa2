"""One writer per run folder: a live run holds its folder, a killed one leaves no lock behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from edgeseg.cli import main
from edgeseg.errors import OutputPathError
from edgeseg.runlock import LOCK_NAME, run_lock
from edgeseg.train import fit
from tests.cli.test_errors import TRAIN, assert_one_line
from tests.train.test_fit import tiny_cfg

HOLD = (
    "import sys, time; from pathlib import Path; from edgeseg.runlock import run_lock\n"
    "with run_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(120)\n"
)


def hold(folder: Path) -> subprocess.Popen:
    """Another process that holds ``folder``'s run lock until it is killed."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_live_writer_refuses_a_second_run_and_a_killed_one_does_not(tmp_path, capsys) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    earlier = folder / "history.jsonl"
    earlier.write_text('{"epoch": 60, "miou": 0.5}\n')
    holder = hold(folder)
    try:
        with pytest.raises(OutputPathError, match=f"another run .PID {holder.pid}. is writing"):
            fit(tiny_cfg(folder, epochs=1))
        code = main([*TRAIN, "--data", "sample", "--out", str(folder)])
        err = capsys.readouterr().err.strip()
        assert_one_line(code, err, str(folder), f"PID {holder.pid}", "another --out")
        assert earlier.read_text() == '{"epoch": 60, "miou": 0.5}\n'  # the live run's results
        assert sorted(p.name for p in folder.iterdir()) == [LOCK_NAME, "history.jsonl"]
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    result = fit(tiny_cfg(folder, epochs=1))  # a killed writer's lock went with it
    assert result.best_path.is_file() and not (folder / LOCK_NAME).exists()
    assert earlier.read_text().startswith('{"epoch": 1,')  # a rerun writes its own history


def test_the_lock_is_released_on_an_exception_and_taken_again(tmp_path) -> None:
    with pytest.raises(RuntimeError), run_lock(tmp_path):
        with pytest.raises(OutputPathError), run_lock(tmp_path):  # same process, second writer
            pass
        raise RuntimeError
    with run_lock(tmp_path):
        assert (tmp_path / LOCK_NAME).read_text() == str(os.getpid())
    assert not (tmp_path / LOCK_NAME).exists()
