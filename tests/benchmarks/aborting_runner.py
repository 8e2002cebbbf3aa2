"""Host runners that misbehave like native runtimes: one whose load aborts the process (SIGABRT),
as ExecuTorch does on some bad files, and one whose load never returns. Imported by the harness
tests in the parent and, unpickling the runner, in the measuring child."""

from __future__ import annotations

import os
import time
from pathlib import Path

from edgeseg.benchmarks.base import register_runner
from edgeseg.benchmarks.runners.host import HostRunner, Session


@register_runner
class Aborting(HostRunner):
    name = "test-abort"
    formats = (".abort",)

    def check_file(self, artifact: Path) -> None:
        pass

    def load(self, artifact: Path, threads: int) -> Session:
        print("about to abort like a native runtime")
        os.abort()


@register_runner
class Hanging(HostRunner):
    name = "test-hang"
    formats = (".hang",)

    def check_file(self, artifact: Path) -> None:
        pass

    def load(self, artifact: Path, threads: int) -> Session:
        print("loading for ever", flush=True)
        time.sleep(600)
        raise AssertionError("not reached: the bench that started this child was stopped")
