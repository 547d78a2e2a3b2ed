"""An LSTM sequence classifier on variable-length sequences (packed, as in PyTorch).

    python examples/lstm_classifier.py [--steps 300] [--quiet]

Each sequence is 5 to 12 tokens over {0, 1, 2}; the label says whether 1s outnumber 2s,
so the model must count along the whole sequence, whatever its length.
"""

from __future__ import annotations

import argparse

import numpy as np

import taimatsu as tm
from taimatsu import nn
from taimatsu.nn.utils.rnn import pack_padded_sequence

VOCAB, MIN_LEN, MAX_LEN = 3, 5, 12


def make_batch(rng, n: int):
    """Padded token ids (n, MAX_LEN), lengths, and labels (no ties between 1s and 2s)."""
    lengths = rng.integers(MIN_LEN, MAX_LEN + 1, n)
    tokens = rng.integers(0, VOCAB, (n, MAX_LEN))
    tokens[np.arange(MAX_LEN)[None, :] >= lengths[:, None]] = 0  # padding
    balance = (tokens == 1).sum(1) - (tokens == 2).sum(1)
    tokens[balance == 0, 0] = 1  # break ties: one more 1 (position 0 is never padding)
    balance = (tokens == 1).sum(1) - (tokens == 2).sum(1)
    labels = (balance > 0).astype(np.int64)
    return tm.from_numpy(tokens), tm.from_numpy(lengths), tm.from_numpy(labels)


class SequenceClassifier(nn.Module):
    def __init__(self, hidden: int = 32):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, 16)
        self.lstm = nn.LSTM(16, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 2)

    def forward(self, tokens, lengths):
        packed = pack_padded_sequence(self.embed(tokens), lengths, batch_first=True,
                                      enforce_sorted=False)
        _, (h, _) = self.lstm(packed)
        return self.head(h[-1])  # the state after each sequence's own last token


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    tm.manual_seed(0)
    rng = np.random.default_rng(0)
    model = SequenceClassifier()
    optimizer = tm.optim.Adam(model.parameters(), lr=1e-2)
    for step in range(args.steps):
        tokens, lengths, labels = make_batch(rng, args.batch_size)
        loss = nn.functional.cross_entropy(model(tokens, lengths), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if not args.quiet and step % 50 == 0:
            print(f"step {step}: loss {loss.item():.3f}")

    tokens, lengths, labels = make_batch(np.random.default_rng(1), 1000)
    with tm.no_grad():
        acc = (model(tokens, lengths).argmax(1) == labels).float().mean().item()
    print(f"held-out accuracy: {acc:.4f}")
    return acc


if __name__ == "__main__":
    main()
