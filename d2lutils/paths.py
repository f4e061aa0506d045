"""The one data rule: where every data file is looked for, and where it goes when missing.

A file is looked for, in this order, in: the data_dir (cache_dir) argument, $D2L_DATA_DIR,
the user data directory, and its dataset's system folders (Debian's dataset-* packages).
In each folder both <folder>/<dataset>/<file> and <folder>/<file> count.  A missing file is
copied from a source folder (never the network) or downloaded, verified, into
<first writable of the first three>/<dataset>/.  locate() applies the rule to a whole
dataset, the book's download() to one DATA_HUB file; both use _places below."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from . import _checks
from .hub import DATA_HUB, copy_verified, download_url, extract, is_verified

ENV_VAR = "D2L_DATA_DIR"


@dataclass(frozen=True)
class Dataset:
    """A dataset as a folder name plus the DATA_HUB entries of its files."""

    name: str
    hub_names: tuple[str, ...]
    system_dirs: tuple[str, ...] = ()
    apt_package: str | None = None

    def files(self) -> list[tuple[str, str, str | None]]:
        """(file name, url, sha1) of each file."""
        return [(_file_name(n), *DATA_HUB[n]) for n in self.hub_names]


DATASETS = {
    "fashion-mnist": Dataset(
        "fashion-mnist",
        ("fashion_mnist_train_images", "fashion_mnist_train_labels",
         "fashion_mnist_test_images", "fashion_mnist_test_labels"),
        system_dirs=("/usr/share/datasets/fashion-mnist",),
        apt_package="dataset-fashion-mnist",
    ),
    "kaggle-house": Dataset("kaggle-house", ("kaggle_house_train", "kaggle_house_test")),
    "time-machine": Dataset("time-machine", ("time_machine",)),
}


def _file_name(hub_name: str) -> str:
    return DATA_HUB[hub_name][0].split("/")[-1]


def user_data_dir() -> Path:
    """The per-user data folder: ~/.cache/d2lutils on Linux ($XDG_CACHE_HOME honoured),
    ~/Library/Caches/d2lutils on macOS, %LOCALAPPDATA%\\d2lutils on Windows."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "d2lutils"


def data_roots(data_dir: str | os.PathLike | None = None) -> list[tuple[str, Path]]:
    """The writable-in-principle folders of the rule, in order, as (where from, folder)."""
    roots = []
    if data_dir is not None:
        roots.append(("data_dir argument", Path(data_dir).expanduser()))
    if os.environ.get(ENV_VAR):
        roots.append((f"${ENV_VAR}", Path(os.environ[ENV_VAR]).expanduser()))
    roots.append(("user data directory", user_data_dir()))
    return roots


def _places(dataset: Dataset | None, data_dir: str | os.PathLike | None
            ) -> list[tuple[str, Path, list[Path]]]:
    """Every place of the rule: (where from, root, its folders to look in, in order)."""
    system = [("system dataset folder", Path(d)) for d in (dataset.system_dirs if dataset
                                                           else ())]
    places = []
    for label, root in data_roots(data_dir) + system:
        folders = [root / dataset.name, root] if dataset else [root]
        for folder in folders:
            if folder.exists() and not os.access(folder, os.R_OK | os.X_OK):
                raise PermissionError(
                    f"the data folder {folder} ({label}) exists but cannot be read. Fix its "
                    f"permissions (chmod u+rx) or point {ENV_VAR} at another folder.")
        places.append((label, root, folders))
    return places


def _get(name: str) -> Dataset:
    if name not in DATASETS:
        known = ", ".join(sorted(DATASETS))
        _checks.fail(ValueError, "dataset", f"one of {known}", name,
                     "Run `python -m d2lutils data where` to list them.")
    return DATASETS[name]


def _existing(folder: Path, fname: str) -> Path | None:
    """folder/fname, or its uncompressed twin (train-images-idx3-ubyte for ...-ubyte.gz)."""
    for name in (fname, fname.removesuffix(".gz")):
        if (folder / name).is_file():
            return folder / name
    return None


def dataset_file(folder: Path, fname: str) -> Path:
    """Path of fname (or its uncompressed twin) inside a folder that locate() returned."""
    path = _existing(Path(folder), fname)
    if path is None:
        raise FileNotFoundError(f"{fname} is missing from {folder}; run "
                                f"`python -m d2lutils data verify` to see what is wrong.")
    return path


def _search(dataset: Dataset, data_dir: str | os.PathLike | None
            ) -> tuple[Path | None, list[str]]:
    """The first folder holding every file of dataset, and the places looked in."""
    looked: list[str] = []
    for label, root, folders in _places(dataset, data_dir):
        for folder in folders:
            if all(_existing(folder, fname) for fname, _, _ in dataset.files()):
                return folder, looked
        state = "" if root.exists() else " (does not exist)"
        looked.append(f"{root / dataset.name}  [{label}]{state}")
    return None, looked


def where(name: str, data_dir: str | os.PathLike | None = None) -> Path | None:
    """The folder where dataset name is found by the rule, or None; never downloads."""
    return _search(_get(name), data_dir)[0]


def first_writable_root(data_dir: str | os.PathLike | None = None) -> Path:
    """The first of data_dir, $D2L_DATA_DIR and the user data directory that can be
    written to (created if missing): where downloads go."""
    for _, root in data_roots(data_dir):
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(root, os.W_OK):
            return root
    raise PermissionError(f"none of {[str(r) for _, r in data_roots(data_dir)]} is writable; "
                          f"set {ENV_VAR} to a folder you can write to.")


def _fix_text(dataset: Dataset, looked: list[str], error: Exception | None,
              source: str | os.PathLike | None = None) -> str:
    lines = [f"Dataset {dataset.name!r} was not found. Looked in:"]
    lines += [f"  - {place}" for place in looked]
    if error is not None:
        how = f"copying it from {source}" if source is not None else "downloading it"
        lines.append(f"and {how} failed: {error}")
    lines.append("Fix it in one of these ways:")
    if dataset.apt_package:
        lines.append(f"  - on Debian/Ubuntu: sudo apt-get install {dataset.apt_package}")
    lines.append("  - with internet: python -m d2lutils data fetch")
    files = ", ".join(url for _, url, _ in dataset.files())
    lines.append(f"  - download {files} by hand into a folder and set {ENV_VAR} to it "
                 f"(or put the files in {user_data_dir() / dataset.name})")
    return "\n".join(lines)


def locate(name: str, data_dir: str | os.PathLike | None = None,
           download: bool = True, source: str | os.PathLike | None = None) -> Path:
    """Return the folder holding dataset name, following the rule above.

    If it is found nowhere, copy it from source (a folder holding the files, directly or in
    a <dataset>/ sub-folder; never the network), else download it if download is true,
    verified, into the first writable data root."""
    dataset = _get(name)
    found, looked = _search(dataset, data_dir)
    if found is not None:
        return found
    if source is None and not download:
        raise FileNotFoundError(_fix_text(dataset, looked, None))
    target = first_writable_root(data_dir) / dataset.name
    try:
        for fname, url, sha1 in dataset.files():
            if is_verified(target / fname, sha1):
                continue
            if source is None:
                download_url(url, target / fname, sha1)
                continue
            local = _existing(Path(source) / dataset.name, fname) or \
                _existing(Path(source), fname)
            if local is None:
                raise FileNotFoundError(
                    f"{fname} is not in the source folder {source} (nor in its "
                    f"{dataset.name}/ sub-folder), and a source means: do not download. Put "
                    f"the file there, or fetch without --source to download it.")
            copy_verified(local, target / local.name, sha1)  # a twin keeps its own name
    except OSError as exc:
        raise FileNotFoundError(_fix_text(dataset, looked, exc, source)) from exc
    return target


# ---------------------------------------------------------- the book's download functions


def _dataset_of(hub_name: str) -> Dataset | None:
    return next((d for d in DATASETS.values() if hub_name in d.hub_names), None)


def download(name: str, cache_dir: str | os.PathLike | None = None) -> str:
    """Return the local path of the DATA_HUB file name, downloading it only if needed.

    A verified copy is looked for by the data rule (cache_dir first), in every place and
    layout where() looks; if there is none, the file is downloaded into
    <first writable root>/<dataset>/ (the root itself for a file of no known dataset)."""
    if name not in DATA_HUB:
        known = ", ".join(sorted(DATA_HUB))
        _checks.fail(ValueError, "name", "a key of DATA_HUB", name,
                     f"Known names: {known}. Register a new file with "
                     f"DATA_HUB[name] = (url, sha1).")
    url, sha1 = DATA_HUB[name]
    fname = _file_name(name)
    dataset = _dataset_of(name)
    for _, _, folders in _places(dataset, cache_dir):
        for folder in folders:
            path = _existing(folder, fname)
            if path is not None and is_verified(path, sha1):
                return str(path)
    target = first_writable_root(cache_dir)
    target = target / dataset.name if dataset else target
    return str(download_url(url, target / fname, sha1))


def download_extract(name: str, folder: str | None = None) -> str:
    """Download a DATA_HUB archive, extract it beside itself, and return the folder."""
    archive = Path(download(name))
    data_dir = archive.name
    for suffix in (".zip", ".tar.gz", ".tgz", ".tar"):
        data_dir = data_dir.removesuffix(suffix)
    extract(archive, archive.parent)
    return str(archive.parent / folder) if folder else str(archive.parent / data_dir)


def download_all() -> None:
    """Download every file in DATA_HUB that is not found locally (the book's helper)."""
    for name in DATA_HUB:
        download(name)
