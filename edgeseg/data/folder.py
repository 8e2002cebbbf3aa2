"""Your own data: ``images/`` + ``masks/`` (same stem, ``.png``, pixel = class id) + classes.txt.

Splits, first match wins:

1. ``PATH/train/{images,masks}`` and ``PATH/val/{images,masks}``: the folders are the splits;
2. ``PATH/train.txt`` / ``PATH/val.txt``: image stems (paths under ``images/`` without suffix);
3. neither: a fixed split — images sorted by name, every 10th one (the 1st, 11th, 21st, …) is
   ``val`` and the rest ``train``. It depends only on the file names, so it never changes between
   runs or machines, and ``val`` is never empty.

Images may sit in subfolders; a mask mirrors the image's relative path (``images/a/b.jpg`` →
``masks/a/b.png``). ``classes.txt`` holds one class per line, ``name`` or ``name r g b``.
"""

from __future__ import annotations

from pathlib import Path

from edgeseg.data.base import DatasetInfo, FileDataset, Transform, read_list, require_dir
from edgeseg.data.classes import read_classes_file
from edgeseg.data.registry import DataSpec, register_dataset
from edgeseg.errors import DataError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
VAL_EVERY = 10
_FORM = "folder:PATH, PATH holding images/, masks/ and classes.txt"


def scan_images(folder: Path) -> dict[str, Path]:
    """Images under ``folder`` (recursive) by stem key: relative path without suffix, sorted."""
    found: dict[str, Path] = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file():
            continue
        key = path.relative_to(folder).with_suffix("").as_posix()
        if key in found:
            raise DataError(
                f"Images {found[key]} and {path} share the name '{key}'; masks and outputs are "
                "matched by name, so rename or remove one"
            )
        found[key] = path
    return found


@register_dataset("folder")
def build(spec: DataSpec, split: str, transform: Transform | None) -> FileDataset:
    root = require_dir(spec.path, _FORM)
    classes_file = root / "classes.txt"
    if not classes_file.is_file():
        raise DataError(f"{classes_file} does not exist; write one class name per line ({_FORM})")
    classes, palette = read_classes_file(classes_file)
    if (root / "train" / "images").is_dir():
        base = root / split
        images = scan_images(_subdir(base, "images"))
        keys = list(images)
    else:
        base = root
        images = scan_images(_subdir(root, "images"))
        keys = _split_keys(root, split, images)
    masks = _subdir(base, "masks")
    pairs = [(images[key], masks / f"{key}.png") for key in keys]
    _check_masks_exist(pairs, masks)
    info = DatasetInfo(
        name="folder", classes=classes, palette=palette, labeled=True, spec=str(spec)
    )
    return FileDataset(info, pairs, f"{base / 'images'} ({split})", transform)


def _subdir(base: Path, name: str) -> Path:
    folder = base / name
    if not folder.is_dir():
        raise DataError(f"Folder {folder} does not exist; expected {_FORM}")
    return folder


def _split_keys(root: Path, split: str, images: dict[str, Path]) -> list[str]:
    """The split's image keys from ``{split}.txt`` if there are list files, else every 10th."""
    lists = [root / f"{s}.txt" for s in ("train", "val")]
    if not any(p.is_file() for p in lists):
        keys = sorted(images)
        return [k for i, k in enumerate(keys) if (i % VAL_EVERY == 0) == (split == "val")]
    list_file = root / f"{split}.txt"
    keys = []
    for entry in read_list(list_file, "list image stems, one per line, or remove the lists"):
        key = entry if entry in images else Path(entry).with_suffix("").as_posix()
        if key not in images:
            raise DataError(
                f"{list_file} lists '{entry}' but {root / 'images'} has no such image; "
                "fix the list or add the image"
            )
        keys.append(key)
    return keys


def _check_masks_exist(pairs: list[tuple[Path, Path]], masks: Path) -> None:
    missing = [(image, mask) for image, mask in pairs if not mask.is_file()]
    if missing:
        image, mask = missing[0]
        raise DataError(
            f"{len(missing)} of {len(pairs)} images have no mask in {masks}, first: {image} "
            f"(expected {mask}); add the masks or remove those images"
        )
