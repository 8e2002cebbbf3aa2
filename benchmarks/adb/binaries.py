"""Where the phone-side benchmark tools come from: ``--runner-path`` or the per-ABI cache.

edgeseg ships no Android binaries. The user downloads or builds each tool once and puts it in
``~/.cache/edgeseg/runners/<abi>/`` (``$EDGESEG_RUNNERS`` overrides the root), or passes
``--runner-path`` (a file, or a folder searched like the cache). Shared libraries (``*.so``) lying
next to a tool are pushed with it, for builds that are not static (``libonnxruntime.so``).
When nothing is found the error names the file, the folder to put it in and where to get it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from edgeseg.benchmarks.base import BenchError


@dataclass(frozen=True)
class Tool:
    """A phone-side tool: accepted file names (first is canonical) and how to obtain it."""

    names: tuple[str, ...]
    source: str


def cache_root() -> Path:
    return Path(os.environ.get("EDGESEG_RUNNERS", "~/.cache/edgeseg/runners")).expanduser()


def _candidates(tool: Tool, abi: str, runner_path: str | None) -> list[Path]:
    folders = []
    if runner_path:
        given = Path(runner_path).expanduser()
        if given.is_file():
            return [given] if given.name in tool.names else []
        folders += [given / abi, given]
    folders.append(cache_root() / abi)
    return [folder / name for folder in folders for name in tool.names]


def find_tool(tool: Tool, abi: str, runner_path: str | None = None) -> tuple[Path, list[Path]]:
    """The tool binary for ``abi`` plus the ``*.so`` files beside it."""
    for path in _candidates(tool, abi, runner_path):
        if path.is_file():
            return path, sorted(path.parent.glob("*.so"))
    where = cache_root() / (abi or "<abi>") / tool.names[0]
    given = (
        f" (--runner-path {runner_path} has none of: {', '.join(tool.names)})"
        if runner_path
        else ""
    )
    raise BenchError(
        f"missing phone-side tool '{tool.names[0]}' for {abi or 'this ABI'}{given}: put it at "
        f"{where} or pass --runner-path; get it from {tool.source}"
    )
