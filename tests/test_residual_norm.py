"""Tests for course_lib.residual_norm: layer norm and the residual / layer-norm tanh RNNs.

Oracles: torch.nn.functional.layer_norm and torch autograd (float64), centred finite differences
(course_lib.gradcheck), values computed by hand, and the numpy recurrences against the torch modules.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib import gradcheck, residual_norm
from course_lib.checks import assert_close


def test_layer_norm_by_hand():
    """z = (1, 2, 3, 6): μ = 3, σ² = (4 + 1 + 0 + 9) / 4 = 3.5, so ẑ = (−2, −1, 0, 3) / √3.5."""
    z = np.array([[1.0, 2.0, 3.0, 6.0]])
    gamma, beta = np.array([1.0, 1.0, 2.0, 0.5]), np.array([0.0, 1.0, 0.0, -1.0])
    out, _ = residual_norm.layer_norm_forward(z, gamma, beta, eps=0.0)
    r = np.sqrt(3.5)
    assert_close("LN by hand", out, np.array([[-2 / r, -1 / r + 1, 0.0, 1.5 / r - 1]]), atol=1e-15)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 4), st.integers(2, 7), st.floats(0.01, 100.0), st.integers(0, 10_000))
def test_layer_norm_matches_torch_forward_and_autograd(B, n, scale, seed):
    rng = np.random.default_rng(seed)
    z = scale * rng.standard_normal((B, n)) + rng.standard_normal()
    gamma, beta, dout = rng.standard_normal(n), rng.standard_normal(n), rng.standard_normal((B, n))
    out, cache = residual_norm.layer_norm_forward(z, gamma, beta)
    tz, tg, tb = (torch.tensor(a, requires_grad=True) for a in (z, gamma, beta))
    tout = torch.nn.functional.layer_norm(tz, (n,), tg, tb, residual_norm.LN_EPS)
    assert_close("LN forward", out, tout.detach().numpy(), atol=1e-12, rtol=1e-10)
    tout.backward(torch.tensor(dout))
    dz, dgamma, dbeta = residual_norm.layer_norm_backward(dout, cache)
    assert_close("dz", dz, tz.grad.numpy(), atol=1e-10, rtol=1e-8)
    assert_close("dgamma", dgamma, tg.grad.numpy(), atol=1e-10, rtol=1e-8)
    assert_close("dbeta", dbeta, tb.grad.numpy(), atol=1e-10, rtol=1e-8)


def test_layer_norm_backward_matches_finite_differences():
    rng = np.random.default_rng(0)
    z, gamma, beta = rng.standard_normal((3, 5)), rng.standard_normal(5), rng.standard_normal(5)
    dout = rng.standard_normal((3, 5))
    _, cache = residual_norm.layer_norm_forward(z, gamma, beta)
    dz, dgamma, _ = residual_norm.layer_norm_backward(dout, cache)
    loss_z = lambda v: np.sum(dout * residual_norm.layer_norm_forward(v, gamma, beta)[0])
    loss_g = lambda v: np.sum(dout * residual_norm.layer_norm_forward(z, v, beta)[0])
    assert gradcheck.rel_error(dz, gradcheck.numerical_gradient(loss_z, z.copy())) < 1e-7
    assert gradcheck.rel_error(dgamma, gradcheck.numerical_gradient(loss_g, gamma.copy())) < 1e-7


def test_layer_norm_ignores_the_scale_and_shift_of_its_input():
    """LN(c z + d) = LN(z) for c > 0 (with ε = 0): why a large W no longer saturates every unit."""
    rng = np.random.default_rng(1)
    z, gamma, beta = rng.standard_normal((4, 6)), rng.standard_normal(6), rng.standard_normal(6)
    ref, _ = residual_norm.layer_norm_forward(z, gamma, beta, eps=0.0)
    assert_close("LN(30 z − 7)", residual_norm.layer_norm_forward(30 * z - 7, gamma, beta, eps=0.0)[0], ref, atol=1e-12)


@pytest.mark.parametrize("module, states", [(residual_norm.ResidualRNN, residual_norm.residual_rnn_states),
                                            (residual_norm.LayerNormRNN, residual_norm.layer_norm_rnn_states)])
def test_torch_modules_compute_the_numpy_recurrences(module, states):
    torch.manual_seed(0)
    net = module(3, 5).double()
    if isinstance(net, residual_norm.LayerNormRNN):
        with torch.no_grad():                     # move γ, β off their initial 1, 0 so that they matter
            net.ln_weight.uniform_(0.5, 1.5)
            net.ln_bias.uniform_(-0.5, 0.5)
    X = torch.randn(11, 4, 3, dtype=torch.float64)
    with torch.no_grad():
        H, h_T = net(X)
    ours = states(X.numpy(), residual_norm.params_from_torch(net))
    assert H.shape == (11, 4, 5) and h_T.shape == (1, 4, 5)
    assert_close("states", ours, H.numpy(), atol=1e-12)
    assert torch.equal(h_T[0], H[-1])
    with torch.no_grad():
        assert_close("step by step", torch.stack(_unroll(net, X)).numpy(), H.numpy(), atol=1e-14)


def _unroll(net, X):
    s, out = torch.zeros(X.shape[1], net.hidden_size, dtype=X.dtype), []
    for x in X:
        s = net.step(x, s)
        out.append(s)
    return out


def test_residual_rnn_by_hand():
    """W = 0, U = 0: s_t = s_{t-1} + tanh(b_s), so s_t = t·tanh(b_s), and every step's Jacobian is I."""
    b = np.array([0.5, -1.0])
    params = {"U": np.zeros((2, 1)), "W": np.zeros((2, 2)), "b_s": b}
    S = residual_norm.residual_rnn_states(np.zeros((6, 1, 1)), params)
    assert_close("s_t = t tanh(b)", S[:, 0], np.arange(1, 7)[:, None] * np.tanh(b), atol=1e-15)


def test_residual_jacobian_is_identity_plus_the_tanh_step():
    """∂s_t/∂s_{t-1} = I + diag(1 − a_t²) W (torch autograd), the identity path that keeps gradients alive."""
    torch.manual_seed(2)
    net = residual_norm.ResidualRNN(3, 4).double()
    x, s = torch.randn(1, 3, dtype=torch.float64), torch.randn(1, 4, dtype=torch.float64)
    J = torch.autograd.functional.jacobian(lambda v: net.step(x, v[None])[0], s[0])
    with torch.no_grad():
        a = torch.tanh(net.input_part(x) + s @ net.weight_hh_l0.T)[0]
        expected = torch.eye(4, dtype=torch.float64) + torch.diag(1 - a ** 2) @ net.weight_hh_l0
    assert_close("Jacobian", J.numpy(), expected.numpy(), atol=1e-12)


def test_errors():
    params = {"U": np.zeros((2, 3)), "W": np.zeros((2, 2)), "b_s": np.zeros(2)}
    with pytest.raises(ValueError, match=r"X: expected shape \(T, B, m\) = \(T, B, 3\), got \(4, 3\)"):
        residual_norm.residual_rnn_states(np.zeros((4, 3)), params)
    with pytest.raises(ValueError, match=r"gamma: expected shape \(2,\)"):
        residual_norm.layer_norm_rnn_states(np.zeros((4, 1, 3)), {**params, "gamma": np.ones(3), "beta": np.zeros(2)})
    with pytest.raises(ValueError, match="gamma and beta"):
        residual_norm.layer_norm_forward(np.zeros((2, 3)), np.ones(2), np.zeros(3))
    with pytest.raises(ValueError, match=r"X: expected shape \(T, B, m\)"):
        residual_norm.LayerNormRNN(3, 2)(torch.zeros(4, 1, 2))
