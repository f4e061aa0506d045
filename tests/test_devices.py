"""devices.py, and every training, evaluation and prediction helper on a second device.

CI has no GPU, so the second device is torch's `meta` device: tensors with shapes and
dtypes but no data.  torch refuses an op that mixes a meta tensor with a CPU tensor of one
or more dimensions, exactly as it refuses CUDA + CPU, so a helper that builds a tensor on the
CPU (torch.tensor(counts), torch.rand(X.shape)) fails here as it would on a GPU.  OnDevice
below also counts the host reads (float(), .item(), .tolist() of a device tensor: each one a
wait for the GPU), answering them with zeros, and records float64 results on the device
(MPS has no float64)."""

from __future__ import annotations

import pytest
import torch
from _book_code import rnn_scratch_parts
from torch import nn
from torch.overrides import TorchFunctionMode

import d2lutils as d2l
from d2lutils.devices import net_device, to_device

DEVICE = torch.device("meta")
READS = {"__float__": 0.0, "__int__": 0, "__index__": 0, "__bool__": False, "item": 0.0}


class OnDevice(TorchFunctionMode):
    """Answer host reads of DEVICE tensors with zeros and count them; record float64."""

    def __init__(self):
        super().__init__()
        self.reads, self.float64 = [], []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        tensor = args[0] if args and isinstance(args[0], torch.Tensor) else None
        if tensor is not None and tensor.device == DEVICE:
            if name in READS:
                self.reads.append(name)
                return READS[name]
            if name == "tolist":
                self.reads.append(name)
                return torch.zeros(tensor.shape).tolist()
        out = func(*args, **kwargs)
        for t in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(t, torch.Tensor) and t.device == DEVICE and t.dtype == torch.float64:
                self.float64.append(name)
        return out


def _fashion_like(n=24, batch_size=8):
    """Batches as the loaders yield them: on the CPU."""
    gen = torch.Generator().manual_seed(0)
    X, y = torch.rand(n, 1, 28, 28, generator=gen), torch.randint(0, 10, (n,), generator=gen)
    return d2l.TensorBatches((X, y), batch_size, shuffle=True)


def _mlp(dropout=0.5):
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(16, 10))


@pytest.mark.parametrize("reduction", ["none", "mean"])
def test_train_ch3_on_a_second_device(reduction):
    net = _mlp().to(DEVICE)
    data = _fashion_like()
    with OnDevice() as mode:
        history = d2l.train_ch3(net, data, data, nn.CrossEntropyLoss(reduction=reduction), 2,
                                torch.optim.SGD(net.parameters(), lr=0.1))
    assert len(history.train_loss) == 2
    # per epoch: one read of the (loss, correct) pair, one of the test count
    assert mode.reads == ["tolist", "__float__"] * 2
    assert mode.float64 == []
    assert not net.training  # left in eval mode, as the book's


def test_train_ch3_scratch_on_a_second_device():
    W = torch.normal(0, 0.01, (784, 10), device=DEVICE).requires_grad_()
    b = torch.zeros(10, device=DEVICE, requires_grad=True)

    def net(X):
        return torch.softmax(X.reshape(-1, 784) @ W + b, dim=1)

    def cross_entropy(y_hat, y):
        return -torch.log(y_hat[range(len(y_hat)), y])

    net.params = [W, b]  # how the helpers find a from-scratch model's device
    data = _fashion_like()
    with OnDevice() as mode:
        d2l.train_ch3(net, data, data, cross_entropy, 1, lambda n: d2l.sgd([W, b], 0.1, n))
    assert mode.reads == ["tolist", "__float__"] and mode.float64 == []


def test_evaluation_and_prediction_on_a_second_device():
    net = _mlp().to(DEVICE)
    data = _fashion_like()
    with OnDevice() as mode:
        d2l.evaluate_accuracy(net, data)
        assert mode.reads == ["__float__"]
        d2l.evaluate_loss(net, data, nn.CrossEntropyLoss(reduction="none"))
        assert mode.reads == ["__float__"] * 2
        import matplotlib

        matplotlib.use("Agg")
        d2l.predict_ch3(net, data, n=3)
    assert mode.float64 == []
    d2l.plt.close("all")


def _corpus_batches():
    vocab = d2l.Vocab(list("the time traveller "))
    corpus = vocab[list("the time traveller " * 40)]
    return d2l.seq_data_iter_sequential(corpus, 4, 5), corpus, vocab


@pytest.mark.parametrize("kind", ["scratch", "concise"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_train_ch8_on_a_second_device(kind, optimizer):
    _, corpus, vocab = _corpus_batches()
    data = list(d2l.seq_data_iter_sequential(corpus, 4, 5))
    if kind == "scratch":
        net = d2l.RNNModelScratch(len(vocab), 8, DEVICE, *rnn_scratch_parts())
    else:
        net = d2l.RNNModel(nn.RNN(len(vocab), 8), len(vocab)).to(DEVICE)
    loss = nn.CrossEntropyLoss()
    updater = (torch.optim.Adam(net.parameters() if kind == "concise" else net.params, 0.01)
               if optimizer == "adam" else (torch.optim.SGD(net.parameters(), 1) if kind ==
                                            "concise" else lambda batch_size: d2l.sgd(
                                                net.params, 1, batch_size)))
    with OnDevice() as mode:
        d2l.train_epoch_ch8(net, data, loss, updater, DEVICE, False)
        assert mode.reads == ["__float__"]  # one read per epoch: grad_clipping never waits
        d2l.evaluate_perplexity(net, data, DEVICE)
        assert mode.reads == ["__float__"] * 2
        d2l.train_ch8(net, data, vocab, 0.01, 1, DEVICE, optimizer=optimizer, final_lr=0.001,
                      valid_iter=data)
        d2l.predict_ch8("time ", 3, net, vocab, DEVICE)
    assert mode.float64 == []


def test_grad_clipping_on_a_second_device():
    net = nn.Linear(3, 2).to(DEVICE)
    net(torch.ones(4, 3, device=DEVICE)).sum().backward()
    with OnDevice() as mode:
        norm = d2l.grad_clipping(net, 1)
    assert norm.device == DEVICE and mode.reads == [] and mode.float64 == []


def test_the_mode_catches_what_it_should():
    # the book's dropout mask on the CPU, mixed with an activation on the device
    X = torch.ones(2, 4, device=DEVICE)
    with OnDevice(), pytest.raises(RuntimeError, match="device"):
        _ = (torch.rand(X.shape) > 0.5).float() * X
    with OnDevice() as mode:
        _ = (torch.rand_like(X) > 0.5).float() * X  # the course's dropout mask
        float(X.sum())
        torch.zeros(2, dtype=torch.float64, device=DEVICE)
    assert mode.reads == ["__float__"] and mode.float64 == ["zeros"]


def test_net_device_and_to_device():
    assert net_device(nn.Linear(2, 2).to(DEVICE)) == DEVICE
    assert net_device(nn.BatchNorm1d(2, affine=False)) == torch.device("cpu")  # buffers only
    assert net_device(nn.ReLU()) is None and net_device(lambda X: X) is None
    x = torch.ones(2)
    assert to_device(x, None) is x and to_device(x, torch.device("cpu")) is x
    assert to_device(x, DEVICE).device == DEVICE


def test_try_gpu_falls_back_to_the_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    assert d2l.try_gpu() == d2l.cpu() and d2l.try_all_gpus() == [d2l.cpu()]
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert d2l.try_gpu(1) == torch.device("cuda:1") and d2l.try_gpu(2) == d2l.cpu()
    assert d2l.try_all_gpus() == [torch.device("cuda:0"), torch.device("cuda:1")]
    assert d2l.num_gpus() == 2
