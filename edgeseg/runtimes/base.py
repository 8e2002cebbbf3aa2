"""What every runtime shares: a loaded :class:`Session`, its tensors, the :class:`Runtime` base
class, its registry and the one entry point, :func:`load`.

Why one entry point: the export parity check, the artifact teacher, ``edgeseg bench`` and the adb
reference pass used to open files each their own way, so a fix to one (threads, a header check
that keeps a native runtime from aborting the process) missed the others. Now each kind of file
is opened by exactly one :meth:`Runtime.load`, which always looks at the bytes first.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from edgeseg.contract import Quant, dequantize, quantize
from edgeseg.errors import EdgesegError, one_line
from edgeseg.noise import quiet_zone
from edgeseg.runtimes.errors import (
    ArtifactLoadError,
    RuntimeNotInstalled,
    ScoresUnavailable,
)
from edgeseg.utils import class_registrar, pick_by_content, unknown_name_message


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
    runtime: str = ""  # the name of the runtime that opened it (set by :meth:`Runtime.load`)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.fn(x)

    def run(self, x: np.ndarray) -> np.ndarray:
        """One input (the tensor the file takes) → one output, as the runtime returns it."""
        return self.fn(x)

    def run_float(self, x: np.ndarray) -> np.ndarray:
        """Like :meth:`run`, for callers that compare with a float model (parity, teachers): a
        float input is quantized when the graph takes int8/uint8 with a scale, and quantized
        4-D logits come back dequantized (a mask of class ids is returned as it is)."""
        y = np.asarray(self.fn(quantize_input(x, self.input)))
        out = self.output
        if out and out.quant and np.issubdtype(y.dtype, np.integer) and y.ndim == 4:
            y = dequantize(y, out.quant)
        return y


def quantize_input(x: np.ndarray, info: TensorInfo) -> np.ndarray:
    """A float input as a graph that takes int8/uint8 with a scale wants it (anything else as it
    is), with :func:`edgeseg.contract.quantize`: what ``preprocess`` and the phone app do."""
    if info.quant and x.dtype.name != info.dtype and info.dtype in ("int8", "uint8"):
        x = quantize(x, info.quant, info.dtype)
    return np.ascontiguousarray(x)


class Runtime:
    """Base of every runtime. Subclasses set ``name`` (= module name), ``formats`` (suffixes),
    ``requires`` (modules that must import), ``install_hint`` and ``hint`` (what to pass instead
    of a file it refuses), and implement :meth:`check_file` and :meth:`open`."""

    name: ClassVar[str] = ""
    format_name: ClassVar[str] = ""  # the format as ``edgeseg export --target`` says it (or name)
    formats: ClassVar[tuple[str, ...]] = ()
    requires: ClassVar[tuple[str, ...]] = ()
    preload: ClassVar[tuple[str, ...]] = ()  # what :meth:`import_library` imports (or requires)
    install_hint: ClassVar[str] = ""
    hint: ClassVar[str] = "pass a file written by edgeseg export"

    def check_available(self) -> None:
        """Raise :class:`RuntimeNotInstalled` naming the missing module and how to install it."""
        for module in self.requires:
            if importlib.util.find_spec(module) is None:
                raise RuntimeNotInstalled(
                    f"the {self.name} runtime needs '{module}', which is not installed: "
                    f"{self.install_hint or 'pip install ' + module}"
                )

    def import_library(self) -> None:
        """Import the library up front (bench: load time is the model's, not Python's)."""
        for module in self.preload or self.requires:
            importlib.import_module(module)

    def check_file(self, path: Path) -> None:
        """Raise :class:`ArtifactLoadError` unless ``path`` looks like this runtime's format: a
        cheap look at its bytes, before a native loader that might abort on garbage sees it."""
        if not path.exists():
            raise ArtifactLoadError(f"{path}: no such file")

    def open(self, path: Path, threads: int) -> Session:
        raise NotImplementedError

    def open_scores(self, path: Path, threads: int, tensor: str | None) -> Session:
        """Like :meth:`open`, with the output moved to the class scores: ``tensor`` by name, else
        the tensor feeding the graph's final ArgMax/Softmax (see :mod:`edgeseg.runtimes.scores`).
        Formats whose outputs are fixed raise :class:`ScoresUnavailable`."""
        raise ScoresUnavailable(
            f"{path.name}: {self.format_name or self.name} files have their outputs fixed when "
            "written, and the runtime cannot read a tensor inside the graph"
        )

    def load(self, path: Path, threads: int = 1, scores: str | bool = False) -> Session:
        """:meth:`check_file`, then :meth:`open` (``scores``: :meth:`open_scores`, True for the
        automatic tensor, a string to name it); the runtime's own errors become one
        :class:`ArtifactLoadError` naming the file, the runtime and what to do."""
        path = Path(path)
        self.check_file(path)
        try:
            with quiet_zone():  # the library's own logs are noise (edgeseg.noise)
                if scores is False:
                    session = self.open(path, threads)
                else:
                    session = self.open_scores(path, threads, None if scores is True else scores)
        except (ArtifactLoadError, ScoresUnavailable):
            raise
        except EdgesegError as exc:  # already one line that says what to do
            raise ArtifactLoadError(str(exc)) from exc
        except Exception as exc:
            raise self.refuse(path, one_line(exc, 160, typed=False)) from exc
        session.runtime = self.name
        return session

    def refuse(self, path: Path, why: str) -> ArtifactLoadError:
        return ArtifactLoadError(
            f"{path.name} is not a file {self.name} can run ({why}); {self.hint}"
        )


_RUNTIMES: dict[str, type[Runtime]] = {}

register_runtime = class_registrar(_RUNTIMES, "Runtime")
"""Class decorator: register a runtime under its ``name`` (a second use is an error)."""


def runtime_names() -> list[str]:
    return list(_RUNTIMES)


def get_runtime(name: str) -> Runtime:
    if name not in _RUNTIMES:
        raise ArtifactLoadError(unknown_name_message("runtime", name, _RUNTIMES))
    return _RUNTIMES[name]()


def runtime_for(path: str | Path) -> Runtime:
    """The runtime that opens ``path``: by suffix, then by content (:meth:`Runtime.check_file`)
    when several share it (``.pt``: an edgeseg checkpoint or TorchScript)."""
    path = Path(path)
    found = [cls() for cls in _RUNTIMES.values() if path.suffix.lower() in cls.formats]
    known = (s for cls in _RUNTIMES.values() for s in cls.formats)
    return pick_by_content(path, found, known, ("runtime", "opens"), ArtifactLoadError)


def load(
    path: str | Path, threads: int = 1, runtime: str | None = None, scores: str | bool = False
) -> Session:
    """Open ``path`` in ``runtime`` (default: :func:`runtime_for`) with ``threads`` threads.

    ``scores``: output the class scores instead of the graph's output (True: the tensor feeding a
    final ArgMax/Softmax, found in the graph; a string: that tensor) — what a teacher whose graph
    ends in ArgMax is distilled from. :class:`ScoresUnavailable` where the format cannot.

    ``threads`` is the runtime's own setting; for the torch runtimes it is torch's process-wide
    thread count, which a caller that goes on computing in torch may want to restore.
    """
    found = get_runtime(runtime) if runtime else runtime_for(path)
    found.check_available()
    return found.load(Path(path), threads, scores)
