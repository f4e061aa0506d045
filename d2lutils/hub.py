"""The book's DATA_HUB, and how its files arrive: verified, atomic downloads and copies,
and safe extraction.  Where files are looked for is the data rule's job (paths.py).

A file is written to a temporary name beside its destination, checked against its SHA-1,
and only then renamed: an interrupted or corrupted download never sits under the final name.
Files are created with the user's umask, so a shared data folder stays readable by all."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import secrets
import shutil
import tarfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

DATA_URL = "http://d2l-data.s3-accelerate.amazonaws.com/"
FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"

# name -> (url, sha1).  For a plain .gz file the SHA-1 may be of the file (as the book's
# entries are) or of its decompressed content (ours for Fashion-MNIST: mirrors, Debian among
# them, re-compress the same bytes differently); a file matching either is accepted.
DATA_HUB: dict[str, tuple[str, str | None]] = {
    "time_machine": (DATA_URL + "timemachine.txt", "090b5e7e70c295757f55df93cb0a180b9691891a"),
    "kaggle_house_train": (DATA_URL + "kaggle_house_pred_train.csv",
                           "585e9cc93e70b39160e7921475f9bcd7d31219ce"),
    "kaggle_house_test": (DATA_URL + "kaggle_house_pred_test.csv",
                          "fa19780a7b011d9b009e8bff8e99922a8ee2eb90"),
    "fashion_mnist_train_images": (FASHION_MNIST_URL + "train-images-idx3-ubyte.gz",
                                   "b9bd999c0106c9b8b4b0cefce58c9a6060f27095"),
    "fashion_mnist_train_labels": (FASHION_MNIST_URL + "train-labels-idx1-ubyte.gz",
                                   "4bccf37222e01638381eaa326bf730337a597267"),
    "fashion_mnist_test_images": (FASHION_MNIST_URL + "t10k-images-idx3-ubyte.gz",
                                  "880056926db704f9f713097915f99da346f5b1d1"),
    "fashion_mnist_test_labels": (FASHION_MNIST_URL + "t10k-labels-idx1-ubyte.gz",
                                  "958122e8b4b97fd4e71eca2d08ef754ed77c3ad9"),
}

_CHUNK = 1 << 20


def _is_plain_gzip(name: str) -> bool:
    return name.endswith(".gz") and not name.endswith(".tar.gz")


def file_sha1(path: Path, decompress: bool = False) -> str:
    """SHA-1 of a file's bytes, or of its decompressed content (decompress=True, for .gz)."""
    sha1 = hashlib.sha1()
    with (gzip.open(path, "rb") if decompress else open(path, "rb")) as f:
        while chunk := f.read(_CHUNK):
            sha1.update(chunk)
    return sha1.hexdigest()


def _matches(path: Path, sha1: str, name: str) -> tuple[bool, str]:
    """(whether path matches sha1, the hash seen); name decides whether it is a .gz file,
    so a temporary .part file is judged the way its final name will be."""
    got = file_sha1(path)
    if got == sha1 or not _is_plain_gzip(name):
        return got == sha1, got
    content = file_sha1(path, decompress=True)
    return content == sha1, f"{got} (decompressed: {content})"


def is_verified(path: Path, sha1: str | None) -> bool:
    """True if path is a file matching sha1 (any existing file when sha1 is None)."""
    path = Path(path)
    if not path.is_file():
        return False
    if sha1 is None:
        return True
    try:
        return _matches(path, sha1, path.name)[0]
    except (OSError, EOFError, gzip.BadGzipFile):
        return False


def _check_sha1(tmp: Path, dest: Path, sha1: str | None, what: str, fix: str) -> None:
    if sha1 is None:
        return
    try:
        ok, got = _matches(tmp, sha1, dest.name)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        ok, got = False, f"unreadable ({exc})"
    if not ok:
        raise OSError(f"{what} failed its SHA-1 check: expected {sha1}, got {got}. "
                      f"Nothing was saved. {fix}")


def _atomic_write(dest: Path, write: Callable[[BinaryIO], None], sha1: str | None, what: str,
                  fix: str) -> Path:
    """Call write(file) on a temp file beside dest, verify it, then rename it to dest."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / f".{dest.name}.{secrets.token_hex(6)}.part"
    # 0o666 minus the umask, as any new file: tempfile.mkstemp would make it 0o600, and a
    # data folder shared by a lab's users would then be readable by its first user only
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        _check_sha1(tmp, dest, sha1, what, fix)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def download_url(url: str, dest: Path, sha1: str | None = None, timeout: float = 60) -> Path:
    """Download url to dest with a progress bar, verified by sha1 and written atomically."""
    from tqdm import tqdm  # not tqdm.auto: it warns without ipywidgets

    dest = Path(dest)
    fix = (f"Retry, or download {url} yourself and put it at {dest} "
           f"(or in a folder named by $D2L_DATA_DIR).")

    def write(f: BinaryIO) -> None:
        try:
            response = urllib.request.urlopen(url, timeout=timeout)
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            raise OSError(f"Could not download {url}: {exc}. {fix}") from exc
        with response:
            total = int(response.headers.get("Content-Length") or 0) or None
            received = 0
            with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name,
                      leave=False) as bar:
                while True:
                    try:
                        chunk = response.read(_CHUNK)
                    except (OSError, ValueError, http.client.HTTPException) as exc:
                        # IncompleteRead, connection reset
                        raise OSError(f"Download of {url} was interrupted after "
                                      f"{received} bytes: {exc}. Nothing was saved. {fix}") from exc
                    if not chunk:
                        break
                    f.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
        if total is not None and received != total:
            raise OSError(f"Download of {url} was interrupted: got {received} of {total} bytes. "
                          f"Nothing was saved. {fix}")

    return _atomic_write(dest, write, sha1, f"Download of {url}", fix)


def copy_verified(src: Path, dest: Path, sha1: str | None = None) -> Path:
    """Copy src to dest atomically, verified by sha1 (used to stage local copies of data)."""
    src = Path(src)

    def write(f: BinaryIO) -> None:
        with open(src, "rb") as g:
            shutil.copyfileobj(g, f, _CHUNK)

    return _atomic_write(Path(dest), write, sha1, f"Copy of {src}",
                         f"Replace {src} with an intact copy.")


def _refuse_escapes(members: list[tuple[str, str]], folder: Path) -> None:
    """members: (member name, path it writes or points to, relative to folder)."""
    root = folder.resolve()
    for name, path in members:
        target = (root / path).resolve()
        if target != root and root not in target.parents:
            what = repr(name) if name == path else f"{name!r} (a link to {path!r})"
            raise ValueError(f"archive member {what} would be written outside {root}; "
                             f"refusing to extract this archive. Get it from a trusted source.")


def extract(archive: Path, folder: Path) -> None:
    """Extract a .zip or .tar(.gz) archive into folder, refusing members that escape it.

    Every member is checked before anything is written, so a refused archive leaves the
    folder as it was."""
    archive, folder = Path(archive), Path(folder)
    if archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as z:
            _refuse_escapes([(n, n) for n in z.namelist()], folder)
            z.extractall(folder)
    elif archive.name.endswith((".tar", ".tar.gz", ".tgz")):
        with tarfile.open(archive) as t:
            members = t.getmembers()
            _refuse_escapes([(m.name, m.name) for m in members], folder)
            # A symlink's target is relative to its own folder, a hard link's to the root.
            _refuse_escapes([(m.name, str(Path(m.name).parent / m.linkname)) for m in members
                             if m.issym()], folder)
            _refuse_escapes([(m.name, m.linkname) for m in members if m.islnk()], folder)
            for m in members:  # the stdlib's own rules (devices, odd modes, ...) first
                try:
                    tarfile.data_filter(m, str(folder))
                except tarfile.FilterError as exc:
                    raise ValueError(f"archive member {m.name!r} is unsafe to extract ({exc}); "
                                     f"refusing to extract this archive. Get it from a "
                                     f"trusted source.") from exc
            t.extractall(folder, filter="data")
    else:
        raise ValueError(f"archive should be a .zip, .tar, .tar.gz or .tgz file, but got "
                         f"archive={str(archive)!r}. Extract it by hand instead.")
