"""Tests for course_lib.attention (numpy reference) and its agreement with course_lib.seq2seq (torch).

1. (A2) masked softmax: weights sum to 1 over the real positions, are exactly 0 on
   padding, ignore what the padding holds, and match scipy's softmax on the real part.
2. (A1) scores of every kind against a plain loop over source positions.
3. The hand-written backward against torch.autograd in float64 and centred differences.
4. The torch attention modules and a cell="rnn" Seq2Seq agree with the numpy step,
   decoder step and greedy decoding.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib import attention as att
from course_lib import seq2seq as s2s
from course_lib.checks import assert_close
from course_lib.gradcheck import numerical_gradient


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny matrices: one thread is much faster than two competing ones (and reproducible)."""
    with s2s.set_threads(1):
        yield


def random_case(seed, kind, S=None, d_s=None, d_h=None, pad=True):
    rng = np.random.default_rng(seed)
    S = S or int(rng.integers(1, 8))
    d_h = d_h or int(rng.integers(1, 6))
    d_s = d_h if kind == "dot" else (d_s or int(rng.integers(1, 6)))
    s, H = rng.normal(size=d_s), rng.normal(size=(S, d_h))
    mask = np.ones(S, dtype=bool)
    if pad:
        mask[int(rng.integers(1, S + 1)):] = False
    params = att.init_attention(kind, d_s, d_h, d_a=int(rng.integers(1, 6)), rng=rng)
    return s, H, mask, params


# --------------------------------------------------------------------------
# 1. Masked softmax
# --------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10**6), st.integers(1, 9), st.floats(-50, 50))
def test_masked_softmax_sums_to_one_and_is_zero_on_padding(seed, S, shift):
    rng = np.random.default_rng(seed)
    e = rng.normal(scale=5.0, size=(3, S))
    mask = rng.random((3, S)) < 0.6
    mask[:, 0] = True
    alpha = att.masked_softmax(e, mask)
    assert np.all(alpha[~mask] == 0.0)
    assert_close("rows sum to 1", alpha.sum(axis=-1), np.ones(3), atol=1e-12)
    for row in range(3):                                            # oracle: scipy on the real part
        assert_close("real part", alpha[row, mask[row]], scipy.special.softmax(e[row, mask[row]]), atol=1e-12)
    assert_close("shift invariance", att.masked_softmax(e + shift, mask), alpha, atol=1e-10)
    junk = np.where(mask, e, rng.normal(scale=1e6, size=e.shape))   # padding scores do not matter
    assert_close("padding ignored", att.masked_softmax(junk, mask), alpha, atol=1e-12)


def test_masked_softmax_is_stable_and_checks_its_mask():
    alpha = att.masked_softmax(np.array([1000.0, 0.0, -1000.0]), np.array([True, True, False]))
    assert_close("large scores", alpha, [1.0, 0.0, 0.0], atol=1e-12)
    with pytest.raises(ValueError, match="at least one"):
        att.masked_softmax(np.zeros((2, 3)), np.array([[True, False, False], [False, False, False]]))
    with pytest.raises(ValueError, match="shape"):
        att.masked_softmax(np.zeros(3), np.ones(4, dtype=bool))


# --------------------------------------------------------------------------
# 2. Scores and the whole step
# --------------------------------------------------------------------------

def loop_scores(s, H, params, kind):
    """Textbook formulas, one source position at a time."""
    out = []
    for h in H:
        if kind == "additive":
            out.append(sum(params["v"][j] * np.tanh((params["W"] @ s + params["U"] @ h)[j])
                           for j in range(len(params["v"]))))
        elif kind == "general":
            out.append(sum(s[a] * params["W_a"][a, b] * h[b] for a in range(len(s)) for b in range(len(h))))
        else:
            out.append(sum(s[a] * h[a] for a in range(len(s))))
    return np.array(out)


@pytest.mark.parametrize("kind", att.KINDS)
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_scores_and_step_match_the_formulas(kind, seed):
    s, H, mask, params = random_case(seed, kind)
    e = att.attention_scores(s, H, params, kind)
    assert_close("scores", e, loop_scores(s, H, params, kind), atol=1e-12)
    c, alpha, _ = att.attention_step(s, H, params, kind, mask)
    assert np.all(alpha[~mask] == 0) and abs(alpha.sum() - 1) < 1e-12
    assert_close("context", c, sum(a * h for a, h in zip(alpha, H)), atol=1e-12)
    assert_close("context_vector", att.context_vector(alpha, H), c, atol=1e-12)
    H2 = H.copy()
    H2[~mask] = 1e3                                                  # what padding holds does not matter
    assert_close("padding ignored", att.attention_step(s, H2, params, kind, mask)[0], c, atol=1e-9)


def test_a_hand_computed_dot_step():
    # s = [1, 0], h_1 = [2, 0], h_2 = [0, 1]: e = [2, 0], α = [e²/(e²+1), 1/(e²+1)]
    s, H = np.array([1.0, 0.0]), np.array([[2.0, 0.0], [0.0, 1.0]])
    c, alpha, _ = att.attention_step(s, H, {}, "dot")
    a1 = np.exp(2) / (np.exp(2) + 1)
    assert_close("alpha", alpha, [a1, 1 - a1])
    assert_close("c", c, [2 * a1, 1 - a1])
    # the same with h_2 masked out: all weight on h_1
    c, alpha, _ = att.attention_step(s, H, {}, "dot", mask=[True, False])
    assert_close("alpha, masked", alpha, [1.0, 0.0])


def test_shape_errors_name_the_shapes():
    s, H, mask, params = random_case(0, "additive", S=4, d_s=3, d_h=2)
    with pytest.raises(ValueError, match=r"H: expected shape \(S, d_h\)"):
        att.attention_step(s, H[0], params)
    with pytest.raises(ValueError, match="U: expected shape"):
        att.attention_step(s, H, {**params, "U": np.zeros((params["v"].shape[0], 5))})
    with pytest.raises(ValueError, match="d_s = d_h"):
        att.attention_step(np.zeros(3), np.zeros((4, 2)), {}, "dot")
    with pytest.raises(ValueError, match="mask"):
        att.attention_step(s, H, params, mask=np.ones(3, dtype=bool))
    with pytest.raises(ValueError, match="kind"):
        att.attention_step(s, H, params, kind="cosine")


# --------------------------------------------------------------------------
# 3. The backward pass
# --------------------------------------------------------------------------

def torch_step(s, H, params, kind, mask):
    """(A1)-(A3) written directly in torch (float64), for autograd."""
    if kind == "additive":
        e = torch.tanh(params["W"] @ s + H @ params["U"].T) @ params["v"]
    elif kind == "general":
        e = H @ (params["W_a"].T @ s)
    else:
        e = H @ s
    alpha = torch.softmax(e.masked_fill(~torch.as_tensor(mask), float("-inf")), dim=0)
    return alpha @ H


@pytest.mark.parametrize("kind", att.KINDS)
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_backward_matches_torch_autograd(kind, seed):
    s, H, mask, params = random_case(seed, kind)
    dc = np.random.default_rng(seed + 1).normal(size=H.shape[1])
    _, _, cache = att.attention_step(s, H, params, kind, mask)
    grads = att.attention_step_backward(dc, cache)
    leaves = {"s": torch.tensor(s, requires_grad=True), "H": torch.tensor(H, requires_grad=True)}
    leaves.update({k: torch.tensor(v, requires_grad=True) for k, v in params.items()})
    c = torch_step(leaves["s"], leaves["H"], {k: leaves[k] for k in params}, kind, mask)
    (c @ torch.tensor(dc)).backward()
    assert set(grads) == set(leaves)
    for name, leaf in leaves.items():
        assert_close(f"d{name}", grads[name], leaf.grad.numpy(), atol=1e-10)
    assert np.all(grads["H"][~mask] == 0), "padding rows get no gradient"


@pytest.mark.parametrize("kind", att.KINDS)
def test_backward_matches_finite_differences(kind):
    s, H, mask, params = random_case(7, kind, S=5, d_s=3, d_h=3)
    dc = np.random.default_rng(8).normal(size=3)
    grads = att.attention_step_backward(dc, att.attention_step(s, H, params, kind, mask)[2])

    def loss(_):
        return float(att.attention_step(s, H, params, kind, mask)[0] @ dc)

    for name, value in [("s", s), ("H", H), *params.items()]:
        assert_close(f"d{name} vs finite differences", grads[name], numerical_gradient(loss, value),
                     atol=1e-9, rtol=1e-6)


# --------------------------------------------------------------------------
# 4. numpy reference == torch modules
# --------------------------------------------------------------------------

def torch_attention_with(params, kind, d_s, d_h):
    """A seq2seq attention module carrying the numpy parameters."""
    d_a = params["v"].shape[0] if kind == "additive" else 8
    module = s2s.make_attention(kind, d_s, d_h, d_a).double()
    with torch.no_grad():
        if kind == "additive":
            module.W.weight.copy_(torch.tensor(params["W"]))
            module.U.weight.copy_(torch.tensor(params["U"]))
            module.v.weight.copy_(torch.tensor(params["v"])[None])
        elif kind == "general":
            module.W_a.weight.copy_(torch.tensor(params["W_a"]))
    return module


@pytest.mark.parametrize("kind", att.KINDS)
def test_torch_attention_modules_agree_with_numpy(kind):
    rng = np.random.default_rng(11)
    B, T, S, d_h = 4, 3, 6, 5
    d_s = d_h if kind == "dot" else 4
    params = att.init_attention(kind, d_s, d_h, d_a=7, rng=rng)
    module = torch_attention_with(params, kind, d_s, d_h)
    s, H = rng.normal(size=(B, T, d_s)), rng.normal(size=(B, S, d_h))
    lengths = np.array([6, 1, 4, 2])
    mask = np.arange(S)[None, :] < lengths[:, None]
    c, alpha = module(torch.tensor(s), torch.tensor(H), torch.tensor(mask))
    assert c.shape == (B, T, d_h) and alpha.shape == (B, T, S)
    assert torch.all(alpha[~torch.tensor(mask)[:, None, :].expand(-1, T, -1)] == 0)
    assert_close("weights sum to 1", alpha.sum(-1).detach().numpy(), np.ones((B, T)), atol=1e-12)
    for b in range(B):
        for t in range(T):
            c_ref, alpha_ref, _ = att.attention_step(s[b, t], H[b], params, kind, mask[b])
            assert_close("torch c vs numpy", c[b, t].detach().numpy(), c_ref, atol=1e-12)
            assert_close("torch alpha vs numpy", alpha[b, t].detach().numpy(), alpha_ref, atol=1e-12)
    c1, alpha1 = module(torch.tensor(s[:, 0]), torch.tensor(H), torch.tensor(mask))     # one step, (B, d_s)
    assert_close("one step = first of T", c1.detach().numpy(), c[:, 0].detach().numpy(), atol=1e-12)


@pytest.fixture(scope="module")
def rnn_model():
    src_vocab, tgt_vocab = s2s.Vocab("abcdefg"), s2s.Vocab("xyz")
    models = {kind: s2s.Seq2Seq(len(src_vocab), len(tgt_vocab), d_emb=5, hidden=3, d_s=6 if kind == "dot" else 4,
                                attention=kind, cell="rnn", d_a=5, seed=3).double() for kind in att.KINDS}
    with torch.no_grad():                                        # bigger output weights: varied greedy outputs
        for model in models.values():
            model.decoder.out.weight.mul_(4.0)
            model.decoder.out.bias[s2s.EOS_ID] -= 1.0
    return models, src_vocab, tgt_vocab


@pytest.mark.parametrize("kind", att.KINDS)
def test_numpy_decoder_step_agrees_with_the_torch_model(kind, rnn_model):
    models, src_vocab, tgt_vocab = rnn_model
    model = models[kind]
    params = s2s.decoder_params_numpy(model)
    texts, targets = ["abcdeg", "gfa", "b"], ["xyzzy", "zx", "yyyyyyy"]
    src, lengths = s2s.batch_sources(texts, src_vocab)
    tgt_in, _ = s2s.batch_targets(targets, tgt_vocab)
    with torch.no_grad():
        logits, alphas = model(src, lengths, tgt_in)
    probs = torch.softmax(logits, -1).numpy()
    for b, (text, target) in enumerate(zip(texts, targets)):
        H, s = s2s.encode_numpy(model, text, src_vocab)
        for t, y_prev in enumerate(tgt_in[b, : len(target) + 1].tolist()):
            o, s, alpha = att.decoder_step(y_prev, s, H, params, kind)
            assert_close(f"o_{t + 1} of {text!r}", o, probs[b, t], atol=1e-10)
            assert_close(f"alpha_{t + 1} of {text!r}", alpha, alphas[b, t, : len(text)].numpy(), atol=1e-10)


@pytest.mark.parametrize("kind", att.KINDS)
def test_numpy_greedy_decoding_agrees_with_the_torch_model(kind, rnn_model):
    models, src_vocab, tgt_vocab = rnn_model
    model = models[kind]
    params = s2s.decoder_params_numpy(model)
    texts = ["abcdeg", "gfa", "b", "ddddddd", "ecg"]
    src, lengths = s2s.batch_sources(texts, src_vocab)
    ids, alphas = model.greedy(src, lengths, max_len=9)
    outputs = set()
    for b, text in enumerate(texts):
        H, s0 = s2s.encode_numpy(model, text, src_vocab)
        ref_ids, ref_alphas = att.greedy_decode(H, s0, params, kind, max_len=9)
        assert ref_ids == ids[b], text
        assert_close(f"alphas of {text!r}", ref_alphas, alphas[b, : len(ref_alphas), : len(text)].numpy(), atol=1e-10)
        outputs.add(tuple(ref_ids))
    assert len(outputs) > 1, "the test model should not produce the same output for every text"


def test_export_needs_an_rnn_cell_with_attention():
    with pytest.raises(ValueError, match="cell='rnn'"):
        s2s.decoder_params_numpy(s2s.Seq2Seq(10, 10, cell="gru"))
    with pytest.raises(ValueError, match="cell='rnn'"):
        s2s.decoder_params_numpy(s2s.Seq2Seq(10, 10, cell="rnn", attention=None))
