"""d2lutils: the helpers the course notebooks use, with the names and signatures of the
book's d2l.torch (v0.17.x), so book code runs with `import d2lutils as d2l`.

Table of contents (each name lives in the module listed beside its group)."""

# Data: synthetic data, minibatches, Fashion-MNIST                   (data.py, fashion_mnist.py)
# Chapter 3 training                                                 (training.py, metrics.py)
# Chapter 8 text, sequences and RNNs                       (text.py, sequences.py, rnn.py)
# Plotting                                                      (plotting.py, animator.py)
# Devices                                                                      (devices.py)
# Data location and downloads                                           (paths.py, hub.py)
# The book's tensor aliases (for book code; call torch directly in new code)  (aliases.py)
from .aliases import (
    abs,
    arange,
    argmax,
    astype,
    concat,
    cos,
    cosh,
    exp,
    eye,
    float32,
    int32,
    int64,
    linspace,
    log,
    matmul,
    meshgrid,
    normal,
    numpy,
    ones,
    rand,
    randn,
    reduce_mean,
    reduce_sum,
    reshape,
    sin,
    sinh,
    size,
    stack,
    tanh,
    tensor,
    to,
    transpose,
    zeros,
)
from .animator import Animator
from .data import TensorBatches, data_iter, get_dataloader_workers, load_array, synthetic_data
from .devices import cpu, gpu, num_gpus, try_all_gpus, try_gpu
from .fashion_mnist import get_fashion_mnist_labels, load_data_fashion_mnist, load_fashion_mnist
from .hub import DATA_HUB, DATA_URL
from .metrics import Accumulator, Timer, accuracy, evaluate_accuracy, evaluate_loss
from .paths import download, download_all, download_extract, locate, user_data_dir
from .plotting import plot, set_axes, set_figsize, show_images, use_svg_display
from .rnn import (
    RNNHistory,
    RNNModel,
    RNNModelScratch,
    evaluate_perplexity,
    grad_clipping,
    predict_ch8,
    train_ch8,
    train_epoch_ch8,
)
from .sequences import (
    SeqDataLoader,
    load_data_time_machine,
    seq_data_iter_random,
    seq_data_iter_sequential,
)
from .text import Vocab, count_corpus, load_corpus_time_machine, read_time_machine, tokenize
from .training import (
    History,
    Predictions,
    linreg,
    predict_ch3,
    sgd,
    squared_loss,
    train_ch3,
    train_epoch_ch3,
)

__version__ = "0.1.0"

__all__ = [  # noqa: RUF022  (plain sorted(), as tests/test_package.py checks)
    "Accumulator", "Animator", "DATA_HUB", "DATA_URL", "History", "Predictions", "RNNHistory",
    "RNNModel", "RNNModelScratch", "SeqDataLoader", "TensorBatches", "Timer", "Vocab", "abs",
    "accuracy", "arange", "argmax", "astype", "concat", "cos", "cosh", "count_corpus", "cpu",
    "data_iter", "download", "download_all", "download_extract", "evaluate_accuracy",
    "evaluate_loss", "evaluate_perplexity", "exp", "eye", "float32", "get_dataloader_workers",
    "get_fashion_mnist_labels", "gpu", "grad_clipping", "int32", "int64", "linreg", "linspace",
    "load_array", "load_corpus_time_machine", "load_data_fashion_mnist",
    "load_data_time_machine", "load_fashion_mnist", "locate", "log", "matmul", "meshgrid",
    "normal", "num_gpus", "numpy", "ones", "plot", "plt", "predict_ch3", "predict_ch8", "rand",
    "randn", "read_time_machine", "reduce_mean", "reduce_sum", "reshape",
    "seq_data_iter_random", "seq_data_iter_sequential", "set_axes", "set_figsize", "sgd",
    "show_images", "sin", "sinh", "size", "squared_loss", "stack", "synthetic_data", "tanh",
    "tensor", "to", "tokenize", "train_ch3", "train_ch8", "train_epoch_ch3", "train_epoch_ch8",
    "transpose", "try_all_gpus", "try_gpu", "use_svg_display", "user_data_dir", "zeros",
]


def __getattr__(name: str) -> object:
    # d2l.plt imports matplotlib.pyplot only when first used (keeps `import d2lutils` fast)
    if name == "plt":
        from .plotting import get_plt

        return get_plt()
    raise AttributeError(f"module 'd2lutils' has no attribute {name!r}")
