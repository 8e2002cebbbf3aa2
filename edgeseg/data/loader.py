"""``build_dataloader``: batches whose order *and* augmentations depend only on ``seed``.

The usual recipe (a seeded generator for the order, ``worker_init_fn`` for numpy/random) still
lets augmentations depend on the number of workers, and with ``workers=0`` on whatever the
global RNG went through before. Here the sampler hands every item a seed drawn from the loader's
own generator, and the item is loaded with ``random``, ``numpy`` and ``torch`` seeded from it and
restored afterwards: the same ``seed`` gives the same batches with 0, 2 or 8 workers, a resumed
run sees what the first one saw, and the caller's global RNG state is left untouched. Under DDP
every rank draws the same order and takes every ``world_size``-th item from ``rank`` (the tail
that does not divide evenly is dropped, so all ranks take the same number of steps); an item is
augmented the same whichever rank loads it.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator, Sized
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from edgeseg.errors import ConfigError

_SEED_RANGE = 2**62


class _SeededSampler(Sampler):
    """Yields ``(index, epoch_seed)``: a fresh epoch seed and order from ``generator`` per pass;
    with ``world_size > 1`` only this rank's share of that order."""

    def __init__(
        self,
        size: int,
        shuffle: bool,
        generator: torch.Generator,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        self.size, self.shuffle, self.generator = size, shuffle, generator
        self.rank, self.world_size = rank, world_size

    def __len__(self) -> int:
        return self.size // self.world_size

    def __iter__(self) -> Iterator[tuple[int, int]]:
        epoch_seed = int(torch.randint(_SEED_RANGE, (1,), generator=self.generator))
        order = list(range(self.size))
        if self.shuffle:
            order = torch.randperm(self.size, generator=self.generator).tolist()
        usable = len(self) * self.world_size
        for index in order[self.rank : usable : self.world_size]:
            yield index, epoch_seed


class _SeededItems(Dataset):
    """Loads ``dataset[index]`` under RNGs seeded from ``(epoch_seed, index)``.

    Attribute access falls through to the wrapped dataset, so ``loader.dataset.info`` works.
    """

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, key: tuple[int, int] | int) -> Any:
        if isinstance(key, int):  # direct use, outside the sampler: no seeding
            return self.dataset[key]
        index, epoch_seed = key
        seed = int(np.random.SeedSequence((epoch_seed, index)).generate_state(1)[0])
        with _seeded_rngs(seed):
            return self.dataset[index]

    def __getattr__(self, name: str) -> Any:
        # 'dataset' is unset while unpickling in a worker; dunders (__getitems__, __setstate__)
        # of the wrapped dataset would bypass the seeding or break pickling.
        if name == "dataset" or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.dataset, name)


@contextlib.contextmanager
def _seeded_rngs(seed: int) -> Iterator[None]:
    """Seed ``random``, ``numpy`` and torch's CPU RNG; restore all three on exit."""
    py_state, np_state = random.getstate(), np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        random.seed(seed)
        np.random.seed(seed)
        torch.random.default_generator.manual_seed(seed)
        try:
            yield
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)


def build_dataloader(
    dataset: Dataset,
    batch_size: int,
    shuffle: bool,
    workers: int = 0,
    seed: int = 0,
    drop_last: bool = False,
    rank: int = 0,
    world_size: int = 1,
) -> DataLoader:
    """A DataLoader whose batches depend only on ``seed`` (see the module docstring).

    Every pass draws a new order and new augmentations from the loader's generator, so epochs
    differ from each other but a loader rebuilt with the same seed repeats them exactly.
    """
    if batch_size < 1:
        raise ConfigError(f"Bad batch size {batch_size}: use 1 or more")
    if not 0 <= rank < world_size:
        raise ConfigError(f"Bad rank {rank} of {world_size} processes")
    if workers < 0:
        raise ConfigError(f"Bad worker count {workers}: use 0 (load in this process) or more")
    if not isinstance(dataset, Sized):
        raise ConfigError("build_dataloader needs a dataset with a length (map-style)")
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(
        _SeededItems(dataset),
        batch_size=batch_size,
        sampler=_SeededSampler(len(dataset), shuffle, generator, rank, world_size),
        num_workers=workers,
        drop_last=drop_last,
        generator=generator,
    )
