"""fashion_mnist.py: the real dataset (when installed) and tiny IDX files made in tmp_path."""

import dataclasses
import gzip
import sys

import pytest
import torch

import d2lutils as d2l
from d2lutils import paths
from d2lutils.fashion_mnist import load_fashion_mnist

REAL_FOLDER = paths.where("fashion-mnist")
needs_real_data = pytest.mark.skipif(
    REAL_FOLDER is None,
    reason="Fashion-MNIST not found (sudo apt-get install dataset-fashion-mnist, "
           "or python -m d2lutils data fetch)")

NAMES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def _idx(magic, sizes, payload):
    header = magic.to_bytes(4, "big") + b"".join(s.to_bytes(4, "big") for s in sizes)
    return header + bytes(payload)


def _write(path, data, compress=True):
    if compress:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(data, mtime=0))
    else:
        path.write_bytes(data)
    return path


def make_tiny_fashion_mnist(folder, n_train=7, n_test=3, compress=True):
    """Write the four IDX files for tiny splits; returns {split: (images, labels)} uint8."""
    folder.mkdir(parents=True, exist_ok=True)
    made = {}
    gen = torch.Generator().manual_seed(0)
    for split, n in (("train", n_train), ("test", n_test)):
        images = torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8, generator=gen)
        images[0, 0, 0], images[0, 0, 1] = 0, 255  # make sure both ends of the range occur
        labels = torch.arange(n, dtype=torch.uint8) % 10
        img_name, lbl_name = NAMES[split]
        _write(folder / img_name, _idx(2051, (n, 28, 28), images.flatten().tolist()), compress)
        _write(folder / lbl_name, _idx(2049, (n,), labels.tolist()), compress)
        made[split] = (images, labels)
    return made


@pytest.fixture
def isolated(tmp_path, data_home, monkeypatch):
    """No data anywhere but where the test puts it: env, user cache and system dirs in tmp."""
    fm = paths.DATASETS["fashion-mnist"]
    monkeypatch.setitem(paths.DATASETS, "fashion-mnist", dataclasses.replace(
        fm, system_dirs=(str(tmp_path / "system"),)))
    return tmp_path


@pytest.mark.parametrize("compress", [True, False], ids=["gz", "uncompressed"])
def test_tiny_files_load_exactly(isolated, compress):
    folder = isolated / "data"
    made = make_tiny_fashion_mnist(folder, compress=compress)
    for split, is_train in (("train", True), ("test", False)):
        X, y = load_fashion_mnist(is_train, data_dir=folder)
        images, labels = made[split]
        assert X.dtype == torch.float32 and X.shape == (len(images), 1, 28, 28)
        assert y.dtype == torch.int64 and torch.equal(y, labels.long())
        assert torch.equal(X, images.unsqueeze(1).float() / 255)
        assert X.min() == 0 and X.max() == 1


def test_tiny_files_through_load_data_fashion_mnist(isolated):
    folder = isolated / "data" / "fashion-mnist"  # <data_dir>/<dataset>/ counts too
    make_tiny_fashion_mnist(folder, n_train=7, n_test=3)
    train_iter, test_iter = d2l.load_data_fashion_mnist(2, data_dir=isolated / "data")
    assert (len(train_iter), len(test_iter)) == (4, 2)
    assert [len(y) for _, y in train_iter] == [2, 2, 2, 1]
    X, y = next(iter(test_iter))
    assert X.shape == (2, 1, 28, 28) and y.tolist() == [0, 1]


@pytest.mark.parametrize("resize, shape", [(64, (64, 64)), (14, (14, 14)), ((32, 20), (32, 20))])
def test_resize(isolated, resize, shape):
    make_tiny_fashion_mnist(isolated / "data")
    train_iter, _ = d2l.load_data_fashion_mnist(4, resize=resize, data_dir=isolated / "data")
    X, _ = next(iter(train_iter))
    assert X.shape == (4, 1, *shape) and X.dtype == torch.float32
    assert X.min() >= 0 and X.max() <= 1


def test_resizing_batch_by_batch_equals_resizing_all_at_once(isolated):
    make_tiny_fashion_mnist(isolated / "data")
    X_all, y_all = load_fashion_mnist(False, resize=(12, 9), data_dir=isolated / "data")
    _, test_iter = d2l.load_data_fashion_mnist(3, resize=(12, 9), data_dir=isolated / "data")
    X, y = map(torch.cat, zip(*test_iter))
    assert torch.equal(y, y_all) and torch.allclose(X, X_all, atol=1e-6)


def test_every_caller_gets_tensors_of_its_own(isolated):
    # the parsed files are cached; what a learner edits in place must not leak into it
    make_tiny_fashion_mnist(isolated / "data")
    X, y = load_fashion_mnist(True, data_dir=isolated / "data")
    X0, y0 = X.clone(), y.clone()
    X += 1
    y[:] = 7
    X2, y2 = load_fashion_mnist(True, data_dir=isolated / "data")
    assert torch.equal(X2, X0) and torch.equal(y2, y0)
    train_iter, _ = d2l.load_data_fashion_mnist(4, data_dir=isolated / "data")
    train_iter.tensors[1][:] = 3  # the loader's own data: a copy too
    assert torch.equal(load_fashion_mnist(True, data_dir=isolated / "data")[1], y0)


@pytest.mark.parametrize("resize, error, message", [
    (0, ValueError, "resize should be a positive integer, but got resize=0"),
    (-5, ValueError, "resize should be a positive integer, but got resize=-5"),
    (2.5, TypeError, "resize should be a positive integer, but got resize=2.5"),
    (True, TypeError, "resize should be a positive integer, but got resize=True"),
    ((32, 0), ValueError, "resize should be a positive integer, but got resize=0"),
    ((3, 4, 5), ValueError, r"resize should be an int or a \(height, width\) pair"),
])
def test_bad_resize(isolated, resize, error, message):
    # Refused before any file is read: the folder holds no dataset at all.
    with pytest.raises(error, match=message):
        d2l.load_data_fashion_mnist(4, resize=resize, data_dir=isolated / "data")
    with pytest.raises(error, match=message):
        load_fashion_mnist(True, resize=resize, data_dir=isolated / "data")


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True])
def test_bad_batch_size(batch_size):
    # Checked before any data is read, so this needs no dataset at all.
    with pytest.raises((ValueError, TypeError), match="batch_size should be a positive integer"):
        d2l.load_data_fashion_mnist(batch_size)


def test_bad_magic_number(isolated):
    folder = isolated / "data"
    make_tiny_fashion_mnist(folder)
    # A labels file where the images file should be: magic 2049 instead of 2051
    (folder / "train-images-idx3-ubyte.gz").write_bytes(
        (folder / "train-labels-idx1-ubyte.gz").read_bytes())
    with pytest.raises(ValueError, match=r"magic number 2051, but got 2049.*data fetch"):
        load_fashion_mnist(True, data_dir=folder)


def test_empty_file(isolated):
    folder = isolated / "data"
    make_tiny_fashion_mnist(folder, compress=False)
    (folder / "t10k-labels-idx1-ubyte").write_bytes(b"")
    with pytest.raises(ValueError, match="magic number 2049, but got None"):
        load_fashion_mnist(False, data_dir=folder)


def test_wrong_counts_in_header(isolated):
    folder = isolated / "data"
    make_tiny_fashion_mnist(folder)
    # The header promises 8 images, the file holds 7
    payload = torch.zeros(7 * 28 * 28, dtype=torch.uint8).tolist()
    _write(folder / "train-images-idx3-ubyte", _idx(2051, (8, 28, 28), payload))
    with pytest.raises(ValueError, match=r"should hold 6288 bytes for shape \(8, 28, 28\), but has "
                                         r"5504: it is truncated or corrupted"):
        load_fashion_mnist(True, data_dir=folder)


def test_images_and_labels_disagree(isolated):
    folder = isolated / "data"
    make_tiny_fashion_mnist(folder)
    _write(folder / "train-labels-idx1-ubyte", _idx(2049, (6,), [1] * 6))
    with pytest.raises(ValueError, match="7 images but 6 labels"):
        load_fashion_mnist(True, data_dir=folder)


def test_truncated_gzip(isolated):
    folder = isolated / "data"
    make_tiny_fashion_mnist(folder)
    path = folder / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(ValueError, match=r"is corrupted or truncated .*Delete it"):
        load_fashion_mnist(False, data_dir=folder)


def test_not_gzip_at_all(isolated):
    folder = isolated / "data"
    make_tiny_fashion_mnist(folder)
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(b"<html>404 Not Found</html>")
    with pytest.raises(ValueError, match=r"is corrupted or truncated"):
        load_fashion_mnist(False, data_dir=folder)


def test_missing_dataset_lists_places_and_fixes(isolated):
    with pytest.raises(FileNotFoundError) as info:
        paths.locate("fashion-mnist", isolated / "nowhere", download=False)
    message = str(info.value)
    assert "apt-get install dataset-fashion-mnist" in message
    assert str(isolated / "nowhere") in message and str(isolated / "system") in message


def test_labels():
    assert d2l.get_fashion_mnist_labels([0, 9, torch.tensor(3)]) == ["t-shirt", "ankle boot",
                                                                      "dress"]
    assert len(set(d2l.get_fashion_mnist_labels(range(10)))) == 10


@needs_real_data
def test_real_dataset_sizes_and_classes():
    for is_train, n, per_class in ((True, 60000, 6000), (False, 10000, 1000)):
        X, y = load_fashion_mnist(is_train)
        assert X.shape == (n, 1, 28, 28) and X.dtype == torch.float32
        assert y.shape == (n,) and y.dtype == torch.int64
        assert float(X.min()) == 0.0 and float(X.max()) == 1.0
        assert torch.bincount(y, minlength=10).tolist() == [per_class] * 10


@needs_real_data
def test_real_loaders():
    torch.manual_seed(0)
    train_iter, test_iter = d2l.load_data_fashion_mnist(256)
    assert (len(train_iter), len(test_iter)) == (235, 40)
    counts = torch.zeros(10, dtype=torch.int64)
    for X, y in train_iter:
        assert X.dtype == torch.float32 and y.dtype == torch.int64
        assert X.shape[1:] == (1, 28, 28) and len(X) == len(y) <= 256
        counts += torch.bincount(y, minlength=10)
    assert counts.tolist() == [6000] * 10
    first = torch.cat([y for _, y in train_iter])[:1000]
    second = torch.cat([y for _, y in train_iter])[:1000]
    assert not torch.equal(first, second)  # reshuffled every epoch
    test_first = torch.cat([y for _, y in test_iter])
    assert torch.equal(test_first, torch.cat([y for _, y in test_iter]))  # test set in order
    assert len(test_first) == 10000


@needs_real_data
def test_real_resize():
    X, _y = load_fashion_mnist(False, resize=64)
    assert X.shape == (10000, 1, 64, 64) and X.dtype == torch.float32
    assert float(X.min()) >= 0.0 and float(X.max()) <= 1.0


@needs_real_data
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss is KiB on Linux")
def test_resize_224_stays_small(tmp_path):
    # the book's chapter-7 setting: 60,000 images at 224 x 224 would be 12 GB at once
    code = ("import resource, d2lutils as d2l\n"
            "train_iter, test_iter = d2l.load_data_fashion_mnist(128, resize=224)\n"
            "for i, (X, y) in enumerate(train_iter):\n"
            "    assert X.shape == (128, 1, 224, 224)\n"
            "    if i == 3: break\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")
    import subprocess

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    peak_kib = int(done.stdout.split()[-1])  # Linux reports KiB
    assert peak_kib < 2 * 1024 ** 2, f"peak resident memory {peak_kib / 1024:.0f} MiB"
