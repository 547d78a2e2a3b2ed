"""DataLoader throughput: taimatsu.utils.data against torch.utils.data on the same data.

One step is one epoch over N_SAMPLES samples in batches of BATCH_SIZE; the notes'
"per op" is the time per sample (1 / samples per second). With workers the loaders use
persistent_workers=True, so a step measures steady-state loading, not process start-up
(both frameworks start their workers once, before timing). torch's loader yields torch
tensors, ours taimatsu tensors.

Two datasets:
- tensor: a TensorDataset of 3x32x32 float32 images and int64 labels (indexing and
  collation overhead: the per-sample work is one tensor index per field);
- pywork: the same dataset class for both frameworks, doing ~50 us of per-sample Python
  and NumPy work (a small augmentation) and returning NumPy arrays and an int, which
  each framework's default_collate turns into tensors (where workers pay off).
"""

from __future__ import annotations

import numpy as np
from harness import Case

N_SAMPLES = 2048
BATCH_SIZE = 64
IMAGE = (3, 32, 32)


class PyWorkDataset:
    """Framework-neutral map-style dataset with per-sample Python work."""

    def __init__(self, n: int):
        rng = np.random.default_rng(0)
        self.images = rng.standard_normal((n, *IMAGE), dtype=np.float32)
        self.labels = rng.integers(0, 10, n)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i):
        img = self.images[i]
        # A small augmentation: random crop with padding, flip, per-channel normalisation.
        rng = np.random.default_rng(i)
        dy, dx = rng.integers(0, 9, 2)
        padded = np.pad(img, ((0, 0), (4, 4), (4, 4)), mode="reflect")
        out = padded[:, dy:dy + 32, dx:dx + 32]
        if rng.random() < 0.5:
            out = out[:, :, ::-1]
        mean = out.mean(axis=(1, 2), keepdims=True)
        std = out.std(axis=(1, 2), keepdims=True) + 1e-6
        return np.ascontiguousarray((out - mean) / std), int(self.labels[i])


def _tensor_dataset(lib):
    rng = np.random.default_rng(0)
    x = lib.from_numpy(rng.standard_normal((N_SAMPLES, *IMAGE), dtype=np.float32))
    y = lib.from_numpy(rng.integers(0, 10, N_SAMPLES))
    return lib.utils.data.TensorDataset(x, y)


def _epoch_step(loader):
    def step():
        n = 0
        for x, _ in loader:
            n += len(x)
        assert n == N_SAMPLES
    return step


def _loader(lib, dataset, workers: int):
    extra = {"persistent_workers": True} if workers else {}
    return lib.utils.data.DataLoader(dataset, batch_size=BATCH_SIZE, num_workers=workers,
                                     **extra)


def _make(framework: str, data: str, workers: int):
    def factory():
        if framework == "taimatsu":
            import taimatsu as lib
            import taimatsu.utils.data  # noqa: F401  (taimatsu does not import utils eagerly)
        else:
            import torch as lib
            import torch.utils.data  # noqa: F401
        dataset = _tensor_dataset(lib) if data == "tensor" else PyWorkDataset(N_SAMPLES)
        return _epoch_step(_loader(lib, dataset, workers))
    factory.__name__ = f"dataloader_{data}_w{workers}_{framework}"
    return factory


def _case(data: str, workers: int, what: str) -> Case:
    return Case(
        f"dataloader_{data}_w{workers}",
        _make("taimatsu", data, workers),
        _make("torch", data, workers),
        description=f"one epoch of {N_SAMPLES} samples, batch {BATCH_SIZE}, {what}, "
                    f"num_workers={workers}; per op = per sample",
        ops=N_SAMPLES,
    )


_TENSOR = "TensorDataset of 3x32x32 float32 + int64 label"
_PYWORK = "dataset with ~50 us of per-sample NumPy augmentation"

CASES: list[Case] = [
    _case("tensor", 0, _TENSOR),
    _case("tensor", 2, _TENSOR),
    _case("pywork", 0, _PYWORK),
    _case("pywork", 2, _PYWORK),
]
