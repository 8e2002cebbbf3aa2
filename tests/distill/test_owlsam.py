"""OWLv2 + SAM teacher: the aggregation and fallback rules with known numbers, then tiny random
OWLv2/SAM models (transformers' config classes, ``save_pretrained``) run on real CamVid images,
alone and through ``edgeseg distill``; missing weights and bad options as one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from edgeseg.checkpoint import load_checkpoint
from edgeseg.cli import main
from edgeseg.data import build_dataset
from edgeseg.data.camvid import CAMVID_CLASSES
from edgeseg.data.transforms import Compose, Resize, ToTensor
from edgeseg.distill.classmap import resolve_class_map
from edgeseg.distill.teachers import TeacherOptions, build_teacher, teach
from edgeseg.distill.teachers.instances import (
    Detections,
    clip_boxes,
    nms,
    select_detections,
    semantic_logits,
)
from edgeseg.errors import DistillError

transformers = pytest.importorskip("transformers", reason="transformers not installed")
IMAGE = 64  # the tiny models' input side (OWLv2 and SAM both resize/pad to it)
STUDENT = "lraspp_mobilenet_v3_small"


def _byte_vocab() -> dict[str, int]:
    """CLIP's byte-level alphabet (GPT-2's bytes_to_unicode), each char alone and word-final,
    then the specials at the end as in CLIP (OWLv2 treats a first token id of 0 as padding)."""
    printable = [*range(33, 127), *range(161, 173), *range(174, 256)]
    chars, extra = list(printable), 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            chars.append(256 + extra)
            extra += 1
    alphabet = [chr(c) for c in chars]
    tokens = [*alphabet, *(c + "</w>" for c in alphabet), "<|startoftext|>", "<|endoftext|>"]
    return {token: index for index, token in enumerate(tokens)}


def make_tiny_owlsam(folder: Path) -> Path:
    """Random-weight OWLv2 and SAM with processors in ``folder/owlv2`` and ``folder/sam``."""
    vocab = _byte_vocab()
    tokenizer = transformers.CLIPTokenizer(vocab=vocab, merges=[], model_max_length=16)  # as OWLv2
    torch.manual_seed(0)
    text = dict(
        vocab_size=len(vocab),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        max_position_embeddings=16,
        bos_token_id=len(vocab) - 2,
        eos_token_id=len(vocab) - 1,
        pad_token_id=len(vocab) - 1,
    )
    vision = dict(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=IMAGE,
        patch_size=16,
    )
    owl_config = transformers.Owlv2Config(text_config=text, vision_config=vision, projection_dim=32)
    owl_processor = transformers.Owlv2Processor(
        image_processor=transformers.Owlv2ImageProcessorPil(size={"height": IMAGE, "width": IMAGE}),
        tokenizer=tokenizer,
    )
    transformers.Owlv2ForObjectDetection(owl_config).save_pretrained(folder / "owlv2")
    owl_processor.save_pretrained(folder / "owlv2")
    sam_config = transformers.SamConfig(
        vision_config=dict(
            hidden_size=32,
            output_channels=16,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=IMAGE,
            patch_size=16,
            window_size=2,
            global_attn_indexes=[1],
            num_pos_feats=8,
            mlp_dim=64,
        ),
        prompt_encoder_config=dict(
            hidden_size=16, image_size=IMAGE, patch_size=16, mask_input_channels=4
        ),
        mask_decoder_config=dict(
            hidden_size=16, mlp_dim=32, num_attention_heads=2, iou_head_hidden_dim=16
        ),
    )
    transformers.SamModel(sam_config).save_pretrained(folder / "sam")
    transformers.SamProcessor(
        transformers.SamImageProcessorPil(
            size={"longest_edge": IMAGE}, pad_size={"height": IMAGE, "width": IMAGE}
        )
    ).save_pretrained(folder / "sam")
    return folder


@pytest.fixture(scope="module")
def owlsam_dir(tmp_path_factory) -> Path:
    return make_tiny_owlsam(tmp_path_factory.mktemp("owlsam"))


@pytest.fixture(scope="module")
def prompts(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("prompts") / "camvid_prompts.json"
    path.write_text(json.dumps({"SignSymbol": ["traffic sign", "signal"], "Car": "a car"}))
    return path


# --- the rules, with known numbers ------------------------------------------------------------


def test_semantic_logits_sum_each_class_instances_and_fill_background() -> None:
    masks = torch.tensor(
        [
            [[2.0, -1.0], [0.5, -3.0]],  # instance 0, class 1
            [[1.0, 4.0], [-2.0, -1.0]],  # instance 1, class 1
            [[-1.0, 3.0], [-1.0, -0.5]],  # instance 2, class 2
        ]
    )
    out = semantic_logits(masks, torch.tensor([1, 1, 2]), 3, background=0, background_logit=7.0)
    assert out[1].tolist() == [[3.0, 4.0], [0.5, 0.0]]  # binary mask × logit, summed per class
    assert out[2].tolist() == [[0.0, 3.0], [0.0, 0.0]]
    assert out[0].tolist() == [[0.0, 0.0], [0.0, 7.0]]  # only the pixel no instance covers
    empty = semantic_logits(
        torch.zeros(0, 2, 2), torch.zeros(0), 3, background=2, background_logit=5.0
    )
    assert empty[2].eq(5.0).all() and empty[:2].eq(0).all()


def _dets(scores: list[float]) -> Detections:
    n = len(scores)
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0]] * n).reshape(n, 4)
    return Detections(boxes, torch.tensor(scores), torch.arange(n))


def test_confidence_threshold_falls_back_from_0_1_to_0_05_to_0_01() -> None:
    steps = (0.1, 0.05, 0.01)
    first = select_detections(_dets([0.3, 0.08, 0.02]), steps)
    assert (first.threshold, first.scores.tolist()) == (0.1, pytest.approx([0.3]))
    second = select_detections(_dets([0.08, 0.02, 0.06]), steps)
    assert second.threshold == 0.05 and second.scores.tolist() == pytest.approx([0.08, 0.06])
    third = select_detections(_dets([0.02, 0.005]), steps)
    assert third.threshold == 0.01 and third.scores.tolist() == pytest.approx([0.02])
    assert len(select_detections(_dets([0.009, 0.01]), steps)) == 0  # strictly above, as HF


def test_nms_is_per_class_and_clipping_drops_empty_boxes() -> None:
    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 10, 10], [0, 0, 10, 10], [30, 30, 40, 40.0]])
    found = Detections(boxes, torch.tensor([0.9, 0.8, 0.7, 0.6]), torch.tensor([1, 1, 2, 1]))
    kept = nms(found, iou=0.5, max_boxes=10)
    assert kept.scores.tolist() == pytest.approx([0.9, 0.7, 0.6])  # the class-2 twin survives
    assert len(nms(found, iou=1.0, max_boxes=2)) == 2
    wild = Detections(
        torch.tensor([[-5.0, 2, 30, 8], [50, 0, 90, 9], [3, 3, 3.5, 9]]),
        torch.ones(3),
        torch.zeros(3, dtype=torch.long),
    )
    clipped = clip_boxes(wild, height=10, width=20)
    assert clipped.boxes.tolist() == [[0.0, 2.0, 20.0, 8.0]]  # off-image and 0.5-px boxes go


def test_class_map_leaves_out_a_background_class_the_student_lacks() -> None:
    cmap = resolve_class_map(("background", *CAMVID_CLASSES), CAMVID_CLASSES)
    logits = torch.zeros(1, 12, 1, 2)
    logits[0, 0, 0, 0] = 10.0  # background wins: no distillation there
    logits[0, 9, 0, 1] = 3.0  # teacher index 9 is student Car (8)
    mapped, valid = cmap.apply(logits)
    assert valid.tolist() == [[[False, True]]] and int(mapped[0, :, 0, 1].argmax()) == 8


# --- tiny real models on real images -----------------------------------------------------------


def _camvid_pixels(camvid_dir: Path, n: int = 2) -> torch.Tensor:
    data = build_dataset(f"camvid:{camvid_dir}", "val", Compose([Resize((48, 64)), ToTensor()]))
    return torch.stack([data[i * 40][0] for i in range(n)])


def test_tiny_owlsam_teacher_on_camvid_images(owlsam_dir, prompts, camvid_dir) -> None:
    options = TeacherOptions(student_classes=CAMVID_CLASSES, extra={"prompts": str(prompts)})
    teacher = build_teacher(f"owlsam:{owlsam_dir}", options)
    assert teacher.kind == "owlsam" and teacher.classes == ("background", *CAMVID_CLASSES)
    assert ("traffic sign", 7) in teacher.queries and ("Road", 4) in teacher.queries
    pixels = _camvid_pixels(camvid_dir)
    found = teacher.detect([(p * 255).round().to(torch.uint8) for p in pixels])
    assert all(f.threshold in (0.1, 0.05, 0.01) for f in found)
    logits, features = teacher.predict(pixels)
    assert logits.shape == (2, 12, 48, 64) and features is None
    assert logits[:, 1:].min() >= 0  # sums of positive mask logits
    uncovered = logits[:, 1:].eq(0).all(1)
    assert torch.equal(logits[:, 0] == 10.0, uncovered)  # background exactly where nothing is on
    assert sum(len(f) for f in found) > 0 and not uncovered.all()
    out = teach(teacher, resolve_class_map(teacher.classes, CAMVID_CLASSES), pixels, (24, 32))
    assert out.logits.shape == (2, 11, 24, 32)
    record = teacher.describe()
    assert record["owlv2"].endswith("owlv2") and record["thresholds"] == [0.1, 0.05, 0.01]
    assert json.loads(json.dumps(record)) == record  # the teacher cache's signature round-trips


def test_sam_iou_threshold_drops_every_mask_above_one(owlsam_dir, camvid_dir) -> None:
    options = TeacherOptions(student_classes=CAMVID_CLASSES, extra={"iou": "1.5"})
    logits, _ = build_teacher(f"owlsam:{owlsam_dir}", options).predict(_camvid_pixels(camvid_dir))
    assert logits[:, 0].eq(10.0).all() and logits[:, 1:].eq(0).all()


def test_distill_one_step_from_owlsam_on_camvid(owlsam_dir, prompts, camvid_dir, tmp_path) -> None:
    code = main(
        [
            "distill",
            STUDENT,
            "--teacher",
            f"owlsam:{owlsam_dir}",
            "--data",
            f"camvid:{camvid_dir}",
            "--size",
            "48x64",
            "--batch-size",
            "2",
            "--epochs",
            "1",
            "--limit-train-batches",
            "1",
            "--limit-val-batches",
            "1",
            "--workers",
            "0",
            "--quiet",
            "--out",
            str(tmp_path),
            "--teacher-option",
            f"prompts={prompts}",
            "--teacher-option",
            "nms=0.3",
        ]
    )
    assert code == 0
    meta = load_checkpoint(tmp_path / "best.pt").meta
    info = meta.recipe["teacher_info"]
    assert info["kind"] == "owlsam" and info["nms"] == 0.3 and meta.classes == list(CAMVID_CLASSES)


# --- bad input ---------------------------------------------------------------------------------


def test_missing_weights_say_where_to_put_them(tmp_path) -> None:
    options = TeacherOptions(student_classes=CAMVID_CLASSES)
    with pytest.raises(DistillError, match="huggingface-cli download google/owlv2-base-patch16"):
        build_teacher(f"owlsam:{tmp_path / 'nothing'}", options)
    with pytest.raises(DistillError, match="not in the local Hugging Face cache"):
        build_teacher("owlsam:nobody/no-owl,nobody/no-sam", options)


@pytest.mark.parametrize(
    "option, message",
    [
        ("colour=red", "the owlsam teacher takes"),
        ("iou=high", "not a valid value"),
        ("thresholds=0.5,2", "[0, 1)"),
        ("iou", "write KEY=VALUE"),
    ],
)
def test_bad_teacher_options_exit_2(tmp_path, owlsam_dir, capsys, option, message) -> None:
    code = main(
        [
            "distill",
            STUDENT,
            "--teacher",
            f"owlsam:{owlsam_dir}",
            "--quiet",
            "--teacher-option",
            option,
            "--out",
            str(tmp_path),
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and "\n" not in err


def test_options_a_teacher_does_not_take_are_errors(teacher_ckpt) -> None:
    with pytest.raises(DistillError, match="the checkpoint teacher takes no options"):
        build_teacher(str(teacher_ckpt), TeacherOptions(extra={"iou": "0.9"}))
