"""The set-up commands a learner types: `make lab` (also as root, as in containers and on
rented GPU servers) and the torch build tools/install_torch.py picks for the machine."""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TOOL = REPO / "tools" / "install_torch.py"


def _plan(*args: str) -> list[str]:
    done = subprocess.run([sys.executable, str(TOOL), "--dry-run", *args], capture_output=True,
                          text=True, cwd=REPO, check=True)
    return done.stdout.splitlines()


@pytest.mark.parametrize("system, nvidia, expected", [
    ("Linux", "no", ["--no-index", "--extra-index-url https://download.pytorch.org/whl/cpu"]),
    ("Linux", "yes", ["install --quiet torch==", "--no-index"]),
    ("Darwin", "no", ["--no-index", "install --quiet torch=="]),
    ("Windows", "no", ["--no-index", "install --quiet torch=="]),
])
def test_install_torch_picks_the_build_for_the_machine(system, nvidia, expected):
    plan = _plan("--system", system, "--nvidia", nvidia)
    assert len(plan) == len(expected)
    for line, part in zip(plan, expected):
        assert part in line, plan
    pin = next(line for line in (REPO / "requirements.txt").read_text().splitlines()
               if line.startswith("torch=="))
    assert all(pin in line for line in plan)  # always the pinned version
    if system == "Linux" and nvidia == "yes":
        assert "CUDA" in plan[0] and "--no-index" not in plan[0]


@pytest.mark.parametrize("build, part", [("cpu", "whl/cpu"), ("local", "--no-index"),
                                         ("cuda", "PyPI's default")])
def test_install_torch_can_be_forced(build, part):
    plan = _plan("--build", build, "--system", "Linux", "--nvidia", "no")
    assert len(plan) == 1 and part in plan[0]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_make_lab_opens_the_course_and_says_why_it_runs_as_root(tmp_path):
    port, token = _free_port(), secrets.token_hex(8)
    env = {**os.environ, "JUPYTER_DATA_DIR": str(tmp_path / "data"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "IPYTHONDIR": str(tmp_path / "ipy")}
    args = f"--IdentityProvider.token={token} " \
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"
    log = tmp_path / "make-lab.log"
    with open(log, "wb") as out:
        lab = subprocess.Popen(["make", "--no-print-directory", "lab", f"PORT={port}",
                                f"LAB_ARGS={args}"], cwd=REPO, env=env, stdout=out,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            assert lab.poll() is None, f"make lab exited:\n{log.read_text()[-3000:]}"
            try:
                url = f"http://127.0.0.1:{port}/api/status?token={token}"
                with urllib.request.urlopen(url, timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, f"no server:\n{log.read_text()[-3000:]}"
                time.sleep(1)
        text = log.read_text()
        assert f"Starting JupyterLab on http://127.0.0.1:{port}" in text
        as_root = hasattr(os, "geteuid") and os.geteuid() == 0
        assert ("Running as root (a container or a server): passing --allow-root" in text) \
            == as_root
        # the URL to open (JupyterLab masks a token it was given as "...")
        assert re.search(rf"http://127\.0\.0\.1:{port}/lab\?token=", text), text[-2000:]
    finally:
        os.killpg(lab.pid, signal.SIGTERM)  # make, and the server it started
        try:
            lab.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(lab.pid, signal.SIGKILL)
            lab.wait(timeout=10)
