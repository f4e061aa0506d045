"""Write the course's RISE slideshow settings into every notebook, and share rise.css.

Usage (from the repository root):
    python tools/rise_metadata.py                 # every notebooks/**/*.ipynb
    python tools/rise_metadata.py path/a.ipynb    # just these notebooks
    python tools/rise_metadata.py --check         # change nothing; exit 1 if anything is stale

Two things are written, both idempotent (a second run changes no byte):
1. notebook-level `metadata.rise` (theme, transition, scroll, slide numbers, the course
   overlay, chalkboard).  Only that key is touched: cells, outputs, ids and every other
   metadata key are copied through unchanged, so nbval's saved outputs stay valid.
2. a copy of notebooks/rise.css beside each notebook: jupyterlab-rise 0.43 loads
   `/files/<the notebook's own folder>/rise.css`, not the root's, so every chapter folder
   needs its own copy (a copy, not a symlink, so that Windows checkouts work too).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
RISE_CSS = NOTEBOOKS / "rise.css"
COURSE_NAME = "动手学深度学习 · PyTorch 课程"

# Inline styles keep the overlay readable even where rise.css is missing; rise.css refines it.
OVERLAY = (
    "<div class='d2l-course-overlay' style='position: absolute; top: 8px; right: 16px; "
    f"font-size: 14px; color: #888; z-index: 30;'>{COURSE_NAME}</div>"
)

# Keys are jupyterlab-rise settings (schemas/jupyterlab-rise/plugin.json); notebook metadata
# overrides the user's settings.  enable_chalkboard loads reveal.js' chalkboard plugin, which
# jupyterlab-rise 0.43 bundles (keys `[` board, `]` draw on slide, `-` clear, `=` reset).
COURSE_RISE: dict[str, object] = {
    "theme": "white",          # light and offline: `simple` fetches Google Fonts
    "transition": "fade",
    "scroll": True,            # a slide taller than the screen scrolls instead of being cut off
    "slideNumber": "c/t",      # "current/total", counting subslides
    "center": False,           # top-aligned: outputs appear below the code without moving it
    "overlay": OVERLAY,
    "enable_chalkboard": True,
}


def notebook_paths(args: list[str], tool: str = "rise_metadata") -> list[Path]:
    """The notebooks named on the command line, or every notebook under notebooks/.

    Shared with build_slides.py; tool names the script in the error message."""
    if not args:
        return sorted(
            p for p in NOTEBOOKS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
        )
    paths = []
    for arg in args:
        path = Path(arg)
        if not path.is_file() or path.suffix != ".ipynb":
            raise SystemExit(
                f"{tool}: notebook should be an existing .ipynb file, but got {arg!r}; pass "
                "paths like notebooks/03_linear-networks/03.6_softmax-regression-scratch.ipynb, "
                "or none for every notebook"
            )
        paths.append(path.resolve())
    return paths


def dumps_like_nbformat(nb: dict) -> str:
    """Serialise exactly as nbformat.write does, so an unchanged notebook stays byte-identical."""
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def with_course_rise(nb: dict) -> dict:
    """Return nb with metadata.rise = its own extra keys updated by COURSE_RISE."""
    metadata = dict(nb.get("metadata", {}))
    metadata["rise"] = {**metadata.get("rise", {}), **COURSE_RISE}
    return {**nb, "metadata": metadata}


def update_notebook(path: Path, check: bool) -> bool:
    """Write the course settings into one notebook; return True if it was (or would be) changed."""
    text = path.read_text(encoding="utf-8")
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as err:
        raise SystemExit(
            f"rise_metadata: {path} should be notebook JSON, but parsing failed ({err}); "
            "fix the file"
        ) from err
    if not isinstance(nb, dict) or "cells" not in nb:
        raise SystemExit(f"rise_metadata: {path} has no 'cells' list; is it a Jupyter notebook?")
    new_nb = with_course_rise(nb)
    if new_nb.get("metadata", {}).get("rise") == nb.get("metadata", {}).get("rise"):
        return False
    if not check:
        path.write_text(dumps_like_nbformat(new_nb), encoding="utf-8")
    return True


def sync_css(folders: set[Path], check: bool) -> list[Path]:
    """Copy notebooks/rise.css into each folder that holds a notebook; return the stale copies."""
    css = RISE_CSS.read_bytes()
    stale = []
    for folder in sorted(folders):
        target = folder / "rise.css"
        if target.resolve() == RISE_CSS.resolve():
            continue
        if not target.is_file() or target.read_bytes() != css:
            stale.append(target)
            if not check:
                target.write_bytes(css)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="notebooks to update (default: all)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    paths = notebook_paths(args.notebooks)
    changed = [p for p in paths if update_notebook(p, args.check)]
    stale_css = sync_css({p.parent for p in paths}, args.check)
    verb = "would update" if args.check else "updated"
    for path in changed + stale_css:
        print(f"{verb} {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
    print(f"rise_metadata: {len(paths)} notebooks, {len(changed)} {verb}, "
          f"{len(stale_css)} rise.css copies {verb}")
    return 1 if args.check and (changed or stale_css) else 0


if __name__ == "__main__":
    sys.exit(main())
