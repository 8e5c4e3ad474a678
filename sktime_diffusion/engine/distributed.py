"""Data-parallel training: what the fit loop needs from ``torch.distributed``.

Launched the way torch users launch any data-parallel script (``torchrun
--nproc_per_node=N script.py``, also across machines with ``--nnodes``), each process
calls ``torch.distributed.init_process_group`` (gloo on CPUs, NCCL on GPUs) and then
fits as usual. :func:`~sktime_diffusion.engine.training.train_model` sees the process
group and trains with :class:`torch.nn.parallel.DistributedDataParallel`: every process
draws the same global batch (same seed, same order, same masks, times and noise), runs
the network on its own share of it, and the gradients are averaged across processes, so
the weights after every step are those of one process training on the whole batch (up
to the order of floating-point sums) and identical on every rank. Without a process
group nothing here communicates.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor

__all__ = [
    "agree_any",
    "broadcast_seed",
    "process_group",
    "shard_of",
    "sum_over_processes",
]


def process_group() -> tuple[int, int]:
    """``(world_size, rank)`` of the initialised process group, ``(1, 0)`` without one."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size(), dist.get_rank()
    return 1, 0


def shard_of(batch_size: int, world_size: int, rank: int) -> slice:
    """The windows of a global batch that process ``rank`` runs the network on.

    Parameters
    ----------
    batch_size : int
        Windows of the global batch.
    world_size, rank : int

    Returns
    -------
    slice
        Contiguous shares whose sizes differ by at most one; empty for the last ranks
        when the batch has fewer windows than there are processes.

    Examples
    --------
    >>> [shard_of(10, 3, rank) for rank in range(3)]
    [slice(0, 4, None), slice(4, 7, None), slice(7, 10, None)]
    """
    share, extra = divmod(int(batch_size), int(world_size))
    start = rank * share + min(rank, extra)
    return slice(start, start + share + (rank < extra))


def _communication_device() -> torch.device:
    """Where collective tensors live: the current GPU for NCCL, else the CPU."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def sum_over_processes(value: Tensor) -> Tensor:
    """``value`` summed over every process (itself without a process group)."""
    if process_group()[0] == 1:
        return value
    total = value.detach().to(_communication_device(), torch.float64).clone()
    dist.all_reduce(total, op=dist.ReduceOp.SUM)
    return total.to(value.device)


def agree_any(flag: bool) -> bool:
    """True on every process when ``flag`` is true on any (e.g. a time budget ran out)."""
    if process_group()[0] == 1:
        return bool(flag)
    signal = torch.tensor([float(flag)], device=_communication_device())
    dist.all_reduce(signal, op=dist.ReduceOp.MAX)
    return bool(signal.item() > 0)


def broadcast_seed(seed: int) -> int:
    """Rank 0's ``seed`` on every process, so all draw the same batches and masks."""
    if process_group()[0] == 1:
        return int(seed)
    value = torch.tensor([int(seed)], dtype=torch.int64, device=_communication_device())
    dist.broadcast(value, src=0)
    return int(value.item())
