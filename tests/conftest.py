"""Shared pytest fixtures.

Data: `data_home` moves every writable place of the data rule into tmp_path, and the
marker `@pytest.mark.needs_data("time-machine")` skips a test, with the fix, where a real
dataset is not provisioned.

RISE browser fixtures (issue 9, tests/test_browser_rise.py), all prefixed `rise_`:
a JupyterLab server on 127.0.0.1 with a token, serving a throw-away copy of notebooks/
(running cells in the slideshow changes the notebook, and JupyterLab autosaves), headless
Debian Chromium driven by Playwright, and the offline decks `make slides` builds.  Every
process a fixture starts is stopped by its own PID when the session ends, pass or fail.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture
def data_home(tmp_path, monkeypatch) -> Path:
    """No $D2L_DATA_DIR and a user data directory under tmp_path (on every platform), so a
    test sees only the data it puts there (and the system dataset folders).  Returns the
    user data directory."""
    from d2lutils import paths

    monkeypatch.delenv("D2L_DATA_DIR", raising=False)
    for var in ("XDG_CACHE_HOME", "LOCALAPPDATA", "HOME", "USERPROFILE"):
        monkeypatch.setenv(var, str(tmp_path / "home"))
    return paths.user_data_dir()


class _TwoSecondTimer:
    """A d2l.Timer whose every lap takes exactly 2 seconds."""

    def start(self) -> None:
        pass

    def stop(self) -> float:
        return 2.0


@pytest.fixture
def two_second_epochs(monkeypatch):
    """Make every training epoch of d2lutils take exactly 2 seconds, so speed figures
    (examples_per_sec, tokens_per_sec) are exact counts over 2."""
    import d2lutils as d2l

    for module in (d2l.training, d2l.rnn):
        monkeypatch.setattr(module, "Timer", _TwoSecondTimer)


def pytest_configure(config):
    config.addinivalue_line("markers", "needs_data(name): skip unless the dataset is "
                                       "provisioned (python -m d2lutils data fetch)")


def pytest_runtest_setup(item):
    for marker in item.iter_markers("needs_data"):
        from d2lutils import paths

        if paths.where(marker.args[0]) is None:
            pytest.skip(f"the dataset {marker.args[0]!r} is not provisioned on this machine; "
                        "run `make data` (python -m d2lutils data fetch)")


@pytest.fixture(scope="session")
def rise_chromium() -> Path:
    """Debian's Chromium, or skip: never a Playwright browser download."""
    if not CHROMIUM.is_file():
        pytest.skip(f"RISE browser tests need Chromium at {CHROMIUM} (Debian package "
                    "'chromium', installed by .ci/run); not found on this machine")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("RISE browser tests need the 'playwright' Python package "
                    "(requirements.txt); it is not installed")
    return CHROMIUM


@pytest.fixture(scope="session")
def rise_browser(rise_chromium):
    """One headless Chromium for the whole session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(rise_chromium),
                                             args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def rise_artifacts() -> Path:
    """build/test-artifacts/rise/: screenshots CI keeps."""
    folder = REPO / "build" / "test-artifacts" / "rise"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _copy_notebooks(root: Path) -> None:
    """Copy notebooks/ (notebooks and style sheets only), add the demo deck, and apply
    the course's RISE settings to the copies, as `make rise-metadata` does."""
    sys.path.insert(0, str(REPO / "tests"))
    from _slides import DEMO_DECK, NOTEBOOKS, write_demo_notebook

    for path in NOTEBOOKS.rglob("*"):
        if ".ipynb_checkpoints" in path.parts or path.suffix not in (".ipynb", ".css"):
            continue
        target = root / path.relative_to(NOTEBOOKS)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    (root / DEMO_DECK).parent.mkdir(parents=True, exist_ok=True)
    write_demo_notebook(root / DEMO_DECK)
    notebooks = sorted(str(p) for p in root.rglob("*.ipynb"))
    subprocess.run([sys.executable, str(REPO / "tools" / "rise_metadata.py"), *notebooks],
                   check=True, capture_output=True, cwd=REPO)


def _trust(root: Path, data_dir: Path) -> None:
    """Sign the copies in the server's own trust database, so SVG and HTML outputs render
    as they do for a lecturer who ran the notebook (untrusted ones fall back to text)."""
    import nbformat
    from nbformat.sign import NotebookNotary

    data_dir.mkdir(parents=True, exist_ok=True)
    notary = NotebookNotary(data_dir=str(data_dir))
    for path in root.rglob("*.ipynb"):
        notary.sign(nbformat.read(path, as_version=4))
    notary.store.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def rise_lab_server(rise_chromium, tmp_path_factory):
    """JupyterLab (with jupyterlab-rise) on 127.0.0.1; yields (base_url, token, root_dir)."""
    base = tmp_path_factory.mktemp("rise-lab")
    root, data_dir = base / "notebooks", base / "jupyter-data"
    root.mkdir()
    _copy_notebooks(root)
    _trust(root, data_dir)
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_DATA_DIR": str(data_dir),
           "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
           "JUPYTER_CONFIG_DIR": str(base / "config"), "IPYTHONDIR": str(base / "ipython")}
    # `python -m jupyterlab`, not the `jupyter lab` wrapper: its PID is the server itself.
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
               f"--port={port}", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={root}",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log_path = base / "jupyterlab.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                  cwd=root)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited with {server.returncode}:\n"
                            + log_path.read_text(errors="replace")[-3000:])
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not answer /api/status within 90 s:\n"
                                + log_path.read_text(errors="replace")[-3000:])
                time.sleep(0.5)
        yield url, token, root
    finally:
        server.terminate()  # SIGTERM: the server shuts its kernels down, then exits
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


@pytest.fixture(scope="session")
def rise_slides(rise_chromium) -> tuple[Path, list[Path]]:
    """build/slides/ from `make slides` (run here: CI's `make test` starts from a clean
    clone), and the notebooks it was built from."""
    sys.path.insert(0, str(REPO / "tests"))
    from _slides import notebook_paths

    if shutil.which("npm") is None:
        pytest.skip("`make slides` needs npm (Debian package 'npm') to install reveal.js")
    notebooks = notebook_paths()
    result = subprocess.run(["make", "--no-print-directory", "slides"], cwd=REPO,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"make slides failed:\n{result.stdout}\n{result.stderr}"
    out = REPO / "build" / "slides"
    assert (out / "index.html").is_file(), f"make slides wrote no index page:\n{result.stdout}"
    return out, notebooks
