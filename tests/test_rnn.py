"""Tests for course_lib.rnn (and the RNN language model in course_lib.rnn_lm).

1. The slides' numeric example: every printed number that is right is checked
   at its printed precision; every erratum in rnn.ERRATA has a test showing
   that the printed value disagrees with the computation and the correction holds.
2. rnn_bptt against torch.autograd (float64) and centred differences on random shapes.
3. Truncated BPTT, the batched versions, target formats and shape errors.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib import rnn, rnn_lm
from course_lib.checks import assert_close
from course_lib.rnn import SLIDE_DECIMALS, SLIDE_VALUES

try:
    from course_lib.gradcheck import numerical_gradient, rel_error
except ImportError:  # pragma: no cover - gradcheck arrives with notebook 01
    def numerical_gradient(f, x, h=1e-5):
        grad = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            old = x[i]
            x[i] = old + h
            plus = f(x)
            x[i] = old - h
            minus = f(x)
            x[i] = old
            grad[i] = (plus - minus) / (2 * h)
        return grad

    def rel_error(a, b):
        return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def assert_printed(key, computed):
    """``computed`` rounds to the value printed on the slides (at the slides' precision)."""
    printed = SLIDE_VALUES[key]
    assert_close(f"slide value {key!r}", computed, printed, atol=0.5 * 10.0 ** -SLIDE_DECIMALS[key] + 1e-12, rtol=0)


def disagrees_with_printed(key, computed) -> bool:
    printed = SLIDE_VALUES[key]
    if np.shape(computed) != printed.shape:
        return True
    return bool(np.any(np.abs(np.asarray(computed) - printed) > 0.5 * 10.0 ** -SLIDE_DECIMALS[key] + 1e-12))


@pytest.fixture(scope="module")
def example():
    X, Y, params = rnn.slide_example()
    d = rnn.rnn_bptt_deltas(X, Y, params)
    loss, grads = rnn.rnn_bptt(X, Y, params)
    return X, Y, params, d, grads


# --------------------------------------------------------------------------
# 1. The slides' example: printed values that are right
# --------------------------------------------------------------------------

def test_forward_pass_matches_slides(example):
    X, Y, params, d, _ = example
    S = d["S"]
    S_prev = np.vstack([np.zeros(2), S[:-1]])
    assert_printed("z", X @ params["U"].T + S_prev @ params["W"].T)
    assert_printed("S", S)
    assert_printed("logits", S @ params["V"].T)
    assert_printed("O", d["O"])


def test_output_deltas_and_grad_V_terms_match_slides(example):
    _, _, _, d, _ = example
    assert_printed("delta_out", d["delta_out"])
    assert_printed("grad_V_terms", np.einsum("tk,tn->tkn", d["delta_out"], d["S"]))


def test_hidden_deltas_and_sigma_prime_match_slides(example):
    _, _, _, d, _ = example
    assert_printed("sigma_prime", d["sigma_prime"])
    assert_printed("delta_s", d["delta_s"])


def test_grad_W_and_grad_V_match_slides(example):
    _, _, _, d, grads = example
    S, delta_s = d["S"], d["delta_s"]
    assert_printed("grad_W_terms", np.stack([np.outer(delta_s[1], S[0]), np.outer(delta_s[2], S[1])]))
    assert_printed("grad_W", grads["W"])
    assert_printed("grad_V", grads["V"])


def test_rounded_state_was_only_displayed(example):
    """CHECKED_OK: z_2 printed 5.36 comes from the exact s_1; the displayed 0.89, 1.00 would give 5.37."""
    X, _, params, d, _ = example
    assert_printed("s1_shown_in_s2", d["S"][0])
    from_displayed = params["U"] @ X[1] + params["W"] @ SLIDE_VALUES["s1_shown_in_s2"]
    assert round(from_displayed[1], 2) == 5.37 != SLIDE_VALUES["z"][1, 1]
    assert_printed("z", X @ params["U"].T + np.vstack([np.zeros(2), d["S"][:-1]]) @ params["W"].T)


def test_softmax_of_rounded_logits_gives_the_same_printed_outputs():
    assert_printed("O", rnn.softmax(SLIDE_VALUES["logits"]))


def test_grad_W_t1_term_vanishes_because_s0_is_zero(example):
    X, Y, params, d, grads = example
    S, delta_s = d["S"], d["delta_s"]
    assert np.abs(delta_s[0]).min() > 1e-3      # δ_1 ≠ 0: the t = 1 term δ_1 s_0ᵀ vanishes because s_0 = 0
    two_terms = np.outer(delta_s[1], S[0]) + np.outer(delta_s[2], S[1])
    assert_close("∇W = δ_2 s_1ᵀ + δ_3 s_2ᵀ", grads["W"], two_terms, atol=1e-15, rtol=1e-12)
    assert_close("∇W against torch", grads["W"], torch_grads(X, Y, params)[1]["W"], atol=1e-12)
    s0 = np.array([0.5, -0.5])
    _, grads_s0 = rnn.rnn_bptt(X, Y, params, s0=s0)
    d0 = rnn.rnn_bptt_deltas(X, Y, params, s0=s0)
    assert np.abs(np.outer(d0["delta_s"][0], s0)).max() > 1e-3   # with s_0 ≠ 0 the t = 1 term counts
    assert_close("∇W with s0", grads_s0["W"], torch_grads(X, Y, params, s0)[1]["W"], atol=1e-12)


# --------------------------------------------------------------------------
# 1b. Errata: one test per entry of rnn.ERRATA
# --------------------------------------------------------------------------

def test_errata_list_is_complete():
    assert len(rnn.ERRATA) == 10
    for entry in rnn.ERRATA:
        assert set(entry) >= {"quantity", "slide_value", "correct_value", "why"}
        assert entry["kind"] in {"data", "formula", "number"}


def test_erratum_ground_truth_of_bptt_slide():
    X, _, params = rnn.slide_example("bptt_slide")
    Y_printed = SLIDE_VALUES["ground_truth_bptt_slide"]
    d = rnn.rnn_bptt_deltas(X, Y_printed, params)
    assert disagrees_with_printed("delta_out", d["delta_out"])
    assert_close("δ_2^out with e2", d["delta_out"][1], [0.21308, -0.68342, 0.47035], atol=5e-6)
    assert_close("δ_3^out with e3", d["delta_out"][2], [0.21231, 0.31634, -0.52865], atol=5e-6)
    assert disagrees_with_printed("grad_V", rnn.rnn_bptt(X, Y_printed, params)[1]["V"])
    # the forward slides' ground truth reproduces every printed δ
    _, Y, _ = rnn.slide_example("as_computed")
    assert np.array_equal(Y, SLIDE_VALUES["ground_truth_forward_slides"])
    assert_printed("delta_out", rnn.rnn_bptt_deltas(X, Y, params)["delta_out"])


def test_erratum_b_o_needs_k_entries():
    X, Y, params = rnn.slide_example()
    bad = dict(params, b_o=SLIDE_VALUES["b_o"])
    with pytest.raises(ValueError, match=r"b_o.*\(3,\).*\(2,\)"):
        rnn.rnn_forward(X, bad)
    assert (params["V"] @ np.ones(2)).shape == (3,)


def test_erratum_bp1_softmax_has_no_elementwise_derivative(example):
    X, Y, params, d, _ = example
    O = d["O"]
    literal = (-Y / O) * (O * (1 - O))           # ∇_o Cost ⊙ σ′ with σ′ = diag of the softmax Jacobian
    assert_close("literal BP1 at t = 3", literal[2], [0.0, -0.68366, 0.0], atol=5e-6)
    assert disagrees_with_printed("delta_out", literal)
    logits = torch.tensor(d["S"] @ params["V"].T, requires_grad=True)
    torch.nn.functional.cross_entropy(logits, torch.tensor(Y.argmax(1)), reduction="sum").backward()
    assert_close("o − y vs autograd", rnn.output_delta(O, Y), logits.grad.numpy(), atol=1e-12)


def test_erratum_sigma_prime_is_taken_at_z_not_s(example):
    _, _, _, d, _ = example
    S = d["S"]
    assert_printed("sigma_prime", 1 - S**2)
    assert disagrees_with_printed("sigma_prime", 1 - np.tanh(S) ** 2)     # tanh′(s_t), read literally
    assert_close("tanh′(s_3)", (1 - np.tanh(S) ** 2)[2], [0.42386, 0.41998], atol=5e-6)
    Z = np.arctanh(S)
    sig = 1 / (1 + np.exp(-Z))
    assert disagrees_with_printed("sigma_prime", sig * (1 - sig))         # sigmoid′(z_t)
    assert_close("sigmoid′(z_3)", (sig * (1 - sig))[2], [0.04952, 0.00101], atol=5e-6)


def test_erratum_bp4v_uses_s_t_not_s_t_minus_1(example):
    X, Y, params, d, grads = example
    S_prev = np.vstack([np.zeros(2), d["S"][:-1]])
    with_prev = d["delta_out"].T @ S_prev
    assert disagrees_with_printed("grad_V", with_prev)
    assert_close("Σ δ s_{t−1}ᵀ", with_prev,
                 [[0.39663, 0.42467], [-0.38944, -0.36810], [-0.00718, -0.05656]], atol=5e-6)
    assert_printed("grad_V", d["delta_out"].T @ d["S"])
    assert_close("∇V vs autograd", grads["V"], torch_grads(X, Y, params)[1]["V"], atol=1e-12)


def test_erratum_bp4w_state_of_the_same_layer(example):
    X, Y, params, d, grads = example
    with_input_layer = sum(np.outer(d["delta_s"][t], X[t - 1]) for t in range(1, 3))
    assert with_input_layer.shape == (2, 3) != params["W"].shape
    assert_close("∇W vs autograd", grads["W"], torch_grads(X, Y, params)[1]["W"], atol=1e-12)


def test_erratum_sums_run_from_t_equals_1(example):
    X, Y, params, d, grads = example
    assert len(X) == len(d["delta_s"]) == 3           # x_1..x_3, δ_1..δ_3: no t = 0 term exists
    tg = torch_grads(X, Y, params)[1]
    for name in ("U", "V", "b_s", "b_o"):
        assert_close(f"∇{name} vs autograd", grads[name], tg[name], atol=1e-12)
    assert_close("∇b_s = Σ_{t=1}^3 δ_t", grads["b_s"], d["delta_s"].sum(0), atol=1e-15)


def test_erratum_grad_U_shape_and_value(example):
    X, Y, params, d, grads = example
    assert SLIDE_VALUES["grad_U"].shape == (3, 2) != params["U"].shape
    assert disagrees_with_printed("grad_U", grads["U"])
    assert_close("∇U", grads["U"], [[0.04359, 0.09193, 0.14026], [0.00162, 0.00325, 0.00487]], atol=5e-6)
    assert_close("∇U vs autograd", grads["U"], torch_grads(X, Y, params)[1]["U"], atol=1e-12)


def test_erratum_b_s_added_once():
    X, _, params = rnn.slide_example()
    params = dict(params, b_s=np.array([0.3, -0.2]))
    s1 = rnn.rnn_step(X[0], np.zeros(2), params)
    s_Ux = params["U"] @ X[0] + params["b_s"]
    s_Ws = params["W"] @ np.zeros(2) + params["b_s"]
    assert np.abs(np.tanh(s_Ux + s_Ws) - s1).max() > 1e-2            # b_s counted twice
    assert_close("s_1", s1, np.tanh(params["U"] @ X[0] + params["b_s"]), atol=1e-15)


def test_erratum_unrolled_equation_3_needs_the_biases():
    X, _, params = rnn.slide_example()
    params = dict(params, b_s=np.array([0.3, -0.2]), b_o=np.array([0.1, 0.0, -0.1]))
    U, W, V = params["U"], params["W"], params["V"]
    f, g = np.tanh, rnn.softmax
    no_bias = g(V @ f(U @ X[2] + W @ f(U @ X[1] + W @ f(U @ X[0]))))
    with_bias = g(V @ f(U @ X[2] + W @ f(U @ X[1] + W @ f(U @ X[0] + params["b_s"]) + params["b_s"])
                        + params["b_s"]) + params["b_o"])
    O = rnn.rnn_forward(X, params)[1]
    assert np.abs(no_bias - O[2]).max() > 1e-3
    assert_close("equation (3) with biases", with_bias, O[2], atol=1e-15)


def test_trace_prints_the_slides_steps():
    X, Y, params = rnn.slide_example()
    buf = io.StringIO()
    rnn.rnn_trace(X, Y, params, file=buf)
    text = buf.getvalue()
    for piece in ("0.88535", "0.97961", "0.99394", "0.21231, -0.68366", "0.01209", "0.05370",
                  "-0.00469", "-0.27229", "0.04359"):
        assert piece in text
    assert "-0.00000" not in text


# --------------------------------------------------------------------------
# 2. Gradients on random shapes: torch.autograd and centred differences
# --------------------------------------------------------------------------

def torch_grads(X, Y, params, s0=None):
    """Reference loss and gradients from torch.autograd in float64 (Y one-hot or ids)."""
    tp = {k: torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for k, v in params.items()}
    Y = np.asarray(Y)
    ids = torch.tensor(Y if Y.ndim == 1 else Y.argmax(1))
    s = torch.zeros(tp["W"].shape[0], dtype=torch.float64) if s0 is None else torch.tensor(s0)
    loss = torch.zeros((), dtype=torch.float64)
    for t in range(len(X)):
        s = torch.tanh(tp["U"] @ torch.tensor(X[t]) + tp["W"] @ s + tp["b_s"])
        logits = tp["V"] @ s + tp["b_o"]
        loss = loss - torch.log_softmax(logits, 0)[ids[t]]
    loss.backward()
    return float(loss.detach()), {k: v.grad.numpy() for k, v in tp.items()}


@st.composite
def problems(draw, max_T=6):
    T = draw(st.integers(1, max_T))
    m, n, k = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(2, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    params = rnn.init_params(m, n, k, rng, scale=0.8)
    params["b_s"] = 0.3 * rng.standard_normal(n)
    params["b_o"] = 0.3 * rng.standard_normal(k)
    X = rng.standard_normal((T, m))
    Y = rng.integers(0, k, size=T)
    s0 = rng.standard_normal(n) * 0.5 if draw(st.booleans()) else None
    return X, Y, params, s0


@settings(max_examples=25, deadline=None)
@given(problems())
def test_bptt_matches_torch_autograd(problem):
    X, Y, params, s0 = problem
    loss, grads = rnn.rnn_bptt(X, Y, params, s0)
    ref_loss, ref = torch_grads(X, Y, params, s0)
    assert abs(loss - ref_loss) < 1e-10
    for name in rnn.PARAM_NAMES:
        assert grads[name].shape == np.shape(params[name])
        assert_close(f"∇{name}", grads[name], ref[name], atol=1e-10, rtol=1e-8)


@settings(max_examples=10, deadline=None)
@given(problems(max_T=4))
def test_bptt_matches_finite_differences(problem):
    X, Y, params, s0 = problem
    _, grads = rnn.rnn_bptt(X, Y, params, s0)
    for name in rnn.PARAM_NAMES:
        x = params[name]
        numeric = numerical_gradient(lambda _: rnn.rnn_bptt(X, Y, params, s0)[0], x)
        assert rel_error(grads[name], numeric) < 1e-6 or np.abs(grads[name] - numeric).max() < 1e-8, name


# --------------------------------------------------------------------------
# 3. Truncated BPTT, batches, targets, shapes
# --------------------------------------------------------------------------

def torch_truncated_grads(X, Y, params, k):
    """Reference: the loss of step t back-propagates through steps t−k+1..t only (state detached before)."""
    tp = {name: torch.tensor(v, requires_grad=True) for name, v in params.items()}
    S = torch.tensor(rnn.rnn_forward(X, params)[0])
    total = torch.zeros((), dtype=torch.float64)
    for t in range(len(X)):
        start = max(0, t - k + 1)
        s = torch.zeros(S.shape[1], dtype=torch.float64) if start == 0 else S[start - 1]
        for tau in range(start, t + 1):
            s = torch.tanh(tp["U"] @ torch.tensor(X[tau]) + tp["W"] @ s + tp["b_s"])
        total = total - torch.log_softmax(tp["V"] @ s + tp["b_o"], 0)[int(Y[t])]
    total.backward()
    return {name: v.grad.numpy() for name, v in tp.items()}


@settings(max_examples=15, deadline=None)
@given(problems(), st.integers(1, 4))
def test_truncated_bptt(problem, k):
    X, Y, params, _ = problem
    loss, grads = rnn.rnn_bptt_truncated(X, Y, params, k)
    ref = torch_truncated_grads(X, Y, params, k)
    for name in rnn.PARAM_NAMES:
        assert_close(f"truncated ∇{name} (k={k})", grads[name], ref[name], atol=1e-10, rtol=1e-8)
    full_loss, full = rnn.rnn_bptt(X, Y, params)
    assert loss == pytest.approx(full_loss, abs=1e-12)
    if k >= len(X):
        for name in rnn.PARAM_NAMES:
            assert_close(f"k ≥ T: ∇{name}", grads[name], full[name], atol=1e-12)


def test_truncated_k_equal_T_is_full_on_the_slide_example():
    X, Y, params = rnn.slide_example()
    _, full = rnn.rnn_bptt(X, Y, params)
    for k in (3, 10):
        _, grads = rnn.rnn_bptt_truncated(X, Y, params, k)
        for name in rnn.PARAM_NAMES:
            assert_close(f"∇{name}", grads[name], full[name], atol=1e-14)
    _, short = rnn.rnn_bptt_truncated(X, Y, params, 1)
    assert np.abs(short["U"] - full["U"]).max() > 1e-4
    with pytest.raises(ValueError, match="positive integer"):
        rnn.rnn_bptt_truncated(X, Y, params, 0)


@settings(max_examples=15, deadline=None)
@given(problems(), st.integers(1, 4), st.booleans())
def test_batch_equals_loop(problem, B, as_ids):
    X, _, params, _ = problem
    T, m = X.shape
    k = params["V"].shape[0]
    rng = np.random.default_rng(B)
    ids = rng.integers(0, m, size=(T, B))
    Xb = ids if as_ids else rng.standard_normal((T, B, m))
    Yb = rng.integers(0, k, size=(T, B))
    s0 = rng.standard_normal((B, params["W"].shape[0]))
    loss, grads, s_last = rnn.rnn_bptt_batch(Xb, Yb, params, s0, return_last_state=True)
    S_b, O_b = rnn.rnn_forward_batch(Xb, params, s0)
    losses, sums = [], {name: 0.0 for name in rnn.PARAM_NAMES}
    for b in range(B):
        x = np.eye(m)[ids[:, b]] if as_ids else Xb[:, b]
        S, O = rnn.rnn_forward(x, params, s0[b])
        assert_close("batched S", S_b[:, b], S, atol=1e-12)
        assert_close("batched O", O_b[:, b], O, atol=1e-12)
        loss_b, grads_b = rnn.rnn_bptt(x, Yb[:, b], params, s0[b])
        losses.append(loss_b)
        for name in rnn.PARAM_NAMES:
            sums[name] = sums[name] + grads_b[name]
    assert loss == pytest.approx(np.mean(losses), abs=1e-10)
    assert_close("s_T", s_last, S_b[-1], atol=0)
    for name in rnn.PARAM_NAMES:
        assert_close(f"batched ∇{name} = mean over the batch", grads[name], sums[name] / B, atol=1e-12)


def test_integer_and_one_hot_targets_agree():
    X, Y, params = rnn.slide_example()
    loss1, g1 = rnn.rnn_bptt(X, Y, params)
    loss2, g2 = rnn.rnn_bptt(X, Y.argmax(1), params)
    assert loss1 == loss2
    for name in rnn.PARAM_NAMES:
        assert np.array_equal(g1[name], g2[name])
    O = rnn.rnn_forward(X, params)[1]
    assert np.array_equal(rnn.output_delta(O, Y), rnn.output_delta(O, Y.argmax(1)))


def test_step_and_forward_agree_and_outputs_are_distributions():
    X, _, params = rnn.slide_example()
    S, O = rnn.rnn_forward(X, params)
    assert_close("s_1", rnn.rnn_step(X[0], np.zeros(2), params), S[0], atol=0)
    assert_close("s_2", rnn.rnn_step(X[1], S[0], params), S[1], atol=0)
    assert_close("Σ o_t", O.sum(1), np.ones(3), atol=1e-15)


def test_future_inputs_do_not_change_earlier_outputs():
    rng = np.random.default_rng(0)
    params = rnn.init_params(4, 3, 5, rng)
    X = rng.standard_normal((6, 2, 4))
    X2 = X.copy()
    X2[4:] = rng.standard_normal((2, 2, 4))
    O, O2 = rnn.rnn_forward_batch(X, params)[1], rnn.rnn_forward_batch(X2, params)[1]
    assert np.array_equal(O[:4], O2[:4]) and not np.allclose(O[4:], O2[4:])


def test_compare_with_slides_flags_exactly_the_numeric_errata():
    rows = rnn.compare_with_slides()
    assert [r["quantity"] for r in rows if not r["agrees"]] == ["∇U", "b_o"]
    wrong_targets = [r["quantity"] for r in rnn.compare_with_slides("bptt_slide") if not r["agrees"]]
    assert {"δ_2^out", "δ_3^out", "δ_3", "∇V", "∇W"} <= set(wrong_targets)


def test_hidden_gradient_norms_match_autograd():
    rng = np.random.default_rng(3)
    params = rnn.init_params(3, 4, 5, rng)
    X, Y = rng.standard_normal((6, 3)), rng.integers(0, 5, 6)
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    states, s = [], torch.zeros(4, dtype=torch.float64)
    for t in range(6):
        s = torch.tanh(tp["U"] @ torch.tensor(X[t]) + tp["W"] @ s + tp["b_s"])
        s.retain_grad()
        states.append(s)
    (-torch.log_softmax(tp["V"] @ s + tp["b_o"], 0)[int(Y[-1])]).backward()
    expected = [float(torch.linalg.norm(h.grad)) for h in states]
    assert_close("‖∂L_T/∂s_t‖", rnn.hidden_gradient_norms(X, Y, params), expected, atol=1e-12)


def test_torch_nn_rnn_agrees_with_the_slides_notation():
    """torch.nn.RNN: weight_ih_l0 = U, weight_hh_l0 = W, bias_ih_l0 + bias_hh_l0 = b_s."""
    rng = np.random.default_rng(4)
    params = rnn.init_params(3, 4, 2, rng)
    params["b_s"] = rng.standard_normal(4)
    X = rng.standard_normal((5, 3))
    net = torch.nn.RNN(3, 4, nonlinearity="tanh", dtype=torch.float64)
    with torch.no_grad():
        net.weight_ih_l0.copy_(torch.tensor(params["U"]))
        net.weight_hh_l0.copy_(torch.tensor(params["W"]))
        net.bias_ih_l0.copy_(torch.tensor(params["b_s"]))
        net.bias_hh_l0.zero_()
        states, _ = net(torch.tensor(X))
    assert_close("S", rnn.rnn_forward(X, params)[0], states.numpy(), atol=1e-12)


@pytest.mark.parametrize("change, names", [
    (dict(W=np.zeros((3, 3))), ["W", "(2, 2)", "(3, 3)"]),
    (dict(V=np.zeros((3, 3))), ["V", "(3, 2)", "(3, 3)"]),
    (dict(b_s=np.zeros(3)), ["b_s", "(2,)", "(3,)"]),
])
def test_parameter_shape_errors_name_both_shapes(change, names):
    X, Y, params = rnn.slide_example()
    with pytest.raises(ValueError) as err:
        rnn.rnn_bptt(X, Y, dict(params, **change))
    for piece in names:
        assert piece in str(err.value)


def test_input_shape_errors_name_both_shapes():
    X, Y, params = rnn.slide_example()
    with pytest.raises(ValueError, match=r"X: expected shape \(T, m\) = \(T, 3\), got \(3, 2\)"):
        rnn.rnn_forward(X[:, :2], params)
    with pytest.raises(ValueError, match=r"Y: .*\(3, 3\).*got \(3, 2\)"):
        rnn.rnn_bptt(X, Y[:, :2], params)
    with pytest.raises(ValueError, match=r"s0: expected shape \(2,\), got \(3,\)"):
        rnn.rnn_forward(X, params, s0=np.zeros(3))
    with pytest.raises(ValueError, match=r"X: expected shape \(T, B, m\) = \(T, B, 3\).*got \(3, 3\)"):
        rnn.rnn_forward_batch(X, params)
    with pytest.raises(ValueError, match=r"Y: expected integer ids of shape \(T, B\) = \(3, 1\)"):
        rnn.rnn_bptt_batch(X[:, None, :], Y, params)
    with pytest.raises(ValueError, match="missing"):
        rnn.rnn_forward(X, {"U": params["U"]})
    with pytest.raises(ValueError, match=r"slide_example|ground_truth"):
        rnn.slide_example("nonsense")


# --------------------------------------------------------------------------
# The RNN language model (course_lib.rnn_lm), on a toy corpus
# --------------------------------------------------------------------------

def test_rnn_lm_learns_a_toy_language():
    sentences = [["the", "cat", "sat"], ["the", "dog", "ran"], ["a", "cat", "ran"]] * 40
    itos = rnn_lm.build_vocab(sentences, max_words=3)
    assert itos == ["<unk>", "<eos>", "cat", "ran", "the"]
    assert rnn_lm.encode([["the", "zebra"]], itos).tolist() == [4, 0, 1]
    result = rnn_lm.train_rnn_lm(sentences, max_words=10, hidden=8, batch_size=4, bptt=5,
                                 epochs=4, lr=3e-2, seed=0, progress=False, val_fraction=0.2)
    assert result["val_perplexity"] < 3.0 < result["unigram_val_perplexity"]
    again = rnn_lm.train_rnn_lm(sentences, max_words=10, hidden=8, batch_size=4, bptt=5,
                                epochs=4, lr=3e-2, seed=0, progress=False, val_fraction=0.2)
    assert again["val_perplexity"] == result["val_perplexity"]
    text = rnn_lm.sample(result["params"], result["itos"], 0, prompt=("the",), length=5)
    assert text.startswith("the ") and "<unk>" not in text


def test_slide_material_lives_in_rnn_slides_and_imports_from_rnn():
    import subprocess
    import sys

    from course_lib import rnn_slides

    assert set(rnn._SLIDE_NAMES) == set(rnn_slides.__all__) and set(rnn_slides.__all__) <= set(rnn.__all__)
    for name in rnn_slides.__all__:
        assert getattr(rnn, name) is getattr(rnn_slides, name), name
    with pytest.raises(AttributeError, match="no attribute 'slide_examples'"):
        rnn.slide_examples
    # either module may be imported first (rnn_slides imports rnn; rnn looks its names up when asked)
    for first in ("course_lib.rnn_slides", "course_lib.rnn"):
        code = f"import {first}; from course_lib.rnn import ERRATA, slide_example; print(len(ERRATA))"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0 and out.stdout.strip() == "10", out.stderr
