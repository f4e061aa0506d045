"""Command line: `python -m d2lutils data where|fetch|verify` and `python -m d2lutils doctor`."""

from __future__ import annotations

import argparse
import importlib.metadata
import platform
import sys
from collections.abc import Sequence
from pathlib import Path

from . import paths
from .hub import is_verified


def _where(name: str, data_dir: str | None = None) -> tuple[Path | None, str]:
    """(folder or None, what to print): an unreadable data folder is reported, not raised."""
    try:
        folder = paths.where(name, data_dir)
    except PermissionError as exc:
        return None, f"UNREADABLE: {exc}"
    return folder, str(folder) if folder else "MISSING (run: python -m d2lutils data fetch)"


def _data_where(args: argparse.Namespace) -> int:
    missing = 0
    for name in args.datasets or paths.DATASETS:
        folder, text = _where(name, args.data_dir)
        missing += folder is None
        print(f"{name:14} {text}")
    return 1 if missing else 0


def _data_fetch(args: argparse.Namespace) -> int:
    names = args.datasets or list(paths.DATASETS)
    failed = 0
    for name in names:
        try:
            folder = paths.locate(name, args.data_dir, download=args.source is None,
                                  source=args.source)
        except (FileNotFoundError, PermissionError, ValueError) as exc:
            print(f"{name}: {exc}", file=sys.stderr)
            failed += 1
            continue
        print(f"{name:14} {folder}")
    return 1 if failed else 0


def _data_verify(args: argparse.Namespace) -> int:
    bad = 0
    for name in args.datasets or paths.DATASETS:
        dataset = paths.DATASETS[name]
        folder, text = _where(name, args.data_dir)
        if folder is None:
            print(f"{name:14} {text.split(' (run')[0]}")
            bad += 1
            continue
        for fname, _, sha1 in dataset.files():
            path = paths.dataset_file(folder, fname)
            ok = is_verified(path, sha1)
            bad += not ok
            print(f"{name:14} {'ok ' if ok else 'BAD'} {path}")
    if bad:
        print("Some files are missing or corrupted: delete the BAD ones and run "
              "`python -m d2lutils data fetch`.", file=sys.stderr)
    return 1 if bad else 0


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _doctor(args: argparse.Namespace) -> int:
    import torch

    from .devices import try_all_gpus
    from .plotting import cjk_font

    problems = []
    build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "CPU only"
    rows = [("python", platform.python_version()), ("torch", torch.__version__),
            ("torch build", build), ("devices", ", ".join(str(d) for d in try_all_gpus()))]
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        rows.append(("apple mps", "available (opt in with torch.device('mps'), see README)"))
    for name in paths.DATASETS:
        folder, text = _where(name)
        rows.append((f"data {name}", text.split(" (run")[0]))
        if text.startswith("UNREADABLE"):
            problems.append(f"{name}: {text}")
        elif folder is None:
            problems.append(f"{name} is missing: run `python -m d2lutils data fetch`")
    for dist in ("jupyterlab", "jupyterlab-rise", "nbval"):
        rows.append((dist, _version(dist)))
        if rows[-1][1] == "not installed" and dist != "nbval":
            problems.append(f"{dist} is not installed: run `make setup`")
    font = cjk_font()
    rows.append(("CJK font", font or "MISSING"))
    if font is None:
        problems.append("no CJK font: Chinese plot labels show as boxes. Install "
                        "fonts-noto-cjk (Debian/Ubuntu) or any Noto Sans CJK font")
    if not args.brief:
        for key, value in rows:
            print(f"{key:20} {value}")
    for problem in problems:
        print(f"WARNING: {problem}")
    return 1 if problems else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m d2lutils",
                                     description="Course data and environment checks.")
    sub = parser.add_subparsers(dest="command", required=True)
    data = sub.add_parser("data", help="find, fetch or verify the course datasets")
    data_sub = data.add_subparsers(dest="action", required=True)
    for action, func, help_text in (
            ("where", _data_where, "show where each dataset is found"),
            ("fetch", _data_fetch, "copy or download what is missing, verified"),
            ("verify", _data_verify, "check every file against its SHA-1")):
        p = data_sub.add_parser(action, help=help_text)
        p.add_argument("--data-dir", help="look here first (like the data_dir argument)")
        p.set_defaults(func=func)
        known = ", ".join(paths.DATASETS)
        p.add_argument("datasets", nargs="*", metavar="DATASET",
                       help=f"datasets to {action}: {known} (default: all)")
        if action == "fetch":
            p.add_argument("--source",
                           help="a local folder with the files (directly or in a DATASET/ "
                                "sub-folder): copy them, never download")
    doctor = sub.add_parser("doctor", help="report versions, devices, data, JupyterLab and RISE")
    doctor.add_argument("--brief", action="store_true", help="print only problems")
    doctor.set_defaults(func=_doctor)
    args = parser.parse_args(argv)
    unknown = [name for name in getattr(args, "datasets", []) if name not in paths.DATASETS]
    if unknown:
        parser.error(f"DATASET should be one of {', '.join(paths.DATASETS)}, but got "
                     f"{', '.join(unknown)}. Run `python -m d2lutils data where` to list them.")
    return args.func(args)
