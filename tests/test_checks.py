"""The checks on single numbers that the optimizers, the models and the command line share."""

import numpy as np
import pytest

from tinygraph._checks import count, is_number, number


@pytest.mark.parametrize("value", [0, 1, -2.5, np.float32(3.0), np.int64(4)])
def test_finite_reals_are_numbers(value):
    assert is_number(value)


@pytest.mark.parametrize("value", [True, False, float("nan"), float("inf"), "1", None, 1j, [1.0]])
def test_bools_non_finite_values_and_other_types_are_not(value):
    assert not is_number(value)


def test_number_returns_a_float_within_the_bound():
    assert number(np.int64(2), "lr", "> 0") == 2.0 and type(number(2, "lr", "> 0")) is float
    assert number(0, "l2", ">= 0") == 0.0


@pytest.mark.parametrize(
    "value, bound, message",
    [
        (0.0, "> 0", "lr must be a finite number > 0, got 0.0"),
        (-1, ">= 0", "lr must be a finite number >= 0, got -1"),
        (float("nan"), ">= 0", "lr must be a finite number >= 0, got nan"),
        (True, ">= 0", "lr must be a finite number >= 0, got True"),
    ],
)
def test_number_names_the_argument_and_the_bound(value, bound, message):
    with pytest.raises(ValueError) as caught:
        number(value, "lr", bound)
    assert str(caught.value) == message


def test_count_accepts_integers_from_the_minimum():
    assert count(np.int64(3), "epochs") == 3 and type(count(np.int64(3), "epochs")) is int
    assert count(2, "n_classes", minimum=2) == 2


@pytest.mark.parametrize("value", [0, 2.0, True, "3"])
def test_count_refuses_everything_else(value):
    with pytest.raises(ValueError, match=r"epochs must be an integer >= 1, got "):
        count(value, "epochs")
