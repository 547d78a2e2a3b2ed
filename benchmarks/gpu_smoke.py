"""GPU smoke check: small models trained a few steps on CUDA against the same on the CPU.

    python benchmarks/gpu_smoke.py          # needs CuPy and a GPU

Each case builds a model on the CPU, copies it to CUDA, runs three training steps
(forward, backward, optimizer step) on both, and compares the losses and the first step's
gradients at float32 tolerance.
Prints one line per case (ok / MISMATCH / the exception) and exits 1 if any failed.
"""

from __future__ import annotations

import copy
import sys
import traceback

import numpy as np

import taimatsu as tm
from taimatsu import nn
from taimatsu.nn import functional as F


def _mlp():
    return nn.Sequential(nn.Linear(20, 64), nn.GELU(), nn.LayerNorm(64), nn.Dropout(0.0),
                         nn.Linear(64, 5)), (tm.randn(16, 20),), tm.randint(0, 5, (16,))


def _cnn():
    model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))
    return model, (tm.randn(4, 3, 16, 16),), tm.randint(0, 10, (4,))


def _transformer():
    layer = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True)
    model = nn.Sequential(nn.TransformerEncoder(layer, 2), nn.Flatten(), nn.Linear(8 * 32, 3))
    return model, (tm.randn(2, 8, 32),), tm.randint(0, 3, (2,))


class _LSTMClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(50, 16)
        self.rnn = nn.LSTM(16, 24, num_layers=2, batch_first=True)
        self.out = nn.Linear(24, 4)

    def forward(self, tokens):
        hidden, _ = self.rnn(self.emb(tokens))
        return self.out(hidden[:, -1])


def _lstm():
    return _LSTMClassifier(), (tm.randint(0, 50, (3, 7)),), tm.randint(0, 4, (3,))


class _Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(16, 48)

    def forward(self, x):
        q, k, v = self.qkv(x).reshape(2, 6, 3, 2, 8).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return y.transpose(1, 2).reshape(2, 6 * 16)


def _attention():
    return nn.Sequential(_Attention(), nn.Linear(96, 3)), (tm.randn(2, 6, 16),), \
        tm.randint(0, 3, (2,))


CASES = {"mlp+adamw": (_mlp, tm.optim.AdamW), "cnn+sgd": (_cnn, tm.optim.SGD),
         "transformer+adam": (_transformer, tm.optim.Adam), "lstm+rmsprop": (_lstm,
         tm.optim.RMSprop), "sdpa+adam": (_attention, tm.optim.Adam)}


def _step(model, opt_cls, inputs, target):
    """Losses of three steps, and the gradients of the first (adaptive optimizers amplify
    rounding in near-zero gradients, so later parameters are not compared)."""
    opt = opt_cls(model.parameters(), lr=1e-2) if opt_cls is not tm.optim.SGD else \
        opt_cls(model.parameters(), lr=1e-2, momentum=0.9)
    losses, grads = [], None
    for _ in range(3):
        opt.zero_grad()
        loss = F.cross_entropy(model(*inputs), target)
        loss.backward()
        if grads is None:
            grads = [p.grad.cpu().numpy() for p in model.parameters() if p.grad is not None]
        opt.step()
        losses.append(loss.item())
    return losses, grads


def run_case(name, build, opt_cls) -> bool:
    tm.manual_seed(0)
    model, inputs, target = build()
    gpu_model = copy.deepcopy(model).cuda()
    cpu_losses, cpu_grads = _step(model, opt_cls, inputs, target)
    gpu_losses, gpu_grads = _step(gpu_model, opt_cls, tuple(x.cuda() for x in inputs),
                                  target.cuda())
    ok = np.allclose(cpu_losses, gpu_losses, rtol=1e-4, atol=1e-5) and \
        len(cpu_grads) == len(gpu_grads) and all(
            np.allclose(a, b, rtol=1e-3, atol=1e-5) for a, b in zip(cpu_grads, gpu_grads))
    print(f"{name:20s} {'ok' if ok else 'MISMATCH'}  cpu {cpu_losses}  cuda {gpu_losses}")
    return ok


def main() -> int:
    if not tm.cuda.is_available():
        print("no CUDA device")
        return 1
    failed = 0
    for name, (build, opt_cls) in CASES.items():
        try:
            failed += not run_case(name, build, opt_cls)
        except Exception:
            failed += 1
            print(f"{name:20s} ERROR")
            traceback.print_exc(limit=6)
    print(f"{len(CASES) - failed}/{len(CASES)} cases ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
