"""Tokenization models of tokenizer.json files: WordPiece, BPE, WordLevel and Unigram.

`tokenize(word)` turns one pre-tokenized piece into a tuple of (id, token, start, end)
with character offsets inside the piece. Results are kept in a per-model LRU cache keyed by
the piece, so a large corpus pays for each distinct word once.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict

__all__ = ["Model", "WordPiece", "BPE", "WordLevel", "Unigram", "LRUCache", "from_config"]

DEFAULT_CACHE_CAPACITY = 10_000
# longer pieces are not cached (the Rust library's limit): they are rare and large
MAX_CACHED_LENGTH = 256


class LRUCache:
    """A bounded mapping that evicts the least recently used entry."""

    __slots__ = ("capacity", "_data")

    def __init__(self, capacity: int = DEFAULT_CACHE_CAPACITY):
        self.capacity = capacity
        self._data: OrderedDict = OrderedDict()

    def get(self, key):
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key, value) -> None:
        if self.capacity <= 0:
            return
        data = self._data
        data[key] = value
        if len(data) > self.capacity:
            data.popitem(last=False)

    def clear(self) -> None:
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


class Model:
    """Base class: a vocabulary and a way to split a word into its entries."""

    def __init__(self, vocab: dict[str, int], cache_capacity: int = DEFAULT_CACHE_CAPACITY):
        self.vocab = dict(vocab)
        self.vocab_r = {i: t for t, i in self.vocab.items()}
        self.cache = LRUCache(cache_capacity)

    def tokenize(self, word: str) -> tuple:
        if not word:
            return ()
        hit = self.cache.get(word)
        if hit is not None:
            return hit
        result = tuple(self._tokenize(word))
        if len(word) < MAX_CACHED_LENGTH:
            self.cache.put(word, result)
        return result

    def _tokenize(self, word: str):
        raise TypeError(f"{type(self).__name__} does not implement _tokenize")

    def token_to_id(self, token: str) -> int | None:
        return self.vocab.get(token)

    def id_to_token(self, id: int) -> str | None:
        return self.vocab_r.get(id)

    def get_vocab(self) -> dict[str, int]:
        return dict(self.vocab)

    def get_vocab_size(self) -> int:
        return len(self.vocab)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(vocab_size={len(self.vocab)})"


class WordPiece(Model):
    """Greedy longest-match-first subwords; continuations carry `##`; a word with any piece
    missing from the vocabulary (or longer than max_input_chars_per_word) is [UNK]."""

    def __init__(self, vocab: dict[str, int], unk_token: str = "[UNK]",
                 continuing_subword_prefix: str = "##", max_input_chars_per_word: int = 100,
                 cache_capacity: int = DEFAULT_CACHE_CAPACITY):
        super().__init__(vocab, cache_capacity)
        self.unk_token = unk_token
        self.continuing_subword_prefix = continuing_subword_prefix
        self.max_input_chars_per_word = max_input_chars_per_word
        # no vocabulary entry is longer: the search for a piece starts at this length
        self._longest = max((len(t) for t in self.vocab), default=0)

    @classmethod
    def from_file(cls, vocab_file: str, **kwargs) -> WordPiece:
        """Reads a BERT vocab.txt (one token per line, ids by line number)."""
        return cls(read_vocab_txt(vocab_file), **kwargs)

    def _unk(self, word):
        unk_id = self.vocab.get(self.unk_token)
        if unk_id is None:
            raise ValueError(f"WordPiece: the unknown token {self.unk_token!r} is not in the "
                             f"vocabulary")
        return ((unk_id, self.unk_token, 0, len(word)),)

    def _tokenize(self, word):
        n = len(word)
        if n > self.max_input_chars_per_word:
            return self._unk(word)
        vocab, prefix, longest = self.vocab, self.continuing_subword_prefix, self._longest
        out = []
        start = 0
        while start < n:
            end = min(n, start + longest)
            while start < end:
                sub = word[start:end] if start == 0 else prefix + word[start:end]
                id = vocab.get(sub)
                if id is not None:
                    out.append((id, sub, start, end))
                    break
                end -= 1
            else:
                return self._unk(word)
            start = end
        return out


def read_vocab_txt(path: str) -> dict[str, int]:
    vocab = {}
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            token = line.rstrip("\n").rstrip("\r")
            vocab.setdefault(token, i)
    return vocab


class BPE(Model):
    """Byte-pair encoding: start from characters, apply the lowest-ranked merge first.

    Merges are applied as the Rust library does (a heap of (rank, position)), with optional
    continuing_subword_prefix / end_of_word_suffix, unk fusing, `<0xAB>` byte fallback and
    ignore_merges (a word already in the vocabulary is one token).
    """

    def __init__(self, vocab: dict[str, int], merges, unk_token: str | None = None,
                 continuing_subword_prefix: str | None = None,
                 end_of_word_suffix: str | None = None, fuse_unk: bool = False,
                 byte_fallback: bool = False, ignore_merges: bool = False,
                 dropout: float | None = None, cache_capacity: int = DEFAULT_CACHE_CAPACITY):
        super().__init__(vocab, cache_capacity)
        if dropout not in (None, 0, 0.0):
            raise ValueError("BPE dropout is a training-time augmentation and is not "
                             "supported; set dropout to null")
        self.unk_token = unk_token
        self.continuing_subword_prefix = continuing_subword_prefix
        self.end_of_word_suffix = end_of_word_suffix
        self.fuse_unk = fuse_unk
        self.byte_fallback = byte_fallback
        self.ignore_merges = ignore_merges
        self.merges = self._merge_table(merges)

    def _merge_table(self, merges) -> dict:
        """(left id, right id) -> (rank, merged id)."""
        table = {}
        cut = len(self.continuing_subword_prefix or "")
        for rank, m in enumerate(merges):
            a, b = m.split(" ", 1) if isinstance(m, str) else m
            try:
                ia, ib = self.vocab[a], self.vocab[b]
            except KeyError as e:
                raise ValueError(f"BPE merge {a!r} {b!r} uses a token missing from the "
                                 f"vocabulary: {e.args[0]!r}") from None
            merged = a + (b[cut:] if cut and b.startswith(self.continuing_subword_prefix) else b)
            if merged not in self.vocab:
                raise ValueError(f"BPE merge {a!r} {b!r} makes {merged!r}, which is not in the "
                                 f"vocabulary")
            table[(ia, ib)] = (rank, self.vocab[merged])
        return table

    @classmethod
    def from_file(cls, vocab_file: str, merges_file: str, **kwargs) -> BPE:
        """Reads GPT-2's vocab.json and merges.txt."""
        import json
        with open(vocab_file, encoding="utf-8") as f:
            vocab = json.load(f)
        merges = []
        with open(merges_file, encoding="utf-8") as f:
            for i, line in enumerate(f):
                line = line.rstrip("\n").rstrip("\r")
                if (i == 0 and line.startswith("#version")) or not line:
                    continue
                merges.append(line)
        return cls(vocab, merges, **kwargs)

    def _unk_id(self):
        id = self.vocab.get(self.unk_token)
        if id is None:
            raise ValueError(f"BPE: the unknown token {self.unk_token!r} is not in the "
                             f"vocabulary")
        return id

    def _symbols(self, word):
        """The initial symbols: ids with their character spans in the word."""
        vocab, prefix, suffix = self.vocab, self.continuing_subword_prefix, self.end_of_word_suffix
        ids, starts, ends = [], [], []
        unk = None  # pending unknown run: [id, start, end]
        last = len(word) - 1
        for i, c in enumerate(word):
            s = c
            if prefix and i:
                s = prefix + s
            if suffix and i == last:
                s = s + suffix
            id = vocab.get(s)
            if id is not None:
                if unk is not None:
                    ids.append(unk[0]), starts.append(unk[1]), ends.append(unk[2])
                    unk = None
                ids.append(id), starts.append(i), ends.append(i + 1)
                continue
            if self.byte_fallback:
                byte_ids = [vocab.get(f"<0x{b:02X}>") for b in s.encode("utf-8")]
                if None not in byte_ids:
                    ids.extend(byte_ids)
                    starts.extend([i] * len(byte_ids))
                    ends.extend([i + 1] * len(byte_ids))
                    continue
            if self.unk_token is not None:
                if unk is not None and self.fuse_unk:
                    unk[2] = i + 1
                    continue
                if unk is not None:
                    ids.append(unk[0]), starts.append(unk[1]), ends.append(unk[2])
                unk = [self._unk_id(), i, i + 1]
        if unk is not None:
            ids.append(unk[0]), starts.append(unk[1]), ends.append(unk[2])
        return ids, starts, ends

    def _tokenize(self, word):
        if self.ignore_merges:
            id = self.vocab.get(word)
            if id is not None:
                return ((id, word, 0, len(word)),)
        ids, starts, ends = self._symbols(word)
        n = len(ids)
        if n > 1:
            self._merge(ids, ends, n)
        vocab_r = self.vocab_r
        return [(ids[k], vocab_r[ids[k]], starts[k], ends[k]) for k in range(n) if ids[k] >= 0]

    def _merge(self, ids, ends, n):
        """Applies the merges in place; merged-away symbols get id -1."""
        merges = self.merges
        prev = list(range(-1, n - 1))
        nxt = list(range(1, n + 1))
        nxt[-1] = -1
        heap = []
        for k in range(n - 1):
            m = merges.get((ids[k], ids[k + 1]))
            if m is not None:
                heap.append((m[0], k, m[1]))
        heapq.heapify(heap)
        pop, push = heapq.heappop, heapq.heappush
        while heap:
            rank, pos, new_id = pop(heap)
            if ids[pos] < 0:
                continue
            right = nxt[pos]
            if right < 0:
                continue
            m = merges.get((ids[pos], ids[right]))
            if m is None or m[1] != new_id:
                continue  # an expired entry: one side was merged since
            ids[pos] = new_id
            ends[pos] = ends[right]
            ids[right] = -1
            after = nxt[right]
            nxt[pos] = after
            if after >= 0:
                prev[after] = pos
            before = prev[pos]
            if before >= 0:
                m = merges.get((ids[before], new_id))
                if m is not None:
                    push(heap, (m[0], before, m[1]))
            if after >= 0:
                m = merges.get((new_id, ids[after]))
                if m is not None:
                    push(heap, (m[0], pos, m[1]))


class WordLevel(Model):
    """Each word is one vocabulary entry (or the unknown token)."""

    def __init__(self, vocab: dict[str, int], unk_token: str = "<unk>",
                 cache_capacity: int = DEFAULT_CACHE_CAPACITY):
        super().__init__(vocab, cache_capacity)
        self.unk_token = unk_token

    def _tokenize(self, word):
        id = self.vocab.get(word)
        if id is not None:
            return ((id, word, 0, len(word)),)
        unk = self.vocab.get(self.unk_token)
        if unk is None:
            raise ValueError(f"WordLevel: {word!r} and the unknown token {self.unk_token!r} are "
                             f"missing from the vocabulary")
        return ((unk, self.unk_token, 0, len(word)),)


# an unknown character costs this much less than the rarest piece (SentencePiece's kUnkPenalty)
UNK_PENALTY = 10.0


class Unigram(Model):
    """SentencePiece's unigram language model: a word is cut into the vocabulary pieces
    whose scores (log-probabilities) add up highest, found by Viterbi.

    A character no piece starts with costs min(score) - 10 and becomes the unknown piece;
    neighbouring unknown characters are fused into one token whose text is theirs. With
    byte_fallback such a token is spelled as `<0xAB>` byte pieces instead, when all exist.

    Args:
        vocab: (piece, score) pairs; a piece's id is its index
        unk_id: index of the unknown piece (None: an unknown character is an error)
        byte_fallback: spell unknown text as UTF-8 byte pieces
    """

    def __init__(self, vocab, unk_id: int | None = None, byte_fallback: bool = False,
                 cache_capacity: int = DEFAULT_CACHE_CAPACITY):
        pieces = [str(p) for p, _ in vocab]
        scores = [float(s) for _, s in vocab]
        if unk_id is not None and not 0 <= unk_id < len(pieces):
            raise ValueError(f"Unigram: unk_id {unk_id} is outside the vocabulary of "
                             f"{len(pieces)} pieces")
        # a repeated piece maps to its last id, as in the Rust library
        super().__init__({p: i for i, p in enumerate(pieces)}, cache_capacity)
        self.vocab_r = dict(enumerate(pieces))
        self.pieces = pieces
        self.scores = scores
        self.unk_id = unk_id
        self.byte_fallback = byte_fallback
        self.min_score = min(scores, default=float("inf"))
        # every prefix of a piece -> the piece's id, or -1 for a prefix that is no piece:
        # the Viterbi scan from a position stops at the first substring missing here
        prefixes: dict[str, int] = {}
        for p in self.vocab:
            for k in range(1, len(p)):
                prefixes.setdefault(p[:k], -1)
        prefixes.update((p, i) for p, i in self.vocab.items() if p)
        self._prefixes = prefixes

    def get_vocab_size(self) -> int:
        return len(self.pieces)

    def _unk_id(self) -> int:
        if self.unk_id is None:
            raise ValueError("Unigram: encountered an unknown token but the model has no "
                             "unk_id")
        return self.unk_id

    def _viterbi(self, word: str):
        """The best segmentation as (start, end, id) spans, unknown runs fused."""
        n = len(word)
        prefixes, scores = self._prefixes, self.scores
        unk_score = self.min_score - UNK_PENALTY
        best = [0.0] * (n + 1)
        back = [-1] * (n + 1)   # start of the best last piece ending here
        ids = [0] * (n + 1)
        for i in range(n):
            here = best[i]
            single = False
            j = i + 1
            while j <= n:
                id = prefixes.get(word[i:j])
                if id is None:
                    break
                if id >= 0:
                    score = here + scores[id]
                    # ties keep the earlier start, as the library's strict comparison does
                    if back[j] < 0 or score > best[j]:
                        best[j], back[j], ids[j] = score, i, id
                    if j == i + 1:
                        single = True
                j += 1
            if not single:
                score = here + unk_score
                if back[i + 1] < 0 or score > best[i + 1]:
                    best[i + 1], back[i + 1], ids[i + 1] = score, i, self._unk_id()
        spans = []
        unk, end = self.unk_id, n
        while end > 0:
            start, id = back[end], ids[end]
            if id == unk and spans and spans[-1][2] == unk:
                spans[-1] = (start, spans[-1][1], unk)
            else:
                spans.append((start, end, id))
            end = start
        spans.reverse()
        return spans

    def _tokenize(self, word):
        vocab = self.vocab
        out = []
        for start, end, _ in self._viterbi(word):
            piece = word[start:end]
            id = vocab.get(piece)
            if id is None:
                if self.byte_fallback:
                    bytes_ = [(vocab.get(t), t) for t in
                              (f"<0x{b:02X}>" for b in piece.encode("utf-8"))]
                    if all(i is not None for i, _ in bytes_):
                        out.extend((i, t, start, end) for i, t in bytes_)
                        continue
                id = self._unk_id()
            out.append((id, piece, start, end))
        return out


def from_config(cfg: dict) -> Model:
    """Builds a model from its tokenizer.json description."""
    kind = cfg.get("type")
    if kind is None:  # older files name no type: tell the models apart by their fields
        kind = "BPE" if "merges" in cfg else "WordPiece" if "continuing_subword_prefix" in cfg \
            else "WordLevel"
    if kind == "WordPiece":
        return WordPiece(cfg["vocab"], cfg.get("unk_token", "[UNK]"),
                         cfg.get("continuing_subword_prefix", "##"),
                         cfg.get("max_input_chars_per_word", 100))
    if kind == "BPE":
        return BPE(cfg["vocab"], cfg.get("merges", []), cfg.get("unk_token"),
                   cfg.get("continuing_subword_prefix"), cfg.get("end_of_word_suffix"),
                   cfg.get("fuse_unk", False), cfg.get("byte_fallback", False),
                   cfg.get("ignore_merges", False), cfg.get("dropout"))
    if kind == "WordLevel":
        return WordLevel(cfg["vocab"], cfg.get("unk_token", "<unk>"))
    if kind == "Unigram":
        return Unigram(cfg["vocab"], cfg.get("unk_id"), cfg.get("byte_fallback", False))
    raise ValueError(f"unsupported model type {kind!r} in tokenizer.json")
