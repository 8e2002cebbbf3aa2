"""Small helpers shared across edgeseg: name suggestions, size strings, numeric option bounds
(atomic writes: :mod:`edgeseg.atomic`)."""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Callable, Iterable
from pathlib import Path

from edgeseg.errors import ConfigError

MIN_SIDE = 32  # output stride of every backbone: below it the deepest map is under 1 px
MAX_SIDE = 4096  # 4K: far above any phone camera preview; 20000x20000 exhausts memory
SIZE_RANGE = f"each side {MIN_SIDE}-{MAX_SIDE}"
# The largest count any option takes (epochs, batches, images, runs …): C's int, so every
# library these reach (DataLoader, islice, native runtimes) gets an index-sized value.
MAX_COUNT = 2**31 - 1
MAX_WORKERS = 256  # DataLoader processes; more only exhausts the machine
MAX_SEED = 2**32 - 1  # numpy's seed range (torch takes 64 bits)


def unknown_name_message(kind: str, name: str, choices: Iterable[str]) -> str:
    """'Unknown model 'x'. Did you mean 'y'? Valid: a, b, c' — one line, for any registry."""
    choices = sorted(choices)
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return f"Unknown {kind} '{name}'.{hint} Valid: {', '.join(choices)}"


def class_registrar(table: dict[str, type], kind: str) -> Callable[[type], type]:
    """A class decorator registering classes in ``table`` under their ``name`` attribute.

    Shared by the converter and runner registries: a class without a name, or a second class
    with the same name, is a programming error raised at import time.
    """

    def register(cls: type) -> type:
        name = getattr(cls, "name", "")
        if not name:
            raise ValueError(f"{cls.__name__} has no name")
        if name in table:
            raise ValueError(f"{kind} '{name}' is registered twice")
        table[name] = cls
        return cls

    return register


def pick_by_content(
    path: Path, found: list, known: Iterable[str], what: tuple[str, str], error: type[Exception]
):
    """The one of ``found`` (registered classes' instances that claim ``path``'s suffix) whose
    ``check_file`` accepts the file's bytes: a suffix two formats share (``.pt``: an edgeseg
    checkpoint or TorchScript) is told apart by content, never guessed. ``known`` is every
    suffix there is, for the error when nothing claims it; ``what`` names the picker and its verb
    there (``("runtime", "opens")``). Runtimes and bench runners both pick this way, so they
    cannot disagree about a file."""
    if len(found) == 1:
        return found[0]
    suffix = path.suffix.lower()
    if not found:
        raise error(
            f"{path}: no {what[0]} {what[1]} '{suffix or path.name}' files "
            f"(known: {', '.join(sorted(set(known)))})"
        )
    reasons = []
    for candidate in found:
        try:
            candidate.check_file(path)
            return candidate
        except error as exc:
            reasons.append(f"{candidate.name}: {exc}")
    raise error(f"{path}: no {what[0]} recognises it ({'; '.join(reasons)})")


def parse_size(text: str | tuple[int, int] | None) -> tuple[int, int] | None:
    """Parse 'HxW' (or a single 'S' for a square) into (height, width)."""
    if text is None or isinstance(text, tuple):
        return text
    parts = text.lower().replace("×", "x").split("x")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        values = []
    if len(values) == 1:
        values = values * 2
    if len(values) != 2 or min(values) <= 0:
        raise ConfigError(f"Bad size '{text}': use HxW with positive integers, e.g. 360x480")
    return values[0], values[1]


def check_size(hw: str | tuple[int, int] | None, flag: str = "--size") -> tuple[int, int] | None:
    """``hw`` if both sides are whole numbers in [MIN_SIDE, MAX_SIDE], else a ConfigError naming
    ``flag`` and the range: a model trained below the backbones' stride cannot be exported, and
    one above the maximum fails with an out-of-memory error after minutes. Every option object
    that takes an input size checks it here, before any work."""
    if isinstance(hw, str):
        hw = parse_size(hw)
    if hw is None:
        return None
    h, w = hw
    if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in (h, w)):
        raise ConfigError(f"{flag} {h}x{w}: give whole numbers, {SIZE_RANGE}")
    if min(h, w) < MIN_SIDE:
        raise ConfigError(
            f"{flag} {h}x{w} is too small: {SIZE_RANGE} (the backbones downsample 32x), "
            f"e.g. {MIN_SIDE}x{MIN_SIDE}"
        )
    if max(h, w) > MAX_SIDE:
        raise ConfigError(f"{flag} {h}x{w} is too large: {SIZE_RANGE}")
    return int(h), int(w)


def check_range(
    flag: str,
    value: float | None,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    low_open: bool = False,
    whole: bool = False,
) -> None:
    """Raise a ConfigError ``'FLAG VALUE is out of range: RANGE'`` unless ``value`` is a finite
    number (a whole one with ``whole``) in [low, high] — (low, high] with ``low_open``. The
    message states the valid range, so the one line says what to type instead."""
    if whole and math.isinf(high):  # no open-ended count: C libraries take an int
        high = MAX_COUNT
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    ok = number and math.isfinite(value) and (not whole or float(value).is_integer())
    if ok:
        ok = (value > low if low_open else value >= low) and value <= high
    if not ok:
        raise ConfigError(
            f"{flag} {value!r} is out of range: {range_text(low, high, low_open, whole)}"
        )


TRUE_WORDS, FALSE_WORDS = ("true", "1", "yes"), ("false", "0", "no")


def parse_bool(text: str, flag: str) -> bool:
    """``true/false`` (also ``1/0``, ``yes/no``, any case) → bool; anything else is refused —
    read as "not true", a typo such as ``correct_only=ture`` silently switched the option off."""
    word = text.strip().lower()
    if word not in TRUE_WORDS + FALSE_WORDS:
        raise ConfigError(f"{flag}={text}: write true or false")
    return word in TRUE_WORDS


def range_text(low: float, high: float, low_open: bool = False, whole: bool = False) -> str:
    """'a whole number ≥ 0', 'a number > 0', 'a number in [0, 1]' …"""
    kind = "a whole number" if whole else "a number"
    low_text, high_text = _bound(low), _bound(high)
    if whole and high == MAX_COUNT:
        return f"{kind} {'>' if low_open else '≥'} {low_text} and at most {high_text}"
    if math.isinf(high):
        return f"{kind} {'>' if low_open else '≥'} {low_text}"
    if math.isinf(low):
        return f"{kind} ≤ {high_text}"
    return f"{kind} in {'(' if low_open else '['}{low_text}, {high_text}]"


def _bound(value: float) -> str:
    """A range's end as typed: 4294967295, not 4.29497e+09; 0.5 stays 0.5."""
    return str(int(value)) if math.isfinite(value) and float(value).is_integer() else f"{value:g}"


def parse_triple(text: str | None, flag: str) -> tuple[float, float, float] | None:
    """'0.5,0.5,0.5' (or one number for all three) → per-channel values, e.g. mean/std options."""
    if text is None:
        return None
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) == 1:
        values = values * 3
    if len(values) != 3:
        raise ConfigError(f"{flag} '{text}': give 3 numbers r,g,b in 0-1 units (or one for all)")
    return values  # type: ignore[return-value]
