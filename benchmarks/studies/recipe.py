"""A study's run as the library's own config, and the ``edgeseg`` command line equivalent to it.

Why: the studies call the library (``fit``, ``distill``, ``export_checkpoint``, ``run_bench``)
with its validated option objects, yet their results print a command a reader can rerun. That
line is spelled here from the very object that ran, never assembled beside it, so the two cannot
drift; ``tests/benchmarks/studies/test_recipe.py`` parses it with the real CLI and checks that it
builds the same config. The studies' pass-through options (``camvid_train …``,
``distill_camvid … -- --class-weights enet``) are parsed with the same table, so the commands
recorded in ``benchmarks/results`` still run.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any, get_args, get_type_hints

from edgeseg import noise
from edgeseg.distill.config import DistillConfig
from edgeseg.distill.run import distill
from edgeseg.errors import EdgesegError
from edgeseg.train import TrainConfig, TrainResult, fit
from edgeseg.utils import parse_size, parse_triple

SIZES = {"size", "teacher_size"}  # (H, W) ↔ "HxW"
TRIPLES = {"teacher_mean", "teacher_std"}  # (r, g, b) ↔ "r,g,b"
LISTS = {"background"}  # ("a", "b") ↔ "a,b"
REPEATED = {  # one flag per item
    "losses": "--loss",
    "teacher_options": "--teacher-option",
    "teacher": "--teacher",  # an ensemble; one teacher is a plain string
    "class_map": "--class-map",
    "teacher_classes": "--teacher-classes",
    "teacher_weights": "--teacher-weight",
}
RENAMED = {"input_dtype": "--input", **REPEATED}
SHORT = {"batch_size": ("-b",)}  # as ``edgeseg train -b 8``
# config fields the command has no option for: a run that sets them has no equivalent command
NOT_ON_CLI = {
    TrainConfig: {"momentum", "scale", "amp", "val_every", "extra"},
    DistillConfig: {"momentum", "scale", "amp", "val_every", "extra"}
    | {"freeze_backbone_until", "foreground_only"},
}
ALWAYS = {"data", "out", "teacher", "losses"}  # spelled even at the default (the CLI's differ)


def execute(cfg: TrainConfig) -> TrainResult:
    """Run ``cfg`` as ``edgeseg train`` / ``edgeseg distill`` would: the library's own entry."""
    return distill(cfg) if isinstance(cfg, DistillConfig) else fit(cfg)


def command(cfg: TrainConfig) -> list[str]:
    """The ``edgeseg`` argv equivalent to ``cfg`` (without the leading ``edgeseg``).

    Only fields that differ from the config's defaults are spelled (plus :data:`ALWAYS`), in the
    dataclass's order; a field the command cannot set raises instead of being left out."""
    name = "distill" if isinstance(cfg, DistillConfig) else "train"
    argv = [name, cfg.arch]
    for f in fields(cfg):
        value = getattr(cfg, f.name)
        if f.name == "arch" or (f.name not in ALWAYS and value == _default(cfg, f.name)):
            continue
        if f.name in NOT_ON_CLI[type(cfg)]:
            raise EdgesegError(f"{f.name}={value!r} has no `edgeseg {name}` option")
        argv += ["--quiet"] if f.name == "progress" else spell(f.name, value)
    return argv


def shown(argv: list[str]) -> str:
    """How the results print an argv: ``edgeseg …`` (space-joined, as they always have)."""
    return "edgeseg " + " ".join(argv)


def spell(name: str, value: Any) -> list[str]:
    """One option as the ``edgeseg`` command line writes it; ``[]`` for ``None`` / ``False``."""
    flag = RENAMED.get(name, "--" + name.replace("_", "-"))
    if value is None or value is False:
        return []
    if value is True:
        return [flag]
    if name in REPEATED and isinstance(value, str):
        return [flag, value]
    if name in REPEATED:
        return [item for v in value for item in (flag, str(v))]
    if isinstance(value, tuple | list):  # (H, W) → "HxW"; triples and class lists → "a,b,c"
        return [flag, "x".join(map(str, value)) if name in SIZES else ",".join(map(str, value))]
    return [flag, str(value)]


def flags(**options: Any) -> list[str]:
    """``spell`` over keyword options, in order (the export and bench steps of a study)."""
    return [item for name, value in options.items() for item in spell(name, value)]


def add_options(
    parser: argparse.ArgumentParser, cls: type[TrainConfig], exclude: set[str] = frozenset()
) -> argparse.ArgumentParser:
    """Add ``cls``'s command-line options to ``parser``; each lands on its field's name only
    when given (read them back with :func:`given`)."""
    hints = get_type_hints(cls)
    for f in fields(cls):
        if f.name in exclude | NOT_ON_CLI[cls] | {"arch"}:
            continue
        flag, default = spell(f.name, True)[0], _default(cls, f.name)
        note = f"{cls.__name__} default: {default}"
        common = {"dest": f.name, "default": argparse.SUPPRESS, "help": note}
        if f.name == "progress":
            parser.add_argument("--quiet", "-q", action="store_false", **common)
        elif hints[f.name] is bool:
            parser.add_argument(flag, action="store_true", **common)
        elif f.name in REPEATED:
            parser.add_argument(flag, action="append", **common)
        else:
            kind = _parser(f.name, hints[f.name])
            parser.add_argument(flag, *SHORT.get(f.name, ()), type=kind, **common)
    return parser


def given(namespace: argparse.Namespace, cls: type[TrainConfig]) -> dict[str, Any]:
    """The config fields set on ``namespace`` by :func:`add_options`, as the config holds them."""
    names = {f.name for f in fields(cls)}
    return {k: tuple(v) if k in REPEATED else v for k, v in vars(namespace).items() if k in names}


def parse_options(argv: list[str], cls: type[TrainConfig], prog: str) -> dict[str, Any]:
    """Pass-through ``edgeseg`` options (``-- --class-weights enet``) → config field overrides."""
    parser = add_options(argparse.ArgumentParser(prog=prog, add_help=False), cls)
    return given(parser.parse_args(argv), cls)


NOTES = "<!-- notes -->"


def with_notes(md: Path, text: str) -> str:
    """``text`` followed by the hand-written notes below :data:`NOTES` in the ``md`` already
    there: a study re-rendering its Markdown keeps what people wrote under its numbers."""
    kept = md.read_text().partition(NOTES)[2] if md.is_file() else ""
    return text + (f"\n{NOTES}{kept}" if kept else "")


def study_main(main: Callable[[list[str]], int]) -> None:
    """``python -m`` entry: a user error is one line (exit 2), and third-party warnings, logs
    and native writes (LiteRT's "Created TensorFlow Lite XNNPACK delegate", one per teacher
    load) stay off the terminal, as under ``edgeseg`` (a crash says how many lines were hidden);
    ``--verbose`` shows them."""
    argv = sys.argv[1:]
    verbose = "--verbose" in argv
    hidden = noise.Captured()  # the capture's own box once it starts (empty if it cannot)
    try:
        with noise.captured(enabled=not verbose) as hidden:
            try:
                code = main([a for a in argv if a != "--verbose"])
            except EdgesegError as exc:
                print(f"error: {exc}", file=sys.stderr)
                code = 2
    except Exception:  # a crash: what was hidden (read when the capture ends) may be its cause
        if hint := hidden.hint():
            print(hint, file=sys.stderr)
        raise
    sys.exit(code)


def _default(cls_or_cfg: Any, name: str) -> Any:
    f = next(f for f in fields(cls_or_cfg) if f.name == name)
    return f.default_factory() if callable(f.default_factory) else f.default


def _parser(name: str, hint: Any) -> Callable[[str], Any]:
    if name in SIZES:
        return parse_size
    if name in TRIPLES:
        return lambda text: parse_triple(text, "--" + name.replace("_", "-"))
    if name in LISTS:
        return lambda text: tuple(b.strip() for b in text.split(",") if b.strip())
    kinds = [t for t in (get_args(hint) or (hint,)) if t is not type(None)]
    return kinds[0] if kinds[0] in (int, float, str, Path) else str
