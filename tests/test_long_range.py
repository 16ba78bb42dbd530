"""Tests for course_lib.long_range: the remember-the-first-symbol task and its training loops.

Oracles: the task's definition (targets read back from the inputs), PyTorch's fused layers (the
unrolled recomputation must give the same logits), course_lib.gated (the same LSTM/GRU equations in
numpy), and short training runs whose outcome is not in doubt (T = 5 is easy; a ReLU RNN with W = I,
T = 80 and SGD at lr 0.1 overflows on its second update unless clipped).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib import gated, long_range
from course_lib.checks import assert_close


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 30), st.integers(1, 8), st.integers(2, 6), st.integers(0, 10_000))
def test_recall_batch_is_the_task(T, B, K, seed):
    X, y = long_range.recall_batch(T, B, K, seed=seed)
    assert X.shape == (T, B, K + 1) and X.dtype == torch.float32 and y.shape == (B,) and y.dtype == torch.int64
    assert torch.all(X[:, :, :K].sum(dim=2) == 1)                         # one symbol per step
    assert torch.all(X[0, :, K] == 1) and torch.all(X[1:, :, K] == 0)      # marker at t = 1 only
    assert torch.equal(X[0, :, :K].argmax(dim=1), y)                       # the answer is the first symbol
    X2, y2 = long_range.recall_batch(T, B, K, seed=seed)
    assert torch.equal(X, X2) and torch.equal(y, y2)


def test_recall_batch_errors_and_balance():
    with pytest.raises(ValueError, match="T ≥ 1"):
        long_range.recall_batch(0, 3)
    _, y = long_range.recall_batch(5, 4000, 4, seed=1)
    assert np.allclose(np.bincount(y.numpy(), minlength=4) / 4000, 0.25, atol=0.03)   # chance = 1/K


@pytest.mark.parametrize("kind", long_range.KINDS)
def test_unrolled_states_give_the_fused_layers_logits(kind):
    model = long_range.SequenceClassifier(kind, 5, 6, 4, memory_bias=1.0, seed=3)
    X, _ = long_range.recall_batch(12, 7, 4, seed=4)
    hs, cs, logits = long_range.unrolled_states(model, X)
    with torch.no_grad():
        H, _ = model.recurrent(X)
        assert_close("unrolled h_t", torch.stack(hs).detach().numpy(), H.numpy(), atol=1e-6)
        assert_close("logits", logits.detach().numpy(), model(X).numpy(), atol=1e-6)
    assert len(cs) == (12 if kind == "lstm" else 0)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_models_compute_the_slides_equations(kind):
    """The torch models are the course's LSTM/GRU: course_lib.gated reproduces their states in float64."""
    model = long_range.SequenceClassifier(kind, 5, 6, 4, memory_bias=3.0, seed=5).double()
    X, _ = long_range.recall_batch(9, 3, 4, seed=6)
    X = X.double()
    with torch.no_grad():
        H, _ = model.recurrent(X)
    if kind == "lstm":
        ours = gated.lstm_forward(X.numpy(), gated.lstm_params_from_torch(model.recurrent))[0]
    else:
        ours = gated.gru_forward(X.numpy(), gated.gru_params_from_torch(model.recurrent), variant="torch")
    assert_close(f"{kind} states", ours, H.numpy(), atol=1e-12)


def test_initialisation_options():
    n = 6
    lstm = long_range.SequenceClassifier("lstm", 5, n, 4, memory_bias=3.0, seed=0)
    plain = long_range.SequenceClassifier("lstm", 5, n, 4, memory_bias=0.0, seed=0)
    diff = (lstm.recurrent.bias_ih_l0 - plain.recurrent.bias_ih_l0).detach()
    assert torch.allclose(diff[n:2 * n], torch.full((n,), 3.0)) and torch.all(diff[:n] == 0) and torch.all(diff[2 * n:] == 0)
    gru = long_range.SequenceClassifier("gru", 5, n, 4, memory_bias=2.0, recurrent_radius=1.5, seed=0)
    for block in gru.recurrent.weight_hh_l0.detach().split(n):
        assert float(torch.linalg.eigvals(block).abs().max()) == pytest.approx(1.5, rel=1e-5)
    irnn = long_range.SequenceClassifier("relu_rnn", 5, n, 4, identity_init=True)
    assert torch.equal(irnn.recurrent.weight_hh_l0.detach(), torch.eye(n))
    with pytest.raises(ValueError, match="identity_init"):
        long_range.SequenceClassifier("rnn", 5, n, 4, identity_init=True)
    with pytest.raises(ValueError, match="kind"):
        long_range.SequenceClassifier("transformer", 5, n, 4)


def test_training_is_deterministic_and_learns_a_short_task():
    threads = torch.get_num_threads()
    a = long_range.train("lstm", T=5, steps=250, seed=0, progress=False, device="cpu")
    b = long_range.train("lstm", T=5, steps=250, seed=0, progress=False, device="cpu")
    assert torch.get_num_threads() == threads, "single_thread must restore the thread count"
    assert np.array_equal(a["loss"], b["loss"]) and a["accuracy"] == b["accuracy"]
    assert a["accuracy"] > 0.95 and a["solved_step"] is not None and a["nan_step"] is None
    assert np.all(np.isfinite(a["grad_norm"]))


def test_exploding_gradients_give_nan_and_clipping_prevents_it():
    config = dict(kind="relu_rnn", T=80, identity_init=True, optimizer="sgd", lr=0.1, steps=8,
                  progress=False, device="cpu")
    unclipped = long_range.train(clip=None, **config)
    assert unclipped["nan_step"] in (2, 3) and np.isnan(unclipped["accuracy"])      # right after the first update(s)
    clipped = long_range.train(clip=1.0, **config)
    assert clipped["nan_step"] is None and np.all(np.isfinite(clipped["loss"]))
    assert clipped["grad_norm"][0] == unclipped["grad_norm"][0] > 1.0      # same first gradient, then clipped


def test_state_gradient_norms_shapes():
    model = long_range.SequenceClassifier("lstm", 5, 4, 4, memory_bias=3.0)
    probe = long_range.state_gradient_norms(model, T=10, batch=16)
    assert probe["h"].shape == probe["c"].shape == (10,) and np.all(probe["h"] > 0)


def test_failure_length_finds_the_first_failing_length(monkeypatch):
    """The shortest length below the threshold, NaN (a diverged run) counting as a failure."""
    table = {5: 0.9, 10: 0.6, 15: 0.4, 20: 0.8, 25: float("nan")}
    calls = []

    def fake_train(kind, T, progress, **kwargs):
        calls.append((kind, T, kwargs))
        return {"accuracy": table[T]}

    monkeypatch.setattr(long_range, "train", fake_train)
    out = long_range.failure_length([5, 10, 15, 20], kind="gru", progress=False, steps=7)
    assert out == {"lengths": [5, 10, 15, 20], "accuracy": [0.9, 0.6, 0.4, 0.8], "fails_at": 15}
    assert calls[0] == ("gru", 5, {"steps": 7}), "kind and training options are passed on"
    assert long_range.failure_length([5, 10], threshold=0.7, progress=False)["fails_at"] == 10
    assert long_range.failure_length([5, 10, 20], progress=False)["fails_at"] is None
    assert long_range.failure_length([5, 25], progress=False)["fails_at"] == 25


def test_failure_length_on_real_runs():
    """An untrained-enough RNN (3 updates) is near chance; a 0-accuracy threshold never fails."""
    out = long_range.failure_length([3, 4], kind="rnn", steps=3, progress=False, device="cpu", threshold=0.6)
    assert out["fails_at"] == 3 and all(0.0 <= a < 0.6 for a in out["accuracy"])
    assert long_range.failure_length([3], kind="rnn", steps=3, progress=False, threshold=0.0)["fails_at"] is None


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_stacked_layers_unroll_to_the_fused_layers(kind):
    model = long_range.SequenceClassifier(kind, 5, 6, 4, memory_bias=2.0, layers=2, seed=7)
    assert model.recurrent.num_layers == 2
    if kind != "rnn":     # the memory bias goes into every layer's keep gate
        assert torch.all(model.recurrent.bias_ih_l1[6:12] > 2.0 - 1 / np.sqrt(6) - 1e-6)
    X, _ = long_range.recall_batch(10, 3, 4, seed=8)
    hs, _, logits = long_range.unrolled_states(model, X)
    with torch.no_grad():
        H, _ = model.recurrent(X)
        assert_close("top layer's h_t", torch.stack(hs).detach().numpy(), H.numpy(), atol=1e-6)
        assert_close("logits", logits.detach().numpy(), model(X).numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="layers"):
        long_range.SequenceClassifier("res_rnn", 5, 6, 4, layers=2)


def test_residual_and_layer_norm_kinds_train_deterministically():
    a = long_range.train("res_rnn", T=5, steps=250, seed=0, progress=False, device="cpu")
    b = long_range.train("res_rnn", T=5, steps=250, seed=0, progress=False, device="cpu")
    assert np.array_equal(a["loss"], b["loss"]) and a["accuracy"] == b["accuracy"] > 0.95
    c = long_range.train("ln_rnn", T=5, steps=250, seed=0, progress=False, device="cpu")
    assert c["accuracy"] > 0.95 and np.all(np.isfinite(c["grad_norm"]))


def test_default_device():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert long_range.default_device().type == expected
    assert long_range.default_device("cpu").type == "cpu"
