"""Third-party noise kept off the terminal: warnings, log records and native stderr writes.

Why: in a normal, successful run torch, torchao, ExecuTorch, LiteRT (absl), onnxruntime and
XNNPACK print ``UserWarning``/``FutureWarning``s, "Failed to load …", "torchvision is not
installed. Skipping …" and C++ log lines — noise before (or instead of) edgeseg's own one line.
The CLI runs every command inside :func:`captured`, once, at its root; ``--debug`` and
``--verbose`` leave it off so all of it shows, live, where it happens.

While a command runs, :func:`captured` keeps:

- Python warnings raised outside edgeseg (``warnings.showwarning``);
- log records of every logger (a handler on the root logger, which also silences logging's
  last-resort handler) and whatever a library's own logging handler writes to stderr;
- file descriptor 2 itself: native writes from C++ runtimes and converters, and the stderr of
  child processes, go to a temp file. Python's ``sys.stderr`` — edgeseg's error lines and
  progress bars — is pointed at the real terminal for the duration (a stream that is not fd 2,
  such as pytest's capture, keeps its target), minus what logging handlers write to it.

Nothing is lost for a bug report: :class:`Captured` holds it all, and the CLI says how many lines
it hid when a command ends in an internal error.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import tempfile
import threading
import warnings
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

_OURS = str(Path(__file__).resolve().parent)  # edgeseg's own warnings are meant for the user
_KEEP = 2000  # at most this many Python warnings/records are kept (a long training run)
_NATIVE_TAIL = 1 << 20  # the last MiB of native output is kept
_HANDLE = logging.Handler.handle.__code__  # every logging handler runs under this frame


@dataclass
class Captured:
    """What a command's third-party libraries said while it ran."""

    messages: deque[str] = field(default_factory=lambda: deque(maxlen=_KEEP))  # whole ones
    written: deque[str] = field(default_factory=lambda: deque(maxlen=_KEEP))  # stream chunks
    native: bytes = b""
    terminal_fd: int | None = None  # the real stderr while capturing (for child processes)

    def lines(self) -> list[str]:
        """Every captured line, Python's first, then the native ones."""
        text = "".join(m if m.endswith("\n") else m + "\n" for m in self.messages)
        text += "".join(self.written) + "\n" + self.native.decode("utf-8", errors="replace")
        return [line for line in text.splitlines() if line.strip()]

    def hint(self) -> str:
        """The line a command prints after a crash, so what the libraries said (often the
        cause) is not lost silently; empty when nothing was hidden."""
        count = len(self.lines())
        if not count:
            return ""
        return f"({count} lines of third-party output were hidden; --verbose shows them)"


_current: Captured | None = None
_zone = threading.local()  # .depth > 0: this thread is inside quiet_zone()


def terminal_stderr() -> int | None:
    """The real stderr's fd while a capture runs (None otherwise): what a child process whose
    output the user must see (a Gradle build) is given instead of the captured fd 2."""
    return _current.terminal_fd if _current is not None else None


@contextlib.contextmanager
def quiet_zone() -> Iterator[None]:
    """Mark a call into a native library (a runtime's load, a converter): what this thread
    writes to ``sys.stderr`` meanwhile is the library's, not edgeseg's — pybind11 modules such
    as ExecuTorch's send their C++ logs through Python's ``sys.stderr``, past the fd capture.
    Other threads (a progress bar's refresh) are not affected. Free when nothing captures."""
    depth = getattr(_zone, "depth", 0)
    _zone.depth = depth + 1
    try:
        yield
    finally:
        _zone.depth = depth


@contextlib.contextmanager
def captured(enabled: bool = True) -> Iterator[Captured]:
    """Keep third-party warnings, logs and native stderr off the terminal while the block runs
    (``enabled=False``: change nothing, as under ``--debug``/``--verbose``)."""
    global _current
    box = Captured()
    if not enabled or _current is not None:
        yield box
        return
    _current = box
    try:
        with _python_warnings(box), _log_records(box), _native_stderr(box):
            yield box
    finally:
        _current = None


@contextlib.contextmanager
def _python_warnings(box: Captured) -> Iterator[None]:
    with warnings.catch_warnings():
        show = warnings.showwarning

        def keep(message, category, filename, lineno, file=None, line=None) -> None:
            if str(filename).startswith(_OURS):
                show(message, category, filename, lineno, file, line)
            else:
                box.messages.append(
                    warnings.formatwarning(message, category, filename, lineno, line)
                )

        warnings.showwarning = keep
        yield


class _Keep(logging.Handler):
    def __init__(self, box: Captured) -> None:
        super().__init__(logging.NOTSET)
        self.box = box

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):  # a record that cannot format is still noise
            self.box.messages.append(f"{record.levelname} {record.name}: {record.getMessage()}")


@contextlib.contextmanager
def _log_records(box: Captured) -> Iterator[None]:
    handler, root = _Keep(box), logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)


class _Terminal(io.TextIOBase):
    """``sys.stderr`` while capturing: the real terminal, except for what a logging handler
    writes (a library's own StreamHandler made during the command binds this stream) and what
    is written inside :func:`quiet_zone`."""

    def __init__(self, stream: TextIO, box: Captured) -> None:
        self._stream, self._box = stream, box

    def write(self, text: str) -> int:
        if getattr(_zone, "depth", 0):
            self._box.written.append(text)
            return len(text)
        frame = sys._getframe(1)
        while frame is not None:
            if frame.f_code is _HANDLE:
                self._box.written.append(text)
                return len(text)
            frame = frame.f_back
        return self._stream.write(text)

    def flush(self) -> None:
        self._stream.flush()

    def fileno(self) -> int:
        return self._stream.fileno()

    def isatty(self) -> bool:
        return self._stream.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._stream.encoding

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _is_fd2(stream: Any) -> bool:
    try:
        return stream.fileno() == 2
    except (AttributeError, OSError, ValueError):
        return False


@contextlib.contextmanager
def _native_stderr(box: Captured) -> Iterator[None]:
    """fd 2 → a temp file; ``sys.stderr`` (when it is fd 2) → a copy of the real fd 2."""
    try:
        saved = os.dup(2)
    except OSError:  # no fd 2 at all (a daemon): nothing reaches a terminal anyway
        yield
        return
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    try:
        with tempfile.TemporaryFile() as sink, _python_stderr_to(saved, box):
            os.dup2(sink.fileno(), 2)
            box.terminal_fd = saved
            try:
                yield
            finally:
                os.dup2(saved, 2)
                box.terminal_fd = None
                size = sink.seek(0, os.SEEK_END)
                sink.seek(max(0, size - _NATIVE_TAIL))
                box.native = sink.read()
    finally:
        os.close(saved)


@contextlib.contextmanager
def _python_stderr_to(fd: int, box: Captured) -> Iterator[None]:
    """``sys.stderr`` becomes a :class:`_Terminal` over ``fd`` when it was the fd-2 stream, or
    over itself otherwise (pytest's capture, a redirect), for the block."""
    old = sys.stderr
    with contextlib.ExitStack() as stack:
        target = old
        if _is_fd2(old):
            encoding = getattr(old, "encoding", None) or "utf-8"
            target = stack.enter_context(
                open(fd, "w", closefd=False, encoding=encoding, errors="backslashreplace")
            )
            target.reconfigure(line_buffering=True)
        sys.stderr = _Terminal(target, box)
        try:
            yield
        finally:
            sys.stderr = old
