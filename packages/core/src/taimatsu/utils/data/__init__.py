"""taimatsu.utils.data: datasets, samplers and the DataLoader, as torch.utils.data.

Batches come back as taimatsu tensors. With `num_workers > 0` the DataLoader starts
real worker processes ('fork' by default on Linux; 'spawn' and 'forkserver' through
`multiprocessing_context`), and yields the same batches, in the same order, as with
`num_workers=0`.

Writing a dataset for many workers: keep metadata in NumPy arrays
--------------------------------------------------------------------
A forked worker shares the parent's memory copy-on-write: pages are copied only when
written. Reading a Python object writes to it (its reference count), so a dataset that
keeps, say, a list of a million file names or labels as Python objects has those pages
copied into every worker as it reads them, and memory grows by the size of that list
per worker over an epoch ("copy-on-read"). A NumPy array is one object whose data is
never written by reading, so it stays shared. Therefore:

- store per-sample metadata (labels, offsets, lengths, indices) as NumPy arrays;
- store strings (file names) as one NumPy array of fixed-width bytes or unicode
  (`np.array(names)`), or as one bytes blob plus an offsets array, not a list of str;
- open files and other handles lazily in `__getitem__` (or in a `worker_init_fn`),
  not in `__init__`, so that each worker opens its own.

The datasets here follow this: `Subset` (and so `random_split`) keeps its indices as an
int64 NumPy array, and `TensorDataset` holds tensors (arrays) only. With 'spawn' or
'forkserver' the dataset is pickled into each worker instead: keep it small to pickle
(load large arrays from a file, e.g. `np.load(..., mmap_mode="r")`, in the worker).

Randomness: worker `w` seeds taimatsu's default generator, Python's `random` and
NumPy's global RNG from `base_seed + w`, where `base_seed` is drawn for every new
iterator from the DataLoader's `generator` (or the default generator): random
augmentations differ between workers, and `taimatsu.manual_seed` (or a seeded
generator) makes an epoch reproducible. `get_worker_info()` tells a dataset, inside a
worker, its id, the number of workers, its seed and its copy of the dataset, e.g. to
shard an IterableDataset.
"""

from .dataloader import DataLoader, _DatasetKind, default_collate, default_convert, get_worker_info
from .dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from .distributed import DistributedSampler
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "BatchSampler",
    "ChainDataset",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "DistributedSampler",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "StackDataset",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "_DatasetKind",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "random_split",
]
