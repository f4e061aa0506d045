"""Per notebook: how many code cells nbval compares strictly, how many it runs without
comparing (tag nbval-ignore-output), and how many hold claims (their sweep verdicts are in
tests/CLAIMS.md).

Usage: python tools/portability_report.py [NOTEBOOK ...]   (default: every notebook)
Prints a Markdown table (the closing notes of issue 13 quote it)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rise_metadata import notebook_paths  # tools/ is on sys.path


def counts(path: Path) -> dict[str, int]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    tags = [set(c.get("metadata", {}).get("tags", [])) for c in code]
    ignored = [t for t, c in zip(tags, code) if "nbval-ignore-output" in t
               or "NBVAL_IGNORE_OUTPUT" in "".join(c["source"])]
    skipped = [t for t in tags if "nbval-skip" in t]
    return {"code": len(code), "strict": len(code) - len(ignored) - len(skipped),
            "ignored": len(ignored), "skipped": len(skipped),
            "claims": sum("claim" in t for t in tags)}


def main(argv: list[str]) -> int:
    rows = ["| notebook | code cells | compared strictly | not compared | claim cells |",
            "|---|---|---|---|---|"]
    total = {"code": 0, "strict": 0, "ignored": 0, "claims": 0}
    for path in notebook_paths(argv, "portability_report"):
        c = counts(path)
        for key in total:
            total[key] += c[key]
        rows.append(f"| {path.stem} | {c['code']} | {c['strict']} | {c['ignored']} | "
                    f"{c['claims']} |")
    rows.append(f"| **all** | {total['code']} | {total['strict']} | {total['ignored']} | "
                f"{total['claims']} |")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
