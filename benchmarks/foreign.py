"""What is known about third-party models that carry no sidecar: data, not code.

A foreign model's tensors say its input size, layout, dtype and quantisation, and whether it
returns scores or class ids; they do not say how pixels were normalised in training or what the
classes are called. For the models edgeseg's docs use, that is recorded here by content hash
(``sha256``), so ``edgeseg bench deeplabv3_257_mv_gpu.tflite --data voc:…`` needs no options.
Options (``--mean/--std``, ``--classes``) always win over a note.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ForeignNote:
    name: str
    mean: tuple[float, ...] | None = None  # 0..1 pixel units, like a sidecar
    std: tuple[float, ...] | None = None
    classes: str | None = None  # a --classes value: "voc", a classes.txt path, "a,b,c"
    source: str = ""


KNOWN: dict[str, ForeignNote] = {
    "68a539782c2c6a72f8aac3724600124a85ed977162b44e84cbae5db717c933c6": ForeignNote(
        "Google DeepLabV3 MobileNetV2, PASCAL VOC, 257x257 float",
        mean=(0.5, 0.5, 0.5),
        std=(0.5, 0.5, 0.5),
        classes="voc",
        source="TFLite segmentation example model: input (x - 127.5) / 127.5",
    ),
    "350af47fd346ea6d74b58833a351f583ba860e9806ec5bd292ff8d8f1f249398": ForeignNote(
        "Coral DeepLabV3 MobileNetV2, PASCAL VOC, 513x513 uint8, argmax in the graph",
        classes="voc",
        source="google-coral/test_data: raw uint8 RGB in (scale 1/128, zp 128)",
    ),
}


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def known_note(path: Path) -> ForeignNote | None:
    """The note for this exact file, if edgeseg knows it (a folder artifact never is)."""
    return KNOWN.get(sha256(path)) if path.is_file() else None
