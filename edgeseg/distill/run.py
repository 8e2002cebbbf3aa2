"""``distill``: the whole ``edgeseg distill`` job, on the training loop of ``edgeseg train``.

It builds what differs — the teacher, the class map, the losses, the objective and the recipe —
and hands the run to ``edgeseg.train.fit.fit_run``: same epochs, checkpoints (``best.pt``,
``last.pt`` with optimiser/scheduler/objective/RNG state), history and ``--resume``. Adapters and
auxiliary heads live in the objective, so the student's checkpoint is exactly the student.

Pseudo-label mode (``--unlabeled DIR``): the student trains on DIR's images with the teacher's
confident argmax as hard labels plus KD; every 10th image is held out, and "val mIoU" is the
student's agreement with the teacher's labels on those held-out images.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch
from torch.utils.data import Subset

from edgeseg.checkpoint import CheckpointMeta
from edgeseg.data import build_dataloader, build_dataset, compute_class_weights, eval_transforms
from edgeseg.data.classes import background_ids, voc_colormap
from edgeseg.distill.agreement import label_agreement
from edgeseg.distill.cache import GeometryItems, build_cache
from edgeseg.distill.classmap import ClassMap, resolve_class_map
from edgeseg.distill.config import DistillConfig
from edgeseg.distill.losses import LossContext, build_losses, describe_losses
from edgeseg.distill.objective import DistillObjective, pseudo_labels
from edgeseg.distill.teachers import (
    Teacher,
    TeacherOptions,
    build_teacher,
    parse_teacher_options,
    teach,
)
from edgeseg.distill.teachers.ensemble import EnsembleTeacher, Member, parse_weights
from edgeseg.errors import DistillError
from edgeseg.metrics import ConfusionMatrix, SegMetrics
from edgeseg.progress import console
from edgeseg.train import distributed
from edgeseg.train.cutmix import CutMix
from edgeseg.train.fit import (
    Data,
    Run,
    TrainResult,
    build_data,
    create_student,
    fit_run,
    make_run,
    resolve_device,
    seed_everything,
)
from edgeseg.train.objective import has_aux_head

HOLD_OUT_EVERY = 10


def teacher_options(
    cfg: DistillConfig, classes: tuple[str, ...], device, member: int = 0
) -> TeacherOptions:
    extra = parse_teacher_options(cfg.teacher_options)
    return TeacherOptions(
        classes=cfg.per_teacher("teacher_classes")[member],
        mean=cfg.teacher_mean,
        std=cfg.teacher_std,
        size=cfg.teacher_size,
        layout=cfg.teacher_layout,
        background=tuple(cfg.background),
        student_classes=classes,
        extra=extra,
        device=device,
    )


def _student_classes(cfg: DistillConfig, data: Data, teacher_classes) -> tuple[str, ...]:
    """Labeled: the dataset's classes. Unlabeled: DIR/classes.txt, else the teacher's."""
    if cfg.unlabeled is None:
        return tuple(data.train_raw.info.classes)
    classes = tuple(data.train_raw.info.classes) or tuple(teacher_classes or ())
    if not classes:
        raise DistillError(
            f"Name the student's classes for --unlabeled {cfg.unlabeled}: put a classes.txt "
            "there or pass --teacher-classes"
        )
    return classes


def _unlabeled_data(cfg: DistillConfig) -> Data:
    """Train on all but every 10th image of DIR; those are held out for teacher-agreement."""
    spec = f"images:{cfg.unlabeled}"
    if not Path(str(cfg.unlabeled)).is_dir():
        raise DistillError(f"--unlabeled {cfg.unlabeled} is not a folder; pass a folder of images")
    cfg_data = DistillConfig(**{**asdict(cfg), "data": spec})
    data = build_data(cfg_data)
    indices = range(len(data.train_set))
    train = [i for i in indices if i % HOLD_OUT_EVERY != 0] or list(indices)
    held = [i for i in indices if i % HOLD_OUT_EVERY == 0]
    val = build_dataset(spec, "val", eval_transforms(data.size, mean=data.mean, std=data.std))
    return Data(
        data.train_raw,
        Subset(data.train_set, train),
        Subset(val, held),
        data.size,
        data.mean,
        data.std,
    )


def distill(cfg: DistillConfig) -> TrainResult:
    """Distil ``cfg.teacher`` into ``cfg.arch``; returns where the best checkpoint is."""
    return fit_run(prepare_distill(cfg))


def prepare_distill(cfg: DistillConfig) -> Run:
    """Everything a distillation run holds (teacher, objective, data, optimiser), not started."""
    seed_everything(cfg.seed)
    dist, device = distributed.setup(resolve_device(cfg.device))
    data = _unlabeled_data(cfg) if cfg.unlabeled else build_data(cfg, keep_unlabeled=True)
    teacher, class_map, classes = _teacher(cfg, data, device)
    model = create_student(cfg, len(classes), device)
    objective = DistillObjective(
        teacher,
        class_map,
        build_losses(cfg.losses, _loss_context(cfg, data, model, teacher, classes, device)),
        data.mean,
        data.std,
        labeled=cfg.unlabeled is None,
        pseudo_threshold=cfg.pseudo_threshold,
        pseudo_rest=cfg.pseudo_labels,
        cutmix=CutMix(cfg.cutmix),
    )
    palette = data.train_raw.info.palette or voc_colormap(len(classes))
    recipe = {
        **cfg.as_recipe(),
        "teacher_info": teacher.describe(),
        "losses": describe_losses(objective.losses),
    }
    meta = CheckpointMeta(
        arch=cfg.arch,
        num_classes=len(classes),
        classes=list(classes),
        palette=[list(c) for c in palette[: len(classes)]],
        mean=data.mean,
        std=data.std,
        input_size=list(data.size),
        dataset=cfg.unlabeled and f"images:{cfg.unlabeled}" or cfg.data,
        recipe=recipe,
        aux_loss=has_aux_head(model),
    )
    train_set = None
    if cfg.teacher_cache:
        with distributed.main_first(dist):  # rank 0 fills it, the others open it
            objective.cache = build_cache(
                cfg.teacher_cache,
                teacher,
                class_map,
                data.train_raw,
                data.size,
                cfg.batch_size,
                cfg.progress and dist.main,
                features=any(loss.needs_teacher_features for loss in objective.losses.values()),
            )
        train_set = GeometryItems(data.train_set)
        # rank 0 alone saves checkpoints, so it alone measures what the cache teaches
        if dist.main and (
            agreement := label_agreement(objective.cache, data.labeled, classes, cfg.progress)
        ):
            meta.recipe["teacher_vs_labels"] = agreement.as_dict()
            console.print(agreement.summary(), soft_wrap=True)
    run = make_run(cfg, device, model, data, objective, meta, train_set=train_set, dist=dist)
    if cfg.unlabeled:
        run.evaluate_fn = teacher_agreement
    return run


def _teacher(cfg: DistillConfig, data: Data, device) -> tuple[Teacher, ClassMap, tuple[str, ...]]:
    """The teacher (an ensemble for several ``--teacher``), its class map, the student's classes.
    Each ensemble member gets its own ``--class-map`` / ``--teacher-classes`` entry."""
    dataset_classes = tuple(data.train_raw.info.classes)
    maps = cfg.per_teacher("class_map")
    members = []
    for i, spec in enumerate(cfg.teachers):
        teacher = build_teacher(spec, teacher_options(cfg, dataset_classes, device, member=i))
        classes = _student_classes(cfg, data, teacher.classes)
        members.append(
            (teacher, resolve_class_map(teacher.classes, classes, maps[i], teacher.num_classes))
        )
    if len(members) == 1:
        return (*members[0], classes)
    weights = cfg.teacher_weights or (None,) * len(members)
    ensemble = EnsembleTeacher(
        [Member(t, m, parse_weights(w, classes)) for (t, m), w in zip(members, weights)], classes
    )
    return ensemble, ClassMap(len(classes), len(classes)), classes


def _loss_context(cfg, data: Data, model, teacher: Teacher, classes, device) -> LossContext:
    needs_bg = any(spec.split(":")[0].strip() == "fsi" for spec in cfg.losses)
    background = background_ids(classes, tuple(cfg.background)) if needs_bg else set()
    weights = None
    if cfg.class_weights != "none" and cfg.unlabeled is None:
        weights = compute_class_weights(data.labeled, len(classes), method=cfg.class_weights)
        weights = weights.to(device)
    return LossContext(
        num_classes=len(classes),
        student_channels=dict(model.feature_channels),
        teacher_channels=dict(teacher.feature_channels),
        background=frozenset(background),
        class_weights=weights,
        aux_weight=cfg.aux_weight,
        class_names=tuple(classes),
    )


@torch.no_grad()
def teacher_agreement(run: Run) -> SegMetrics:
    """mIoU of the student against the teacher's labels (same threshold) on held-out images."""
    objective: DistillObjective = run.objective
    cfg, confmat = run.cfg, ConfusionMatrix(run.meta.num_classes)
    loader = build_dataloader(run.val_set, cfg.batch_size, shuffle=False, workers=cfg.workers)
    run.model.eval()
    for index, (images, _) in enumerate(loader):
        if cfg.limit_val_batches is not None and index >= cfg.limit_val_batches:
            break
        images = images.to(run.device)
        pixels = (images * objective.std + objective.mean).clamp(0, 1)
        out = teach(objective.teacher, objective.class_map, pixels, tuple(images.shape[-2:]))
        labels = pseudo_labels(out, objective.pseudo_threshold)
        confmat.update(labels.cpu(), run.model(images).argmax(1).cpu())
    return confmat.compute(run.meta.classes)
