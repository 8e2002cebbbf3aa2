"""The CLI commands on real (tiny) runs: models table, eval report + overlays, version."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from edgeseg.cli import main
from edgeseg.models import list_models


def test_models_table_lists_every_model(capsys) -> None:
    assert main(["models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == sorted(list_models())
    by_name = {r["name"]: r for r in rows}
    assert by_name["lraspp_mobilenet_v3_large"]["torchvision"]
    assert by_name["liteseg_efficientnet_lite0"]["int8_friendly"]
    assert {r["role"] for r in rows} == {"student", "teacher"}
    assert main(["models", "*resnet*"]) == 0
    out = capsys.readouterr().out
    assert "fcn_resnet50" in out and "lraspp" not in out


def test_eval_writes_report_and_overlays(capsys, tmp_path, tiny_checkpoint) -> None:
    out = tmp_path / "eval"
    assert (
        main(
            [
                "eval",
                str(tiny_checkpoint),
                "--visualize",
                "2",
                "--out",
                str(out),
                "--workers",
                "0",
                "--quiet",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "mIoU" in printed and "overlay" in printed
    report = json.loads((out / "eval.json").read_text())
    assert report["data"] == "sample" and 0.0 <= report["miou"] <= 1.0
    pngs = sorted((out / "overlays").glob("*.png"))
    assert len(pngs) == 2
    with Image.open(pngs[0]) as img:
        assert img.width == 3 * 80  # input | truth | prediction at the checkpoint's 64x80


def test_eval_json_on_stdout(capsys, tmp_path, tiny_checkpoint) -> None:
    assert (
        main(["eval", str(tiny_checkpoint), "--json", "--workers", "0", "--out", str(tmp_path)])
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert set(data["per_class_iou"]) and "miou" in data


def test_version(capsys) -> None:
    assert main(["--version"]) == 0
    assert "edgeseg" in capsys.readouterr().out


def test_config_from_takes_same_named_parameters_and_refuses_unknown_fields(tmp_path) -> None:
    from edgeseg.cli.options import config_from, names_list
    from edgeseg.train import TrainConfig

    params = {"arch": "a", "data": "sample", "epochs": 3, "quiet": True, "size": "64x64"}
    cfg = config_from(TrainConfig, params, size=(64, 64), progress=False, out=tmp_path / "o")
    assert (cfg.arch, cfg.epochs, cfg.size, cfg.progress) == ("a", 3, (64, 64), False)
    with pytest.raises(TypeError, match="no field sizes"):
        config_from(TrainConfig, params, sizes=(64, 64))
    assert names_list(" a, b,,c ") == ("a", "b", "c") and names_list(None) == ()
