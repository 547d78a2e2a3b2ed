"""The Unigram model and the Precompiled normalizer of taimatsu_text.tokenizers against the
Rust `tokenizers` library, on tokenizers trained here: with `tokenizers` itself, and with
`sentencepiece` (nmt_nfkc rules, converted by transformers) when that is installed."""

from __future__ import annotations

import base64
import io
import json
import os
import types

import pytest

from taimatsu_text.tokenizers import NormalizedString, Tokenizer, _unicode
from taimatsu_text.tokenizers.models import Unigram
from taimatsu_text.tokenizers.normalizers import Precompiled

tokenizers = pytest.importorskip("tokenizers")

FIELDS = ("ids", "tokens", "type_ids", "offsets", "attention_mask", "special_tokens_mask",
          "word_ids")
PAIR = "and a second one, shorter"
DATA = os.path.join(os.path.dirname(__file__), "data")

# what SentencePiece's nmt_nfkc rules rewrite, and the library's quirks around them: a
# cluster under 6 bytes is replaced by the rule of its first character (Ａ + acute -> A),
# deletions (control characters) after a lengthening rule or at the start shift offsets
NFKC_TEXTS = [
    "ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ １２３ and ﬁ ﬂ ﬀ ﬃ ﬄ ligatures",
    "① ② ⑳ ⑴ ⒈ Ⓐ ㈱ ㍻ ㌀ ℡ № ™ ½ ¼ ⁵ ₂ Ⅻ ⅻ ǅ Ĳ ŉ ſ µ Å K ㎏ ㏄",
    "ｶﾞｷﾞｸﾞ ｱｲｳｴｵ ｶ\u3099 か\u3099 e\u0301 a\u0308 Ａ\u0301 ＡＢＣ\u0301",
    "zero\u200bwidth\u200cjoin\u200dnbsp\u00a0ideo\u3000bom\ufeffend",
    "\x07\x07bell first", "ﬁ\x07\x07z", "½\x08x", "tab\t\ttab\r\nline\u2028sep",
    "  leading, trailing and   inner   runs  ", "\u1100\u1161\u11a8 \uf900\uf901 Ω Å",
    "#\ufe0f 1\ufe0f\u20e3 a\u0903 \u0600 1 ©\u200d© 🇯🇵🇫🇷", "\x00nul\x7fdel\x85nel",
]


def _fields(e) -> dict:
    out = {f: list(getattr(e, f)) for f in FIELDS}
    out["offsets"] = [tuple(o) for o in out["offsets"]]
    return out


def check_against_library(hf, ours, texts):
    for text in texts:
        for args, kwargs in (((text,), {}), ((text, PAIR), {}),
                             ((text,), {"add_special_tokens": False})):
            a, b = _fields(hf.encode(*args, **kwargs)), _fields(ours.encode(*args, **kwargs))
            for f in FIELDS:
                assert a[f] == b[f], f"{f} differ for {text[:60]!r}"
        ids = hf.encode(text).ids
        for skip in (False, True):
            assert ours.decode(ids, skip_special_tokens=skip) == \
                hf.decode(ids, skip_special_tokens=skip), text[:60]


def _load_both(tok, path):
    tok.save(path)
    hf = tokenizers.Tokenizer.from_file(path)
    hf.no_padding()
    hf.no_truncation()
    return hf, Tokenizer.from_file(path)


# ------------------------------------------------------------------ trained with tokenizers


def _train_unigram(kind, corpus):
    from tokenizers import AddedToken, decoders, models, normalizers, processors, trainers
    from tokenizers import pre_tokenizers as pt

    # the emoji, Greek/Cyrillic/... and Zalgo lines are left out: their characters are unknown
    text = [t for i, t in enumerate(corpus[:-1]) if i not in (4, 19, 18)] * 10
    tok = tokenizers.Tokenizer(models.Unigram())
    if kind == "metaspace":
        tok.pre_tokenizer = pt.Metaspace()
        tok.decoder = decoders.Metaspace()
    elif kind == "xlmr":
        tok.normalizer = normalizers.Sequence([normalizers.NFKC(),
                                               normalizers.Replace(
                                                   tokenizers.Regex(" {2,}"), " ")])
        tok.pre_tokenizer = pt.Sequence([pt.WhitespaceSplit(),
                                         pt.Metaspace(prepend_scheme="first")])
        tok.decoder = decoders.Metaspace(prepend_scheme="first")
    else:  # byte_fallback, llama style: no pre-tokenizer, the whole text is one word
        tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"),
                                               normalizers.Replace(" ", "▁")])
        tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(),
                                         decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    trainer = trainers.UnigramTrainer(vocab_size=300, unk_token="<unk>",
                                      special_tokens=["<unk>", "<s>", "</s>"])
    tok.train_from_iterator(text, trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> $B:1 </s>:1",
        special_tokens=[("<s>", 1), ("</s>", 2)])
    if kind == "metaspace":
        tok.add_tokens([AddedToken("Fox", normalized=True)])
    if kind == "byte_fallback":
        cfg = json.loads(tok.to_str())
        model = cfg["model"]
        low = min(s for _, s in model["vocab"])
        # every byte but 0xF0 (the lead byte of emoji): those stay unknown
        model["vocab"] += [[f"<0x{b:02X}>", low - 1.0] for b in range(256) if b != 0xF0]
        model["byte_fallback"] = True
        tok = tokenizers.Tokenizer.from_str(json.dumps(cfg))
    return tok


@pytest.fixture(scope="module")
def unigram_pair(tmp_path_factory, corpus):
    folder = tmp_path_factory.mktemp("unigram")
    made = {}

    def get(kind):
        if kind not in made:
            made[kind] = _load_both(_train_unigram(kind, corpus), str(folder / f"{kind}.json"))
        return made[kind]

    return get


@pytest.mark.parametrize("kind", ["metaspace", "xlmr", "byte_fallback"])
def test_trained_unigram_matches_library(unigram_pair, corpus, kind):
    hf, ours = unigram_pair(kind)
    assert isinstance(ours.model, Unigram)
    assert ours.get_vocab() == hf.get_vocab()
    extra = ["☃☃ snow☃man ☃", "a" * 300, "x☃" * 200, "<0x41> <unk> Fox fox"]
    check_against_library(hf, ours, corpus + NFKC_TEXTS + extra)
    # unknown characters fuse into one token that carries their text
    enc = ours.encode("☃☃ snow☃man", add_special_tokens=False)
    if kind != "byte_fallback":
        assert "☃☃" in enc.tokens and ours.token_to_id("<unk>") in enc.ids
    else:
        assert "<0xE2>" in enc.tokens


def test_unigram_cache_holds_words(unigram_pair, corpus):
    _, ours = unigram_pair("metaspace")
    model = ours.model
    model.cache.clear()
    first = ours.encode(corpus[2]).ids
    assert len(model.cache) > 0
    assert ours.encode(corpus[2]).ids == first


# ------------------------------------------------------------------ hand-made vocabularies


HANDMADE = [
    # the library's own example: unknown "xx" is one token
    ([("<unk>", 0.0), ("a", 0.0), ("b", 0.0), ("c", 0.0), ("d", 0.0), ("cd", 1.0),
      ("ab", 2.0), ("abc", 5.0), ("abcd", 10.0)], 0, False, ["abcdacdxx", "xxaxbxx", "dcba"]),
    # equal scores: the split whose last piece starts first wins
    ([("<unk>", -1.0), ("a", -1.0), ("aa", -2.0), ("aaa", -3.0), ("b", -1.0), ("ab", -2.0)],
     0, False, ["aaaa", "aab", "abab", "aaaaab"]),
    # a repeated piece and an unknown piece that is not first
    ([("a", -1.0), ("b", -2.0), ("a", -0.5), ("<unk>", 0.0), ("ab", -4.0)], 3, False,
     ["ab", "aab", "zab", "abz"]),
    # byte fallback with a missing byte piece: the run falls back to the unknown piece
    ([("<unk>", 0.0), ("a", -1.0)] + [(f"<0x{b:02X}>", -5.0) for b in range(256) if b != 0x83],
     0, True, ["aé", "a☃a", "aσ", "a\u00c3", "é☃"]),
]


@pytest.mark.parametrize("vocab,unk_id,byte_fallback,texts", HANDMADE)
def test_handmade_unigram_matches_library(vocab, unk_id, byte_fallback, texts):
    hf = tokenizers.Tokenizer(tokenizers.models.Unigram(vocab, unk_id, byte_fallback))
    ours = Tokenizer.from_str(hf.to_str())
    for text in texts:
        a, b = hf.encode(text), ours.encode(text)
        assert (a.ids, a.tokens, a.offsets) == (b.ids, b.tokens, [tuple(o) for o in b.offsets])


def test_unigram_without_unk_id_rejects_unknown_characters():
    model = Unigram([("a", -1.0), ("b", -1.0)])
    assert [t[1] for t in model.tokenize("abba")] == ["a", "b", "b", "a"]
    with pytest.raises(ValueError, match="unk_id"):
        model.tokenize("abc")
    with pytest.raises(ValueError, match="outside"):
        Unigram([("a", -1.0)], unk_id=3)


# ------------------------------------------------------------------ Precompiled


@pytest.fixture(scope="module")
def rules_charsmap():
    """A small charsmap made by sentencepiece from data/precompiled_rules.json's rules:
    growing (ﬁ -> fi, Z -> zzz), deleting (BEL, lone combining acute), multi-character keys
    (e + acute, CR LF, << that the grapheme split never reaches)."""
    with open(os.path.join(DATA, "precompiled_rules.json"), encoding="utf-8") as f:
        return base64.b64decode(json.load(f)["precompiled_charsmap"])


RULE_TEXTS = [
    "ﬁ ① Ａ \u200b e\u0301 ™ << \r\n Ⅳ Z ｶﾞ", "Ａ\u0301 a\u0301 e\u0301\u0301", "\x07\x07ab",
    "\x07", "ﬁ\x07z", "ﬁ\x07\x07z", "ZZ\x07Z", "a\x07ﬁ\x07", "\u0301ab", "Z\u0301", "plain ascii",
    "\u1100\u1161 ᄀ", "e\u0301\u0302x", "\r\n\r\n", "<<<", "", "ＡＡ\x07\u200b\x07ﬁ",
]


def _per_char_tokenizer(normalizer, texts):
    """A library tokenizer whose tokens are single characters, so offsets show alignment."""
    chars = sorted({c for t in texts for c in normalizer.normalize_str(t)})
    model = tokenizers.models.Unigram([("<unk>", 0.0)] + [(c, -1.0) for c in chars], 0, False)
    hf = tokenizers.Tokenizer(model)
    hf.normalizer = normalizer
    return hf, Tokenizer.from_str(hf.to_str())


def test_precompiled_rules_match_library(rules_charsmap):
    from tokenizers import normalizers
    library = normalizers.Precompiled(rules_charsmap)
    ours = Precompiled(rules_charsmap)
    for text in RULE_TEXTS:
        assert ours.normalize_str(text) == library.normalize_str(text), repr(text)
    seq = normalizers.Sequence([normalizers.Replace("Ⅳ", "iv"), library,
                                normalizers.Strip(), normalizers.Replace(" ", "▁")])
    for normalizer in (library, seq):
        hf, tok = _per_char_tokenizer(normalizer, RULE_TEXTS)
        assert "Precompiled" in hf.to_str()
        for text in RULE_TEXTS:
            a, b = hf.encode(text), tok.encode(text)
            assert (a.tokens, a.offsets) == (b.tokens, [tuple(o) for o in b.offsets]), repr(text)


def test_precompiled_config_and_fallback_graphemes(rules_charsmap, monkeypatch):
    text = "Ａ\u0301 a\u0301 ﬁ\x07z \r\n"
    expected = Precompiled(rules_charsmap).normalize_str(text)
    from_json = Precompiled(base64.b64encode(rules_charsmap).decode())
    assert repr(from_json) == f"Precompiled(<{len(rules_charsmap)} bytes>)"
    assert Precompiled("").normalize_str(text) == text
    monkeypatch.setattr(_unicode, "_regex", None)
    assert from_json.normalize_str(text) == expected
    ns = from_json.normalize(NormalizedString(text))
    assert len(ns.starts) == len(ns.text)


GRAPHEME_TEXTS = [
    "e\u0301\u0302 Ａ\u0301 \r\n \n\u0301 👩\u200d👩\u200d👧 🇯🇵🇫🇷🇩 ❤️ #\ufe0f 1\ufe0f\u20e3",
    "\u1100\u1161\u11a8 가각\u11a8 ᄀ가 \u0600 1 a\u0903 ｶﾞ \x07\u0301 \u200b\u0301 ©\u200d©",
]


def test_fallback_graphemes_match_regex(corpus):
    regex = pytest.importorskip("regex")
    for text in corpus + NFKC_TEXTS + GRAPHEME_TEXTS:
        assert _unicode._graphemes_fallback(text) == regex.findall(r"\X", text), repr(text)


# ------------------------------------------------------------------ sentencepiece nmt_nfkc


@pytest.fixture(scope="module")
def spm_models(tmp_path_factory, corpus):
    """Unigram models trained by sentencepiece (default nmt_nfkc normalization)."""
    spm = pytest.importorskip("sentencepiece")
    pytest.importorskip("google.protobuf")
    folder = tmp_path_factory.mktemp("spm")
    text = [t for t in corpus[:-1] if t.strip()] + NFKC_TEXTS[:3]
    paths = {}
    for name, options in (("plain", {}), ("byte_fallback", {"byte_fallback": True})):
        buf = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(text * 20), model_writer=buf, model_type="unigram",
            vocab_size=700 if options else 200, hard_vocab_limit=False,
            control_symbols=["[CLS]", "[SEP]"], minloglevel=2, **options)
        paths[name] = str(folder / f"{name}.model")
        with open(paths[name], "wb") as f:
            f.write(buf.getvalue())
    return folder, paths


def _convert(kind, folder, paths):
    convert = pytest.importorskip("transformers.convert_slow_tokenizer")
    from tokenizers import decoders
    path = paths["byte_fallback" if kind == "byte_fallback" else "plain"]
    if kind == "albert":
        from sentencepiece import sentencepiece_model_pb2
        proto = sentencepiece_model_pb2.ModelProto()
        with open(path, "rb") as f:
            proto.ParseFromString(f.read())
        ids = {p.piece: i for i, p in enumerate(proto.pieces)}
        original = types.SimpleNamespace(vocab_file=path, keep_accents=False,
                                         do_lower_case=True, convert_tokens_to_ids=ids.get)
        tok = convert.AlbertConverter(original).converted()
    else:
        class Converter(convert.SpmConverter):
            handle_byte_fallback = kind == "byte_fallback"

        tok = Converter(types.SimpleNamespace(vocab_file=path)).converted()
        if kind == "byte_fallback":
            tok.decoder = decoders.Sequence([decoders.Replace("▁", " "),
                                              decoders.ByteFallback(), decoders.Fuse(),
                                              decoders.Strip(" ", 1, 0)])
    return _load_both(tok, str(folder / f"{kind}.json"))


@pytest.mark.parametrize("kind", ["t5", "albert", "byte_fallback"])
def test_sentencepiece_unigram_matches_library(spm_models, corpus, kind):
    hf, ours = _convert(kind, *spm_models)
    assert "Precompiled" in hf.to_str()
    for text in corpus + NFKC_TEXTS:
        assert ours.normalizer.normalize_str(text) == hf.normalizer.normalize_str(text)
    check_against_library(hf, ours, corpus + NFKC_TEXTS)
