"""The book's plotting helpers (use_svg_display, set_figsize, set_axes, plot, show_images).

matplotlib is imported on first use, and a CJK font is added to its fallback list so
Chinese titles and labels render without missing-glyph warnings."""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from matplotlib.axes import Axes

# an axis range: (low, high), or None to follow the data
Limits = Sequence[float] | None

# Fonts that carry Chinese glyphs: Debian's fonts-noto-cjk, then common Windows/macOS ones.
_CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "Source Han Sans SC",
              "WenQuanYi Zen Hei", "Microsoft YaHei", "SimHei", "PingFang SC",
              "Heiti SC", "Arial Unicode MS")


@functools.cache
def cjk_font() -> str | None:
    """The first installed font from _CJK_FONTS, or None (then Chinese text shows as boxes)."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in _CJK_FONTS if name in installed), None)


@functools.cache
def _configure_matplotlib() -> None:
    """Once per process: CJK font fallback, deterministic SVG output, no unicode minus."""
    import matplotlib

    font = cjk_font()
    if font is not None:
        # Fallback works across the family list: Latin glyphs from the default
        # sans-serif font, Chinese glyphs from the CJK font.
        family = matplotlib.rcParams["font.family"]
        if font not in family:
            matplotlib.rcParams["font.family"] = [*family, font]
    matplotlib.rcParams["axes.unicode_minus"] = False  # CJK fonts lack U+2212
    matplotlib.rcParams["svg.hashsalt"] = "d2lutils"  # stable ids, so nbval can compare SVG


def get_plt() -> ModuleType:
    """matplotlib.pyplot, configured for the course (exposed as d2l.plt)."""
    _configure_matplotlib()
    import matplotlib.pyplot as plt

    return plt


def use_svg_display() -> None:
    """Show plots as SVG in Jupyter: sharp on slides, and free of timestamps."""
    _configure_matplotlib()
    # Outside IPython there is no inline backend to configure, and asking for one would
    # create an IPython shell (and its history file) inside a plain script.
    if "IPython" not in sys.modules or sys.modules["IPython"].get_ipython() is None:
        return
    from matplotlib_inline import backend_inline

    backend_inline.set_matplotlib_formats("svg", bbox_inches="tight", metadata={"Date": None})


def set_figsize(figsize: tuple[float, float] = (3.5, 2.5)) -> None:
    """Set the default figure size (inches)."""
    use_svg_display()
    get_plt().rcParams["figure.figsize"] = figsize


def set_axes(axes: Axes, xlabel: str | None, ylabel: str | None, xlim: Limits,
             ylim: Limits, xscale: str, yscale: str, legend: Sequence[str] | None) -> None:
    """Set labels, limits, scales and legend of a matplotlib Axes, and draw a grid."""
    axes.set_xlabel(xlabel or "")
    axes.set_ylabel(ylabel or "")
    axes.set_xscale(xscale)
    axes.set_yscale(yscale)
    axes.set_xlim(_pair(xlim))
    axes.set_ylim(_pair(ylim))
    if legend:
        axes.legend(legend)
    axes.grid()


def _pair(limits: Limits) -> tuple[float, float] | None:
    return None if limits is None else (limits[0], limits[1])


def _as_array(x: Any) -> Any:
    return x.detach().cpu().numpy() if torch.is_tensor(x) else x


def _has_one_axis(X: Any) -> bool:
    return (hasattr(X, "ndim") and X.ndim == 1) or (
        isinstance(X, list) and len(X) > 0 and not hasattr(X[0], "__len__"))


def plot(X: Any, Y: Any = None, xlabel: str | None = None, ylabel: str | None = None,
         legend: Sequence[str] | None = None, xlim: Limits = None, ylim: Limits = None,
         xscale: str = "linear", yscale: str = "linear",
         fmts: Sequence[str] = ("-", "m--", "g-.", "r:"),
         figsize: tuple[float, float] = (3.5, 2.5), axes: Axes | None = None) -> None:
    """Plot one or more curves: plot(x, [f(x), g(x)], legend=['f', 'g'])."""
    set_figsize(figsize)
    axes = axes if axes is not None else get_plt().gca()
    if _has_one_axis(X):
        X = [X]
    if Y is None:
        X, Y = [[]] * len(X), X
    elif _has_one_axis(Y):
        Y = [Y]
    if len(X) != len(Y):
        X = X * len(Y)
    axes.cla()
    for x, y, fmt in zip(X, Y, fmts):
        if len(x):
            axes.plot(_as_array(x), _as_array(y), fmt)
        else:
            axes.plot(_as_array(y), fmt)
    set_axes(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend or [])


def show_images(imgs: Iterable[Any], num_rows: int, num_cols: int,
                titles: Sequence[str] | None = None, scale: float = 1.5) -> Any:
    """Show a grid of images (tensors or arrays of shape (H, W)); returns the Axes array."""
    plt = get_plt()
    figsize = (num_cols * scale, num_rows * scale)
    _, axes = plt.subplots(num_rows, num_cols, figsize=figsize, squeeze=False)
    axes = axes.flatten()
    for i, (ax, img) in enumerate(zip(axes, imgs)):
        ax.imshow(_as_array(img))
        ax.axes.get_xaxis().set_visible(False)
        ax.axes.get_yaxis().set_visible(False)
        if titles:
            ax.set_title(titles[i])
    return axes
