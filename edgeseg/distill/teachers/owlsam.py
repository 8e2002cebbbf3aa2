"""Open-vocabulary teacher: OWLv2 finds boxes for the class names, SAM turns them into masks.

The OWLSAM recipe (an open-vocabulary detector prompting a promptable segmenter) labels classes
no segmentation checkpoint was trained on. Per image: OWLv2 (``Owlv2ForObjectDetection``) scores
text queries — the class names, or the prompts of a class-definition file — against every patch;
boxes above confidence 0.1 are kept, falling back to 0.05 and then 0.01 when an image gets none;
per-class NMS removes duplicate boxes; SAM (``SamModel``, one box prompt per instance) returns a
mask logit map per box, dropped when SAM's own IoU estimate is below ``iou``; the masks become
class logits as :func:`~edgeseg.distill.teachers.instances.semantic_logits` describes.

Spec: ``owlsam:DIR`` (``DIR/owlv2`` and ``DIR/sam``, each a ``save_pretrained`` folder of model
and processor), ``owlsam:OWL,SAM`` (each a folder or a Hugging Face name) or ``owlsam:`` (the
default names). Names resolve in the local HF cache only (``local_files_only``): nothing is
downloaded at run time. Classes are ``--teacher-classes`` or the student's; uncovered pixels go
to a class named "background", which is added when the list has none (the class map then leaves
those pixels out of distillation). ``--teacher-option KEY=VALUE`` sets the keys of
:class:`OwlSamSettings`. No feature taps: feature and affinity losses cannot use this teacher.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch

from edgeseg.data.classes import BACKGROUND_NAMES
from edgeseg.distill.teachers.base import Teacher, TeacherOptions, class_list, register_teacher
from edgeseg.distill.teachers.instances import (
    Detections,
    clip_boxes,
    nms,
    select_detections,
    semantic_logits,
)
from edgeseg.errors import DistillError

DEFAULT_OWL = "google/owlv2-base-patch16-ensemble"
DEFAULT_SAM = "facebook/sam-vit-base"


@dataclass
class OwlSamSettings:
    """``--teacher-option`` keys. ``iou``: minimum SAM predicted IoU of a mask (SAM's automatic
    generator uses 0.88; 0 keeps every mask); ``nms``: box IoU above which a lower-scored box of
    the same class is dropped (1 keeps all); ``background_logit``: background's logit where no
    mask is on; ``prompts``: JSON ``{"class": "prompt" | ["prompt", …]}``."""

    thresholds: tuple[float, ...] = (0.1, 0.05, 0.01)
    iou: float = 0.0
    nms: float = 0.5
    max_boxes: int = 50
    background_logit: float = 10.0
    prompts: str | None = None

    @classmethod
    def parse(cls, extra: dict[str, str]) -> OwlSamSettings:
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, text in extra.items():
            if key not in known:
                raise DistillError(
                    f"--teacher-option {key}: the owlsam teacher takes {', '.join(sorted(known))}"
                )
            try:
                values[key] = _convert(key, text)
            except ValueError:
                raise DistillError(f"--teacher-option {key}={text}: not a valid value") from None
        settings = cls(**values)
        if not settings.thresholds or not all(0 <= t < 1 for t in settings.thresholds):
            raise DistillError("--teacher-option thresholds: give values in [0, 1), e.g. 0.1,0.05")
        if settings.max_boxes < 1:
            raise DistillError("--teacher-option max_boxes must be >= 1")
        return settings


def _convert(key: str, text: str) -> Any:
    if key == "thresholds":
        return tuple(float(v) for v in text.split(",") if v.strip())
    if key == "max_boxes":
        return int(text)
    return text if key == "prompts" else float(text)


class OwlSamTeacher(Teacher):
    kind = "owlsam"
    option_keys = tuple(f.name for f in fields(OwlSamSettings))

    def __init__(
        self,
        models: dict[str, Any],
        classes: tuple[str, ...],
        background: int,
        queries: list[tuple[str, int]],
        settings: OwlSamSettings,
        options: TeacherOptions,
    ) -> None:
        super().__init__(classes, len(classes))
        self.device = options.device
        self.owl = models["owl"].eval().to(self.device)
        self.sam = models["sam"].eval().to(self.device)
        self.owl_processor, self.sam_processor = models["owl_processor"], models["sam_processor"]
        self.sources = models["sources"]
        self.background, self.queries, self.settings = background, queries, settings
        self.query_class = torch.tensor([c for _, c in queries], dtype=torch.long)

    @torch.no_grad()
    def predict(self, pixels: torch.Tensor, masks: torch.Tensor | None = None):
        images = [(p.float().clamp(0, 1) * 255).round().to(torch.uint8).cpu() for p in pixels]
        logits = [self.segment(image, found) for image, found in zip(images, self.detect(images))]
        return torch.stack(logits).to(pixels.device), None

    @torch.no_grad()
    def detect(self, images: list[torch.Tensor]) -> list[Detections]:
        """OWLv2 boxes of every image, clipped, thresholded with the fallback, NMS'd."""
        texts = [text for text, _ in self.queries]
        inputs = self.owl_processor(
            text=[texts] * len(images), images=images, truncation=True, return_tensors="pt"
        )  # OWLv2 reads 16 tokens: a longer prompt is cut, not an error
        outputs = self.owl(**inputs.to(self.device))
        sizes = [tuple(image.shape[-2:]) for image in images]
        raw = self.owl_processor.post_process_grounded_object_detection(
            outputs, threshold=min(self.settings.thresholds), target_sizes=sizes
        )
        found = []
        for result, (height, width) in zip(raw, sizes):
            labels = self.query_class[result["labels"].cpu()]
            dets = Detections(result["boxes"].float().cpu(), result["scores"].float().cpu(), labels)
            dets = select_detections(clip_boxes(dets, height, width), self.settings.thresholds)
            found.append(nms(dets, self.settings.nms, self.settings.max_boxes))
        return found

    @torch.no_grad()
    def segment(self, image: torch.Tensor, found: Detections) -> torch.Tensor:
        """SAM masks of one image's boxes → class logits [C, H, W]."""
        height, width = image.shape[-2:]
        mask_logits, labels = torch.zeros(0, height, width), found.labels
        if len(found):
            inputs = self.sam_processor(
                images=image, input_boxes=[found.boxes.tolist()], return_tensors="pt"
            )
            outputs = self.sam(**inputs.to(self.device), multimask_output=False)
            keep = (outputs.iou_scores[0, :, 0] >= self.settings.iou).cpu()
            keep |= self.settings.iou <= 0  # off (SAM's IoU estimate can even be negative)
            mask_logits = self.sam_processor.post_process_masks(
                outputs.pred_masks.float().cpu(),
                inputs["original_sizes"].cpu(),
                inputs["reshaped_input_sizes"].cpu(),
                binarize=False,
            )[0][:, 0][keep]
            labels = labels[keep]
        return semantic_logits(
            mask_logits, labels, self.num_classes, self.background, self.settings.background_logit
        )

    def describe(self) -> dict:
        """JSON-safe (lists, not tuples): the teacher cache compares it with its index.json."""
        settings = {**asdict(self.settings), "thresholds": list(self.settings.thresholds)}
        return {
            **super().describe(),
            **self.sources,
            **settings,
            "queries": [list(q) for q in self.queries],
        }


def with_background(classes: tuple[str, ...]) -> tuple[tuple[str, ...], int]:
    """The class list and the index of its background class (prepended when it has none)."""
    for index, name in enumerate(classes):
        if name.strip().lower() in BACKGROUND_NAMES:
            return classes, index
    return ("background", *classes), 0


def build_queries(
    classes: tuple[str, ...], background: int, prompts: str | None
) -> list[tuple[str, int]]:
    """(text query, class index) pairs: each non-background class's prompts, else its name."""
    table: dict[str, list[str]] = {}
    if prompts:
        table = _read_prompts(Path(prompts), classes, background)
    queries = []
    for index, name in enumerate(classes):
        if index != background:
            queries += [(text, index) for text in table.get(name.lower(), [name])]
    return queries


def _read_prompts(path: Path, classes: tuple[str, ...], background: int) -> dict[str, list[str]]:
    if not path.is_file():
        raise DistillError(f"Prompts file {path} does not exist; pass a JSON file")
    try:
        raw = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DistillError(f"{path} is not valid JSON ({exc}); write a JSON object") from exc
    if not isinstance(raw, dict):
        raise DistillError(f'{path} must be a JSON object {{"class": ["prompt", …]}}')
    queried = {c.lower() for i, c in enumerate(classes) if i != background}
    table = {}
    for key, value in raw.items():
        if key.lower() not in queried:
            raise DistillError(
                f"{path}: '{key}' is not a queried class (classes: {', '.join(sorted(queried))})"
            )
        texts = [value] if isinstance(value, str) else value
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            raise DistillError(f"{path}: '{key}' needs a prompt string or a list of strings")
        table[key.lower()] = texts
    return table


def model_sources(spec: str) -> tuple[tuple[str, bool], tuple[str, bool]]:
    """(OWLv2, SAM) as (folder or HF name, is a folder) from the spec after ``owlsam:``."""
    spec = spec.strip()
    if not spec:
        return (DEFAULT_OWL, False), (DEFAULT_SAM, False)
    if "," in spec:
        owl, sam = (
            part.strip() or default
            for part, default in zip(spec.split(",", 1), (DEFAULT_OWL, DEFAULT_SAM))
        )
        return (owl, Path(owl).exists()), (sam, Path(sam).exists())
    return (str(Path(spec) / "owlv2"), True), (str(Path(spec) / "sam"), True)


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
    """No "Loading weights" bars or backend-fallback warnings while the teacher loads."""
    from transformers.utils import logging

    verbosity = logging.get_verbosity()
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        logging.set_verbosity(verbosity)
        logging.enable_progress_bar()


def _load(what: str, source: tuple[str, bool], model_cls, processor_cls, default: str):
    """Model and processor from a folder or the local HF cache, or one line saying where."""
    name, is_folder = source
    try:
        with _quiet_transformers():
            model = model_cls.from_pretrained(name, local_files_only=True)
            processor = processor_cls.from_pretrained(name, local_files_only=True)
    except (OSError, ValueError) as exc:
        if is_folder:
            raise DistillError(
                f"{what} weights not found in {name}: put a save_pretrained copy (model and "
                f"processor) there, e.g. `huggingface-cli download {default} --local-dir {name}`"
            ) from exc
        raise DistillError(
            f"{what} weights '{name}' are not in the local Hugging Face cache (nothing is "
            f"downloaded at run time): run `huggingface-cli download {name}` or pass "
            "owlsam:DIR with DIR/owlv2 and DIR/sam"
        ) from exc
    return model, processor


@register_teacher("owlsam")
def build(spec: str, options: TeacherOptions) -> OwlSamTeacher:
    settings = OwlSamSettings.parse(options.extra)
    classes = class_list(options.classes) or tuple(options.student_classes)
    if not classes:
        raise DistillError("The owlsam teacher needs class names: pass --teacher-classes")
    classes, background = with_background(tuple(classes))
    queries = build_queries(classes, background, settings.prompts)
    try:
        import transformers
    except ImportError as exc:
        raise DistillError(
            "The owlsam teacher needs transformers: pip install 'edgeseg[owlsam]'"
        ) from exc
    owl_source, sam_source = model_sources(spec)
    owl, owl_processor = _load(
        "OWLv2",
        owl_source,
        transformers.Owlv2ForObjectDetection,
        transformers.Owlv2Processor,
        DEFAULT_OWL,
    )
    sam, sam_processor = _load(
        "SAM", sam_source, transformers.SamModel, transformers.SamProcessor, DEFAULT_SAM
    )
    models = {
        "owl": owl,
        "owl_processor": owl_processor,
        "sam": sam,
        "sam_processor": sam_processor,
        "sources": {"owlv2": owl_source[0], "sam": sam_source[0]},
    }
    return OwlSamTeacher(models, classes, background, queries, settings, options)
