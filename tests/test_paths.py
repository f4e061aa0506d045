"""paths.py: the data-directory rule, in order, and the "looked in" report."""

import dataclasses
import hashlib
import importlib
import os
import re
import sys

import pytest
from _loopback import LoopbackServer

from d2lutils import paths

dl = importlib.import_module("d2lutils.hub")  # the module, not d2lutils.download()

TEXT = b"The Time Traveller (for so it will be convenient to speak of him)\n" * 100
TEXT_SHA1 = hashlib.sha1(TEXT).hexdigest()
FNAME = "timemachine.txt"


@pytest.fixture
def places(tmp_path, monkeypatch):
    """Every place of the rule moved into tmp_path, and time-machine served on loopback."""
    where = {"arg": tmp_path / "arg", "env": tmp_path / "env",
             "user": tmp_path / "home" / "d2lutils", "system": tmp_path / "system"}
    monkeypatch.setenv("D2L_DATA_DIR", str(where["env"]))
    for var in ("XDG_CACHE_HOME", "LOCALAPPDATA", "HOME"):
        monkeypatch.setenv(var, str(tmp_path / "home"))
    monkeypatch.setattr(paths, "user_data_dir", lambda: where["user"])
    for name in ("time-machine", "fashion-mnist"):
        monkeypatch.setitem(paths.DATASETS, name, dataclasses.replace(
            paths.DATASETS[name], system_dirs=(str(where["system"]),)))
    with LoopbackServer() as server:
        server.files["/timemachine.txt"] = TEXT
        monkeypatch.setitem(dl.DATA_HUB, "time_machine",
                            (server.url("/timemachine.txt"), TEXT_SHA1))
        where["server"] = server
        yield where


def _put(folder, nested=True):
    folder = folder / "time-machine" if nested else folder
    folder.mkdir(parents=True, exist_ok=True)
    (folder / FNAME).write_bytes(TEXT)
    return folder


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="XDG_CACHE_HOME is Linux's rule")
def test_user_data_dir_honours_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert paths.user_data_dir() == tmp_path / "d2lutils"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "h"))
    assert paths.user_data_dir() == tmp_path / "h" / ".cache" / "d2lutils"


def test_rule_order(places):
    server = places["server"]
    found = {key: _put(places[key], nested=key != "system")
             for key in ("arg", "env", "user", "system")}
    # argument -> $D2L_DATA_DIR -> user cache -> system folder
    for key in ("arg", "env", "user", "system"):
        assert paths.where("time-machine", places["arg"]) == found[key]
        assert paths.locate("time-machine", places["arg"]) == found[key]
        (found[key] / FNAME).unlink()
    assert paths.where("time-machine", places["arg"]) is None
    assert server.requests == []
    # -> download, verified, into the first writable place: the argument's folder
    folder = paths.locate("time-machine", places["arg"])
    assert folder == places["arg"] / "time-machine"
    assert (folder / FNAME).read_bytes() == TEXT
    assert server.requests == ["/timemachine.txt"]
    assert paths.locate("time-machine", places["arg"]) == folder  # found now: no request
    assert len(server.requests) == 1


def test_download_goes_to_env_then_user_cache(places, monkeypatch):
    assert paths.locate("time-machine") == places["env"] / "time-machine"
    monkeypatch.delenv("D2L_DATA_DIR")
    assert paths.locate("time-machine") == places["user"] / "time-machine"
    assert len(places["server"].requests) == 2


def test_data_dir_accepts_str_and_tilde(places, monkeypatch):
    _put(places["arg"])
    assert paths.where("time-machine", str(places["arg"])) == places["arg"] / "time-machine"
    monkeypatch.setenv("HOME", str(places["arg"].parent))
    monkeypatch.setenv("USERPROFILE", str(places["arg"].parent))
    assert paths.where("time-machine", "~/arg") == places["arg"] / "time-machine"


def test_env_var_alone(places):
    folder = _put(places["env"], nested=False)  # files straight in $D2L_DATA_DIR count too
    assert paths.where("time-machine") == folder


def test_uncompressed_twins_count(places):
    folder = places["arg"] / "fashion-mnist"
    folder.mkdir(parents=True)
    for fname, _, _ in paths.DATASETS["fashion-mnist"].files():
        (folder / fname.removesuffix(".gz")).write_bytes(b"")
    assert paths.where("fashion-mnist", places["arg"]) == folder
    assert paths.dataset_file(folder, "train-images-idx3-ubyte.gz").name == \
        "train-images-idx3-ubyte"


def test_looked_in_lists_every_place_and_every_fix(places):
    with pytest.raises(FileNotFoundError) as info:
        paths.locate("fashion-mnist", places["arg"], download=False)
    message = str(info.value)
    assert message.startswith("Dataset 'fashion-mnist' was not found. Looked in:")
    for key, label in (("arg", "data_dir argument"), ("env", "$D2L_DATA_DIR"),
                       ("user", "user data directory"), ("system", "system dataset folder")):
        assert f"{places[key] / 'fashion-mnist'}  [{label}] (does not exist)" in message
    assert "sudo apt-get install dataset-fashion-mnist" in message
    assert "python -m d2lutils data fetch" in message
    assert "set D2L_DATA_DIR" in message
    for _, url, _ in paths.DATASETS["fashion-mnist"].files():
        assert url in message


def test_failed_download_is_reported_with_the_places(places):
    places["server"].files.clear()  # the server answers 404
    with pytest.raises(FileNotFoundError) as info:
        paths.locate("time-machine", places["arg"])
    message = str(info.value)
    assert "Looked in:" in message and str(places["system"] / "time-machine") in message
    assert "downloading it failed: Could not download" in message and "404" in message
    assert not (places["arg"] / "time-machine" / FNAME).exists()
    assert os.listdir(places["arg"] / "time-machine") == []  # no .part leftovers


def test_corrupt_download_is_refused(places):
    places["server"].files["/timemachine.txt"] = TEXT[:-1] + b"!"
    with pytest.raises(FileNotFoundError, match="failed its SHA-1 check"):
        paths.locate("time-machine", places["arg"])
    assert os.listdir(places["arg"] / "time-machine") == []


def test_source_folder_is_copied_verified(places, tmp_path):
    source = _put(tmp_path / "src", nested=False)
    assert paths.locate("time-machine", places["arg"], source=source) == \
        places["arg"] / "time-machine"
    assert places["server"].requests == []  # copied, not downloaded
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / FNAME).write_bytes(b"not the book")
    with pytest.raises(FileNotFoundError, match=r"Copy of .*timemachine.txt failed its SHA-1"):
        paths.locate("time-machine", tmp_path / "other", source=bad)
    assert os.listdir(tmp_path / "other" / "time-machine") == []


def test_debian_files_can_be_staged(places):
    debian = "/usr/share/datasets/fashion-mnist"
    if not os.path.isdir(debian):
        pytest.skip("dataset-fashion-mnist is not installed")
    folder = paths.locate("fashion-mnist", places["arg"], source=debian)
    assert folder == places["arg"] / "fashion-mnist"
    for fname, _, sha1 in paths.DATASETS["fashion-mnist"].files():
        assert dl.is_verified(folder / fname, sha1)


def test_unknown_dataset():
    with pytest.raises(ValueError, match=r"dataset should be one of fashion-mnist, kaggle-house, "
                                         r"time-machine, but got dataset='mnist'. Run `python"):
        paths.where("mnist")


def test_a_source_never_means_the_network(places, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    for download in (False, True):
        with pytest.raises(FileNotFoundError, match=r"is not in the source folder .* a source "
                                                    r"means: do not download"):
            paths.locate("time-machine", places["arg"], download=download, source=empty)
    assert places["server"].requests == []


def test_a_source_may_hold_the_dataset_folder(places, tmp_path):
    source = _put(tmp_path / "src", nested=True).parent  # src/time-machine/timemachine.txt
    assert paths.locate("time-machine", places["arg"], download=False, source=source) == \
        places["arg"] / "time-machine"
    assert places["server"].requests == []


@pytest.mark.parametrize("key, nested", [("arg", True), ("arg", False), ("env", True),
                                         ("user", True), ("system", True), ("system", False)])
def test_the_books_download_agrees_with_where(places, key, nested):
    # d2l.download(name) looks in every place and layout where() looks
    folder = _put(places[key], nested=nested)
    assert paths.where("time-machine", places["arg"]) == folder
    assert paths.download("time_machine", places["arg"]) == str(folder / FNAME)
    assert places["server"].requests == []


def test_the_books_download_uses_the_dataset_folder(places):
    path = paths.download("time_machine", places["arg"])
    assert path == str(places["arg"] / "time-machine" / FNAME)  # as `data fetch` puts it
    assert paths.where("time-machine", places["arg"]) == places["arg"] / "time-machine"
    assert places["server"].requests == ["/timemachine.txt"]


def test_no_import_cycle_between_the_rule_and_the_hub():
    import ast
    from pathlib import Path

    package = Path(paths.__file__).parent
    graph = {}
    for module in package.glob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        graph[module.stem] = {node.module.split(".")[0] if node.module else alias.name
                              for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                              and node.level == 1 for alias in node.names}

    def reaches(start, goal, seen=()):
        return any(n == goal or (n not in seen and reaches(n, goal, (*seen, n)))
                   for n in graph.get(start, ()))

    cycles = [m for m in graph if m != "__init__" and reaches(m, m)]
    assert cycles == [], f"modules importing themselves through others: {cycles}"


def _deny(monkeypatch, denied, mode_bit):
    """Make os.access say no for `denied` (as chmod would for a non-root user)."""
    real_access = os.access

    def access(path, mode, *args, **kwargs):
        if os.fspath(path) == os.fspath(denied) and mode & mode_bit:
            return False
        return real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)


@pytest.mark.parametrize("nested", [False, True], ids=["root", "dataset-folder"])
def test_unreadable_data_directory_simulated(places, monkeypatch, nested):
    folder = _put(places["env"])
    denied = folder if nested else places["env"]
    _deny(monkeypatch, denied, os.R_OK)
    message = (rf"the data folder {re.escape(str(denied))} \(\$D2L_DATA_DIR\) exists but "
               r"cannot be read\. Fix its permissions")
    with pytest.raises(PermissionError, match=message):
        paths.where("time-machine")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root reads a chmod 000 folder anyway; the simulated test covers it")
def test_unreadable_data_directory_for_real(places):
    _put(places["env"])
    places["env"].chmod(0)
    try:
        with pytest.raises(PermissionError, match="exists but cannot be read"):
            paths.where("time-machine")
    finally:
        places["env"].chmod(0o755)


def test_no_writable_folder(places, monkeypatch):
    for key in ("arg", "env", "user"):
        places[key].mkdir(parents=True)
    real_access = os.access
    monkeypatch.setattr(os, "access",
                        lambda p, mode, *a, **k: False if mode == os.W_OK else real_access(
                            p, mode, *a, **k))
    with pytest.raises(PermissionError, match="is writable; set D2L_DATA_DIR to a folder"):
        paths.locate("time-machine", places["arg"])
    assert places["server"].requests == []
