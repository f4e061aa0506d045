"""The notebooks as slideshows in a real browser (issue 9).

Live decks: JupyterLab + jupyterlab-rise on 127.0.0.1, the RISE view of each chapter's
first notebook (and of a demo deck with every slide type) in headless Debian Chromium:
the reveal.js sections match the notebook's slide metadata, the keyboard moves through
the deck, and a code cell runs inside the slideshow.  Offline decks: one deck from
`make slides` renders from file:// with every non-local request blocked.
Screenshots go to build/test-artifacts/rise/.  Without /usr/bin/chromium these tests
are skipped with the reason (see tests/conftest.py).
"""

from __future__ import annotations

import json
import re
import sys
import urllib.request
from pathlib import Path

import pytest
from _slides import (
    DEMO_DECK,
    NOTEBOOKS,
    REPO,
    chapter_first_notebooks,
    deck_shape,
    source_text,
)

DECKS = [DEMO_DECK] + [p.relative_to(NOTEBOOKS).as_posix() for p in chapter_first_notebooks()]
TOP = ".reveal .slides > section"
PRESENT_INDEX = f"() => Array.from(document.querySelectorAll('{TOP}'))" \
                ".findIndex(s => s.classList.contains('present'))"
NO_ANIMATION = ("() => !document.querySelector('.reveal .slides section.present')"
                ".getAnimations({subtree: true}).some(a => a.playState === 'running')")
KERNELS_IDLE = ("async () => (await (await fetch('/api/kernels')).json())"
                ".every(k => k.execution_state === 'idle')")
# a shown code cell with saved output (so that its running must show output again)
VISIBLE_CODE = "section.present .jp-CodeCell:visible:has(.jp-OutputArea-output)"


def palette(page, label: str) -> None:
    """Run a JupyterLab command by its label from the command palette (Ctrl+Shift+C)."""
    page.keyboard.press("Control+Shift+C")
    page.wait_for_selector(".lm-CommandPalette:visible")
    page.keyboard.type(label)
    active = page.locator(".lm-CommandPalette-item.lm-mod-active .lm-CommandPalette-itemLabel")
    assert active.inner_text() == label, f"the palette offers {active.inner_text()!r}"
    page.keyboard.press("Enter")
    page.wait_for_selector(".lm-CommandPalette", state="hidden")


def shut_down_sessions(url: str, token: str) -> None:
    """Stop the kernels the RISE view started (each deck imports torch: ~0.3 GB each)."""
    def call(method: str, path: str):
        request = urllib.request.Request(f"{url}{path}", method=method,
                                         headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    for session in call("GET", "/api/sessions"):
        call("DELETE", f"/api/sessions/{session['id']}")


def settle(page) -> None:
    page.wait_for_function(NO_ANIMATION)


@pytest.fixture
def rise_page(rise_browser):
    context = rise_browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(60_000)  # generous: CI machines are small and shared
    page = context.new_page()
    remote: list[str] = []  # a lecture room may have no internet: nothing may need it
    page.on("request", lambda request: None if re.match(
        r"(data|blob):|https?://127\.0\.0\.1[:/]", request.url) else remote.append(request.url))
    try:
        yield page, remote
    finally:
        context.close()


@pytest.mark.parametrize("rel", DECKS)
def test_rise_slideshow(rise_lab_server, rise_page, rise_artifacts, rel):
    url, token, root = rise_lab_server
    page, remote = rise_page
    nb = json.loads((root / rel).read_text(encoding="utf-8"))

    try:
        check_deck(page, remote, nb, f"{url}/rise/{rel}?token={token}",
                   rise_artifacts / rel.replace("/", "__").removesuffix(".ipynb"))
    finally:
        page.close()
        shut_down_sessions(url, token)


def check_deck(page, remote: list[str], nb: dict, deck_url: str, shots: Path) -> None:
    top, vertical = deck_shape(nb)
    page.goto(deck_url, wait_until="domcontentloaded")
    page.wait_for_selector(".reveal.ready .slides > section.present", state="visible",
                           timeout=90_000)
    # one top-level <section> per `slide` cell; one vertical <section> per slide/subslide
    assert page.locator(TOP).count() == top
    assert page.locator(f"{TOP} > section").count() == vertical
    assert page.evaluate(PRESENT_INDEX) == 0
    assert page.evaluate("location.hash") == "#/slide-0-0"
    title = source_text(nb["cells"][0]).splitlines()[0].lstrip("# ").strip()
    assert title in page.locator(f"{TOP}.present").inner_text()
    overlay = page.locator("#rise-overlay .d2l-course-overlay")
    assert overlay.inner_text() == "动手学深度学习 · PyTorch 课程"
    # rise.css from the notebook's folder is applied (22 px text, not JupyterLab's 14 px)
    size = page.locator(f"{TOP}.present .jp-RenderedMarkdown").first.evaluate(
        "e => getComputedStyle(e).fontSize")
    assert size == "22px"
    assert page.locator("#chalkboard").count() == 1  # metadata.rise.enable_chalkboard
    settle(page)
    page.screenshot(path=f"{shots}__slide1.png")

    if top > 1:  # ArrowRight: the next top-level slide
        page.keyboard.press("ArrowRight")
        page.wait_for_function(f"() => ({PRESENT_INDEX})() === 1")
        assert page.evaluate("location.hash") == "#/slide-1-0"

    # Space steps through slides, subslides and fragments to the first shown code cell
    # that has output.
    for _ in range(vertical * 4):
        if page.locator(VISIBLE_CODE).count():
            break
        before = page.evaluate("location.hash + document.querySelectorAll("
                               "'.fragment.visible').length")
        page.keyboard.press("Space")
        page.wait_for_function(f"() => location.hash + document.querySelectorAll("
                               f"'.fragment.visible').length !== {json.dumps(before)}")
    found = page.locator(VISIBLE_CODE)
    assert found.count(), "no code cell with output found by stepping through the deck"
    index = found.first.evaluate(
        "c => Array.from(document.querySelectorAll('.jp-Cell')).indexOf(c)")
    cell = page.locator(".jp-Cell").nth(index)  # pinned: its output is cleared below
    settle(page)

    # Run it as a lecturer would: clear the saved outputs, run the (skipped) set-up cells
    # above it from the palette, then Ctrl+Enter in the slide (Shift+Enter may advance).
    cell.locator(".jp-InputPrompt").click()
    palette(page, "Clear Outputs of All Cells")
    assert cell.locator(".jp-OutputArea-output").count() == 0
    above = [c for c in nb["cells"][:index]
             if c["cell_type"] == "code" and source_text(c).strip()]
    if above:
        palette(page, "Run All Above Selected Cell")
        page.wait_for_function(KERNELS_IDLE, timeout=120_000)
    cell.locator(".jp-InputPrompt").click()
    page.keyboard.press("Control+Enter")
    expected = f"[{len(above) + 1}]:"
    page.wait_for_function(
        "([e, p]) => e.querySelector('.jp-InputPrompt').innerText.trim() === p",
        arg=[cell.element_handle(), expected], timeout=120_000)
    output = cell.locator(".jp-OutputArea")
    # text, or a figure (an SVG or PNG plot has no text of its own)
    shown = output.inner_text().strip() or output.locator("svg, img").count()
    assert shown, "the cell ran but showed no output"
    assert "Traceback" not in output.inner_text(), output.inner_text()
    settle(page)
    page.screenshot(path=f"{shots}__ran-cell.png")
    assert remote == [], f"the live deck asked the internet for {remote}"


def test_every_slide_fits_the_projector(rise_slides, rise_browser):
    """Every vertical slide of every deck, measured in Chromium at 1280x800 (fragments
    shown, MathJax and images loaded): at most the 768 px the screen shows."""
    sys.path.insert(0, str(REPO / "tools"))
    from measure_slides import BUDGET_PX, measure_decks, too_tall

    out, notebooks = rise_slides
    decks = [out / p.relative_to(NOTEBOOKS).with_suffix(".html") for p in notebooks]
    heights = measure_decks(rise_browser, decks)
    assert len(heights) == len(notebooks) and all(heights.values())
    problems = too_tall(heights, out)
    assert not problems, (f"{len(problems)} slide(s) taller than {BUDGET_PX} px; split them "
                          "(subslide) or shorten them:\n" + "\n".join(problems))


def test_offline_deck_renders(rise_slides, rise_browser, rise_artifacts):
    out, notebooks = rise_slides
    if not notebooks:
        pytest.skip("no notebooks under notebooks/ yet, so `make slides` built no deck")
    # every notebook has a deck, linked from the index page
    index = (out / "index.html").read_text(encoding="utf-8")
    for path in (p.relative_to(NOTEBOOKS).with_suffix(".html") for p in notebooks):
        assert f'href="{path.as_posix()}"' in index and (out / path).is_file(), path
    rel = notebooks[0].relative_to(NOTEBOOKS)
    deck = out / rel.with_suffix(".html")
    nb = json.loads(notebooks[0].read_text(encoding="utf-8"))

    context = rise_browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(60_000)
    page = context.new_page()
    blocked, failed, errors = [], [], []

    def only_local(route):
        if re.match(r"(file|data|blob):|https?://(127\.0\.0\.1|localhost)[:/]",
                    route.request.url):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    try:
        page.route("**/*", only_local)
        page.on("requestfailed", lambda request: failed.append(request.url))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(deck.as_uri())
        page.wait_for_selector(".reveal.ready .slides > section.present", state="visible",
                               timeout=30_000)
        top, vertical = deck_shape(nb)
        assert page.locator(TOP).count() == top
        assert page.locator(f"{TOP} > section").count() == vertical
        title = source_text(nb["cells"][0]).splitlines()[0].lstrip("# ").strip()
        assert title in page.locator(f"{TOP}.present").inner_text()
        assert "动手学深度学习" in page.locator(".d2l-course-overlay").inner_text()
        settle(page)
        page.screenshot(path=str(rise_artifacts / f"offline__{rel.stem}__slide1.png"))
        if top > 1:
            page.keyboard.press("ArrowRight")
            page.wait_for_function("() => location.hash === '#/1'")
            settle(page)
            page.screenshot(path=str(rise_artifacts / f"offline__{rel.stem}__slide2.png"))
        if any("$" in source_text(c) for c in nb["cells"] if c["cell_type"] == "markdown"):
            page.wait_for_selector("mjx-container", state="attached", timeout=30_000)
        assert blocked == [], f"the offline deck asked the network for {blocked}"
        assert failed == [], f"requests failed: {failed}"
        assert errors == [], f"JavaScript errors: {errors}"
    finally:
        context.close()
