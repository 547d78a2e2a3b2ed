"""The result of tokenizing one sequence (or pair): ids with their tokens, offsets and masks."""

from __future__ import annotations

__all__ = ["Encoding"]


class Encoding:
    """Token ids and their parallel annotations, as the Rust library's Encoding.

    Attributes:
        ids: token ids
        tokens: token strings
        offsets: (start, end) character spans into the original text ((0, 0) for added
            special tokens and padding)
        type_ids: segment ids (0 for the first sequence, 1 for the second with BERT)
        attention_mask: 1 for real tokens, 0 for padding
        special_tokens_mask: 1 for tokens the post-processor or padding added
        word_ids: index of the pre-tokenized word each token comes from (None for specials)
        overflowing: the parts cut off by truncation, each an Encoding of its own
    """

    __slots__ = ("ids", "type_ids", "tokens", "offsets", "attention_mask",
                 "special_tokens_mask", "word_ids", "overflowing", "sequence_ranges")

    def __init__(self, ids=None, type_ids=None, tokens=None, offsets=None, attention_mask=None,
                 special_tokens_mask=None, word_ids=None, overflowing=None,
                 sequence_ranges=None):
        self.ids = list(ids or [])
        n = len(self.ids)
        self.type_ids = list(type_ids) if type_ids is not None else [0] * n
        self.tokens = list(tokens or [])
        self.offsets = list(offsets) if offsets is not None else [(0, 0)] * n
        self.attention_mask = list(attention_mask) if attention_mask is not None else [1] * n
        self.special_tokens_mask = (list(special_tokens_mask) if special_tokens_mask is not None
                                    else [0] * n)
        self.word_ids = list(word_ids) if word_ids is not None else [None] * n
        self.overflowing = list(overflowing or [])
        self.sequence_ranges = dict(sequence_ranges or {})

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return (f"Encoding(num_tokens={len(self.ids)}, attributes=[ids, type_ids, tokens, "
                f"offsets, attention_mask, special_tokens_mask, word_ids, overflowing])")

    @property
    def words(self) -> list:
        return self.word_ids

    @property
    def n_sequences(self) -> int:
        return max(1, len(self.sequence_ranges))

    @property
    def sequence_ids(self) -> list:
        """For each token, which input sequence (0 or 1) it belongs to; None for specials."""
        out = [None] * len(self.ids)
        for seq, (a, b) in self.sequence_ranges.items():
            for i in range(a, b):
                out[i] = seq
        return out

    def copy(self) -> Encoding:
        return Encoding(self.ids, self.type_ids, self.tokens, self.offsets,
                        self.attention_mask, self.special_tokens_mask, self.word_ids,
                        [o.copy() for o in self.overflowing], self.sequence_ranges)

    def set_sequence_id(self, seq: int) -> None:
        self.sequence_ranges = {seq: (0, len(self.ids))}

    def _part(self, a: int, b: int) -> Encoding:
        return Encoding(self.ids[a:b], self.type_ids[a:b], self.tokens[a:b],
                        self.offsets[a:b], self.attention_mask[a:b],
                        self.special_tokens_mask[a:b], self.word_ids[a:b])

    def truncate(self, max_length: int, stride: int = 0, direction: str = "right") -> None:
        """Keeps `max_length` tokens; the rest go to `overflowing`, in windows of
        max_length that overlap by `stride` tokens."""
        n = len(self.ids)
        if max_length >= n:
            return
        if max_length == 0:
            whole = self.copy()
            self.__init__()
            self.overflowing = [whole]
            return
        if stride >= max_length:
            raise ValueError(f"`stride` must be strictly less than `max_len={max_length}` (note "
                             f"that `max_len` may be shorter than the max length of the original "
                             f"model, as it subtracts the number of special characters")
        step = max_length - stride
        parts = []
        if direction == "right":
            for start in range(0, n, step):
                stop = min(start + max_length, n)
                parts.append((start, stop))
                if stop == n:
                    break
        elif direction == "left":
            for stop in range(n, 0, -step):
                start = max(stop - max_length, 0)
                parts.append((start, stop))
                if start == 0:
                    break
        else:
            raise ValueError(f"truncation direction must be 'right' or 'left', got {direction!r}")
        first = self._part(*parts[0])
        first.overflowing = [self._part(a, b) for a, b in parts[1:]]
        for name in self.__slots__:
            setattr(self, name, getattr(first, name))

    def pad(self, length: int, pad_id: int = 0, pad_type_id: int = 0, pad_token: str = "[PAD]",
            direction: str = "right") -> None:
        """Pads (this encoding and its overflowing parts) up to `length` tokens."""
        for o in self.overflowing:
            o.pad(length, pad_id, pad_type_id, pad_token, direction)
        k = length - len(self.ids)
        if k <= 0:
            return
        if direction == "right":
            self.ids += [pad_id] * k
            self.type_ids += [pad_type_id] * k
            self.tokens += [pad_token] * k
            self.word_ids += [None] * k
            self.attention_mask += [0] * k
            self.special_tokens_mask += [1] * k
            self.offsets += [(0, 0)] * k
        elif direction == "left":
            self.ids = [pad_id] * k + self.ids
            self.type_ids = [pad_type_id] * k + self.type_ids
            self.tokens = [pad_token] * k + self.tokens
            self.word_ids = [None] * k + self.word_ids
            self.attention_mask = [0] * k + self.attention_mask
            self.special_tokens_mask = [1] * k + self.special_tokens_mask
            self.offsets = [(0, 0)] * k + self.offsets
            self.sequence_ranges = {s: (a + k, b + k) for s, (a, b) in
                                    self.sequence_ranges.items()}
        else:
            raise ValueError(f"padding side must be 'right' or 'left', got {direction!r}")

    def merge_with(self, pair: Encoding, growing_offsets: bool = False) -> None:
        """Appends `pair`; overflowing parts combine as every mix of the two sides."""
        overflowing = []
        for mine in self.overflowing:
            e = mine.copy()
            e.merge_with(pair.copy(), growing_offsets)
            overflowing.append(e)
            for theirs in pair.overflowing:
                e = mine.copy()
                e.merge_with(theirs.copy(), growing_offsets)
                overflowing.append(e)
        for theirs in pair.overflowing:
            e = self.copy()
            e.merge_with(theirs.copy(), growing_offsets)
            overflowing.append(e)
        n = len(self.ids)
        for seq, (a, b) in pair.sequence_ranges.items():
            self.sequence_ranges[seq] = (n + a, n + b)
        self.ids += pair.ids
        self.type_ids += pair.type_ids
        self.tokens += pair.tokens
        self.word_ids += pair.word_ids
        shift = self.offsets[-1][1] if growing_offsets and self.offsets else 0
        self.offsets += pair.offsets if not shift else [(a + shift, b + shift)
                                                         for a, b in pair.offsets]
        self.special_tokens_mask += pair.special_tokens_mask
        self.attention_mask += pair.attention_mask
        self.overflowing = overflowing

    @staticmethod
    def merge(encodings, growing_offsets: bool = False) -> Encoding:
        out = Encoding()
        for e in encodings:
            out.merge_with(e, growing_offsets)
        return out
