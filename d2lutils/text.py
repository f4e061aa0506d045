"""Chapter 8 text preprocessing: read The Time Machine, tokenize, and map tokens to indices."""

from __future__ import annotations

import collections
import os
import re
from collections.abc import Sequence
from typing import Any

from . import _checks
from .paths import DATASETS, dataset_file, locate


def read_time_machine(data_dir: str | os.PathLike | None = None) -> list[str]:
    """The Time Machine as lines of lowercase letters and single spaces (punctuation dropped)."""
    folder = locate("time-machine", data_dir)
    fname = DATASETS["time-machine"].files()[0][0]
    with open(dataset_file(folder, fname), encoding="utf-8") as f:
        lines = f.readlines()
    return [re.sub("[^A-Za-z]+", " ", line).strip().lower() for line in lines]


def tokenize(lines: Sequence[str], token: str = "word") -> list[list[str]]:
    """Split each line into word or character tokens."""
    _checks.one_of("token", token, ("word", "char"))
    if isinstance(lines, str):
        raise TypeError("lines should be a list of strings, but got a single string. "
                        "Wrap it in a list: tokenize([text]).")
    if token == "word":
        return [line.split() for line in lines]
    return [list(line) for line in lines]


def count_corpus(tokens: Sequence) -> collections.Counter:
    """Token frequencies; tokens may be a flat list or a list of token lists."""
    if len(tokens) == 0 or isinstance(tokens[0], list):
        tokens = [token for line in tokens for token in line]
    return collections.Counter(tokens)


class Vocab:
    """Map tokens to indices, most frequent first; index 0 is '<unk>' for unknown tokens.

    Tokens rarer than min_freq map to '<unk>'; reserved_tokens (e.g. '<pad>') follow it."""

    def __init__(self, tokens: Sequence | None = None, min_freq: int = 0,
                 reserved_tokens: Sequence[str] | None = None):
        # Vocab() and Vocab([]) are both the '<unk>'-only vocabulary, as in the book
        reserved_tokens = list(reserved_tokens or [])
        counter = count_corpus(tokens if tokens is not None else [])
        # sorted() is stable: equally frequent tokens keep their first-seen order
        self._token_freqs = sorted(counter.items(), key=lambda x: x[1], reverse=True)
        self.min_freq = min_freq
        self.idx_to_token = ["<unk>", *reserved_tokens]
        self.token_to_idx = {token: idx for idx, token in enumerate(self.idx_to_token)}
        for token, freq in self._token_freqs:
            if freq < min_freq:
                break
            if token not in self.token_to_idx:
                self.idx_to_token.append(token)
                self.token_to_idx[token] = len(self.idx_to_token) - 1

    def __len__(self) -> int:
        return len(self.idx_to_token)

    def __getitem__(self, tokens: Any) -> Any:
        """Index of a token, or (nested) lists of indices for (nested) lists of tokens."""
        if not isinstance(tokens, (list, tuple)):
            return self.token_to_idx.get(tokens, self.unk)
        return [self.__getitem__(token) for token in tokens]

    def to_tokens(self, indices: Any) -> Any:
        """Token of an index, or a list of tokens for a list of indices."""
        if hasattr(indices, "tolist"):
            indices = indices.tolist()
        if not isinstance(indices, (list, tuple)):
            return self.idx_to_token[indices]
        return [self.to_tokens(index) for index in indices]

    @property
    def unk(self) -> int:
        return 0

    @property
    def token_freqs(self) -> list[tuple[str, int]]:
        return self._token_freqs

    def __repr__(self) -> str:
        return f"Vocab(size={len(self)}, min_freq={self.min_freq})"


def load_corpus_time_machine(max_tokens: int = -1, data_dir: str | os.PathLike | None = None
                             ) -> tuple[list[int], Vocab]:
    """(corpus, vocab): The Time Machine as a flat list of character indices, and its Vocab."""
    lines = read_time_machine(data_dir)
    tokens = tokenize(lines, "char")
    vocab = Vocab(tokens)
    corpus = [vocab[token] for line in tokens for token in line]
    if max_tokens > 0:
        corpus = corpus[:max_tokens]
    return corpus, vocab
