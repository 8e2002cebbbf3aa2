"""Class names and colours: VOC's colour map and the ``classes.txt`` format of user datasets."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from edgeseg.errors import DataError

Palette = tuple[tuple[int, int, int], ...]


def voc_colormap(n: int = 256) -> Palette:
    """PASCAL VOC's colour map: the bits of the class id interleaved into R, G, B from the top.

    It is what VOC's palette PNGs carry and what most tools draw with, and it gives any number of
    classes distinct colours, so it is also the default for datasets that bring none.
    """
    colours = []
    for index in range(n):
        red = green = blue = 0
        value = index
        for shift in range(7, -1, -1):
            red |= (value & 1) << shift
            green |= ((value >> 1) & 1) << shift
            blue |= ((value >> 2) & 1) << shift
            value >>= 3
        colours.append((red, green, blue))
    return tuple(colours)


def read_classes_file(path: Path) -> tuple[tuple[str, ...], Palette]:
    """Parse ``classes.txt``: one class per line, ``name`` or ``name r g b``; ``#`` comments.

    Either every line has a colour or none does (then VOC's colour map is used), so that a
    half-filled palette never silently mixes two colour schemes.
    """
    names: list[str] = []
    colours: list[tuple[int, int, int] | None] = []
    for lineno, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        colour = _colour(parts[-3:]) if len(parts) >= 4 else None
        if colour is None and len(parts) >= 4 and all(p.lstrip("-").isdigit() for p in parts[-3:]):
            raise DataError(f"{path}:{lineno}: colour {parts[-3:]} is not three values in 0..255")
        names.append(" ".join(parts[:-3]) if colour else line)
        colours.append(colour)
    if not names:
        raise DataError(f"{path} lists no classes; write one class name per line")
    if len(set(names)) != len(names):
        duplicate = next(n for n in names if names.count(n) > 1)
        raise DataError(f"{path} lists class '{duplicate}' twice; class names must be unique")
    given = [c for c in colours if c is not None]
    if not given:
        return tuple(names), voc_colormap(len(names))
    if len(given) != len(colours):
        missing = names[colours.index(None)]
        raise DataError(
            f"{path}: class '{missing}' has no colour but others do; give every class 'name r g b'"
            " or none"
        )
    return tuple(names), tuple(given)


def _colour(parts: list[str]) -> tuple[int, int, int] | None:
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        return None
    if len(values) != 3 or not all(0 <= v <= 255 for v in values):
        return None
    return values[0], values[1], values[2]


BACKGROUND_NAMES = ("background", "__background__", "bg")


def class_key(name: str) -> str:
    """A class name as names are matched everywhere (``--class-map``, ``--teacher-weight``,
    ``kd:exclude``, ``--background``): any case, and one name for background however a source
    spells it — torchvision's VOC weights say "__background__", a VOC dataset "background", and
    the two are the same class, not a mismatch."""
    name = name.strip().lower()
    return "background" if name in BACKGROUND_NAMES else name


def class_index(classes: Sequence[str]) -> dict[str, int]:
    """``class_key(name) → id`` for ``classes`` (the first, where two names match the same key):
    the one lookup by which options name classes."""
    index: dict[str, int] = {}
    for i, name in enumerate(classes):
        index.setdefault(class_key(name), i)
    return index


def background_ids(classes: tuple[str, ...] | None, names: tuple[str, ...] = ()) -> set[int]:
    """Indices of the background classes (not objects): ``names``, else the usual names.

    Foreground-only training and FSI distillation need to know which labels are "not an object";
    CamVid has no class called background, so there ``--background`` must name them.
    """
    classes = tuple(classes or ())
    index = class_index(classes)
    wanted = names or BACKGROUND_NAMES
    found = {index[class_key(n)] for n in wanted if class_key(n) in index}
    missing = [n for n in names if class_key(n) not in index]
    if missing or not found:
        raise DataError(
            f"Background class '{missing[0] if missing else 'background'}' is not one of "
            f"{', '.join(classes) or 'the (unnamed) classes'}; pass --background NAME[,NAME]"
        )
    return found
