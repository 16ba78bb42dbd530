"""Tests for course_lib.evaluate: cosine, Spearman (against scipy), the data sets (the slides'
human-judged table checked against WordSim-353), neighbours, 3CosAdd analogies and the 2-D projection."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib import evaluate as ev
from course_lib.text import Vocab


def test_slide_human_scores_are_wordsim353():
    ws = {(a, b): s for a, b, s in ev.load_wordsim353()}
    for a, b, s in ev.SLIDE_HUMAN_SCORES:
        assert ws[(a, b)] == s, (a, b, s, ws[(a, b)])


def test_data_set_sizes():
    assert len(ev.load_wordsim353()) == 353
    assert len(ev.load_simlex999()) == 999
    questions = ev.load_analogies()
    assert len(questions) == 19544
    assert len({q[0] for q in questions}) == 14
    assert questions[0] == ("capital-common-countries", "athens", "greece", "baghdad", "iraq")
    assert len(ev.load_analogies(["family"])) == 506


def test_cosine_similarity():
    assert ev.cosine_similarity([1, 0], [0, 3]) == 0.0          # one-hot-like vectors: orthogonal
    assert ev.cosine_similarity([1, 2], [2, 4]) == pytest.approx(1.0)
    assert ev.cosine_similarity([1, 2], [0, 0]) == 0.0
    with pytest.raises(ValueError, match="equal shape"):
        ev.cosine_similarity([1, 2], [1, 2, 3])


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31), st.integers(2, 40), st.integers(1, 6))
def test_spearman_matches_scipy_with_ties(seed, n, levels):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, levels + 1, n).astype(float)        # few levels: many ties
    y = x + rng.normal(size=n) * rng.uniform(0, 3)
    np.testing.assert_allclose(ev.rankdata(x), scipy.stats.rankdata(x))
    got = ev.spearman(x, y)
    if np.ptp(x) == 0:                                   # constant scores: ρ is undefined
        assert np.isnan(got)
        return
    expected = scipy.stats.spearmanr(x, y).statistic
    if np.isnan(expected):
        assert np.isnan(got)
    else:
        np.testing.assert_allclose(got, expected, atol=1e-12)


def test_spearman_is_invariant_to_monotone_maps():
    x = np.array([0.3, 1.2, -0.4, 2.2, 0.9])
    assert ev.spearman(x, np.exp(3 * x)) == pytest.approx(1.0)
    assert ev.spearman(x, -x ** 3) == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="equal length"):
        ev.spearman([1.0], [2.0])


def toy_embeddings():
    words = ["man", "woman", "king", "queen", "boy", "girl", "prince", "princess", "apple"]
    male, female, royal, young = np.eye(4)
    vecs = {"man": male, "woman": female, "king": male + 2 * royal, "queen": female + 2 * royal,
            "boy": male + young, "girl": female + young, "prince": male + 2 * royal + young,
            "princess": female + 2 * royal + young, "apple": np.array([0.1, 0.1, -1.0, -1.0])}
    return np.stack([vecs[w] for w in words]), Vocab(words)


def test_nearest_neighbours_and_analogies():
    E, v = toy_embeddings()
    nn = ev.nearest_neighbours(E, v, "king", k=2)
    assert [w for w, _ in nn] == ["prince", "queen"] and nn[0][1] == pytest.approx(5 / np.sqrt(30))
    qs = [("family", "man", "king", "woman", "queen"), ("family", "boy", "girl", "prince", "princess"),
          ("family", "man", "woman", "king", "queen"), ("family", "man", "king", "robot", "queen")]
    res = ev.analogy_accuracy(E, v, qs)
    assert res["accuracy"] == 1.0 and res["n"] == 3 and res["total"] == 4
    assert res["by_section"] == {"family": (3, 3)}
    assert res["examples"][0] == ("man", "king", "woman", "queen", "queen")


def test_evaluate_similarity_coverage_and_value():
    E, v = toy_embeddings()
    pairs = [("king", "queen", 8.0), ("king", "prince", 9.0), ("man", "apple", 1.0), ("king", "robot", 5.0)]
    res = ev.evaluate_similarity(E, v, pairs)
    assert res["n"] == 3 and res["total"] == 4 and res["missing"] == [("king", "robot", 5.0)]
    cos = [ev.cosine_similarity(E[v[a]], E[v[b]]) for a, b, _ in pairs[:3]]
    np.testing.assert_allclose(res["model"], cos)
    assert res["spearman"] == pytest.approx(scipy.stats.spearmanr([8, 9, 1], cos).statistic)
    assert ev.pairs_in_vocab(pairs, v, Vocab(["king", "queen"])) == [("king", "queen", 8.0)]


def test_project_2d_is_pca():
    rng = np.random.default_rng(0)
    E = rng.normal(size=(30, 5)) * [5, 3, 1, 0.5, 0.1]
    P = ev.project_2d(E)
    assert P.shape == (30, 2)
    np.testing.assert_allclose(P.mean(0), 0, atol=1e-12)
    eig = np.linalg.eigvalsh(np.cov(E.T))[::-1]
    np.testing.assert_allclose(P.var(0, ddof=1), eig[:2], rtol=1e-10)


def brute_force_3cosadd(E, vocab, a, b, c):
    """argmax over every word but a, b, c of cos(w, b̂ − â + ĉ), one word at a time with cosine_similarity."""
    unit = {w: E[vocab[w]] / np.linalg.norm(E[vocab[w]]) for w in vocab.itos}
    target = unit[b] - unit[a] + unit[c]
    scores = {w: ev.cosine_similarity(E[vocab[w]], target) for w in vocab.itos if w not in (a, b, c)}
    return max(scores, key=scores.get)


def test_analogy_answers_never_include_the_query_words():
    """3CosAdd without the exclusion mostly answers b or c (b̂ − â + ĉ is close to both), and a when b and
    c are both near a.  Random 3-d vectors give questions of each kind; every answer must be the
    brute-force argmax over the other words."""
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(12)]
    E, v = rng.normal(size=(12, 3)), Vocab(words)
    E_n = E / np.linalg.norm(E, axis=1, keepdims=True)
    questions, winner_was = [], set()
    for a, b, c in (tuple(rng.choice(12, 3, replace=False)) for _ in range(3000)):
        unrestricted = int(np.argmax(E_n @ (E_n[b] - E_n[a] + E_n[c])))
        which = {a: "a", b: "b", c: "c"}.get(unrestricted)
        if (which is not None and which not in winner_was) or len(questions) < 40:
            winner_was.add(which)
            d = brute_force_3cosadd(E, v, words[a], words[b], words[c])
            questions.append(("toy", words[a], words[b], words[c], d))
    assert winner_was >= {"a", "b", "c"}          # each query word would have won somewhere
    res = ev.analogy_accuracy(E, v, questions, batch_size=7)
    assert res["n"] == len(questions) and res["accuracy"] == 1.0, res["examples"]
    for q in questions:                            # the query words themselves are never the answer
        for word in q[1:4]:
            assert ev.analogy_accuracy(E, v, [q[:4] + (word,)])["accuracy"] == 0.0
