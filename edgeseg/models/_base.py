"""What every edgeseg model is: the ``SegmentationModel`` contract and its data classes.

Training, distillation, export and benchmarking code only rely on this file: a model maps
``[N, 3, H, W]`` to logits ``[N, C, H, W]``, exposes named feature taps for distillation, and
says (as data, in ``ModelInfo`` / ``PretrainedCfg``) what it is and which weights exist for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from torch import Tensor, nn

from edgeseg.models.layers.helpers import resize

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

VOC_CLASSES = (
    "__background__",
    "aeroplane",
    "bicycle",
    "bird",
    "boat",
    "bottle",
    "bus",
    "car",
    "cat",
    "chair",
    "cow",
    "diningtable",
    "dog",
    "horse",
    "motorbike",
    "person",
    "pottedplant",
    "sheep",
    "sofa",
    "train",
    "tvmonitor",
)

Role = Literal["student", "teacher"]


@dataclass(frozen=True)
class PretrainedCfg:
    """Where one set of weights lives and what input it expects (timm's pretrained_cfg idea).

    Exactly one of ``url`` (fetched through ``torch.hub``'s cache) or ``file`` (a resolver
    returning a local path, for weights shipped inside a Python package) is set.
    ``input_size`` is (H, W) of the training crop or resize.
    """

    url: str | None = None
    file: Callable[[], str] | None = None
    num_classes: int = 1000
    classes: tuple[str, ...] | None = None
    dataset: str = "imagenet-1k"
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    input_size: tuple[int, int] = (224, 224)

    def location(self) -> str:
        """The URL or local path of the weights file."""
        if self.file is not None:
            return self.file()
        if self.url is None:
            raise ValueError("PretrainedCfg needs a url or a file resolver")
        return self.url


@dataclass(frozen=True)
class ModelInfo:
    """What a registered model is, for listings, CLIs and the distillation code."""

    name: str
    family: str
    role: Role
    torchvision: bool
    int8_friendly: bool
    backbone: str
    description: str
    weights: tuple[str, ...] = ()
    backbone_weights: tuple[str, ...] = ()


class SegmentationModel(nn.Module):
    """Base class of every edgeseg model.

    Subclasses implement ``_forward(x, taps)`` once; ``forward`` and ``forward_features`` both
    call it, so the logits a student is distilled on are the logits it is exported with.
    ``taps=False`` skips work only the taps need (the auxiliary head), nothing else.

    Attributes every subclass sets:
        num_classes: logits channels.
        feature_channels / feature_strides: channels and output stride of every tap that
            ``forward_features`` returns ("low", "mid", "high", "out", maybe "aux").
        classifier_keys: state_dict prefixes of the final layers whose shape depends on
            ``num_classes``; only these may be re-initialised when loading other-class weights.
        info: the ``ModelInfo`` the registry attaches when the model is built by name.
    """

    info: ModelInfo | None = None

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.feature_channels: dict[str, int] = {}
        self.feature_strides: dict[str, int] = {}
        self.classifier_keys: tuple[str, ...] = ()

    def forward(self, x: Tensor) -> Tensor:
        """Logits ``[N, num_classes, H, W]`` at the input resolution (train and eval)."""
        return self._forward(x, taps=False)["out"]

    def forward_features(self, x: Tensor) -> dict[str, Tensor]:
        """Named taps for feature distillation plus "out" (and "aux") logits at input size."""
        return self._forward(x, taps=True)

    def _forward(self, x: Tensor, taps: bool) -> dict[str, Tensor]:
        raise NotImplementedError

    def _set_taps(self, channels: dict[str, int], strides: dict[str, int]) -> None:
        """Record the taps' channels/strides, adding the logits taps (stride 1)."""
        self.feature_channels = {**channels, "out": self.num_classes}
        self.feature_strides = {**strides, "out": 1}
        if getattr(self, "aux_classifier", None) is not None:
            self.feature_channels["aux"] = self.num_classes
            self.feature_strides["aux"] = 1

    # --- backbone (ImageNet classification) weights -------------------------------------------

    def adapt_backbone_state_dict(self, state_dict: dict[str, Tensor]) -> dict[str, Tensor]:
        """Convert a foreign classification checkpoint layout; identity unless overridden."""
        return state_dict

    def backbone_key(self, key: str) -> str | None:
        """This model's key for a classification-net key, or None to drop it on purpose.

        The backbone module decides (``classification_key``); the result is prefixed with
        ``backbone.``. Keys the model does not have are reported by the loader as unexpected.
        """
        mapped = self.backbone.classification_key(key)
        return None if mapped is None else f"backbone.{mapped}"


class SimpleSegmentationModel(SegmentationModel):
    """torchvision's ``_SimpleSegmentationModel``: head on the last features, optional aux head.

    Mirrors torchvision/models/segmentation/_utils.py. Both heads' outputs are resized
    bilinearly (``align_corners=False``) to the input size. The backbone returns its taps as a
    dict through ``forward_taps``; ``aux_tap`` names the one the aux head reads.
    """

    def __init__(
        self,
        backbone: nn.Module,
        classifier: nn.Sequential,
        aux_classifier: nn.Sequential | None,
        *,
        num_classes: int,
        aux_tap: str,
        channels: dict[str, int],
        strides: dict[str, int],
    ) -> None:
        super().__init__(num_classes)
        self.backbone = backbone
        self.classifier = classifier
        self.aux_classifier = aux_classifier
        self.aux_tap = aux_tap
        keys = [f"classifier.{len(classifier) - 1}."]
        if aux_classifier is not None:
            keys.append(f"aux_classifier.{len(aux_classifier) - 1}.")
        self.classifier_keys = tuple(keys)
        self._set_taps(channels, strides)

    def _forward(self, x: Tensor, taps: bool) -> dict[str, Tensor]:
        size = x.shape[-2:]
        features = self.backbone.forward_taps(x)
        result = {"out": resize(self.classifier(features["high"]), size)}
        if not taps:
            return result
        result.update({name: features[name] for name in ("low", "mid", "high")})
        if self.aux_classifier is not None:
            result["aux"] = resize(self.aux_classifier(features[self.aux_tap]), size)
        return result
