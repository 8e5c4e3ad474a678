"""The command that reproduces the shipped backbone: stages, resuming, its output."""

import json
import subprocess
import sys
from pathlib import Path

import torch

from sktime_diffusion import DiffusionBackbone

SCRIPT = Path(__file__).parents[1] / "pretraining" / "pretrain_backbone.py"
TINY = [
    "--steps-per-stage", "3",
    "--series-per-stage", "4",
    "--max-length", "100",
    "--window-length", "16",
    "--channels", "8",
    "--n-layers", "2",
]  # fmt: skip


def run(work_dir, stages, *extra):
    command = [sys.executable, str(SCRIPT), "--work-dir", str(work_dir)]
    command += ["--stages", str(stages), *TINY, *extra]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def test_a_stopped_pretraining_resumes_to_the_weights_of_a_run_without_a_break(
    tmp_path,
):
    # (one test: each run is a process that imports torch and sktime)
    run(tmp_path / "whole", 3, "--out", str(tmp_path / "whole.pt"))
    run(tmp_path / "stopped", 2)
    output = run(tmp_path / "stopped", 3, "--out", str(tmp_path / "resumed.pt"))
    assert "resuming after stage 2" in output
    whole = DiffusionBackbone.load(tmp_path / "whole.pt")
    resumed = DiffusionBackbone.load(tmp_path / "resumed.pt")
    assert whole.n_stages_ == resumed.n_stages_ == 3
    for name, value in whole.model_.state_dict().items():
        assert torch.equal(value, resumed.model_.state_dict()[name])
    log = json.loads((tmp_path / "stopped" / "log.json").read_text())
    assert [stage["stage"] for stage in log["stages"]] == [0, 1, 2]

    other = [sys.executable, str(SCRIPT), "--work-dir", str(tmp_path / "stopped")]
    refused = subprocess.run([*other, "--stages", "4"], capture_output=True, text=True)
    assert refused.returncode != 0 and "other settings" in refused.stderr
