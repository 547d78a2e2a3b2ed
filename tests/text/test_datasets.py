"""Dataset parsers on files built here, and the download/extract code on local URLs."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import zipfile

import pytest

from taimatsu import plugins
from taimatsu_text import datasets
from taimatsu_text.datasets import text_datasets
from taimatsu_text.datasets.utils import calculate_md5, download_from_url, extract_archive


def _md5(path) -> str:
    return hashlib.md5(open(path, "rb").read()).hexdigest()


def test_download_checks_md5_and_is_atomic(tmp_path):
    src = tmp_path / "src.txt"
    src.write_bytes(b"hello\nworld\n")
    target = tmp_path / "out" / "copy.txt"
    path = download_from_url(src.as_uri(), str(target), _md5(src), progress=False)
    assert open(path, "rb").read() == b"hello\nworld\n"
    assert calculate_md5(path) == _md5(src)
    bad = tmp_path / "bad.txt"
    with pytest.raises(RuntimeError, match="MD5 checksum"):
        download_from_url(src.as_uri(), str(bad), "0" * 32, progress=False)
    assert not bad.exists() and not os.path.exists(str(bad) + ".part")
    src.write_bytes(b"changed")  # a present file with the right MD5 is not fetched again
    assert open(download_from_url(src.as_uri(), str(target), calculate_md5(str(target)),
                                  progress=False), "rb").read() == b"hello\nworld\n"


def test_extract_zip_and_tar(tmp_path):
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as z:
        z.writestr("dir/x.txt", "x")
    with tarfile.open(tmp_path / "b.tar.gz", "w:gz") as t:
        data = b"y"
        info = tarfile.TarInfo("dir2/y.txt")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    extract_archive(str(tmp_path / "a.zip"), str(tmp_path / "out"))
    extract_archive(str(tmp_path / "b.tar.gz"), str(tmp_path / "out"))
    assert (tmp_path / "out" / "dir" / "x.txt").read_text() == "x"
    assert (tmp_path / "out" / "dir2" / "y.txt").read_text() == "y"
    (tmp_path / "c.bin").write_bytes(b"nope")
    with pytest.raises(ValueError, match="not a zip or tar"):
        extract_archive(str(tmp_path / "c.bin"))


def test_ag_news_download_and_parse(tmp_path, monkeypatch):
    src = tmp_path / "remote_train.csv"
    src.write_text('"3","Wall St. Bears","Short-sellers, Wall Street\'s dwindling band"\n'
                   '"4","New chip","Faster ""quoted"" text, with commas"\n', encoding="utf-8")
    monkeypatch.setitem(text_datasets.AG_NEWS_URL, "train", src.as_uri())
    monkeypatch.setitem(text_datasets.AG_NEWS_MD5, "train", _md5(src))
    train = datasets.AG_NEWS(root=str(tmp_path / "data"), split="train", download=True)
    assert len(train) == 2
    assert train[0] == (3, "Wall St. Bears Short-sellers, Wall Street's dwindling band")
    assert train[-1] == (4, 'New chip Faster "quoted" text, with commas')
    with pytest.raises(IndexError):
        train[2]
    with pytest.raises(RuntimeError, match="Dataset not found"):
        datasets.AG_NEWS(root=str(tmp_path / "data"), split="test")
    with pytest.raises(ValueError, match="Unknown split"):
        datasets.AG_NEWS(root=str(tmp_path / "data"), split="valid")


def test_imdb_from_archive(tmp_path, monkeypatch):
    archive = tmp_path / "aclImdb_v1.tar.gz"
    with tarfile.open(archive, "w:gz") as t:
        for split, sub, name, text in [("train", "pos", "0_9.txt", "Great film <br />!"),
                                       ("train", "neg", "1_2.txt", "Dull."),
                                       ("test", "pos", "2_8.txt", "Loved it, café.")]:
            data = text.encode("utf-8")
            info = tarfile.TarInfo(f"aclImdb/{split}/{sub}/{name}")
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    monkeypatch.setattr(text_datasets, "IMDB_URL", archive.as_uri())
    monkeypatch.setattr(text_datasets, "IMDB_MD5", _md5(archive))
    train, test = datasets.IMDB(root=str(tmp_path / "data"), download=True)
    assert sorted(train[i] for i in range(len(train))) == [(1, "Dull."),
                                                           (2, "Great film <br />!")]
    assert test[0] == (2, "Loved it, café.")


def test_sst2_wikitext_and_ptb(tmp_path, monkeypatch):
    archive = tmp_path / "SST-2.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("SST-2/train.tsv", "sentence\tlabel\nit 's a charming journey \t1\nbad \t0\n")
        z.writestr("SST-2/dev.tsv", "sentence\tlabel\nfine \t1\n")
        z.writestr("SST-2/test.tsv", "index\tsentence\n0\tan unseen one\n")
    monkeypatch.setattr(text_datasets, "SST2_URL", archive.as_uri())
    monkeypatch.setattr(text_datasets, "SST2_MD5", _md5(archive))
    train, dev, test = datasets.SST2(root=str(tmp_path / "data"), download=True)
    assert train[0] == ("it 's a charming journey ", 1) and len(train) == 2
    assert dev[0] == ("fine ", 1) and test[0] == ("an unseen one",)

    wiki = tmp_path / "data" / "WikiText2" / "wikitext-2"
    wiki.mkdir(parents=True)
    (wiki / "wiki.valid.tokens").write_text(" \n = Title = \n \n Some text @-@ here . \n")
    valid = datasets.WikiText2(root=str(tmp_path / "data"), split="valid")
    assert len(valid) == 4 and valid[1] == " = Title = \n"

    ptb = tmp_path / "remote.ptb.txt"
    ptb.write_text(" the cat <unk> sat \n a dog N \n")
    monkeypatch.setitem(text_datasets.PTB_URL, "test", ptb.as_uri())
    monkeypatch.setitem(text_datasets.PTB_MD5, "test", _md5(ptb))
    lines = datasets.PennTreebank(root=str(tmp_path / "data"), split="test", download=True)
    assert [lines[i] for i in range(len(lines))] == ["the cat <unk> sat", "a dog N"]


def test_registered_through_the_plugin():
    names = plugins.list_datasets(domain="text")
    assert {"ag_news", "imdb", "sst2", "wikitext2", "wikitext103", "penntreebank"} <= set(names)
    assert {"bert", "gpt2", "llama", "sentence_encoder"} <= set(plugins.list_models(
        domain="text"))
    assert "text.Truncate" in plugins.list_transforms(domain="text")
    assert plugins.get_transform("text.Truncate", max_seq_len=2)([1, 2, 3]) == [1, 2]
    model = plugins.get_model("gpt2", vocab_size=30, n_embd=8, n_layer=1, n_head=2,
                              n_positions=16)
    assert type(model).__name__ == "GPT2LMHeadModel"
