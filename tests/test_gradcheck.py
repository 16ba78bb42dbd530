"""Tests of course_lib.gradcheck: known gradients, torch.autograd as an oracle,
and proof that check_gradient DETECTS a wrong gradient."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.gradcheck import (
    check_gradient,
    numerical_gradient,
    numerical_gradient_array,
    rel_error,
)

FAST = settings(max_examples=25, deadline=None)
shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)
seeds = st.integers(0, 2**32 - 1)


@FAST
@given(shape=shapes, seed=seeds)
def test_numerical_gradient_of_sum_of_squares_is_2x(shape, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    grad = numerical_gradient(lambda v: np.sum(v**2), x)
    assert grad.shape == x.shape
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-7, atol=1e-8)


@FAST
@given(shape=shapes, seed=seeds)
def test_numerical_gradient_restores_x_exactly(shape, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    before = x.copy()
    numerical_gradient(lambda v: np.sum(np.sin(v) * v), x)
    numerical_gradient_array(lambda v: np.tanh(v), x, np.ones_like(x))
    assert np.array_equal(x, before)


@FAST
@given(n=st.integers(1, 5), m=st.integers(1, 5), seed=seeds)
def test_numerical_gradient_matches_torch_autograd(n, m, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n))
    x = rng.standard_normal(n)

    def f(v):
        return np.sum(np.tanh(A @ v) ** 2) + np.sum(np.exp(0.1 * v))

    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    At = torch.tensor(A, dtype=torch.float64)
    (torch.tanh(At @ xt).pow(2).sum() + torch.exp(0.1 * xt).sum()).backward()
    np.testing.assert_allclose(numerical_gradient(f, x), xt.grad.numpy(), rtol=1e-7, atol=1e-9)


@FAST
@given(n=st.integers(1, 4), m=st.integers(1, 4), k=st.integers(1, 3), seed=seeds)
def test_numerical_gradient_array_of_matrix_product(n, m, k, seed):
    # f(x) = A x  has  ∂ sum(f(x) * df) / ∂x = Aᵀ df
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n))
    x = rng.standard_normal((n, k))
    df = rng.standard_normal((m, k))
    grad = numerical_gradient_array(lambda v: A @ v, x, df)
    np.testing.assert_allclose(grad, A.T @ df, rtol=1e-6, atol=1e-8)


def test_numerical_gradient_array_copes_with_f_returning_a_view():
    x = np.array([1.0, -2.0, 3.0])
    df = np.array([0.5, 1.0, -1.0])
    grad = numerical_gradient_array(lambda v: v, x, df)  # identity returns x itself
    np.testing.assert_allclose(grad, df, rtol=1e-8)


def test_numerical_gradient_array_rejects_mismatched_df():
    with pytest.raises(ValueError, match=r"f\(x\) has shape \(3,\) but df has shape \(2,\)"):
        numerical_gradient_array(np.sin, np.zeros(3), np.zeros(2))


def test_numerical_gradient_rejects_integer_arrays():
    with pytest.raises(ValueError, match="float numpy array"):
        numerical_gradient(np.sum, np.arange(3))


def test_rel_error_values():
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert rel_error(0.0, 0.0) == 0.0
    assert rel_error(np.array([1.0]), np.array([3.0])) == pytest.approx(0.5)
    # the worst entry wins; tiny values are guarded by 1e-8
    assert rel_error(np.array([1.0, 1e-12]), np.array([1.0, 0.0])) == pytest.approx(1e-4)
    with pytest.raises(ValueError, match=r"a has shape \(2,\) but b has shape \(3,\)"):
        rel_error(np.zeros(2), np.zeros(3))


@FAST
@given(shape=shapes, seed=seeds)
def test_check_gradient_passes_a_correct_gradient(shape, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    # f = Σ (x³/3 + x) has gradient x² + 1 ≥ 1, so the relative error is meaningful everywhere
    err = check_gradient(lambda v: np.sum(v**3 / 3 + v), x, x**2 + 1)
    assert 0.0 <= err <= 1e-6


@FAST
@given(shape=shapes, seed=seeds)
def test_check_gradient_detects_a_wrong_gradient(shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    wrong = 2 * x
    bad = tuple(int(rng.integers(0, s)) for s in shape)
    wrong[bad] += 1.0  # one entry off by 1
    with pytest.raises(AssertionError) as info:
        check_gradient(lambda v: np.sum(v**2), x, wrong)
    message = str(info.value)
    assert "relative error" in message and "tolerance" in message
    assert f"index {bad}" in message


def test_check_gradient_detects_a_classic_mistake():
    # forgetting the factor 2 in d(x²)/dx is caught, with a verdict and the worst index
    x = np.array([[0.5, -1.0], [2.0, 0.25]])
    with pytest.raises(AssertionError, match=r"relative error .* > tolerance 1.0e-06; worst at index"):
        check_gradient(lambda v: np.sum(v**2), x, x)


def test_check_gradient_detects_nan():
    x = np.array([1.0, 2.0])
    with pytest.raises(AssertionError, match="relative error"):
        check_gradient(lambda v: np.sum(v**2), x, np.array([2.0, np.nan]))


def test_check_gradient_rejects_wrong_shape():
    with pytest.raises(ValueError, match=r"analytic gradient has shape \(3,\) but x has shape \(2, 3\)"):
        check_gradient(np.sum, np.zeros((2, 3)), np.zeros(3))
