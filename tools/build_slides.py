"""Build offline reveal.js decks of the course notebooks, plus an index page (`make slides`).

Usage (from the repository root, after `npm ci` in slides/):
    python tools/build_slides.py                          # every notebook -> build/slides/
    python tools/build_slides.py --out DIR a.ipynb b.ipynb

For lecturers who present without a kernel: each deck is one HTML file with the saved
outputs embedded, and build/slides/_static/ holds reveal.js, MathJax and rise.css copied
from slides/node_modules, so the whole folder works from file:// or a USB stick, offline.
Each deck uses its notebook's metadata.rise (theme, transition, scroll, slide numbers,
overlay), the settings tools/rise_metadata.py writes.
"""

from __future__ import annotations

import argparse
import html
import os
import shutil
import sys
import time
from pathlib import Path

from rise_metadata import notebook_paths  # tools/ is on sys.path when run as a script

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
SLIDES = REPO / "slides"
NODE_MODULES = SLIDES / "node_modules"
TEMPLATES = SLIDES / "templates"

# (source under node_modules, destination under _static): only what a deck loads.
ASSETS = [
    ("reveal.js/dist/reveal.js", "reveal.js/dist/reveal.js"),
    ("reveal.js/dist/reveal.css", "reveal.js/dist/reveal.css"),
    ("reveal.js/dist/reset.css", "reveal.js/dist/reset.css"),
    ("reveal.js/dist/theme", "reveal.js/dist/theme"),
    ("reveal.js/plugin/notes", "reveal.js/plugin/notes"),
    ("reveal.js/LICENSE", "reveal.js/LICENSE"),
    ("mathjax/es5/tex-chtml-full.js", "mathjax/tex-chtml-full.js"),
    ("mathjax/es5/output/chtml/fonts/woff-v2", "mathjax/output/chtml/fonts/woff-v2"),
    ("mathjax/LICENSE", "mathjax/LICENSE"),
]


def copy_assets(static: Path) -> None:
    """Copy reveal.js, MathJax and rise.css into static/ (the decks' only dependencies)."""
    missing = [src for src, _ in ASSETS if not (NODE_MODULES / src).exists()]
    if missing:
        raise SystemExit(
            f"build_slides: slides/node_modules lacks {missing[0]}; install the pinned "
            "reveal.js and MathJax with `cd slides && npm ci` (or run `make slides`)"
        )
    if static.exists():
        shutil.rmtree(static)
    for src, dest in ASSETS:
        source, target = NODE_MODULES / src, static / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
    shutil.copy2(NOTEBOOKS / "rise.css", static / "rise.css")


def deck_title(nb) -> str:
    """The title slide's first heading, e.g. '3.6 softmax回归的从零开始实现'."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return ""


def make_exporter():
    """One SlidesExporter with the offline template, reused for every deck."""
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    config = Config()
    config.TemplateExporter.extra_template_basedirs = [str(TEMPLATES)]
    config.SlidesExporter.template_name = "reveal_offline"
    return SlidesExporter(config=config)


def build_deck(exporter, path: Path, out: Path, static: Path) -> tuple[Path, str]:
    """Convert one notebook to out/<chapter>/<name>.html; return (deck path, title)."""
    import nbformat
    from rise_metadata import COURSE_RISE

    nb = nbformat.read(path, as_version=4)
    # A notebook's own metadata.rise wins; the course settings fill what it lacks.
    rise = {**COURSE_RISE, **nb.metadata.get("rise", {})}
    rel = path.relative_to(NOTEBOOKS) if path.is_relative_to(NOTEBOOKS) else Path(path.name)
    deck = out / rel.with_suffix(".html")
    deck.parent.mkdir(parents=True, exist_ok=True)
    static_url = Path(os.path.relpath(static, deck.parent)).as_posix()
    number = rise.get("slideNumber", "c/t")
    exporter.reveal_url_prefix = f"{static_url}/reveal.js"
    exporter.reveal_theme = rise.get("theme", "white")
    exporter.reveal_transition = rise.get("transition", "fade")
    exporter.reveal_scroll = bool(rise.get("scroll", True))
    exporter.reveal_number = "" if number is False else ("c/t" if number is True else number)
    exporter.reveal_width, exporter.reveal_height = "1280", "800"
    resources = {
        "metadata": {"name": path.stem, "path": str(path.parent)},
        "d2l": {
            "static": static_url,
            "index": Path(os.path.relpath(out / "index.html", deck.parent)).as_posix(),
            "overlay": rise.get("overlay", ""),
            "center": bool(rise.get("center", False)),
        },
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    deck.write_text(body, encoding="utf-8")
    return deck, deck_title(nb)


def write_index(out: Path, decks: list[tuple[Path, str]]) -> Path:
    """An index page linking every deck, grouped by chapter folder."""
    chapters: dict[str, list[tuple[Path, str]]] = {}
    for deck, title in decks:
        chapters.setdefault(deck.parent.relative_to(out).as_posix(), []).append((deck, title))
    parts = []
    for chapter, items in sorted(chapters.items()):
        links = "\n".join(
            f'    <li><a href="{html.escape(d.relative_to(out).as_posix())}">'
            f"{html.escape(t or d.stem)}</a></li>"
            for d, t in items
        )
        parts.append(f"  <h2>{html.escape(chapter)}</h2>\n  <ul>\n{links}\n  </ul>")
    index = out / "index.html"
    index.write_text(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<title>动手学深度学习 · PyTorch 课程 · 幻灯片 Slides</title>\n"
        "<style>body { font-family: 'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', "
        "sans-serif; max-width: 48em; margin: 2em auto; line-height: 1.6; }</style>\n"
        "</head>\n<body>\n  <h1>动手学深度学习 · PyTorch 课程 · 幻灯片 Slides</h1>\n"
        "  <p>离线幻灯片（无需内核）：方向键翻页，空格逐步显示，S 打开讲者备注，F 全屏。"
        "Offline decks (no kernel): arrow keys to move, Space to step, S for speaker notes, "
        "F for full screen.</p>\n" + "\n".join(parts) + "\n</body>\n</html>\n",
        encoding="utf-8",
    )
    return index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="notebooks to convert (default: all)")
    parser.add_argument("--out", default=str(REPO / "build" / "slides"), help="output folder")
    args = parser.parse_args(argv)
    out = Path(args.out).resolve()
    paths = notebook_paths(args.notebooks, tool="build_slides")
    start = time.perf_counter()
    if (out / "index.html").is_file():  # a previous build: start clean, no stale decks
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    static = out / "_static"
    copy_assets(static)
    exporter = make_exporter()
    decks = [build_deck(exporter, path, out, static) for path in paths]
    index = write_index(out, decks)
    print(f"build_slides: {len(decks)} decks + {index.relative_to(out.parent)} in {out} "
          f"({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
