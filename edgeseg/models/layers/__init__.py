"""Building blocks shared by the model families (kept small on purpose, like timm's layers)."""

from edgeseg.models.layers.aspp import ASPP, ASPPConv, ASPPPooling
from edgeseg.models.layers.conv_bn_act import Conv2dSame, ConvBnAct, same_padding
from edgeseg.models.layers.helpers import TapSequential, make_divisible, resize
from edgeseg.models.layers.squeeze_excite import SqueezeExcitation

__all__ = [
    "ASPP",
    "ASPPConv",
    "ASPPPooling",
    "Conv2dSame",
    "ConvBnAct",
    "SqueezeExcitation",
    "TapSequential",
    "make_divisible",
    "resize",
    "same_padding",
]
