"""XNNPACK lowering with less re-tracing: the same ``.pte`` as ``to_edge_transform_and_lower``.

Why: lowering a quantized MobileNetV3 LR-ASPP took ~50 of the ~70 s of an ExecuTorch int8 export.
Nearly all of it is whole-graph re-tracing with fake tensors: executorch decomposes the program
three times before partitioning, and XNNPACK's ``preprocess`` runs 17 graph passes, each a full
re-trace (~1 s each at 800 nodes), most of which rewrite ops our graphs never contain (SDPA,
matmul → linear, 1-D convs, PReLU, batch norm, max-with-indices, cats of more than 5 inputs).

Two changes, each exact:
1. ``LeanXnnpackPartitioner``: when every op XNNPACK wants kept whole (hardswish, upsample, …)
   passes XNNPACK's own constraint check, the per-node filter has nothing to filter, so it is not
   handed to executorch; executorch then preserves those ops in one decomposition instead of
   two (its ``_can_skip_using_EDGE_DO_NOT_DECOMP`` path). Any node failing the check → the
   stock behaviour.
2. ``pruned_passes``: a pass runs unless the graph provably holds none of the ops it rewrites
   (``_REWRITES``: what each pass's ``call`` matches, read from executorch 1.5's source). A pass
   not in that table always runs, so a new upstream pass is never skipped.

``tests/converters/test_xnnpack_lowering.py`` checks the bytes equal the stock lowering's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import torch

GraphCheck = Callable[[torch.fx.Graph], bool]


def _has(*names: str, where: Callable[[torch.fx.Node], bool] = lambda node: True) -> GraphCheck:
    """A check: the graph calls one of ``names`` in a node that satisfies ``where``."""

    def check(graph: torch.fx.Graph) -> bool:
        calls = (n for n in graph.nodes if n.op == "call_function")
        return any(_name(n) in names and where(n) for n in calls)

    return check


_BATCH_NORM = (
    "aten.native_batch_norm.default",
    "aten._native_batch_norm_legit_no_training.default",
)

# pass class name → "the graph holds something this pass rewrites"
_REWRITES: dict[str, GraphCheck] = {
    "ConvertToSDPAPass": _has("aten.bmm.default", "aten._softmax.default"),
    "ConvertToLinearPass": _has("aten.mm.default", "aten.addmm.default", "aten.bmm.default"),
    # a 3-D weight is a 1-D conv; an unknown rank runs the pass
    "Conv1dUnsqueezePass": _has(
        "aten.convolution.default", where=lambda n: _rank(n.args[1]) in (3, None)
    ),
    "PReLUReshapePass": _has("aten._prelu_kernel.default"),
    "FuseBatchNormPass": _has(*_BATCH_NORM),
    "DecomposeBatchNorm": _has(*_BATCH_NORM),
    "RemoveGetItemPass": _has("aten.max_pool2d_with_indices.default", "aten.max.dim"),
    "DecomposeConcatenate": _has("aten.cat.default", where=lambda n: len(n.args[0]) > 5),
}


def needed_passes(passes: list[type], graph: torch.fx.Graph) -> list[type]:
    """``passes`` without those that would find nothing to rewrite in ``graph``."""
    return [p for p in passes if _REWRITES.get(p.__name__, lambda _: True)(graph)]


@contextlib.contextmanager
def pruned_passes() -> Iterator[None]:
    """Inside: XNNPACK's preprocess runs only the passes its partition needs (see module doc)."""
    from executorch.backends.xnnpack import xnnpack_preprocess

    stock = xnnpack_preprocess.XNNPACKPassManager

    class NeededPassManager(stock):
        def __init__(self, exported_program, passes=None) -> None:
            super().__init__(exported_program, passes)
            self.passes = needed_passes(list(self.passes), exported_program.graph)

    xnnpack_preprocess.XNNPACKPassManager = NeededPassManager
    try:
        yield
    finally:
        xnnpack_preprocess.XNNPACKPassManager = stock


def lean_partitioner():
    """An ``XnnpackPartitioner`` that skips a redundant decomposition (see module doc)."""
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner

    class LeanXnnpackPartitioner(XnnpackPartitioner):
        def ops_to_not_decompose(self, ep):
            ops, check = super().ops_to_not_decompose(ep)
            kept = [n for n in ep.graph.nodes if n.op == "call_function" and n.target in ops]
            if check is not None and all(check(n) for n in kept):
                return ops, None
            return ops, check

    return LeanXnnpackPartitioner()


def lower_to_xnnpack(program: torch.export.ExportedProgram):
    """``to_edge_transform_and_lower(program, [XnnpackPartitioner()])``, faster, same result."""
    from executorch.exir import to_edge_transform_and_lower

    with pruned_passes():
        return to_edge_transform_and_lower(program, partitioner=[lean_partitioner()])


def _name(node: torch.fx.Node) -> str:
    """The name as "aten.cat.default", for an aten op (``str``) and an edge op (``__name__``)."""
    target = node.target
    if isinstance(target, torch._ops.OpOverload):
        return str(target)
    return getattr(target, "__name__", str(target))


def _rank(node: object) -> int | None:
    value = node.meta.get("val") if isinstance(node, torch.fx.Node) else None
    return value.dim() if isinstance(value, torch.Tensor) else None
