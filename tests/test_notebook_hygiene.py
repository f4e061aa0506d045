"""Every notebook under notebooks/ holds the outputs of one clean, top-to-bottom run.

Found anew at every collection, so a notebook added to notebooks/ is checked with no
wiring (an empty folder is fine).  Fix a failure with `make notebooks NB=<path>`, which
re-executes the notebook in a fresh kernel."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts)

# A local path in an output: it differs on every machine and shows whose laptop ran it.
LOCAL_PATH = re.compile(r"(?<![\w.-])(/root/|/work/|/tmp/|/home/[^/\s]+|/Users/[^/\s]+"
                        r"|[A-Za-z]:\\{1,2}Users\\)")


def _text(value):
    return "".join(value) if isinstance(value, list) else value


def _output_texts(output):
    """Every piece of text an output holds (images other than SVG are skipped)."""
    if output.get("output_type") == "stream":
        yield _text(output.get("text", ""))
    elif output.get("output_type") == "error":
        yield from output.get("traceback", [])
        yield output.get("evalue", "")
    for mime, value in output.get("data", {}).items():
        if mime.startswith("image/") and not mime.endswith("+xml"):
            continue  # base64 PNG/JPEG
        yield json.dumps(value) if isinstance(value, dict) else _text(value)


# Calls whose printed or drawn results come from training or a net's argmax: they differ
# between machines, so their cells are not compared (CONTRIBUTING.md, "Saved outputs").
TRAINED = re.compile(r"\b(train_ch3|train_ch8|train_epoch_ch3|train_epoch_ch8|predict_ch3|"
                     r"predict_ch8)\(")


def _animator_only(output):
    """The live training plot: a PNG whose text/plain is the same on every machine."""
    data = output.get("data", {})
    return set(data) <= {"image/png", "text/plain"} and "image/png" in data


def _may_raise(cell):
    tags = cell.get("metadata", {}).get("tags", [])
    return "raises-exception" in tags or "NBVAL_RAISES_EXCEPTION" in _text(cell["source"])


def hygiene_problems(nb: dict) -> list[str]:
    """What is wrong with a notebook's saved state, one line per problem."""
    problems = []
    if not nb.get("metadata", {}).get("kernelspec", {}).get("name"):
        problems.append("no kernelspec in the notebook metadata")
    code = [(i, c) for i, c in enumerate(nb.get("cells", [])) if c.get("cell_type") == "code"]
    counts = [c.get("execution_count") for _, c in code if _text(c["source"]).strip()]
    unrun = [i for i, c in code if _text(c["source"]).strip() and c.get("execution_count") is None]
    if unrun:
        problems.append(f"code cells {unrun} were never executed")
    done = [n for n in counts if n is not None]
    if done != list(range(1, len(done) + 1)):
        problems.append(f"execution counts are {done}, not 1..{len(done)}: the outputs are not "
                        f"from one clean top-to-bottom run")
    for i, cell in code:
        tags = cell.get("metadata", {}).get("tags", [])
        source = _text(cell["source"])
        if TRAINED.search(source) and "nbval-ignore-output" not in tags and \
                "NBVAL_IGNORE_OUTPUT" not in source and \
                any(not _animator_only(o) for o in cell.get("outputs", [])):
            problems.append(f"cell {i} shows what training or a net's prediction produced; "
                            f"tag it nbval-ignore-output (and assert its claim in a cell "
                            f"tagged claim)")
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            if kind == "error" and not _may_raise(cell):
                problems.append(f"cell {i} stores an error ({output.get('ename')}); tag the cell "
                                f"raises-exception if the error is the lesson")
            if kind == "execute_result" and output.get("execution_count") != \
                    cell.get("execution_count"):
                problems.append(f"cell {i}: its result comes from another run")
            for text in _output_texts(output):
                match = LOCAL_PATH.search(text)
                if match:
                    problems.append(f"cell {i}: output shows the local path "
                                    f"{match.group(0)!r}...; print a relative path or name")
                    break
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[str(p.relative_to(ROOT)) for p in NOTEBOOKS])
def test_notebook_hygiene(path):
    problems = hygiene_problems(json.loads(path.read_text(encoding="utf-8")))
    fix = f"Re-run it in a fresh kernel: make notebooks NB={path.relative_to(ROOT)}"
    assert not problems, "\n".join([*problems, fix])


# --- the checker itself, on notebooks made here -------------------------------------------

def _nb(*cells, kernelspec=True):
    meta = {"kernelspec": {"name": "python3", "display_name": "Python 3"}} if kernelspec else {}
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": meta, "cells": list(cells)}


def _code(source, count, outputs=(), tags=()):
    return {"cell_type": "code", "source": source, "execution_count": count,
            "metadata": {"tags": list(tags)}, "outputs": list(outputs)}


def _stream(text, name="stdout"):
    return {"output_type": "stream", "name": name, "text": text}


def _error(ename="ValueError"):
    return {"output_type": "error", "ename": ename, "evalue": "bad",
            "traceback": ["ValueError: bad"]}


def _result(text, count):
    return {"output_type": "execute_result", "execution_count": count,
            "data": {"text/plain": text}, "metadata": {}}


MARKDOWN = {"cell_type": "markdown", "source": "# 标题", "metadata": {}}


def test_a_clean_notebook_passes():
    nb = _nb(MARKDOWN, _code("x = 1", 1), _code("", None), _code("x", 2, [_result("1", 2)]),
             _code("raise ValueError('bad')", 3, [_error()], tags=["raises-exception"]),
             _code("print('ok')", 4, [_stream("ok\n")]))
    assert hygiene_problems(nb) == []


def test_trained_results_may_show_tagged_or_as_the_animator_plot():
    png = {"output_type": "display_data", "metadata": {},
           "data": {"image/png": "iVBOR", "text/plain": "<Figure size 350x250>"}}
    nb = _nb(_code("h = d2l.train_ch3(net)", 1, [png]),
             _code("d2l.predict_ch8('t', 5, net)", 2, [_result("'t'", 2)],
                   tags=["nbval-ignore-output"]))
    assert hygiene_problems(nb) == []


@pytest.mark.parametrize("nb, expected", [
    (_nb(_code("h = d2l.train_ch3(net)", 1, [_stream("epoch 1: loss 0.5\n")])),
     "cell 0 shows what training"),
    (_nb(_code("d2l.predict_ch8('time ', 10, net)", 1, [_result("'time tr'", 1)])),
     "tag it nbval-ignore-output"),
    (_nb(_code("x = 1", 1), kernelspec=False), "no kernelspec"),
    (_nb(_code("x = 1", 1), _code("y = 2", None)), "code cells [1] were never executed"),
    (_nb(_code("x = 1", 2), _code("y = 2", 3)), "execution counts are [2, 3], not 1..2"),
    (_nb(_code("x = 1", 1), _code("y = 2", 1)), "execution counts are [1, 1]"),
    (_nb(_code("x = 1", 2), _code("y = 2", 1)), "execution counts are [2, 1]"),
    (_nb(_code("1/0", 1, [_error("ZeroDivisionError")])), "stores an error (ZeroDivisionError)"),
    (_nb(_code("x", 1, [_result("1", 7)])), "its result comes from another run"),
    (_nb(_code("p", 1, [_stream("/root/.cache/d2lutils/time-machine\n")])), "'/root/'"),
    (_nb(_code("p", 1, [_stream("saved to /work/main/x.png\n")])), "'/work/'"),
    (_nb(_code("p", 1, [_stream("/tmp/abc\n", "stderr")])), "'/tmp/'"),
    (_nb(_code("p", 1, [_result("PosixPath('/home/ada/data')", 1)])), "'/home/ada'"),
    (_nb(_code("p", 1, [_result("'C:\\\\Users\\\\ada'", 1)])), "local path"),
    (_nb(_code("raise X", 1, [{"output_type": "error", "ename": "X", "evalue": "",
                               "traceback": ["File /work/main/d2lutils/data.py:3"]}],
               tags=["raises-exception"])), "'/work/'"),
])
def test_the_checker_finds(nb, expected):
    found = hygiene_problems(nb)
    assert any(expected in problem for problem in found), found


def test_urls_are_not_local_paths():
    nb = _nb(_code("u", 1, [_result("'http://d2l-data.s3-accelerate.amazonaws.com/tmp/x'", 1)]))
    assert hygiene_problems(nb) == []
