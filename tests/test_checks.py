"""_checks.py: every error names the argument, the rule, the value and the fix."""

import numpy as np
import pytest
import torch

from d2lutils import _checks


@pytest.mark.parametrize("value", [1, 256, np.int64(3), torch.tensor(5).item()])
def test_positive_int_accepts(value):
    assert _checks.positive_int("batch_size", value) == int(value)
    assert type(_checks.positive_int("batch_size", value)) is int


@pytest.mark.parametrize("value, error", [
    (0, ValueError), (-3, ValueError), (2.0, TypeError), (2.5, TypeError), (True, TypeError),
    ("8", TypeError), (None, TypeError), (torch.tensor(4), TypeError),
])
def test_positive_int_refuses(value, error):
    with pytest.raises(error) as info:
        _checks.positive_int("num_epochs", value)
    message = str(info.value)
    assert message.startswith(f"num_epochs should be a positive integer, but got "
                              f"num_epochs={value!r}. ")
    assert "such as num_epochs=256" in message  # the fix


def test_positive_int_custom_fix():
    with pytest.raises(ValueError, match=r"resize=0\. Pass a side length\.$"):
        _checks.positive_int("resize", 0, "Pass a side length.")


@pytest.mark.parametrize("value", [0.1, 1, 3.5, np.float32(0.5)])
def test_positive_number_accepts(value):
    assert _checks.positive_number("lr", value) == pytest.approx(float(value))


@pytest.mark.parametrize("value, error", [
    (0, ValueError), (-0.1, ValueError), (float("nan"), ValueError), (True, TypeError),
    ("0.1", TypeError),
])
def test_positive_number_refuses(value, error):
    with pytest.raises(error, match=r"^lr should be a positive number, but got lr="):
        _checks.positive_number("lr", value)


def test_same_length():
    _checks.same_length(("features", "labels"), torch.zeros(3, 2), [0, 1, 2])
    with pytest.raises(ValueError, match=r"len\(features\)=3 and len\(labels\)=2\. Pass one "
                                         r"label per example"):
        _checks.same_length(("features", "labels"), torch.zeros(3, 2), torch.zeros(2))


def test_one_of():
    _checks.one_of("token", "word", ("word", "char"))
    with pytest.raises(ValueError, match=r"^token should be one of 'word', 'char', but got "
                                         r"token='chars'\. Pass one of 'word', 'char'\.$"):
        _checks.one_of("token", "chars", ("word", "char"))
