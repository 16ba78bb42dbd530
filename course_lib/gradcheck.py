"""Gradient checking: compare a hand-derived gradient with centred differences.

Used by notebooks/01_backpropagation.ipynb (section "Gradient checking") and by
the tests of every module with a hand-written backward pass.

Backpropagation / 反向传播 gives an *analytic* gradient; a finite difference
gives a slow but independent *numerical* one:

    ∂f/∂x_i ≈ (f(x + h e_i) − f(x − h e_i)) / (2h)        (centred difference)

The two should agree up to a relative error of about 1e-7 or smaller in
float64.  ``check_gradient`` turns that comparison into a verdict: it raises
an AssertionError naming the relative error, the tolerance and the worst
index, instead of printing numbers for the reader to judge.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["numerical_gradient", "numerical_gradient_array", "rel_error", "check_gradient"]


def _require_float_array(name: str, x) -> None:
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        kind = x.dtype if isinstance(x, np.ndarray) else type(x).__name__
        raise ValueError(
            f"{name}: x must be a float numpy array (it is perturbed in place), got {kind}"
        )


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Centred-difference gradient of a scalar function.

    Args:
        f: function of ``x`` returning a scalar.
        x: float array of any shape; each entry is nudged by ``±h`` in place
            and restored exactly afterwards.
        h: step size.

    Returns:
        grad: array of the same shape as ``x``, ``grad[i] ≈ ∂f/∂x[i]``.
    """
    _require_float_array("numerical_gradient", x)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        original = x[i]
        x[i] = original + h
        f_plus = float(f(x))
        x[i] = original - h
        f_minus = float(f(x))
        x[i] = original
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def numerical_gradient_array(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, df: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Centred-difference gradient of ``sum(f(x) * df)`` for an array-valued ``f``.

    This is how a backward pass ``*_backward(dout, cache)`` is checked: ``df``
    plays the role of the upstream gradient ``dout``.

    Args:
        f: function of ``x`` returning an array of the shape of ``df``.
        x: float array of any shape (perturbed in place, restored exactly).
        df: upstream gradient, same shape as ``f(x)``.
        h: step size.

    Returns:
        grad: array of the same shape as ``x``.
    """
    _require_float_array("numerical_gradient_array", x)
    df = np.asarray(df, dtype=float)
    out_shape = np.shape(f(x))
    if out_shape != df.shape:
        raise ValueError(
            f"numerical_gradient_array: f(x) has shape {out_shape} but df has shape {df.shape}; "
            f"expected df of shape {out_shape}"
        )
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        original = x[i]
        x[i] = original + h
        f_plus = np.array(f(x), dtype=float)  # copy: f may return a view of x
        x[i] = original - h
        f_minus = np.array(f(x), dtype=float)
        x[i] = original
        grad[i] = np.sum((f_plus - f_minus) * df) / (2 * h)
    return grad


def rel_error(a, b) -> float:
    """Largest elementwise relative error ``|a − b| / max(1e-8, |a| + |b|)``."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"rel_error: a has shape {a.shape} but b has shape {b.shape}; expected equal shapes")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def check_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, analytic, tol: float = 1e-6, h: float = 1e-5
) -> float:
    """Compare an analytic gradient with the centred difference and give a verdict.

    Args:
        f: scalar function of ``x``.
        x: float array of any shape (perturbed in place, restored exactly).
        analytic: your gradient ∂f/∂x, same shape as ``x``.
        tol: largest acceptable relative error.
        h: step size of the centred difference.

    Returns:
        The relative error (see ``rel_error``) when it is at most ``tol``.

    Raises:
        ValueError: if ``analytic`` does not have the shape of ``x``.
        AssertionError: if the relative error exceeds ``tol``; the message names
            the error, the tolerance, the worst index and both values there.
    """
    _require_float_array("check_gradient", x)
    analytic = np.asarray(analytic, dtype=float)
    if analytic.shape != x.shape:
        raise ValueError(
            f"check_gradient: analytic gradient has shape {analytic.shape} but x has shape {x.shape}; "
            f"expected analytic of shape {x.shape}"
        )
    numeric = numerical_gradient(f, x, h=h)
    err = rel_error(analytic, numeric)
    if not err <= tol:  # also catches NaN
        per_entry = np.abs(analytic - numeric) / np.maximum(1e-8, np.abs(analytic) + np.abs(numeric))
        per_entry = np.where(np.isnan(per_entry), np.inf, per_entry)
        worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(per_entry)), x.shape))
        raise AssertionError(
            f"gradient check FAILED: relative error {err:.3e} > tolerance {tol:.1e}; "
            f"worst at index {worst}: analytic {analytic[worst]:.8g}, numerical {numeric[worst]:.8g}"
        )
    return err
