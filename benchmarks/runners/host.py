"""What every host runner shares: a loaded :class:`Session`, its tensors, and how it is run.

A host runner checks a file's bytes (:meth:`HostRunner.check_file`), loads it in its runtime with
a thread count (:meth:`HostRunner.load`) and hands back a :class:`Session`: a callable from one
numpy input to one numpy output, plus the input/output tensor descriptions the runtime reports
(how foreign models without a sidecar get fed) and any metadata the file carries inside itself.
:meth:`HostRunner.run` (the Runner protocol, what ``edgeseg bench`` calls) measures in a child
process (:mod:`edgeseg.benchmarks.harness`); the measurement itself (timing, accuracy, RSS) is
:mod:`edgeseg.benchmarks.measure`'s, run there: runners only know their runtime.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from edgeseg.benchmarks.base import BenchError, Progress, Runner, RunResult
from edgeseg.benchmarks.harness import run_isolated
from edgeseg.benchmarks.options import RunRequest
from edgeseg.contract import Quant


@dataclass(frozen=True)
class TensorInfo:
    """One tensor as the runtime reports it; ``shape`` holds -1 for a dynamic axis."""

    shape: tuple[int, ...]
    dtype: str  # numpy dtype name
    quant: Quant | None = None

    @property
    def static(self) -> bool:
        return all(d > 0 for d in self.shape)


@dataclass
class Session:
    """A loaded artifact. ``output`` may be None when the runtime only knows it after a run."""

    fn: Callable[[np.ndarray], np.ndarray]
    input: TensorInfo
    output: TensorInfo | None = None
    meta: dict[str, Any] | None = None  # metadata embedded in the file itself, if any
    quantization: str | None = None  # what the tensors say, for files without metadata
    notes: list[str] = field(default_factory=list)
    handle: Any = None  # the runtime's own object, for MAC counting

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.fn(x)


class HostRunner(Runner):
    """Base of the runners that run an artifact in this machine's Python runtime."""

    where: ClassVar[str] = "host"
    requires: ClassVar[tuple[str, ...]] = ()
    preload: ClassVar[tuple[str, ...]] = ()  # imported before the load timer (default: requires)
    install_hint: ClassVar[str] = ""
    macs_method: ClassVar[str] = ""  # how :meth:`count_macs` counts, said in the report

    def check_available(self) -> None:
        for module in self.requires:
            if importlib.util.find_spec(module) is None:
                raise BenchError(
                    f"the {self.name} runner needs '{module}', which is not installed: "
                    f"{self.install_hint or 'pip install ' + module}"
                )

    def import_runtime(self) -> None:
        """Import the runtime up front: load time is the model's, not Python's import time."""
        for module in self.preload or self.requires:
            importlib.import_module(module)

    def load(self, artifact: Path, threads: int) -> Session:
        raise NotImplementedError

    def count_macs(self, artifact: Path, session: Session) -> int | None:
        """Multiply-accumulates of one inference, or None when this format cannot tell."""
        return None

    def run(
        self, artifact: Path, request: RunRequest, progress: Progress | None = None
    ) -> RunResult:
        """Measure ``artifact`` in a child process of its own (:mod:`edgeseg.benchmarks.harness`):
        a runtime that aborts, hangs past ``request.timing.timeout_s`` or keeps memory costs one
        failed row, and the peak RSS is this artifact's alone."""
        if request.device != "host":
            raise BenchError(
                f"the {self.name} runner runs on this machine: device 'host', not "
                f"'{request.device}'"
            )
        return run_isolated(self, artifact, request, progress)


def read_magic(artifact: Path, size: int = 16) -> bytes:
    """The first ``size`` bytes, or a :class:`BenchError` naming the file."""
    if not artifact.is_file():
        raise BenchError(f"{artifact}: no such file")
    with artifact.open("rb") as f:
        return f.read(size)


def quant_of(scale: float, zero_point: int) -> Quant | None:
    """A runtime's (scale, zero point) pair as :class:`Quant`; scale 0 means not quantised."""
    return Quant(float(scale), int(zero_point)) if scale else None
