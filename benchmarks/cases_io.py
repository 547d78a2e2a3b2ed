"""Benchmark cases for checkpoint I/O: save and load of a ~100 MB state_dict.

The state_dict is 25 float32 tensors of 1024 x 1024 (105 MB), the same values for both
frameworks, written to a temporary folder. taimatsu.save to a path is atomic and durable
(temporary file, fsync, rename, fsync of the folder) where torch.save only writes, so the
`save_100MB` notes also time taimatsu saving into an open file object, which skips
those steps. `load_100MB` notes show taimatsu's mmap=True load.
"""

from __future__ import annotations

import os
import tempfile
from collections import OrderedDict

from harness import Case, Target

_TENSORS = 25
_SHAPE = (1024, 1024)


def _arrays():
    import numpy as np

    rng = np.random.default_rng(0)
    return [rng.standard_normal(_SHAPE, dtype=np.float32) for _ in range(_TENSORS)]


def _state_dict(wrap) -> OrderedDict:
    return OrderedDict((f"layer{i}.weight", wrap(a)) for i, a in enumerate(_arrays()))


def _folder():
    # Kept alive by the step closure; removed when the benchmark process ends.
    return tempfile.TemporaryDirectory(prefix="taimatsu-bench-io-")


# ---- save_100MB


def save_100MB_taimatsu():
    import taimatsu as tm
    from taimatsu.serialization import save

    sd = _state_dict(tm.from_numpy)
    folder = _folder()
    path = os.path.join(folder.name, "model.pt")

    def step():
        save(sd, path)
        return folder

    return step


def save_100MB_torch():
    import torch

    sd = _state_dict(torch.from_numpy)
    folder = _folder()
    path = os.path.join(folder.name, "model.pt")

    def step():
        torch.save(sd, path)
        return folder

    return step


def save_100MB_taimatsu_file_object():
    import taimatsu as tm
    from taimatsu.serialization import save

    sd = _state_dict(tm.from_numpy)
    folder = _folder()
    path = os.path.join(folder.name, "model.pt")

    def step():
        with open(path, "wb") as f:
            save(sd, f)
        return folder

    return step


# ---- load_100MB


def load_100MB_taimatsu(mmap: bool = False):
    import taimatsu as tm
    from taimatsu.serialization import load, save

    folder = _folder()
    path = os.path.join(folder.name, "model.pt")
    save(_state_dict(tm.from_numpy), path)

    def step():
        load(path, mmap=mmap)
        return folder

    return step


def load_100MB_torch():
    import torch

    folder = _folder()
    path = os.path.join(folder.name, "model.pt")
    torch.save(_state_dict(torch.from_numpy), path)

    def step():
        torch.load(path)
        return folder

    return step


CASES: list[Case] = [
    Case(
        "save_100MB",
        save_100MB_taimatsu,
        save_100MB_torch,
        description="save a 105 MB state_dict (25 float32 1024x1024 tensors) to a path; "
        "taimatsu's save is atomic and fsync'ed, torch.save is neither",
        references={"taimatsu_file_object": save_100MB_taimatsu_file_object},
        target=Target(1.5),
    ),
    Case(
        "load_100MB",
        load_100MB_taimatsu,
        load_100MB_torch,
        description="load that 105 MB state_dict from a path (weights_only=True)",
        references={"taimatsu_mmap": lambda: load_100MB_taimatsu(mmap=True)},
        target=Target(1.5),
    ),
]
