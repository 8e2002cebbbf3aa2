"""Feature taps from any teacher, also through the cache: an artifact's inner tensor
(``--teacher-option features=TENSOR``) served as a tap for ``--loss feature``, and cached feature
maps sampled with each item's own augmentation."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from edgeseg.cli import main
from edgeseg.data import IGNORE_INDEX, SampleDataset, train_transforms
from edgeseg.distill.cache import FEATURE_STRIDE, sample_features
from edgeseg.distill.teachers import TeacherOptions, build_teacher
from edgeseg.errors import DistillError
from tests.distill.conftest import SIZE

INPUT = (16, 20)


class Net(nn.Module):
    """conv → ReLU (the 'features') → conv (5 class scores) → ArgMax, like Coral's models."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.body = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU())
        self.head = nn.Conv2d(4, 5, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x)).argmax(1)


def _onnx(tmp_path: Path) -> tuple[Net, Path, str]:
    pytest.importorskip("onnxruntime", reason="onnxruntime not installed")
    onnx = pytest.importorskip("onnx", reason="onnx not installed")
    model, path = Net().eval(), tmp_path / "net.onnx"
    torch.onnx.export(model, (torch.zeros(1, 3, *INPUT),), str(path), dynamo=False)
    relu = next(n.output[0] for n in onnx.load(str(path)).graph.node if n.op_type == "Relu")
    return model, path, relu


def _options(**extra: str) -> TeacherOptions:
    return TeacherOptions(classes="a,b,c,d,e", mean=(0.0,) * 3, std=(1.0,) * 3, extra=extra)


def test_an_artifacts_inner_tensor_is_its_feature_tap(tmp_path) -> None:
    model, path, relu = _onnx(tmp_path)
    teacher = build_teacher(str(path), _options(features=relu))
    assert teacher.feature_channels == {"high": 4}
    pixels = torch.rand(2, 3, *INPUT)
    logits, taps = teacher.predict(pixels)
    with torch.no_grad():
        torch.testing.assert_close(taps["high"], model.body(pixels), atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(logits, model.head(model.body(pixels)), atol=1e-5, rtol=1e-4)
    assert teacher.describe()["features"] == {"high": relu}
    mid = build_teacher(str(path), _options(features=relu, feature_tap="mid"))
    assert mid.feature_channels == {"mid": 4}
    plain = build_teacher(str(path), _options())
    assert plain.feature_channels == {} and plain.predict(pixels)[1] is None


def test_bad_feature_options_are_one_line_exit_2(tmp_path, capsys) -> None:
    _, path, relu = _onnx(tmp_path)
    out = tmp_path / "out"
    base = ["distill", "lraspp_mobilenet_v3_small", "--quiet", "--epochs", "1", "--size", "32x32"]
    base += ["--data", "sample", "--out", str(out), "--teacher", str(path)]
    cases = [
        (["--teacher-option", "features=nope"], "features=nope: net.onnx has no tensor 'nope'"),
        (["--teacher-option", "feature_tap=mid"], "feature_tap: name the tensor too"),
    ]
    for extra, message in cases:
        assert main([*base, *extra]) == 2, extra
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1, err
        assert not out.exists()


def test_real_cityscapes_decoder_features(shared_dir) -> None:
    """Coral's Cityscapes DeepLab: its 128-channel decoder tensor, named by one ';'-part of its
    fused name, is read dequantized at stride 16 (33×33 for 513×513), after a ReLU."""
    path = shared_dir / "models" / "deeplab_mobilenet_edgetpu_slim_cityscapes_quant.tflite"
    if not path.is_file():
        pytest.skip(f"{path} is absent: real feature-tap test skipped")
    pytest.importorskip("ai_edge_litert", reason="ai-edge-litert not installed")
    options = TeacherOptions(classes="cityscapes", extra={"features": "concat_projection/Relu"})
    teacher = build_teacher(str(path), options)
    assert teacher.feature_channels == {"high": 128}
    logits, taps = teacher.predict(torch.rand(1, 3, 90, 120))
    assert logits.shape == (1, 19, 513, 513) and taps["high"].shape == (1, 128, 33, 33)
    assert float(taps["high"].min()) >= 0.0 and float(taps["high"].max()) > 0.0
    # the unfolded 19-class logits: its bias constant carries the same name, the activation wins
    options = TeacherOptions(classes="cityscapes", extra={"features": "logits/semantic/BiasAdd"})
    teacher = build_teacher(str(path), options)
    logits, taps = teacher.predict(torch.rand(1, 3, 90, 120))
    assert taps["high"].shape == (1, 19, 33, 33)
    at_cells = logits[:, :, ::16, ::16]  # the final resize is 33 → 513 with aligned corners
    assert (taps["high"].argmax(1) == at_cells.argmax(1)).float().mean() > 0.9
    with pytest.raises(DistillError, match="features=Relu: .*no tensor 'Relu'"):
        build_teacher(str(path), TeacherOptions(classes="cityscapes", extra={"features": "Relu"}))


@pytest.mark.parametrize("seed", range(6))
def test_sampled_features_land_where_the_augmented_labels_are(seed) -> None:
    """A one-hot 'feature map' of the whole photo's labels at a coarse grid, sampled with the
    geometry the train transform drew, must agree with its augmented mask at each cell."""
    image, mask = SampleDataset("train")[seed]
    transform = train_transforms(SIZE, scale=(0.5, 2.0))
    random.seed(seed)
    _, augmented = transform(image, mask)
    geometry = transform.geometry()
    grid = (SIZE[0] // 2, SIZE[1] // 2)  # stored at the teacher's own, coarser resolution
    base = torch.from_numpy(np.array(mask.resize(grid[::-1], Image.NEAREST), dtype=np.int64))
    features = torch.nn.functional.one_hot(base, 5).permute(2, 0, 1).float()
    sampled = sample_features(features[None], [geometry], SIZE)[0]
    assert sampled.shape == (5, SIZE[0] // FEATURE_STRIDE, SIZE[1] // FEATURE_STRIDE)
    half = FEATURE_STRIDE // 2
    centres = augmented[half::FEATURE_STRIDE, half::FEATURE_STRIDE]
    labeled = centres != IGNORE_INDEX
    agreement = (sampled.argmax(0)[labeled] == centres[labeled]).float().mean()
    assert agreement > 0.85, (geometry, float(agreement))
    if geometry["scaled_h"] < SIZE[0]:  # padding: no photo there, all-zero features
        rows = geometry["scaled_h"] // FEATURE_STRIDE + 1
        assert float(sampled[:, rows:].abs().max()) == 0.0
