"""Checks that teach: comparisons whose failure message says what was expected.

Used by the assignments' visible tests and by the lecture notebooks' sanity
cells (CS224n style: tiny fixed inputs with known answers).  Every failure
names the quantity, the expected and actual shapes or values, and the
tolerance, so a student knows what to fix; each message is written in English
and then in Chinese (每条提示先英文、后中文).
"""

from __future__ import annotations

import numpy as np


def check_shape(name: str, actual, expected_shape: tuple) -> None:
    """Raise ValueError unless ``np.shape(actual) == expected_shape``."""
    shape = np.shape(actual)
    if tuple(shape) != tuple(expected_shape):
        raise ValueError(f"{name}: expected shape {tuple(expected_shape)}, got {tuple(shape)} / "
                         f"形状应为 {tuple(expected_shape)}，实际为 {tuple(shape)}")


def assert_close(name: str, actual, expected, atol: float = 1e-6, rtol: float = 1e-5) -> None:
    """Assert that ``actual`` matches ``expected`` element-wise.

    Raises AssertionError naming ``name``, the shapes when they differ, and
    otherwise the expected and actual values with the largest difference.
    ``None`` (an unfinished stub) and non-numeric results get their own message.
    """
    if actual is None:
        raise AssertionError(f"{name}: your function returned None (is it still a stub?) / "
                             "你的函数返回了 None（是不是还没有实现？）")
    expected = np.asarray(expected, dtype=float)
    try:
        got = np.asarray(actual, dtype=float)
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"{name}: expected numbers, got {type(actual).__name__} ({exc}) / "
                             f"应返回数值，实际得到 {type(actual).__name__}") from None
    if got.shape != expected.shape:
        raise AssertionError(f"{name}: expected shape {expected.shape}, got shape {got.shape} / "
                             f"形状应为 {expected.shape}，实际为 {got.shape}")
    if not np.all(np.isfinite(got)):
        raise AssertionError(f"{name}: your result contains NaN or inf / 你的结果中含有 NaN 或 inf:\n{got}")
    diff = np.abs(got - expected)
    bound = atol + rtol * np.abs(expected)
    if np.any(diff > bound):
        worst = tuple(int(i) for i in np.unravel_index(np.argmax(diff - bound), diff.shape)) if diff.ndim else ()
        raise AssertionError(
            f"{name}: does not match (atol={atol:g}, rtol={rtol:g}); "
            f"largest difference {float(diff.max()):.3g} at index {worst} / "
            f"数值不一致，最大差值 {float(diff.max()):.3g}，位于下标 {worst}\n"
            f"expected / 期望值:\n{np.array2string(expected, precision=6)}\n"
            f"yours / 你的结果:\n{np.array2string(got, precision=6)}"
        )
