"""metrics.py: accuracy on hand-made cases, Accumulator, Timer, evaluate_accuracy/loss."""

import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import d2lutils as d2l


def test_accuracy_counts_argmax_hits():
    y_hat = torch.tensor([[0.1, 0.3, 0.6], [0.5, 0.2, 0.3], [0.2, 0.7, 0.1]])
    y = torch.tensor([2, 1, 1])
    assert d2l.accuracy(y_hat, y) == 2.0  # rows 0 and 2 are right, row 1 is wrong


def test_accuracy_accepts_predicted_labels():
    assert d2l.accuracy(torch.tensor([0, 1, 2, 2]), torch.tensor([0, 1, 1, 2])) == 3.0
    # a single score column is a label column, not scores of one class
    assert d2l.accuracy(torch.tensor([[1.0], [0.0]]), torch.tensor([1, 1])) == 1.0


def test_accuracy_mismatched_batch_sizes_name_both_shapes():
    with pytest.raises(ValueError, match=r"y_hat\.shape=\(4, 3\) for labels of shape \(3,\)"):
        d2l.accuracy(torch.zeros(4, 3), torch.zeros(3, dtype=torch.long))


def test_accuracy_never_warns_on_tensors_that_require_grad():
    y_hat = torch.randn(5, 3, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d2l.accuracy(y_hat * 2, torch.tensor([0, 1, 2, 0, 1]))


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 40), st.integers(2, 6), st.integers(0, 2**31 - 1))
def test_accuracy_matches_torch_argmax(n, q, seed):
    gen = torch.Generator().manual_seed(seed)
    y_hat = torch.randn(n, q, generator=gen)
    y = torch.randint(0, q, (n,), generator=gen)
    assert d2l.accuracy(y_hat, y) == float((y_hat.argmax(1) == y).sum())


def test_accumulator_sums_and_detaches():
    metric = d2l.Accumulator(2)
    w = torch.tensor(3.0, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the book's metric.add(l * n, n) warns in torch 2.13
        metric.add(w * 2, 1)
    metric.add(4, 2)
    assert metric[0] == 10.0 and metric[1] == 3.0
    assert repr(metric) == "Accumulator([10.0, 3.0])"
    metric.reset()
    assert metric.data == [0.0, 0.0]


def test_accumulator_wrong_arity_is_a_clear_error():
    with pytest.raises(ValueError, match=r"add\(\) should get 2 values \(one per sum\), but got 3"):
        d2l.Accumulator(2).add(1, 2, 3)


def test_timer_records_laps():
    timer = d2l.Timer()
    first = timer.stop()
    timer.start()
    second = timer.stop()
    assert timer.times == [first, second] and min(timer.times) >= 0
    assert timer.sum() == pytest.approx(first + second)
    assert timer.avg() == pytest.approx((first + second) / 2)
    assert timer.cumsum() == pytest.approx([first, first + second])
    assert repr(timer) == "Timer(laps=2)"


def _batches(X, y, batch_size):
    return [(X[i: i + batch_size], y[i: i + batch_size]) for i in range(0, len(X), batch_size)]


def test_evaluate_accuracy_matches_whole_dataset_and_leaves_eval_mode():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 3), nn.Dropout(0.5))
    X, y = torch.randn(23, 4), torch.randint(0, 3, (23,))
    net.train()
    acc = d2l.evaluate_accuracy(net, _batches(X, y, 5))
    net.eval()
    with torch.no_grad():
        expected = float((net(X).argmax(1) == y).sum()) / 23
    assert acc == pytest.approx(expected)
    net.train()
    d2l.evaluate_accuracy(net, _batches(X, y, 5))
    assert not net.training  # as in the book: evaluation leaves the net in eval mode


def test_evaluate_loss_evaluates_in_eval_mode_and_restores_it():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 1), nn.Dropout(0.5))
    X, y = torch.randn(20, 4), torch.randn(20)
    net.train()
    losses = {d2l.evaluate_loss(net, _batches(X, y, 6), nn.MSELoss()) for _ in range(3)}
    assert len(losses) == 1 and net.training  # no dropout noise; mode restored


def test_a_net_narrower_than_the_labels_is_a_clear_error():
    net = nn.Linear(4, 3)  # 3 outputs, labels up to 9
    data = _batches(torch.randn(6, 4), torch.tensor([0, 9, 2, 1, 0, 2]), 3)
    with pytest.raises(ValueError, match=r"net\(X\) should have one output per class, 10 or "
                                         r"more for labels in \[0, 9\], but got "
                                         r"net\(X\)\.shape\[1\]=3\. Make the last layer"):
        d2l.evaluate_accuracy(net, data)
    with pytest.raises(ValueError, match="should have one output per class"):
        d2l.train_epoch_ch3(net, data, nn.CrossEntropyLoss(), torch.optim.SGD(
            net.parameters(), lr=0.1))


def test_evaluate_accuracy_rejects_wrong_output_shape_and_empty_loader():
    net = nn.Linear(4, 3)
    with pytest.raises(ValueError,
                       match=r"net\(X\) should hold one row .* net\(X\)\.shape=\(1, 3\)"):
        d2l.evaluate_accuracy(lambda X: net(X).sum(0, keepdim=True),
                              _batches(torch.randn(6, 4), torch.zeros(6, dtype=torch.long), 3))
    with pytest.raises(ValueError, match="data_iter should yield at least one minibatch"):
        d2l.evaluate_accuracy(net, [])


def test_evaluate_loss_matches_mean_loss_for_both_reductions():
    torch.manual_seed(1)
    net = nn.Linear(3, 1)
    X, y = torch.randn(10, 3), torch.randn(10)
    with torch.no_grad():
        expected = float(((net(X).reshape(-1) - y) ** 2).mean())
    assert d2l.evaluate_loss(net, _batches(X, y, 4), nn.MSELoss(reduction="none")) == \
        pytest.approx(expected, rel=1e-6)
    assert d2l.evaluate_loss(net, _batches(X, y, 5), nn.MSELoss()) == \
        pytest.approx(expected, rel=1e-6)
