"""What every edgeseg dataset is: :class:`DatasetInfo` plus a :class:`SegDataset` of (image, mask).

File-backed kinds (VOC, CamVid, folder, images) only differ in how they find their
(image, mask) pairs; :class:`FileDataset` does the rest once — a cheap header check of every pair
at construction (so a bad file fails before an hour of training, not in epoch 3), decoding with
errors that name the file, the label remap (CamVid's void → 255) and the label-range check.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError
from torch.utils.data import Dataset

from edgeseg.errors import DataError

IGNORE_INDEX = 255
"""Label that the loss and the metrics skip: VOC borders, CamVid void, padding."""

Transform = Callable[[Image.Image, Image.Image], Any]
# What PIL raises for files it cannot identify or decode (SyntaxError: some broken PNG headers).
_PIL_ERRORS = (OSError, SyntaxError, ValueError)


@dataclass(frozen=True, kw_only=True)
class DatasetInfo:
    """What a model and a report need to know about a dataset, without loading any of it."""

    name: str
    classes: tuple[str, ...]
    palette: tuple[tuple[int, int, int], ...]
    ignore_index: int = IGNORE_INDEX
    labeled: bool
    spec: str

    @property
    def num_classes(self) -> int:
        return len(self.classes)


class SegDataset(Dataset):
    """Base of every dataset: ``ds[i]`` is ``transform(image, mask)`` or the raw PIL pair.

    Subclasses provide ``__len__``, ``image_path``, ``image_size``, ``load_image`` and
    ``load_mask``; this class joins them so that every kind checks and returns items alike.
    """

    def __init__(self, info: DatasetInfo, transform: Transform | None = None) -> None:
        self.info = info
        self.transform = transform

    def __len__(self) -> int:
        raise NotImplementedError

    def image_path(self, index: int) -> Path:
        """Where image ``index`` comes from (names outputs such as overlays or pseudo-labels)."""
        raise NotImplementedError

    def image_size(self, index: int) -> tuple[int, int]:
        """(H, W) of image ``index`` without decoding it."""
        raise NotImplementedError

    def load_image(self, index: int) -> Image.Image:
        """Image ``index`` as a PIL RGB image."""
        raise NotImplementedError

    def load_mask(self, index: int) -> np.ndarray:
        """Mask ``index`` as uint8 [H, W] class ids, already remapped: ignore = 255."""
        raise NotImplementedError

    def __getitem__(self, index: int) -> Any:
        image = self.load_image(index)
        mask = self.load_mask(index)
        if mask.shape != (image.height, image.width):
            raise DataError(
                f"Mask of {self.image_path(index)} is {mask.shape[1]}x{mask.shape[0]} but the "
                f"image is {image.width}x{image.height} (WxH); masks must match their images"
            )
        mask_image = Image.fromarray(mask)
        if self.transform is None:
            return image, mask_image
        return self.transform(image, mask_image)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.info.spec!r}, {len(self)} items)"


class FileDataset(SegDataset):
    """(image, mask) pairs on disk; ``mask=None`` means unlabeled (an all-255 mask is returned).

    ``origin`` says where the pairs came from (a list file or a folder) so that messages can
    point at it; ``lut`` maps raw mask values to class ids (CamVid: 11 → 255).
    """

    def __init__(
        self,
        info: DatasetInfo,
        pairs: Sequence[tuple[Path, Path | None]],
        origin: str,
        transform: Transform | None = None,
        lut: np.ndarray | None = None,
    ) -> None:
        super().__init__(info, transform)
        if not pairs:
            raise DataError(f"No images found in {origin}; check the dataset path and layout")
        self._pairs = list(pairs)
        self._lut = lut
        self._sizes = [_check_pair(image, mask, origin) for image, mask in self._pairs]

    def __len__(self) -> int:
        return len(self._pairs)

    def image_path(self, index: int) -> Path:
        return self._pairs[index][0]

    def image_size(self, index: int) -> tuple[int, int]:
        return self._sizes[index]

    def load_image(self, index: int) -> Image.Image:
        path = self._pairs[index][0]
        try:
            with Image.open(path) as image:
                return image.convert("RGB")
        except _PIL_ERRORS as err:
            raise DataError(
                f"Cannot decode image {path}: {_reason(err)}; replace or remove it"
            ) from err

    def load_mask(self, index: int) -> np.ndarray:
        path = self._pairs[index][1]
        if path is None:
            return np.full(self._sizes[index], IGNORE_INDEX, dtype=np.uint8)
        mask = read_mask(path)
        if self._lut is not None:
            mask = self._lut[mask]
        check_labels(mask, self.info.num_classes, path)
        return mask


def read_mask(path: Path) -> np.ndarray:
    """Class ids of a mask file as uint8 [H, W]: palette indices (VOC), grey values, 16-bit ids."""
    try:
        with Image.open(path) as image:
            mode = image.mode
            if mode in ("RGB", "RGBA"):
                rgb = np.asarray(image.convert("RGB"))
                if not ((rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all()):
                    raise DataError(
                        f"Mask {path} is a colour image; masks must hold class ids "
                        "(palette or greyscale PNG): convert colours to ids first"
                    )
                return rgb[..., 0].copy()
            if mode not in ("P", "L", "1", "I", "I;16", "I;16B", "I;16L"):
                raise DataError(f"Mask {path} has unsupported mode {mode}; save it as an 8-bit PNG")
            mask = np.array(image)
    except _PIL_ERRORS as err:
        raise DataError(f"Cannot decode mask {path}: {_reason(err)}; replace or remove it") from err
    if mask.dtype != np.uint8:
        if mask.size and (mask.min() < 0 or mask.max() > IGNORE_INDEX):
            raise DataError(
                f"Mask {path} has label id {int(mask.max())}; ids must be 0..254 or 255 (ignore)"
            )
        mask = mask.astype(np.uint8)
    return mask


def check_labels(mask: np.ndarray, num_classes: int, path: Path | str) -> None:
    """Fail on an id that is neither a class nor 255 — it would index past the model's logits."""
    if mask.size == 0 or int(mask.max()) < num_classes:
        return
    bad = mask[(mask >= num_classes) & (mask != IGNORE_INDEX)]
    if bad.size:
        raise DataError(
            f"Mask {path} has label id {int(bad.max())} but the dataset has {num_classes} "
            f"classes (ids 0..{num_classes - 1}, {IGNORE_INDEX} = ignore); fix the mask or the "
            "class list"
        )


def _check_pair(image: Path, mask: Path | None, origin: str) -> tuple[int, int]:
    """(H, W) of ``image`` after checking it and its mask exist, open, and agree in size."""
    size = _probe(image, "image", origin)
    if mask is not None:
        mask_size = _probe(mask, "mask", origin)
        if mask_size != size:
            raise DataError(
                f"Mask {mask} is {mask_size[1]}x{mask_size[0]} but image {image} is "
                f"{size[1]}x{size[0]} (WxH); masks must match their images pixel for pixel"
            )
    return size


def _probe(path: Path, what: str, origin: str) -> tuple[int, int]:
    """(H, W) from the file header only: no pixel is decoded, so checking 10k files is cheap."""
    if not path.is_file():
        raise DataError(
            f"{what.capitalize()} {path} (from {origin}) does not exist; "
            "fix the entry or restore the file"
        )
    try:
        with Image.open(path) as handle:
            width, height = handle.size
    except _PIL_ERRORS as err:
        raise DataError(f"Cannot read {what} {path}: {_reason(err)}; replace or remove it") from err
    return height, width


def _reason(err: Exception) -> str:
    """PIL's message without the path it repeats."""
    if isinstance(err, UnidentifiedImageError):
        return "not an image format PIL can read"
    return str(err) or type(err).__name__


def require_dir(path: Path | None, form: str) -> Path:
    """``path`` if it is a folder, else one line saying what was expected (``form``)."""
    if path is None or not path.is_dir():
        raise DataError(f"Dataset folder {path} does not exist; pass an existing folder ({form})")
    return path


def read_list(path: Path, what: str) -> list[str]:
    """Non-empty, stripped lines of a split list; a missing list names the file it wanted."""
    if not path.is_file():
        raise DataError(f"List file {path} does not exist; {what}")
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]
