"""torchtext.functional: to_tensor, truncate and add_token on token-id lists."""

from __future__ import annotations

import numpy as np

import taimatsu

__all__ = ["to_tensor", "truncate", "add_token"]


def _is_batch(input) -> bool:
    return len(input) > 0 and isinstance(input[0], (list, tuple))


def to_tensor(input, padding_value: int | None = None, dtype=taimatsu.long):
    """A list of ids -> 1-D tensor; a list of id lists -> 2-D, padded with padding_value
    (ragged lists need one)."""
    if isinstance(input, (list, tuple)) and _is_batch(input):
        lengths = {len(x) for x in input}
        if len(lengths) > 1:
            if padding_value is None:
                raise ValueError("to_tensor: sequences of different lengths need a "
                                 "padding_value")
            width = max(lengths)
            out = np.full((len(input), width), padding_value, dtype=dtype.np)
            for i, x in enumerate(input):
                out[i, :len(x)] = x
            return taimatsu.from_numpy(out)
    return taimatsu.tensor(input, dtype=dtype)


def truncate(input, max_seq_len: int):
    """Keeps the first max_seq_len items of a list (or of each list in a batch)."""
    if _is_batch(input):
        return [list(x[:max_seq_len]) for x in input]
    return list(input[:max_seq_len])


def add_token(input, token_id, begin: bool = True):
    """Adds token_id (an id or a token string) at the start (or end) of each sequence."""
    if _is_batch(input):
        return [add_token(x, token_id, begin) for x in input]
    return [token_id] + list(input) if begin else list(input) + [token_id]
