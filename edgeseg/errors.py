"""Typed errors for edgeseg.

Every problem a user can cause (a bad path, a wrong file, an unknown name) is raised as a subclass
of :class:`EdgesegError` with a one-line message that says what is wrong, which file, and what to
do. The CLI prints that line and exits with code 2; only ``--debug`` shows a traceback.
"""

from __future__ import annotations


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
