"""Finding the class scores inside a graph that ends in ArgMax (class ids) or Softmax.

Many published segmentation models end in ``ArgMax`` (Coral's DeepLabs: one int64 class id per
pixel) or ``Softmax``: a teacher read at that output is a hard teacher, or one whose logits are
gone. The scores are still in the graph — the tensor feeding that last op — and distillation wants
them. This module walks back from the graph's output through ops that only change dtype or shape
(Cast, Reshape, Squeeze …) to the last ArgMax/Softmax and names its input; each runtime module then
rewrites its file's outputs to that tensor (``tflite``: the flatbuffer's subgraph outputs;
``onnxruntime``: the graph's outputs) and opens the result. It is format-neutral: a runtime hands
in who produces each tensor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from edgeseg.runtimes.errors import TensorNotFound

# Op names upper-cased without underscores, so TFLite's ARG_MAX and ONNX's ArgMax compare equal.
SCORE_CONSUMERS = {"ARGMAX", "SOFTMAX", "LOGSOFTMAX"}
NAMED = "named"  # ScoresTensor.via of a tensor the user named
PASS_THROUGH = {"CAST", "RESHAPE", "SQUEEZE", "UNSQUEEZE", "EXPANDDIMS", "IDENTITY"}


@dataclass(frozen=True)
class Producer:
    """The op that writes a tensor: its kind and its input tensors (names or indices)."""

    op: str
    inputs: tuple


@dataclass(frozen=True)
class ScoresTensor:
    """Where the scores are; ``via`` is the op they feed (None: the output is already scores)."""

    tensor: object
    via: str | None

    def note(self, name: str) -> str:
        if self.via is None:
            return f"scores: the graph's output '{name}'"
        if self.via == NAMED:
            return f"scores: tensor '{name}' (as named)"
        return f"scores: tensor '{name}' (the input of the graph's final {self.via})"


def _key(op: str) -> str:
    return op.upper().replace("_", "")


def find_scores(output, producers: Mapping[object, Producer]) -> ScoresTensor:
    """The tensor before the final ArgMax/Softmax reached from ``output`` through pass-through
    ops, or ``output`` itself when no such op ends the graph."""
    tensor = output
    while (producer := producers.get(tensor)) is not None:
        key = _key(producer.op)
        if key in SCORE_CONSUMERS:
            return ScoresTensor(producer.inputs[0], producer.op)
        if key not in PASS_THROUGH:
            break
        tensor = producer.inputs[0]
    return ScoresTensor(output, None)


def named_tensor(name: str, names: Sequence[str], file: str, candidates: Sequence[str]) -> int:
    """The index of tensor ``name`` in ``names`` (or a plain index), else :class:`TensorNotFound`
    listing ``candidates`` (the 4-D float or quantized tensors a user would mean)."""
    if name in names:
        return list(names).index(name)
    if name.isdigit() and int(name) < len(names):
        return int(name)
    # TFLite names a fused op's output by all the ops it absorbed, joined by ';': one of them
    # (e.g. 'concat_projection/Relu') names it as long as no other tensor has that part too.
    # A conv's bias constant carries its BiasAdd's name as well ('logits/semantic/BiasAdd'):
    # among several, the one 4-D tensor (an activation, not a constant vector) is meant
    parts = [i for i, full in enumerate(names) if name in full.split(";")]
    shared = len(parts) > 1
    if shared:
        parts = [i for i in parts if names[i] in candidates]
    if len(parts) == 1:
        return parts[0]
    shown = ", ".join(f"'{c}'" for c in list(candidates)[-6:])
    what = (
        f"{len(parts) or 'no'} 4-D tensors named with '{name}'" if shared else f"no tensor '{name}'"
    )
    raise TensorNotFound(
        f"{file} has {what}; name one of its tensors (last 4-D ones: {shown}), or "
        "leave the option out to find the scores before the final ArgMax automatically"
    )
