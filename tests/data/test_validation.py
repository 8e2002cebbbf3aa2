"""Every bad input gives one DataError line that names the file and what to do."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edgeseg.data import build_dataset
from edgeseg.errors import DataError

from .conftest import make_folder, make_images, save


def one_line_error(spec: str, split: str = "train", load: int | None = None) -> str:
    with pytest.raises(DataError) as caught:
        ds = build_dataset(spec, split)
        if load is not None:
            ds[load]
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_missing_dataset_folder(tmp_path: Path) -> None:
    message = one_line_error(f"camvid:{tmp_path / 'nope'}")
    assert "nope" in message and "camvid:PATH" in message
    assert "nope" in one_line_error(f"folder:{tmp_path / 'nope'}")
    assert "nope" in one_line_error(f"images:{tmp_path / 'nope'}")


def test_missing_list_file(camvid_fake: Path, voc_root: Path) -> None:
    (camvid_fake / "val.txt").unlink()
    assert "val.txt" in one_line_error(f"camvid:{camvid_fake}", "val")
    (voc_root / "ImageSets" / "Segmentation" / "train.txt").unlink()
    assert "Segmentation/train.txt" in one_line_error(f"voc:{voc_root}")


def test_not_a_voc_folder(tmp_path: Path) -> None:
    assert "JPEGImages" in one_line_error(f"voc:{tmp_path}")


def test_list_entry_to_missing_file(camvid_fake: Path, voc_root: Path) -> None:
    (camvid_fake / "trainannot" / "f001.png").unlink()
    message = one_line_error(f"camvid:{camvid_fake}")
    assert "trainannot/f001.png" in message and "train.txt" in message
    (voc_root / "JPEGImages" / "2008_000001.jpg").unlink()
    assert "2008_000001.jpg" in one_line_error(f"voc:{voc_root}", "val")


def test_bad_list_line(camvid_fake: Path) -> None:
    (camvid_fake / "train.txt").write_text("train/f000.png\n")
    assert "train.txt:1" in one_line_error(f"camvid:{camvid_fake}")


def test_folder_images_without_masks(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "f", count=12)
    for name in ("img03", "img05", "img07"):
        (root / "masks" / f"{name}.png").unlink()
    message = one_line_error(f"folder:{root}")
    assert "3 of 10 images have no mask" in message and "img03.jpg" in message


def test_folder_missing_parts(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "f")
    (root / "classes.txt").unlink()
    assert "classes.txt" in one_line_error(f"folder:{root}")
    root = make_folder(tmp_path / "g")
    shutil.rmtree(root / "masks")
    assert "masks" in one_line_error(f"folder:{root}")
    root = make_folder(tmp_path / "h", layout="lists")
    (root / "val.txt").write_text("img99\n")
    assert "img99" in one_line_error(f"folder:{root}", "val")


def test_bad_classes_file(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "f", classes="a 1 2 3\nb\n")
    assert "'b' has no colour" in one_line_error(f"folder:{root}")
    (root / "classes.txt").write_text("a\na\n")
    assert "twice" in one_line_error(f"folder:{root}")
    (root / "classes.txt").write_text("a 1 2 300\n")
    assert "classes.txt:1" in one_line_error(f"folder:{root}")


def test_mask_size_mismatch_at_construction(camvid_fake: Path) -> None:
    save(np.zeros((10, 10), dtype=np.uint8), camvid_fake / "trainannot" / "f002.png")
    message = one_line_error(f"camvid:{camvid_fake}")
    assert "f002.png" in message and "10x10" in message and "32x24" in message


def test_corrupt_image_at_construction(camvid_fake: Path) -> None:
    (camvid_fake / "train" / "f001.png").write_bytes(b"this is no png")
    message = one_line_error(f"camvid:{camvid_fake}")
    assert "Cannot read image" in message and "f001.png" in message


def test_truncated_image_at_load(camvid_fake: Path) -> None:
    path = camvid_fake / "train" / "f001.png"
    path.write_bytes(path.read_bytes()[:120])  # header intact, pixel data cut
    message = one_line_error(f"camvid:{camvid_fake}", load=1)
    assert "Cannot decode image" in message and "f001.png" in message


def test_unreadable_mask_at_load(camvid_fake: Path) -> None:
    path = camvid_fake / "trainannot" / "f000.png"
    path.write_bytes(path.read_bytes()[:70])
    message = one_line_error(f"camvid:{camvid_fake}", load=0)
    assert "Cannot decode mask" in message and "f000.png" in message


def test_colour_mask_is_refused(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "f", count=3)
    colour = np.zeros((20, 24, 3), dtype=np.uint8)
    colour[..., 0] = 128
    save(colour, root / "masks" / "img01.png")
    assert "colour image" in one_line_error(f"folder:{root}", load=0)
    grey = np.repeat(np.asarray(Image.open(root / "masks" / "img02.png"))[..., None], 3, axis=2)
    save(grey, root / "masks" / "img01.png")  # grey saved as RGB is fine
    build_dataset(f"folder:{root}")[0]


def test_label_out_of_range(camvid_fake: Path, tmp_path: Path) -> None:
    mask = np.asarray(Image.open(camvid_fake / "trainannot" / "f001.png")).copy()
    mask[3, 3] = 17
    save(mask, camvid_fake / "trainannot" / "f001.png")
    message = one_line_error(f"camvid:{camvid_fake}", load=1)
    assert "f001.png" in message and "label id 17" in message and "11 classes" in message
    root = make_folder(tmp_path / "f", count=2)
    save(np.full((20, 24), 3, dtype=np.uint8), root / "masks" / "img01.png")
    message = one_line_error(f"folder:{root}", load=0)
    assert "img01.png" in message and "label id 3" in message and "3 classes" in message


def test_empty_datasets(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert "No images found" in one_line_error(f"images:{tmp_path / 'empty'}")
    root = make_folder(tmp_path / "f", count=1)
    assert "No images found" in one_line_error(f"folder:{root}", "train")  # the one image is val
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "train.txt").write_text("\n")
    assert "train.txt" in one_line_error(f"camvid:{tmp_path / 'c'}")


def test_duplicate_stems(tmp_path: Path) -> None:
    root = make_images(tmp_path / "i")
    shutil.copy(root / "im1.png", root / "im0.png")
    message = one_line_error(f"images:{root}")
    assert "im0.jpg" in message and "im0.png" in message
