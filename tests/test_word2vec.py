"""Tests for course_lib.word2vec.

1. The slides' examples: the skip-gram pairs of 我爱学习爱劳动，是个好青年 (window 2) and
   one-hot x embedding matrix = a row.
2. The numpy losses' hand-written gradients against centred differences and torch.autograd.
3. The torch batch gradients (shared or per-pair noise words, CBOW) against the numpy reference.
4. Subsampling, the noise distribution, one epoch of training data, and the trainer itself
   (deterministic, loss falls, related words end up close) on a toy corpus.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib import text
from course_lib import word2vec as w2v
from course_lib.cooccurrence import corpus_ids, window_cooccurrence
from course_lib.gradcheck import check_gradient
from course_lib.text import Vocab


# --------------------------------------------------------------------------
# 1. The slides' examples
# --------------------------------------------------------------------------

def test_slide_skipgram_pairs():
    chars = text.characters(w2v.SLIDE_TEXT)
    pairs = w2v.skipgram_pairs(chars, window=2)
    assert pairs[:6] == w2v.SLIDE_PAIRS_START == [("我", "爱"), ("我", "学"), ("爱", "我"), ("爱", "学"),
                                                  ("爱", "习"), ("学", "我")]
    assert pairs[6:9] == [("学", "爱"), ("学", "习"), ("学", "爱")]     # 学's contexts: 我 爱 | 习 爱
    assert len(pairs) == 2 + 3 + 4 * 8 + 3 + 2                          # 42: fewer contexts near the ends
    assert pairs[-2:] == [("年", "好"), ("年", "青")]


def test_slide_one_hot_times_embedding_is_a_row():
    rng = np.random.default_rng(0)
    E = np.vstack([w2v.SLIDE_EMBEDDING["first_rows"], rng.normal(size=(5, 2)), w2v.SLIDE_EMBEDDING["last_row"]])
    np.testing.assert_allclose(w2v.one_hot(0, len(E)) @ E, [0.75, 0.82])   # the slides' 我
    for i in range(len(E)):
        np.testing.assert_array_equal(w2v.one_hot(i, len(E)) @ E, E[i])
    with pytest.raises(ValueError, match="index < size"):
        w2v.one_hot(8, 8)


def test_cbow_and_lm_examples():
    toks = "I love to eat food".split()
    # the slides' example: centre "love" with context I, to, eat, food needs window 3
    assert w2v.cbow_examples(toks, 3)[1] == (("I", "to", "eat", "food"), "love")
    assert w2v.cbow_examples(toks, 2)[1] == (("I", "to", "eat"), "love")
    assert [c for c, _ in w2v.skipgram_pairs(toks, 3) if c == "love"] == ["love"] * 4
    assert w2v.lm_examples(toks, 2) == [(("I",), "love"), (("I", "love"), "to"), (("love", "to"), "eat"),
                                        (("to", "eat"), "food")]
    with pytest.raises(ValueError, match="positive integer"):
        w2v.skipgram_pairs(toks, 0)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(list("abcde")), min_size=0, max_size=12), st.integers(1, 4))
def test_skipgram_pairs_are_the_cooccurrence_counts(tokens, window):
    pairs = w2v.skipgram_pairs(tokens, window)
    vocab = Vocab(list("abcde"))
    M, _ = window_cooccurrence([tokens], window=window, vocab=vocab)
    counted = Counter((vocab[c], vocab[o]) for c, o in pairs)
    assert all(M[i, j] == counted.get((i, j), 0) for i in range(5) for j in range(5))
    centres = [c for c, _ in pairs]
    positions = [i for i, t in enumerate(tokens) for j in range(max(0, i - window), min(len(tokens), i + window + 1))
                 if j != i]
    assert centres == [tokens[i] for i in positions]              # centres in text order
    cbow = w2v.cbow_examples(tokens, window)                      # CBOW sees the same neighbourhoods
    assert sum(len(ctx) for ctx, _ in cbow) == len(pairs)


# --------------------------------------------------------------------------
# 2. numpy gradients
# --------------------------------------------------------------------------

def test_naive_softmax_gradients():
    rng = np.random.default_rng(1)
    v, U, o = rng.normal(size=4), rng.normal(size=(7, 4)), 3
    loss, dv, dU = w2v.naive_softmax_loss_and_grads(v, o, U)
    check_gradient(lambda x: w2v.naive_softmax_loss_and_grads(x, o, U)[0], v, dv)
    check_gradient(lambda x: w2v.naive_softmax_loss_and_grads(v, o, x)[0], U, dU)
    logits = U @ v
    np.testing.assert_allclose(loss, -logits[o] + np.log(np.exp(logits).sum()))


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 6), st.integers(1, 5))
def test_sgns_gradients_finite_differences(seed, d, K):
    rng = np.random.default_rng(seed)
    v, u, U = rng.normal(size=d), rng.normal(size=d), rng.normal(size=(K, d))
    loss, dv, du, dU = w2v.sgns_loss_and_grads(v, u, U)
    check_gradient(lambda x: w2v.sgns_loss_and_grads(x, u, U)[0], v, dv)
    check_gradient(lambda x: w2v.sgns_loss_and_grads(v, x, U)[0], u, du)
    check_gradient(lambda x: w2v.sgns_loss_and_grads(v, u, x)[0], U, dU)


def test_sgns_and_cbow_against_autograd():
    rng = np.random.default_rng(2)
    V_ctx, u, U = rng.normal(size=(3, 5)), rng.normal(size=5), rng.normal(size=(4, 5))
    tV, tu, tU = (torch.tensor(a, requires_grad=True) for a in (V_ctx, u, U))
    h = tV.mean(0)
    J = -torch.nn.functional.logsigmoid(tu @ h) - torch.nn.functional.logsigmoid(-(tU @ h)).sum()
    J.backward()
    loss, dV, du, dU = w2v.cbow_loss_and_grads(V_ctx, u, U)
    np.testing.assert_allclose(loss, J.item(), rtol=1e-12)
    for mine, ref in ((dV, tV), (du, tu), (dU, tU)):
        np.testing.assert_allclose(mine, ref.grad.numpy(), rtol=1e-10, atol=1e-12)
    # a single context word makes CBOW the skip-gram loss
    one = w2v.cbow_loss_and_grads(V_ctx[:1], u, U)
    sg = w2v.sgns_loss_and_grads(V_ctx[0], u, U)
    np.testing.assert_allclose(one[0], sg[0])
    np.testing.assert_allclose(one[1][0], sg[1])


def test_sgns_is_stable_for_large_scores():
    loss, dv, _, _ = w2v.sgns_loss_and_grads(np.array([100.0]), np.array([-100.0]), np.array([[100.0]]))
    assert np.isfinite(loss) and loss == pytest.approx(2e4) and np.all(np.isfinite(dv))


def test_shape_errors():
    with pytest.raises(ValueError, match="U_neg"):
        w2v.sgns_loss_and_grads(np.zeros(3), np.zeros(3), np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"v_c \(d,\) and U"):
        w2v.naive_softmax_loss_and_grads(np.zeros(3), 0, np.zeros((5, 4)))
    with pytest.raises(ValueError, match="negatives"):
        w2v.sgns_batch_loss_and_grads(np.zeros((5, 2)), np.zeros((5, 2)), [0, 1], [1, 2], [[3]])


def test_batch_gradients_finite_differences_and_sum_of_pairs():
    rng = np.random.default_rng(3)
    W_in, W_out = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    c, o, neg = np.array([0, 2, 2, 5]), np.array([1, 3, 0, 4]), np.array([[2, 3], [1, 5], [0, 4], [4, 1]])
    loss, dW_in, dW_out = w2v.sgns_batch_loss_and_grads(W_in, W_out, c, o, neg)
    check_gradient(lambda x: w2v.sgns_batch_loss_and_grads(x, W_out, c, o, neg)[0], W_in, dW_in)
    check_gradient(lambda x: w2v.sgns_batch_loss_and_grads(W_in, x, c, o, neg)[0], W_out, dW_out)
    # pair 3 (context 0) has the noise word 0: it is skipped, as in word2vec.c
    per_pair = [w2v.sgns_loss_and_grads(W_in[c[b]], W_out[o[b]], W_out[[k for k in neg[b] if k != o[b]]])[0]
                for b in range(4)]
    np.testing.assert_allclose(loss, sum(per_pair))


# --------------------------------------------------------------------------
# 3. torch batch gradients agree with numpy
# --------------------------------------------------------------------------

def _dense(V, d, rows, grads):
    out = torch.zeros(V, d, dtype=grads.dtype)
    out.index_put_((rows,), grads, accumulate=True)
    return out.numpy()


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31), st.sampled_from([1, 2, 4]), st.integers(1, 4))
def test_sgns_torch_matches_numpy(seed, G, K):
    rng = np.random.default_rng(seed)
    V, d, B = 7, 3, 8
    W_in, W_out = rng.normal(size=(V, d)), rng.normal(size=(V, d))
    c, o = rng.integers(0, V, B), rng.integers(0, V, B)
    neg_groups = rng.integers(0, V, (B // G, K))
    loss, dv, du, dneg = w2v.sgns_grads_torch(torch.tensor(W_in), torch.tensor(W_out), torch.tensor(c),
                                              torch.tensor(o), torch.tensor(neg_groups))
    ref_loss, ref_in, ref_out = w2v.sgns_batch_loss_and_grads(W_in, W_out, c, o, np.repeat(neg_groups, G, axis=0))
    np.testing.assert_allclose(loss.item(), ref_loss, rtol=1e-10)
    np.testing.assert_allclose(_dense(V, d, torch.tensor(c), dv), ref_in, atol=1e-10)
    dW_out = _dense(V, d, torch.tensor(o), du) + _dense(V, d, torch.tensor(neg_groups.reshape(-1)), dneg)
    np.testing.assert_allclose(dW_out, ref_out, atol=1e-10)


def test_cbow_torch_matches_numpy():
    rng = np.random.default_rng(4)
    V, d, B, K = 9, 4, 6, 3
    W_in, W_out = rng.normal(size=(V, d)), rng.normal(size=(V, d))
    contexts = np.array([[1, 2, -1, -1], [3, -1, -1, -1], [4, 5, 6, 7], [0, 8, 1, -1], [2, 2, -1, -1], [5, -1, 6, -1]])
    centres = rng.integers(0, V, B)
    negs = rng.integers(0, V, (B, K))
    negs[negs == centres[:, None]] = (centres[:, None].repeat(K, 1)[negs == centres[:, None]] + 1) % V
    loss, dV, du, dneg = w2v.cbow_grads_torch(*(torch.tensor(a) for a in (W_in, W_out, contexts, centres, negs)))
    ref_in, ref_out, ref_loss = np.zeros((V, d)), np.zeros((V, d)), 0.0
    for b in range(B):
        ctx = contexts[b][contexts[b] >= 0]
        l, g_ctx, g_c, g_neg = w2v.cbow_loss_and_grads(W_in[ctx], W_out[centres[b]], W_out[negs[b]])
        ref_loss += l
        np.add.at(ref_in, ctx, g_ctx)
        ref_out[centres[b]] += g_c
        np.add.at(ref_out, negs[b], g_neg)
    rows = torch.tensor(contexts[contexts >= 0])
    np.testing.assert_allclose(loss.item(), ref_loss, rtol=1e-10)
    np.testing.assert_allclose(_dense(V, d, rows, dV), ref_in, atol=1e-10)
    dW_out = _dense(V, d, torch.tensor(centres), du) + _dense(V, d, torch.tensor(negs.reshape(-1)), dneg)
    np.testing.assert_allclose(dW_out, ref_out, atol=1e-10)
    # word2vec.c's update gives every context row the whole ∂J/∂h: n times the exact gradient
    _, dV_w2v, _, _ = w2v.cbow_grads_torch(*(torch.tensor(a) for a in (W_in, W_out, contexts, centres, negs)),
                                           exact=False)
    n = np.repeat((contexts >= 0).sum(1), (contexts >= 0).sum(1))
    np.testing.assert_allclose(dV_w2v.numpy(), dV.numpy() * n[:, None], rtol=1e-12)


def test_groups_must_divide_the_batch():
    z = torch.zeros(5, 2)
    with pytest.raises(ValueError, match="multiple of groups"):
        w2v.sgns_grads_torch(z, z, torch.zeros(6, dtype=torch.long), torch.zeros(6, dtype=torch.long),
                             torch.zeros(4, 2, dtype=torch.long))


# --------------------------------------------------------------------------
# 4. Sampling, epochs and the trainer
# --------------------------------------------------------------------------

def test_keep_probabilities_and_noise():
    counts = np.array([1000, 100, 10, 1])
    t = 1e-2
    f = counts / counts.sum()
    np.testing.assert_allclose(w2v.keep_probabilities(counts, t), np.minimum(1, np.sqrt(t / f) + t / f))
    assert w2v.keep_probabilities(counts, 0).tolist() == [1, 1, 1, 1]
    p = w2v.noise_distribution(counts)
    np.testing.assert_allclose(p.sum(), 1.0)
    np.testing.assert_allclose(p[0] / p[1], 10 ** 0.75)


def test_epoch_pairs_with_window_one_are_the_plain_pairs():
    sents = [list("abcab"), list("ca"), list("bbac")]
    vocab = Vocab(list("abc"))
    ids, sent = corpus_ids(sents, vocab)
    keep = np.ones(3)
    c, o, kept = w2v.epoch_skipgram_pairs(ids, sent, keep, 1, np.random.default_rng(0))
    expected = Counter(p for s in sents for p in w2v.skipgram_pairs(vocab.encode(s).tolist(), 1))
    assert Counter(zip(c.tolist(), o.tolist())) == expected and kept == 11
    centres, contexts, _ = w2v.epoch_cbow_examples(ids, sent, keep, 1, np.random.default_rng(0))
    got = Counter((int(a), tuple(sorted(x for x in row if x >= 0))) for a, row in zip(centres, contexts))
    want = Counter((ctr, tuple(sorted(ctx)))
                   for s in sents for ctx, ctr in w2v.cbow_examples(vocab.encode(s).tolist(), 1))
    assert got == want


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 4))
def test_epoch_pairs_stay_inside_sentences_and_windows(seed, window):
    rng = np.random.default_rng(seed)
    sents = [list(rng.choice(list("abcdef"), size=rng.integers(1, 9))) for _ in range(4)]
    vocab = Vocab(list("abcdef"))
    ids, sent = corpus_ids(sents, vocab)
    c, o, _ = w2v.epoch_skipgram_pairs(ids, sent, np.ones(6), window, rng)     # keep every token
    allowed = Counter(p for s in sents for p in w2v.skipgram_pairs(vocab.encode(s).tolist(), window))
    got = Counter(zip(c.tolist(), o.tolist()))
    assert all(allowed[p] >= n for p, n in got.items())
    # subsampling removes tokens first, so pairs may span more than `window` original positions,
    # but never two sentences
    c, o, _ = w2v.epoch_skipgram_pairs(ids, sent, np.full(6, 0.6), window, rng)
    same_sentence = {p for s in sents for p in w2v.skipgram_pairs(vocab.encode(s).tolist(), 10)}
    assert set(zip(c.tolist(), o.tolist())) <= same_sentence


def toy_corpus(n=600, seed=0):
    """Two topics that never mix: animal words and vehicle words, each with its own filler words."""
    rng = np.random.default_rng(seed)
    topics = [["cat", "dog", "horse", "cow", "sheep", "eats", "runs"],
              ["car", "bus", "truck", "train", "bike", "drives", "stops"]]
    return [list(rng.choice(topics[i % 2], size=8)) for i in range(n)]


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_trainer_learns_the_two_topics_deterministically(model):
    sents = toy_corpus()
    kw = dict(model=model, dim=10, window=2, negative=3, epochs=3, alpha=0.05, sample=0, min_count=1,
              batch_size=256, group_size=4, seed=1, progress=False, device="cpu")
    r = w2v.train_word2vec(sents, **kw)
    assert r["history"][-1] < r["history"][0]
    E = r["W_in"] / np.linalg.norm(r["W_in"], axis=1, keepdims=True)
    v = r["vocab"]
    within = E[v["cat"]] @ E[v["dog"]], E[v["car"]] @ E[v["bus"]]
    across = E[v["cat"]] @ E[v["car"]], E[v["dog"]] @ E[v["truck"]]
    assert min(within) > max(across) + 0.3
    again = w2v.train_word2vec(sents, **kw)
    np.testing.assert_array_equal(r["W_in"], again["W_in"])
    assert r["tokens"] == 4800 and r["words_per_second"] > 0


def test_trainer_argument_errors():
    with pytest.raises(ValueError, match="model"):
        w2v.train_word2vec([["a"]], model="glove")
    with pytest.raises(ValueError, match="multiple of group_size"):
        w2v.train_word2vec([["a"]], batch_size=10, group_size=4)


def _one_sentence_of_distinct_words(N):
    """Token i is word i: a pair's distance is |centre − context|."""
    return np.arange(N, dtype=np.int64), np.zeros(N, dtype=np.int64)


def test_dynamic_window_draws_nearer_contexts_more_often():
    """word2vec's dynamic window: each centre draws b ~ Uniform{1..W} and uses the 2b words within b.

    Two laws follow, checked on one sentence of N distinct words (so a pair's distance is |c − o|):
    every centre's contexts are exactly the positions i ± 1..b (a symmetric, gap-free window, so b can
    be read off), with b uniform on 1..W; and the pairs at distance d number 2 (N − d) (W − d + 1) / W
    in expectation.  Tolerances are 5 standard deviations of the counts (fixed seed)."""
    N, W = 20000, 5
    ids, sentence = _one_sentence_of_distinct_words(N)
    c, o, kept = w2v.epoch_skipgram_pairs(ids, sentence, np.ones(N), W, np.random.default_rng(0))
    assert kept == N
    offset = o - c
    order = np.lexsort((offset, c))
    c, offset = c[order], offset[order]
    starts = np.searchsorted(c, np.arange(N))
    ends = np.searchsorted(c, np.arange(N), side="right")
    b = np.empty(N, dtype=np.int64)
    for i in range(W, N - W):                               # interior centres: no sentence end in reach
        got = offset[starts[i]:ends[i]]
        b[i] = got.max()
        assert got.tolist() == [*range(-b[i], 0), *range(1, b[i] + 1)], f"centre {i}: offsets {got.tolist()}"
    interior = N - 2 * W
    by_b = np.bincount(b[W:N - W], minlength=W + 1)[1:]
    sd = np.sqrt(interior * (1 / W) * (1 - 1 / W))
    assert np.all(np.abs(by_b - interior / W) < 5 * sd), by_b
    distance = np.bincount(np.abs(offset), minlength=W + 1)[1:]
    d = np.arange(1, W + 1)
    p = (W - d + 1) / W                                     # P(b ≥ d)
    expected = 2 * (N - d) * p
    sd = np.sqrt(4 * N * p * (1 - p))                       # left and right pairs of a centre share its b
    assert np.all(np.abs(distance - expected) <= 5 * sd + 1e-9), (distance, expected)
    assert distance[0] == 2 * (N - 1)                       # the nearest words are always used


def test_cbow_dynamic_window_follows_the_same_law():
    N, W = 20000, 4
    ids, sentence = _one_sentence_of_distinct_words(N)
    centres, contexts, _ = w2v.epoch_cbow_examples(ids, sentence, np.ones(N), W, np.random.default_rng(1))
    inner = (centres >= W) & (centres < N - W)
    offsets = np.where(contexts >= 0, contexts - centres[:, None], 0)[inner]      # (P, 2W), 0 = no word
    b = np.abs(offsets).max(axis=1)
    window = np.arange(-W, W + 1)
    window = window[window != 0]
    want = np.where(np.abs(window)[None, :] <= b[:, None], window[None, :], 0)     # i − b .. i + b, gap-free
    np.testing.assert_array_equal(np.sort(offsets, axis=1), np.sort(want, axis=1))
    n = int(inner.sum())
    by_b = np.bincount(b, minlength=W + 1)[1:]
    assert n == N - 2 * W and np.all(np.abs(by_b - n / W) < 5 * np.sqrt(n * (1 / W) * (1 - 1 / W))), by_b
