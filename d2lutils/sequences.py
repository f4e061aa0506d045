"""Minibatches of subsequences for language models: random sampling vs sequential
partitioning.  Random batches are unrelated to each other, so a model must start a fresh
hidden state for each; sequential batches continue each other row by row, so the state
can be carried over (and detached, see rnn.train_epoch_ch8)."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator, Sequence

import torch

from . import _checks
from .text import Vocab, load_corpus_time_machine


def _check_sizes(corpus: Sequence[int], batch_size: int, num_steps: int) -> None:
    _checks.positive_int("batch_size", batch_size)
    _checks.positive_int("num_steps", num_steps)
    # Worst case offset is num_steps - 1 (random) or num_steps (sequential), then Y needs
    # one more token: at least one full batch must fit after it.
    needed = batch_size * num_steps + num_steps + 1
    if len(corpus) < needed:
        raise ValueError(
            f"batch_size * num_steps should leave room for one minibatch in the corpus, but got "
            f"batch_size={batch_size}, num_steps={num_steps} for a corpus of {len(corpus)} "
            f"tokens (needs at least {needed}). Use a smaller batch_size or num_steps, or a "
            f"larger max_tokens.")


Batches = Iterator[tuple[torch.Tensor, torch.Tensor]]


def seq_data_iter_random(corpus: Sequence[int], batch_size: int, num_steps: int) -> Batches:
    """(X, Y) minibatches of subsequences taken at random, non-overlapping positions.

    Y is X shifted by one token.  Uses Python's random (as the book does), so the same
    random.seed gives the book's batches.  A generator, used up after one pass; the
    arguments are checked when it is made."""
    _check_sizes(corpus, batch_size, num_steps)
    return _random_batches(corpus, batch_size, num_steps)


def _random_batches(corpus: Sequence[int], batch_size: int, num_steps: int) -> Batches:
    # Start at a random offset so every epoch partitions the corpus differently
    corpus = corpus[random.randint(0, num_steps - 1):]
    num_subseqs = (len(corpus) - 1) // num_steps  # -1: Y needs the token after X
    initial_indices = list(range(0, num_subseqs * num_steps, num_steps))
    random.shuffle(initial_indices)
    tokens = torch.tensor(corpus)
    steps = torch.arange(num_steps)
    num_batches = num_subseqs // batch_size
    for i in range(0, batch_size * num_batches, batch_size):
        starts = torch.tensor(initial_indices[i: i + batch_size])
        positions = starts[:, None] + steps  # (batch_size, num_steps)
        yield tokens[positions], tokens[positions + 1]


def seq_data_iter_sequential(corpus: Sequence[int], batch_size: int, num_steps: int
                             ) -> Batches:
    """(X, Y) minibatches in which row i of each batch continues row i of the last.

    The corpus is cut into batch_size long rows read left to right, num_steps at a time.
    A generator, used up after one pass; the arguments are checked when it is made."""
    _check_sizes(corpus, batch_size, num_steps)
    return _sequential_batches(corpus, batch_size, num_steps)


def _sequential_batches(corpus: Sequence[int], batch_size: int, num_steps: int) -> Batches:
    offset = random.randint(0, num_steps)
    num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size
    Xs = torch.tensor(corpus[offset: offset + num_tokens])
    Ys = torch.tensor(corpus[offset + 1: offset + 1 + num_tokens])
    Xs, Ys = Xs.reshape(batch_size, -1), Ys.reshape(batch_size, -1)
    num_batches = Xs.shape[1] // num_steps
    for i in range(0, num_steps * num_batches, num_steps):
        yield Xs[:, i: i + num_steps], Ys[:, i: i + num_steps]


class SeqDataLoader:
    """An iterable over The Time Machine's minibatches (one epoch per iteration).

    The corpus is max_tokens characters from token start on (start > 0: held-out text
    after the training part; the vocabulary is the whole book's either way)."""

    def __init__(self, batch_size: int, num_steps: int, use_random_iter: bool,
                 max_tokens: int, data_dir: str | os.PathLike | None = None, *, start: int = 0):
        self.data_iter_fn = seq_data_iter_random if use_random_iter else seq_data_iter_sequential
        if isinstance(start, bool) or not isinstance(start, int) or start < 0:
            _checks.fail(ValueError, "start", "a token index >= 0", start,
                         "Pass e.g. start=10000 for the text after the first 10,000 tokens.")
        corpus, self.vocab = load_corpus_time_machine(-1, data_dir)
        end = start + max_tokens if max_tokens > 0 else len(corpus)
        self.corpus = corpus[start:end]
        _check_sizes(self.corpus, batch_size, num_steps)
        self.batch_size, self.num_steps = batch_size, num_steps
        self.use_random_iter, self.start = use_random_iter, start

    def __iter__(self) -> Batches:
        return self.data_iter_fn(self.corpus, self.batch_size, self.num_steps)

    def __repr__(self) -> str:
        start = f"start={self.start}, " if self.start else ""
        return (f"SeqDataLoader({start}tokens={len(self.corpus)}, batch_size={self.batch_size}, "
                f"num_steps={self.num_steps}, use_random_iter={self.use_random_iter})")


def load_data_time_machine(batch_size: int, num_steps: int, use_random_iter: bool = False,
                           max_tokens: int = 10000,
                           data_dir: str | os.PathLike | None = None, *, start: int = 0
                           ) -> tuple[SeqDataLoader, Vocab]:
    """Return (data_iter, vocab) for The Time Machine at the character level: max_tokens
    characters from token start on (start=10000: held-out text after the book's part)."""
    data_iter = SeqDataLoader(batch_size, num_steps, use_random_iter, max_tokens, data_dir,
                              start=start)
    return data_iter, data_iter.vocab
