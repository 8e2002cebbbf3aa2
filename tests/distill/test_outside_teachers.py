"""Issue 19: class folding (probabilities summed), ensemble teachers (weighted mean of mapped
probabilities), the label-scarce ``--labels`` protocol, and their bad input (one line, exit 2)."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
import torch

from edgeseg.cli import main
from edgeseg.data import IGNORE_INDEX, build_dataset
from edgeseg.data.subsets import UNLABELED, PartiallyLabeled, read_label_list
from edgeseg.distill.classmap import ClassMap, resolve_class_map
from edgeseg.distill.objective import DistillObjective
from edgeseg.distill.teachers import Teacher, TeacherOutput, teach
from edgeseg.distill.teachers.ensemble import EnsembleTeacher, Member, parse_weights
from edgeseg.errors import DataError, DistillError

STUDENT = ("x", "y", "z")


class Fixed(Teacher):
    """A real Teacher whose 'model' is a fixed probability table: [C] per pixel, 1×2 image."""

    kind = "fixed"

    def __init__(self, probs: list[list[float]], classes: tuple[str, ...]) -> None:
        super().__init__(classes, len(classes))
        self.logits = torch.tensor(probs).T.reshape(1, len(classes), 1, -1).log()

    def predict(self, pixels, masks=None):
        return self.logits.expand(pixels.shape[0], -1, -1, -1), None


def _map(tmp_path: Path, mapping: dict | str, teacher: tuple[str, ...]) -> ClassMap:
    path = tmp_path / "map.json"
    path.write_text(mapping if isinstance(mapping, str) else json.dumps(mapping))
    return resolve_class_map(teacher, STUDENT, path)


def test_folding_sums_probabilities_and_drops_unmapped_classes(tmp_path) -> None:
    teacher = Fixed([[0.1, 0.2, 0.3, 0.4], [0.5, 0.3, 0.1, 0.1]], ("a", "b", "c", "d"))
    cmap = _map(tmp_path, {"a": "x", "b": "x", "c": "z", "d": None}, teacher.classes)
    out = teach(teacher, cmap, torch.zeros(1, 3, 1, 2), (1, 2))
    probs = out.logits.softmax(1)[0, :, 0]  # [3 student classes, 2 pixels]
    # pixel 0: x = .1+.2, z = .3, y none; renormalised without d (whose pixel is invalid)
    assert probs[:, 0].tolist() == pytest.approx([0.3 / 0.6, 0.0, 0.3 / 0.6], abs=1e-6)
    assert probs[:, 1].tolist() == pytest.approx([0.8 / 0.9, 0.0, 0.1 / 0.9], abs=1e-6)
    assert out.valid[0, 0].tolist() == [False, True]  # pixel 0's teacher argmax is d: dropped


def test_a_fold_that_maps_a_class_twice_is_refused(tmp_path) -> None:
    classes = ("a", "b")
    with pytest.raises(DistillError, match="'a' is mapped twice"):
        _map(tmp_path, '{"a": "x", "b": "y", "a": "z"}', classes)
    with pytest.raises(DistillError, match="'b' is mapped twice"):
        _map(tmp_path, '{"b": "x", "1": "y"}', classes)  # by name and by index
    with pytest.raises(DistillError, match="must be a non-empty JSON object"):
        _map(tmp_path, '[["a", "x"]]', classes)


def test_background_is_one_class_however_it_is_spelt(tmp_path) -> None:
    """A torchvision VOC teacher ("__background__") onto VOC data ("background") needs no class
    map — it was refused as 21 classes against 21 — and a map file may name it either way."""
    from edgeseg.data.voc import VOC_CLASSES as DATA_VOC
    from edgeseg.models._base import VOC_CLASSES as TORCHVISION_VOC

    assert TORCHVISION_VOC[0] != DATA_VOC[0]
    assert resolve_class_map(TORCHVISION_VOC, DATA_VOC).identity
    path = tmp_path / "map.json"
    path.write_text(json.dumps({"background": "x", "bg_free": "y"}))
    cmap = resolve_class_map(("__background__", "bg_free"), STUDENT, path)
    assert cmap.sources == ((0,), (1,), ())
    with pytest.raises(DistillError, match="has 21 classes"):  # other names stay a mismatch
        resolve_class_map(TORCHVISION_VOC, ("sky", *DATA_VOC[1:]))


def test_ensemble_is_the_weighted_mean_of_mapped_probabilities() -> None:
    one = Fixed([[0.6, 0.3, 0.1], [0.2, 0.2, 0.6]], STUDENT)
    two = Fixed([[0.2, 0.2, 0.6], [0.2, 0.2, 0.6]], STUDENT)
    identity = ClassMap(3, 3)
    weights = parse_weights("1,z=3", STUDENT)
    assert weights.tolist() == [1.0, 1.0, 3.0]
    ensemble = EnsembleTeacher(
        [Member(one, identity, weights), Member(two, identity, torch.ones(3))], STUDENT
    )
    out = teach(ensemble, identity, torch.zeros(2, 3, 1, 2), (1, 2))
    probs = out.logits.softmax(1)[0, :, 0, 0]
    # per class: x (.6+.2)/2, y (.3+.2)/2, z (3·.1+.6)/4; then renormalised
    raw = torch.tensor([0.4, 0.25, 0.225])
    assert probs.tolist() == pytest.approx((raw / raw.sum()).tolist(), abs=1e-5)
    assert out.valid.all() and out.logits.shape == (2, 3, 1, 2)


def test_ensemble_member_invalid_pixels_do_not_vote(tmp_path) -> None:
    folded = Fixed([[0.9, 0.1], [0.1, 0.9]], ("road", "void"))
    cmap = _map(tmp_path, {"road": "x", "void": None}, folded.classes)
    other = Fixed([[0.1, 0.1, 0.8], [0.1, 0.1, 0.8]], STUDENT)
    ensemble = EnsembleTeacher(
        [Member(folded, cmap, torch.ones(3)), Member(other, ClassMap(3, 3), torch.ones(3))],
        STUDENT,
    )
    out = teach(ensemble, ClassMap(3, 3), torch.zeros(1, 3, 1, 2), (1, 2))
    probs = out.logits.softmax(1)[0, :, 0]
    assert probs[:, 1].tolist() == pytest.approx([0.1, 0.1, 0.8], abs=1e-5)  # only 'other'
    assert probs[0, 0] > 0.5  # where the folded teacher is valid it adds its certainty on x


def test_teacher_weights_are_checked(tmp_path) -> None:
    for spec, match in (
        ("-1", "not a weight >= 0"),
        ("1,Nope=2", "Unknown student class 'Nope'"),
        ("x=1,2", "bare weight comes first"),
        ("abc", "not a weight"),
    ):
        with pytest.raises(DistillError, match=match):
            parse_weights(spec, STUDENT)
    with pytest.raises(DistillError, match="every weight is 0"):
        zero = torch.zeros(3)
        EnsembleTeacher([Member(Fixed([[1, 0, 0]], STUDENT), ClassMap(3, 3), zero)] * 2, STUDENT)


def test_unlabeled_pixels_are_distilled_but_carry_no_hard_label() -> None:
    teacher = TeacherOutput(
        torch.tensor([[[[5.0, 0.0]]], [[[0.0, 0.1]]]]).permute(1, 0, 2, 3),  # [1, 2, 1, 2]
        torch.ones(1, 1, 2, dtype=torch.bool),
    )
    masks = torch.tensor([[[1, UNLABELED]]])
    objective = DistillObjective(
        Fixed([[1.0, 0.0]], ("x", "y")), ClassMap(2, 2), {}, [0] * 3, [1] * 3
    )
    target, mask = objective.targets(masks, teacher)
    assert target.tolist() == [[[1, IGNORE_INDEX]]] and mask.tolist() == [[[True, True]]]
    objective.pseudo_rest, objective.pseudo_threshold = True, 0.5
    target, _ = objective.targets(masks, teacher)
    assert target.tolist() == [[[1, 1]]]  # the teacher's confident argmax (0.1 > 0.0: class y)


def test_labels_split_is_exactly_the_complement(camvid_dir) -> None:
    raw = build_dataset(f"camvid:{camvid_dir}", "train")
    listed = read_label_list(camvid_dir / "splits" / "train_10pct.txt", raw)
    assert len(listed) == 37
    view = PartiallyLabeled(raw, listed)
    sources = [view.source_index(i) for i in range(len(view))]
    hidden = [s for i, s in enumerate(sources) if (view.load_mask(i) == UNLABELED).all()]
    shown = [s for i, s in enumerate(sources) if not (view.load_mask(i) == UNLABELED).all()]
    assert sorted(hidden) == sorted(set(range(len(raw))) - set(listed))  # each once
    # the labelled images as often as ``train --labels`` shows them: cycled to the split's length
    assert len(shown) == len(raw) and set(shown) == set(listed)
    assert max(shown.count(i) for i in listed) - min(shown.count(i) for i in listed) <= 1
    first = sources.index(listed[0])
    assert (view.load_mask(first) == raw.load_mask(listed[0])).all()


def test_cache_items_name_the_split_image_behind_a_repeated_view(camvid_dir) -> None:
    """The teacher cache is keyed by the split's index; a labelled image cycled 10× must fetch
    its own cached logits each time, not those of the image at the view's position."""
    from edgeseg.data.transforms import eval_transforms
    from edgeseg.distill.cache import GeometryItems

    spec = f"camvid:{camvid_dir}"
    raw = build_dataset(spec, "train")
    listed = read_label_list(camvid_dir / "splits" / "train_10pct.txt", raw)
    view = PartiallyLabeled(build_dataset(spec, "train", eval_transforms((24, 32))), listed)
    items = GeometryItems(view)
    for position in (0, len(listed), len(listed) + 1, len(raw), len(view) - 1):
        assert items[position][2]["index"] == view.source_index(position)
        assert view.image_path(position) == raw.image_path(view.source_index(position))
    assert items[len(listed)][2]["index"] == listed[0]  # the cycle starts again


def test_a_checkpoint_teacher_runs_at_the_size_it_was_trained_at(sample_checkpoint) -> None:
    """The cache feeds photos at their own size; a checkpoint teacher resizes them to its
    training size unless --teacher-size says otherwise."""
    from edgeseg.checkpoint import load_model
    from edgeseg.distill.teachers import TeacherOptions, build_teacher

    _, meta = load_model(sample_checkpoint)
    teacher = build_teacher(str(sample_checkpoint), TeacherOptions())
    assert teacher.input_size() == tuple(meta.input_size)
    logits, _ = teacher.predict(torch.rand(1, 3, 90, 130))
    assert tuple(logits.shape[-2:]) != (90, 130)  # ran at the trained size, not the photo's
    chosen = build_teacher(str(sample_checkpoint), TeacherOptions(size=(40, 56)))
    assert chosen.input_size() == (40, 56)


def test_label_lists_naming_other_images_are_refused(camvid_dir, tmp_path) -> None:
    raw = build_dataset(f"camvid:{camvid_dir}", "train")
    val_image = (camvid_dir / "val.txt").read_text().split()[0]
    bad = tmp_path / "bad.txt"
    bad.write_text(f"train/0001TP_006690.png x\n{val_image} y\n")
    with pytest.raises(DataError, match="line 2: .* is not an image of the training split"):
        read_label_list(bad, raw)
    bad.write_text("train/0001TP_006690.png\n\ntrain/0001TP_006690.png\n")
    with pytest.raises(DataError, match="line 3: .* listed twice"):
        read_label_list(bad, raw)


DISTILL = ["distill", "lraspp_mobilenet_v3_small", "--quiet", "--epochs", "1", "--size", "32x32"]


def test_bad_outside_teacher_input_is_one_line_exit_2(tmp_path, capsys, teacher_ckpt) -> None:
    onnx_path = tmp_path / "t.onnx"
    pytest.importorskip("onnxruntime", reason="onnxruntime not installed")
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 5, 1))
    torch.onnx.export(model, (torch.zeros(1, 3, 8, 8),), str(onnx_path), dynamo=False)
    damaged = tmp_path / "nan.onnx"  # loads and runs, but its weights are NaN
    with torch.no_grad():
        model[0].weight.fill_(float("nan"))
    torch.onnx.export(model, (torch.zeros(1, 3, 8, 8),), str(damaged), dynamo=False)
    pytest.importorskip("executorch", reason="executorch not installed")
    pte = tmp_path / "t.pte"  # passes the header check; the program loader refuses the rest
    pte.write_bytes(struct.pack("<I", 16) + b"ET12" + bytes(8) + bytes(range(256)) * 2)
    fold = tmp_path / "fold.json"
    fold.write_text('{"0": "background", "0": "sky"}')
    out = str(tmp_path / "out")
    cases = [
        (["--teacher", str(onnx_path), "--teacher-option", "tensor=nope"], "no tensor 'nope'"),
        (["--teacher", str(pte)], "not a model executorch can load"),  # no note before it
        (["--teacher", str(damaged)], "outputs NaN or inf on a test image"),
        (["--teacher", str(onnx_path), "--class-map", str(fold)], "mapped twice"),
        (["--teacher", str(teacher_ckpt)] * 2 + ["--teacher-weight", "1"], "given 1 times for 2"),
        (["--teacher", str(teacher_ckpt), "--teacher-weight", "2"], "no effect with one"),
        (["--teacher", str(teacher_ckpt)] * 2 + ["--teacher-weight", "abc"] * 2, "'abc' is not a"),
        (["--teacher", str(teacher_ckpt)] * 2 + ["--class-map", "-"] * 3, "given 3 times for 2"),
        (["--teacher", str(teacher_ckpt), "--labels", str(tmp_path / "none.txt")], "no such file"),
    ]
    for extra, message in cases:
        assert main([*DISTILL, "--data", "sample", "--out", out, *extra]) == 2, extra
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1, err
        assert not (tmp_path / "out").exists(), extra
