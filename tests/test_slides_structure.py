"""Every notebook is a well-formed RISE deck (issue 9), and the slide tooling works.

Notebooks are discovered afresh on each run, so a new chapter is checked with no wiring.
The rules and the line budget live in tests/_slides.py (CONTRIBUTING.md rules 1-3, 6).
"""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import subprocess
import sys

import pytest
from _slides import (
    NOTEBOOKS,
    REPO,
    deck_shape,
    notebook_paths,
    problems,
    vertical_slides,
    write_demo_notebook,
)

TOOL = REPO / "tools" / "rise_metadata.py"
NOTEBOOK_IDS = [p.relative_to(NOTEBOOKS).as_posix() for p in notebook_paths()]


def load_tool():
    spec = importlib.util.spec_from_file_location("rise_metadata", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_tool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOOL), *args], capture_output=True, text=True,
                          cwd=REPO)


@pytest.mark.parametrize("rel", NOTEBOOK_IDS)
def test_notebook_follows_slide_rules(rel):
    nb = json.loads((NOTEBOOKS / rel).read_text(encoding="utf-8"))
    found = problems(nb)
    assert not found, f"{rel} breaks the slide rules:\n  " + "\n  ".join(found)


@pytest.mark.parametrize("rel", NOTEBOOK_IDS)
def test_notebook_has_course_rise_settings(rel):
    rise = json.loads((NOTEBOOKS / rel).read_text(encoding="utf-8"))["metadata"].get("rise")
    expected = load_tool().COURSE_RISE
    assert rise is not None and {k: rise.get(k) for k in expected} == expected, (
        f"{rel}: notebook-level metadata.rise should hold the course settings {expected}, "
        f"but has {rise}; run `python tools/rise_metadata.py {NOTEBOOKS.name}/{rel}`"
    )


@pytest.mark.parametrize("folder", sorted({(NOTEBOOKS / r).parent for r in NOTEBOOK_IDS}),
                         ids=lambda f: f.name)
def test_each_notebook_folder_has_current_rise_css(folder):
    # jupyterlab-rise loads /files/<the notebook's folder>/rise.css
    copy = folder / "rise.css"
    assert copy.is_file() and copy.read_bytes() == (NOTEBOOKS / "rise.css").read_bytes(), (
        f"{copy} should be a copy of notebooks/rise.css; run `python tools/rise_metadata.py`"
    )


def test_demo_deck_shape_and_rules(tmp_path):
    nb = write_demo_notebook(tmp_path / "demo.ipynb")
    assert problems(nb) == []
    # slides: title, 乘法 (+ subslide 细看), 练习; skip, notes and answer cells left out
    assert deck_shape(nb) == (3, 4)
    assert [[v.cells for v in column] for column in vertical_slides(nb)] == [
        [[0]], [[2, 3], [4, 5]], [[7]]]


def test_rules_catch_each_mistake(tmp_path):
    nb = write_demo_notebook(tmp_path / "demo.ipynb")
    cells = nb["cells"]
    cells[0]["metadata"]["slideshow"]["slide_type"] = "-"         # no title slide
    cells[1]["metadata"]["slideshow"]["slide_type"] = "-"         # set-up shown
    cells[3]["source"] = "\n".join(f"x{i} = {i}" for i in range(13))  # 13-line cell
    cells[3]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "0\n" * 9}]
    cells[5]["source"] = "y = '" + "z" * 80 + "'"                 # 86-column line
    cells[8]["metadata"]["slideshow"]["slide_type"] = "fragment"  # answer on a slide
    cells[5]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "w" * 101}]
    del cells[2]["metadata"]["slideshow"]                          # no slide type
    found = "\n".join(problems(nb))
    for expected in ["cell 0: the title slide", "cell 1: the set-up cell", "cell 3: a code cell",
                     "cell 5 line 1: code lines", "cell 8: an answer cell",
                     "cell 2: metadata.slideshow.slide_type", "screen lines",
                     "cell 5: a text output line is 101 columns wide"]:
        assert expected in found, f"{expected!r} not reported in:\n{found}"


def test_slide_budget_counts_wrapped_text_and_plots(tmp_path):
    nb = write_demo_notebook(tmp_path / "demo.ipynb")
    cells = nb["cells"]
    cells[2]["source"] = "## 乘法\n\n" + "长" * 150   # 300 columns: 3 screen lines + heading
    # a 400x300 px PNG: the header says so; 300 px / 34 px a line = 9 lines
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + (400).to_bytes(4, "big") \
        + (300).to_bytes(4, "big") + b"\x08\x06\x00\x00\x00"
    cells[3]["outputs"] = [{"output_type": "display_data", "metadata": {},
                            "data": {"image/png": base64.b64encode(png).decode(),
                                     "text/plain": "<Figure>"}}]
    first = vertical_slides(nb)[1][0]
    assert first.lines == 1 + 3 + 2 + 9  # heading, wrapped text, 2 code lines, one plot
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="252pt" height="180pt"></svg>'
    cells[3]["outputs"][0]["data"] = {"image/svg+xml": svg, "text/plain": "<Figure>"}
    assert vertical_slides(nb)[1][0].lines == 1 + 3 + 2 + 8  # 180 pt = 240 px: 8 lines
    cells[3]["outputs"] *= 3  # three plots on one slide do not fit
    assert any("screen lines" in p for p in problems(nb))


def test_rise_metadata_tool_sets_settings_and_is_idempotent(tmp_path):
    path = tmp_path / "ch" / "demo.ipynb"
    path.parent.mkdir()
    write_demo_notebook(path)
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["metadata"]["rise"] = {"autolaunch": True}  # a per-notebook extra is kept
    path.write_text(json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    before = path.read_text(encoding="utf-8")

    assert run_tool("--check", str(path)).returncode == 1
    first = run_tool(str(path))
    assert first.returncode == 0, first.stderr
    after = json.loads(path.read_text(encoding="utf-8"))
    assert after["cells"] == nb["cells"]
    assert {k: v for k, v in after["metadata"].items() if k != "rise"} == {
        k: v for k, v in nb["metadata"].items() if k != "rise"}
    tool = load_tool()
    assert after["metadata"]["rise"] == {"autolaunch": True, **tool.COURSE_RISE}
    assert tool.COURSE_NAME in after["metadata"]["rise"]["overlay"]
    assert (path.parent / "rise.css").read_bytes() == (NOTEBOOKS / "rise.css").read_bytes()
    # Only metadata.rise changed: with the old value put back, the file is byte-identical.
    after["metadata"]["rise"] = {"autolaunch": True}
    assert tool.dumps_like_nbformat(after) == before

    snapshot = path.read_bytes()
    second = run_tool(str(path))
    assert second.returncode == 0 and path.read_bytes() == snapshot
    assert "0 updated" in second.stdout
    assert run_tool("--check", str(path)).returncode == 0


def test_rise_metadata_tool_names_a_bad_argument(tmp_path):
    result = run_tool(str(tmp_path / "missing.ipynb"))
    assert result.returncode != 0
    assert "notebook should be an existing .ipynb file" in result.stderr
    assert "missing.ipynb" in result.stderr


def test_offline_deck_loads_nothing_from_the_network(tmp_path):
    # The browser test renders a deck with the network blocked; this checks the HTML itself.
    if not (REPO / "slides" / "node_modules" / "reveal.js").is_dir():
        pytest.skip("slides/node_modules is not installed yet (`make slides` runs npm ci)")
    notebook = tmp_path / "demo.ipynb"
    write_demo_notebook(notebook)
    out = tmp_path / "slides"
    result = subprocess.run([sys.executable, str(REPO / "tools" / "build_slides.py"),
                             "--out", str(out), str(notebook)],
                            capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    html = (out / "demo.html").read_text(encoding="utf-8")
    remote = re.findall(r"<(?:script|link|img)\b[^>]*\b(?:src|href)=[\"']((?:https?:)?//[^\"']+)",
                        html)
    assert remote == [], f"the offline deck loads {remote}"
    assert "import mermaid" not in html
    for asset in re.findall(r"\b(?:src|href)=\"(_static/[^\"?]+)", html):
        assert (out / asset).is_file(), f"{asset} is referenced but not copied"
    assert html.count("<section") == 3 + 4  # 3 columns holding 4 vertical slides
    assert "动手学深度学习 · PyTorch 课程" in html  # the overlay, from the course settings
    assert 'href="index.html"' in html and (out / "index.html").is_file()


def test_build_slides_names_a_bad_argument(tmp_path):
    result = subprocess.run([sys.executable, str(REPO / "tools" / "build_slides.py"),
                             "--out", str(tmp_path), str(tmp_path / "nope.txt")],
                            capture_output=True, text=True, cwd=REPO)
    assert result.returncode != 0
    assert "notebook should be an existing .ipynb file" in result.stderr
    assert "nope.txt" in result.stderr
