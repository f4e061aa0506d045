"""sequences.py: random sampling vs sequential partitioning, on small integer corpora."""

import random

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import d2lutils as d2l

sizes = st.tuples(st.integers(1, 5), st.integers(1, 6), st.integers(0, 40), st.integers(0, 999))


def _corpus(batch_size, num_steps, extra):
    return list(range(batch_size * num_steps + num_steps + 1 + extra))


@settings(max_examples=80, deadline=None)
@given(sizes)
def test_random_batches_cover_the_corpus_without_overlap(case):
    batch_size, num_steps, extra, seed = case
    corpus = _corpus(batch_size, num_steps, extra)
    random.seed(seed)
    starts = []
    for X, Y in d2l.seq_data_iter_random(corpus, batch_size, num_steps):
        assert X.shape == Y.shape == (batch_size, num_steps)
        assert torch.equal(Y, X + 1)  # the corpus is 0, 1, 2, ...: Y is X shifted by one
        assert torch.equal(X, X[:, :1] + torch.arange(num_steps))  # each row is contiguous
        starts += X[:, 0].tolist()
    assert len(starts) == len(set(starts)) > 0  # no subsequence twice in an epoch
    offset = min(starts) % num_steps
    assert all((s - offset) % num_steps == 0 for s in starts)  # one partition, no overlap
    # every full subsequence after the offset is used, except those of a short last batch
    num_subseqs = (len(corpus) - offset - 1) // num_steps
    assert len(starts) == (num_subseqs // batch_size) * batch_size


@settings(max_examples=80, deadline=None)
@given(sizes)
def test_sequential_batches_continue_each_other(case):
    batch_size, num_steps, extra, seed = case
    corpus = _corpus(batch_size, num_steps, extra)
    random.seed(seed)
    batches = list(d2l.seq_data_iter_sequential(corpus, batch_size, num_steps))
    assert batches
    for X, Y in batches:
        assert X.shape == Y.shape == (batch_size, num_steps) and torch.equal(Y, X + 1)
    rows = torch.cat([X for X, _ in batches], dim=1)  # row i of batch t+1 follows batch t
    assert torch.equal(rows, rows[:, :1] + torch.arange(rows.shape[1]))


def test_book_example_35_tokens():
    random.seed(0)
    batches = list(d2l.seq_data_iter_sequential(list(range(35)), 2, 5))
    assert len(batches) == 3 and batches[0][0].shape == (2, 5)


def test_too_large_num_steps_or_batch_is_a_clear_error():
    with pytest.raises(ValueError, match=r"batch_size \* num_steps should leave room for one "
                                         r"minibatch .* batch_size=4, num_steps=10 for a corpus "
                                         r"of 30 tokens \(needs at least 51\)"):
        d2l.seq_data_iter_random(list(range(30)), 4, 10)  # checked when called
    with pytest.raises(ValueError, match=r"batch_size=1, num_steps=40 for a corpus of 30"):
        d2l.seq_data_iter_sequential(list(range(30)), 1, 40)
    with pytest.raises(ValueError, match=r"num_steps should be a positive integer, but got "
                                         r"num_steps=0"):
        d2l.seq_data_iter_sequential(list(range(30)), 1, 0)


@pytest.mark.needs_data("time-machine")
def test_load_data_time_machine_rejects_a_short_corpus_and_a_bad_start():
    with pytest.raises(ValueError, match=r"batch_size \* num_steps .* larger max_tokens"):
        d2l.load_data_time_machine(32, 35, max_tokens=500)
    with pytest.raises(ValueError, match=r"start should be a token index >= 0, but got "
                                         r"start=-1"):
        d2l.load_data_time_machine(32, 35, start=-1)


@pytest.mark.needs_data("time-machine")
def test_held_out_text_follows_the_training_text_with_the_same_vocab():
    train, vocab = d2l.load_data_time_machine(32, 35)
    held_out, vocab2 = d2l.load_data_time_machine(32, 35, start=10000)
    corpus, _ = d2l.load_corpus_time_machine()
    assert vocab2.idx_to_token == vocab.idx_to_token
    assert train.corpus == corpus[:10000] and held_out.corpus == corpus[10000:20000]
    assert repr(held_out).startswith("SeqDataLoader(start=10000, tokens=10000, ")
    rest, _ = d2l.load_data_time_machine(32, 35, max_tokens=-1, start=20000)
    assert rest.corpus == corpus[20000:]


@pytest.mark.needs_data("time-machine")
def test_load_data_time_machine_both_iterators():
    random.seed(0)
    seq_iter, vocab = d2l.load_data_time_machine(32, 35)
    rand_iter, _ = d2l.load_data_time_machine(32, 35, use_random_iter=True)
    assert len(vocab) == 28 and len(seq_iter.corpus) == 10000
    assert repr(seq_iter) == ("SeqDataLoader(tokens=10000, batch_size=32, num_steps=35, "
                              "use_random_iter=False)")
    for data_iter in (seq_iter, rand_iter):
        batches = list(data_iter)  # one epoch per iteration
        assert 7 <= len(batches) <= 8 and batches[0][0].shape == (32, 35)
        X, Y = batches[0]
        assert torch.equal(X[:, 1:], Y[:, :-1])
