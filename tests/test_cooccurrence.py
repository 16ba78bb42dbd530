"""Tests for course_lib.cooccurrence.

1. The slides' co-occurrence table (window 1) comes out exactly, in the slides' row order.
2. Window counts against a plain double loop (the oracle), on random corpora (hypothesis).
3. PPMI against its formula entry by entry; sparse and dense agree.
4. randomized_svd against numpy's exact SVD; LSA's word-document matrix; the "issues" in numbers.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib import cooccurrence as co
from course_lib import text
from course_lib.text import Vocab


def test_slide_table_exactly():
    sents = text.sentences(co.SLIDE_CORPUS)
    M, vocab = co.window_cooccurrence(sents, window=1, vocab=co.SLIDE_ORDER)
    assert vocab.itos == ["I", "love", "enjoy", "AI", "deep", "learning"]
    assert M.dtype == np.int64
    np.testing.assert_array_equal(M, co.SLIDE_TABLE)


def test_slide_table_in_order_of_first_appearance_is_the_same_table():
    sents = text.sentences(co.SLIDE_CORPUS)
    M, vocab = co.window_cooccurrence(sents, window=1)
    assert vocab.itos == ["I", "love", "AI", "deep", "learning", "enjoy"]   # not the slides' order
    perm = [co.SLIDE_ORDER.index(w) for w in vocab.itos]
    np.testing.assert_array_equal(M, co.SLIDE_TABLE[np.ix_(perm, perm)])
    Ms, _ = co.window_cooccurrence(sents, window=1, sparse=True)
    assert sp.issparse(Ms)
    np.testing.assert_array_equal(Ms.toarray(), M)


def test_no_counting_across_sentence_ends():
    # "AI" ends sentence 1 and "I" starts sentence 2: with window 3 they meet only inside sentence 1
    sents = text.sentences(co.SLIDE_CORPUS)
    M, v = co.window_cooccurrence(sents, window=3)
    assert M[v["AI"], v["I"]] == 1
    assert M[v["learning"], v["I"]] == 2            # distance 3 in sentence 2, distance 2 in sentence 3
    M1, _ = co.window_cooccurrence([["a", "b"], ["c", "d"]], window=5)
    assert M1[1, 2] == 0 and M1[0, 1] == 1


def test_unknown_tokens_are_removed_before_windowing():
    M, v = co.window_cooccurrence([["a", "x", "b"]], window=1, vocab=["a", "b"])
    np.testing.assert_array_equal(M, [[0, 1], [1, 0]])


def loop_cooccurrence(sents, window, vocab, harmonic=False):
    """The oracle: for every token, look left and right, one position at a time."""
    M = np.zeros((len(vocab), len(vocab)))
    for s in sents:
        s = [w for w in s if w in vocab]
        for i, w in enumerate(s):
            for j in range(max(0, i - window), min(len(s), i + window + 1)):
                if j != i:
                    M[vocab[w], vocab[s[j]]] += 1.0 / abs(i - j) if harmonic else 1.0
    return M


corpora = st.lists(st.lists(st.sampled_from(list("abcdefg")), min_size=0, max_size=9), min_size=1, max_size=5)


@settings(max_examples=25, deadline=None)
@given(corpora, st.integers(1, 4), st.booleans())
def test_window_counts_match_a_double_loop(sents, window, harmonic):
    weighting = "harmonic" if harmonic else "count"
    vocab = Vocab(list("abcdefg"))
    M, _ = co.window_cooccurrence(sents, window=window, vocab=vocab, weighting=weighting)
    expected = loop_cooccurrence(sents, window, vocab, harmonic)
    np.testing.assert_allclose(M, expected)
    np.testing.assert_allclose(M, M.T)
    Ms, _ = co.window_cooccurrence(sents, window=window, vocab=vocab, weighting=weighting, sparse=True)
    np.testing.assert_allclose(Ms.toarray(), expected)


def test_window_errors():
    with pytest.raises(ValueError, match="positive integer"):
        co.window_cooccurrence([["a"]], window=0)
    with pytest.raises(ValueError, match="weighting"):
        co.window_cooccurrence([["a"]], weighting="gaussian")


def ppmi_oracle(M, alpha=1.0):
    M = np.asarray(M, dtype=float)
    total = M.sum()
    col = M.sum(0) ** alpha
    out = np.zeros_like(M)
    for i in range(M.shape[0]):
        for j in range(M.shape[1]):
            if M[i, j] > 0:
                p_ij = M[i, j] / total
                out[i, j] = max(0.0, np.log(p_ij / (M[i].sum() / total * col[j] / col.sum())))
    return out


def test_ppmi_of_the_slide_table():
    P = co.ppmi(co.SLIDE_TABLE)
    np.testing.assert_allclose(P, ppmi_oracle(co.SLIDE_TABLE))
    # I-love: P(I, love) = 2/14, P(I) = 3/14, P(love) = 4/14 (14 counts in all) -> log(2 * 14 / 12)
    np.testing.assert_allclose(P[0, 1], np.log(7 / 3))


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31), st.sampled_from([1.0, 0.75]))
def test_ppmi_formula_sparse_and_dense(seed, alpha):
    rng = np.random.default_rng(seed)
    M = rng.poisson(0.7, size=(6, 6)) * (rng.random((6, 6)) < 0.6)
    M[0, 0] += 1
    expected = ppmi_oracle(M, alpha)
    np.testing.assert_allclose(co.ppmi(M, alpha), expected, atol=1e-12)
    np.testing.assert_allclose(co.ppmi(sp.csr_matrix(M), alpha).toarray(), expected, atol=1e-12)


def test_ppmi_errors():
    with pytest.raises(ValueError, match="no positive counts"):
        co.ppmi(np.zeros((2, 2)))


@pytest.mark.parametrize("sparse_input", [False, True])
def test_randomized_svd_matches_numpy(sparse_input):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((60, 8)) @ rng.standard_normal((8, 40)) + 1e-3 * rng.standard_normal((60, 40))
    U, S, Vt = co.randomized_svd(sp.csr_matrix(A) if sparse_input else A, k=5, seed=1)
    U0, S0, Vt0 = np.linalg.svd(A, full_matrices=False)
    np.testing.assert_allclose(S, S0[:5], rtol=1e-8)
    np.testing.assert_allclose(np.abs(U.T @ U0[:, :5]), np.eye(5), atol=1e-6)   # same vectors up to sign
    np.testing.assert_allclose(U * S @ Vt, (U0[:, :5] * S0[:5]) @ Vt0[:5], atol=1e-8)
    with pytest.raises(ValueError, match="k <= min"):
        co.randomized_svd(A, k=41)


def test_svd_embeddings_exact_and_randomized_agree():
    P = co.ppmi(co.SLIDE_TABLE)
    exact = co.svd_embeddings(P, k=2, exact=True)
    approx = co.svd_embeddings(P, k=2, seed=3)
    # equal up to the sign of each column
    np.testing.assert_allclose(np.abs(exact), np.abs(approx), atol=1e-8)
    G_exact, G_approx = exact @ exact.T, approx @ approx.T
    np.testing.assert_allclose(G_exact, G_approx, atol=1e-8)


def test_word_document_matrix_and_tfidf():
    docs = [["a", "b", "a"], ["b", "c"], ["a"]]
    A, v = co.word_document_matrix(docs)
    assert v.itos == ["a", "b", "c"]
    np.testing.assert_array_equal(A, [[2, 0, 1], [1, 1, 0], [0, 1, 0]])
    T = co.tfidf(A)
    np.testing.assert_allclose(T[:, 0], [2 * np.log(3 / 2), np.log(3 / 2), 0.0])
    np.testing.assert_allclose(co.tfidf(sp.csr_matrix(A)).toarray(), T)
    As, _ = co.word_document_matrix(docs, sparse=True)
    np.testing.assert_array_equal(As.toarray(), A)


def test_matrix_stats_of_the_slide_table():
    stats = co.matrix_stats(co.SLIDE_TABLE)
    assert stats["shape"] == (6, 6) and stats["entries"] == 36 and stats["nonzeros"] == 12
    assert stats["density"] == pytest.approx(1 / 3)
    rng = np.random.default_rng(0)
    big = sp.csr_matrix((np.ones(100_000), (rng.integers(0, 10_000, 100_000), rng.integers(0, 10_000, 100_000))),
                        shape=(10_000, 10_000))
    s = co.matrix_stats(big)
    assert s["dense_mib"] == pytest.approx(381.47, abs=0.01) and s["sparse_mib"] < 1.0


# --- CS224n's table and its conventions ("." as a word; windows inside a sentence) ---

def cs224n_sentences(period=True):
    sents = text.sentences(co.CS224N_CORPUS)             # punctuation dropped
    return [s + ["."] for s in sents] if period else sents


def test_cs224n_table_counts_the_period_and_stops_at_sentence_ends():
    M, vocab = co.window_cooccurrence(cs224n_sentences(), window=1, vocab=co.CS224N_ORDER)
    np.testing.assert_array_equal(M, co.CS224N_TABLE)
    assert M[vocab["I"], vocab["like"]] == 2 and M[vocab["."], vocab["I"]] == 0


def test_cs224n_table_with_windows_across_sentences_differs_only_at_period_I():
    stream = [[w for s in cs224n_sentences() for w in s]]   # one stream: ". I" occurs twice
    M, vocab = co.window_cooccurrence(stream, window=1, vocab=co.CS224N_ORDER)
    expected = co.CS224N_TABLE.copy()
    expected[vocab["."], vocab["I"]] = expected[vocab["I"], vocab["."]] = 2
    np.testing.assert_array_equal(M, expected)


def test_cs224n_table_without_the_period_keeps_the_word_block():
    M, _ = co.window_cooccurrence(cs224n_sentences(period=False), window=1, vocab=co.CS224N_ORDER)
    np.testing.assert_array_equal(M[:7, :7], co.CS224N_TABLE[:7, :7])
    assert not M[7].any() and not M[:, 7].any()


# --- GloVe's ratios of co-occurrence probabilities ---

def test_probability_ratios_on_the_cs224n_table_by_hand():
    vocab = Vocab(co.CS224N_ORDER)
    # row "like": I 2, deep 1, NLP 1 (sum 4); row "enjoy": I 1, flying 1 (sum 2)
    P_i, P_j, ratio = co.probability_ratios(co.CS224N_TABLE, vocab, "like", "enjoy", ["I", "deep", "flying", "."])
    np.testing.assert_allclose(P_i, [2 / 4, 1 / 4, 0, 0])
    np.testing.assert_allclose(P_j, [1 / 2, 0, 1 / 2, 0])
    np.testing.assert_allclose(ratio[:3], [1.0, np.inf, 0.0])
    assert np.isnan(ratio[3])
    _, _, sparse_ratio = co.probability_ratios(sp.csr_matrix(co.CS224N_TABLE), vocab, "like", "enjoy",
                                               ["I", "deep", "flying", "."])
    np.testing.assert_array_equal(sparse_ratio, ratio)


def test_probability_ratios_normalise_rows_not_columns():
    # an asymmetric matrix: row "a" = [0, 1, 3] (sum 4), row "b" = [2, 0, 2] (sum 4), column sums differ
    X = np.array([[0, 1, 3], [2, 0, 2], [6, 6, 0]])
    P_a, P_b, ratio = co.probability_ratios(sp.coo_matrix(X), Vocab(["a", "b", "c"]), "a", "b", ["c", "a"])
    np.testing.assert_allclose(P_a, [3 / 4, 0])
    np.testing.assert_allclose(P_b, [2 / 4, 2 / 4])
    np.testing.assert_allclose(ratio, [1.5, 0.0])


def test_probability_ratios_errors():
    vocab = Vocab(co.CS224N_ORDER)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        co.probability_ratios(co.CS224N_TABLE, vocab, "like", "steam", ["I"])
    with pytest.raises(ValueError, match="co-occurs with no word"):
        co.probability_ratios(np.zeros((8, 8)), vocab, "like", "enjoy", ["I"])
    with pytest.raises(ValueError, match="square"):
        co.probability_ratios(np.zeros((7, 7)), vocab, "like", "enjoy", ["I"])
