"""Text generation for the causal language models: greedy search and sampling (temperature,
top-k, top-p) with a key/value cache and stop tokens, following transformers' generate().
"""

from __future__ import annotations

import numpy as np

import taimatsu

__all__ = ["GenerationMixin", "causal_mask", "process_logits"]


def causal_mask(attention_mask, query_len: int, past_len: int, device):
    """The boolean "may attend" mask for `query_len` new positions after `past_len` cached
    ones, combined with a (batch, past_len + query_len) padding mask; None when every key
    may be attended (one new position and no padding)."""
    total = past_len + query_len
    pad = None
    if attention_mask is not None:
        pad_np = np.asarray(attention_mask.cpu().numpy() != 0)
        if not pad_np.all():
            pad = pad_np[:, None, None, :total]
    if query_len == 1 and pad is None:
        return None
    rows = np.arange(past_len, total)[:, None]
    causal = np.arange(total)[None, :] <= rows  # (query_len, total)
    mask = causal[None, None] if pad is None else causal[None, None] & pad
    return taimatsu.from_numpy(np.ascontiguousarray(mask)).to(device)


def position_ids_from_mask(attention_mask, past_len: int, query_len: int, device):
    """Positions counting only real tokens (left padding shifts them), as transformers'
    generate() derives them; padded slots get position 1."""
    if attention_mask is None:
        return taimatsu.arange(past_len, past_len + query_len, device=device)[None]
    mask = attention_mask.cpu().numpy()
    pos = np.cumsum(mask, axis=-1) - 1
    pos[mask == 0] = 1
    return taimatsu.from_numpy(pos[:, past_len:past_len + query_len].astype(np.int64)).to(device)


def process_logits(logits: np.ndarray, temperature: float = 1.0, top_k: int | None = None,
                   top_p: float = 1.0) -> np.ndarray:
    """Sampling logits after temperature, top-k and top-p (nucleus) filtering (filtered
    entries become -inf), in transformers' order and with its tie and keep-one rules."""
    x = logits.astype(np.float32, copy=True)
    if temperature != 1.0:
        if temperature <= 0:
            raise ValueError(f"`temperature` has to be a strictly positive float, but is "
                             f"{temperature}")
        x /= temperature
    if top_k is not None and 0 < top_k < x.shape[-1]:
        kth = np.sort(x, axis=-1)[:, -top_k][:, None]
        x[x < kth] = -np.inf
    if top_p < 1.0:
        order = np.argsort(x, axis=-1, kind="stable")  # ascending
        sorted_x = np.take_along_axis(x, order, axis=-1)
        probs = np.exp(sorted_x - sorted_x[:, -1:])
        probs /= probs.sum(axis=-1, keepdims=True)
        remove_sorted = np.cumsum(probs, axis=-1) <= (1 - top_p)
        remove_sorted[:, -1] = False  # always keep the most likely token
        remove = np.zeros_like(remove_sorted)
        np.put_along_axis(remove, order, remove_sorted, axis=-1)
        x[remove] = -np.inf
    return x


class GenerationMixin:
    """`generate()` for a model whose forward takes (input_ids, attention_mask,
    position_ids, past_key_values, use_cache) and returns logits and past_key_values."""

    def generate(self, input_ids, max_new_tokens: int = 20, *, do_sample: bool = False,
                 temperature: float = 1.0, top_k: int | None = 50, top_p: float = 1.0,
                 eos_token_id=None, pad_token_id: int | None = None, attention_mask=None,
                 use_cache: bool = True, generator=None, min_new_tokens: int = 0):
        """Continues each sequence of `input_ids` by up to `max_new_tokens` tokens.

        Args:
            do_sample: sample from the (temperature / top_k / top_p filtered) distribution
                instead of taking the most likely token
            eos_token_id: a token id or a list of stop token ids (default: the config's
                eos_token_id); a sequence that emits one stops, and is filled with
                `pad_token_id` while the others go on
            attention_mask: 1/0 mask of left-padded batches
            use_cache: reuse past keys and values instead of re-running the whole prefix
            generator: a taimatsu.Generator for reproducible sampling
        Returns:
            (batch, prompt + generated) token ids
        """
        if input_ids.ndim == 1:
            input_ids = input_ids[None]
        input_ids = input_ids.long()
        device = input_ids.device
        stop = eos_token_id if eos_token_id is not None else \
            getattr(self.config, "eos_token_id", None)
        stop = [] if stop is None else [stop] if isinstance(stop, int) else list(stop)
        if pad_token_id is None:
            pad_token_id = getattr(self.config, "pad_token_id", None)
            if pad_token_id is None:
                pad_token_id = stop[0] if stop else 0
        batch = input_ids.shape[0]
        ids = input_ids.cpu().numpy()
        mask = attention_mask.cpu().numpy().astype(np.int64) if attention_mask is not None \
            else None
        finished = np.zeros(batch, dtype=bool)
        past, step_input = None, ids
        was_training = self.training
        self.eval()
        try:
            with taimatsu.no_grad():
                for step in range(max_new_tokens):
                    past_len = 0 if past is None else ids.shape[1] - step_input.shape[1]
                    mask_t = None if mask is None else taimatsu.from_numpy(mask).to(device)
                    out = self(taimatsu.from_numpy(step_input).to(device),
                               attention_mask=mask_t,
                               position_ids=position_ids_from_mask(
                                   mask_t, past_len, step_input.shape[1], device),
                               past_key_values=past, use_cache=use_cache)
                    logits = out.logits[:, -1, :].float().cpu().numpy()
                    if step < min_new_tokens and stop:
                        logits[:, stop] = -np.inf
                    nxt = self._next_tokens(logits, do_sample, temperature, top_k, top_p,
                                            generator)
                    nxt = np.where(finished, pad_token_id, nxt)
                    ids = np.concatenate([ids, nxt[:, None]], axis=1)
                    if mask is not None:
                        mask = np.concatenate([mask, np.ones((batch, 1), np.int64)], axis=1)
                    if stop:
                        finished |= np.isin(nxt, stop)
                        if finished.all():
                            break
                    if use_cache:
                        past, step_input = out.past_key_values, nxt[:, None]
                    else:
                        step_input = ids
        finally:
            self.train(was_training)
        return taimatsu.from_numpy(ids).to(device)

    @staticmethod
    def _next_tokens(logits, do_sample, temperature, top_k, top_p, generator):
        if not do_sample:
            return logits.argmax(axis=-1)
        x = process_logits(logits, temperature, top_k, top_p)
        probs = np.exp(x - x.max(axis=-1, keepdims=True))
        probs /= probs.sum(axis=-1, keepdims=True)
        picked = taimatsu.multinomial(taimatsu.from_numpy(probs), 1, generator=generator)
        return picked.numpy()[:, 0]
