"""torchtext-style vocab, functional, transforms and data utilities."""

from __future__ import annotations

import pytest

import taimatsu
from taimatsu.utils.data import DataLoader
from taimatsu_text import functional as F
from taimatsu_text import transforms as T
from taimatsu_text.data import PadCollate, get_tokenizer, ngrams_iterator
from taimatsu_text.vocab import Vocab, build_vocab_from_iterator, vocab

LINES = [["the", "cat", "sat"], ["the", "dog", "sat", "down"], ["a", "cat"]]


def test_build_vocab_orders_by_frequency_then_token():
    v = build_vocab_from_iterator(LINES, specials=["<unk>", "<pad>"])
    assert v.get_itos() == ["<unk>", "<pad>", "cat", "sat", "the", "a", "dog", "down"]
    assert v["cat"] == 2 and "dog" in v and len(v) == 8
    with pytest.raises(RuntimeError, match="Token bird not found and default index is not set"):
        v["bird"]
    v.set_default_index(v["<unk>"])
    assert v["bird"] == 0 and v(["the", "bird"]) == [4, 0] and v.get_default_index() == 0
    last = build_vocab_from_iterator(LINES, min_freq=2, specials=["<unk>"],
                                     special_first=False)
    assert last.get_itos() == ["cat", "sat", "the", "<unk>"]
    capped = build_vocab_from_iterator(LINES, specials=["<unk>"], max_tokens=3)
    assert capped.get_itos() == ["<unk>", "cat", "sat"]


def test_vocab_editing_and_lookup():
    v = vocab({"b": 3, "a": 1, "c": 5}, min_freq=2)
    assert v.get_itos() == ["b", "c"]
    v.insert_token("<s>", 0)
    v.append_token("z")
    assert v.get_stoi() == {"<s>": 0, "b": 1, "c": 2, "z": 3}
    assert v.lookup_token(2) == "c" and v.lookup_tokens([3, 0]) == ["z", "<s>"]
    assert v.lookup_indices(["b", "c"]) == [1, 2]
    with pytest.raises(RuntimeError, match="already exists"):
        v.append_token("b")
    with pytest.raises(RuntimeError, match="out of bounds"):
        v.lookup_token(10)
    assert isinstance(Vocab(["x"]), Vocab)


def test_functional_and_transforms_pipeline():
    v = build_vocab_from_iterator(LINES, specials=["<pad>", "<bos>", "<eos>"])
    pipeline = T.Sequential(T.VocabTransform(v), T.Truncate(3),
                            T.AddToken(v["<bos>"], begin=True),
                            T.AddToken(v["<eos>"], begin=False),
                            T.ToTensor(padding_value=v["<pad>"]))
    out = pipeline([["the", "dog", "sat", "down"], ["a"]])
    assert out.dtype is taimatsu.int64
    assert out.tolist() == [[1, v["the"], v["dog"], v["sat"], 2], [1, v["a"], 2, 0, 0]]
    assert T.PadTransform(7, -1)(out)[:, 5:].tolist() == [[-1, -1], [-1, -1]]
    assert T.PadTransform(3, -1)(out).shape == (2, 5)  # never cuts
    assert F.truncate([1, 2, 3], 2) == [1, 2]
    assert F.add_token([1, 2], 0, begin=False) == [1, 2, 0]
    assert F.to_tensor([1, 2, 3]).tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match="padding_value"):
        F.to_tensor([[1, 2], [3]])
    labels = T.LabelToIndex(["pos", "neg"], sort_names=True)
    assert labels(["pos", "neg"]) == [1, 0] and labels("neg") == 0


def test_tokenize_transform(minilm_dir):
    tok = T.Tokenize(minilm_dir)
    assert tok("This is an example sentence") == [2023, 2003, 2019, 2742, 6251]
    assert T.Tokenize(minilm_dir, return_tokens=True, add_special_tokens=True)(["hi"]) == \
        [["[CLS]", "hi", "[SEP]"]]


def test_get_tokenizer_and_ngrams():
    basic = get_tokenizer("basic_english")
    assert basic("Hello, World! It's <br />fine.") == \
        ["hello", ",", "world", "!", "it", "'", "s", "fine", "."]
    assert get_tokenizer(None)("a  b") == ["a", "b"]
    assert list(ngrams_iterator(["a", "b", "c"], 2)) == ["a", "b", "c", "a b", "b c"]
    with pytest.raises(ValueError, match="only available for English"):
        get_tokenizer("basic_english", language="fr")


def test_pad_collate_in_a_dataloader():
    data = [([3, 4, 5], 1), ([6], 0), ([7, 8], 1)]
    loader = DataLoader(data, batch_size=3, collate_fn=PadCollate(padding_value=0))
    ids, lengths, labels = next(iter(loader))
    assert ids.tolist() == [[3, 4, 5], [6, 0, 0], [7, 8, 0]]
    assert lengths.tolist() == [3, 1, 2] and labels.tolist() == [1, 0, 1]
    left = PadCollate(9, padding_side="left", pad_to_multiple_of=4)
    ids, lengths = left([taimatsu.tensor([1, 2]), [3]])
    assert ids.tolist() == [[9, 9, 1, 2], [9, 9, 9, 3]]
    with pytest.raises(ValueError, match="padding_side"):
        PadCollate(padding_side="middle")
