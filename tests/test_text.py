"""text.py: reading, tokenizing and the Vocab, on a tiny corpus made in tmp_path."""

import collections

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import d2lutils as d2l

TEXT = "The Time Machine, by H. G. Wells [1898]\n\nI\nThe Time Traveller (for so it will be\n"


@pytest.fixture
def tiny_dir(tmp_path):
    (tmp_path / "timemachine.txt").write_text(TEXT, encoding="utf-8")
    return tmp_path


def test_read_time_machine_keeps_letters_lowercase(tiny_dir):
    lines = d2l.read_time_machine(tiny_dir)
    assert lines == ["the time machine by h g wells", "", "i",
                     "the time traveller for so it will be"]


def test_tokenize_words_and_chars():
    lines = ["the time", "", "a b"]
    assert d2l.tokenize(lines) == [["the", "time"], [], ["a", "b"]]
    assert d2l.tokenize(lines, "char") == [list("the time"), [], list("a b")]


def test_tokenize_rejects_unknown_token_and_a_bare_string():
    with pytest.raises(ValueError, match=r"token should be one of 'word', 'char', but got "
                                         r"token='chars'"):
        d2l.tokenize(["a"], "chars")
    with pytest.raises(TypeError, match=r"lines should be a list of strings, but got a single "
                                        r"string"):
        d2l.tokenize("the time")


def test_vocab_order_unk_reserved_and_min_freq():
    tokens = [["b", "a", "b"], ["c", "a", "b", "d"]]
    vocab = d2l.Vocab(tokens, min_freq=2, reserved_tokens=["<pad>"])
    # <unk> at 0, reserved next, then by frequency (ties keep first-seen order)
    assert vocab.idx_to_token == ["<unk>", "<pad>", "b", "a"]
    assert vocab.token_freqs == [("b", 3), ("a", 2), ("c", 1), ("d", 1)]
    assert vocab["c"] == vocab.unk == 0 and vocab["b"] == 2
    assert vocab[["a", ["b", "zzz"]]] == [3, [2, 0]]
    assert vocab.to_tokens([2, 3, 0]) == ["b", "a", "<unk>"] and vocab.to_tokens(1) == "<pad>"
    assert len(vocab) == 4 and repr(vocab) == "Vocab(size=4, min_freq=2)"


def test_vocab_without_tokens_is_the_books_unk_only_vocab():
    # Vocab(), Vocab([]) and Vocab([[], []]) agree, as in the book
    for vocab in (d2l.Vocab(), d2l.Vocab([]), d2l.Vocab([[], []])):
        assert vocab.idx_to_token == ["<unk>"] and len(vocab) == 1 and vocab["x"] == 0
    assert d2l.Vocab([], reserved_tokens=["<pad>"]).idx_to_token == ["<unk>", "<pad>"]


def test_count_corpus_flat_and_nested():
    assert d2l.count_corpus(["a", "b", "a"]) == collections.Counter({"a": 2, "b": 1})
    assert d2l.count_corpus([["a"], ["b", "a"]]) == collections.Counter({"a": 2, "b": 1})


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from("abcdef "), max_size=12), min_size=1, max_size=6)
       .filter(lambda lines: any(lines)), st.integers(0, 3))
def test_vocab_round_trips_known_tokens(tokens, min_freq):
    vocab = d2l.Vocab(tokens, min_freq=min_freq)
    counts = d2l.count_corpus(tokens)
    for line in tokens:
        back = vocab.to_tokens(vocab[line])
        assert back == [t if counts[t] >= min_freq else "<unk>" for t in line]
    freqs = [f for _, f in vocab.token_freqs]
    assert freqs == sorted(freqs, reverse=True) and sum(freqs) == sum(map(len, tokens))


def test_load_corpus_time_machine_and_max_tokens(tiny_dir):
    corpus, vocab = d2l.load_corpus_time_machine(data_dir=tiny_dir)
    text = "".join(d2l.read_time_machine(tiny_dir))
    assert "".join(vocab.to_tokens(corpus)) == text
    assert len(vocab) == len(set(text)) + 1  # every character plus <unk>
    short, _ = d2l.load_corpus_time_machine(10, data_dir=tiny_dir)
    assert short == corpus[:10]


@pytest.mark.needs_data("time-machine")
def test_load_corpus_time_machine_full_book():
    corpus, vocab = d2l.load_corpus_time_machine()
    assert len(vocab) == 28 and len(corpus) == 170580  # 26 letters, space, <unk>
    assert vocab.token_freqs[0] == (" ", 29927)
