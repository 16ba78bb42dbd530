"""course_lib.checks: the visible tests' messages name the quantity and say what was expected, in English and Chinese."""

import numpy as np
import pytest

from course_lib.checks import assert_close, check_shape


@pytest.mark.parametrize("actual, english, chinese", [
    (None, "returned None (is it still a stub?)", "返回了 None"),
    ("abc", "expected numbers, got str", "应返回数值"),
    (np.zeros((3, 2)), "expected shape (2, 3), got shape (3, 2)", "形状应为 (2, 3)，实际为 (3, 2)"),
    (np.full((2, 3), np.nan), "contains NaN or inf", "含有 NaN 或 inf"),
])
def test_each_failure_says_what_is_wrong_in_both_languages(actual, english, chinese):
    with pytest.raises(AssertionError) as info:
        assert_close("W", actual, np.ones((2, 3)))
    message = str(info.value)
    assert message.startswith("W: ") and english in message and chinese in message


def test_a_mismatch_shows_expected_and_yours_and_the_worst_index():
    got = np.ones((2, 3))
    got[1, 2] = 1.5
    with pytest.raises(AssertionError) as info:
        assert_close("dW", got, np.ones((2, 3)), atol=1e-6, rtol=0)
    message = str(info.value)
    assert "largest difference 0.5 at index (1, 2)" in message and "最大差值 0.5，位于下标 (1, 2)" in message
    assert "expected / 期望值:\n[[1. 1. 1.]" in message and "yours / 你的结果:\n[[1.  1.  1. ]" in message
    assert_close("dW", np.ones((2, 3)) + 1e-9, np.ones((2, 3)))          # within tolerance: no error


def test_check_shape_names_both_shapes_in_both_languages():
    with pytest.raises(ValueError, match=r"X: expected shape \(4,\), got \(2, 2\) / 形状应为 \(4,\)，实际为 \(2, 2\)"):
        check_shape("X", np.zeros((2, 2)), (4,))
    check_shape("X", np.zeros(4), (4,))
