"""Whole training steps with every op on its CUDA kernel path (through the CPU emulator),
against the same steps on the plain CPU path: the kernels compose as the ops do."""

import contextlib

import numpy as np
import pytest

import taimatsu as tm
from taimatsu import nn
from taimatsu.backend.cuda import activation as cuda_activation
from taimatsu.testing import cuda_emulator

pytestmark = pytest.mark.skipif(not cuda_emulator.available(), reason="no C++ compiler")


def _train(build, make_batch, make_optimizer, steps, emulated):
    tm.manual_seed(0)
    model = build()
    optimizer = make_optimizer(model.parameters())
    losses = []
    for step in range(steps):
        inputs, target = make_batch(step)
        with cuda_emulator.emulate() if emulated else contextlib.nullcontext():
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(inputs), target)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses, {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def _compare(build, make_batch, make_optimizer, steps=2, rtol=2e-4, atol=1e-5, skip=()):
    ref_losses, ref_state = _train(build, make_batch, make_optimizer, steps, emulated=False)
    losses, state = _train(build, make_batch, make_optimizer, steps, emulated=True)
    np.testing.assert_allclose(losses, ref_losses, rtol=rtol)
    for name, value in ref_state.items():
        if name in skip:
            value, state[name] = skip[name](value), skip[name](state[name])
        np.testing.assert_allclose(state[name], value, rtol=rtol, atol=atol, err_msg=name)


def test_small_cnn_with_batch_norm_and_sgd():
    def build():
        return nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=2), nn.AvgPool2d(2),
            nn.Flatten(), nn.Dropout(0.0), nn.Linear(8, 5))

    rng = np.random.default_rng(1)
    batches = [(tm.tensor(rng.standard_normal((3, 3, 8, 8)).astype(np.float32)),
                tm.tensor(rng.integers(0, 5, 3))) for _ in range(2)]
    _compare(build, lambda step: batches[step],
             lambda params: tm.optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True))


@pytest.mark.parametrize("activation", ["gelu", "relu"])
def test_small_transformer_with_adamw(activation, monkeypatch):
    fused = []
    original = cuda_activation.bias_forward
    monkeypatch.setattr(cuda_activation, "bias_forward",
                        lambda *a, **k: fused.append(1) or original(*a, **k))

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(11, 16, padding_idx=0)
            self.layer = nn.TransformerEncoderLayer(16, 2, 24, dropout=0.0, batch_first=True,
                                                    activation=activation)
            self.norm = nn.LayerNorm(16)
            self.head = nn.Linear(16, 11)

        def forward(self, tokens):
            mask = nn.Transformer.generate_square_subsequent_mask(tokens.shape[1])
            hidden = self.layer(self.embed(tokens), src_mask=mask, is_causal=True)
            return self.head(self.norm(hidden)).flatten(0, 1)

    rng = np.random.default_rng(2)
    batches = [(tm.tensor(rng.integers(0, 11, (2, 6))), tm.tensor(rng.integers(0, 11, 12)))
               for _ in range(2)]
    # The key projection's bias gets a zero gradient up to rounding (softmax ignores a shift
    # shared by a row's scores); Adam divides that noise by its own size, so those 16 entries
    # move by +-lr either way and are left out.
    without_key_bias = {"layer.self_attn.in_proj_bias": lambda b: np.delete(b, range(16, 32))}
    _compare(Model, lambda step: batches[step],
             lambda params: tm.optim.AdamW(params, lr=1e-2, weight_decay=0.1),
             skip=without_key_bias)
    # GELU after linear1 takes the fused bias epilogue; ReLU does not
    assert bool(fused) == (activation == "gelu")
