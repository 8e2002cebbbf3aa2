"""Distillation losses, one module per family; importing a module registers its losses."""

from edgeseg.distill.losses import (  # noqa: F401
    affinity,
    cwd,
    feature,
    fsi,
    hard,
    relation,
    response,
    warmup,
)
from edgeseg.distill.losses.base import (
    DistillInputs,
    DistillLoss,
    LossContext,
    LossParams,
    build_losses,
    check_loss_specs,
    describe_losses,
    loss_names,
    parse_loss_spec,
    register_loss,
)

__all__ = [
    "DistillInputs",
    "DistillLoss",
    "LossContext",
    "LossParams",
    "build_losses",
    "check_loss_specs",
    "describe_losses",
    "loss_names",
    "parse_loss_spec",
    "register_loss",
]
