"""plotting.py and animator.py: the book's plot helpers, CJK labels, Animator everywhere."""

import io
import os
import subprocess
import sys
import textwrap
import warnings
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")  # before pyplot: tests never open a window

import pytest
import torch
from matplotlib.figure import Figure

import d2lutils as d2l
from d2lutils.plotting import cjk_font

CHINESE = {"xlabel": "迭代周期", "ylabel": "损失", "legend": ["训练损失", "测试精度"]}
needs_cjk_font = pytest.mark.skipif(
    cjk_font() is None, reason="no CJK font installed (sudo apt-get install fonts-noto-cjk)")


def _glyph_warnings(fig):
    """Render fig as PNG and SVG; return the missing-glyph warnings raised while drawing."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for fmt in ("png", "svg"):
            fig.savefig(io.BytesIO(), format=fmt)
    return [str(w.message) for w in caught if "Glyph" in str(w.message)]


def _chinese_figure():
    fig = Figure()
    x = torch.arange(5.0)
    d2l.plot(x, [x, x**2], axes=fig.subplots(), **CHINESE)
    fig.suptitle("训练过程")
    return fig


@needs_cjk_font
def test_chinese_labels_raise_no_missing_glyph_warning():
    assert _glyph_warnings(_chinese_figure()) == []


@needs_cjk_font
def test_animator_with_chinese_labels_raises_no_missing_glyph_warning():
    animator = d2l.Animator(xlabel="迭代周期", legend=["训练损失", "测试精度"], xlim=[1, 3])
    for epoch in (1, 2, 3):
        animator.add(epoch, (1 / epoch, 0.5))
    assert _glyph_warnings(animator.fig) == []


def test_the_glyph_check_can_fail():
    # Control: without the CJK fallback the same figure does warn, so the tests above mean
    # something.
    with matplotlib.rc_context({"font.family": ["DejaVu Sans"]}):
        assert _glyph_warnings(_chinese_figure())


def test_course_rc_params():
    plt = d2l.plt
    assert plt is sys.modules["matplotlib.pyplot"]
    assert plt.rcParams["axes.unicode_minus"] is False
    assert plt.rcParams["svg.hashsalt"] == "d2lutils"
    if cjk_font():
        assert cjk_font() in plt.rcParams["font.family"]


def test_svg_output_is_identical_between_runs():
    svgs = []
    for _ in range(2):
        buffer = io.StringIO()
        _chinese_figure().savefig(buffer, format="svg", metadata={"Date": None})
        svgs.append(buffer.getvalue())
    assert svgs[0] == svgs[1]


def test_plot_curves_from_tensors():
    fig = Figure()
    ax = fig.subplots()
    x = torch.arange(0, 3, 0.5, requires_grad=True)  # plot detaches
    d2l.plot(x, [x * 2, x**2], xlabel="x", ylabel="f(x)", legend=["2x", "x^2"], axes=ax,
             xlim=[0, 3], yscale="log")
    assert len(ax.lines) == 2
    assert ax.lines[1].get_ydata().tolist() == (x**2).tolist()
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "f(x)"
    assert ax.get_xlim() == (0, 3) and ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["2x", "x^2"]


def test_plot_with_only_y_and_lists():
    fig = Figure()
    ax = fig.subplots()
    d2l.plot([3, 1, 2], axes=ax)  # one curve against its index
    assert ax.lines[0].get_xdata().tolist() == [0, 1, 2]
    d2l.plot([1, 2, 3], [[1, 4, 9], [1, 8, 27]], axes=ax)  # one x, two curves; redraws
    assert len(ax.lines) == 2 and ax.lines[1].get_ydata().tolist() == [1, 8, 27]
    assert ax.get_legend() is None


def test_set_figsize():
    d2l.set_figsize((5, 3))
    assert list(d2l.plt.rcParams["figure.figsize"]) == [5, 3]
    d2l.set_figsize()
    assert list(d2l.plt.rcParams["figure.figsize"]) == [3.5, 2.5]


def test_show_images():
    imgs = torch.rand(5, 28, 28)
    axes = d2l.show_images(imgs, 2, 3, titles=["a", "b", "c", "d", "e"], scale=1)
    assert len(axes) == 6
    assert [ax.get_title() for ax in axes[:5]] == ["a", "b", "c", "d", "e"]
    assert len(axes[0].images) == 1 and len(axes[5].images) == 0
    assert axes[0].figure.get_size_inches().tolist() == [3, 2]
    d2l.plt.close("all")


def test_animator_records_points_without_a_display():
    animator = d2l.Animator(xlabel="epoch", xlim=[1, 3], legend=["loss", "train acc", "test acc"])
    for epoch in (1, 2, 3):
        animator.add(epoch, (1 / epoch, 0.5 + 0.1 * epoch, None if epoch == 1 else 0.6))
    assert animator.X == [[1, 2, 3], [1, 2, 3], [2, 3]]
    assert animator.Y[2] == [0.6, 0.6]
    assert len(animator.axes[0].lines) == 3
    assert animator.axes[0].get_xlim() == (1, 3)
    assert repr(animator) == "Animator(legend=['loss', 'train acc', 'test acc'], points=3)"
    assert animator.is_live is False


def test_animator_moves_its_lines_and_only_the_limits_not_given():
    animator = d2l.Animator(xlim=[1, 10], legend=["loss"])
    animator.add(1, 5.0)
    line = animator.axes[0].lines[0]
    animator.add(2, 50.0)
    assert list(animator.axes[0].lines) == [line]  # the same line, given new data
    assert list(line.get_ydata()) == [5.0, 50.0]
    assert animator.axes[0].get_xlim() == (1, 10)  # given: kept
    assert animator.axes[0].get_ylim()[1] >= 50  # not given: follows the data
    assert [t.get_text() for t in animator.axes[0].get_legend().get_texts()] == ["loss"]


def test_live_animator_refits_its_margins_only_when_the_limits_move(monkeypatch):
    frames, layouts = [], []
    animator = d2l.Animator(xlim=[1, 5], ylim=[0, 1])
    animator.is_live = True
    animator._handle = SimpleNamespace(update=lambda bundle, **kw: frames.append(bundle))
    monkeypatch.setattr(animator.fig, "tight_layout", lambda: layouts.append(1))
    for epoch in range(1, 6):
        animator.add(epoch, 0.1 * epoch)
    assert len(frames) == 5 and all(f["image/png"][:4] == b"\x89PNG" for f in frames)
    assert len(layouts) == 1  # fixed limits: laid out once
    free = d2l.Animator(xlim=[1, 5])
    free.is_live = True
    free._handle = SimpleNamespace(update=lambda bundle, **kw: None)
    monkeypatch.setattr(free.fig, "tight_layout", lambda: layouts.append(2))
    for epoch in range(1, 6):
        free.add(epoch, 10.0 ** epoch)  # y grows: the limits move every time
    assert layouts.count(2) == 5


def _plain_env():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "MPLBACKEND",
                                                            "WAYLAND_DISPLAY")}
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def test_animator_in_a_plain_process_neither_crashes_nor_blocks(tmp_path):
    code = textwrap.dedent("""
        import sys
        import d2lutils as d2l
        animator = d2l.Animator(xlabel="epoch", xlim=[1, 3], legend=["训练损失", "测试精度"])
        for epoch in (1, 2, 3):
            animator.add(epoch, (1 / epoch, 0.5))
        d2l.plot([1, 2, 3], [[1, 4, 9]], legend=["平方"])
        print(repr(animator))
        print("IPython" in sys.modules, d2l.plt.get_backend())
    """)
    # The timeout only guards against a hang (a blocking window); it measures nothing.
    result = subprocess.run([sys.executable, "-c", code], env=_plain_env(), cwd=tmp_path,
                            capture_output=True, text=True, encoding="utf-8", timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Animator(legend=['训练损失', '测试精度'], points=3)"
    ipython_loaded, backend = lines[1].split()
    assert ipython_loaded == "False"  # no IPython shell made inside a plain script
    assert backend.lower() == "agg"
    assert result.stderr == ""  # no warnings (missing glyphs, backends) at all


def test_animator_in_jupyter_updates_one_display(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(textwrap.dedent("""
        import d2lutils as d2l
        animator = d2l.Animator(xlabel="迭代周期", legend=["训练损失"], xlim=[1, 5])
        for epoch in range(1, 6):
            animator.add(epoch, 1 / epoch)
    """))]
    nbclient.NotebookClient(nb, timeout=300, resources={"metadata": {"path": str(tmp_path)}}
                            ).execute()
    outputs = nb.cells[0].outputs
    assert [o.output_type for o in outputs] == ["display_data"]  # one figure, updated in place
    assert "image/png" in outputs[0].data
    assert outputs[0].data["text/plain"] == "<Figure size 350x250 (training curves)>"
