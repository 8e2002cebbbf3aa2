"""Training: recipe, optimisers and schedules, losses, the loop, and ``fit``."""

from edgeseg.train.config import TrainConfig
from edgeseg.train.fit import TrainResult, fit
from edgeseg.train.loop import evaluate, train_one_epoch

__all__ = ["TrainConfig", "TrainResult", "evaluate", "fit", "train_one_epoch"]
