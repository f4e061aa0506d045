"""cli.py: `python -m d2lutils data where|fetch|verify` and `doctor`, run as learners run them
(in a subprocess), plus the rarer cases through cli.main() in this process.

Each run gets its own D2L_DATA_DIR and user cache in tmp_path; the system dataset
folder (Debian's Fashion-MNIST) stays visible, so its lines depend on the machine."""

import hashlib
import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest
from _loopback import LoopbackServer

from d2lutils import cli, paths

REAL_TIME_MACHINE = paths.where("time-machine")  # looked up before any test changes the env
REAL_KAGGLE = paths.where("kaggle-house")
SYSTEM_FASHION_MNIST = next((d for d in paths.DATASETS["fashion-mnist"].system_dirs
                             if os.path.isfile(os.path.join(d, "train-images-idx3-ubyte.gz"))),
                            None)
needs_time_machine = pytest.mark.skipif(
    REAL_TIME_MACHINE is None,
    reason="The Time Machine is not provisioned (python -m d2lutils data fetch)")


@pytest.fixture
def env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "D2L_DATA_DIR"}
    env.update(D2L_DATA_DIR=str(tmp_path / "data"), XDG_CACHE_HOME=str(tmp_path / "cache"),
               HOME=str(tmp_path / "home"), LOCALAPPDATA=str(tmp_path / "cache"),
               PYTHONIOENCODING="utf-8")
    return env


@pytest.fixture
def isolated(tmp_path, data_home, monkeypatch):
    """The same isolation as env, for cli.main() called in this process."""
    monkeypatch.setenv("D2L_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def call(capsys, *args):
    """cli.main(args) in this process: (exit status, stdout, stderr)."""
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def run(env, *args, code=None):
    command = [sys.executable, "-c", code] if code else [sys.executable, "-m", "d2lutils", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, encoding="utf-8",
                          timeout=300)


def lines_of(output):
    return {line.split()[0]: line for line in output.splitlines() if line.strip()}


def _fashion_line_is_right(line):
    if SYSTEM_FASHION_MNIST:
        return line.split()[1] == SYSTEM_FASHION_MNIST
    return "MISSING" in line


def test_where_on_an_empty_machine(env):
    result = run(env, "data", "where")
    rows = lines_of(result.stdout)
    assert rows["time-machine"].split()[1:3] == ["MISSING", "(run:"]
    assert "python -m d2lutils data fetch" in rows["time-machine"]
    assert _fashion_line_is_right(rows["fashion-mnist"])
    assert result.returncode == 1


@needs_time_machine
def test_fetch_from_source_then_where_and_verify(env, tmp_path):
    result = run(env, "data", "fetch", "time-machine", "--source", str(REAL_TIME_MACHINE))
    assert result.returncode == 0, result.stderr
    target = tmp_path / "data" / "time-machine"
    assert lines_of(result.stdout)["time-machine"].split()[1] == str(target)
    assert (target / "timemachine.txt").is_file()

    rows = lines_of(run(env, "data", "where").stdout)
    assert rows["time-machine"].split()[1] == str(target)

    result = run(env, "data", "verify", "time-machine")
    assert result.stdout.split() == ["time-machine", "ok", str(target / "timemachine.txt")]
    assert result.returncode == 0
    result = run(env, "data", "verify")  # every dataset: kaggle-house is missing here
    assert ["time-machine", "ok", str(target / "timemachine.txt")] in [
        line.split() for line in result.stdout.splitlines()]
    assert lines_of(result.stdout)["kaggle-house"].split()[1] == "MISSING"
    assert result.returncode == 1


def test_fetch_refuses_a_bad_source(isolated, capsys):
    source = isolated / "src"
    source.mkdir()
    (source / "timemachine.txt").write_text("not the book", encoding="utf-8")
    code, _, err = call(capsys, "data", "fetch", "time-machine", "--source", str(source))
    assert code == 1
    assert "failed its SHA-1 check" in err and "Looked in:" in err
    assert os.listdir(isolated / "data" / "time-machine") == []


def test_fetch_downloads_what_is_missing(env, tmp_path):
    text = b"The Time Traveller\n" * 500
    with LoopbackServer() as server:
        server.files["/timemachine.txt"] = text
        code = textwrap.dedent(f"""
            import sys
            from d2lutils import cli
            from d2lutils.hub import DATA_HUB
            DATA_HUB["time_machine"] = ({server.url('/timemachine.txt')!r},
                                           {hashlib.sha1(text).hexdigest()!r})
            sys.exit(cli.main(["data", "fetch", "time-machine"]))
        """)
        result = run(env, code=code)
        assert result.returncode == 0, result.stderr
        assert (tmp_path / "data" / "time-machine" / "timemachine.txt").read_bytes() == text
        assert server.requests == ["/timemachine.txt"]
        assert run(env, code=code).returncode == 0  # already there: nothing downloaded
        assert server.requests == ["/timemachine.txt"]


def test_verify_finds_a_corrupt_file(env, tmp_path):
    folder = tmp_path / "data" / "time-machine"
    folder.mkdir(parents=True)
    (folder / "timemachine.txt").write_text("tampered", encoding="utf-8")
    result = run(env, "data", "verify")
    assert ["time-machine", "BAD", str(folder / "timemachine.txt")] in [
        line.split() for line in result.stdout.splitlines()]
    assert "delete the BAD ones and run `python -m d2lutils data fetch`" in result.stderr
    assert result.returncode == 1


def test_verify_reports_missing(isolated, capsys):
    code, out, _ = call(capsys, "data", "verify")
    assert "time-machine   MISSING" in out.splitlines()
    assert code == 1


def test_where_with_data_dir(isolated, capsys):
    folder = isolated / "mine" / "time-machine"
    folder.mkdir(parents=True)
    (folder / "timemachine.txt").write_text("x", encoding="utf-8")
    _, out, _ = call(capsys, "data", "where", "--data-dir", str(isolated / "mine"))
    assert lines_of(out)["time-machine"].split()[1] == str(folder)


def test_doctor(env):
    result = run(env, "doctor")
    rows = lines_of(result.stdout)
    for key in ("python", "torch", "devices", "jupyterlab", "jupyterlab-rise", "CJK"):
        assert key in rows, result.stdout
    assert rows["python"].split()[1] == ".".join(map(str, sys.version_info[:3]))
    assert "cpu" in rows["devices"] or "cuda" in rows["devices"]
    assert re.search(r"^data time-machine +MISSING$", result.stdout, re.M), result.stdout
    import torch

    build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "CPU only"
    assert re.search(rf"^torch build +{build}$", result.stdout, re.M), result.stdout
    assert "WARNING: time-machine is missing: run `python -m d2lutils data fetch`" in result.stdout
    assert result.returncode == 1


def test_doctor_brief_prints_only_problems(isolated, capsys):
    code, out, _ = call(capsys, "doctor", "--brief")
    assert out.splitlines()
    assert all(line.startswith("WARNING: ") for line in out.splitlines())
    assert code == 1


def test_doctor_names_a_missing_cjk_font_and_rise(monkeypatch, capsys):
    monkeypatch.setattr("d2lutils.plotting.cjk_font", lambda: None)
    monkeypatch.setattr(cli, "_version", lambda dist: "not installed")
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert re.search(r"^CJK font +MISSING$", out, re.M), out
    assert "WARNING: no CJK font: Chinese plot labels show as boxes. Install fonts-noto-cjk" in out
    assert "WARNING: jupyterlab-rise is not installed: run `make setup`" in out


def test_no_command_shows_usage(env):
    result = run(env)
    assert result.returncode == 2
    assert "usage: python -m d2lutils" in result.stderr


@pytest.mark.parametrize("args", [["data"], ["data", "fetch", "mnist"], ["nonsense"]])
def test_bad_commands_show_usage(args, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(args)
    assert info.value.code == 2
    assert "usage: python -m d2lutils" in capsys.readouterr().err


def test_unknown_dataset_names_the_choices(capsys):
    with pytest.raises(SystemExit):
        cli.main(["data", "fetch", "time-machine", "mnist"])
    assert ("DATASET should be one of fashion-mnist, kaggle-house, time-machine, but got mnist"
            in capsys.readouterr().err)


@needs_time_machine
@pytest.mark.skipif(REAL_KAGGLE is None, reason="the Kaggle house prices are not provisioned")
@pytest.mark.skipif(SYSTEM_FASHION_MNIST is None,
                    reason="fetching everything would download Fashion-MNIST")
def test_fetch_everything_as_make_data_does(isolated, capsys):
    # `make data`: copy what the shared folder holds (flat, as ../shared/data is), then
    # find (Debian's Fashion-MNIST) or download the rest
    shared = isolated / "shared"
    shared.mkdir()
    for folder in (REAL_TIME_MACHINE, REAL_KAGGLE):
        for path in folder.iterdir():
            shutil.copy(path, shared / path.name)
    code, out, _ = call(capsys, "data", "fetch", "--source", str(shared), "time-machine",
                        "kaggle-house")
    assert code == 0
    code, out, _ = call(capsys, "data", "fetch")
    assert code == 0
    rows = lines_of(out)
    assert rows["fashion-mnist"].split()[1] == SYSTEM_FASHION_MNIST
    for name in ("time-machine", "kaggle-house"):
        assert rows[name].split()[1] == str(isolated / "data" / name)


def test_an_unreadable_data_folder_is_reported_not_raised(isolated, monkeypatch, capsys):
    # Simulated (tests run as root, for whom chmod 000 blocks nothing): os.access says no.
    denied = isolated / "data"
    denied.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, *a, **k: False if os.fspath(p) == str(
        denied) else real_access(p, mode, *a, **k))
    assert cli.main(["data", "where"]) == 1
    out = capsys.readouterr().out
    assert f"time-machine   UNREADABLE: the data folder {denied} ($D2L_DATA_DIR) exists" in out
    assert cli.main(["data", "verify"]) == 1
    assert "time-machine   UNREADABLE" in capsys.readouterr().out
    assert cli.main(["doctor", "--brief"]) == 1
    assert "WARNING: time-machine: UNREADABLE: the data folder" in capsys.readouterr().out
