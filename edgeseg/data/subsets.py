"""Label-scarce training: a list of labelled images (``--labels LIST``) out of a training split.

The protocol of the semi-supervised seeds (OWLSAM, SemiVL): a few images keep their labels, the
rest of the split is *unlabelled* — its pictures are used, its masks never read. ``LIST`` holds
lines of the split's own list (``train/0001TP_006690.png trainannot/0001TP_006690.png``) or just
image file names; every line must name an image of the split, each once.

- ``edgeseg train --labels LIST`` trains on the labelled images alone (:class:`IndexedDataset`),
  repeated to the split's length (:class:`RepeatedDataset`): an epoch has as many steps as in the
  distillation run it is compared with, so "alone" is not starved of optimiser steps.
- ``edgeseg distill --labels LIST`` trains on the whole split (:class:`PartiallyLabeled`): the
  labelled images repeated to the split's length, exactly as "alone" sees them, *plus* each
  unlabelled image once — the semi-supervised methods' "a labelled batch and an unlabelled batch
  per step". Without the repeat the labelled images would be seen a tenth as often as by the
  run it is compared with (at 10 % labels), and the comparison would measure that, not the
  teacher. An unlabelled image's mask is all :data:`UNLABELED`, a value that is neither a class
  nor ignore, so the distillation objective uses its pixels for the teacher's terms only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from edgeseg.data.base import SegDataset
from edgeseg.errors import DataError

UNLABELED = 254  # mask value of a pixel of an unlabelled image (255 stays "ignore")


def read_label_list(path: str | Path, dataset: SegDataset) -> list[int]:
    """Indices into ``dataset`` of the images ``path`` lists; any line that names no image of
    the split, or names one twice, is a one-line :class:`DataError`."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"--labels {path}: cannot read it ({exc}); pass a text list") from exc
    by_name = {dataset.image_path(i).name: i for i in range(len(dataset))}
    chosen: dict[int, int] = {}
    for number, line in enumerate(lines, 1):
        words = line.split()
        if not words:
            continue
        index = by_name.get(Path(words[0]).name)
        if index is None:
            raise DataError(
                f"--labels {path} line {number}: '{words[0]}' is not an image of the training "
                f"split of {dataset.info.spec}; list images of that split only"
            )
        if index in chosen:
            raise DataError(
                f"--labels {path} line {number}: '{words[0]}' is listed twice "
                f"(first on line {chosen[index]}); list each image once"
            )
        chosen[index] = number
    if not chosen:
        raise DataError(f"--labels {path} lists no image; write one image per line")
    return sorted(chosen)


class _View(SegDataset):
    """A dataset seen through an index map; everything else is the base's."""

    def __init__(self, base: SegDataset, indices: Sequence[int]) -> None:
        super().__init__(base.info, base.transform)
        self.base, self.indices = base, list(indices)

    def __len__(self) -> int:
        return len(self.indices)

    def source_index(self, index: int) -> int:
        """The split's index of item ``index`` through any views below (what a teacher cache is
        keyed by)."""
        inner = self.indices[index]
        return self.base.source_index(inner) if isinstance(self.base, _View) else inner

    def image_path(self, index: int) -> Path:
        return self.base.image_path(self.indices[index])

    def image_size(self, index: int) -> tuple[int, int]:
        return self.base.image_size(self.indices[index])

    def load_image(self, index: int) -> Image.Image:
        return self.base.load_image(self.indices[index])

    def load_mask(self, index: int) -> np.ndarray:
        return self.base.load_mask(self.indices[index])


class IndexedDataset(_View):
    """The labelled images only (class weights, training alone)."""


class RepeatedDataset(_View):
    """``base`` cycled to ``length`` items (the labelled subset, as long as the whole split)."""

    def __init__(self, base: SegDataset, length: int) -> None:
        super().__init__(base, [i % len(base) for i in range(max(length, len(base)))])


class PartiallyLabeled(_View):
    """The labelled images cycled to the split's length, then every other image of the split
    once with its mask all :data:`UNLABELED` (``len(base) + unlabelled`` items)."""

    def __init__(self, base: SegDataset, labeled: Sequence[int]) -> None:
        self.labeled = frozenset(labeled)
        repeated = RepeatedDataset(IndexedDataset(base, sorted(self.labeled)), len(base))
        pool = [i for i in range(len(base)) if i not in self.labeled]
        super().__init__(base, [repeated.source_index(i) for i in range(len(repeated))] + pool)

    def load_mask(self, index: int) -> np.ndarray:
        source = self.indices[index]
        if source in self.labeled:
            return self.base.load_mask(source)
        return np.full(self.base.image_size(source), UNLABELED, dtype=np.uint8)
