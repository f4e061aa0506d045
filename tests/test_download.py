"""hub.py and the book's download functions: real downloads from a loopback HTTP server,
verified atomic writes, and safe archive extraction."""

import gzip
import hashlib
import importlib
import io
import os
import sys
import tarfile
import zipfile

import pytest
from _loopback import LoopbackServer

import d2lutils as d2l

# The module, not the function d2lutils.download that shadows its name on the package.
dl = importlib.import_module("d2lutils.hub")

BODY = b"It was the best of times, it was the worst of times.\n" * 2000
BODY_SHA1 = hashlib.sha1(BODY).hexdigest()


@pytest.fixture
def server():
    with LoopbackServer() as s:
        s.files["/book.txt"] = BODY
        yield s


@pytest.fixture
def cache(data_home):
    """The user data directory, moved into tmp_path on every platform."""
    return data_home


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_url_success(server, tmp_path):
    dest = tmp_path / "out" / "book.txt"
    assert dl.download_url(server.url("/book.txt"), dest, BODY_SHA1) == dest
    assert dest.read_bytes() == BODY
    assert _leftovers(dest.parent) == ["book.txt"]  # no .part file left behind
    assert server.requests == ["/book.txt"]


def test_download_without_content_length(server, tmp_path):
    server.no_length.add("/book.txt")
    dest = dl.download_url(server.url("/book.txt"), tmp_path / "book.txt", BODY_SHA1)
    assert dest.read_bytes() == BODY


def test_hash_mismatch_leaves_nothing(server, tmp_path):
    dest = tmp_path / "book.txt"
    with pytest.raises(OSError, match=f"failed its SHA-1 check: expected {'0' * 40}, "
                                      f"got {BODY_SHA1}. Nothing was saved"):
        dl.download_url(server.url("/book.txt"), dest, "0" * 40)
    assert _leftovers(tmp_path) == []


def test_failed_download_keeps_the_old_file(server, tmp_path):
    dest = tmp_path / "book.txt"
    dest.write_bytes(b"an older copy")
    with pytest.raises(OSError, match="SHA-1"):
        dl.download_url(server.url("/book.txt"), dest, "0" * 40)
    assert dest.read_bytes() == b"an older copy"
    assert _leftovers(tmp_path) == ["book.txt"]


def test_interrupted_download_leaves_nothing(server, tmp_path):
    server.cut_short.add("/book.txt")
    dest = tmp_path / "book.txt"
    with pytest.raises(OSError, match=rf"was interrupted.*{len(BODY) // 2} of {len(BODY)} bytes"):
        dl.download_url(server.url("/book.txt"), dest, BODY_SHA1)
    assert _leftovers(tmp_path) == []


def test_interrupted_download_without_hash_still_fails(server, tmp_path):
    # The Content-Length alone catches the short body when there is no hash to check.
    server.cut_short.add("/book.txt")
    with pytest.raises(OSError, match="was interrupted"):
        dl.download_url(server.url("/book.txt"), tmp_path / "book.txt")
    assert _leftovers(tmp_path) == []


def test_missing_file_on_server(server, tmp_path):
    with pytest.raises(OSError, match=r"Could not download .*/nothing.txt: HTTP Error 404.*Retry"):
        dl.download_url(server.url("/nothing.txt"), tmp_path / "nothing.txt")
    assert _leftovers(tmp_path) == []


def test_download_reuses_a_verified_cache(server, cache, monkeypatch):
    monkeypatch.setitem(dl.DATA_HUB, "book", (server.url("/book.txt"), BODY_SHA1))
    first = d2l.download("book")
    assert first == str(cache / "book.txt")
    second = d2l.download("book")
    assert second == first
    assert server.requests == ["/book.txt"]  # the second call asked for nothing


def test_download_into_cache_dir(server, cache, tmp_path, monkeypatch):
    monkeypatch.setitem(dl.DATA_HUB, "book", (server.url("/book.txt"), BODY_SHA1))
    path = d2l.download("book", cache_dir=tmp_path / "mine")
    assert path == str(tmp_path / "mine" / "book.txt")
    assert d2l.download("book", cache_dir=str(tmp_path / "mine")) == path
    assert len(server.requests) == 1


def test_download_follows_the_data_directory_rule(server, cache, tmp_path, monkeypatch):
    monkeypatch.setitem(dl.DATA_HUB, "book", (server.url("/book.txt"), BODY_SHA1))
    env_dir = tmp_path / "env"
    monkeypatch.setenv("D2L_DATA_DIR", str(env_dir))
    # Missing everywhere: downloaded into $D2L_DATA_DIR, the first writable place
    assert d2l.download("book") == str(env_dir / "book.txt")
    # A verified copy in $D2L_DATA_DIR is used even when cache_dir is given (offline use)
    assert d2l.download("book", cache_dir=tmp_path / "empty") == str(env_dir / "book.txt")
    assert server.requests == ["/book.txt"]
    # A copy under cache_dir comes first
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "book.txt").write_bytes(BODY)
    assert d2l.download("book", cache_dir=tmp_path / "mine") == str(tmp_path / "mine" /
                                                                    "book.txt")
    assert len(server.requests) == 1
    assert not cache.exists()  # the user cache was never needed


def test_download_replaces_a_corrupt_cache(server, cache, monkeypatch):
    monkeypatch.setitem(dl.DATA_HUB, "book", (server.url("/book.txt"), BODY_SHA1))
    cache.mkdir(parents=True)
    (cache / "book.txt").write_bytes(BODY[:100])  # e.g. left by an old, unsafe tool
    path = d2l.download("book")
    assert open(path, "rb").read() == BODY
    assert server.requests == ["/book.txt"]


def test_download_unknown_name():
    with pytest.raises(ValueError, match="name should be a key of DATA_HUB, but got name='nope'"
                                         r"\. Known names: .*kaggle_house_train.*DATA_HUB\[name\]"):
        d2l.download("nope")


def test_book_style_gz_entries_are_verified_by_the_file_too(server, tmp_path):
    # The book's DATA_HUB holds the SHA-1 of the .gz file itself: that is accepted as well
    packed = gzip.compress(BODY, mtime=1)
    server.files["/c.gz"] = packed
    dest = dl.download_url(server.url("/c.gz"), tmp_path / "c.gz", hashlib.sha1(packed).hexdigest())
    assert dl.is_verified(dest, hashlib.sha1(packed).hexdigest())
    assert dl.is_verified(dest, BODY_SHA1)  # and its content's
    assert not dl.is_verified(dest, "0" * 40)


@pytest.mark.skipif(not hasattr(os, "umask"), reason="no umask on this platform")
@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664)])
def test_new_files_follow_the_umask(server, tmp_path, umask, mode):
    # A data folder shared by a lab's users must stay readable: no 0600 temp-file modes
    old = os.umask(umask)
    try:
        dest = dl.download_url(server.url("/book.txt"), tmp_path / "book.txt", BODY_SHA1)
        copy = dl.copy_verified(dest, tmp_path / "copy" / "book.txt", BODY_SHA1)
    finally:
        os.umask(old)
    assert dest.stat().st_mode & 0o777 == mode
    assert copy.stat().st_mode & 0o777 == mode


def test_download_all(server, cache, monkeypatch):
    server.files["/c.txt"] = b"c"
    monkeypatch.setattr(dl, "DATA_HUB", {})  # only the two entries below
    import d2lutils.paths as paths

    monkeypatch.setattr(paths, "DATA_HUB", dl.DATA_HUB)
    dl.DATA_HUB["book"] = (server.url("/book.txt"), BODY_SHA1)
    dl.DATA_HUB["c"] = (server.url("/c.txt"), hashlib.sha1(b"c").hexdigest())
    assert d2l.download_all() is None
    assert sorted(server.requests) == ["/book.txt", "/c.txt"]
    assert (cache / "c.txt").read_bytes() == b"c"
    d2l.download_all()
    assert len(server.requests) == 2  # both found: nothing asked for


def test_gz_files_are_verified_by_their_content(server, tmp_path):
    # Mirrors recompress the same bytes differently, so a .gz file is hashed decompressed.
    server.files["/a.gz"] = gzip.compress(BODY, compresslevel=1, mtime=1)
    server.files["/b.gz"] = gzip.compress(BODY, compresslevel=9, mtime=2)
    assert server.files["/a.gz"] != server.files["/b.gz"]
    for name in ("a.gz", "b.gz"):
        dest = dl.download_url(server.url("/" + name), tmp_path / name, BODY_SHA1)
        assert dl.is_verified(dest, BODY_SHA1)


def test_tqdm_progress_goes_to_stderr(server, tmp_path, capfd):
    dl.download_url(server.url("/book.txt"), tmp_path / "book.txt", BODY_SHA1)
    err = capfd.readouterr().err
    assert "book.txt" in err and "B" in err  # the bar's description and unit


def test_tqdm_with_a_notebook_like_stderr(server, tmp_path, monkeypatch):
    # In Jupyter sys.stderr is not a terminal (an OutStream); the bar must still work.
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    dest = dl.download_url(server.url("/book.txt"), tmp_path / "book.txt", BODY_SHA1)
    assert dest.read_bytes() == BODY
    assert "book.txt" in stream.getvalue()


def test_copy_verified(tmp_path):
    src = tmp_path / "src.txt"
    src.write_bytes(BODY)
    dl.copy_verified(src, tmp_path / "out" / "dst.txt", BODY_SHA1)
    assert (tmp_path / "out" / "dst.txt").read_bytes() == BODY
    with pytest.raises(OSError, match=r"Copy of .*src.txt failed its SHA-1 check"):
        dl.copy_verified(src, tmp_path / "out2" / "dst.txt", "1" * 40)
    assert _leftovers(tmp_path / "out2") == []


# --- download_extract ---------------------------------------------------------------------

def _zip(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in members:
            z.writestr(name, data)
    return buffer.getvalue()


def _tar(members):
    """members: (name, data) for files, (name, ('sym' | 'hard', target)) for links,
    (name, ('device', '')) for a character device."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if isinstance(data, tuple):
                info.type = {"sym": tarfile.SYMTYPE, "hard": tarfile.LNKTYPE,
                             "device": tarfile.CHRTYPE}[data[0]]
                info.linkname = data[1]
                t.addfile(info)
            else:
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _serve_archive(server, monkeypatch, name, payload):
    server.files["/" + name] = payload
    monkeypatch.setitem(dl.DATA_HUB, "archive",
                        (server.url("/" + name), hashlib.sha1(payload).hexdigest()))


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_download_extract(server, cache, monkeypatch, kind):
    members = [("hotdog/train/a.txt", b"a"), ("hotdog/test/b.txt", b"b")]
    payload = _zip(members) if kind == "zip" else _tar(members)
    _serve_archive(server, monkeypatch, f"hotdog.{kind}", payload)
    folder = d2l.download_extract("archive")
    assert folder == str(cache / "hotdog")
    assert open(os.path.join(folder, "train", "a.txt"), "rb").read() == b"a"
    assert d2l.download_extract("archive", "hotdog/test") == str(cache / "hotdog" / "test")
    assert len(server.requests) == 1  # the archive was downloaded once


ESCAPES = {
    "zip-parent": ("zip", [("ok.txt", b"ok"), ("../evil.txt", b"evil")]),
    "zip-absolute": ("zip", [("/tmp/d2l-evil-abs.txt", b"evil")]),
    "tar-parent": ("tar.gz", [("ok.txt", b"ok"), ("../evil.txt", b"evil")]),
    "tar-nested-parent": ("tar.gz", [("a/../../evil.txt", b"evil")]),
    "tar-absolute": ("tar.gz", [("/tmp/d2l-evil-abs.txt", b"evil")]),
    "tar-symlink-out": ("tar.gz", [("link", ("sym", "../outside"))]),
    "tar-symlink-absolute": ("tar.gz", [("link", ("sym", "/etc"))]),
    "tar-symlink-then-write": ("tar.gz", [("link", ("sym", "..")), ("link/evil.txt", b"evil")]),
    "tar-hardlink-out": ("tar.gz", [("hard", ("hard", "../outside.txt"))]),
    # A hard link's target is relative to the archive root, not to the link's folder.
    "tar-nested-hardlink-out": ("tar.gz", [("a/b/hard", ("hard", "../../outside.txt"))]),
}


@pytest.mark.parametrize("case", sorted(ESCAPES))
def test_download_extract_refuses_escaping_members(server, cache, monkeypatch, case):
    kind, members = ESCAPES[case]
    payload = _zip(members) if kind == "zip" else _tar(members)
    _serve_archive(server, monkeypatch, f"evil.{kind}", payload)
    with pytest.raises(ValueError, match=r"would be written outside .*refusing to extract"):
        d2l.download_extract("archive")
    # Nothing was extracted at all: only the downloaded archive sits in the cache.
    assert _leftovers(cache) == [f"evil.{kind}"]
    assert not (cache.parent / "evil.txt").exists()
    assert not os.path.exists("/tmp/d2l-evil-abs.txt")


def test_download_extract_refuses_device_files(server, cache, monkeypatch):
    _serve_archive(server, monkeypatch, "dev.tgz", _tar([("ok.txt", b"ok"),
                                                          ("null", ("device", ""))]))
    with pytest.raises(ValueError, match="archive member 'null' is unsafe to extract"):
        d2l.download_extract("archive")
    assert _leftovers(cache) == ["dev.tgz"]


def test_download_extract_tgz_folder_name(server, cache, monkeypatch):
    _serve_archive(server, monkeypatch, "kaggle.tgz", _tar([("kaggle/a.csv", b"1,2\n")]))
    assert d2l.download_extract("archive") == str(cache / "kaggle")
    assert (cache / "kaggle" / "a.csv").read_bytes() == b"1,2\n"


def test_extract_refuses_other_formats(tmp_path):
    archive = tmp_path / "data.rar"
    archive.write_bytes(b"Rar!")
    with pytest.raises(ValueError, match=r"archive should be a .zip, .tar, .tar.gz or .tgz file"):
        dl.extract(archive, tmp_path)
