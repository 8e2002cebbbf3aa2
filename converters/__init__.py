"""Export backends: one module per target (TorchScript, ExecuTorch, ONNX, TFLite, Core ML) behind
one Converter protocol in ``converters/base.py``. Filled in by the converters work; shipped in the
same distribution as ``edgeseg`` so ``import converters`` works after ``pip install edgeseg``."""
