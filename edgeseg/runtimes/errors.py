"""The runtime layer's typed errors, and the cheap byte-level look every runtime starts with.

Callers tell three cases apart: a file that cannot be opened (:class:`ArtifactLoadError`, a
failed export parity check or bench row), a library that is not installed
(:class:`RuntimeNotInstalled`, with the pip command) and a runtime that does not exist on this
platform at all (:class:`RuntimeUnavailable`: Core ML off macOS, a *skipped* parity check or row).
"""

from __future__ import annotations

from pathlib import Path

from edgeseg.errors import EdgesegError


class ArtifactLoadError(EdgesegError):
    """An artifact its runtime cannot open or run here; the message names the file, the runtime
    and what to do."""


class RuntimeNotInstalled(ArtifactLoadError):
    """The runtime's library is not installed; the message says how to install it."""


class ScoresUnavailable(EdgesegError):
    """The format cannot hand out a tensor inside its graph (a .pte program's outputs are fixed at
    export): the caller falls back to the graph's own output and says so."""


class TensorNotFound(ArtifactLoadError):
    """A tensor named by the user is not in the file; the message lists what is."""


class RuntimeUnavailable(ArtifactLoadError):
    """The runtime cannot run on this platform at all (Core ML off macOS): skip, do not fail."""


def read_magic(path: Path, size: int = 16) -> bytes:
    """The first ``size`` bytes, or an :class:`ArtifactLoadError` naming the file."""
    if not path.is_file():
        raise ArtifactLoadError(f"{path}: no such file")
    with path.open("rb") as f:
        return f.read(size)
