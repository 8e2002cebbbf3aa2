"""Dataset specs (``camvid:/data/camvid``) and the registry of dataset kinds behind them.

A kind is one module that registers a builder under its own name; ``build_dataset`` is the only
place that turns a spec into a dataset, so adding a kind touches nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from edgeseg.data.base import SegDataset, Transform
from edgeseg.errors import ConfigError, DataError
from edgeseg.utils import unknown_name_message

SPLITS = ("train", "val")

Builder = Callable[["DataSpec", str, "Transform | None"], SegDataset]


@dataclass(frozen=True)
class _Kind:
    builder: Builder
    needs_path: bool


_KINDS: dict[str, _Kind] = {}


@dataclass(frozen=True)
class DataSpec:
    """A parsed ``KIND:PATH`` string; ``path`` is None for kinds without files (``sample``)."""

    kind: str
    path: Path | None = None

    def __str__(self) -> str:
        return self.kind if self.path is None else f"{self.kind}:{self.path}"


def register_dataset(name: str, needs_path: bool = True) -> Callable[[Builder], Builder]:
    """Register ``builder(spec, split, transform) -> SegDataset`` as dataset kind ``name``."""

    def decorate(builder: Builder) -> Builder:
        if name in _KINDS:
            raise ValueError(f"Dataset kind '{name}' is registered twice")
        _KINDS[name] = _Kind(builder, needs_path)
        return builder

    return decorate


def dataset_kinds() -> list[str]:
    return sorted(_KINDS)


def parse_data_spec(text: str | DataSpec) -> DataSpec:
    """``'camvid:/data/camvid'`` → ``DataSpec('camvid', Path('/data/camvid'))``; ``'sample'``."""
    if isinstance(text, DataSpec):
        return text
    kind, _, path = text.partition(":")
    kind = kind.strip().lower()
    if kind not in _KINDS:
        message = unknown_name_message("dataset kind", kind, _KINDS)
        raise DataError(f"{message} (use KIND:PATH, e.g. camvid:PATH)")
    path = path.strip()
    if _KINDS[kind].needs_path and not path:
        raise DataError(f"Dataset '{text}' needs a folder: use {kind}:PATH")
    return DataSpec(kind, Path(path).expanduser() if path else None)


def build_dataset(
    spec: str | DataSpec, split: str = "train", transform: Transform | None = None
) -> SegDataset:
    """Split ``split`` ('train' or 'val') of the dataset ``spec``, items through ``transform``."""
    parsed = parse_data_spec(spec)
    if split not in SPLITS:
        raise ConfigError(unknown_name_message("split", split, SPLITS))
    return _KINDS[parsed.kind].builder(parsed, split, transform)
