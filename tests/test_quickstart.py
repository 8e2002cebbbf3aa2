"""The quickstart pipeline end to end, and proof that the built-in sample is learnable."""

from __future__ import annotations

import json

from edgeseg.cli import main


def test_quickstart_learns_the_sample(tmp_path, capsys) -> None:
    code = main(["quickstart", "--out", str(tmp_path), "--epochs", "2", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "mIoU" in out
    report = (tmp_path / "eval" / "eval.json").read_text()

    miou = json.loads(report)["miou"]
    # 5 classes; background alone would score ~0.18. Two epochs of the ImageNet-initialised
    # int8-friendly student must already separate the shapes.
    assert miou > 0.35, miou
    assert len(list((tmp_path / "eval" / "overlays").glob("*.png"))) == 4
