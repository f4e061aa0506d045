"""Measure every slide of the course's decks in a real browser: does it fit the projector?

Usage (from the repository root; needs Debian's Chromium and `cd slides && npm ci`):
    python tools/measure_slides.py                        # every notebook
    python tools/measure_slides.py a.ipynb b.ipynb --all  # print every slide, not just misfits

Each notebook is built into an offline deck (tools/build_slides.py, the same rise.css as the
live RISE view), opened in headless Chromium at 1280x800, and every vertical slide is
visited; its rendered content height (fragments included, after MathJax and images) is
compared with what the screen shows: the deck's 800 px less reveal.js' 4 % margin, 768 px.
A slide taller than that scrolls on a projector, which is worse than a split.
Exit status 1 if any slide is too tall.  tests/test_browser_rise.py runs the same check.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from build_slides import build_deck, copy_assets, make_exporter  # tools/ is on sys.path
from rise_metadata import notebook_paths

BUDGET_PX = 768  # 800 px of slide height less reveal.js' margin of 0.04
VIEWPORT = {"width": 1280, "height": 800}
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

# Visit each vertical slide with every fragment shown; return [h, v, height, heading].
_MEASURE = """async () => {
  if (window.MathJax && MathJax.startup) { await MathJax.startup.promise; }
  await Promise.all(Array.from(document.images).map(img => img.complete ? null :
      new Promise(done => { img.onload = img.onerror = done; })));
  const heights = [];
  for (const slide of Reveal.getSlides()) {
    const {h, v} = Reveal.getIndices(slide);
    Reveal.slide(h, v, Number.MAX_SAFE_INTEGER);  // every fragment shown
    const present = Reveal.getCurrentSlide();
    const heading = present.querySelector('h1, h2, h3');
    heights.push([h, v, present.scrollHeight,
                  heading ? heading.textContent.replace('¶', '').trim().slice(0, 40) : '']);
  }
  Reveal.slide(0, 0);
  return heights;
}"""


def measure_decks(browser, decks: list[Path]) -> dict[Path, list[tuple[int, int, int, str]]]:
    """Heights of every vertical slide of every deck, in deck pixels."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(60_000)
    results = {}
    try:
        page = context.new_page()
        # offline decks: nothing may come from the network
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
            ("file:", "data:", "blob:")) else route.abort())
        for deck in decks:
            page.goto(deck.as_uri())
            page.wait_for_selector(".reveal.ready .slides > section.present", state="visible")
            results[deck] = [tuple(row) for row in page.evaluate(_MEASURE)]
    finally:
        context.close()
    return results


def build(paths: list[Path], out: Path) -> list[Path]:
    """Offline decks of paths in out/, as `make slides` builds them."""
    static = out / "_static"
    copy_assets(static)
    exporter = make_exporter()
    return [build_deck(exporter, path, out, static)[0] for path in paths]


def too_tall(heights: dict[Path, list[tuple[int, int, int, str]]], out: Path,
             budget: int = BUDGET_PX) -> list[str]:
    """One line per slide over the budget: deck, slide h/v (as in the URL #/h/v), height."""
    return [f"{deck.relative_to(out).as_posix()} #/{h}/{v} {height} px > {budget} px  {title}"
            for deck, rows in heights.items() for h, v, height, title in rows
            if height > budget]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="default: every notebook")
    parser.add_argument("--all", action="store_true", help="print every slide's height")
    parser.add_argument("--budget", type=int, default=BUDGET_PX, help="px a slide may take")
    args = parser.parse_args(argv)
    if not CHROMIUM.is_file():
        raise SystemExit(f"measure_slides: Chromium should be at {CHROMIUM}, but it is not; "
                         "install it with `apt-get install chromium`.")
    from playwright.sync_api import sync_playwright

    paths = notebook_paths(args.notebooks, "measure_slides")
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        out = Path(tmp)
        decks = build(paths, out)
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            heights = measure_decks(browser, decks)
        finally:
            browser.close()
        if args.all:
            for deck, rows in heights.items():
                for h, v, height, title in rows:
                    print(f"{deck.relative_to(out).as_posix()} #/{h}/{v} {height:5d} px  {title}")
        problems = too_tall(heights, out, args.budget)
    slides = sum(len(rows) for rows in heights.values())
    print("\n".join(problems))
    print(f"{len(heights)} deck(s), {slides} slides measured in Chromium at 1280x800; "
          f"{len(problems)} taller than {args.budget} px")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
