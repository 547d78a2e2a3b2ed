"""A character-level Transformer language model trained on a short text.

    python examples/char_transformer.py [--steps 300] [--quiet]

It learns to predict the next character; the loss falls well below the entropy of the
text's character frequencies (what a model without context can reach).
"""

from __future__ import annotations

import argparse
import math

import numpy as np

import taimatsu as tm
from taimatsu import nn

TEXT = (
    "a torch is a stick with a flame at one end. people carried torches through dark "
    "halls and along night roads, and the light moved with them. a torch is passed "
    "from hand to hand in a relay, and the flame goes on though the runners change. "
    "to carry the torch is to keep a thing alive for those who come after. the torch "
    "burns, the runner tires, the next runner takes the light and runs on. "
) * 4


class CharTransformer(nn.Module):
    """Token and position embeddings, a causal Transformer encoder, a vocabulary head."""

    def __init__(self, vocab: int, block: int, dim: int = 64, heads: int = 4, layers: int = 2):
        super().__init__()
        self.tokens = nn.Embedding(vocab, dim)
        self.positions = nn.Embedding(block, dim)
        layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=4 * dim, dropout=0.0,
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers)
        self.head = nn.Linear(dim, vocab)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(block),
                             persistent=False)

    def forward(self, idx):
        t = idx.shape[1]
        h = self.tokens(idx) + self.positions(tm.arange(t))
        h = self.encoder(h, mask=self.mask[:t, :t], is_causal=True)
        return self.head(h)


def unigram_entropy(ids: np.ndarray) -> float:
    counts = np.bincount(ids).astype(np.float64)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def main(argv=None) -> tuple[float, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--block", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    tm.manual_seed(0)
    chars = sorted(set(TEXT))
    ids = np.array([chars.index(c) for c in TEXT], dtype=np.int64)
    rng = np.random.default_rng(0)
    model = CharTransformer(len(chars), args.block)
    optimizer = tm.optim.Adam(model.parameters(), lr=3e-3)

    for step in range(args.steps):
        starts = rng.integers(0, len(ids) - args.block - 1, args.batch_size)
        window = np.stack([ids[s:s + args.block + 1] for s in starts])
        x, y = tm.from_numpy(window[:, :-1]), tm.from_numpy(window[:, 1:])
        logits = model(x)
        loss = nn.functional.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if not args.quiet and (step % 50 == 0 or step == args.steps - 1):
            print(f"step {step}: loss {loss.item():.3f}")

    baseline = unigram_entropy(ids)
    print(f"unigram entropy: {baseline:.3f} nats (uniform: {math.log(len(chars)):.3f})")
    print(f"final loss: {loss.item():.3f}")
    print("sample:", repr(generate(model, chars, "the torch ", 60, args.block)))
    return loss.item(), baseline


def generate(model, chars, prompt: str, length: int, block: int) -> str:
    """Greedy continuation of `prompt`."""
    model.eval()
    idx = [chars.index(c) for c in prompt]
    with tm.no_grad():
        for _ in range(length):
            context = tm.tensor([idx[-block:]])
            idx.append(int(model(context)[0, -1].argmax()))
    model.train()
    return "".join(chars[i] for i in idx)


if __name__ == "__main__":
    main()
