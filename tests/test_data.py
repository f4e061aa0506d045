"""data.py: synthetic_data, data_iter, load_array, TensorBatches, get_dataloader_workers."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import d2lutils as d2l
from d2lutils.data import TensorBatches

BAD_BATCH_SIZES = [(0, ValueError), (-1, ValueError), (2.5, TypeError), (True, TypeError),
                   ("256", TypeError)]


def _epoch(batches):
    """Concatenate the labels of one epoch and return them with the batch sizes."""
    seen, sizes = [], []
    for batch in batches:
        seen.append(batch[-1])
        sizes.append(len(batch[-1]))
    return (torch.cat(seen) if seen else torch.empty(0, dtype=torch.int64)), sizes


def _expected_sizes(n, batch_size):
    return [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 300), batch_size=st.integers(1, 64), dim=st.integers(1, 3))
def test_data_iter_visits_every_example_once_per_epoch(n, batch_size, dim):
    # Features row i holds the value i in every column, so each X row names its label.
    labels = torch.arange(n)
    features = labels.float().unsqueeze(1).repeat(1, dim)
    for _ in range(2):  # every epoch, not just the first
        seen, sizes = [], []
        for X, y in d2l.data_iter(batch_size, features, labels):
            assert X.shape == (len(y), dim) and X.dtype == torch.float32
            assert y.dtype == torch.int64
            assert torch.equal(X[:, 0].long(), y)  # rows stay paired with their labels
            seen.append(y)
            sizes.append(len(y))
        assert sorted(torch.cat(seen).tolist()) == list(range(n))
        assert sizes == _expected_sizes(n, batch_size)


def test_data_iter_is_a_shuffled_generator():
    labels = torch.arange(1000)
    epoch = d2l.data_iter(10, labels.float(), labels)
    assert iter(epoch) is epoch  # a generator: one pass is one epoch
    torch.manual_seed(0)
    import random

    random.seed(0)
    first = torch.cat([y for _, y in d2l.data_iter(10, labels.float(), labels)])
    second = torch.cat([y for _, y in d2l.data_iter(10, labels.float(), labels)])
    assert not torch.equal(first, labels)
    assert not torch.equal(first, second)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 300), batch_size=st.integers(1, 64), shuffle=st.booleans())
def test_tensor_batches_cover_every_example_and_len_matches(n, batch_size, shuffle):
    X = torch.arange(n, dtype=torch.float32).reshape(n, 1, 1, 1).expand(n, 1, 2, 2).contiguous()
    y = torch.arange(n)
    batches = TensorBatches((X, y), batch_size, shuffle=shuffle)
    assert len(batches) == math.ceil(n / batch_size)
    for _ in range(2):  # repeated iteration works
        labels, sizes = _epoch(batches)
        assert sorted(labels.tolist()) == list(range(n))
        assert sizes == _expected_sizes(n, batch_size)
        if not shuffle:
            assert torch.equal(labels, y)
    for Xb, yb in batches:
        assert Xb.shape[1:] == (1, 2, 2) and torch.equal(Xb[:, 0, 0, 0].long(), yb)


def test_tensor_batches_reshuffle_every_epoch():
    y = torch.arange(2000)
    batches = TensorBatches((y.float(), y), 100, shuffle=True)
    torch.manual_seed(0)
    first, _ = _epoch(batches)
    second, _ = _epoch(batches)
    assert not torch.equal(first, y)
    assert not torch.equal(first, second)
    torch.manual_seed(0)
    again, _ = _epoch(batches)
    assert torch.equal(first, again)  # torch.manual_seed makes the order reproducible


def test_tensor_batches_repr_is_stable():
    batches = TensorBatches((torch.zeros(10, 3), torch.zeros(10)), 4, shuffle=True)
    assert repr(batches) == "TensorBatches(num_examples=10, batch_size=4, shuffle=True)"


def test_synthetic_data_shapes_and_fit():
    torch.manual_seed(0)
    true_w, true_b = torch.tensor([2, -3.4]), 4.2
    X, y = d2l.synthetic_data(true_w, true_b, 1000)
    assert X.shape == (1000, 2) and y.shape == (1000, 1)
    assert X.dtype == y.dtype == torch.float32
    # Least squares recovers w and b up to the noise (std 0.01)
    A = torch.cat([X, torch.ones(1000, 1)], dim=1)
    solution = torch.linalg.lstsq(A, y).solution.squeeze()
    assert torch.allclose(solution, torch.tensor([2, -3.4, 4.2]), atol=0.01)


def test_load_array_matches_the_book():
    X, y = torch.arange(20.0).reshape(10, 2), torch.arange(10)
    loader = d2l.load_array((X, y), 4, is_train=False)
    assert isinstance(loader, torch.utils.data.DataLoader)
    assert [len(b) for _, b in loader] == [4, 4, 2]
    assert torch.equal(torch.cat([b for _, b in loader]), y)
    torch.manual_seed(0)
    shuffled = torch.cat([b for _, b in d2l.load_array((X, y), 4)])
    assert sorted(shuffled.tolist()) == list(range(10)) and not torch.equal(shuffled, y)


def test_get_dataloader_workers_is_zero():
    assert d2l.get_dataloader_workers() == 0


@pytest.mark.parametrize("batch_size, error", BAD_BATCH_SIZES)
def test_bad_batch_size_is_refused_everywhere(batch_size, error):
    X, y = torch.zeros(10, 2), torch.zeros(10)
    pattern = rf"batch_size should be a positive integer, but got batch_size={batch_size!r}"
    with pytest.raises(error, match=pattern.replace("(", r"\(").replace(".", r"\.")):
        d2l.data_iter(batch_size, X, y)  # checked when called, not at the first batch
    with pytest.raises(error, match="batch_size should be a positive integer"):
        d2l.load_array((X, y), batch_size)
    with pytest.raises(error, match="batch_size should be a positive integer"):
        TensorBatches((X, y), batch_size)


def test_numpy_integer_batch_size_is_accepted():
    import numpy as np

    X, y = torch.zeros(10, 2), torch.zeros(10)
    assert [len(b) for _, b in d2l.data_iter(np.int64(4), X, y)] == [4, 4, 2]


def test_features_and_labels_of_different_lengths_are_refused():
    X, y = torch.zeros(10, 2), torch.zeros(9)
    message = r"should have the same number of examples .* len\(features\)=10 and len\(labels\)=9"
    with pytest.raises(ValueError, match=message):
        d2l.data_iter(4, X, y)
    with pytest.raises(ValueError, match=r"len\(data_arrays\[1\]\)=9"):
        d2l.load_array((X, y), 4)
    with pytest.raises(ValueError, match="same number of examples"):
        TensorBatches((X, y), 4)


def test_bad_num_examples_is_refused():
    with pytest.raises(ValueError, match="num_examples should be a positive integer"):
        d2l.synthetic_data(torch.tensor([1.0]), 0.0, 0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.uint8,
                                   torch.int64, torch.bool])
def test_tensor_batches_gather_matches_indexing(dtype):
    # torch indexing is the oracle, for dtypes NumPy has and for one it lacks (bfloat16)
    torch.manual_seed(0)
    X = (torch.rand(50, 3, 2) * 100).to(dtype)
    y = torch.arange(50)
    torch.manual_seed(1)
    for Xb, yb in TensorBatches((X, y), 8, shuffle=True):
        assert Xb.dtype == dtype and torch.equal(Xb, X[yb])


@pytest.mark.parametrize("shuffle", [True, False])
def test_tensor_batches_are_copies_shuffled_or_not(shuffle):
    # the same rule either way: editing a batch in place never changes the dataset
    X, y = torch.zeros(10, 2), torch.arange(10)
    loader = TensorBatches((X, y), 4, shuffle=shuffle)
    for Xb, yb in loader:
        Xb += 1
        yb -= 100
    assert X.sum() == 0 and torch.equal(y, torch.arange(10))
    assert all(Xb.sum() == 0 for Xb, _ in loader)


def test_tensor_batches_transform_each_batch():
    X, y = torch.arange(10.0).reshape(10, 1), torch.arange(10)
    loader = TensorBatches((X, y), 4, transform=lambda batch: (batch[0] * 2, batch[1]))
    assert [Xb.reshape(-1).tolist() for Xb, _ in loader] == [[0, 2, 4, 6], [8, 10, 12, 14],
                                                            [16, 18]]
    assert torch.equal(X.reshape(-1), torch.arange(10.0))


def test_tensor_batches_with_tensors_that_require_grad():
    X = torch.arange(12.0).reshape(6, 2).requires_grad_()
    Xb, yb = next(iter(TensorBatches((X, torch.arange(6)), 6, shuffle=True)))
    assert Xb.requires_grad and torch.equal(Xb.detach(), X.detach()[yb])
