"""One rank of a tiny DDP distillation, run by ``test_ddp.py`` under torchrun.

``python -m torch.distributed.run --standalone --nproc-per-node 2 ddp_worker.py OUT TEACHER``:
each rank distils the sample data (feature KD, so the objective has adapters to keep in sync)
and saves its own model and objective state to ``OUT/rank{RANK}.pt`` for the test to compare.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from edgeseg.distill.config import DistillConfig
from edgeseg.distill.run import prepare_distill
from edgeseg.train.fit import fit_run


def main(out: Path, teacher: str) -> None:
    torch.set_num_threads(1)
    cfg = DistillConfig(
        arch="lraspp_mobilenet_v3_small",
        data="sample",
        out=out / "run",
        epochs=3,
        batch_size=2,
        size=(64, 80),
        workers=0,
        progress=False,
        limit_train_batches=4,
        limit_val_batches=1,
        lr=5e-3,
        warmup_epochs=0,
        teacher=teacher,
        losses=("ce", "kd", "feature", "warmup"),
    )
    run = prepare_distill(cfg)
    rank, world = run.dist.rank, run.dist.world_size
    result = fit_run(run)
    state = {
        "model": run.model.state_dict(),
        "objective": run.objective.state_dict(),
        "history": result.history,
        "world": world,
    }
    torch.save(state, out / f"rank{rank}.pt")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
