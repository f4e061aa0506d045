"""The book's DATA_HUB, plus downloads that are verified and atomic.

A file is written to a temporary name beside its destination, checked against its SHA-1,
and only then renamed: an interrupted or corrupted download never sits under the final name."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

DATA_URL = "http://d2l-data.s3-accelerate.amazonaws.com/"
FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"

# name -> (url, sha1).  For a plain .gz file the SHA-1 is of its decompressed content,
# because mirrors (Debian among them) re-compress the same bytes differently.
DATA_HUB: dict[str, tuple[str, str]] = {
    "time_machine": (DATA_URL + "timemachine.txt", "090b5e7e70c295757f55df93cb0a180b9691891a"),
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


def file_sha1(path: Path, name: str | None = None) -> str:
    """SHA-1 of a file; a plain .gz file is hashed after decompression (see DATA_HUB).

    name (default: the file's own name) decides whether it is a .gz file, so a temporary
    .part file is hashed the way its final name will be."""
    path = Path(path)
    name = name or path.name
    is_gzip = name.endswith(".gz") and not name.endswith(".tar.gz")
    sha1 = hashlib.sha1()
    with (gzip.open(path, "rb") if is_gzip else open(path, "rb")) as f:
        while chunk := f.read(_CHUNK):
            sha1.update(chunk)
    return sha1.hexdigest()


def is_verified(path: Path, sha1: str | None) -> bool:
    """True if path exists and matches sha1 (any existing file when sha1 is None)."""
    path = Path(path)
    if not path.is_file():
        return False
    if sha1 is None:
        return True
    try:
        return file_sha1(path) == sha1
    except (OSError, EOFError, gzip.BadGzipFile):
        return False


def _check_sha1(tmp: Path, dest: Path, sha1: str | None, what: str, fix: str) -> None:
    if sha1 is None:
        return
    try:
        got = file_sha1(tmp, dest.name)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        got = f"unreadable ({exc})"
    if got != sha1:
        raise OSError(f"{what} failed its SHA-1 check: expected {sha1}, got {got}. "
                      f"Nothing was saved. {fix}")


def _atomic_write(dest: Path, write, sha1: str | None, what: str, fix: str) -> Path:
    """Call write(file) on a temp file beside dest, verify it, then rename it to dest."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
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

    def write(f):
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

    def write(f):
        with open(src, "rb") as g:
            shutil.copyfileobj(g, f, _CHUNK)

    return _atomic_write(Path(dest), write, sha1, f"Copy of {src}",
                         f"Replace {src} with an intact copy.")


def download(name: str, cache_dir: str | os.PathLike | None = None) -> str:
    """Return the local path of a DATA_HUB file, downloading it only if needed.

    A verified copy is looked for by the data-directory rule (cache_dir, $D2L_DATA_DIR,
    the user data directory); if there is none, the file is downloaded into the first
    of those folders that is writable."""
    from .paths import data_roots, first_writable_root

    if name not in DATA_HUB:
        known = ", ".join(sorted(DATA_HUB))
        raise KeyError(f"name should be a key of DATA_HUB, but got name={name!r}. "
                       f"Known names: {known}. Register new files with "
                       f"DATA_HUB[name] = (url, sha1).")
    url, sha1 = DATA_HUB[name]
    fname = url.split("/")[-1]
    for _, root in data_roots(cache_dir):
        if is_verified(root / fname, sha1):
            return str(root / fname)
    return str(download_url(url, first_writable_root(cache_dir) / fname, sha1))


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


def download_extract(name: str, folder: str | None = None) -> str:
    """Download a DATA_HUB archive, extract it beside itself, and return the folder."""
    archive = Path(download(name))
    base_dir = archive.parent
    data_dir = archive.name
    for suffix in (".zip", ".tar.gz", ".tgz", ".tar"):
        data_dir = data_dir.removesuffix(suffix)
    extract(archive, base_dir)
    return str(base_dir / folder) if folder else str(base_dir / data_dir)
