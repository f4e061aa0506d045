"""Install the pinned torch into the course's environment, the build this machine needs
(`make setup` runs it before the rest of requirements.txt).

Usage: python tools/install_torch.py [--build auto|local|cpu|cuda|default] [--dry-run]

PyPI's torch for Linux is a CUDA build of several GB; a laptop without an NVIDIA GPU
needs only the CPU build (about 200 MB) from PyTorch's own index.  `auto`, the default:
- Linux without an NVIDIA GPU (no `nvidia-smi`): a wheel already on this machine (pip's
  find-links, an offline mirror), else the CPU build;
- Linux with an NVIDIA GPU: PyPI's default, the CUDA build, else a wheel on this machine;
- macOS and Windows: a wheel on this machine, else PyPI's (the CPU/MPS builds there).
`--build cpu|cuda|local|default` forces one choice (`make setup TORCH_BUILD=cuda`).
"""

from __future__ import annotations

import argparse
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def torch_pin(requirements: Path = REPO / "requirements.txt") -> str:
    """The torch line of requirements.txt, e.g. 'torch==2.13.0'."""
    for line in requirements.read_text(encoding="utf-8").splitlines():
        if re.match(r"torch\s*==", line):
            return line.split("#")[0].strip()
    raise SystemExit(f"install_torch: requirements.txt should pin torch exactly (torch==X.Y.Z), "
                     f"but no such line is in {requirements}. Add one.")


def commands(build: str, pin: str, system: str, has_nvidia: bool) -> list[tuple[str, list[str]]]:
    """(why, pip arguments) to try in order: the first that succeeds wins."""
    pip = ["-m", "pip", "install", "--quiet", pin]
    local = ("a torch wheel already on this machine (offline)", [*pip, "--no-index"])
    cpu = (f"the CPU build from {CPU_INDEX} (no NVIDIA GPU here)",
           [*pip, "--extra-index-url", CPU_INDEX])
    default = ("PyPI's default build" + (" (CUDA: an NVIDIA GPU is here)" if has_nvidia and
                                         system == "Linux" else ""), pip)
    if build == "local":
        return [local]
    if build == "cpu":
        return [cpu]
    if build in ("cuda", "default"):
        return [default]
    if system == "Linux":  # offline machines fall back to a wheel on disk
        return [default, local] if has_nvidia else [local, cpu]
    return [local, default]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default="auto",
                        choices=["auto", "local", "cpu", "cuda", "default"])
    parser.add_argument("--dry-run", action="store_true", help="print the plan, install nothing")
    parser.add_argument("--system", default=platform.system(), help=argparse.SUPPRESS)
    parser.add_argument("--nvidia", choices=["yes", "no"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    has_nvidia = (args.nvidia == "yes") if args.nvidia else shutil.which("nvidia-smi") is not None
    plan = commands(args.build, torch_pin(), args.system, has_nvidia)
    for i, (why, pip_args) in enumerate(plan):
        print(f"torch: trying {why}: pip {' '.join(pip_args[2:])}", flush=True)
        if args.dry_run:
            continue
        done = subprocess.run([sys.executable, *pip_args],
                              stderr=subprocess.PIPE if i < len(plan) - 1 else None, text=True)
        if done.returncode == 0:
            print(f"torch: installed {why}")
            return 0
    return 0 if args.dry_run else 1


if __name__ == "__main__":
    sys.exit(main())
