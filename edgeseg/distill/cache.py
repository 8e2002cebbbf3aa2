"""Teacher cache (``--teacher-cache DIR``): the teacher runs once, training reads its logits.

Logits are computed on each *un-augmented* training image at its own resolution — the teacher
resizes it to its input size, so a 513×513 teacher sees the photo, not the student's 120×160
thumbnail (which cost a Cityscapes teacher 22 mIoU on CamVid) — resized to the training size,
mapped onto the student's classes, and stored as fp16 in
shards of ``SHARD`` images (``logits_0000.npy`` [n, C, H, W], ``valid_0000.npy`` [n, H, W]) that
are memory-mapped at training time. Each training item also returns the random geometry its
transform drew (``Compose.geometry``: scaled size, crop offset, flip); :meth:`TeacherCache.lookup`
replays it on the cached logits — resize to the scaled size, pad (invalid), crop, flip — so teacher
and student see the same pixels. ``index.json`` records what was cached; a cache made for another
teacher, dataset, size or class map is rebuilt rather than silently reused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from edgeseg.atomic import atomic_path
from edgeseg.data.transforms import ToTensor
from edgeseg.distill.classmap import ClassMap
from edgeseg.distill.teachers import Teacher, TeacherOutput, teach
from edgeseg.distill.teachers.base import teacher_device
from edgeseg.progress import progress_bar

SHARD = 256


class GeometryItems(torch.utils.data.Dataset):
    """``dataset[i]`` plus ``{"index": source, …geometry}``: what the cache needs to warp logits
    (``source``: the split's index of the item, also for a view that repeats images)."""

    def __init__(self, dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int):
        base = self.dataset
        if isinstance(base, torch.utils.data.Subset):  # held-out split of --unlabeled
            base, index = base.dataset, int(base.indices[index])
        image, mask = base[index]
        source = base.source_index(index) if hasattr(base, "source_index") else index
        return image, mask, {"index": source, **base.transform.geometry()}

    def __getattr__(self, name: str) -> Any:
        if name == "dataset" or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.dataset, name)


class TeacherCache:
    def __init__(self, folder: Path, size: tuple[int, int]) -> None:
        index = json.loads((folder / "index.json").read_text())
        self.size = size
        self.logits = [
            np.load(folder / f"logits_{k:04d}.npy", mmap_mode="r") for k in range(index["shards"])
        ]
        self.valid = [
            np.load(folder / f"valid_{k:04d}.npy", mmap_mode="r") for k in range(index["shards"])
        ]

    def item(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        shard, offset = divmod(index, SHARD)
        logits = torch.from_numpy(np.array(self.logits[shard][offset], dtype=np.float32))
        return logits, torch.from_numpy(np.array(self.valid[shard][offset], dtype=bool))

    def lookup(self, extra: dict[str, torch.Tensor], device: torch.device) -> TeacherOutput:
        """Cached logits warped like each batch item: scale, pad, crop, flip."""
        outs, valids = [], []
        for b, index in enumerate(extra["index"].tolist()):
            logits, valid = self.item(int(index))
            geo = {k: int(v[b]) for k, v in extra.items() if k != "index"}
            logits, valid = warp(logits, valid, geo, self.size)
            outs.append(logits)
            valids.append(valid)
        return TeacherOutput(torch.stack(outs).to(device), torch.stack(valids).to(device))


def warp(logits: torch.Tensor, valid: torch.Tensor, geo: dict[str, int], size: tuple[int, int]):
    """Replay RandomScale → PadIfSmaller → RandomCrop → flip on [C, H, W] logits and [H, W]."""
    scaled = (geo.get("scaled_h", size[0]), geo.get("scaled_w", size[1]))
    logits = F.interpolate(logits[None], size=scaled, mode="bilinear", align_corners=False)[0]
    valid = F.interpolate(valid[None, None].float(), size=scaled, mode="nearest")[0, 0] > 0.5
    pad_h, pad_w = max(0, size[0] - scaled[0]), max(0, size[1] - scaled[1])
    if pad_h or pad_w:
        logits = F.pad(logits, (0, pad_w, 0, pad_h))
        valid = F.pad(valid, (0, pad_w, 0, pad_h), value=False)
    top, left = geo.get("crop_top", 0), geo.get("crop_left", 0)
    logits = logits[:, top : top + size[0], left : left + size[1]]
    valid = valid[top : top + size[0], left : left + size[1]]
    if geo.get("flip"):
        logits, valid = logits.flip(-1), valid.flip(-1)
    return logits, valid


def _signature(teacher: Teacher, class_map: ClassMap, dataset, size) -> dict[str, Any]:
    return {
        "teacher": teacher.describe(),
        "dataset": dataset.info.spec,
        "items": len(dataset),
        "size": list(size),
        "teacher_input": "native",  # the photo at its own resolution, not the training size
        "class_map": [list(s) for s in class_map.sources or ()],
    }


def build_cache(
    folder: str | Path,
    teacher: Teacher,
    class_map: ClassMap,
    raw_dataset,
    size: tuple[int, int],
    batch_size: int = 8,
    progress: bool = True,
) -> TeacherCache:
    """Fill ``folder`` (unless it already holds this exact cache) and open it memory-mapped."""
    folder = Path(folder)
    signature = _signature(teacher, class_map, raw_dataset, size)
    index_path = folder / "index.json"
    if index_path.is_file() and json.loads(index_path.read_text()).get("signature") == signature:
        return TeacherCache(folder, size)
    folder.mkdir(parents=True, exist_ok=True)
    to_tensor = ToTensor()
    n = len(raw_dataset)
    shards = (n + SHARD - 1) // SHARD
    with progress_bar(progress) as bar:
        task = bar.add_task("teacher cache", total=n, info="")
        for k in range(shards):
            logits, valid = [], []
            for start in range(k * SHARD, min(n, (k + 1) * SHARD), batch_size):
                stop = min(n, (k + 1) * SHARD, start + batch_size)
                items = [to_tensor(*raw_dataset[i]) for i in range(start, stop)]
                for group in _same_size(items):
                    pixels = torch.stack([x for x, _ in group]).to(teacher_device(teacher))
                    masks = torch.stack([m for _, m in group]).to(pixels.device)
                    out = teach(
                        teacher, class_map, pixels, size, masks if teacher.needs_masks else None
                    )
                    logits.append(out.logits.half().cpu().numpy())
                    valid.append(out.valid.cpu().numpy())
                bar.update(task, advance=stop - start)
            _save(folder / f"logits_{k:04d}.npy", np.concatenate(logits))
            _save(folder / f"valid_{k:04d}.npy", np.concatenate(valid))
    with atomic_path(index_path) as tmp:
        tmp.write_text(json.dumps({"signature": signature, "shards": shards, "shard": SHARD}))
    return TeacherCache(folder, size)


def _same_size(items: list) -> list[list]:
    """Consecutive runs of (image, mask) pairs of one size: what can be stacked into a batch."""
    groups: list[list] = []
    for item in items:
        if groups and groups[-1][0][0].shape == item[0].shape:
            groups[-1].append(item)
        else:
            groups.append([item])
    return groups


def _save(path: Path, array: np.ndarray) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.save(fh, array)
