"""taimatsu_vision.datasets: parsers on files built here in the published formats, the
download path over file:// mirrors (md5 checks, extraction), and the bundled Digits."""

from __future__ import annotations

import gzip
import io as pyio
import os
import pickle
import sys
import tarfile
import zipfile

import numpy as np
import pytest
from PIL import Image

import taimatsu as tm
import taimatsu_vision.transforms as T
from taimatsu.utils.data import DataLoader
from taimatsu_vision import datasets
from taimatsu_vision.datasets import utils as dutils

NOT_FOUND = "Dataset not found or corrupted. You can use download=True to download it"


# -- file builders in the real formats -----------------------------------------------------------

def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file: magic 0x00 0x00 <type 0x08 = ubyte> <ndim>, big-endian sizes, data."""
    header = bytes([0, 0, 0x08, array.ndim])
    header += b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    return header + array.astype(np.uint8).tobytes()


def mnist_arrays(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), \
        rng.integers(0, 10, n, dtype=np.uint8)


def write_mnist_raw(folder, prefix: str = "", n_train: int = 6, n_test: int = 4):
    os.makedirs(folder, exist_ok=True)
    written = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        images, labels = mnist_arrays(n, seed=n)
        for kind, arr in (("images-idx3", images), ("labels-idx1", labels)):
            name = f"{prefix}{split}-{kind}-ubyte"
            with open(os.path.join(folder, name), "wb") as f:
                f.write(idx_bytes(arr))
        written[split] = (images, labels)
    return written


def md5_of(path) -> str:
    return dutils.calculate_md5(str(path))


# -- MNIST family --------------------------------------------------------------------------------

def test_mnist_reads_idx_files(tmp_path):
    written = write_mnist_raw(tmp_path / "MNIST" / "raw")
    train = datasets.MNIST(str(tmp_path), train=True)
    test = datasets.MNIST(str(tmp_path), train=False, transform=T.ToTensor())
    assert len(train) == 6 and len(test) == 4
    images, labels = written["train"]
    img, target = train[2]
    assert isinstance(img, Image.Image) and img.mode == "L" and img.size == (28, 28)
    np.testing.assert_array_equal(np.asarray(img), images[2])
    assert target == int(labels[2]) and isinstance(target, int)
    assert train.data.dtype == tm.uint8 and train.targets.dtype == tm.int64
    x, _ = test[0]
    assert tuple(x.shape) == (1, 28, 28) and x.dtype == tm.float32
    assert train.class_to_idx["3 - three"] == 3
    assert "Split: Train" in repr(train) and "Number of datapoints: 6" in repr(train)


def test_mnist_missing_and_corrupt_files(tmp_path):
    with pytest.raises(RuntimeError, match=NOT_FOUND):
        datasets.MNIST(str(tmp_path))
    raw = tmp_path / "MNIST" / "raw"
    write_mnist_raw(raw)
    path = raw / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])  # truncated
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted.*delete the file"):
        datasets.MNIST(str(tmp_path))
    path.write_bytes(b"\x01\x02garbage")
    with pytest.raises(RuntimeError, match="bad magic number"):
        datasets.MNIST(str(tmp_path))


def test_idx_reader_types_and_errors(tmp_path):
    path = tmp_path / "f.idx"
    data = np.arange(6, dtype=">i4").reshape(2, 3)
    path.write_bytes(bytes([0, 0, 0x0C, 2]) + (2).to_bytes(4, "big") + (3).to_bytes(4, "big")
                     + data.tobytes())
    t = datasets.mnist.read_sn3_pascalvincent_tensor(str(path))
    assert t.dtype == tm.int32 and t.tolist() == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(TypeError, match="x should be of dtype torch.uint8"):
        datasets.mnist.read_label_file(str(path))


def make_mirror(tmp_path, cls, prefix=""):
    """.gz files of a fake MNIST-style set in a folder served as a file:// mirror, and the
    class's `resources` list with their real MD5s."""
    mirror = tmp_path / "mirror"
    plain = tmp_path / "plain"
    written = write_mnist_raw(plain, prefix)
    os.makedirs(mirror, exist_ok=True)
    resources = []
    for name, _ in cls.resources:
        src = plain / name[:-3]
        with open(src, "rb") as f, gzip.open(mirror / name, "wb") as g:
            g.write(f.read())
        resources.append((name, md5_of(mirror / name)))
    return mirror, resources, written


@pytest.mark.parametrize("cls", [datasets.MNIST, datasets.FashionMNIST, datasets.KMNIST])
def test_download_tries_mirrors_checks_md5_and_extracts(tmp_path, monkeypatch, cls, capsys):
    mirror, resources, written = make_mirror(tmp_path, cls)
    monkeypatch.setattr(cls, "resources", resources)
    monkeypatch.setattr(cls, "mirrors", [f"file://{tmp_path}/no-such-mirror/",
                                         f"file://{mirror}/"])
    root = tmp_path / "root"
    ds = cls(str(root), train=False, download=True)
    assert len(ds) == 4
    np.testing.assert_array_equal(ds.data.numpy(), written["t10k"][0])
    raw = root / cls.__name__ / "raw"
    assert (raw / "t10k-images-idx3-ubyte").is_file()
    assert "trying next" in capsys.readouterr().out
    # a second download finds the files and fetches nothing
    monkeypatch.setattr(cls, "mirrors", [])
    assert len(cls(str(root), train=True, download=True)) == 6


def test_download_rejects_a_wrong_md5(tmp_path, monkeypatch):
    mirror, resources, _ = make_mirror(tmp_path, datasets.MNIST)
    bad = [(name, "0" * 32) for name, _ in resources]
    monkeypatch.setattr(datasets.MNIST, "resources", bad)
    monkeypatch.setattr(datasets.MNIST, "mirrors", [f"file://{mirror}/"])
    with pytest.raises(RuntimeError, match="Error downloading .* from every mirror"):
        datasets.MNIST(str(tmp_path / "root"), download=True)
    leftovers = os.listdir(tmp_path / "root" / "MNIST" / "raw")
    assert not any(name.endswith(".gz") for name in leftovers)  # bad downloads are removed


def test_emnist_split_files_and_download(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="Unknown value 'words' for argument split"):
        datasets.EMNIST(str(tmp_path), split="words")
    # the published zip holds gzip/emnist-<split>-<train|test>-<kind>-ubyte.gz
    staging = tmp_path / "staging"
    written = write_mnist_raw(staging / "plain", prefix="")
    zpath = tmp_path / "gzip.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for split, tag in (("train", "train"), ("t10k", "test")):
            for kind in ("images-idx3", "labels-idx1"):
                raw = (staging / "plain" / f"{split}-{kind}-ubyte").read_bytes()
                zf.writestr(f"gzip/emnist-letters-{tag}-{kind}-ubyte.gz", gzip.compress(raw))
    monkeypatch.setattr(datasets.EMNIST, "url", f"file://{zpath}")
    monkeypatch.setattr(datasets.EMNIST, "md5", md5_of(zpath))
    ds = datasets.EMNIST(str(tmp_path / "root"), split="letters", download=True)
    assert len(ds) == 6 and ds.classes[1] == "a" and ds.classes[0] == "N/A"
    np.testing.assert_array_equal(np.asarray(ds[1][0]), written["train"][0][1])
    raw = tmp_path / "root" / "EMNIST" / "raw"
    assert not (raw / "gzip").exists()
    assert len(datasets.EMNIST(str(tmp_path / "root"), split="letters", train=False)) == 4
    assert len(datasets.EMNIST.classes_split_dict["byclass"]) == 62
    assert len(datasets.EMNIST.classes_split_dict["balanced"]) == 47


# -- CIFAR ---------------------------------------------------------------------------------------

def write_cifar(folder, files, label_key="labels", meta_name="batches.meta",
                meta_key="label_names", n_classes=10, n=5):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(3)
    content = {}
    for name in files:
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = rng.integers(0, n_classes, n).tolist()
        with open(os.path.join(folder, name), "wb") as f:
            pickle.dump({"data": data, label_key: labels, "batch_label": name}, f, protocol=2)
        content[name] = (data, labels)
    with open(os.path.join(folder, meta_name), "wb") as f:
        pickle.dump({meta_key: [f"class{i}" for i in range(n_classes)]}, f, protocol=2)
    return content


def patch_md5s(monkeypatch, cls, folder):
    for attr in ("train_list", "test_list"):
        monkeypatch.setattr(cls, attr, [[name, md5_of(folder / name)]
                                        for name, _ in getattr(cls, attr)])
    meta = dict(cls.meta, md5=md5_of(folder / cls.meta["filename"]))
    monkeypatch.setattr(cls, "meta", meta)


def test_cifar10_pickle_batches(tmp_path, monkeypatch):
    folder = tmp_path / "cifar-10-batches-py"
    names = [n for n, _ in datasets.CIFAR10.train_list + datasets.CIFAR10.test_list]
    content = write_cifar(folder, names)
    with pytest.raises(RuntimeError, match=NOT_FOUND):  # the published md5s do not match
        datasets.CIFAR10(str(tmp_path))
    patch_md5s(monkeypatch, datasets.CIFAR10, folder)
    train = datasets.CIFAR10(str(tmp_path), train=True)
    test = datasets.CIFAR10(str(tmp_path), train=False)
    assert len(train) == 25 and len(test) == 5
    data, labels = content["data_batch_2"]
    img, target = train[5 + 1]
    # a row is the red plane, then green, then blue, each 32x32 row-major
    expected = data[1].reshape(3, 32, 32).transpose(1, 2, 0)
    np.testing.assert_array_equal(np.asarray(img), expected)
    assert target == labels[1] and train.classes[3] == "class3"
    assert train.class_to_idx["class4"] == 4 and train.targets.dtype == np.int64


def test_cifar100_and_download(tmp_path, monkeypatch):
    src = tmp_path / "src" / "cifar-100-python"
    write_cifar(src, ["train", "test"], label_key="fine_labels", meta_name="meta",
                meta_key="fine_label_names", n_classes=100)
    archive = tmp_path / "cifar-100-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(src, arcname="cifar-100-python")
    patch_md5s(monkeypatch, datasets.CIFAR100, src)
    monkeypatch.setattr(datasets.CIFAR100, "url", f"file://{archive}")
    monkeypatch.setattr(datasets.CIFAR100, "tgz_md5", md5_of(archive))
    ds = datasets.CIFAR100(str(tmp_path / "root"), train=False, download=True)
    assert len(ds) == 5 and len(ds.classes) == 100
    assert (tmp_path / "root" / "cifar-100-python.tar.gz").is_file()
    monkeypatch.setattr(datasets.CIFAR100, "tgz_md5", "0" * 32)
    with pytest.raises(RuntimeError, match="does not match the expected MD5"):
        datasets.CIFAR100(str(tmp_path / "other"), download=True)


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_cifar_unpickler_refuses_code(tmp_path, monkeypatch):
    folder = tmp_path / "cifar-10-batches-py"
    names = [n for n, _ in datasets.CIFAR10.train_list + datasets.CIFAR10.test_list]
    write_cifar(folder, names)
    with open(folder / "test_batch", "wb") as f:
        pickle.dump({"data": _Evil(), "labels": []}, f, protocol=2)
    patch_md5s(monkeypatch, datasets.CIFAR10, folder)
    with pytest.raises(pickle.UnpicklingError, match="never needs"):
        datasets.CIFAR10(str(tmp_path), train=False)


# -- SVHN ----------------------------------------------------------------------------------------

def write_svhn(path, n=4):
    scipy_io = pytest.importorskip("scipy.io")
    rng = np.random.default_rng(5)
    x = rng.integers(0, 256, (32, 32, 3, n), dtype=np.uint8)
    y = np.array([[10], [1], [5], [10]][:n], dtype=np.uint8)
    scipy_io.savemat(str(path), {"X": x, "y": y})
    return x, y


def test_svhn_mat_files(tmp_path, monkeypatch):
    x, y = write_svhn(tmp_path / "test_32x32.mat")
    split = dict(datasets.SVHN.split_list)
    split["test"] = [f"file://{tmp_path}/test_32x32.mat", "test_32x32.mat",
                     md5_of(tmp_path / "test_32x32.mat")]
    monkeypatch.setattr(datasets.SVHN, "split_list", split)
    ds = datasets.SVHN(str(tmp_path), split="test")
    assert len(ds) == 4 and ds.labels.tolist() == [0, 1, 5, 0]  # 10 stands for the digit 0
    img, target = ds[2]
    np.testing.assert_array_equal(np.asarray(img), x[:, :, :, 2])
    assert target == 5 and ds.data.shape == (4, 3, 32, 32)
    # the same file downloaded through the URL
    other = datasets.SVHN(str(tmp_path / "dl"), split="test", download=True)
    assert len(other) == 4
    with pytest.raises(RuntimeError, match=NOT_FOUND):
        datasets.SVHN(str(tmp_path), split="train")
    with pytest.raises(ValueError, match="Unknown value 'valid' for argument split"):
        datasets.SVHN(str(tmp_path), split="valid")


def test_svhn_without_scipy_says_what_to_install(tmp_path, monkeypatch):
    write_svhn(tmp_path / "test_32x32.mat")
    split = dict(datasets.SVHN.split_list)
    split["test"] = ["unused", "test_32x32.mat", None]
    monkeypatch.setattr(datasets.SVHN, "split_list", split)
    monkeypatch.setitem(sys.modules, "scipy.io", None)
    with pytest.raises(ImportError, match="need scipy to read: pip install scipy"):
        datasets.SVHN(str(tmp_path), split="test")


# -- folders -------------------------------------------------------------------------------------

@pytest.fixture
def image_tree(tmp_path):
    rng = np.random.default_rng(0)
    for cls, n in (("dog", 3), ("cat", 2)):
        os.makedirs(tmp_path / cls / "sub")
        for i in range(n):
            arr = rng.integers(0, 256, (6 + i, 5, 3), dtype=np.uint8)
            Image.fromarray(arr).save(tmp_path / cls / f"{i}.png")
        Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / cls / "sub" / "gray.PNG")
        (tmp_path / cls / "notes.txt").write_text("not an image")
    return tmp_path


def test_image_folder(image_tree):
    ds = datasets.ImageFolder(str(image_tree))
    assert ds.classes == ["cat", "dog"] and ds.class_to_idx == {"cat": 0, "dog": 1}
    assert len(ds) == 7  # .txt skipped, upper-case extension and sub-folders included
    assert ds.targets.tolist() == [0, 0, 0, 1, 1, 1, 1]
    assert isinstance(ds.targets, np.ndarray) and ds._paths.dtype.kind == "U"
    path, target = ds.samples[0]
    assert path.endswith(os.path.join("cat", "0.png")) and target == 0
    assert ds.imgs == ds.samples
    img, target = ds[2]
    assert img.mode == "RGB" and img.size == (4, 4) and target == 0  # gray is converted
    loader = DataLoader(datasets.ImageFolder(str(image_tree), transform=T.Compose(
        [T.Resize((8, 8)), T.ToTensor()])), batch_size=4)
    images, labels = next(iter(loader))
    assert tuple(images.shape) == (4, 3, 8, 8) and labels.tolist() == [0, 0, 0, 1]


def test_dataset_folder_custom_loader_and_errors(tmp_path, image_tree):
    ds = datasets.DatasetFolder(str(image_tree), loader=lambda p: os.path.getsize(p),
                                extensions=(".txt",))
    assert len(ds) == 2 and ds[0][0] == len("not an image")
    only_png = datasets.ImageFolder(str(image_tree), is_valid_file=lambda p: p.endswith(".png"))
    assert len(only_png) == 5
    os.makedirs(image_tree / "empty")
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes empty"):
        datasets.ImageFolder(str(image_tree))
    assert len(datasets.ImageFolder(str(image_tree), allow_empty=True).classes) == 3
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder"):
        datasets.ImageFolder(str(tmp_path / "dog" / "sub"))
    with pytest.raises(ValueError, match="Both extensions and is_valid_file cannot be None"):
        datasets.DatasetFolder(str(image_tree), loader=print)


# -- FakeData and Digits -------------------------------------------------------------------------

def test_fake_data_is_reproducible_per_index():
    ds = datasets.FakeData(size=5, image_size=(3, 7, 9), num_classes=4, transform=T.ToTensor())
    tm.manual_seed(0)
    before = tm.rand(1).item()
    tm.manual_seed(0)
    a, ta = ds[3]
    assert tm.rand(1).item() == before  # the global generator is untouched
    b, tb = ds[3]
    assert tuple(a.shape) == (3, 7, 9) and np.array_equal(a.numpy(), b.numpy()) and ta == tb
    assert 0 <= ta < 4 and isinstance(ta, int)
    assert not np.array_equal(ds[2][0].numpy(), a.numpy())
    shifted = datasets.FakeData(size=5, image_size=(3, 7, 9), random_offset=1,
                                transform=T.ToTensor())
    np.testing.assert_array_equal(shifted[2][0].numpy(), a.numpy())
    with pytest.raises(IndexError, match="FakeData index out of range"):
        ds[5]


def test_digits_split_and_samples():
    train, test = datasets.Digits(train=True), datasets.Digits(train=False)
    assert len(train) == 1442 and len(test) == 355 and len(train) + len(test) == 1797
    counts = np.bincount(test.targets, minlength=10)
    assert counts.min() >= 34 and counts.max() <= 36  # stratified: about a fifth per class
    img, label = test[0]
    assert img.mode == "L" and img.size == (8, 8) and isinstance(label, int)
    assert train.data.dtype == np.uint8 and train.data.max() == 255
    # the split is disjoint: no test image is also a training image with the same label
    train_keys = {(row.tobytes(), t) for row, t in zip(train.data, train.targets)}
    overlap = sum((row.tobytes(), t) in train_keys for row, t in zip(test.data, test.targets))
    assert overlap < 5  # (the published set contains a handful of duplicate digits)
    x, _ = datasets.Digits(train=False, transform=T.ToTensor())[0]
    assert tuple(x.shape) == (1, 8, 8) and 0.0 <= x.min().item() and x.max().item() <= 1.0
    assert datasets.Digits().classes == [str(d) for d in range(10)]


def test_digits_same_split_every_time():
    a, b = datasets.Digits(train=False), datasets.Digits(train=False)
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(a.targets, b.targets)


def test_vision_dataset_transform_arguments():
    with pytest.raises(ValueError, match="Only transforms or transform/target_transform"):
        datasets.VisionDataset(None, transforms=lambda a, b: (a, b), transform=T.ToTensor())
    ds = datasets.Digits(train=False, target_transform=lambda t: t + 100)
    assert ds[0][1] >= 100
    assert "Target transform" in repr(ds)


# -- download utilities --------------------------------------------------------------------------

def test_extract_archive_formats(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.txt").write_text("hello")
    with zipfile.ZipFile(tmp_path / "x.zip", "w") as zf:
        zf.write(tmp_path / "src" / "a.txt", "inner/a.txt")
    dutils.extract_archive(str(tmp_path / "x.zip"), str(tmp_path / "z"))
    assert (tmp_path / "z" / "inner" / "a.txt").read_text() == "hello"
    with tarfile.open(tmp_path / "x.tar.bz2", "w:bz2") as tar:
        tar.add(tmp_path / "src" / "a.txt", arcname="b.txt")
    dutils.extract_archive(str(tmp_path / "x.tar.bz2"), str(tmp_path / "t"),
                           remove_finished=True)
    assert (tmp_path / "t" / "b.txt").read_text() == "hello"
    assert not (tmp_path / "x.tar.bz2").exists()
    (tmp_path / "c.txt.gz").write_bytes(gzip.compress(b"zipped"))
    out = dutils.extract_archive(str(tmp_path / "c.txt.gz"))
    assert out == str(tmp_path / "c.txt") and (tmp_path / "c.txt").read_bytes() == b"zipped"
    with pytest.raises(RuntimeError, match="is not supported"):
        dutils.extract_archive(str(tmp_path / "src" / "a.txt"))


def test_extract_refuses_paths_outside_the_target(tmp_path):
    buf = pyio.BytesIO(b"evil")
    with tarfile.open(tmp_path / "evil.tar", "w") as tar:
        info = tarfile.TarInfo("../escaped.txt")
        info.size = 4
        tar.addfile(info, buf)
    with pytest.raises(Exception):  # tarfile's OutsideDestinationError or ours
        dutils.extract_archive(str(tmp_path / "evil.tar"), str(tmp_path / "out"))
    assert not (tmp_path / "escaped.txt").exists()
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as zf:
        zf.writestr("../escaped.txt", "evil")
    with pytest.raises(RuntimeError, match="points outside"):
        dutils.extract_archive(str(tmp_path / "evil.zip"), str(tmp_path / "out"))


def test_check_integrity_and_verify_str_arg(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    assert dutils.check_integrity(str(path))
    assert dutils.check_integrity(str(path), "900150983cd24fb0d6963f7d28e17f72")
    assert not dutils.check_integrity(str(path), "0" * 32)
    assert not dutils.check_integrity(str(tmp_path / "missing"))
    with pytest.raises(ValueError, match=r"Valid values are \{'a', 'b'\}"):
        dutils.verify_str_arg("c", "split", ("a", "b"))
    with pytest.raises(ValueError, match="Expected type str for argument split"):
        dutils.verify_str_arg(3, "split", ("a",))


def test_download_url_is_atomic_and_skips_verified(tmp_path):
    src = tmp_path / "payload.bin"
    src.write_bytes(os.urandom(1000))
    digest = md5_of(src)
    out = dutils.download_url(f"file://{src}", str(tmp_path / "dl"), md5=digest,
                              progress=False)
    assert open(out, "rb").read() == src.read_bytes()
    assert os.listdir(tmp_path / "dl") == ["payload.bin"]  # no .part file left behind
    src.write_bytes(b"changed")  # a verified file is not fetched again
    dutils.download_url(f"file://{src}", str(tmp_path / "dl"), md5=digest, progress=False)
    assert os.path.getsize(out) == 1000
