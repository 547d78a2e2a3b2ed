"""DistributedSampler: each of `num_replicas` processes loads its own share of a dataset."""

from __future__ import annotations

import math
from collections.abc import Iterator

from .sampler import Sampler

__all__ = ["DistributedSampler"]


def _process_group_setting(name: str) -> int:
    """The default process group's world size or rank, as torch asks torch.distributed."""
    try:
        from ... import distributed as dist
    except ImportError:
        raise RuntimeError("Requires distributed package to be available") from None
    if not dist.is_available():
        raise RuntimeError("Requires distributed package to be available")
    return dist.get_world_size() if name == "num_replicas" else dist.get_rank()


class DistributedSampler(Sampler[int]):
    """Restricts loading to this replica's share of the dataset.

    Partitioning as torch: every replica gets `num_samples = ceil(len / num_replicas)`
    indices; without drop_last the index list is padded by repeating its start, with
    drop_last its tail is cut to a multiple of num_replicas; replica `rank` takes every
    num_replicas-th index from position `rank`. With shuffle, the list is a permutation
    from a generator seeded with `seed + epoch` (the same on every replica; call
    `set_epoch` each epoch to reshuffle). The permutation itself differs from torch's
    for the same seed (a different RNG); the partitioning rules are the same.

    Args:
        dataset: the dataset (only its length is used)
        num_replicas: number of processes (default: the process group's world size)
        rank: this process's rank (default: its rank in the process group)
        shuffle: shuffle the indices (default True)
        seed: the shuffle's seed, identical on all replicas (default 0)
        drop_last: drop the tail instead of padding (default False)
    """

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None:
            num_replicas = _process_group_setting("num_replicas")
        if rank is None:
            rank = _process_group_setting("rank")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        from ... import Generator, randperm
        n = len(self.dataset)
        if self.shuffle:
            g = Generator().manual_seed(self.seed + self.epoch)
            indices = randperm(n, generator=g).tolist()
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[:self.total_size]
        else:
            padding = self.total_size - len(indices)
            # Repeat the list as often as needed (more than once only for tiny datasets).
            indices += (indices * math.ceil(padding / len(indices)))[:padding] if padding else []
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Sets the epoch, so that shuffle=True gives a new order each epoch."""
        self.epoch = epoch
