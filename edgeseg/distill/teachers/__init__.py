"""Teacher kinds behind one protocol (``base.Teacher``); importing a module registers its kind."""

from edgeseg.distill.teachers import (  # noqa: F401  (register)
    artifact,
    checkpoint,
    foreground,
    owlsam,
    tta,
)
from edgeseg.distill.teachers.base import (
    Teacher,
    TeacherOptions,
    TeacherOutput,
    build_teacher,
    parse_teacher_options,
    register_teacher,
    teach,
    teacher_kinds,
)

__all__ = [
    "Teacher",
    "TeacherOptions",
    "TeacherOutput",
    "build_teacher",
    "parse_teacher_options",
    "register_teacher",
    "teach",
    "teacher_kinds",
]
