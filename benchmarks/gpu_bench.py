"""GPU side-by-side timings (taimatsu on CuPy vs PyTorch CUDA); prints a markdown table.

    python benchmarks/gpu_bench.py        # on a machine with a GPU, CuPy and PyTorch

Cases (issue 9's list): per-op overhead (a chain of small ops with backward); 4096^3 matmul
in fp32, tf32 and bf16 (TFLOP/s); the copy bandwidth ceiling, and softmax / layer_norm
forward+backward bandwidth against it (target: >= 70% of copy); a ResNet-18 training step at
batch 64 (224x224, SGD with momentum); a TransformerEncoderLayer training step (d_model 512,
8 heads, seq 512, batch 32, Adam); attention forward+backward (scaled_dot_product_attention,
causal, bf16). Each is timed with the device synchronized, median of several rounds.
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


def _matmul_dtype(lib, device, dtype_name):
    dtype = getattr(lib, dtype_name)
    a = lib.randn(4096, 4096, device=device).to(dtype)
    b = lib.randn(4096, 4096, device=device).to(dtype)
    return lambda: a @ b


def _copy(lib, device, n):
    x = lib.randn(n, device=device)
    return lambda: x.clone()


def _row_op(lib, device, name, rows=8192, cols=4096):
    """softmax or layer_norm over rows x cols, forward and backward."""
    F = lib.nn.functional
    x = lib.randn(rows, cols, device=device, requires_grad=True)
    g = lib.randn(rows, cols, device=device)
    w = lib.ones(cols, device=device, requires_grad=True)
    b = lib.zeros(cols, device=device, requires_grad=True)

    def step():
        y = F.softmax(x, -1) if name == "softmax" else F.layer_norm(x, (cols,), w, b)
        y.backward(g)
    return step


def _transformer_step(lib, device):
    layer = lib.nn.TransformerEncoderLayer(512, 8, 2048, dropout=0.1, batch_first=True)
    layer = layer.to(device).train()
    x = lib.randn(32, 512, 512, device=device)
    opt = lib.optim.Adam(layer.parameters(), lr=1e-4)

    def step():
        opt.zero_grad()
        layer(x).square().mean().backward()
        opt.step()
    return step


def _attention(lib, device):
    shape = (8, 16, 1024, 64)
    q, k, v = (lib.randn(*shape, device=device).to(lib.bfloat16).requires_grad_()
               for _ in range(3))
    g = lib.randn(*shape, device=device).to(lib.bfloat16)

    def step():
        out = lib.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        out.backward(g)
    return step


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
    flops = 2 * 4096 ** 3
    for label, dtype, tf32 in (("fp32", "float32", False), ("tf32", "float32", True),
                               ("bf16", "bfloat16", False)):
        tm.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cuda.matmul.allow_tf32 = tf32
        try:
            ours = _median_time(_matmul_dtype(tm, "cuda", dtype), tm_sync)
        except Exception as exc:  # noqa: BLE001 - report the case as not run, keep going
            rows.append(f"| matmul 4096^3 {label} | n/a | | | {type(exc).__name__}: {exc} |")
            continue
        theirs = _median_time(_matmul_dtype(torch, "cuda", dtype), torch.cuda.synchronize)
        rows.append(_row(f"matmul 4096^3 {label}", ours, theirs,
                         f"TFLOP/s: {flops / ours / 1e12:.1f} vs {flops / theirs / 1e12:.1f}"))
    tm.backends.cuda.matmul.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    n = 64 * 2 ** 20  # float32 elements: 256 MiB
    ours = _median_time(_copy(tm, "cuda", n), tm_sync)
    theirs = _median_time(_copy(torch, "cuda", n), torch.cuda.synchronize)
    ceiling = 2 * 4 * n / theirs  # bytes read + written per second
    rows.append(_row("copy 256 MiB (ceiling)", ours, theirs,
                     f"GB/s: {8 * n / ours / 1e9:.0f} vs {ceiling / 1e9:.0f}"))
    for name in ("softmax", "layer_norm"):
        ours = _median_time(_row_op(tm, "cuda", name), tm_sync)
        theirs = _median_time(_row_op(torch, "cuda", name), torch.cuda.synchronize)
        moved = 5 * 4 * 8192 * 4096  # fwd: read x, write y; bwd: read y (or x) and g, write dx
        rows.append(_row(f"{name} 8192x4096 fwd+bwd", ours, theirs,
                         f"GB/s: {moved / ours / 1e9:.0f} ({moved / ours / ceiling:.0%} of copy)"
                         f" vs {moved / theirs / 1e9:.0f}"))
    ours = _median_time(_transformer_step(tm, "cuda"), tm_sync, rounds=5, inner=3)
    theirs = _median_time(_transformer_step(torch, "cuda"), torch.cuda.synchronize, rounds=5,
                          inner=3)
    rows.append(_row("TransformerEncoderLayer train step", ours, theirs,
                     "d 512, 8 heads, seq 512, batch 32, Adam"))
    ours = _median_time(_attention(tm, "cuda"), tm_sync)
    theirs = _median_time(_attention(torch, "cuda"), torch.cuda.synchronize)
    rows.append(_row("attention fwd+bwd bf16 causal", ours, theirs, "B 8, H 16, L 1024, D 64"))
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
