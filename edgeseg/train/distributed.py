"""Data-parallel training under ``torchrun`` (``torchrun --nproc-per-node N -m edgeseg distill …``).

torchrun starts N copies of the command with ``RANK``/``WORLD_SIZE``/``LOCAL_RANK`` set; each
joins one process group (NCCL on CUDA, one GPU per local rank; gloo on CPU). Every rank builds
the same model from the same seed, reads its own slice of the same seeded data order
(``build_dataloader(rank=, world_size=)``), and steps through :class:`TrainStep` — the model *and*
the objective in one DDP module, so the gradients of training-only parameters (feature adapters,
the FSI foreground head) are averaged too and every rank applies the same update. Buffers (BN
statistics, the KL warm-up weight, the step counter) follow rank 0: DDP broadcasts them before
each forward and :func:`sync_buffers` once more after each epoch, so all ranks end an epoch with
identical state. Only rank 0 validates, logs and writes checkpoints; ``--batch-size`` is per rank.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.distributed as torch_dist
from torch import nn

from edgeseg.errors import ConfigError


@dataclass(frozen=True)
class Dist:
    """Where this process stands in the job; the default is a plain single process."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def from_env() -> Dist:
    """torchrun's environment, or a single process when it is absent."""
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank, local = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    except ValueError as exc:
        raise ConfigError(f"Bad torchrun environment ({exc}); launch with torchrun") from exc
    return Dist(rank, world, local)


def setup(device: torch.device) -> tuple[Dist, torch.device]:
    """Join the process group when launched by torchrun; the device this rank trains on."""
    dist = from_env()
    if not dist.enabled:
        return dist, device
    if device.type == "cuda":
        if dist.local_rank >= torch.cuda.device_count():
            raise ConfigError(
                f"Local rank {dist.local_rank} has no GPU ({torch.cuda.device_count()} visible); "
                "lower --nproc-per-node"
            )
        device = torch.device("cuda", dist.local_rank)
        torch.cuda.set_device(device)
    if not torch_dist.is_initialized():
        torch_dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return dist, device


def teardown(dist: Dist) -> None:
    if dist.enabled and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()


def barrier(dist: Dist) -> None:
    if dist.enabled:
        torch_dist.barrier()


@contextlib.contextmanager
def main_first(dist: Dist) -> Iterator[None]:
    """Rank 0 runs the block first (e.g. fills the teacher cache); the others then reuse it."""
    if dist.enabled and not dist.main:
        torch_dist.barrier()
    yield
    if dist.enabled and dist.main:
        torch_dist.barrier()


class TrainStep(nn.Module):
    """``objective(model, batch)`` as one module, so DDP syncs the model and the objective."""

    def __init__(self, model: nn.Module, objective: nn.Module) -> None:
        super().__init__()
        self.model, self.objective = model, objective

    def forward(self, batch) -> torch.Tensor:
        return self.objective(self.model, batch)


def wrap(model: nn.Module, objective: nn.Module, dist: Dist, device: torch.device):
    """The DDP training step, or None for a single process (the loop calls the objective)."""
    if not dist.enabled:
        return None
    ids = [device.index] if device.type == "cuda" else None
    # Unused parameters are normal here: an aux head without aux loss, taps a loss ignores.
    return nn.parallel.DistributedDataParallel(
        TrainStep(model, objective), device_ids=ids, find_unused_parameters=True
    )


@torch.no_grad()
def sync_buffers(dist: Dist, *modules: nn.Module) -> None:
    """Rank 0's buffers everywhere (BN statistics drift per rank in the last step)."""
    if dist.enabled:
        for module in modules:
            for buffer in module.buffers():
                torch_dist.broadcast(buffer, src=0)


def mean_over_ranks(value: float, dist: Dist, device: torch.device) -> float:
    """The average of a per-rank number (the epoch loss) over all ranks."""
    if not dist.enabled:
        return value
    tensor = torch.tensor([value], dtype=torch.float64, device=device)
    torch_dist.all_reduce(tensor)
    return float(tensor.item()) / dist.world_size
