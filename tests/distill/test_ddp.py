"""DDP under torchrun: two gloo processes on CPU end a short distillation with identical model
and objective state (adapters included), the loss goes down, and only rank 0 writes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("ddp_worker.py")


@pytest.mark.skipif(not os.environ.get("EDGESEG_SLOW"), reason="~40 s: set EDGESEG_SLOW=1")
def test_two_gloo_ranks_end_identical_and_learn(tmp_path, teacher_ckpt) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        str(WORKER),
        str(tmp_path),
        str(teacher_ckpt),
    ]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in (0, 1)]
    assert [state["world"] for state in ranks] == [2, 2]
    for part in ("model", "objective"):
        for key, value in ranks[0][part].items():
            assert torch.equal(value, ranks[1][part][key]), (part, key)
    adapters = [k for k in ranks[0]["objective"] if k.startswith("losses.feature.adapters.")]
    assert adapters  # training-only parameters exist and were kept in sync
    losses = [record["loss"] for record in ranks[0]["history"]]
    assert losses[-1] < losses[0], losses
    assert "miou" in ranks[0]["history"][-1] and "miou" not in ranks[1]["history"][-1]
    written = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert written == ["best.pt", "history.jsonl", "last.pt"]
