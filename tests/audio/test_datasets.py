"""Audio datasets: the Speech Commands folder dataset on speech_commands_synth, and the
download code of SPEECHCOMMANDS, YESNO, LIBRISPEECH and LJSPEECH on archives built here
and served over loopback HTTP."""

import contextlib
import functools
import hashlib
import http.server
import io
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest

import taimatsu as tm
import taimatsu_audio as ta
from taimatsu import plugins
from taimatsu.utils.data import DataLoader
from taimatsu_audio.datasets import (
    LIBRISPEECH,
    LJSPEECH,
    SPEECHCOMMANDS,
    YESNO,
    SpeechCommandsFolder,
    download_url_to_file,
    librispeech,
    speech_commands_synth_root,
    speechcommands,
    yesno,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "speech_commands_synth"
WORDS = {"yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"}


# -- the folder dataset ----------------------------------------------------------------------

def test_folder_dataset_lists_all_360_utterances_in_10_words():
    data = plugins.get_dataset("speech_commands", root=DATA)
    assert isinstance(data, SpeechCommandsFolder)
    assert len(data) == 360 and set(data.classes) == WORDS
    assert np.bincount(data.targets).tolist() == [36] * 10
    waveform, sample_rate, label, speaker, number = data[0]
    assert sample_rate == 16000 and waveform.shape[0] == 1 and waveform.dtype is tm.float32
    assert label == "down" and speaker == "en-029_m6_130" and number == 0
    # index metadata lives in NumPy arrays, not per-item Python objects
    for array in (data.paths, data.targets, data.speaker_ids, data.utterance_numbers):
        assert isinstance(array, np.ndarray) and len(array) == 360
    assert len({s.rsplit("_", 1)[0] for s in data.speaker_ids}) == 12  # voices


def test_bundled_copy_is_the_same_data():
    bundled = SpeechCommandsFolder(speech_commands_synth_root())
    assert len(bundled) == 360 and bundled.classes == sorted(WORDS)


def write_wav(path: Path, seconds=0.05, sample_rate=16000, value=0.25):
    path.parent.mkdir(parents=True, exist_ok=True)
    ta.save(path, tm.full((1, int(seconds * sample_rate)), value), sample_rate,
            bits_per_sample=16)


def test_nohash_names_subsets_and_extensions(tmp_path):
    for word in ("cat", "dog"):
        for speaker in ("0a1b", "ff00"):
            for n in (0, 1):
                write_wav(tmp_path / word / f"{speaker}_nohash_{n}.wav")
    write_wav(tmp_path / "dog" / "plainname.wav")
    write_wav(tmp_path / "_background_noise_" / "noise.wav")
    (tmp_path / "cat" / "notes.txt").write_text("not audio")
    (tmp_path / "validation_list.txt").write_text("cat/0a1b_nohash_1.wav\n")
    (tmp_path / "testing_list.txt").write_text("dog/ff00_nohash_0.wav\ndog/plainname.wav\n")
    data = SpeechCommandsFolder(tmp_path)
    assert len(data) == 9 and data.classes == ["cat", "dog"]
    assert data[0][2:] == ("cat", "0a1b", 0)
    by_name = {Path(p).name: i for i, p in enumerate(data.paths)}
    assert data.get_metadata(by_name["plainname.wav"])[2:] == ("plainname", 0)
    assert data.get_metadata(by_name["ff00_nohash_1.wav"])[1:] == ("dog", "ff00", 1)
    assert len(SpeechCommandsFolder(tmp_path, subset="validation")) == 1
    assert len(SpeechCommandsFolder(tmp_path, subset="testing")) == 2
    assert len(SpeechCommandsFolder(tmp_path, subset="training")) == 6
    assert len(SpeechCommandsFolder(tmp_path, extensions=(".flac",))) == 0
    with pytest.raises(ValueError, match="must be one of"):
        SpeechCommandsFolder(tmp_path, subset="dev")
    with pytest.raises(RuntimeError, match="doesn't exist"):
        SpeechCommandsFolder(tmp_path / "nothing")


def test_folder_dataset_feeds_a_dataloader():
    data = SpeechCommandsFolder(DATA, transform=lambda w: w[:, :2000])
    loader = DataLoader(data, batch_size=4, collate_fn=lambda items: tm.stack([i[0] for i in
                                                                                items]))
    assert next(iter(loader)).shape == (4, 1, 2000)


# -- downloads -------------------------------------------------------------------------------

@contextlib.contextmanager
def serve(folder: Path):
    """A loopback HTTP server for `folder`'s files (stopped on exit)."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def wav_bytes(value=0.25, frames=800, sample_rate=16000) -> bytes:
    buffer = io.BytesIO()
    ta.save(buffer, tm.full((1, frames), value), sample_rate, format="wav",
            bits_per_sample=16)
    return buffer.getvalue()


def make_tar(path: Path, files: dict, mode="w:gz"):
    with tarfile.open(path, mode) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_download_checks_the_hash(tmp_path):
    (tmp_path / "srv").mkdir()
    payload = b"0123456789" * 1000
    (tmp_path / "srv" / "blob.bin").write_bytes(payload)
    digest = hashlib.sha256(payload).hexdigest()
    with serve(tmp_path / "srv") as url:
        download_url_to_file(f"{url}/blob.bin", tmp_path / "ok.bin", hash_prefix=digest[:10],
                             progress=False)
        assert (tmp_path / "ok.bin").read_bytes() == payload
        with pytest.raises(RuntimeError, match="invalid hash value"):
            download_url_to_file(f"{url}/blob.bin", tmp_path / "bad.bin", hash_prefix="ffff",
                                 progress=False)
    assert not (tmp_path / "bad.bin").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".download")] == []


def test_speechcommands_downloads_extracts_and_splits(tmp_path, monkeypatch):
    files = {f"{w}/{s}_nohash_{n}.wav": wav_bytes() for w in ("yes", "no")
             for s in ("aa", "bb") for n in (0, 1)}
    files["_background_noise_/white.wav"] = wav_bytes()
    files["validation_list.txt"] = b"yes/aa_nohash_0.wav\n"
    files["testing_list.txt"] = b"no/bb_nohash_1.wav\n"
    (tmp_path / "srv").mkdir()
    digest = make_tar(tmp_path / "srv" / "speech_commands_v0.02.tar.gz", files)
    root = tmp_path / "root"
    with serve(tmp_path / "srv") as url:
        archive_url = f"{url}/speech_commands_v0.02.tar.gz"
        monkeypatch.setitem(speechcommands._CHECKSUMS, archive_url, digest)
        data = SPEECHCOMMANDS(root, url=archive_url, download=True)
    assert len(data) == 8
    waveform, sample_rate, label, speaker, number = data[0]
    assert (sample_rate, label, speaker, number) == (16000, "no", "aa", 0)
    assert waveform.shape == (1, 800)
    assert data.get_metadata(0)[0] == "speech_commands_v0.02/no/aa_nohash_0.wav"
    kwargs = dict(url=archive_url)
    assert len(SPEECHCOMMANDS(root, subset="validation", **kwargs)) == 1
    assert len(SPEECHCOMMANDS(root, subset="testing", **kwargs)) == 1
    assert len(SPEECHCOMMANDS(root, subset="training", **kwargs)) == 6
    with pytest.raises(RuntimeError, match="set `download=True`"):
        SPEECHCOMMANDS(tmp_path / "elsewhere")


def test_speechcommands_refuses_a_corrupted_archive(tmp_path, monkeypatch):
    (tmp_path / "srv").mkdir()
    make_tar(tmp_path / "srv" / "speech_commands_v0.01.tar.gz", {"yes/a_nohash_0.wav": wav_bytes()})
    with serve(tmp_path / "srv") as url:
        archive_url = f"{url}/speech_commands_v0.01.tar.gz"
        monkeypatch.setitem(speechcommands._CHECKSUMS, archive_url, "0" * 64)
        with pytest.raises(RuntimeError, match="invalid hash value"):
            SPEECHCOMMANDS(tmp_path / "root", url=archive_url, download=True)


def test_yesno(tmp_path, monkeypatch):
    files = {f"waves_yesno/{name}.wav": wav_bytes(0.1, 400, 8000)
             for name in ("0_0_1_1_0_1_0_1", "1_1_1_1_0_0_0_0")}
    files["waves_yesno/README"] = b"yes/no"
    (tmp_path / "srv").mkdir()
    digest = make_tar(tmp_path / "srv" / "waves_yesno.tar.gz", files)
    with serve(tmp_path / "srv") as url:
        archive_url = f"{url}/waves_yesno.tar.gz"
        monkeypatch.setitem(yesno._RELEASE_CONFIGS["release1"], "url", archive_url)
        monkeypatch.setitem(yesno._RELEASE_CONFIGS["release1"], "checksum", digest)
        data = YESNO(tmp_path / "root", url=archive_url, download=True)
    assert len(data) == 2
    waveform, sample_rate, labels = data[1]
    assert sample_rate == 8000 and labels == [1, 1, 1, 1, 0, 0, 0, 0]
    with pytest.raises(RuntimeError, match="Dataset not found"):
        YESNO(tmp_path / "none")


def test_librispeech(tmp_path, monkeypatch):
    chapter = "LibriSpeech/dev-clean/84/121123"
    files = {f"{chapter}/84-121123-0000.flac": b"", f"{chapter}/84-121123-0001.flac": b"",
             f"{chapter}/84-121123.trans.txt": b"84-121123-0000 GO DO YOU HEAR\n"
                                                b"84-121123-0001 BUT IN LESS THAN FIVE MINUTES\n"}
    buffer = io.BytesIO()
    ta.save(buffer, tm.zeros(1, 1600), 16000, format="flac")
    files = {k: (buffer.getvalue() if k.endswith(".flac") else v) for k, v in files.items()}
    (tmp_path / "srv").mkdir()
    digest = make_tar(tmp_path / "srv" / "dev-clean.tar.gz", files)
    with serve(tmp_path / "srv") as url:
        monkeypatch.setitem(librispeech._CHECKSUMS, f"{url}/dev-clean.tar.gz", digest)
        data = LIBRISPEECH(tmp_path / "root", url="dev-clean", download=True,
                           base_url=f"{url}/")
    assert len(data) == 2
    waveform, sample_rate, transcript, speaker, chapter_id, utterance = data[1]
    assert waveform.shape == (1, 1600) and sample_rate == 16000
    assert (transcript, speaker, chapter_id, utterance) == \
        ("BUT IN LESS THAN FIVE MINUTES", 84, 121123, 1)
    with pytest.raises(ValueError, match="Invalid url 'dev'"):
        LIBRISPEECH(tmp_path, url="dev")


def test_ljspeech_from_a_bzip2_archive(tmp_path):
    files = {"LJSpeech-1.1/wavs/LJ001-0001.wav": wav_bytes(0.1, 2205, 22050),
             "LJSpeech-1.1/wavs/LJ001-0002.wav": wav_bytes(0.2, 2205, 22050),
             "LJSpeech-1.1/metadata.csv": b"LJ001-0001|Printing, in 1 sense|Printing, in one "
                                          b"sense\nLJ001-0002|in being|in being\n"}
    (tmp_path / "srv").mkdir()
    make_tar(tmp_path / "srv" / "LJSpeech-1.1.tar.bz2", files, mode="w:bz2")
    with serve(tmp_path / "srv") as url:
        data = LJSPEECH(tmp_path / "root", url=f"{url}/LJSpeech-1.1.tar.bz2", download=True)
    assert len(data) == 2
    waveform, sample_rate, transcript, normalized = data[0]
    assert sample_rate == 22050 and waveform.shape == (1, 2205)
    assert (transcript, normalized) == ("Printing, in 1 sense", "Printing, in one sense")
    assert isinstance(data._flist, np.ndarray)


def test_extraction_refuses_paths_outside_the_target(tmp_path):
    from taimatsu_audio.datasets import extract_archive
    make_tar(tmp_path / "evil.tar.gz", {"../escaped.txt": b"x"})
    with pytest.raises(RuntimeError, match="outside"):
        extract_archive(tmp_path / "evil.tar.gz", tmp_path / "out")
    assert not (tmp_path / "escaped.txt").exists()


def test_datasets_are_registered():
    assert {"speech_commands", "speechcommands", "yesno", "librispeech", "ljspeech"} <= \
        set(plugins.list_datasets(domain="audio"))
