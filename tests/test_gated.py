"""Tests for course_lib.gated: the LSTM and GRU of the slides, forward and backward by hand.

Oracles: torch.nn.LSTM / torch.nn.GRU in float64 (forward and autograd), a direct torch transcription
of the slides' GRU, and centred finite differences (course_lib.gradcheck).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib import gated
from course_lib.checks import assert_close
from course_lib.gradcheck import numerical_gradient, rel_error

sizes = st.tuples(st.integers(1, 6), st.integers(1, 4), st.integers(1, 5), st.integers(1, 6))   # T, B, m, n


def torch_lstm(m, n, seed, num_layers=1, bias=True):
    torch.manual_seed(seed)
    module = torch.nn.LSTM(m, n, num_layers=num_layers, bias=bias, dtype=torch.float64)
    with torch.no_grad():
        for p in module.parameters():
            p.uniform_(-0.8, 0.8)
    return module


def torch_gru(m, n, seed, bias=True):
    torch.manual_seed(seed)
    module = torch.nn.GRU(m, n, bias=bias, dtype=torch.float64)
    with torch.no_grad():
        for p in module.parameters():
            p.uniform_(-0.8, 0.8)
    return module


def random_inputs(T, B, m, n, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((T, B, m)), 0.5 * rng.standard_normal((B, n)), 0.5 * rng.standard_normal((B, n)), rng


# --------------------------------------------------------------------------
# Parity with PyTorch
# --------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(sizes, st.integers(0, 10_000), st.booleans())
def test_lstm_forward_matches_torch(shape, seed, bias):
    T, B, m, n = shape
    X, h0, c0, _ = random_inputs(T, B, m, n, seed)
    module = torch_lstm(m, n, seed, bias=bias)
    with torch.no_grad():
        H_ref, (h_T, c_T) = module(torch.tensor(X), (torch.tensor(h0)[None], torch.tensor(c0)[None]))
    H, C = gated.lstm_forward(X, gated.lstm_params_from_torch(module), h0, c0)
    assert_close("H vs torch.nn.LSTM", H, H_ref.numpy(), atol=1e-9, rtol=0)
    assert_close("c_T vs torch.nn.LSTM", C[-1], c_T[0].numpy(), atol=1e-9, rtol=0)


@settings(max_examples=25, deadline=None)
@given(sizes, st.integers(0, 10_000))
def test_lstm_backward_matches_torch_autograd(shape, seed):
    T, B, m, n = shape
    X, h0, c0, rng = random_inputs(T, B, m, n, seed)
    dH, dc_T = rng.standard_normal((T, B, n)), rng.standard_normal((B, n))
    module = torch_lstm(m, n, seed)
    Xt, h0t, c0t = (torch.tensor(a, requires_grad=True) for a in (X, h0, c0))
    H, (_, c_T) = module(Xt, (h0t[None], c0t[None]))
    ((H * torch.tensor(dH)).sum() + (c_T[0] * torch.tensor(dc_T)).sum()).backward()

    dX, dh0, dc0, grads = gated.lstm_backward(dH, X, gated.lstm_params_from_torch(module), h0, c0, dc_T=dc_T)
    assert set(grads) == set(gated.LSTM_PARAM_NAMES)                # parameters only, as the step's dict
    assert_close("dX", dX, Xt.grad.numpy(), atol=1e-9, rtol=0)
    assert_close("dh0", dh0, h0t.grad.numpy(), atol=1e-9, rtol=0)
    assert_close("dc0", dc0, c0t.grad.numpy(), atol=1e-9, rtol=0)
    w_ih, w_hh, b_ih = (getattr(module, k).grad.numpy() for k in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0"))
    for k, gate in enumerate("ifco"):                      # torch's rows: i, f, g (= c̃), o
        rows = slice(k * n, (k + 1) * n)
        assert_close(f"dW_{gate}", grads[f"W_{gate}"], np.hstack([w_hh[rows], w_ih[rows]]), atol=1e-9, rtol=0)
        assert_close(f"db_{gate}", grads[f"b_{gate}"], b_ih[rows], atol=1e-9, rtol=0)


@settings(max_examples=10, deadline=None)
@given(sizes, st.integers(2, 3), st.integers(0, 10_000))
def test_stacked_lstm_matches_torch_num_layers(shape, layers, seed):
    T, B, m, n = shape
    X, _, _, _ = random_inputs(T, B, m, n, seed)
    module = torch_lstm(m, n, seed, num_layers=layers)
    with torch.no_grad():
        H_ref, (h_T, c_T) = module(torch.tensor(X))
    params = [gated.lstm_params_from_torch(module, layer) for layer in range(layers)]
    H, (h_last, c_last) = gated.stacked_lstm_forward(X, params)
    assert_close("top layer H", H, H_ref.numpy(), atol=1e-9, rtol=0)
    assert_close("h_T of every layer", h_last, h_T.numpy(), atol=1e-9, rtol=0)
    assert_close("c_T of every layer", c_last, c_T.numpy(), atol=1e-9, rtol=0)
    assert params[1]["W_f"].shape == (n, 2 * n)


@settings(max_examples=25, deadline=None)
@given(sizes, st.integers(0, 10_000), st.booleans())
def test_gru_torch_variant_matches_torch_forward_and_autograd(shape, seed, bias):
    T, B, m, n = shape
    X, h0, _, rng = random_inputs(T, B, m, n, seed)
    dH = rng.standard_normal((T, B, n))
    module = torch_gru(m, n, seed, bias=bias)
    Xt, h0t = torch.tensor(X, requires_grad=True), torch.tensor(h0, requires_grad=True)
    H_ref, _ = module(Xt, h0t[None])
    (H_ref * torch.tensor(dH)).sum().backward()

    params = gated.gru_params_from_torch(module)
    H = gated.gru_forward(X, params, h0, variant="torch")
    assert_close("H vs torch.nn.GRU", H, H_ref.detach().numpy(), atol=1e-9, rtol=0)
    dX, dh0, grads = gated.gru_backward(dH, X, params, h0, variant="torch")
    assert set(grads) == set(params)
    assert_close("dX", dX, Xt.grad.numpy(), atol=1e-9, rtol=0)
    assert_close("dh0", dh0, h0t.grad.numpy(), atol=1e-9, rtol=0)
    if bias:
        w_ih, w_hh = module.weight_ih_l0.grad.numpy(), module.weight_hh_l0.grad.numpy()
        b_ih, b_hh = module.bias_ih_l0.grad.numpy(), module.bias_hh_l0.grad.numpy()
        for k, name in enumerate("rzh"):                   # torch's rows: r, z, n
            rows = slice(k * n, (k + 1) * n)
            assert_close(f"dW_{name}", grads[f"W_{name}"], np.hstack([w_hh[rows], w_ih[rows]]), atol=1e-9, rtol=0)
        assert_close("db_h (= b_in)", grads["b_h"], b_ih[2 * n:], atol=1e-9, rtol=0)
        assert_close("db_hn", grads["b_hn"], b_hh[2 * n:], atol=1e-9, rtol=0)
        assert_close("db_z", grads["b_z"], b_ih[n:2 * n], atol=1e-9, rtol=0)


def slides_gru_in_torch(X, params, h0):
    """The slides' GRU equations transcribed literally in torch (an independent oracle)."""
    h, out = h0, []
    for x in X:
        a = torch.cat([h, x], dim=1)
        z = torch.sigmoid(a @ params["W_z"].T + params["b_z"])
        r = torch.sigmoid(a @ params["W_r"].T + params["b_r"])
        h_tilde = torch.tanh(torch.cat([r * h, x], dim=1) @ params["W_h"].T + params["b_h"])
        h = (1 - z) * h + z * h_tilde
        out.append(h)
    return torch.stack(out)


@settings(max_examples=25, deadline=None)
@given(sizes, st.integers(0, 10_000))
def test_gru_slides_variant_matches_autograd_of_the_slide_equations(shape, seed):
    T, B, m, n = shape
    X, h0, _, rng = random_inputs(T, B, m, n, seed)
    params = gated.init_gru_params(m, n, rng, scale=0.8)
    for name in ("b_z", "b_r", "b_h"):
        params[name] = rng.standard_normal(n)
    dH = rng.standard_normal((T, B, n))
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    Xt, h0t = torch.tensor(X, requires_grad=True), torch.tensor(h0, requires_grad=True)
    H_ref = slides_gru_in_torch(Xt, tp, h0t)
    (H_ref * torch.tensor(dH)).sum().backward()

    assert_close("H", gated.gru_forward(X, params, h0), H_ref.detach().numpy(), atol=1e-12, rtol=0)
    dX, dh0, grads = gated.gru_backward(dH, X, params, h0)
    assert set(grads) == set(params)
    for name in params:
        assert_close(f"d{name}", grads[name], tp[name].grad.numpy(), atol=1e-10, rtol=0)
    assert_close("dX", dX, Xt.grad.numpy(), atol=1e-10, rtol=0)
    assert_close("dh0", dh0, h0t.grad.numpy(), atol=1e-10, rtol=0)


# --------------------------------------------------------------------------
# Finite differences on the steps (what ps6 asks the students to write)
# --------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lstm_step_backward_matches_finite_differences(seed):
    rng = np.random.default_rng(seed)
    B, m, n = 2, 3, 4
    params = gated.init_lstm_params(m, n, rng, scale=0.7, forget_bias=0.5)
    x, h, c = rng.standard_normal((B, m)), rng.standard_normal((B, n)), rng.standard_normal((B, n))
    dh, dc = rng.standard_normal((B, n)), rng.standard_normal((B, n))

    def loss(_):
        h_t, c_t, _ = gated.lstm_step_forward(x, h, c, params)
        return float(np.sum(h_t * dh) + np.sum(c_t * dc))

    _, _, cache = gated.lstm_step_forward(x, h, c, params)
    dx, dh_prev, dc_prev, grads = gated.lstm_step_backward(dh, dc, cache)
    for name, value in [("x", x), ("h", h), ("c", c)] + [(k, params[k]) for k in gated.LSTM_PARAM_NAMES]:
        analytic = {"x": dx, "h": dh_prev, "c": dc_prev}.get(name, grads.get(name))
        assert rel_error(analytic, numerical_gradient(loss, value)) < 1e-5, name


@pytest.mark.parametrize("variant", ["slides", "torch"])
def test_gru_step_backward_matches_finite_differences(variant):
    rng = np.random.default_rng(7)
    B, m, n = 2, 3, 4
    params = gated.init_gru_params(m, n, rng, scale=0.7, variant=variant)
    for name in params:
        if name.startswith("b_"):
            params[name] = 0.3 * rng.standard_normal(n)
    x, h, dh = rng.standard_normal((B, m)), rng.standard_normal((B, n)), rng.standard_normal((B, n))

    def loss(_):
        return float(np.sum(gated.gru_step_forward(x, h, params, variant)[0] * dh))

    _, cache = gated.gru_step_forward(x, h, params, variant)
    dx, dh_prev, grads = gated.gru_step_backward(dh, cache)
    assert set(grads) == set(params)
    for name, value in [("x", x), ("h", h)] + list(params.items()):
        analytic = {"x": dx, "h": dh_prev}.get(name, grads.get(name))
        assert rel_error(analytic, numerical_gradient(loss, value)) < 1e-5, name


# --------------------------------------------------------------------------
# Properties the lectures rely on
# --------------------------------------------------------------------------

def test_step_equals_forward_with_one_step():
    X, h0, c0, rng = random_inputs(1, 3, 2, 4, 11)
    p = gated.init_lstm_params(2, 4, rng)
    h, c, _ = gated.lstm_step_forward(X[0], h0, c0, p)
    H, C = gated.lstm_forward(X, p, h0, c0)
    assert np.array_equal(h, H[0]) and np.array_equal(c, C[0])
    q = gated.init_gru_params(2, 4, rng)
    assert np.array_equal(gated.gru_step_forward(X[0], h0, q)[0], gated.gru_forward(X, q, h0)[0])


def test_future_inputs_do_not_change_earlier_states():
    X, _, _, rng = random_inputs(6, 2, 3, 4, 12)
    p, q = gated.init_lstm_params(3, 4, rng), gated.init_gru_params(3, 4, rng)
    Y = X.copy()
    Y[4:] = rng.standard_normal(Y[4:].shape)
    assert np.array_equal(gated.lstm_forward(X, p)[0][:4], gated.lstm_forward(Y, p)[0][:4])
    assert np.array_equal(gated.gru_forward(X, q)[:4], gated.gru_forward(Y, q)[:4])


def test_cell_path_is_the_constant_error_carousel():
    """With f_t = 1 and i_t = 0 the cell is copied unchanged, and so is its gradient: ∂c_t/∂c_{t-1} = diag(f_t)."""
    X, h0, c0, rng = random_inputs(30, 2, 3, 4, 13)
    p = gated.init_lstm_params(3, 4, rng)
    p["b_f"], p["b_i"] = np.full(4, 60.0), np.full(4, -60.0)     # σ(±60) = 1, 0 in float64
    _, C = gated.lstm_forward(X, p, h0, c0)
    assert np.allclose(C, c0[None], atol=1e-15)
    dc_T = rng.standard_normal((2, 4))
    _, _, dc0, _ = gated.lstm_backward(np.zeros((30, 2, 4)), X, p, h0, c0, dc_T=dc_T)
    assert_close("∂L/∂c_0 after 30 steps", dc0, dc_T, atol=1e-12)


def test_gru_update_gate_closed_copies_the_state():
    X, h0, _, rng = random_inputs(10, 2, 3, 4, 14)
    q = gated.init_gru_params(3, 4, rng)
    q["b_z"] = np.full(4, -60.0)                                  # z = 0: h_t = h_{t-1} in the slides' GRU
    assert np.allclose(gated.gru_forward(X, q, h0), h0[None], atol=1e-15)


def test_the_two_gru_variants_agree_when_reset_is_open_and_z_is_flipped():
    """r = 1 removes the reset placement difference; z_torch = 1 − z_slides = σ(−(W_z a + b_z))."""
    X, h0, _, rng = random_inputs(5, 3, 2, 4, 15)
    q = gated.init_gru_params(2, 4, rng, scale=0.8)
    q["b_r"] = np.full(4, 60.0)
    flipped = dict(q, W_z=-q["W_z"], b_z=-q["b_z"], b_hn=np.zeros(4))
    assert_close("slides vs torch variant", gated.gru_forward(X, flipped, h0, variant="torch"),
                 gated.gru_forward(X, q, h0), atol=1e-12)
    q["b_r"] = np.zeros(4)                                        # with a real reset gate they differ
    flipped = dict(q, W_z=-q["W_z"], b_z=-q["b_z"], b_hn=np.zeros(4))
    assert np.abs(gated.gru_forward(X, flipped, h0, variant="torch") - gated.gru_forward(X, q, h0)).max() > 1e-3


def test_the_cell_update_uses_forget_and_input_gates_not_the_output_gate():
    """Erratum (seed 002): 'Update memory cell (using input and output gates)'. c_t does not depend on o_t."""
    X, h0, c0, rng = random_inputs(1, 2, 3, 4, 16)
    p = gated.init_lstm_params(3, 4, rng)
    *_, grads = gated.lstm_backward(np.zeros((1, 2, 4)), X, p, h0, c0, dc_T=np.ones((2, 4)))
    assert np.all(grads["W_o"] == 0) and np.all(grads["b_o"] == 0)
    assert np.abs(grads["W_f"]).max() > 1e-3 and np.abs(grads["W_i"]).max() > 1e-3


@pytest.mark.parametrize("m,n", [(1, 1), (3, 5), (10, 32), (128, 256)])
def test_parameter_counts_match_torch(m, n):
    lstm, gru, rnn = torch.nn.LSTM(m, n), torch.nn.GRU(m, n), torch.nn.RNN(m, n)
    count = lambda module: sum(p.numel() for p in module.parameters())
    assert gated.lstm_param_count(m, n, torch_biases=True) == count(lstm)
    assert gated.gru_param_count(m, n, torch_biases=True) == count(gru)
    assert gated.rnn_param_count(m, n) + n == count(rnn)          # torch: two biases
    assert gated.lstm_param_count(m, n) == sum(v.size for v in gated.init_lstm_params(m, n, 0).values())
    assert gated.gru_param_count(m, n) == sum(v.size for v in gated.init_gru_params(m, n, 0).values())
    assert 4 * gated.gru_param_count(m, n) == 3 * gated.lstm_param_count(m, n)


def test_stacking_orders():
    p = gated.init_lstm_params(3, 2, 0)
    W, b = gated.stack_lstm_weights(p)                            # the slide's (i, f, o, g)
    for k, name in enumerate(("W_i", "W_f", "W_o", "W_c")):
        assert np.array_equal(W[2 * k:2 * (k + 1)], p[name]), name
    back = gated.unstack_lstm_weights(W, b)
    assert all(np.array_equal(back[k], p[k]) for k in p)
    module = torch_lstm(3, 2, 0)
    q = gated.lstm_params_from_torch(module)
    W_torch, b_torch = gated.stack_lstm_weights(q, gated.TORCH_LSTM_GATE_ORDER)
    expected = torch.cat([module.weight_hh_l0, module.weight_ih_l0], dim=1).detach().numpy()
    assert_close("stacked in torch's order", W_torch, expected, atol=0)
    assert_close("merged biases", b_torch, (module.bias_ih_l0 + module.bias_hh_l0).detach().numpy(), atol=1e-15)


def test_sigmoid_is_stable():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = gated.sigmoid(np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0]))
    assert s[0] == 0.0 and s[-1] == 1.0 and s[2] == 0.5
    assert_close("σ(z) + σ(−z) = 1", s + s[::-1], np.ones(5), atol=1e-15)


# --------------------------------------------------------------------------
# Errors name the expected and actual shapes
# --------------------------------------------------------------------------

def test_shape_errors():
    p = gated.init_lstm_params(3, 4, 0)
    with pytest.raises(ValueError, match=r"X: expected shape \(T, B, m\) = \(T, B, 3\), got \(5, 3\)"):
        gated.lstm_forward(np.zeros((5, 3)), p)
    with pytest.raises(ValueError, match=r"h0: expected shape \(B, n\) = \(2, 4\), got \(4,\)"):
        gated.lstm_forward(np.zeros((5, 2, 3)), p, h0=np.zeros(4))
    with pytest.raises(ValueError, match=r"W_o: expected shape \(4, 7\).*got \(4, 6\)"):
        gated.lstm_forward(np.zeros((5, 2, 3)), dict(p, W_o=np.zeros((4, 6))))
    with pytest.raises(ValueError, match="missing"):
        gated.lstm_step_forward(np.zeros((2, 3)), np.zeros((2, 4)), np.zeros((2, 4)), {"W_f": p["W_f"]})
    with pytest.raises(ValueError, match=r"x_t: expected shape \(B, m\) = \(B, 3\), got \(3,\)"):
        gated.lstm_step_forward(np.zeros(3), np.zeros((1, 4)), np.zeros((1, 4)), p)
    q = gated.gru_params_from_torch(torch_gru(3, 4, 0))
    with pytest.raises(ValueError, match="variant='torch'"):
        gated.gru_forward(np.zeros((2, 1, 3)), q)
    with pytest.raises(ValueError, match="variant"):
        gated.gru_forward(np.zeros((2, 1, 3)), q, variant="cho")
    with pytest.raises(ValueError, match=r"dH: expected shape"):
        gated.lstm_backward(np.zeros((5, 2, 3)), np.zeros((5, 2, 3)), p)
    with pytest.raises(ValueError, match="bidirectional"):
        gated.lstm_params_from_torch(torch.nn.LSTM(3, 4, bidirectional=True))
    with pytest.raises(ValueError, match="torch.nn.GRU"):
        gated.gru_params_from_torch(torch.nn.LSTM(3, 4))


def test_sigmoid_is_the_one_of_backprop():
    from course_lib import backprop, word2vec

    assert gated.sigmoid is backprop.sigmoid and word2vec.sigmoid is backprop.sigmoid
