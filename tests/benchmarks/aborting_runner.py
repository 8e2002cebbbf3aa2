"""A host runner whose load aborts the process (SIGABRT), as ExecuTorch does on some bad files:
imported by the harness test in the parent and, unpickling the runner, in the measuring child."""

from __future__ import annotations

import os
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
