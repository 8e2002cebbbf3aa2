"""Typed errors for edgeseg.

Every problem a user can cause (a bad path, a wrong file, an unknown name) is raised as a subclass
of :class:`EdgesegError` with a one-line message that says what is wrong, which file, and what to
do. The CLI prints that line and exits with code 2; only ``--debug`` shows a traceback.

:class:`ExitCode` is the one definition of what every command's exit status means, so a script
can tell "my input was wrong" from "an artifact failed" from "edgeseg has a bug" — and
``--debug`` only adds the traceback, it never changes the code.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What ``edgeseg COMMAND`` exits with (documented in README.md and ``edgeseg --help``)."""

    OK = 0  # everything asked was done or measured (a skip, e.g. Core ML on Linux, is no failure)
    INTERNAL = 1  # an unexpected exception: a bug in edgeseg or a library it calls
    BAD_INPUT = 2  # an EdgesegError or a usage error: fix the command line or the files
    FAILED = 3  # the command ran, but an artifact failed (a bench row, an export target or its
    # parity check below the threshold, a failed quickstart stage)
    GATE_FAILED = 4  # bench: every row ran, but one failed a gate (--max-miou-drop, …)
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it

    @classmethod
    def epilog(cls) -> str:
        """One line per code, for ``edgeseg --help``."""
        return (
            "Exit codes: 0 done (skips are not failures), 1 internal error, 2 bad input, "
            "3 some artifact, export target or stage failed, 4 a bench gate failed, "
            "130 interrupted."
        )


class EdgesegError(Exception):
    """Base class of every error a user can cause and fix."""


class DataError(EdgesegError):
    """A dataset spec, folder, image or mask is missing or malformed."""


class ModelError(EdgesegError):
    """An unknown architecture or an invalid model configuration."""


class WeightsError(EdgesegError):
    """A weights file or URL cannot be read or does not fit the model."""


class CheckpointError(EdgesegError):
    """A checkpoint is missing, not edgeseg's, or made for another architecture."""


class ConfigError(EdgesegError):
    """An option value that cannot work (bad size string, bad schedule, …)."""


class ExportError(EdgesegError):
    """An export that cannot work: unknown target, unsupported quantization, missing toolchain."""


class DistillError(EdgesegError):
    """A teacher, class map or distillation loss that cannot work (wrong file, class mismatch)."""


class OutputPathError(ConfigError):
    """An output path that cannot be written (a file where a folder is wanted, a folder under a
    file, a read-only or full filesystem), found before any work starts."""


def one_line(exc: BaseException, limit: int = 300, *, typed: bool = True) -> str:
    """An error for one line of output: its first line, with the exception's type when it is not
    one of edgeseg's (those are written for users; a library's ``RuntimeError`` is not) unless
    ``typed`` is off, cut at a sentence end when it runs past ``limit`` (torch appends paragraphs
    of advice to one fact)."""
    lines = str(exc).strip().splitlines()
    text = lines[0].strip() if lines else ""
    if not text and not typed:
        return type(exc).__name__
    if typed and not isinstance(exc, EdgesegError):
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    if len(text) <= limit:
        return text
    end = text.rfind(". ", 0, limit)
    return text[: end + 1] if end >= limit // 3 else text[: limit - 1] + "…"
