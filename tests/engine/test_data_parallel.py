"""Data-parallel training with torchrun and gloo: two CPU processes against one."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from sktime_diffusion.engine.distributed import process_group, shard_of

WORKER = Path(__file__).with_name("_data_parallel_worker.py")
ROOT = Path(__file__).resolve().parents[2]


def _run(command, out):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [*command, str(WORKER), str(out)], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Rank files of one run without a process group and of two ranks under torchrun."""
    one, two = tmp_path_factory.mktemp("one"), tmp_path_factory.mktemp("two")
    _run([sys.executable], one)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    _run([*torchrun, "--nproc_per_node=2"], two)
    load = lambda path: torch.load(path, weights_only=False)  # noqa: E731
    return load(one / "rank0.pt"), load(two / "rank0.pt"), load(two / "rank1.pt")


def _largest_difference(first: dict, second: dict) -> float:
    return max(
        float((first[name] - second[name]).abs().max())
        for name in first
        if first[name].is_floating_point()
    )


def test_two_processes_end_with_identical_weights_on_every_rank(runs):
    _, rank0, rank1 = runs
    assert _largest_difference(rank0["model"], rank1["model"]) == 0.0
    assert rank0["train_loss"] == rank1["train_loss"]
    assert rank0["validation_loss"] == rank1["validation_loss"]
    for name in ("seeded", "unseeded"):  # unseeded: rank 0's seed is everyone's
        forecasters = rank0["forecasters"][name], rank1["forecasters"][name]
        assert _largest_difference(*forecasters) == 0.0


def test_two_processes_train_as_one_process_at_the_same_global_batch(runs):
    alone, rank0, _ = runs
    assert rank0["n_steps"] == alone["n_steps"]
    assert _largest_difference(alone["model"], rank0["model"]) < 1e-5
    assert rank0["train_loss"] == pytest.approx(alone["train_loss"], rel=1e-5)
    assert rank0["validation_loss"] == pytest.approx(alone["validation_loss"], rel=1e-5)
    seeded = alone["forecasters"]["seeded"], rank0["forecasters"]["seeded"]
    assert _largest_difference(*seeded) < 1e-5


def test_each_process_runs_the_network_on_its_share_of_every_batch(runs):
    alone, rank0, rank1 = runs
    # 30 training windows a pass in batches of 9, 9, 9, 3: shares of 5, 5, 5, 2
    assert alone["windows_seen"] == 3 * 30
    assert (rank0["windows_seen"], rank1["windows_seen"]) == (3 * 17, 3 * 13)


def test_shards_split_a_batch_into_near_equal_contiguous_parts():
    shards = [shard_of(9, 2, rank) for rank in range(2)]
    assert shards == [slice(0, 5), slice(5, 9)]
    assert [shard_of(1, 3, rank) for rank in range(3)] == [
        slice(0, 1),
        slice(1, 1),
        slice(1, 1),
    ]


def test_without_a_process_group_training_is_one_process():
    assert process_group() == (1, 0)
