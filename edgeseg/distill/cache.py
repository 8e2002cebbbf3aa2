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

A teacher with feature taps (an artifact's ``features=`` tensor, a checkpoint's taps) has them
stored too, at their own resolution over the whole photo (``features_<tap>_0000.npy``), and
:func:`sample_features` reads each batch item's crop out of them with the same geometry, at
1/``FEATURE_STRIDE`` of the training size — so ``--loss feature`` works from the cache.
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
FEATURE_STRIDE = 4  # cached feature taps are served at 1/4 of the training size


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
        self.logits = _shards(folder, "logits", index["shards"])
        self.valid = _shards(folder, "valid", index["shards"])
        self.features = {
            tap: _shards(folder, f"features_{tap}", index["shards"])
            for tap in index.get("taps", [])
        }

    def item(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return _row(self.logits, index, np.float32), _row(self.valid, index, bool)

    def lookup(self, extra: dict[str, torch.Tensor], device: torch.device) -> TeacherOutput:
        """Cached logits warped like each batch item: scale, pad, crop, flip; cached feature
        taps sampled with the same geometry."""
        indices = [int(i) for i in extra["index"].tolist()]
        geos = [
            {k: int(v[b]) for k, v in extra.items() if k != "index"} for b in range(len(indices))
        ]
        outs, valids = [], []
        for index, geo in zip(indices, geos, strict=True):
            logits, valid = warp(*self.item(index), geo, self.size)
            outs.append(logits)
            valids.append(valid)
        features = {
            tap: sample_features(
                torch.stack([_row(shards, i, np.float32) for i in indices]), geos, self.size
            ).to(device)
            for tap, shards in self.features.items()
        }
        return TeacherOutput(
            torch.stack(outs).to(device), torch.stack(valids).to(device), features or None
        )


def _shards(folder: Path, stem: str, count: int) -> list[np.ndarray]:
    """``stem_0000.npy`` … memory-mapped: training reads only the rows of its batch."""
    return [np.load(folder / f"{stem}_{k:04d}.npy", mmap_mode="r") for k in range(count)]


def _row(shards: list[np.ndarray], index: int, dtype) -> torch.Tensor:
    """Item ``index`` of a sharded array, copied out of the memory map as ``dtype``."""
    shard, offset = divmod(index, SHARD)
    return torch.from_numpy(np.array(shards[shard][offset], dtype=dtype))


def sample_features(
    features: torch.Tensor, geos: list[dict[str, int]], size: tuple[int, int]
) -> torch.Tensor:
    """Each item's crop of whole-photo feature maps ``[N, C, h, w]``, at 1/FEATURE_STRIDE of
    ``size``: the centre of each output cell is mapped back through flip → crop → pad → scale to
    a point of the photo and sampled bilinearly; cells over padding are 0. Sampling, not warping
    at full size: a 128-channel map at the training size would cost more than the step."""
    out_h, out_w = -(-size[0] // FEATURE_STRIDE), -(-size[1] // FEATURE_STRIDE)
    ys = (torch.arange(out_h, dtype=torch.float32) + 0.5) * size[0] / out_h
    xs = (torch.arange(out_w, dtype=torch.float32) + 0.5) * size[1] / out_w
    grids = []
    for geo in geos:
        scaled_h, scaled_w = geo.get("scaled_h", size[0]), geo.get("scaled_w", size[1])
        x = size[1] - xs if geo.get("flip") else xs
        u = (geo.get("crop_left", 0) + x) / scaled_w  # 0..1 across the photo
        v = (geo.get("crop_top", 0) + ys) / scaled_h
        grid_v, grid_u = torch.meshgrid(v * 2 - 1, u * 2 - 1, indexing="ij")
        grids.append(torch.stack([grid_u, grid_v], dim=-1))
    return F.grid_sample(
        features, torch.stack(grids), mode="bilinear", padding_mode="zeros", align_corners=False
    )


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


def _signature(
    teacher: Teacher, class_map: ClassMap, dataset, size, features: bool
) -> dict[str, Any]:
    extra = {"features": sorted(teacher.feature_channels)} if features else {}
    return {
        **extra,
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
    features: bool = False,
) -> TeacherCache:
    """Fill ``folder`` (unless it already holds this exact cache) and open it memory-mapped;
    ``features``: store the teacher's feature taps too (a feature loss reads them)."""
    folder = Path(folder)
    signature = _signature(teacher, class_map, raw_dataset, size, features)
    index_path = folder / "index.json"
    if index_path.is_file() and json.loads(index_path.read_text()).get("signature") == signature:
        return TeacherCache(folder, size)
    folder.mkdir(parents=True, exist_ok=True)
    to_tensor = ToTensor()
    n = len(raw_dataset)
    shards = (n + SHARD - 1) // SHARD
    taps: list[str] = []
    grid: tuple[int, ...] | None = None  # every stored map's size: the first one's
    with progress_bar(progress) as bar:
        task = bar.add_task("teacher cache", total=n, info="")
        for k in range(shards):
            logits, valid, tap_maps = [], [], {}
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
                    for tap, value in ((out.features or {}) if features else {}).items():
                        grid = grid or tuple(value.shape[-2:])
                        tap_maps.setdefault(tap, []).append(_whole_photo(value, grid))
                bar.update(task, advance=stop - start)
            _save(folder / f"logits_{k:04d}.npy", np.concatenate(logits))
            _save(folder / f"valid_{k:04d}.npy", np.concatenate(valid))
            for tap, arrays in tap_maps.items():
                _save(folder / f"features_{tap}_{k:04d}.npy", np.concatenate(arrays))
            taps = sorted(tap_maps)
    with atomic_path(index_path) as tmp:
        index = {"signature": signature, "shards": shards, "shard": SHARD, "taps": taps}
        tmp.write_text(json.dumps(index))
    return TeacherCache(folder, size)


def _whole_photo(features: torch.Tensor, grid: tuple[int, ...]) -> np.ndarray:
    """A batch's feature tap as stored: fp16 at the teacher's own resolution, brought to the
    cache's one grid where photos of another size gave another (so that shards stack)."""
    if tuple(features.shape[-2:]) != grid:
        features = F.interpolate(features.float(), size=grid, mode="bilinear", align_corners=False)
    return features.detach().half().cpu().numpy()


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
