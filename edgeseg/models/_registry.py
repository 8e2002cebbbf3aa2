"""Model registry: ``@register_model`` entry points, looked up by their function name.

Like timm's ``_registry.py``: a family module decorates small entry functions; the decorator
records a ``ModelInfo`` and the pretrained configs (data), and wraps the function so every model
built by it carries its ``info``. Nothing else in edgeseg lists model names.
"""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Callable, Mapping
from typing import TypeVar

from edgeseg.errors import ModelError
from edgeseg.models._base import ModelInfo, PretrainedCfg, Role, SegmentationModel
from edgeseg.utils import unknown_name_message

ModelT = TypeVar("ModelT", bound=SegmentationModel)

_entrypoints: dict[str, Callable[..., SegmentationModel]] = {}
_infos: dict[str, ModelInfo] = {}
_weights: dict[str, dict[str, PretrainedCfg]] = {}
_backbone_weights: dict[str, dict[str, PretrainedCfg]] = {}


def register_model(
    *,
    role: Role,
    backbone: str,
    description: str,
    torchvision: bool = False,
    int8_friendly: bool = False,
    weights: Mapping[str, PretrainedCfg] | None = None,
    backbone_weights: Mapping[str, PretrainedCfg] | None = None,
) -> Callable[[Callable[..., ModelT]], Callable[..., ModelT]]:
    """Register the decorated entry function under its own name.

    ``weights`` / ``backbone_weights`` map tags (e.g. "coco_voc", "imagenet") to
    ``PretrainedCfg``. Registering a name twice is an error, never a silent override.
    """
    if role not in ("student", "teacher"):
        raise ModelError(f"Model role must be 'student' or 'teacher', not '{role}'")

    def decorator(fn: Callable[..., ModelT]) -> Callable[..., ModelT]:
        name = fn.__name__
        if name in _entrypoints:
            raise ModelError(
                f"Model '{name}' is already registered (by {_infos[name].family}); "
                "registry names must be unique"
            )
        info = ModelInfo(
            name=name,
            family=fn.__module__.rsplit(".", 1)[-1],
            role=role,
            torchvision=torchvision,
            int8_friendly=int8_friendly,
            backbone=backbone,
            description=description,
            weights=tuple(weights or {}),
            backbone_weights=tuple(backbone_weights or {}),
        )

        @functools.wraps(fn)
        def build(**kwargs: object) -> ModelT:
            model = fn(**kwargs)
            model.info = info
            return model

        _entrypoints[name] = build
        _infos[name] = info
        _weights[name] = dict(weights or {})
        _backbone_weights[name] = dict(backbone_weights or {})
        return build

    return decorator


def list_models(pattern: str = "*") -> list[str]:
    """Sorted registered names matching a shell-style ``pattern`` ("*", "lraspp_*", …)."""
    return sorted(name for name in _entrypoints if fnmatch.fnmatchcase(name, pattern))


def _check(name: str) -> None:
    if name not in _entrypoints:
        raise ModelError(unknown_name_message("model", name, list_models()))


def model_info(name: str) -> ModelInfo:
    """The ``ModelInfo`` of a registered model; ``ModelError`` with a suggestion otherwise."""
    _check(name)
    return _infos[name]


def model_entrypoint(name: str) -> Callable[..., SegmentationModel]:
    """The entry function that builds ``name`` (without weights)."""
    _check(name)
    return _entrypoints[name]


def pretrained_cfgs(name: str, backbone: bool = False) -> dict[str, PretrainedCfg]:
    """Tag → config of the model's full weights (or of its backbone's ImageNet weights)."""
    _check(name)
    return dict((_backbone_weights if backbone else _weights)[name])
