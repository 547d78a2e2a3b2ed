"""taimatsu_text.tokenizers against the Rust `tokenizers` library, plus its own behaviour."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

import taimatsu
from taimatsu_text.tokenizers import AddedToken, Encoding, Tokenizer, _unicode
from taimatsu_text.tokenizers.models import BPE, LRUCache, WordPiece

FIELDS = ("ids", "tokens", "type_ids", "offsets", "attention_mask", "special_tokens_mask",
          "word_ids")
PAIR = "and a second one, shorter"
KINDS = ["gpt2", "roberta", "llama", "metaspace", "wordlevel", "wordlevel_nfc"]


def _fields(e) -> dict:
    out = {f: list(getattr(e, f)) for f in FIELDS}
    out["offsets"] = [tuple(o) for o in out["offsets"]]
    return out


def assert_same_encoding(ref, ours, text):
    a, b = _fields(ref), _fields(ours)
    for f in FIELDS:
        assert a[f] == b[f], f"{f} differ for {text[:60]!r}"


def check_against_library(hf, ours, corpus):
    for text in corpus:
        assert_same_encoding(hf.encode(text), ours.encode(text), text)
        assert_same_encoding(hf.encode(text, PAIR), ours.encode(text, PAIR), text)
        assert_same_encoding(hf.encode(text, add_special_tokens=False),
                             ours.encode(text, add_special_tokens=False), text)
        ids = hf.encode(text).ids
        for skip in (False, True):
            assert ours.decode(ids, skip_special_tokens=skip) == \
                hf.decode(ids, skip_special_tokens=skip), text[:60]


@pytest.fixture(scope="module")
def minilm_pair(minilm_dir):
    tokenizers = pytest.importorskip("tokenizers")
    path = os.path.join(minilm_dir, "tokenizer.json")
    hf = tokenizers.Tokenizer.from_file(path)
    hf.no_padding()
    hf.no_truncation()
    return hf, Tokenizer.from_file(path)


# ------------------------------------------------------------------ the real MiniLM tokenizer


def test_minilm_known_ids(minilm_dir):
    tok = Tokenizer.from_pretrained(minilm_dir)
    enc = tok.encode("This is an example sentence")
    assert enc.ids == [101, 2023, 2003, 2019, 2742, 6251, 102]
    assert enc.tokens == ["[CLS]", "this", "is", "an", "example", "sentence", "[SEP]"]
    assert enc.offsets[1:-1] == [(0, 4), (5, 7), (8, 10), (11, 18), (19, 27)]


def test_minilm_matches_tokenizers_library(minilm_pair, corpus):
    hf, ours = minilm_pair
    check_against_library(hf, ours, corpus)


def test_minilm_long_text_is_not_truncated_unless_asked(minilm_dir, corpus):
    # tokenizer.json carries truncation 128 and padding Fixed(128): calls ignore them
    tok = Tokenizer.from_pretrained(minilm_dir)
    long = corpus[-1]
    assert len(tok.encode(long)) > 1000
    assert len(tok.encode("short text")) == 4
    assert len(tok.encode(long, truncation=True)) == 512  # model_max_length
    assert len(tok.encode(long, max_length=128)) == 128


def test_truncation_stride_and_padding_match_library(minilm_pair, trained_tokenizer,
                                                     monkeypatch):
    tokenizers = pytest.importorskip("tokenizers")
    monkeypatch.setenv("RUST_BACKTRACE", "0")  # the library panics on stride >= max_length
    texts = ["one two three four five six seven eight nine ten eleven twelve thirteen",
             "short one", "a b c d e f", ""]
    pairs = ["x y z w v u t s r q p", "p", "alpha beta gamma delta epsilon", "b"]
    for path in (None, trained_tokenizer("roberta")[1]):
        source = minilm_pair[0].to_str() if path is None else open(path).read()
        ours = minilm_pair[1] if path is None else Tokenizer.from_file(path)
        for ml, stride, strategy, side in [(5, 0, "longest_first", "right"),
                                           (9, 2, "longest_first", "left"),
                                           (9, 2, "only_first", "right"),
                                           (16, 3, "only_second", "left"),
                                           (12, 0, "only_first", "left")]:
            hf = tokenizers.Tokenizer.from_str(source)
            hf.no_padding()
            hf.enable_truncation(ml, stride=stride, strategy=strategy, direction=side)
            ours.truncation_side = side
            for text, pair in zip(texts, pairs):
                for p in ([None, pair] if strategy != "only_second" else [pair]):
                    try:
                        ref = hf.encode(text, p) if p else hf.encode(text)
                    except BaseException:  # a Rust panic is a BaseException
                        with pytest.raises(ValueError):
                            ours.encode(text, p, max_length=ml, truncation=strategy,
                                        stride=stride)
                        continue
                    got = ours.encode(text, p, max_length=ml, truncation=strategy, stride=stride)
                    assert_same_encoding(ref, got, text)
                    assert len(ref.overflowing) == len(got.overflowing)
                    for a, b in zip(ref.overflowing, got.overflowing):
                        assert_same_encoding(a, b, text)
        ours.truncation_side = "right"
        for side, multiple in [("right", None), ("left", 8)]:
            hf = tokenizers.Tokenizer.from_str(source)
            hf.no_truncation()
            pad = ours.pad_token or ours.id_to_token(1)
            ours.pad_token = pad
            hf.enable_padding(direction=side, pad_to_multiple_of=multiple,
                              pad_id=ours.token_to_id(pad), pad_token=pad)
            refs = hf.encode_batch(list(zip(texts, pairs)))
            got = ours.encode_batch(list(zip(texts, pairs)), padding=True,
                                    pad_to_multiple_of=multiple, padding_side=side)
            for a, b, t in zip(refs, got, texts):
                assert_same_encoding(a, b, t)


def test_minilm_call_returns_tensors(minilm_dir):
    tok = Tokenizer.from_pretrained(minilm_dir)
    batch = tok(["This is an example sentence", "Each sentence is converted"], padding=True,
                return_tensors="tm")
    assert set(batch) == {"input_ids", "token_type_ids", "attention_mask"}
    assert isinstance(batch["input_ids"], taimatsu.Tensor)
    assert batch["input_ids"].dtype is taimatsu.int64
    assert batch.input_ids.tolist() == [[101, 2023, 2003, 2019, 2742, 6251, 102],
                                        [101, 2169, 6251, 2003, 4991, 102, 0]]
    assert batch["attention_mask"].tolist()[1] == [1, 1, 1, 1, 1, 1, 0]
    single = tok("This is an example sentence", return_tensors="np")
    assert single["input_ids"].shape == (1, 7)
    plain = tok("This is an example sentence")
    assert plain["input_ids"] == [101, 2023, 2003, 2019, 2742, 6251, 102]
    fixed = tok(["a", "b c"], padding="max_length", max_length=6, return_tensors="np")
    assert fixed["input_ids"].shape == (2, 6)
    with pytest.raises(ValueError, match="Unable to create tensor"):
        tok(["a", "b c d"], return_tensors="tm")


def test_overflowing_rows_and_offsets(minilm_dir):
    tok = Tokenizer.from_pretrained(minilm_dir)
    out = tok(["one two three four five six seven eight", "nine"], truncation=True,
              max_length=6, stride=1, return_overflowing_tokens=True,
              return_offsets_mapping=True, padding=True)
    # 8 words, 4 per window (6 minus [CLS] and [SEP]) overlapping by 1: 0-3, 3-6, 6-7
    assert out["overflow_to_sample_mapping"] == [0, 0, 0, 1]
    assert out["input_ids"][0][:2] == [101, tok.token_to_id("one")]
    assert out["input_ids"][1][0] == 101  # overflowing parts get [CLS] ... [SEP] too
    assert out["offset_mapping"][0][1] == (0, 3)


def test_decode_wordpiece(minilm_dir):
    tok = Tokenizer.from_pretrained(minilm_dir)
    ids = tok.encode("Tokenization is not hard, is it?").ids
    assert tok.decode(ids, skip_special_tokens=True) == "tokenization is not hard, is it?"
    assert tok.decode(ids).startswith("[CLS] tokenization")
    assert tok.batch_decode(np.array([ids]), skip_special_tokens=True) == \
        ["tokenization is not hard, is it?"]
    # the WordPiece decoder cleans up token by token, as the Rust library does
    ids = tok.encode("isn't", add_special_tokens=False).ids
    assert tok.decode(ids) == "isn ' t"
    assert tok.decode(ids, clean_up_tokenization_spaces=True) == "isn't"


def test_vocab_txt_builds_the_same_pipeline(minilm_dir, tmp_path, corpus):
    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(os.path.join(minilm_dir, name), tmp_path / name)
    from_vocab = Tokenizer.from_pretrained(tmp_path)
    from_json = Tokenizer.from_pretrained(minilm_dir)
    for text in corpus:
        assert from_vocab.encode(text).ids == from_json.encode(text).ids
        assert from_vocab.encode(text, PAIR).type_ids == from_json.encode(text, PAIR).type_ids


# ------------------------------------------------------------------ trained pipelines


@pytest.mark.parametrize("kind", KINDS)
def test_trained_tokenizers_match_library(kind, trained_tokenizer, corpus):
    hf, path = trained_tokenizer(kind)
    check_against_library(hf, Tokenizer.from_file(path), corpus)


def test_gpt2_vocab_and_merges_files(trained_tokenizer, tmp_path, corpus):
    hf, path = trained_tokenizer("gpt2")
    hf.model.save(str(tmp_path))  # writes vocab.json and merges.txt
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"model_max_length": 64}))
    ours = Tokenizer.from_pretrained(tmp_path)
    assert ours.model_max_length == 64
    for text in corpus:
        assert ours.encode(text).ids == hf.encode(text).ids
        assert ours.decode(hf.encode(text).ids) == text or not text.isprintable()


def test_byte_level_decode_roundtrip(trained_tokenizer, corpus):
    _, path = trained_tokenizer("gpt2")
    tok = Tokenizer.from_file(path)
    for text in corpus:
        assert tok.decode(tok.encode(text).ids) == text


def test_padding_needs_a_pad_token(trained_tokenizer):
    tok = Tokenizer.from_file(trained_tokenizer("gpt2")[1])
    assert tok.model_input_names == ["input_ids", "attention_mask"]
    with pytest.raises(ValueError, match="does not have a padding token"):
        tok(["a", "b c"], padding=True)
    tok.pad_token = "<|endoftext|>"
    out = tok(["a", "b c"], padding=True, padding_side="left")
    assert out["input_ids"][0][0] == tok.pad_token_id
    assert out["attention_mask"][0][0] == 0


def test_fallback_regex_without_regex_package(monkeypatch, trained_tokenizer, minilm_dir):
    """Without `regex`, \\p{..} classes expand into ranges for `re`, with the same result."""
    texts = ["Héllo wörld 123 ½ 日本語!", "emoji 😀 ok", "don't 3.14 ΣΑΣ   spaces  "]
    path = trained_tokenizer("gpt2")[1]
    expected = [Tokenizer.from_file(path).encode(t).ids for t in texts]
    expected_bert = [Tokenizer.from_pretrained(minilm_dir).encode(t).ids for t in texts]
    from taimatsu_text.tokenizers import pre_tokenizers
    caches = [pre_tokenizers._gpt2_regex, pre_tokenizers._bert_regex, _unicode.punctuation_class]
    monkeypatch.setattr(_unicode, "_regex", None)
    for c in caches:
        c.cache_clear()
    try:
        assert [Tokenizer.from_file(path).encode(t).ids for t in texts] == expected
        assert [Tokenizer.from_pretrained(minilm_dir).encode(t).ids for t in texts] == \
            expected_bert
    finally:
        for c in caches:
            c.cache_clear()


# ------------------------------------------------------------------ pieces


def test_wordpiece_unknown_and_long_words():
    wp = WordPiece({"[UNK]": 0, "un": 1, "##aff": 2, "##able": 3, "a": 4},
                   max_input_chars_per_word=8)
    assert [t[1] for t in wp.tokenize("unaffable")] == ["[UNK]"]  # longer than 8 characters
    assert [t[1] for t in wp.tokenize("unaff")] == ["un", "##aff"]
    assert [t[2:] for t in wp.tokenize("unaff")] == [(0, 2), (2, 5)]
    assert [t[1] for t in wp.tokenize("unx")] == ["[UNK]"]  # one missing piece: all unknown


def test_bpe_merges_lowest_rank_first():
    vocab = {c: i for i, c in enumerate("abc")}
    vocab.update({"ab": 3, "bc": 4, "abc": 5})
    bpe = BPE(vocab, ["b c", "a bc"])
    assert [t[1] for t in bpe.tokenize("abc")] == ["abc"]
    bpe2 = BPE(vocab, ["a b", "b c"])
    assert [t[1] for t in bpe2.tokenize("abc")] == ["ab", "c"]
    with pytest.raises(ValueError, match="not in the vocabulary"):
        BPE(vocab, ["c a"])


def test_lru_cache_evicts_least_recently_used():
    cache = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "b" is now the oldest
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and len(cache) == 2


def test_added_tokens_and_special_tokens(minilm_dir):
    tok = Tokenizer.from_pretrained(minilm_dir)
    n = tok.add_tokens(["taimatsu", AddedToken("[NEW]", special=True)])
    assert n == 2 and len(tok) == 30524
    enc = tok.encode("hello Taimatsu[NEW]world")
    assert "[NEW]" in enc.tokens and tok.token_to_id("taimatsu") in enc.ids
    assert "[NEW]" not in tok.decode(enc.ids, skip_special_tokens=True)
    assert tok.cls_token == "[CLS]" and tok.cls_token_id == 101 and tok.pad_token_id == 0


def test_encoding_truncate_and_pad_directly():
    e = Encoding(list(range(10)), tokens=[str(i) for i in range(10)])
    e.truncate(4, stride=1)
    assert e.ids == [0, 1, 2, 3]
    assert [o.ids for o in e.overflowing] == [[3, 4, 5, 6], [6, 7, 8, 9]]
    e.pad(6, pad_id=-1, direction="left")
    assert e.ids == [-1, -1, 0, 1, 2, 3] and e.attention_mask[:3] == [0, 0, 1]
    assert e.overflowing[0].ids == [-1, -1, 3, 4, 5, 6]
    with pytest.raises(ValueError, match="strictly less"):
        Encoding(list(range(5))).truncate(2, stride=2)


def test_invalid_arguments(minilm_dir):
    tok = Tokenizer.from_pretrained(minilm_dir)
    with pytest.raises(ValueError, match="truncation must be"):
        tok.encode("a", truncation="middle")
    with pytest.raises(ValueError, match="Second sequence not provided"):
        tok.encode("a b c d e f", max_length=4, truncation="only_second")
    with pytest.raises(ValueError, match="padding must be"):
        tok(["a"], padding="sometimes")
    with pytest.raises(TypeError, match="must be of type `str`"):
        tok.encode(3)
    with pytest.raises(ValueError, match="return_tensors"):
        tok(["a"], return_tensors="xx")
