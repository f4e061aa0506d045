"""Execute notebooks top to bottom in fresh kernels and report how long each took.

Usage (from the repository root):
    python tools/run_notebooks.py                       # every notebook, one at a time
    python tools/run_notebooks.py a.ipynb b.ipynb --jobs 2 --emulate generic
    python tools/run_notebooks.py --device-report      # on a GPU machine: say which device ran

Nothing is written back: saved outputs are made by `make notebooks` and checked by nbval.
This is the check that every notebook runs start to finish on this machine as it is (a GPU
included: notebooks use d2l.try_gpu() where the book does) or as an emulated one
(tools/emulate.py), with the time each took: the course's budget is 60 s a notebook (90 s
for the RNN trainings) on a 2-core CPU.  Exit status 1 if any notebook fails.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from emulate import EMULATIONS, environment  # tools/ is on sys.path when run as a script
from rise_metadata import notebook_paths

REPO = Path(__file__).resolve().parent.parent


def execute(nb: dict, folder: Path, timeout: float) -> dict:
    """Run nb in a fresh kernel started in folder; never stop at an error.

    Returns {"seconds", "errors": [(cell index, exception name, message)], "nb"}."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.from_dict(nb)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            record_timing=False, resources={"metadata": {"path": str(folder)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    errors = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                tags = cell.get("metadata", {}).get("tags", [])
                if "raises-exception" not in tags and \
                        "NBVAL_RAISES_EXCEPTION" not in "".join(cell.source):
                    errors.append((index, output["ename"], output["evalue"][:300]))
    return {"seconds": seconds, "errors": errors, "nb": nb}


def _worker(path: Path, timeout: float) -> int:
    """Child process: run one notebook, print one JSON line."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    result = execute(nb, path.parent, timeout)
    print(json.dumps({"seconds": result["seconds"], "errors": result["errors"]}))
    return 0


def run_one(path: Path, env: dict[str, str], timeout: float) -> dict:
    """Run one notebook in a child process (so each gets the emulated environment)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", str(path),
               "--timeout", str(timeout)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0 or not done.stdout.strip():
        return {"seconds": float("nan"), "errors": [(-1, "WorkerFailed", done.stderr[-500:])]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def device_line() -> str:
    import torch

    if torch.cuda.is_available():
        names = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
        return f"CUDA: {names} (notebooks that call d2l.try_gpu() train there)"
    return "no CUDA device: every notebook runs on the CPU"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="default: every notebook")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks run at a time")
    parser.add_argument("--emulate", choices=list(EMULATIONS),
                        help="run as an emulated machine (tools/emulate.py)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per cell")
    parser.add_argument("--device-report", action="store_true",
                        help="print which device the notebooks will find")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return _worker(Path(args.worker), args.timeout)
    if args.jobs < 1:
        parser.error(f"--jobs should be a positive integer, but got --jobs={args.jobs}.")
    paths = notebook_paths(args.notebooks, "run_notebooks")
    env = environment(args.emulate) if args.emulate else dict(os.environ)
    if args.device_report:
        print(device_line(), flush=True)
    print(f"{len(paths)} notebook(s), {args.jobs} at a time"
          + (f", emulating {args.emulate}" if args.emulate else ""), flush=True)

    def one(path: Path) -> tuple[Path, dict]:
        result = run_one(path, env, args.timeout)
        status = "ok" if not result["errors"] else "FAILED " + "; ".join(
            f"cell {i}: {name}: {message}" for i, name, message in result["errors"])
        print(f"{result['seconds']:7.1f} s  {path.relative_to(REPO)}  {status}", flush=True)
        return path, result

    start = time.perf_counter()
    with ThreadPoolExecutor(args.jobs) as pool:
        results = dict(pool.map(one, paths))
    total = sum(r["seconds"] for r in results.values())
    failed = [p for p, r in results.items() if r["errors"]]
    print(f"{total:7.1f} s  in all ({time.perf_counter() - start:.1f} s wall); "
          f"{len(failed)} of {len(paths)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
