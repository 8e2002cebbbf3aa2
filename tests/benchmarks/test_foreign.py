"""Third-party models without a sidecar (../shared/models): Google's float DeepLabV3 and Coral's
uint8 one with the argmax in the graph — latency, labels from tensors, mIoU through a class map
on real CamVid, and exactly 100 % on a VOC-format set labelled with the model's own masks."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from edgeseg.benchmarks.base import BenchError, get_runner
from edgeseg.benchmarks.bench import run_bench
from edgeseg.benchmarks.measure import measure
from edgeseg.benchmarks.options import (
    AccuracyOptions,
    BenchOptions,
    FeedOptions,
    RunRequest,
    TimingOptions,
)
from edgeseg.contract import postprocess, preprocess

SPEC = TimingOptions(warmup=0, runs=2)
VOC_TO_CAMVID = {
    "person": "Pedestrian",
    "car": "Car",
    "bus": "Car",
    "bicycle": "Bicyclist",
    "motorbike": "Bicyclist",
}


@pytest.fixture(scope="module")
def models(shared_dir):
    return {
        n: shared_dir / "models" / f"{n}.tflite"
        for n in ("deeplabv3_257_mv_gpu", "deeplabv3_mnv2_pascal_quant")
    }


def test_latency_and_labels_from_tensors(models) -> None:
    rows = run_bench(list(models.values()), BenchOptions(SPEC, progress=False))
    google, coral = rows.results
    assert google.status == coral.status == "ok", (google.reason, coral.reason)
    assert (google.quantization, coral.quantization) == ("fp32", "int8")
    assert any("raw pixels" in n for n in coral.extra["notes"])
    assert google.latency.median_ms > 0 and coral.latency.median_ms > 0


def test_miou_on_camvid_through_a_class_map(models, camvid_dir, tmp_path) -> None:
    cmap = tmp_path / "voc_to_camvid.json"
    cmap.write_text(json.dumps(VOC_TO_CAMVID))
    job = AccuracyOptions(data=f"camvid:{camvid_dir}", images=2, class_map=str(cmap))
    report = run_bench(list(models.values()), BenchOptions(SPEC, job, progress=False))
    for row in report.results:
        assert row.status == "ok", row.reason
        assert row.per_class_iou["Road"] == 0.0  # a VOC model never says road
        assert row.extra["miou_mapped"] is not None and 0 < row.miou < row.extra["miou_mapped"]


def test_unknown_float_model_needs_mean_std(models, tmp_path) -> None:
    """The same bytes would be recognised: change one so the sha256 note no longer applies."""
    data = bytearray(models["deeplabv3_257_mv_gpu"].read_bytes())
    data[-1] ^= 0xFF
    foreign = tmp_path / "someone_elses.tflite"
    foreign.write_bytes(bytes(data))
    accuracy = AccuracyOptions(data="sample", images=1)
    job = RunRequest(timing=SPEC, accuracy=accuracy, data_classes=("a",) * 5)
    row = measure(get_runner("tflite"), foreign, job)
    assert row.status == "ok" and row.latency.runs == 2 and row.miou is None
    assert any("pass --mean and --std" in n for n in row.extra["notes"])
    feed = FeedOptions((0.5,) * 3, (0.5,) * 3, "voc")  # now fed, named: sample ≠ VOC
    job = RunRequest(timing=SPEC, accuracy=accuracy, feed=feed, data_classes=("a",) * 5)
    with pytest.raises(BenchError, match="predicts 21 classes .* sample has 5"):
        measure(get_runner("tflite"), foreign, job)


def test_voc_set_labelled_by_the_model_scores_100(models, camvid_dir, tmp_path) -> None:
    """Image already at 513², label = the model's own mask: every step (contract preprocess,
    runtime, nearest label resize, class ids) must line up exactly for 100 %."""
    coral = models["deeplabv3_mnv2_pascal_quant"]
    voc = tmp_path / "VOC2012"
    for sub in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation"):
        (voc / sub).mkdir(parents=True)
    image = np.asarray(
        Image.open(sorted((camvid_dir / "val").glob("*.png"))[0]).convert("RGB").resize((513, 513))
    )
    Image.fromarray(image).save(voc / "JPEGImages" / "a.jpg", quality=100)
    image = np.asarray(Image.open(voc / "JPEGImages" / "a.jpg").convert("RGB"))
    session = get_runner("tflite").load(coral, 1)
    from edgeseg.benchmarks.feed import resolve_feed

    contract = resolve_feed(coral, session, FeedOptions()).contract
    mask = postprocess(session(preprocess(image, contract)), contract)
    Image.fromarray(mask).save(voc / "SegmentationClass" / "a.png")
    for split in ("train", "val"):
        (voc / "ImageSets" / "Segmentation" / f"{split}.txt").write_text("a\n")
    job = RunRequest(timing=SPEC, accuracy=AccuracyOptions(data=f"voc:{voc}"))
    row = measure(get_runner("tflite"), coral, job)
    assert row.status == "ok" and row.miou == pytest.approx(1.0) and row.images == 1
    shutil.rmtree(voc)
