"""The benchmark cases. Add a case: write its factories and append a Case to CASES.

Each factory builds its inputs (not timed) and returns the `step` the harness
times. taimatsu mirrors PyTorch's API, so the two factories of a pair usually
differ only in the module they use; keep them separate anyway, so that a case
can be written before taimatsu has every piece the PyTorch side uses.
"""

from __future__ import annotations

from harness import Case, Target


def _chain(lib, x):
    """Ten small elementwise ops; on small tensors their cost is per-op overhead."""
    y = x * 0.5
    y = y + 1.0
    y = lib.sin(y)
    y = lib.tanh(y)
    y = lib.sigmoid(y)
    y = -y
    y = lib.exp(y)  # y is in (-1, 0) here: no overflow
    y = y * x
    y = y - x
    return y * y


CHAIN_OPS = 10


def _chain_step(lib, n: int):
    x = lib.randn(n, requires_grad=True)

    def step():
        x.grad = None  # like optimizer.zero_grad(): each backward makes a fresh grad
        _chain(lib, x).sum().backward()

    return step


# ---- small_op_chain: per-op overhead (forward + backward) on 16 elements


def small_op_chain_taimatsu():
    import taimatsu as tm

    return _chain_step(tm, 16)


def small_op_chain_torch():
    import torch

    return _chain_step(torch, 16)


# ---- matmul_1024: float32 GEMM under no_grad; NumPy is the speed to match


def matmul_1024_taimatsu():
    import taimatsu as tm

    a, b = tm.randn(1024, 1024), tm.randn(1024, 1024)

    def step():
        with tm.no_grad():
            return a @ b

    return step


def matmul_1024_torch():
    import torch

    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)

    def step():
        with torch.no_grad():
            return a @ b

    return step


def matmul_1024_numpy():
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((1024, 1024), dtype=np.float32)
    b = rng.standard_normal((1024, 1024), dtype=np.float32)
    return lambda: a @ b


# ---- elementwise_chain_1M: the same chain where memory bandwidth, not overhead, rules


def elementwise_chain_1M_taimatsu():
    import taimatsu as tm

    return _chain_step(tm, 1 << 20)


def elementwise_chain_1M_torch():
    import torch

    return _chain_step(torch, 1 << 20)


CASES: list[Case] = [
    Case(
        "small_op_chain",
        small_op_chain_taimatsu,
        small_op_chain_torch,
        description="10 elementwise ops on 16 float32 elements, then sum().backward()",
        ops=CHAIN_OPS,
        target=Target(3.0, text="aim 2x"),
    ),
    Case(
        "matmul_1024",
        matmul_1024_taimatsu,
        matmul_1024_torch,
        description="1024x1024 @ 1024x1024 float32 under no_grad",
        references={"numpy": matmul_1024_numpy},
        flops=2 * 1024**3,
        target=Target(1.1, against="numpy", text="NumPy's speed"),
    ),
    Case(
        "elementwise_chain_1M",
        elementwise_chain_1M_taimatsu,
        elementwise_chain_1M_torch,
        description="the same 10 ops on 2**20 float32 elements, then sum().backward()",
        ops=CHAIN_OPS,
        target=Target(1.2),
    ),
]

# The nn/optim training steps live in their own file.
from cases_nn import NN_CASES  # noqa: E402

CASES += NN_CASES

# DataLoader throughput.
from cases_data import CASES as DATA_CASES  # noqa: E402

CASES += DATA_CASES

# Checkpoint save/load of a ~100 MB state_dict.
from cases_io import CASES as IO_CASES  # noqa: E402

CASES += IO_CASES

# Tokenization and MiniLM sentence encoding (taimatsu-text).
from cases_text import CASES as TEXT_CASES  # noqa: E402

CASES += TEXT_CASES

# ResNet-18 inference and training step (taimatsu-vision).
from cases_vision import CASES as VISION_CASES  # noqa: E402

CASES += VISION_CASES

# Audio features.
from cases_audio import CASES as AUDIO_CASES  # noqa: E402

CASES += AUDIO_CASES
