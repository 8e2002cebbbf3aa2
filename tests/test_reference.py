"""The reference mIoU in every sidecar: written by a real export, exact on any image subset."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from edgeseg.export import export_checkpoint
from edgeseg.metrics import ConfusionMatrix
from edgeseg.reference import Reference, ReferenceError, dataset_key, image_counts, read_reference
from edgeseg.sidecar import read_sidecar
from tests.conftest import SIZE


def test_export_records_the_checkpoints_reference(shared_export) -> None:
    outcome = shared_export("onnx")
    meta = read_sidecar(outcome.result.path)
    raw = meta["reference"]
    assert (raw["dataset"], raw["split"], raw["size"], raw["images"]) == (
        "sample",
        "val",
        list(SIZE),
        48,  # every val image of the built-in sample
    )
    ref = read_reference(meta)
    assert ref.counts.shape == (48, 2, 5) and (ref.counts[:, 0] <= ref.counts[:, 1]).all()
    miou, per_class = ref.score()
    assert miou == pytest.approx(raw["miou"]) and per_class == raw["per_class_iou"]
    # the same mIoU as the export's own parity check on its first 4 images (eager model)
    parity = outcome.parity
    assert ref.score(range(parity.images))[0] == pytest.approx(parity.miou_eager, abs=1e-6)


def test_export_without_labelled_data_records_no_reference(sample_checkpoint, tmp_path) -> None:
    from PIL import Image

    pictures = tmp_path / "pictures"
    pictures.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 255, (*SIZE, 3), np.uint8)).save(pictures / f"{i}.png")
    (outcome,) = export_checkpoint(
        sample_checkpoint, "torchscript", calib_data=f"images:{pictures}", out=tmp_path / "out"
    )
    assert outcome.ok, outcome.parity.reason
    assert "reference" not in read_sidecar(outcome.result.path)
    notes = outcome.result.notes
    assert any(n.startswith("no reference mIoU:") and "no labels" in n for n in notes)


def test_subset_score_is_the_confusion_matrix_of_those_images() -> None:
    rng = np.random.default_rng(1)
    preds = rng.integers(0, 4, (6, 9, 11), dtype=np.uint8)
    truths = rng.integers(0, 4, (6, 9, 11), dtype=np.uint8)
    truths[:, 0] = 255  # ignored pixels
    truths[truths == 3] = 2  # class 3 only ever predicted: IoU 0, still in the mean
    counts = np.stack([image_counts(p, t, 4) for p, t in zip(preds, truths)])
    ref = Reference(("a", "b", "c", "d"), "sample", "val", (9, 11), counts)
    back = Reference.from_dict(json.loads(json.dumps(ref.as_dict())))
    for subset in ([0], [1, 4], [5, 0, 3], None):
        picked = range(6) if subset is None else subset
        cm = ConfusionMatrix(4)
        for i in picked:
            cm.update(torch.from_numpy(truths[i].astype(np.int64)), torch.from_numpy(preds[i]))
        assert back.score(subset)[0] == pytest.approx(cm.compute().miou)


def test_malformed_reference_and_dataset_keys(tmp_path, monkeypatch) -> None:
    with pytest.raises(ReferenceError, match="m.onnx.json: its 'reference' is malformed"):
        read_reference({"reference": {"miou": 0.5}}, "m.onnx.json")
    assert read_reference({}) is None
    monkeypatch.chdir(tmp_path)
    assert dataset_key("camvid:data/camvid") == f"camvid:{tmp_path / 'data' / 'camvid'}"
    assert dataset_key("Sample") == "sample"


def test_export_cli_says_what_reference_it_recorded(sample_checkpoint, tmp_path, capsys) -> None:
    from edgeseg.cli import main

    args = ["export", str(sample_checkpoint), "--target", "torchscript", "--out", str(tmp_path)]
    assert main([*args, "--reference-images", "-1"]) == 2
    assert "--reference-images" in capsys.readouterr().err
    assert main([*args, "--reference-images", "5"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "reference mIoU (the checkpoint, eager): " in out
    assert "on sample val, 5 images at 64x80; in every sidecar" in out
    (artifact,) = tmp_path.glob("*.pt")
    assert read_sidecar(artifact)["reference"]["images"] == 5
