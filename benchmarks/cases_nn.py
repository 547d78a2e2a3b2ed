"""Training-step benchmarks for nn/optim: forward, loss, backward and optimizer step.

Each case is written once over `lib` (taimatsu or torch): the two share an API, so the
same lines build the same model, and only the library differs.
"""

from __future__ import annotations

from harness import Case, Target


def _train_step(lib, model, x, y, optimizer):
    loss_fn = lib.nn.functional.cross_entropy

    def step():
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()

    return step


def _mlp(lib):
    nn = lib.nn
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                          nn.Linear(512, 10))
    x, y = lib.randn(128, 784), lib.randint(0, 10, (128,))
    return _train_step(lib, model, x, y, lib.optim.SGD(model.parameters(), lr=0.01))


def _lenet(lib):
    nn = lib.nn
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    x, y = lib.randn(64, 1, 28, 28), lib.randint(0, 10, (64,))
    return _train_step(lib, model, x, y, lib.optim.SGD(model.parameters(), lr=0.01))


def _conv64(lib):
    conv = lib.nn.Conv2d(64, 64, 3, padding=1)
    x = lib.randn(32, 64, 32, 32, requires_grad=True)
    g = lib.randn(32, 64, 32, 32)

    def step():
        x.grad = None
        conv.zero_grad()
        conv(x).backward(g)

    return step


def _transformer_layer(lib):
    nn = lib.nn
    layer = nn.TransformerEncoderLayer(d_model=256, nhead=4, dim_feedforward=1024,
                                       dropout=0.0, batch_first=True)
    x, target = lib.randn(16, 128, 256), lib.randn(16, 128, 256)
    opt = lib.optim.Adam(layer.parameters(), lr=1e-4)

    def step():
        opt.zero_grad()
        loss = ((layer(x) - target) ** 2).mean()
        loss.backward()
        opt.step()

    return step


def _lstm(lib):
    nn = lib.nn
    lstm = nn.LSTM(input_size=128, hidden_size=256, num_layers=2, batch_first=True)
    x = lib.randn(32, 50, 128)
    opt = lib.optim.SGD(lstm.parameters(), lr=0.01)

    def step():
        opt.zero_grad()
        out, _ = lstm(x)
        out[:, -1].pow(2).mean().backward()
        opt.step()

    return step


def _pair(build):
    def with_taimatsu():
        import taimatsu
        taimatsu.manual_seed(0)
        return build(taimatsu)

    def with_torch():
        import torch
        torch.manual_seed(0)
        return build(torch)

    return with_taimatsu, with_torch


NN_CASES: list[Case] = [
    Case("mlp_step", *_pair(_mlp),
         description="MLP 784-512-512-10, batch 128, cross-entropy, SGD step",
         flops=3 * 2 * 128 * (784 * 512 + 512 * 512 + 512 * 10), target=Target(1.0)),
    Case("lenet_step", *_pair(_lenet),
         description="LeNet-5 on 1x28x28, batch 64, cross-entropy, SGD step",
         target=Target(2.5)),
    Case("conv64_fwd_bwd", *_pair(_conv64),
         description="Conv2d 64->64 3x3 pad 1 on 32x32, batch 32, forward + backward",
         flops=3 * 2 * 32 * 64 * 64 * 9 * 32 * 32, target=Target(2.0)),
    Case("transformer_layer_step", *_pair(_transformer_layer),
         description="TransformerEncoderLayer d256 4 heads ffn1024, seq 128, batch 16, Adam",
         target=Target(1.3)),
    Case("lstm2_step", *_pair(_lstm),
         description="2-layer LSTM hidden 256, seq 50, batch 32, input 128, SGD step",
         target=Target(2.0)),
]
