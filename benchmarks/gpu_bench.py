"""GPU side-by-side timings (taimatsu on CuPy vs PyTorch CUDA); prints a markdown table.

    python benchmarks/gpu_bench.py        # on a machine with a GPU, CuPy and PyTorch

Cases: per-op overhead (a chain of small ops with backward), a float32 4096^3 matmul, and a
ResNet-18 training step at batch 64 (224x224, SGD with momentum). Each is timed with the
device synchronized, median of several rounds.
"""

from __future__ import annotations

import statistics
import time


def _median_time(step, sync, rounds=7, inner=5) -> float:
    step()
    sync()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(inner):
            step()
        sync()
        times.append((time.perf_counter() - start) / inner)
    return statistics.median(times)


def _op_chain(lib, device):
    x = lib.randn(16, 16, device=device, requires_grad=True)

    def step():
        y = x
        for _ in range(10):
            y = (y * 1.01 + 0.5).relu()
        y.sum().backward()
    return step


def _matmul(lib, device):
    a = lib.randn(4096, 4096, device=device)
    b = lib.randn(4096, 4096, device=device)
    return lambda: a @ b


def _resnet_step(lib, model, device):
    model = model.to(device).train()
    x = lib.randn(64, 3, 224, 224, device=device)
    y = lib.randint(0, 1000, (64,), device=device)
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        opt.zero_grad()
        lib.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return step


def _row(name, ours, theirs, extra="") -> str:
    return f"| {name} | {ours * 1e3:.3f} ms | {theirs * 1e3:.3f} ms | {ours / theirs:.2f}x | {extra} |"


def main() -> None:
    import sys
    from pathlib import Path

    import torch

    import taimatsu as tm
    sys.path.insert(0, str(Path(__file__).parent))
    from cases_vision import _torch_resnet18

    from taimatsu_vision.models import resnet18

    tm_sync = tm.cuda.synchronize
    rows = ["| case | taimatsu | torch | ratio | notes |", "| --- | --- | --- | --- | --- |"]
    ours = _median_time(_op_chain(tm, "cuda"), tm_sync)
    theirs = _median_time(_op_chain(torch, "cuda"), torch.cuda.synchronize)
    rows.append(_row("op chain (30 ops fwd+bwd)", ours, theirs,
                     f"per op: {ours / 30 * 1e6:.1f} us vs {theirs / 30 * 1e6:.1f} us"))
    ours = _median_time(_matmul(tm, "cuda"), tm_sync)
    torch.backends.cuda.matmul.allow_tf32 = False
    theirs = _median_time(_matmul(torch, "cuda"), torch.cuda.synchronize)
    flops = 2 * 4096 ** 3
    rows.append(_row("matmul 4096^3 fp32", ours, theirs,
                     f"TFLOP/s: {flops / ours / 1e12:.1f} vs {flops / theirs / 1e12:.1f}"))
    torch_model = _torch_resnet18()
    our_model = resnet18()
    our_model.load_state_dict({k: tm.from_numpy(v.detach().numpy().copy())
                               for k, v in torch_model.state_dict().items()})
    ours = _median_time(_resnet_step(tm, our_model, "cuda"), tm_sync, rounds=5, inner=3)
    theirs = _median_time(_resnet_step(torch, torch_model, "cuda"), torch.cuda.synchronize,
                          rounds=5, inner=3)
    rows.append(_row("ResNet-18 train step b64", ours, theirs, "SGD momentum, 224x224"))
    print("\n".join(rows))


if __name__ == "__main__":
    main()
