"""edgeseg: semantic segmentation models from training to phones."""

__version__ = "0.1.0"
