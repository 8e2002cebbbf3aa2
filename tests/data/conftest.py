"""Tiny on-disk datasets in every layout edgeseg reads, built per test in ``tmp_path``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edgeseg.data.classes import voc_colormap

VOC_PALETTE_BYTES = [value for colour in voc_colormap(256) for value in colour]


def scene(height: int, width: int, seed: int, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """(RGB image, id mask): horizontal bands of classes; the image's red channel encodes them."""
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.integers(0, num_classes, size=height))
    mask = np.repeat(rows[:, None], width, axis=1).astype(np.uint8)
    image = np.zeros((height, width, 3), dtype=np.uint8)
    image[..., 0] = mask * 20 + 10
    image[..., 1] = rng.integers(0, 255, size=(height, width))
    return image, mask


def save_palette_png(mask: np.ndarray, path: Path) -> None:
    image = Image.frombytes("P", (mask.shape[1], mask.shape[0]), mask.tobytes())
    image.putpalette(VOC_PALETTE_BYTES)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def save(array: np.ndarray, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


def make_voc(root: Path, train: int = 3, val: int = 2) -> Path:
    """``root/VOCdevkit/VOC2012`` with JPEGs and palette masks that have 255 object borders."""
    voc = root / "VOCdevkit" / "VOC2012"
    stems = {"train": [f"2007_{i:06d}" for i in range(train)]}
    stems["val"] = [f"2008_{i:06d}" for i in range(val)]
    for split, names in stems.items():
        for i, stem in enumerate(names):
            image, mask = scene(
                30 + 2 * i, 40, seed=i + (100 if split == "val" else 0), num_classes=21
            )
            mask[:, 0] = 255  # VOC's "border / difficult" label
            save(image, voc / "JPEGImages" / f"{stem}.jpg")
            save_palette_png(mask, voc / "SegmentationClass" / f"{stem}.png")
        lists = voc / "ImageSets" / "Segmentation" / f"{split}.txt"
        lists.parent.mkdir(parents=True, exist_ok=True)
        lists.write_text("".join(f"{s}\n" for s in names))
    return voc


def make_camvid(root: Path, train: int = 3, val: int = 2) -> Path:
    """SegNet-layout CamVid: ids 0..11 where 11 is void."""
    for split, count in (("train", train), ("val", val)):
        lines = []
        for i in range(count):
            image, mask = scene(24, 32, seed=i + (50 if split == "val" else 0), num_classes=12)
            mask[0, :] = 11
            save(image, root / split / f"f{i:03d}.png")
            save(mask, root / f"{split}annot" / f"f{i:03d}.png")
            lines.append(f"{split}/f{i:03d}.png {split}annot/f{i:03d}.png\n")
        (root / f"{split}.txt").write_text("".join(lines))
    return root


def make_folder(root: Path, count: int = 12, layout: str = "auto", classes: str = "") -> Path:
    """``folder:`` layout: 'auto' (no lists), 'lists' (train.txt/val.txt) or 'splits' (dirs)."""
    (root / "classes.txt").parent.mkdir(parents=True, exist_ok=True)
    (root / "classes.txt").write_text(classes or "background\ncat\ndog\n")
    names = [f"img{i:02d}" for i in range(count)]
    for i, name in enumerate(names):
        image, mask = scene(20, 24, seed=i, num_classes=3)
        mask[-1, -1] = 255
        base = root if layout != "splits" else root / ("val" if i % 4 == 0 else "train")
        save(image, base / "images" / f"{name}.jpg")
        save(mask, base / "masks" / f"{name}.png")
    if layout == "lists":
        (root / "train.txt").write_text("\n".join(names[:8]) + "\n")
        (root / "val.txt").write_text("\n".join(f"{n}.jpg" for n in names[8:]) + "\n")
    return root


def make_images(root: Path) -> Path:
    """Unlabeled images of several formats and sizes, one in a subfolder, plus a stray text file."""
    for i, suffix in enumerate(("jpg", "png", "bmp", "webp")):
        image, _ = scene(16 + i, 20, seed=i, num_classes=3)
        save(image, root / f"im{i}.{suffix}")
    save(scene(10, 12, seed=9, num_classes=3)[0], root / "sub" / "deep.JPEG")
    (root / "notes.txt").write_text("not an image")
    return root


@pytest.fixture
def voc_root(tmp_path: Path) -> Path:
    return make_voc(tmp_path / "voc")


@pytest.fixture
def camvid_fake(tmp_path: Path) -> Path:
    return make_camvid(tmp_path / "camvid")
