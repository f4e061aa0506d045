"""Validate the notebooks' claims about trained and random results over seeds and machines.

Usage (from the repository root):
    python tools/sweep_claims.py                      # every notebook with `claim` cells
    python tools/sweep_claims.py a.ipynb --seeds 5 --jobs 2
    python tools/sweep_claims.py --table              # only rewrite tests/CLAIMS.md

A claim is an `assert` in a code cell tagged `claim` (CONTRIBUTING.md): "test accuracy is
at least 0.75", "dropout beats no dropout".  One run prints one value; a learner's laptop,
another seed or another thread count prints another.  This tool runs each notebook with
every seed call (`torch.manual_seed(N)`, `random.seed(N)`, `np.random.seed(N)`,
`default_rng(N)`) moved to N + 1000·k for k < --seeds, on this machine as it is and on each
emulated machine of tools/emulate.py, records both sides of every claim instead of
asserting, and reports per claim: the bound, the worst value seen and the margin
(|bound - worst| / |bound|).  A claim fails the sweep if it fails in any run, or if its
bound is a number and the margin is under 10 %: then the bound is looser and the
notebook's text says why, or the setting is made more robust.  A claim comparing two
results ("A beats B") must hold in every run.

Results of each notebook are kept in build/sweep/, so re-sweeping one notebook keeps the
others' rows; the table goes to tests/CLAIMS.md.  Exit status 1 if any claim fails.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import math
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from emulate import EMULATIONS, environment  # tools/ is on sys.path when run as a script
from rise_metadata import NOTEBOOKS, notebook_paths

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "build" / "sweep"
TABLE = REPO / "tests" / "CLAIMS.md"
SETTINGS = ["native", *EMULATIONS]  # native: this machine as the Makefile runs it
MIN_MARGIN = 0.10
SEED_CALL = re.compile(r"\b(manual_seed|random\.seed|default_rng)\((\d+)\)")
REPORT = "__SWEEP_CLAIMS__"


# ------------------------------------------------------------------ instrumenting


def _is_constant(node: ast.AST) -> bool:
    """A number written in the source (e.g. 0.75, -1, 1 / 28): the claim's bound."""
    allowed = (ast.Expression, ast.Constant, ast.UnaryOp, ast.BinOp, ast.operator,
               ast.unaryop)
    return all(isinstance(n, allowed) for n in ast.walk(ast.Expression(node)))


_OPS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


class _Instrument(ast.NodeTransformer):
    """Replace each `assert` by a call that records its sides and never raises."""

    def __init__(self, cell: int):
        self.cell, self.claims = cell, []

    def visit_Assert(self, node: ast.Assert) -> ast.AST:
        test = node.test
        calls = []
        if isinstance(test, ast.Compare) and all(type(op) in _OPS for op in test.ops):
            sides = [test.left, *test.comparators]
            for i, op in enumerate(test.ops):
                left, right = sides[i], sides[i + 1]
                key = f"{self.cell}:{node.lineno}:{i}"
                self.claims.append({"key": key, "text": ast.unparse(ast.Compare(
                    left, [op], [right])), "op": _OPS[type(op)],
                    "bound": ast.unparse(right) if _is_constant(right) else None})
                calls.append(self._record(key, _OPS[type(op)], left, right))
        else:
            key = f"{self.cell}:{node.lineno}:0"
            self.claims.append({"key": key, "text": ast.unparse(test), "op": "true",
                                "bound": None})
            calls.append(self._record(key, "true", test, ast.Constant(None)))
        return [ast.copy_location(call, node) for call in calls]

    @staticmethod
    def _record(key: str, op: str, left: ast.expr, right: ast.expr) -> ast.Expr:
        return ast.Expr(ast.Call(ast.Name("__sweep_record", ast.Load()),
                                 [ast.Constant(key), ast.Constant(op), left, right], []))


_PRELUDE = """\
def __sweep_record(key, op, left, right):
    def number(x):
        try:
            return float(x)
        except (TypeError, ValueError):
            return None
    __sweep_results.append([key, op, number(left), number(right)])
__sweep_results = []
"""
_FINALE = f"import json as __json\nprint({REPORT!r} + __json.dumps(__sweep_results))\n"


def claim_cells(nb: dict) -> list[int]:
    return [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
            and "claim" in c.get("metadata", {}).get("tags", [])]


def instrument(nb: dict, seed_index: int) -> tuple[dict, list[dict]]:
    """A copy of nb whose seeds are moved by seed_index and whose claims are recorded."""
    import copy

    import nbformat

    nb = copy.deepcopy(nb)
    claims = []
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        source = SEED_CALL.sub(
            lambda m: f"{m[1]}({int(m[2]) + 1000 * seed_index})", source)
        if index in claim_cells(nb):
            visitor = _Instrument(index)
            tree = visitor.visit(ast.parse(_without_magics(source)))
            source = ast.unparse(ast.fix_missing_locations(tree))
            claims += visitor.claims
        cell["source"] = source
        cell["outputs"] = []
    nb["cells"].insert(0, nbformat.v4.new_code_cell(_PRELUDE))
    nb["cells"].append(nbformat.v4.new_code_cell(_FINALE))
    return nb, claims


def _without_magics(source: str) -> str:
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())


# ------------------------------------------------------------------ running


def _worker(path: Path, seed_index: int, timeout: float) -> int:
    """Child process (environment already emulated): one instrumented run, one JSON line."""
    import nbformat
    from run_notebooks import execute

    nb, _ = instrument(nbformat.read(path, as_version=4), seed_index)
    result = execute(nb, path.parent, timeout)
    values = []
    for output in result["nb"].cells[-1].get("outputs", []):
        text = output.get("text", "")
        if REPORT in text:
            values = json.loads(text.split(REPORT, 1)[1])
    # errors in the prelude/finale shift cell numbers by one: report notebook cell indices
    errors = [(i - 1, name, message) for i, name, message in result["errors"]]
    print(json.dumps({"seconds": result["seconds"], "values": values, "errors": errors}))
    return 0


def run(path: Path, seed_index: int, setting: str, timeout: float,
        shared: bool = False) -> dict:
    env = dict(os.environ) if setting == "native" else environment(setting)
    if shared:  # runs share the cores: idle OpenMP threads sleep instead of spinning
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", str(path),
               "--seed-index", str(seed_index), "--timeout", str(timeout)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=REPO)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"seconds": float("nan"), "values": [],
                "errors": [(-1, "WorkerFailed", done.stderr[-800:])]}
    return json.loads(lines[-1])


def _digest(nb: dict) -> str:
    """What a sweep depends on: the notebook's code (not its outputs)."""
    code = [c["source"] for c in nb["cells"] if c["cell_type"] == "code"]
    return hashlib.sha1(json.dumps(code).encode()).hexdigest()[:12]


def sweep(path: Path, seeds: int, jobs: int, timeout: float) -> dict:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    _, claims = instrument(nb, 0)
    runs = [(k, s) for k in range(seeds) for s in SETTINGS]

    def one(job):
        k, setting = job
        result = run(path, k, setting, timeout, shared=jobs > 1)
        bad = f"  errors: {result['errors']}" if result["errors"] else ""
        print(f"  {path.name} seed+{1000 * k} {setting}: {result['seconds']:.0f} s{bad}",
              flush=True)
        return {"seed_index": k, "setting": setting, **result}

    with ThreadPoolExecutor(jobs) as pool:
        results = list(pool.map(one, runs))
    return {"notebook": path.relative_to(REPO).as_posix(), "digest": _digest(nb),
            "claims": claims, "runs": results, "date": time.strftime("%Y-%m-%d")}


# ------------------------------------------------------------------ judging


def judge(claim: dict, runs: list[dict]) -> dict:
    """Worst value, margin and verdict of one claim over all runs."""
    seen = [(v[2], v[3]) for r in runs for v in r["values"] if v[0] == claim["key"]]
    expected = len(runs)
    row = {"runs": expected,
           "recorded": sum(any(v[0] == claim["key"] for v in r["values"]) for r in runs)}
    op = claim["op"]
    if not seen or any(left is None for left, _ in seen) or row["recorded"] < expected:
        return {**row, "worst": None, "margin": None, "held": 0,
                "verdict": f"FAIL: recorded in {row['recorded']} of {expected} runs"}
    if op == "true":
        held = sum(bool(left) for left, _ in seen)
        return {**row, "worst": None, "margin": None, "held": held,
                "verdict": "ok" if held == len(seen) else "FAIL"}
    holds = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
             ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}[op]
    held = sum(holds(a, b) for a, b in seen)
    upper = op in ("<", "<=")  # the left side must stay below the right
    if claim["bound"] is not None:
        bound = seen[0][1]
        worst = max(a for a, _ in seen) if upper else min(a for a, _ in seen)
        margin = (bound - worst if upper else worst - bound) / abs(bound) if bound else \
            (bound - worst if upper else worst - bound)
        verdict = "ok" if held == len(seen) and margin >= MIN_MARGIN else (
            "FAIL" if held < len(seen) else f"LOW MARGIN (< {MIN_MARGIN:.0%})")
        return {**row, "worst": worst, "bound_value": bound, "margin": margin, "held": held,
                "verdict": verdict}
    gaps = [(b - a) if upper else (a - b) for a, b in seen]  # > 0 where the claim holds
    worst = min(gaps)
    return {**row, "worst": worst, "margin": None, "held": held,
            "verdict": "ok" if held == len(seen) else "FAIL"}


def _fmt(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x:.4g}"


def write_table(results: list[dict], seeds_note: str) -> tuple[str, int]:
    """Markdown table of every claim; returns (text, number of claims not ok)."""
    lines = [
        "# Claims about trained and random results, swept over seeds and machines",
        "",
        "Written by `python tools/sweep_claims.py` (`make sweep-claims`); do not edit by hand.",
        f"Each notebook ran {seeds_note} under each setting: `native` (this machine as",
        "`make test` runs it) and the emulated machines of `tools/emulate.py` "
        + ", ".join(f"(`{n}`: {what})" for n, (what, _, _) in EMULATIONS.items()) + ".",
        "*worst* is the value closest to the bound over all runs (for a comparison, the",
        "smallest gap between its two sides); *margin* is |bound − worst| / |bound|, and a",
        f"numeric bound needs at least {MIN_MARGIN:.0%}. Comparisons must hold in every run.",
        "",
        "| notebook | cell | claim | bound | worst | margin | held | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    bad = 0
    for result in sorted(results, key=lambda r: r["notebook"]):
        name = Path(result["notebook"]).stem
        failed_runs = [r for r in result["runs"] if r["errors"]]
        for claim in result["claims"]:
            row = judge(claim, result["runs"])
            bad += row["verdict"] != "ok"
            cell = claim["key"].split(":")[0]
            text = claim["text"].replace("|", "\\|")
            kind = claim["bound"] if claim["bound"] is not None else (
                "comparison" if claim["op"] != "true" else "true")
            margin = f"{row['margin']:.0%}" if row.get("margin") is not None else "—"
            lines.append(f"| {name} | {cell} | `{text}` | {kind} | {_fmt(row['worst'])} | "
                         f"{margin} | {row['held']}/{row['runs']} | {row['verdict']} |")
        if failed_runs:
            bad += 1
            errors = sorted({f"cell {e[0]}: {e[1]}" for r in failed_runs for e in r["errors"]})
            lines.append(f"| {name} | — | runs with errors: {len(failed_runs)} | | | | | "
                         f"FAIL: {'; '.join(errors)[:200]} |")
    seconds = sum(r["seconds"] for res in results for r in res["runs"]
                  if not math.isnan(r["seconds"]))
    lines += ["", f"{len(results)} notebooks, {sum(len(r['runs']) for r in results)} runs, "
              f"{seconds / 60:.0f} min of notebook time; {bad} problem(s)."]
    return "\n".join(lines) + "\n", bad


def _stored() -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(RESULTS.rglob("*.json"))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="default: every notebook with claims")
    parser.add_argument("--seeds", type=int, default=5, help="seeds per setting (>= 5)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per cell")
    parser.add_argument("--table", action="store_true",
                        help="only rewrite tests/CLAIMS.md from build/sweep/")
    parser.add_argument("--stale", action="store_true",
                        help="only sweep notebooks whose code changed since their last sweep")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--seed-index", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return _worker(Path(args.worker), args.seed_index, args.timeout)
    if args.seeds < 1 or args.jobs < 1:
        parser.error("--seeds and --jobs should be positive integers")

    import nbformat

    if not args.table:
        paths = [p for p in notebook_paths(args.notebooks, "sweep_claims")
                 if claim_cells(nbformat.read(p, as_version=4))]
        if args.stale:
            paths = [p for p in paths if not _is_current(p)]
        print(f"sweeping {len(paths)} notebook(s): {args.seeds} seed(s) x "
              f"{len(SETTINGS)} settings, {args.jobs} run(s) at a time", flush=True)
        for path in paths:
            result = sweep(path, args.seeds, args.jobs, args.timeout)
            result["seeds"] = args.seeds
            out = RESULTS / Path(result["notebook"]).relative_to("notebooks").with_suffix(
                ".json")
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    results = [r for r in _stored() if (REPO / r["notebook"]).is_file()]
    seeds = sorted({r.get("seeds", 0) for r in results})
    text, bad = write_table(results, f"with {'/'.join(map(str, seeds))} seeds")
    TABLE.write_text(text, encoding="utf-8")
    print(text)
    stale = [r["notebook"] for r in results if not _is_current(REPO / r["notebook"])]
    if stale:
        print(f"note: the code of {', '.join(stale)} changed since its sweep "
              "(rerun with --stale)")
    return 1 if bad else 0


def _is_current(path: Path) -> bool:
    import nbformat

    out = RESULTS / path.resolve().relative_to(NOTEBOOKS).with_suffix(".json")
    if not out.is_file():
        return False
    stored = json.loads(out.read_text(encoding="utf-8"))
    return stored.get("digest") == _digest(nbformat.read(path, as_version=4))


if __name__ == "__main__":
    sys.exit(main())
