"""How a course notebook becomes slides: shared by the structural and the browser tests.

The mapping follows jupyterlab-rise 0.43 (and nbconvert's reveal template): each
`slide` cell opens a top-level reveal.js <section> (a column you reach with ArrowRight);
it and each `subslide` cell open a vertical <section> inside it (reached with Space or
ArrowDown); `fragment` cells appear step by step on the current vertical slide; `-` cells
continue it; `skip` cells are left out; `notes` go to the speaker view.
"""

from __future__ import annotations

import base64
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
DEMO_DECK = "00_demo/00.1_demo.ipynb"  # where the browser tests put write_demo_notebook
SLIDE_TYPES = {"slide", "subslide", "fragment", "-", "skip", "notes"}

# The screen budget (CONTRIBUTING.md, rule 3): a code cell is at most 12 lines of under 80
# characters; a vertical slide, its cells' source plus text output, about 20 lines.  Text
# is counted as a 1280x800 projector shows it with notebooks/rise.css: markdown wraps at
# ~100 columns (a CJK character is 2 columns), blank lines are spacing, not lines; text
# outputs wrap at 110 columns; an HTML table counts its rows; a plot counts its drawn
# height (PNG header or SVG size, capped at 416 px by rise.css) at 34 px a line.  "About
# 20" is enforced as at most 22.  Checked against the offline decks in Chromium (358
# slides of 21 notebooks, 2026-11-26): 349 agreed with "at most 768 px tall" (the screen
# less reveal's margin); 4 slides of 20-22 lines were 810-851 px, 5 of 25-28 lines fit.
MAX_CODE_LINES = 12
MAX_CODE_COLUMNS = 79
MAX_SLIDE_LINES = 22
MAX_OUTPUT_COLUMNS = 100  # a shown text output line wider than this is shortened
MARKDOWN_COLUMNS = 100
OUTPUT_COLUMNS = 110
IMAGE_LINES = 8      # a plot whose size is unknown
IMAGE_MAX_PX = 416   # rise.css: max-height 52vh of an 800 px screen
LINE_PX = 34         # one screen line, measured (text at 22 px x 1.45, code plus padding)


def notebook_paths() -> list[Path]:
    """Every course notebook, found afresh (others add chapters while the suite grows)."""
    return sorted(p for p in NOTEBOOKS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def chapter_first_notebooks() -> list[Path]:
    """The first notebook (by name) of each chapter folder under notebooks/."""
    firsts: dict[Path, Path] = {}
    for path in notebook_paths():
        firsts.setdefault(path.parent, path)
    return [firsts[folder] for folder in sorted(firsts)]


def slide_type(cell: dict) -> str:
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-")


def source_text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def display_columns(line: str) -> int:
    """Width of a line in monospace columns: East Asian wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


def wrapped_lines(text: str, columns: int) -> int:
    """Screen lines of text wrapped at `columns`, blank lines not counted."""
    return sum(
        max(1, math.ceil(display_columns(line) / columns)) for line in text.splitlines()
        if line.strip()
    )


def image_height_px(output: dict) -> float | None:
    """The height a plot is drawn at in the browser, from the PNG header or the SVG size."""
    data, metadata = output.get("data", {}), output.get("metadata", {})
    for mime in ("image/png", "image/jpeg", "image/svg+xml"):
        height = metadata.get(mime, {}).get("height") if isinstance(metadata.get(mime), dict) \
            else None
        if height:
            return float(height)
    if "image/png" in data:
        try:
            header = base64.b64decode(source_text({"source": data["image/png"]})[:44])
        except ValueError:
            return None
        if header[12:16] == b"IHDR":
            return float(int.from_bytes(header[20:24], "big"))
    if "image/svg+xml" in data:
        svg = source_text({"source": data["image/svg+xml"]})
        match = re.search(r"<svg\b[^>]*?\bheight=\"([\d.]+)(pt|px)?\"", svg)
        if match:
            return float(match[1]) * (4 / 3 if match[2] == "pt" else 1)
    return None


def image_lines(output: dict) -> int:
    """Screen lines a plot takes: its drawn height, capped by rise.css at 52% of 800 px."""
    height = image_height_px(output)
    if height is None:
        return IMAGE_LINES
    return math.ceil(min(height, IMAGE_MAX_PX) / LINE_PX)


def output_lines(output: dict) -> int:
    """Screen lines one saved output takes on a slide."""
    if output.get("output_type") == "stream":
        return wrapped_lines(source_text({"source": output.get("text", "")}), OUTPUT_COLUMNS)
    if output.get("output_type") == "error":
        return len(output.get("traceback", []))
    data = output.get("data", {})
    if "image/png" in data or "image/svg+xml" in data or "image/jpeg" in data:
        return image_lines(output)
    if "text/html" in data:
        return len(re.findall(r"<tr\b", source_text({"source": data["text/html"]}))) or 1
    if "text/plain" in data:
        return wrapped_lines(source_text({"source": data["text/plain"]}), OUTPUT_COLUMNS)
    return 0


def cell_lines(cell: dict) -> int:
    """Screen lines a shown cell takes: its source plus, for code, its outputs."""
    text = source_text(cell)
    if cell.get("cell_type") == "code":
        lines = len([line for line in text.splitlines() if line.strip()])
        return lines + sum(output_lines(o) for o in cell.get("outputs", []))
    return wrapped_lines(text, MARKDOWN_COLUMNS)


@dataclass
class VerticalSlide:
    """One reveal.js vertical slide: the cells shown on it (fragments included)."""

    first_cell: int
    cells: list[int] = field(default_factory=list)
    lines: int = 0


def vertical_slides(nb: dict) -> list[list[VerticalSlide]]:
    """The deck as RISE lays it out: a list of top-level columns of vertical slides."""
    columns: list[list[VerticalSlide]] = []
    for index, cell in enumerate(nb["cells"]):
        kind = slide_type(cell)
        if kind in ("skip", "notes"):
            continue
        if kind == "slide" or not columns:
            columns.append([VerticalSlide(index)])
        elif kind == "subslide":
            columns[-1].append(VerticalSlide(index))
        current = columns[-1][-1]
        current.cells.append(index)
        current.lines += cell_lines(cell)
    return columns


def deck_shape(nb: dict) -> tuple[int, int]:
    """(top-level <section>s, vertical <section>s) that the RISE view must contain."""
    columns = vertical_slides(nb)
    return len(columns), sum(len(column) for column in columns)


def problems(nb: dict) -> list[str]:
    """Every way nb breaks the course's slide rules (CONTRIBUTING.md 1-3 and 6), as messages."""
    found = []
    cells = nb.get("cells", [])
    for index, cell in enumerate(cells):
        kind = cell.get("metadata", {}).get("slideshow", {}).get("slide_type")
        if kind not in SLIDE_TYPES:
            found.append(f"cell {index}: metadata.slideshow.slide_type should be one of "
                         f"{sorted(SLIDE_TYPES)}, but got {kind!r}")
    if not cells:
        return [*found, "the notebook has no cells"]
    first = cells[0]
    if first.get("cell_type") != "markdown" or slide_type(first) != "slide" \
            or not source_text(first).startswith("# "):
        found.append("cell 0: the title slide comes first: a markdown `slide` cell opening "
                     "with '# N.M 标题'")
    code_cells = [i for i, c in enumerate(cells) if c.get("cell_type") == "code"]
    if code_cells and slide_type(cells[code_cells[0]]) != "skip":
        found.append(f"cell {code_cells[0]}: the set-up cell (the first code cell: imports, "
                     "seeds) should be `skip` in slides")
    for index in code_cells:
        cell = cells[index]
        tags = cell.get("metadata", {}).get("tags", [])
        if "answer" in tags:
            meta = cell["metadata"]
            if slide_type(cell) != "skip" or not meta.get("jupyter", {}).get("source_hidden"):
                found.append(f"cell {index}: an answer cell needs slide_type 'skip' and "
                             "jupyter.source_hidden true (hidden in Lab, left out of slides)")
            continue
        if slide_type(cell) in ("skip", "notes"):
            continue
        lines = source_text(cell).splitlines()
        if len(lines) > MAX_CODE_LINES:
            found.append(f"cell {index}: a code cell on a slide has at most {MAX_CODE_LINES} "
                         f"lines, but this one has {len(lines)}; split it (subslide/fragment)")
        for number, line in enumerate(lines, 1):
            if display_columns(line) > MAX_CODE_COLUMNS:
                found.append(f"cell {index} line {number}: code lines are under 80 "
                             f"characters, but this one has {display_columns(line)}")
        for output in cell.get("outputs", []):
            text = source_text({"source": output.get("text", "")}) if output.get(
                "output_type") == "stream" else source_text(
                {"source": output.get("data", {}).get("text/plain", "")})
            wide = max((display_columns(line) for line in text.splitlines()), default=0)
            shown_as = set(output.get("data", {})) & {"image/png", "image/svg+xml", "text/html"}
            if wide > MAX_OUTPUT_COLUMNS and not shown_as:  # plots and tables show otherwise
                found.append(f"cell {index}: a text output line is {wide} columns wide, more "
                             f"than {MAX_OUTPUT_COLUMNS}; shorten what the cell prints")
    for column in vertical_slides(nb):
        for vertical in column:
            if vertical.lines > MAX_SLIDE_LINES:
                found.append(f"cell {vertical.first_cell}: this slide takes {vertical.lines} "
                             f"screen lines (cells {vertical.cells}), more than "
                             f"{MAX_SLIDE_LINES}; move part of it to a subslide")
    headings = [source_text(c) for c in cells if c.get("cell_type") == "markdown"]
    has_exercises = any(re.search(r"^#+\s*练习", h, re.M) for h in headings)
    answers = [c for c in cells if "answer" in c.get("metadata", {}).get("tags", [])]
    if has_exercises and not answers:
        found.append("the notebook has a 练习 section but no answer cell (tag 'answer')")
    return found


def write_demo_notebook(path: Path) -> dict:
    """A small deck with every slide type, used to test the tools and the browser view."""
    import nbformat

    def md(source: str, kind: str) -> dict:
        return nbformat.v4.new_markdown_cell(source, metadata={"slideshow": {"slide_type": kind}})

    def code(source: str, kind: str, **metadata) -> dict:
        metadata["slideshow"] = {"slide_type": kind}
        return nbformat.v4.new_code_cell(source, metadata=metadata)

    def ran(cell: dict, count: int, *outputs: dict) -> dict:
        cell.execution_count, cell.outputs = count, list(outputs)
        return cell

    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                              "language": "python"}
    nb.cells = [
        md("# 0.1 幻灯片演示\n测试用的小笔记本：标题、代码、公式 $y = x^2$。", "slide"),
        ran(code("import math\n\nbase = 6", "skip"), 1),
        md("## 乘法", "slide"),
        ran(code("# Multiply the set-up value\nprint(base * 7)", "-"), 2,
            nbformat.v4.new_output("stream", name="stdout", text="42\n")),
        md("### 细看：平方根", "subslide"),
        ran(code("math.sqrt(base ** 2)", "fragment"), 3,
            nbformat.v4.new_output("execute_result", {"text/plain": "6.0"}, execution_count=3)),
        md("讲者备注：这里停一下。", "notes"),
        md("## 练习\n1. 求 $6^2$。", "slide"),
        ran(code("assert base ** 2 == 36", "skip", jupyter={"source_hidden": True},
                 tags=["answer"]), 4),
    ]
    nbformat.write(nb, path)
    return nb
