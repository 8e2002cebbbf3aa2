"""edgeseg's model zoo: a registry of segmentation students and teachers.

>>> from edgeseg.models import create_model, list_models
>>> model = create_model("lraspp_mobilenet_v3_large", num_classes=21, weights="coco_voc")

Importing this package imports every family module, which registers its entry points.
"""

from edgeseg.models import deeplabv3, fcn, fusedseg, liteseg, lraspp  # noqa: F401  (register models)
from edgeseg.models._base import ModelInfo, PretrainedCfg, SegmentationModel
from edgeseg.models._factory import create_model, load_weights_file
from edgeseg.models._registry import (
    list_models,
    model_entrypoint,
    model_info,
    pretrained_cfgs,
    register_model,
)

__all__ = [
    "ModelInfo",
    "PretrainedCfg",
    "SegmentationModel",
    "create_model",
    "list_models",
    "load_weights_file",
    "model_entrypoint",
    "model_info",
    "pretrained_cfgs",
    "register_model",
]
