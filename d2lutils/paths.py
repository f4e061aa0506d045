"""The one data-directory rule, and the "where I looked" report when data is missing.

A dataset is looked for, in this order, in: the data_dir argument, $D2L_DATA_DIR, the
user data directory, system dataset folders (Debian's dataset-* packages); if it is in
none of them it is downloaded into the first writable of the first three.  In each
folder both <folder>/<dataset>/<file> and <folder>/<file> count."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from .download import DATA_HUB, copy_verified, download_url, is_verified

ENV_VAR = "D2L_DATA_DIR"


@dataclass(frozen=True)
class Dataset:
    """A dataset as a folder name plus the DATA_HUB entries of its files."""

    name: str
    hub_names: tuple[str, ...]
    system_dirs: tuple[str, ...] = ()
    apt_package: str | None = None

    def files(self) -> list[tuple[str, str, str]]:
        """(file name, url, sha1) of each file."""
        return [(DATA_HUB[n][0].split("/")[-1], *DATA_HUB[n]) for n in self.hub_names]


DATASETS = {
    "fashion-mnist": Dataset(
        "fashion-mnist",
        ("fashion_mnist_train_images", "fashion_mnist_train_labels",
         "fashion_mnist_test_images", "fashion_mnist_test_labels"),
        system_dirs=("/usr/share/datasets/fashion-mnist",),
        apt_package="dataset-fashion-mnist",
    ),
    "time-machine": Dataset("time-machine", ("time_machine",)),
}


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
    """The folders the rule searches, in order, as (where it came from, folder)."""
    roots = []
    if data_dir is not None:
        roots.append(("data_dir argument", Path(data_dir).expanduser()))
    if os.environ.get(ENV_VAR):
        roots.append((f"${ENV_VAR}", Path(os.environ[ENV_VAR]).expanduser()))
    roots.append(("user data directory", user_data_dir()))
    return roots


def _get(name: str) -> Dataset:
    if name not in DATASETS:
        known = ", ".join(sorted(DATASETS))
        raise KeyError(f"dataset should be one of {known}, but got dataset={name!r}.")
    return DATASETS[name]


def _find_in(folder: Path, dataset: Dataset) -> Path | None:
    """The folder holding every file of dataset: folder/<name>/ or folder itself."""
    for candidate in (folder / dataset.name, folder):
        found = [_existing(candidate, fname) for fname, _, _ in dataset.files()]
        if all(found):
            return candidate
    return None


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


def _search(dataset: Dataset, data_dir) -> tuple[Path | None, list[str]]:
    looked = []
    system = [("system dataset folder", Path(d)) for d in dataset.system_dirs]
    places = data_roots(data_dir) + system
    for label, root in places:
        for folder in (root, root / dataset.name):
            if folder.exists() and not os.access(folder, os.R_OK | os.X_OK):
                raise PermissionError(
                    f"the data folder {folder} ({label}) exists but cannot be read. Fix its "
                    f"permissions (chmod u+rx) or point {ENV_VAR} at another folder.")
        found = _find_in(root, dataset)
        if found is not None:
            return found, looked
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


def _writable_target(dataset: Dataset, data_dir) -> Path:
    return first_writable_root(data_dir) / dataset.name


def _fix_text(dataset: Dataset, looked: list[str], error: Exception | None) -> str:
    lines = [f"Dataset {dataset.name!r} was not found. Looked in:"]
    lines += [f"  - {place}" for place in looked]
    if error is not None:
        lines.append(f"and downloading it failed: {error}")
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

    If it is found nowhere, copy it from source (a folder with the files) or download it,
    verified, into the first writable data root."""
    dataset = _get(name)
    found, looked = _search(dataset, data_dir)
    if found is not None:
        return found
    if not download and source is None:
        raise FileNotFoundError(_fix_text(dataset, looked, None))
    target = _writable_target(dataset, data_dir)
    try:
        for fname, url, sha1 in dataset.files():
            if is_verified(target / fname, sha1):
                continue
            local = _existing(Path(source), fname) if source is not None else None
            if local is not None:  # keep its name: an uncompressed twin is hashed as is
                copy_verified(local, target / local.name, sha1)
            else:
                download_url(url, target / fname, sha1)
    except OSError as exc:
        raise FileNotFoundError(_fix_text(dataset, looked, exc)) from exc
    return target
