"""Class maps: a teacher's classes onto the student's (VOC's 21 → CamVid's 11, …).

A class-map file is JSON, ``{"teacher class": "student class" | null, …}``; names are matched
case-insensitively, "background", "__background__" and "bg" as one name, and a teacher class may
also be given by its index. Several teacher classes may
feed one student class (VOC car and bus → CamVid Car): their logits are merged with logsumexp, so
the merged probability is the sum of theirs. Teacher classes that are absent or map to ``null``
have no student counterpart: pixels the teacher assigns to them are *invalid* and take no part in
distillation (VOC's "background" says nothing about CamVid's road vs sky). Student classes no
teacher class reaches get a very low logit, so the teacher says "not this class". Without a file,
a teacher whose classes are the student's plus a background class the student lacks (the OWLv2 +
SAM teacher's "nothing detected here") maps by name with that background left out.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from edgeseg.data.classes import BACKGROUND_NAMES, class_index, class_key
from edgeseg.errors import DistillError
from edgeseg.utils import unknown_name_message

NO_CLASS_LOGIT = -1.0e4  # logit of a student class no teacher class maps to: probability 0


@dataclass(frozen=True)
class ClassMap:
    """``sources[c]``: teacher class indices merged into student class ``c`` (None: identity)."""

    num_teacher: int
    num_student: int
    sources: tuple[tuple[int, ...], ...] | None = None

    @property
    def identity(self) -> bool:
        return self.sources is None

    def apply(self, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher logits [N, Ct, H, W] → (student-class logits [N, Cs, H, W], valid [N, H, W])."""
        if logits.shape[1] != self.num_teacher:
            raise DistillError(
                f"Teacher produced {logits.shape[1]} classes but its class list has "
                f"{self.num_teacher}; check --teacher-classes"
            )
        if self.sources is None:
            return logits, torch.ones_like(logits[:, 0], dtype=torch.bool)
        shape = (logits.shape[0], self.num_student, *logits.shape[2:])
        mapped = logits.new_full(shape, NO_CLASS_LOGIT)
        mapped_to = torch.zeros(self.num_teacher, dtype=torch.bool, device=logits.device)
        for student, teachers in enumerate(self.sources):
            if teachers:
                mapped[:, student] = torch.logsumexp(logits[:, list(teachers)], dim=1)
                mapped_to[list(teachers)] = True
        valid = mapped_to[logits.argmax(1)]
        return mapped, valid


def resolve_class_map(
    teacher: Sequence[str] | None,
    student: Sequence[str],
    path: str | Path | None = None,
    num_teacher: int | None = None,
) -> ClassMap:
    """The map from ``teacher`` classes (names, or just a count) to ``student`` classes.

    Without a file, the classes must agree (same names, or same count when the teacher's names
    are unknown); anything else is a mismatch that needs ``--class-map``.
    """
    n_teacher = len(teacher) if teacher else int(num_teacher or 0)
    if path is not None:
        if not teacher:
            teacher = [str(i) for i in range(n_teacher)]
        return _read_map(Path(path), list(teacher), list(student))
    same_names = teacher and [class_key(c) for c in teacher] == [class_key(c) for c in student]
    if same_names or (not teacher and n_teacher == len(student)):
        return ClassMap(n_teacher, len(student))
    if teacher and (extra_background := _extra_background(list(teacher), list(student))):
        return extra_background
    shown = f" ({', '.join(list(teacher)[:4])}, …)" if teacher else ""
    raise DistillError(
        f"Teacher has {n_teacher} classes{shown} but the student has {len(student)} "
        f"({', '.join(list(student)[:4])}, …); pass --class-map FILE "
        '(JSON {"teacher class": "student class" or null})'
    )


def _extra_background(teacher: list[str], student: list[str]) -> ClassMap | None:
    """Student classes by name from a teacher that only adds background classes, else None."""
    names = [class_key(c) for c in student]
    kept = [
        i
        for i, c in enumerate(teacher)
        if not (class_key(c) in BACKGROUND_NAMES and class_key(c) not in names)
    ]
    if len(kept) == len(teacher) or [class_key(teacher[i]) for i in kept] != names:
        return None
    return ClassMap(len(teacher), len(student), tuple((i,) for i in kept))


def _pairs(pairs: list[tuple[str, object]]) -> list[tuple[str, object]]:
    """JSON objects as their (key, value) pairs, duplicates kept: a repeated key is an error to
    report, not a value to overwrite silently."""
    return pairs


def read_map_file(path: str | Path) -> list[tuple[str, object]]:
    """A class-map file's (key, value) pairs, duplicates kept; a missing file, bad JSON or
    anything but a non-empty object is a one-line DistillError (checked before any work)."""
    path = Path(path)
    if not path.is_file():
        raise DistillError(f"Class-map file {path} does not exist; pass a JSON file")
    try:
        raw = json.loads(path.read_text(), object_pairs_hook=_pairs)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DistillError(f"{path} is not valid JSON ({exc}); write a JSON object") from exc
    if not isinstance(raw, list) or not raw or not all(isinstance(p, tuple) for p in raw):
        raise DistillError(f'{path} must be a non-empty JSON object {{"teacher": "student"}}')
    return raw


def _read_map(path: Path, teacher: list[str], student: list[str]) -> ClassMap:
    raw = read_map_file(path)
    t_index = class_index(teacher)
    s_index = class_index(student)
    sources: list[list[int]] = [[] for _ in student]
    seen: dict[int, str] = {}
    for key, value in raw:
        t = t_index.get(class_key(key))
        if t is None and key.strip().isdigit() and int(key) < len(teacher):
            t = int(key)
        if t is None:
            raise DistillError(f"{path}: " + unknown_name_message("teacher class", key, teacher))
        if t in seen:  # a class folded into two places would be counted twice
            raise DistillError(
                f"{path}: teacher class '{teacher[t]}' is mapped twice ('{seen[t]}' and "
                f"'{key}'); map each teacher class once"
            )
        seen[t] = key
        if value is None:
            continue
        s = s_index.get(class_key(str(value)))
        if s is None:
            raise DistillError(
                f"{path}: " + unknown_name_message("student class", str(value), student)
            )
        sources[s].append(t)
    if not any(sources):
        raise DistillError(f"{path} maps no teacher class onto a student class")
    return ClassMap(len(teacher), len(student), tuple(tuple(s) for s in sources))
