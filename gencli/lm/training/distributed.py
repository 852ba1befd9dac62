"""Data-parallel training under torchrun: the process group, the model wrapper, and the few collectives training needs.

Launched by `torchrun --nproc_per_node=N -m gencli lm train ...` (or `gencli lm train --nproc N`),
every process reads RANK, WORLD_SIZE and LOCAL_RANK from the environment; gloo is the backend
on the CPU, nccl on CUDA with one GPU per process (cuda:LOCAL_RANK). Without those variables
everything here is a no-op for one process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from gencli.core.errors import GencliError


@dataclass
class Distributed:
    """This process's place in the job: rank, number of processes, and its device."""

    rank: int
    world: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """Only the main process writes files and shows progress."""
        return self.rank == 0

    @classmethod
    def single(cls, device: torch.device) -> Distributed:
        return cls(0, 1, 0, torch.device(device))

    @classmethod
    def from_env(cls, device: torch.device) -> Distributed:
        """Join the process group that torchrun set up, or a single process when there is none."""
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world <= 1:
            return cls.single(device)
        rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
        if device.type == "cuda":
            if local_rank >= torch.cuda.device_count():
                raise GencliError(
                    f"LOCAL_RANK {local_rank}: this node has only {torch.cuda.device_count()} CUDA devices"
                )
            device = torch.device("cuda", local_rank)
            torch.cuda.set_device(device)
        elif device.type != "cpu":
            raise GencliError(f"--device {device.type}: data-parallel training runs on cpu (gloo) or cuda (nccl)")
        if not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        return cls(rank, world, local_rank, device)

    def wrap(self, model: nn.Module) -> nn.Module:
        """DistributedDataParallel around the model when there are several processes, else the model."""
        if self.world == 1:
            return model
        return DistributedDataParallel(model, device_ids=[self.device.index] if self.device.type == "cuda" else None)

    def mean(self, value: float) -> float:
        """The mean of a number over all processes (itself for one process)."""
        if self.world == 1:
            return value
        t = torch.tensor([value], dtype=torch.float64, device=self.device if self.device.type == "cuda" else "cpu")
        dist.all_reduce(t)
        return t.item() / self.world

    def main_index(self, index: int) -> int:
        """The main process's small non-negative integer in every process, by the same all-reduce training uses
        (the others pass anything)."""
        if self.world == 1:
            return index
        return round(self.mean(index * self.world if self.is_main else 0.0))

    def shard(self, batch_size: int, grad_accum: int) -> int:
        """Rows of the global batch that one micro-step of this process trains on; an error when it does not split."""
        parts = self.world * grad_accum
        if batch_size % parts:
            raise GencliError(
                f"train.batch_size {batch_size}: the global batch must split evenly into {self.world} processes "
                f"x {grad_accum} micro-steps (train.grad_accum); choose a multiple of {parts}"
            )
        return batch_size // parts

    def close(self) -> None:
        if self.world > 1 and dist.is_initialized():
            dist.destroy_process_group()
