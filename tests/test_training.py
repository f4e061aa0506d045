"""training.py: the chapter-3 pieces against torch, and train_ch3 on real Fashion-MNIST."""

import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import d2lutils as d2l


def test_linreg_and_squared_loss():
    X, w, b = torch.tensor([[1.0, 2.0], [3.0, 4.0]]), torch.tensor([[0.5], [-1.0]]), 2.0
    y_hat = d2l.linreg(X, w, b)
    assert torch.equal(y_hat, torch.tensor([[0.5], [-0.5]]))
    # y of shape (n,) is reshaped like y_hat, (y_hat - y)^2 / 2 per example
    assert torch.equal(d2l.squared_loss(y_hat, torch.tensor([1.5, -0.5])),
                       torch.tensor([[0.5], [0.0]]))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 8), st.floats(0.001, 1.0), st.integers(0, 2**31 - 1))
def test_sgd_matches_torch_optim_sgd(batch_size, lr, seed):
    gen = torch.Generator().manual_seed(seed)
    X, y = torch.randn(batch_size, 3, generator=gen), torch.randn(batch_size, 1, generator=gen)
    w0, b0 = torch.randn(3, 1, generator=gen), torch.zeros(1)
    w, b = w0.clone().requires_grad_(), b0.clone().requires_grad_()
    d2l.squared_loss(d2l.linreg(X, w, b), y).sum().backward()
    d2l.sgd([w, b], lr, batch_size)
    # torch's SGD on the mean loss is the same step: sgd divides the summed loss's gradient
    w2, b2 = w0.clone().requires_grad_(), b0.clone().requires_grad_()
    opt = torch.optim.SGD([w2, b2], lr=lr)
    d2l.squared_loss(d2l.linreg(X, w2, b2), y).mean().backward()
    opt.step()
    torch.testing.assert_close(w.detach(), w2.detach())
    torch.testing.assert_close(b.detach(), b2.detach())
    assert torch.count_nonzero(w.grad) == 0 and torch.count_nonzero(b.grad) == 0


def test_sgd_without_gradient_is_a_clear_error():
    w = torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match=r"params\[0\] should have a gradient, but got "
                                         r"params\[0\]\.grad=None"):
        d2l.sgd([w], 0.1, 4)


def _tiny_batches(seed=0, n=12, batch_size=4):
    gen = torch.Generator().manual_seed(seed)
    X, y = torch.randn(n, 1, 2, 2, generator=gen), torch.randint(0, 3, (n,), generator=gen)
    return [(X[i: i + batch_size], y[i: i + batch_size]) for i in range(0, n, batch_size)]


def _net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(4, 3))


@pytest.mark.parametrize("reduction", ["none", "mean"])
def test_train_epoch_ch3_optimizer_matches_a_hand_loop(reduction):
    batches = _tiny_batches()
    net, ref = _net(), _net()
    loss = nn.CrossEntropyLoss(reduction=reduction)
    train_loss, train_acc = d2l.train_epoch_ch3(net, batches, loss,
                                                torch.optim.SGD(net.parameters(), lr=0.5))
    opt = torch.optim.SGD(ref.parameters(), lr=0.5)
    total, correct = 0.0, 0
    for X, y in batches:
        y_hat = ref(X)
        l = nn.functional.cross_entropy(y_hat, y)
        opt.zero_grad()
        l.backward()
        opt.step()
        total += l.item() * len(y)
        correct += int((y_hat.argmax(1) == y).sum())
    for p, q in zip(net.parameters(), ref.parameters()):
        torch.testing.assert_close(p, q)
    assert train_loss == pytest.approx(total / 12, rel=1e-6)
    assert train_acc == correct / 12


def test_train_epoch_ch3_scratch_updater_gets_the_batch_size():
    batches = _tiny_batches()
    net, ref = _net(), _net()
    params = list(net.parameters())
    sizes = []

    def updater(batch_size):
        sizes.append(batch_size)
        d2l.sgd(params, 0.5, batch_size)

    d2l.train_epoch_ch3(net, batches, nn.CrossEntropyLoss(reduction="none"), updater)
    d2l.train_epoch_ch3(ref, batches, nn.CrossEntropyLoss(reduction="none"),
                        torch.optim.SGD(ref.parameters(), lr=0.5))
    assert sizes == [4, 4, 4]
    for p, q in zip(net.parameters(), ref.parameters()):
        torch.testing.assert_close(p, q)


def test_train_ch3_rejects_bad_num_epochs_and_wrong_output_shape():
    batches = _tiny_batches()
    net = _net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loss = nn.CrossEntropyLoss(reduction="none")
    with pytest.raises(ValueError, match=r"num_epochs should be a positive integer, but got "
                                         r"num_epochs=0"):
        d2l.train_ch3(net, batches, batches, loss, 0, opt)
    with pytest.raises(TypeError, match=r"num_epochs=2\.0"):
        d2l.train_ch3(net, batches, batches, loss, 2.0, opt)
    # reshape((-1, 2)) where (-1, 4) was meant: twice as many rows as labels
    with pytest.raises(ValueError, match=r"net\(X\) should hold one row of class scores .* "
                                         r"net\(X\)\.shape=\(8, 3\) for labels of shape \(4,\)"):
        d2l.train_epoch_ch3(lambda X: nn.functional.linear(X.reshape((-1, 2)), torch.ones(3, 2)),
                            batches, loss, lambda batch_size: None)
    with pytest.raises(ValueError, match="train_iter should yield at least one minibatch"):
        d2l.train_epoch_ch3(net, [], loss, opt)


@pytest.fixture(scope="module")
def fashion_subset():
    X, y = d2l.load_fashion_mnist(True)
    Xt, yt = d2l.load_fashion_mnist(False)
    torch.manual_seed(0)
    train = d2l.TensorBatches((X[:12000], y[:12000]), 256, shuffle=True)
    test = d2l.TensorBatches((Xt[:2000], yt[:2000]), 256)
    return train, test


@pytest.mark.needs_data("fashion-mnist")
def test_train_ch3_learns_fashion_mnist_and_returns_history(fashion_subset, capsys):
    train_iter, test_iter = fashion_subset
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    nn.init.normal_(net[1].weight, std=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the helpers never warn in a learner's output
        history = d2l.train_ch3(net, train_iter, test_iter, nn.CrossEntropyLoss(reduction="none"),
                                4, torch.optim.SGD(net.parameters(), lr=0.1))
    assert isinstance(history, d2l.History)
    assert len(history.train_loss) == len(history.test_acc) == len(history.examples_per_sec) == 4
    assert history.test_acc[-1] > 0.75
    assert history.train_loss[-1] < history.train_loss[0]
    assert all(0 < a <= 1 for a in history.train_acc) and min(history.examples_per_sec) > 0
    assert history.test_acc[-1] == pytest.approx(d2l.evaluate_accuracy(net, test_iter))
    lines = capsys.readouterr().out.splitlines()  # outside Jupyter: one line per epoch
    assert len(lines) == 4 and lines[-1].startswith("epoch 4/4: loss ")
    # the repr a bare call displays: short, and the same on every machine
    assert repr(history) == ("History(epochs=4: train_loss, train_acc, test_acc, "
                             "examples_per_sec)")
    assert str(history) == (f"epoch 4: train loss {history.train_loss[-1]:.3f}, train acc "
                            f"{history.train_acc[-1]:.3f}, test acc {history.test_acc[-1]:.3f}")
    assert str(d2l.History()) == "History(epochs=0)"
    assert not net.training  # left in eval mode, as the book's


@pytest.mark.needs_data("fashion-mnist")
def test_predict_ch3_returns_true_and_predicted_names(fashion_subset):
    _, test_iter = fashion_subset
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    result = d2l.predict_ch3(net, test_iter, n=4)
    assert repr(result) == "Predictions(n=4: trues, preds)"  # what a bare call displays
    trues, preds = result
    X, y = next(iter(test_iter))
    assert trues == d2l.get_fashion_mnist_labels(y[:4])
    with torch.no_grad():
        assert preds == d2l.get_fashion_mnist_labels(net(X[:4]).argmax(1))
    import matplotlib.pyplot as plt

    plt.close("all")


def test_predict_ch3_predicts_in_eval_mode_and_restores_it():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(4, 64), nn.ReLU(), nn.Dropout(0.5),
                        nn.Linear(64, 10))
    batches = [(torch.randn(8, 1, 2, 2), torch.randint(0, 10, (8,)))]
    net.train()
    first = d2l.predict_ch3(net, batches, n=8)
    assert net.training  # restored
    assert all(d2l.predict_ch3(net, batches, n=8) == first for _ in range(5))  # no dropout
    net.eval()
    with torch.no_grad():
        expected = d2l.get_fashion_mnist_labels(net(batches[0][0]).argmax(1))
    assert first.preds == expected
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.mark.parametrize("kind", ["list", "generator", "TensorBatches", "DataLoader"])
def test_examples_per_sec_counts_the_examples_seen(two_second_epochs, kind):
    X, y = torch.randn(30, 1, 2, 2), torch.randint(0, 3, (30,))
    train_iter = {"list": lambda: _tiny_batches(n=30, batch_size=4),
                  "generator": lambda: d2l.data_iter(4, X, y),
                  "TensorBatches": lambda: d2l.TensorBatches((X, y), 4, shuffle=True),
                  "DataLoader": lambda: d2l.load_array((X, y), 4)}[kind]()
    net = _net()
    history = d2l.train_ch3(net, train_iter, _tiny_batches(), nn.CrossEntropyLoss(), 1,
                            torch.optim.SGD(net.parameters(), lr=0.1))
    assert history.examples_per_sec == [30 / 2.0]


def test_a_one_shot_generator_is_refused_for_several_epochs():
    X, y = torch.randn(12, 1, 2, 2), torch.randint(0, 3, (12,))
    net = _net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(TypeError, match=r"train_iter should be re-iterable \(one pass per "
                                        r"epoch\), but got train_iter='generator'\. A generator "
                                        r"is used up after the first epoch"):
        d2l.train_ch3(net, d2l.data_iter(4, X, y), _tiny_batches(), nn.CrossEntropyLoss(), 2, opt)
    # one epoch is fine
    d2l.train_ch3(net, d2l.data_iter(4, X, y), _tiny_batches(), nn.CrossEntropyLoss(), 1, opt)


def test_sgd_with_batch_size_zero_is_a_clear_error():
    w = torch.zeros(2, requires_grad=True)
    w.sum().backward()
    with pytest.raises(ValueError, match=r"batch_size should be a positive integer, but got "
                                         r"batch_size=0\. Pass the number of examples"):
        d2l.sgd([w], 0.1, 0)
    assert torch.equal(w, torch.zeros(2))  # nothing was updated
