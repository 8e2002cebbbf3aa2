"""Dataset specs, the kind registry and the public API surface."""

from __future__ import annotations

from pathlib import Path

import pytest

import edgeseg.data as data
from edgeseg.data import DataSpec, build_dataset, parse_data_spec
from edgeseg.data.registry import register_dataset
from edgeseg.errors import ConfigError, DataError


def test_public_api() -> None:
    from edgeseg.data import (  # noqa: F401  (exactly what other code imports)
        IGNORE_INDEX,
        IMAGENET_MEAN,
        IMAGENET_STD,
        DatasetInfo,
        DataSpec,
        SegDataset,
        build_dataloader,
        build_dataset,
        compute_class_weights,
        eval_transforms,
        parse_data_spec,
        train_transforms,
    )

    assert IGNORE_INDEX == 255
    assert sorted(data.dataset_kinds()) == ["camvid", "folder", "images", "sample", "voc"]


@pytest.mark.parametrize(
    ("text", "kind", "path"),
    [
        ("camvid:/data/camvid", "camvid", Path("/data/camvid")),
        ("voc:rel/VOC2012", "voc", Path("rel/VOC2012")),
        ("FOLDER:/x", "folder", Path("/x")),
        ("images:/a:b", "images", Path("/a:b")),
        ("sample", "sample", None),
        ("sample:", "sample", None),
    ],
)
def test_parse(text: str, kind: str, path: Path | None) -> None:
    spec = parse_data_spec(text)
    assert spec == DataSpec(kind, path)
    assert parse_data_spec(str(spec)) == spec
    assert parse_data_spec(spec) is spec


def test_parse_expands_home() -> None:
    assert parse_data_spec("folder:~/d").path == Path("~/d").expanduser()


def test_unknown_kind_suggests() -> None:
    with pytest.raises(DataError, match=r"Unknown dataset kind 'camvd'.*'camvid'.*Valid: camvid"):
        parse_data_spec("camvd:/x")


def test_kind_without_path_says_form() -> None:
    with pytest.raises(DataError, match=r"use camvid:PATH"):
        parse_data_spec("camvid")
    with pytest.raises(DataError, match=r"use voc:PATH"):
        build_dataset("voc:")


def test_sample_takes_no_path() -> None:
    with pytest.raises(DataError, match="takes no path"):
        build_dataset("sample:/tmp")


def test_bad_split() -> None:
    with pytest.raises(ConfigError, match=r"Unknown split 'test'"):
        build_dataset("sample", split="test")


def test_duplicate_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        register_dataset("camvid")(lambda spec, split, transform: None)
