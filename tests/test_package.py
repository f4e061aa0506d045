"""__init__.py as the table of contents: book names, import cost, aliases and devices."""

import importlib.metadata
import inspect
import json
import subprocess
import sys

import pytest
import torch

import d2lutils as d2l

# Names from the book's d2l.torch (v0.17.x) that this half of the package provides.
BOOK_NAMES = [
    # data
    "synthetic_data", "data_iter", "load_array", "load_data_fashion_mnist",
    "get_fashion_mnist_labels", "show_images", "get_dataloader_workers",
    # plotting
    "use_svg_display", "set_figsize", "set_axes", "plot", "Animator", "plt",
    # devices
    "cpu", "gpu", "num_gpus", "try_gpu", "try_all_gpus",
    # downloads
    "DATA_HUB", "DATA_URL", "download", "download_extract",
    # tensor aliases
    "ones", "zeros", "tensor", "arange", "meshgrid", "sin", "sinh", "cos", "cosh", "tanh",
    "linspace", "exp", "log", "normal", "rand", "matmul", "int32", "float32", "concat",
    "stack", "abs", "eye", "numpy", "size", "reshape", "to", "reduce_sum", "reduce_mean",
    "argmax", "astype", "transpose",
]

# Parameter names (and defaults) as in the book, so book calls with keywords work.
BOOK_SIGNATURES = {
    "synthetic_data": "(w, b, num_examples)",
    "data_iter": "(batch_size, features, labels)",
    "load_array": "(data_arrays, batch_size, is_train=True)",
    "get_fashion_mnist_labels": "(labels)",
    "show_images": "(imgs, num_rows, num_cols, titles=None, scale=1.5)",
    "set_figsize": "(figsize=(3.5, 2.5))",
    "set_axes": "(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend)",
    "gpu": "(i=0)",
    "try_gpu": "(i=0)",
    "download_extract": "(name, folder=None)",
}


def _params(func):
    """A signature without annotations, e.g. '(batch_size, resize=None)'."""
    sig = inspect.signature(func)
    return str(sig.replace(parameters=[p.replace(annotation=inspect.Parameter.empty)
                                       for p in sig.parameters.values()],
                           return_annotation=inspect.Signature.empty))


def test_every_public_name_resolves():
    for name in d2l.__all__:
        assert getattr(d2l, name) is not None, name


def test_all_is_sorted_and_unique():
    assert d2l.__all__ == sorted(d2l.__all__)
    assert len(set(d2l.__all__)) == len(d2l.__all__)


def test_book_names_are_public():
    missing = [name for name in BOOK_NAMES if name not in d2l.__all__]
    assert missing == []


def test_no_stray_public_names():
    # Everything a learner sees without an underscore is listed in __all__ (or is a module).
    stray = [name for name, value in vars(d2l).items()
             if not name.startswith("_") and not inspect.ismodule(value)
             and name not in d2l.__all__]
    assert stray == []


@pytest.mark.parametrize("name", sorted(BOOK_SIGNATURES))
def test_book_signatures(name):
    assert _params(getattr(d2l, name)) == BOOK_SIGNATURES[name]


def test_extended_signatures_keep_the_book_prefix():
    # Ours add keyword arguments after the book's, never before.
    assert _params(d2l.load_data_fashion_mnist).startswith("(batch_size, resize=None")
    assert _params(d2l.download).startswith("(name, cache_dir=")
    plot_params = list(inspect.signature(d2l.plot).parameters)
    assert plot_params == ["X", "Y", "xlabel", "ylabel", "legend", "xlim", "ylim", "xscale",
                           "yscale", "fmts", "figsize", "axes"]
    animator_params = list(inspect.signature(d2l.Animator).parameters)
    assert animator_params == ["xlabel", "ylabel", "legend", "xlim", "ylim", "xscale",
                               "yscale", "fmts", "nrows", "ncols", "figsize"]


def test_unknown_attribute():
    with pytest.raises(AttributeError, match="module 'd2lutils' has no attribute 'nope'"):
        d2l.nope  # noqa: B018


def test_version_matches_the_installed_metadata():
    assert d2l.__version__ == importlib.metadata.version("d2lutils")


def test_import_is_light():
    code = ("import json, sys, d2lutils; "
            "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout))
    assert "torch" in loaded  # the check itself works
    heavy = {"torchvision", "matplotlib", "pandas", "PIL", "IPython", "requests"}
    assert loaded & heavy == set()


def test_plt_is_loaded_on_first_use():
    code = "import sys, d2lutils as d2l; d2l.plt; print('matplotlib.pyplot' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)
    assert result.stdout.strip() == "True", result.stderr


# --- aliases: torch is the oracle ---------------------------------------------------------

def test_aliases_match_torch():
    x = torch.arange(6.0).reshape(2, 3)
    assert torch.equal(d2l.reduce_sum(x), x.sum())
    assert torch.equal(d2l.reduce_sum(x, axis=0), x.sum(dim=0))
    assert torch.equal(d2l.reduce_mean(x, 1), x.mean(1))
    assert torch.equal(d2l.argmax(x, axis=1), torch.tensor([2, 2]))
    assert torch.equal(d2l.reshape(x, (3, 2)), x.reshape(3, 2))
    assert d2l.astype(x, d2l.int32).dtype == torch.int32
    assert torch.equal(d2l.transpose(x), x.T)
    assert d2l.size(x) == 6
    assert torch.equal(d2l.concat((x, x), dim=0), torch.cat((x, x)))
    assert d2l.stack((x, x)).shape == (2, 2, 3)
    assert torch.equal(d2l.matmul(x, d2l.transpose(x)), x @ x.T)
    assert d2l.to(x, d2l.cpu()).device.type == "cpu"
    assert d2l.float32 is torch.float32 and d2l.concat is torch.cat


def test_numpy_alias_detaches():
    w = torch.ones(3, requires_grad=True)
    assert d2l.numpy(w * 2).tolist() == [2.0, 2.0, 2.0]


# --- devices ------------------------------------------------------------------------------

def test_devices_on_this_machine():
    assert d2l.cpu() == torch.device("cpu")
    assert d2l.gpu(1) == torch.device("cuda:1")
    assert d2l.num_gpus() == torch.cuda.device_count()
    if d2l.num_gpus() == 0:
        assert d2l.try_gpu() == d2l.cpu()
        assert d2l.try_all_gpus() == [d2l.cpu()]


def test_devices_with_two_gpus(monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert d2l.num_gpus() == 2
    assert d2l.try_gpu() == torch.device("cuda:0")
    assert d2l.try_gpu(1) == torch.device("cuda:1")
    assert d2l.try_gpu(2) == d2l.cpu()  # no third GPU: fall back to the CPU
    assert d2l.try_all_gpus() == [torch.device("cuda:0"), torch.device("cuda:1")]
