"""Animator: the book's live training plot.

In Jupyter it redraws one PNG display in place (the saved notebook keeps just the final
figure, not a pile of frames); elsewhere it only records the points, so scripts and
tests neither block on a window nor need a display."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .plotting import Limits, get_plt, set_axes

if TYPE_CHECKING:
    from matplotlib.lines import Line2D


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where figures can be displayed)."""
    if "IPython" not in sys.modules:  # a kernel imports IPython before any user code
        return False
    shell = sys.modules["IPython"].get_ipython()
    return shell is not None and "IPKernelApp" in shell.config


class Animator:
    """Plot data as it arrives: animator.add(epoch, [loss, acc, ...])."""

    def __init__(self, xlabel: str | None = None, ylabel: str | None = None,
                 legend: Sequence[str] | None = None, xlim: Limits = None, ylim: Limits = None,
                 xscale: str = "linear", yscale: str = "linear",
                 fmts: Sequence[str] = ("-", "m--", "g-.", "r:"), nrows: int = 1,
                 ncols: int = 1, figsize: tuple[float, float] = (3.5, 2.5)):
        self.legend = list(legend or [])
        self.fmts = fmts
        self.X: list[list[float]] | None = None
        self.Y: list[list[float]] | None = None
        self._handle: Any = None  # IPython's DisplayHandle, once shown
        self.is_live = in_notebook()
        get_plt()  # course matplotlib settings (CJK font fallback)
        from matplotlib.figure import Figure  # no pyplot: no GUI window, never blocks

        self.fig = Figure(figsize=figsize)
        axes = self.fig.subplots(nrows, ncols)
        self.axes = [axes] if nrows * ncols == 1 else list(axes.flatten())
        self.config_axes = lambda: set_axes(self.axes[0], xlabel, ylabel, xlim, ylim,
                                            xscale, yscale, self.legend)
        self._autoscale = (xlim is None, ylim is None)
        self._lines: list[Line2D] | None = None
        # the axis limits the last tight_layout() fitted
        self._laid_out_for: tuple[object, object] | None = None

    def add(self, x: Any, y: Any) -> None:
        """Append one point per curve (y may be a number or a list; None skips a curve)."""
        if not hasattr(y, "__len__"):
            y = [y]
        n = len(y)
        if not hasattr(x, "__len__"):
            x = [x] * n
        if not self.X:
            self.X = [[] for _ in range(n)]
        if not self.Y:
            self.Y = [[] for _ in range(n)]
        for i, (a, b) in enumerate(zip(x, y)):
            if a is not None and b is not None:
                self.X[i].append(a)
                self.Y[i].append(b)
        self.draw()

    def draw(self) -> None:
        """Redraw all curves; in Jupyter, update the figure shown in the cell output.

        The lines, labels and legend are made once and then only given new data: clearing
        the axes for every point (as the book does) rebuilds every tick and label and made
        a frame cost up to 0.4 s."""
        ax = self.axes[0]
        if self._lines is None:
            self._lines = [ax.plot([], [], fmt)[0] for _, fmt in zip(self.X or [], self.fmts)]
            self.config_axes()
            ax.set_autoscalex_on(self._autoscale[0])  # the limits not given follow the data
            ax.set_autoscaley_on(self._autoscale[1])
        for line, x, y in zip(self._lines, self.X or [], self.Y or []):
            line.set_data(x, y)
        ax.relim()
        ax.autoscale_view()
        if self.is_live:
            self._show()

    def _show(self) -> None:
        # PNG, not SVG: nbval does not compare PNG, and it sees only the first frame of an
        # updated display, while the saved notebook holds the last one.
        import io

        from IPython.display import display

        # Fit the margins to the tick labels only when the limits move (a full extra draw,
        # like bbox_inches="tight", would double the cost of every frame).
        limits = (self.axes[0].get_xlim(), self.axes[0].get_ylim())
        if limits != self._laid_out_for:
            self.fig.tight_layout()
            self._laid_out_for = limits
        buffer = io.BytesIO()
        self.fig.savefig(buffer, format="png", dpi=144)
        w, h = self.fig.get_size_inches()
        bundle = {"image/png": buffer.getvalue(),
                  "text/plain": f"<Figure size {w * 100:.0f}x{h * 100:.0f} (training curves)>"}
        metadata = {"image/png": {"width": int(w * 100 * 1.2)}}  # about its SVG size
        if self._handle is None:
            self._handle = display(bundle, raw=True, metadata=metadata, display_id=True)
        else:
            self._handle.update(bundle, raw=True, metadata=metadata)

    def __repr__(self) -> str:
        points = len(self.X[0]) if self.X else 0
        return f"Animator(legend={self.legend}, points={points})"
