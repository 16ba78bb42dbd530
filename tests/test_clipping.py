"""Tests for course_lib.clipping: clipping with torch's semantics, and gradient-norm probes.

Oracles: torch.nn.utils.clip_grad_norm_ / clip_grad_value_ (float64), course_lib.rnn (the module-5
RNN), torch autograd through unrolled RNN / LSTM / GRU cells, and closed forms for linear RNNs.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib import clipping, gated, rnn
from course_lib.checks import assert_close

shapes = st.lists(st.lists(st.integers(1, 5), min_size=0, max_size=3).map(tuple), min_size=1, max_size=5)


def as_torch_params(arrays):
    params = []
    for a in arrays:
        p = torch.nn.Parameter(torch.zeros(a.shape, dtype=torch.float64))
        p.grad = torch.tensor(a)
        params.append(p)
    return params


# --------------------------------------------------------------------------
# Clipping: parity with torch
# --------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(shapes, st.floats(0.01, 100.0), st.floats(0.01, 30.0), st.sampled_from([2.0, float("inf")]),
       st.integers(0, 10_000))
def test_clip_grad_norm_matches_torch(shape_list, max_norm, scale, norm_type, seed):
    rng = np.random.default_rng(seed)
    grads = [scale * rng.standard_normal(s) for s in shape_list]
    originals = [g.copy() for g in grads]
    params = as_torch_params(grads)
    total_ref = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)

    clipped, total = clipping.clip_grad_norm(grads, max_norm, norm_type=norm_type)
    assert total == pytest.approx(float(total_ref), rel=1e-12, abs=1e-300)
    for ours, p in zip(clipped, params):
        assert_close("clipped gradient", ours, p.grad.numpy(), atol=1e-12, rtol=1e-12)
    assert all(np.array_equal(g, o) for g, o in zip(grads, originals)), "inputs must not be modified"


@settings(max_examples=25, deadline=None)
@given(shapes, st.floats(0.01, 10.0), st.integers(0, 10_000))
def test_clip_grad_value_matches_torch(shape_list, clip_value, seed):
    rng = np.random.default_rng(seed)
    grads = [3 * rng.standard_normal(s) for s in shape_list]
    params = as_torch_params(grads)
    torch.nn.utils.clip_grad_value_(params, clip_value)
    for ours, p in zip(clipping.clip_grad_value(grads, clip_value), params):
        assert np.array_equal(ours, p.grad.numpy())


@settings(max_examples=25, deadline=None)
@given(shapes, st.floats(0.01, 10.0), st.floats(0.001, 100.0), st.integers(0, 10_000))
def test_clipping_keeps_the_direction_and_bounds_the_norm(shape_list, max_norm, scale, seed):
    rng = np.random.default_rng(seed)
    grads = {f"g{i}": scale * rng.standard_normal(s) for i, s in enumerate(shape_list)}
    clipped, total = clipping.clip_grad_norm(grads, max_norm)
    assert list(clipped) == list(grads)
    flat = np.concatenate([g.ravel() for g in grads.values()])
    flat_clipped = np.concatenate([g.ravel() for g in clipped.values()])
    assert total == pytest.approx(np.linalg.norm(flat), rel=1e-12)
    assert np.linalg.norm(flat_clipped) <= max_norm * (1 + 1e-12)
    if total + clipping.CLIP_EPS <= max_norm:
        assert all(np.array_equal(clipped[k], grads[k]) for k in grads), "under the threshold: untouched"
    elif total > 0:
        # same direction: a positive multiple of the original
        coef = np.linalg.norm(flat_clipped) / total
        assert_close("clipped = coef · original", flat_clipped, coef * flat, atol=1e-12)
        assert coef == pytest.approx(max_norm / (total + 1e-6), rel=1e-12)


def test_containers_and_non_finite_gradients_follow_torch():
    g = np.array([3.0, 4.0])
    out, total = clipping.clip_grad_norm(g, 1.0)
    assert isinstance(out, np.ndarray) and total == 5.0
    assert isinstance(clipping.clip_grad_norm((g, g), 1.0)[0], tuple)
    assert isinstance(clipping.clip_grad_value([g], 1.0), list)
    assert clipping.clip_grad_norm([], 1.0) == ([], 0.0)
    for bad in ([np.nan, 1.0], [np.inf, 1.0]):
        ours, total = clipping.clip_grad_norm([np.array(bad)], 1.0)
        (p,) = as_torch_params([np.array(bad)])
        total_ref = torch.nn.utils.clip_grad_norm_([p], 1.0)
        assert np.array_equal(np.isnan(ours[0]), np.isnan(p.grad.numpy()))
        assert (np.isnan(total) and torch.isnan(total_ref)) or total == float(total_ref)


def test_errors():
    with pytest.raises(ValueError, match="max_norm"):
        clipping.clip_grad_norm([np.ones(2)], 0.0)
    with pytest.raises(ValueError, match="clip_value"):
        clipping.clip_grad_value([np.ones(2)], -1.0)
    with pytest.raises(ValueError, match="norm_type"):
        clipping.global_norm([np.ones(2)], norm_type=1.0)
    with pytest.raises(ValueError, match="grads"):
        clipping.global_norm(3.0)
    with pytest.raises(ValueError, match=r"X: expected shape \(T, m\) = \(T, 3\), got \(4, 2\)"):
        clipping.rnn_states(np.zeros((4, 2)), rnn.init_params(3, 2, 2, 0))
    with pytest.raises(ValueError, match="activation"):
        clipping.rnn_states(np.zeros((4, 3)), rnn.init_params(3, 2, 2, 0), activation="gelu")
    with pytest.raises(ValueError, match=r"grad_T: expected shape \(n,\) = \(2,\)"):
        clipping.state_gradient_norms(np.zeros((4, 3)), rnn.init_params(3, 2, 2, 0), grad_T=np.ones(3))
    with pytest.raises(ValueError, match="square"):
        clipping.spectral_radius(np.ones((2, 3)))


# --------------------------------------------------------------------------
# Probes of ‖∂L/∂s_t‖ through time
# --------------------------------------------------------------------------

def test_tanh_probe_is_module_5s_hidden_gradient_norms():
    rng = np.random.default_rng(0)
    params = rnn.init_params(4, 6, 3, rng, scale=0.9)
    params["b_s"] = rng.standard_normal(6)
    X, Y = rng.standard_normal((12, 4)), rng.integers(0, 3, 12)
    S, O = rnn.rnn_forward(X, params)
    assert_close("rnn_states = rnn.rnn_forward's S", clipping.rnn_states(X, params), S, atol=1e-14)
    grad_T = params["V"].T @ (O[-1] - np.eye(3)[Y[-1]])
    assert_close("probe", clipping.state_gradient_norms(X, params, grad_T),
                 rnn.hidden_gradient_norms(X, Y, params), atol=1e-14, rtol=1e-12)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(["tanh", "relu", "linear"]), st.integers(1, 10), st.integers(1, 5), st.integers(0, 10_000))
def test_probe_matches_torch_autograd(activation, T, n, seed):
    rng = np.random.default_rng(seed)
    m = 3
    params = {"U": rng.standard_normal((n, m)), "W": rng.standard_normal((n, n)) / np.sqrt(n),
              "b_s": 0.1 * rng.standard_normal(n)}
    X, grad_T = rng.standard_normal((T, m)), rng.standard_normal(n)
    norms, W_terms = clipping.state_gradient_norms(X, params, grad_T, activation, return_grad_W=True)

    f = {"tanh": torch.tanh, "relu": torch.relu, "linear": lambda z: z}[activation]
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    s, states = torch.zeros(n, dtype=torch.float64), []
    for x in torch.tensor(X):
        s = f(tp["U"] @ x + tp["W"] @ s + tp["b_s"])
        states.append(s)
    loss = states[-1] @ torch.tensor(grad_T)
    assert_close("‖∂L/∂s_t‖", norms, clipping.torch_state_gradient_norms(loss, states), atol=1e-12, rtol=1e-10)
    loss.backward()
    assert_close("Σ_t W terms = ∂L/∂W", W_terms.sum(axis=0), tp["W"].grad.numpy(), atol=1e-12, rtol=1e-10)


@pytest.mark.parametrize("rho", [0.5, 0.9, 1.0, 1.1, 2.0])
def test_linear_rnn_with_orthogonal_W_scales_exactly_by_rho(rho):
    """The slides' eigenvalue rule holds exactly for a linear RNN with W = ρ·(orthogonal matrix)."""
    rng = np.random.default_rng(1)
    Q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    params = {"U": rng.standard_normal((6, 2)), "W": rho * Q, "b_s": np.zeros(6)}
    assert clipping.spectral_radius(params["W"]) == pytest.approx(rho)
    norms = clipping.state_gradient_norms(rng.standard_normal((20, 2)), params, activation="linear")
    assert_close("‖∂L/∂s_t‖ = ρ^(T − t)", norms, rho ** np.arange(19, -1, -1.0), rtol=1e-10, atol=0)


def test_relu_with_identity_W_keeps_the_gradient_while_units_are_active():
    n = 5
    params = {"U": np.ones((n, 1)), "W": np.eye(n), "b_s": np.zeros(n)}
    norms = clipping.state_gradient_norms(np.ones((50, 1)), params, activation="relu")
    assert_close("‖∂L/∂s_t‖ with W = I, all units active", norms, np.ones(50), atol=1e-14)


def test_tanh_saturation_makes_large_rho_vanish_too():
    """A large ρ(W) is not sufficient for exploding with tanh: saturated units have tanh′ ≈ 0."""
    rng = np.random.default_rng(2)
    W = clipping.scale_to_spectral_radius(rng.standard_normal((8, 8)), 3.0)
    params = {"U": 20 * rng.standard_normal((8, 2)), "W": W, "b_s": np.zeros(8)}
    X = rng.standard_normal((30, 2))
    assert clipping.state_gradient_norms(X, params, activation="tanh")[0] < 1e-6
    assert clipping.state_gradient_norms(X, params, activation="linear")[0] > 1e6


def test_spectral_radius_below_one_does_not_prevent_growth():
    """Pascanu et al.'s necessary condition is σ_max(W) > 1, not ρ(W) > 1: a rank-one W = u vᵀ (ρ = vᵀu = 0.9)
    at a tanh fixed point with tanh′ = (1, 0.45) multiplies the error by vᵀ diag(1, 0.45) u = 2.9 − 0.9 = 2 per step."""
    u, v = np.array([1.0, 1.0]), np.array([2.9, -2.0])
    W = np.outer(u, v)
    s_star = np.array([0.0, np.sqrt(0.55)])
    params = {"U": np.zeros((2, 1)), "W": W, "b_s": np.arctanh(s_star) - W @ s_star}
    X = np.zeros((15, 1))
    assert clipping.spectral_radius(W) == pytest.approx(0.9) and np.linalg.norm(W, 2) > 1
    assert_close("fixed point", clipping.rnn_states(X, params, s0=s_star), np.tile(s_star, (15, 1)), atol=1e-9)
    norms = clipping.state_gradient_norms(X, params, grad_T=v / np.linalg.norm(v), s0=s_star)
    assert_close("‖∂L/∂s_t‖ = 2^(T − t)", norms, 2.0 ** np.arange(14, -1, -1.0), rtol=1e-9, atol=0)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_gated_probe_matches_torch_autograd(kind):
    torch.manual_seed(3)
    T, B, m, n = 15, 3, 2, 5
    X = torch.randn(T, B, m, dtype=torch.float64)
    if kind == "lstm":
        cell = torch.nn.LSTMCell(m, n, dtype=torch.float64)
        module = torch.nn.LSTM(m, n, dtype=torch.float64)
    else:
        cell = torch.nn.GRUCell(m, n, dtype=torch.float64)
        module = torch.nn.GRU(m, n, dtype=torch.float64)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(module, f"{name}_l0").copy_(getattr(cell, name))
    h = c = torch.zeros(B, n, dtype=torch.float64)
    hs, cs = [], []
    for x in X:
        if kind == "lstm":
            h, c = cell(x, (h, c))
            cs.append(c)
        else:
            h = cell(x, h)
        hs.append(h)
    loss = (h * (1.0 / np.sqrt(n))).sum()
    if kind == "lstm":
        probe = clipping.gated_state_gradient_norms("lstm", X.numpy(), gated.lstm_params_from_torch(module))
        assert_close("‖∂L/∂c_t‖", probe["c"], clipping.torch_state_gradient_norms(loss, cs), atol=1e-12, rtol=1e-10)
    else:
        probe = clipping.gated_state_gradient_norms("gru", X.numpy(), gated.gru_params_from_torch(module),
                                                    variant="torch")
    assert_close("‖∂L/∂h_t‖", probe["h"], clipping.torch_state_gradient_norms(loss, hs), atol=1e-12, rtol=1e-10)


def test_clipping_curve_clipping_changes_the_size_not_the_shape():
    for rho in (0.8, 1.0, 1.5):
        loose = clipping.clipping_curve(rho, 60, max_norm=1e9)
        tight = clipping.clipping_curve(rho, 60, max_norm=1e-3)
        assert loose["clip_coef"] == 1.0 and tight["clip_coef"] < 1.0
        assert tight["ratio"] == pytest.approx(loose["ratio"], rel=1e-12)
        assert_close("terms unchanged", tight["terms"], loose["terms"], atol=0)
        assert_close("clipped = coef · terms", tight["terms_clipped"], tight["clip_coef"] * tight["terms"], atol=0)
        assert np.linalg.norm(tight["terms_clipped"]) > 0
    small, large = clipping.clipping_curve(0.5, 60, 1.0), clipping.clipping_curve(3.0, 60, 1.0)
    assert small["ratio"] < 1e-10 < 1e3 < large["ratio"]


def test_clipping_curve_is_fast_enough_for_a_widget():
    start = time.perf_counter()
    clipping.clipping_curve(1.2, 200, 1.0)
    assert time.perf_counter() - start < 0.3
