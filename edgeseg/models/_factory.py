"""``create_model`` and weight loading: tags, paths and URLs in; typed one-line errors out.

Weights are data: a model's pretrained configs (see ``_registry``) map tags to URLs or packaged
files. Whatever the source, a checkpoint is read with ``weights_only=True``, unwrapped
(raw state_dict, ``{"model": …}``, ``{"state_dict": …}``, VainF's ``{"model_state": …}`` or an
edgeseg checkpoint) and must fit the model; only the final classifier layers may differ in
shape (another ``num_classes``), and those keep their fresh initialisation, as timm does.
"""

from __future__ import annotations

import argparse
import inspect
import logging
import os
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import Tensor

from edgeseg.errors import ModelError, WeightsError, one_line
from edgeseg.integrity import weights_match, zip_problem
from edgeseg.models._base import PretrainedCfg, SegmentationModel
from edgeseg.models._registry import model_entrypoint, pretrained_cfgs
from edgeseg.utils import unknown_name_message

logger = logging.getLogger(__name__)

WeightsSpec = str | os.PathLike[str]
_URL_PREFIXES = ("http://", "https://", "file://")
_WRAPPER_KEYS = ("model", "state_dict", "model_state")


def create_model(
    name: str,
    num_classes: int = 21,
    weights: WeightsSpec | None = None,
    backbone_weights: WeightsSpec | None = None,
    aux_loss: bool | None = None,
    **kwargs: object,
) -> SegmentationModel:
    """Build a registered model, then load ``weights`` or else ``backbone_weights``.

    ``weights`` / ``backbone_weights``: a tag of the model's pretrained configs ("coco_voc",
    "imagenet"), a local path, or an http(s):// / file:// URL. Given both, ``weights`` wins
    (like torchvision) and the backbone weights are skipped. ``aux_loss=None`` keeps the
    auxiliary head wherever torchvision's checkpoint has one; ``False`` removes it.
    """
    entry = model_entrypoint(name)
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ModelError(f"num_classes must be a positive integer, not {num_classes!r}")
    try:
        inspect.signature(entry).bind(num_classes=num_classes, aux_loss=aux_loss, **kwargs)
    except TypeError as err:
        raise ModelError(f"Bad option for model '{name}': {err}") from err
    model = entry(num_classes=num_classes, aux_loss=aux_loss, **kwargs)
    if weights is not None:
        if backbone_weights is not None:
            logger.info("%s: full weights given, backbone_weights skipped", name)
        location = _locate(weights, name, pretrained_cfgs(name), "weights")
        load_full_state_dict(model, load_weights_file(location, arch=name), location)
    elif backbone_weights is not None:
        cfgs = pretrained_cfgs(name, backbone=True)
        location = _locate(backbone_weights, name, cfgs, "backbone weights")
        load_backbone_state_dict(model, load_weights_file(location), location)
    return model


def _locate(spec: WeightsSpec, name: str, cfgs: dict[str, PretrainedCfg], kind: str) -> str:
    """Resolve a tag to its URL/file; pass paths and URLs through; reject unknown tags."""
    text = os.fspath(spec)
    if text in cfgs:
        return cfgs[text].location()
    if text.startswith(_URL_PREFIXES) or Path(text).exists():
        return text
    looks_like_path = os.sep in text or "/" in text or Path(text).suffix != ""
    if not looks_like_path and cfgs:
        raise WeightsError(
            unknown_name_message(f"{kind} tag", text, cfgs)
            + f" (for '{name}'; or pass a .pth path or a URL)"
        )
    if not looks_like_path:
        raise WeightsError(
            f"'{text}' is not a file and '{name}' has no {kind} tags: pass a .pth path or a URL"
        )
    raise WeightsError(f"Weights file '{text}' not found: check the path (or use a URL)")


def load_weights_file(path_or_url: WeightsSpec, *, arch: str | None = None) -> dict[str, Tensor]:
    """Read a state_dict from a path or URL (``weights_only=True``) and unwrap it.

    Accepts a raw state_dict, ``{"model": …}`` (torchvision references), ``{"state_dict": …}``,
    ``{"model_state": …}`` (VainF) and edgeseg checkpoints (``format ==
    "edgeseg-checkpoint"``); for the latter, ``arch`` (when given) must match ``meta["arch"]``.
    """
    source = os.fspath(path_or_url)
    if source.startswith(_URL_PREFIXES):
        obj = _load_url(source)
    else:
        path = Path(source)
        if path.is_dir():
            raise WeightsError(f"'{source}' is a directory: pass the weights file inside it")
        if not path.is_file():
            raise WeightsError(f"Weights file '{source}' not found: check the path")
        if why := zip_problem(path):
            raise WeightsError(f"'{source}' is corrupt ({why}); restore it from a copy")
        try:
            with torch.serialization.safe_globals([argparse.Namespace]):
                obj = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:
            raise WeightsError(
                f"'{source}' is not a readable PyTorch weights file ({one_line(err, 160)}): pass a "
                "state_dict saved with torch.save"
            ) from err
    return _unwrap(obj, source, arch)


def _load_url(url: str) -> object:
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            return torch.hub.load_state_dict_from_url(
                url, map_location="cpu", weights_only=True, check_hash=False
            )
    except OSError as err:  # URLError, HTTPError, missing file:// target
        reason = one_line(err, 160)
        raise WeightsError(
            f"Cannot fetch weights from '{url}' ({reason}): check the URL and the network, "
            "or download the file and pass its path"
        ) from err
    except Exception as err:
        reason = one_line(err, 160)
        raise WeightsError(
            f"'{url}' is not a readable PyTorch weights file ({reason}): pass a URL of a "
            "state_dict saved with torch.save"
        ) from err


def _unwrap(obj: object, source: str, arch: str | None) -> dict[str, Tensor]:
    if isinstance(obj, Mapping) and obj.get("format") == "edgeseg-checkpoint":
        meta = obj.get("meta") or {}
        expected = meta.get("weights_sha256") if isinstance(meta, Mapping) else None
        if expected and not weights_match(obj.get("state_dict"), expected):
            raise WeightsError(
                f"'{source}' is corrupt (its weights do not match the hash recorded when it was "
                "saved); restore it from a copy or train it again"
            )
        found = meta.get("arch") if isinstance(meta, Mapping) else None
        if arch is not None and found != arch:
            raise WeightsError(
                f"'{source}' is a checkpoint of '{found}', not '{arch}': create '{found}' "
                f"or pass weights made for '{arch}'"
            )
        obj = obj.get("state_dict")
    elif isinstance(obj, Mapping):
        for key in _WRAPPER_KEYS:
            if isinstance(obj.get(key), Mapping):
                obj = obj[key]
                break
    if not isinstance(obj, Mapping) or not obj:
        raise WeightsError(
            f"'{source}' holds no state_dict ({type(obj).__name__}): pass a file saved with "
            "torch.save(model.state_dict(), path)"
        )
    bad = [str(k) for k, v in obj.items() if not isinstance(v, Tensor)]
    if bad:
        raise WeightsError(
            f"'{source}' is not a state_dict: entries {bad[:3]} are not tensors; pass a file "
            "saved with torch.save(model.state_dict(), path)"
        )
    state = {str(k): v for k, v in obj.items()}
    if all(k.startswith("module.") for k in state):  # saved from DataParallel/DDP
        state = {k[len("module.") :]: v for k, v in state.items()}
    return state


def _arch(model: SegmentationModel) -> str:
    return model.info.name if model.info is not None else type(model).__name__


def _examples(keys: list[str], n: int = 3) -> str:
    more = f" (+{len(keys) - n} more)" if len(keys) > n else ""
    return ", ".join(keys[:n]) + more


def _is_counter(key: str) -> bool:
    """BatchNorm's ``num_batches_tracked`` is missing from old checkpoints; that is fine."""
    return key.endswith("num_batches_tracked")


def _reconcile_aux(
    model: SegmentationModel, state: dict[str, Tensor], own: dict[str, Tensor], source: str
) -> dict[str, Tensor]:
    """Auxiliary heads only serve training losses, so they never block a load.

    Without an aux head (``aux_loss=False``) the checkpoint's aux tensors are ignored; with one
    and a checkpoint that has none (trained with ``aux_loss=False``) the head keeps its fresh
    initialisation.
    """
    aux_in_state = [k for k in state if k.startswith("aux_classifier.")]
    if getattr(model, "aux_classifier", None) is None:
        if aux_in_state:
            logger.info("%s: no aux head, %d aux tensors ignored", source, len(aux_in_state))
        return {k: v for k, v in state.items() if k not in aux_in_state}
    if not aux_in_state:
        logger.info("%s: has no aux head; the model's aux head keeps its initialisation", source)
        return {**state, **{k: v for k, v in own.items() if k.startswith("aux_classifier.")}}
    return state


def load_full_state_dict(model: SegmentationModel, state: dict[str, Tensor], source: str) -> None:
    """Load a whole-model state_dict; only ``model.classifier_keys`` may differ in shape."""
    own = model.state_dict()
    state = _reconcile_aux(model, state, own, source)
    missing = [k for k in own if k not in state and not _is_counter(k)]
    unexpected = [k for k in state if k not in own]
    reshaped = [k for k in own if k in state and state[k].shape != own[k].shape]
    head = [k for k in reshaped if k.startswith(model.classifier_keys)]
    other = [k for k in reshaped if k not in head]
    if missing or unexpected or other:
        problems = []
        if missing:
            problems.append(f"{len(missing)} missing ({_examples(missing)})")
        if unexpected:
            problems.append(f"{len(unexpected)} unexpected ({_examples(unexpected)})")
        if other:
            shapes = [f"{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}" for k in other]
            problems.append(f"{len(other)} with other shapes ({_examples(shapes)})")
        raise WeightsError(
            f"Weights '{source}' do not fit '{_arch(model)}': {'; '.join(problems)}. Pass "
            "weights made for this architecture (only num_classes may differ)"
        )
    merged = {k: own[k] if k in head or k not in state else state[k] for k in own}
    model.load_state_dict(merged, strict=True)
    if head:
        logger.info(
            "%s: loaded '%s'; re-initialised %s for %d classes",
            _arch(model),
            source,
            ", ".join(sorted({k.rsplit(".", 1)[0] for k in head})),
            model.num_classes,
        )


def load_backbone_state_dict(
    model: SegmentationModel, state: dict[str, Tensor], source: str
) -> None:
    """Load ImageNet classification weights into ``model.backbone``.

    Classification keys are mapped by ``model.backbone_key`` (the classifier / fc and layers
    the segmentation backbone dropped are skipped on purpose); every backbone tensor must be
    filled and nothing else may be left over.
    """
    state = model.adapt_backbone_state_dict(state)
    own = model.state_dict()
    mapped: dict[str, Tensor] = {}
    unexpected, skipped = [], 0
    for key, value in state.items():
        target = model.backbone_key(key)
        if target is None:
            skipped += 1
        elif target in own:
            mapped[target] = value
        else:
            unexpected.append(key)
    backbone = model.info.backbone if model.info is not None else "its backbone"
    if not mapped:
        raise WeightsError(
            f"No tensor of '{source}' fits the backbone of '{_arch(model)}': pass ImageNet "
            f"classification weights of {backbone} (or a tag such as 'imagenet')"
        )
    wanted = [k for k in own if k.startswith("backbone.")]
    missing = [k for k in wanted if k not in mapped and not _is_counter(k)]
    reshaped = [k for k, v in mapped.items() if v.shape != own[k].shape]
    if missing or unexpected or reshaped:
        problems = [
            f"{len(keys)} {what} ({_examples(keys)})"
            for keys, what in (
                (missing, "missing"),
                (unexpected, "unexpected"),
                (reshaped, "with other shapes"),
            )
            if keys
        ]
        raise WeightsError(
            f"Backbone weights '{source}' do not fit '{_arch(model)}': {'; '.join(problems)}. "
            f"Pass ImageNet classification weights of {backbone}"
        )
    model.load_state_dict({**own, **mapped}, strict=True)
    logger.info(
        "%s: loaded %d backbone tensors from '%s' (%d classifier tensors skipped)",
        _arch(model),
        len(mapped),
        source,
        skipped,
    )
