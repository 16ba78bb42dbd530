"""Tests for course_lib.ngram.

1. The seeds' examples: "I like deep learning" (unigram, 1/4 each) and "The dog ran" / "The cat jumped"
   (MLE P(jumped | dog) = 0; every smoothing gives a small positive number — each computed by hand here,
   and none of them is the 0.0001 the seed prints).
2. Agreement with nltk.lm (MLE, Laplace, Lidstone, StupidBackoff, KneserNeyInterpolated) to 1e-9 relative
   on random corpora, orders and cutoffs: every probability and the perplexity.
3. Kneser–Ney: ours against an independent dictionary implementation of Chen & Goodman's formula; where
   NLTK differs (its P(· | <s> <s>) sums to 1 + D²/S; unknown words get 0) checked on NLTK itself.
4. Properties: distributions sum to 1, perplexity falls from unigram to trigram on the training text,
   counts equal a Counter of everygrams, the vocabulary and the split, generation, errors.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nltk.lm import MLE, KneserNeyInterpolated, Laplace, Lidstone, StupidBackoff
from nltk.lm import Vocabulary as NltkVocabulary
from nltk.lm.preprocessing import padded_everygram_pipeline
from nltk.lm.preprocessing import pad_both_ends as nltk_pad_both_ends
from nltk.util import everygrams, ngrams

from course_lib import ngram
from course_lib.checks import assert_close
from course_lib.ngram import BOS, EOS, UNK, NGramLM, Vocabulary

SEED_DOG_CAT = [["The", "dog", "ran"], ["The", "cat", "jumped"]]


def random_corpus(rng, n_sentences: int, n_words: int, max_len: int = 7) -> list[list[str]]:
    """Zipf-distributed words w0, w1, ... in sentences of 1..max_len tokens."""
    words = [f"w{i}" for i in range(n_words)]
    return [[words[j % n_words] for j in rng.zipf(1.6, size=rng.integers(1, max_len + 1))]
            for _ in range(n_sentences)]


def nltk_model(cls, order, train, cutoff=1, **kwargs):
    lm = cls(order=order, vocabulary=NltkVocabulary(unk_cutoff=cutoff), **kwargs)
    grams, vocab_text = padded_everygram_pipeline(order, train)
    lm.fit(grams, vocab_text)
    return lm


def assert_rel(name, ours, theirs, rtol=1e-9):
    """Equal to ``rtol`` relative; zero and infinity must match exactly."""
    if theirs == 0 or math.isinf(theirs):
        assert ours == theirs, f"{name}: expected {theirs}, yours {ours}"
    else:
        assert abs(ours - theirs) <= rtol * abs(theirs), f"{name}: expected {theirs!r}, yours {ours!r}"


# --------------------------------------------------------------------------
# 1. The seeds' examples
# --------------------------------------------------------------------------

def test_seed_unigram_i_like_deep_learning():
    sentence = [["I", "like", "deep", "learning"]]
    nltk_style = NGramLM(1, "mle", nltk_padding=True).fit(sentence)
    for word in sentence[0]:
        assert nltk_style.prob(word) == 0.25
        assert nltk_model(MLE, 1, sentence).score(word) == 0.25
    # Our default also predicts the end of the sentence: five tokens, 1/5 each.
    ours = NGramLM(1, "mle").fit(sentence)
    for word in sentence[0] + [EOS]:
        assert ours.prob(word) == 0.2


def test_seed_dog_cat_mle_is_zero_and_every_smoothing_is_small_and_positive():
    # Padded bigram text: <s> The dog ran </s>, <s> The cat jumped </s>; V = 7 tokens + <UNK> = 8;
    # c(dog •) = 1, c(dog jumped) = 0, 10 tokens in all, 7 distinct bigrams, "jumped" follows 1 word.
    V, D = 8, 0.75
    expected = [
        ("mle", {}, 0.0),
        ("laplace", {}, 1 / 9),                                          # (0 + 1) / (1 + 8)
        ("lidstone", {"k": 0.1}, 0.1 / 1.8),                             # (0 + k) / (1 + 8k)
        ("interpolation", {"lambdas": [0.1, 0.3, 0.6]}, 0.1 / V + 0.3 * 1 / 10 + 0.6 * 0),
        ("kneser-ney-nltk", {"discount": D}, D * 1 / 7),                  # γ(dog) · N1+(• jumped) / N1+(• •)
        # ours: γ(dog) · [max(1 − D, 0)/7 + D · 6/7 · 1/V]; six words have a continuation
        ("kneser-ney", {"discount": D}, D * ((1 - D) / 7 + D * 6 / 7 / V)),
        ("stupid-backoff", {"alpha": 0.4}, 0.4 * 1 / 10),                 # a score, not a probability
    ]
    for smoothing, kwargs, value in expected:
        lm = NGramLM(2, smoothing, **kwargs).fit(SEED_DOG_CAT)
        assert len(lm.vocab) == V
        assert_close(f"P(jumped | dog), {smoothing}", lm.prob("jumped", ["dog"]), value, atol=1e-15, rtol=1e-12)
        assert_close(f"P(ran | cat), {smoothing}", lm.prob("ran", ["cat"]), value, atol=1e-15, rtol=1e-12)
        if smoothing != "mle":
            assert 0 < value < 0.12
            assert abs(value - 0.0001) > 0.03    # the seed's "0.0001" is none of them
    # Lidstone reaches the seed's 0.0001 only with k ≈ 0.0001: (0 + k) / (1 + 8k)
    assert_close("Lidstone k = 1e-4", NGramLM(2, "lidstone", k=1e-4).fit(SEED_DOG_CAT).prob("jumped", ["dog"]),
                 1e-4 / (1 + 8e-4), rtol=1e-12)


def test_seed_dog_cat_agrees_with_nltk():
    for cls, smoothing, kw, ours in [(MLE, "mle", {}, {}), (Laplace, "laplace", {}, {}),
                                     (KneserNeyInterpolated, "kneser-ney-nltk", {"discount": 0.75}, {"discount": 0.75})]:
        lm = nltk_model(cls, 2, SEED_DOG_CAT, **kw)
        assert_rel(smoothing, NGramLM(2, smoothing, **ours).fit(SEED_DOG_CAT).prob("jumped", ["dog"]),
                   lm.score("jumped", ["dog"]))


# --------------------------------------------------------------------------
# 2. Agreement with nltk.lm
# --------------------------------------------------------------------------

NLTK_CASES = {
    "mle": (MLE, {}),
    "laplace": (Laplace, {}),
    "lidstone": (Lidstone, "gamma"),
    "stupid-backoff": (StupidBackoff, "alpha"),
    "kneser-ney-nltk": (KneserNeyInterpolated, "discount"),
}


def _compare_with_nltk(smoothing, order, cutoff, param, seed):
    rng = np.random.default_rng(seed)
    train = random_corpus(rng, 25, 12)
    test = random_corpus(rng, 6, 16)                  # words w12..w15 are unknown
    cls, pname = NLTK_CASES[smoothing]
    nltk_kw = {} if not pname else {pname: param}
    ours_kw = {"lidstone": {"k": param}, "stupid-backoff": {"alpha": param},
               "kneser-ney-nltk": {"discount": param}}.get(smoothing, {})
    theirs = nltk_model(cls, order, train, cutoff, **nltk_kw)
    ours = NGramLM(order, smoothing, unk_cutoff=cutoff, nltk_padding=True, **ours_kw).fit(train)
    assert len(ours.vocab) == len(theirs.vocab)
    grams = [g for s in test + train[:3] for g in ngrams(nltk_pad_both_ends(s, order), order)]
    for g in grams:
        for L in range(order):                           # the full context and every shorter one
            context = g[order - 1 - L:order - 1]
            assert_rel(f"{smoothing} P({g[-1]} | {context})", ours.prob(g[-1], context), theirs.score(g[-1], context))
    if smoothing != "stupid-backoff":
        assert_rel(f"{smoothing} perplexity", ours.perplexity(test), theirs.perplexity(grams[:0] + [
            g for s in test for g in ngrams(nltk_pad_both_ends(s, order), order)]))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), order=st.integers(1, 4), cutoff=st.integers(1, 2),
       smoothing=st.sampled_from(["mle", "laplace", "lidstone"]), k=st.floats(0.01, 2.0))
def test_agrees_with_nltk_mle_laplace_lidstone(seed, order, cutoff, smoothing, k):
    _compare_with_nltk(smoothing, order, cutoff, k, seed)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10**6), order=st.integers(1, 4), alpha=st.floats(0.1, 0.9))
def test_agrees_with_nltk_stupid_backoff(seed, order, alpha):
    _compare_with_nltk("stupid-backoff", order, 1, alpha, seed)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10**6), order=st.integers(2, 4), discount=st.floats(0.05, 1.0))
def test_agrees_with_nltk_kneser_ney(seed, order, discount):
    _compare_with_nltk("kneser-ney-nltk", order, 1, discount, seed)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_default_padding_scores_each_word_and_one_end_marker(order):
    """Default perplexity = NLTK's perplexity on the n-grams that end at a word or at the first </s>;
    for the unigram model NLTK has to be trained on sentences with </s> appended to match."""
    rng = np.random.default_rng(order)
    train, test = random_corpus(rng, 30, 10), random_corpus(rng, 8, 10)
    ours = NGramLM(order, "laplace").fit(train)
    if order == 1:
        theirs = nltk_model(Laplace, 1, [s + [EOS] for s in train])
        grams = [(w,) for s in test for w in s + [EOS]]
    else:
        theirs = nltk_model(Laplace, order, train)
        grams = [g for s in test for g in list(ngrams(nltk_pad_both_ends(s, order), order))[:len(s) + 1]]
    assert len(grams) == sum(len(s) + 1 for s in test) == len(ours.logprobs(test))
    assert_rel("perplexity", ours.perplexity(test), theirs.perplexity(grams))
    # With NLTK's own padding a trigram scores one more (nearly free) </s> per sentence.
    nltk_style = NGramLM(order, "laplace", nltk_padding=True).fit(train)
    assert len(nltk_style.logprobs(test)) == sum(len(s) + max(order - 1, 0) for s in test)


# --------------------------------------------------------------------------
# 3. Kneser–Ney: the textbook formula, and where NLTK differs
# --------------------------------------------------------------------------

def kn_oracle(train, order, D):
    """Interpolated Kneser–Ney (Chen & Goodman 1999) written from the formula with dictionaries.

    NLTK's padding and everygram counting; uniform 1/V below the unigram level.
    """
    counts = Counter(g for s in train for g in everygrams(nltk_pad_both_ends(s, order), max_len=order))
    vocab = {g[0] for g in counts if len(g) == 1} | {UNK}
    V = len(vocab)
    grams_by_len = {k: [g for g in counts if len(g) == k] for k in range(1, order + 1)}
    cont = Counter(g[1:] for g in counts if len(g) >= 2)          # N1+(• g)

    def p(w, context):
        if w not in vocab:
            w = UNK
        context = tuple(c if c in vocab else UNK for c in context)
        k = len(context) + 1
        lower = 1 / V if k == 1 else p(w, context[1:])
        table = counts if k == order else cont
        followers = {g[-1]: table[g] for g in grams_by_len[k] if g[:-1] == context and table[g] > 0}
        den = sum(followers.values())
        if den == 0:
            return lower
        return max(followers.get(w, 0) - D, 0) / den + D * len(followers) / den * lower

    return p


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10**6), order=st.integers(2, 4), discount=st.floats(0.05, 1.0))
def test_kneser_ney_matches_the_textbook_formula(seed, order, discount):
    rng = np.random.default_rng(seed)
    train, test = random_corpus(rng, 20, 8), random_corpus(rng, 4, 10)
    ours = NGramLM(order, "kneser-ney", discount=discount).fit(train)
    oracle = kn_oracle(train, order, discount)
    for s in test + train[:2]:
        for g in ngrams(nltk_pad_both_ends(s, order), order):
            assert_rel(f"P({g[-1]} | {g[:-1]})", ours.prob(g[-1], g[:-1]), oracle(g[-1], g[:-1]), rtol=1e-12)


@pytest.mark.parametrize("order", [2, 3, 4])
def test_nltk_kneser_ney_sums_to_one_plus_d_squared_over_s_after_sentence_start(order):
    """Difference (a): NLTK's P(· | <s> … <s>) sums to 1 + D²/S (S training sentences) for n ≥ 3;
    every other context, and ours everywhere, sums to 1."""
    rng = np.random.default_rng(10 + order)
    train = random_corpus(rng, 12, 6)
    D, S = 0.6, len(train)
    theirs = nltk_model(KneserNeyInterpolated, order, train, discount=D)
    ours = NGramLM(order, "kneser-ney", discount=D).fit(train)
    nltk_ours = NGramLM(order, "kneser-ney-nltk", discount=D).fit(train)
    start = (BOS,) * (order - 1)
    words = [w for w in theirs.vocab]
    nltk_sum = math.fsum(theirs.score(w, start) for w in words)
    excess = D * D / S if order >= 3 else 0.0
    assert_close("NLTK's Σ_w P(w | <s>…<s>)", nltk_sum, 1 + excess, atol=1e-12, rtol=0)
    assert_close("kneser-ney-nltk Σ_w P(w | <s>…<s>)", nltk_ours.distribution(start).sum(), 1 + excess, atol=1e-12, rtol=0)
    assert_close("kneser-ney Σ_w P(w | <s>…<s>)", ours.distribution(start).sum(), 1.0, atol=1e-12, rtol=0)
    inner = tuple(train[0][:1]) * (order - 1)
    assert_close("NLTK elsewhere", math.fsum(theirs.score(w, inner) for w in words), 1.0, atol=1e-12, rtol=0)


@pytest.mark.parametrize("smoothing", ["kneser-ney", "kneser-ney-nltk"])
def test_kneser_ney_at_order_one_is_refused_and_order_two_is_its_smallest_model(smoothing):
    """Order 1 has no lower order to hand the discounted mass to (its lowest level counts bigram types):
    both variants refuse it; at order 2 P(w) with an empty context is the (floored) continuation unigram."""
    with pytest.raises(ValueError, match="order ≥ 2"):
        NGramLM(1, smoothing)
    train = [["a", "b", "a"], ["b", "c"]]
    lm = NGramLM(2, smoothing, discount=0.5).fit(train)
    # Padded: <s> a b a </s> | <s> b c </s>; bigram types ending in each word: a 2 (<s> a, b a),
    # b 2 (a b, <s> b), c 1, </s> 2; <s> and <UNK> 0.  N1+(• •) = 7, V = 6 (<UNK> <s> </s> a b c).
    cont = {"a": 2, "b": 2, "c": 1, EOS: 2, BOS: 0, UNK: 0}
    for w, n in cont.items():
        want = n / 7 if smoothing == "kneser-ney-nltk" else max(n - 0.5, 0) / 7 + 0.5 * 4 / 7 / 6
        assert_close(f"{smoothing} P({w})", lm.prob(w, ()), want, rtol=1e-12)


def interpolation_oracle(train, order, lambdas):
    """Jelinek–Mercer on NLTK's MLE model (the counts and every P_mle are NLTK's):
    Σ_j λ_j P_mle(w | last j−1 words) over the levels whose context was seen, divided by the sum of
    their λ_j; level 0 is the uniform 1/V and is always there."""
    top = nltk_model(MLE, order, train)          # counts every k-gram, k = 1..order
    V = len(top.vocab)

    def p(w, context):
        context = tuple(context)[len(context) - (order - 1):] if order > 1 else ()
        num, den = lambdas[0] / V, lambdas[0]
        for j in range(1, len(context) + 2):
            ctx = context[len(context) - (j - 1):] if j > 1 else ()
            if not ctx or top.counts[list(top.vocab.lookup(ctx))].N() > 0:
                num += lambdas[j] * top.score(w, ctx)
                den += lambdas[j]
        return num / den

    return p


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10**6), order=st.integers(1, 4), raw=st.lists(st.floats(0.01, 1.0), min_size=5, max_size=5))
def test_interpolation_matches_nltk_mle_levels(seed, order, raw):
    rng = np.random.default_rng(seed)
    train, test = random_corpus(rng, 20, 8), random_corpus(rng, 4, 11)     # w8..w10 unknown
    lambdas = np.array(raw[:order + 1]) / sum(raw[:order + 1])
    ours = NGramLM(order, "interpolation", lambdas=lambdas, nltk_padding=True).fit(train)
    oracle = interpolation_oracle(train, order, lambdas)
    for s in test + train[:2]:
        for g in ngrams(nltk_pad_both_ends(s, order), order):
            assert_rel(f"P({g[-1]} | {g[:-1]})", ours.prob(g[-1], g[:-1]), oracle(g[-1], g[:-1]), rtol=1e-12)


def test_interpolation_by_hand_gives_an_unseen_context_weight_away():
    # Padded trigram text: <s> <s> The dog ran </s> </s> | <s> <s> The cat jumped </s> </s>: 14 tokens,
    # V = 8 (<UNK> <s> </s> The dog ran cat jumped); c(dog) = 1, c(dog ran) = 1, c(cat) = 1.
    lam = [0.1, 0.2, 0.3, 0.4]
    lm = NGramLM(3, "interpolation", lambdas=lam, nltk_padding=True).fit(SEED_DOG_CAT)
    assert len(lm.vocab) == 8
    # Context (The, dog) seen: every level counts. P1(ran) = 1/14, P2(ran | dog) = 1, P3(ran | The dog) = 1.
    assert_close("P(ran | The dog)", lm.prob("ran", ["The", "dog"]), 0.1 / 8 + 0.2 / 14 + 0.3 + 0.4, rtol=1e-12)
    # Context (cat, dog) never seen, (dog) seen: the trigram's λ = 0.4 is shared by the other levels.
    assert_close("P(ran | cat dog)", lm.prob("ran", ["cat", "dog"]), (0.1 / 8 + 0.2 / 14 + 0.3) / 0.6, rtol=1e-12)
    # Neither (zebra) nor (cat zebra) seen: only the uniform and the unigram remain.
    assert_close("P(ran | cat zebra)", lm.prob("ran", ["cat", "zebra"]), (0.1 / 8 + 0.2 / 14) / 0.3, rtol=1e-12)


def test_kneser_ney_unknown_words_zero_in_nltk_positive_in_ours():
    """Difference (b): <UNK> never follows a word in training, so NLTK gives it 0 and perplexity inf."""
    train = [["a", "b", "c"], ["b", "c", "a"], ["a", "c"]]
    test = [["a", "zebra", "c"]]
    theirs = nltk_model(KneserNeyInterpolated, 3, train, discount=0.75)
    assert theirs.score("zebra", ("<s>", "a")) == 0.0
    assert math.isinf(theirs.perplexity(list(ngrams(nltk_pad_both_ends(test[0], 3), 3))))
    nltk_ours = NGramLM(3, "kneser-ney-nltk", discount=0.75).fit(train)
    assert nltk_ours.prob("zebra", ("<s>", "a")) == 0.0 and math.isinf(nltk_ours.perplexity(test))
    ours = NGramLM(3, "kneser-ney", discount=0.75).fit(train)
    # Unigram level: continuation counts N1+(• w) and 0 for <UNK>; the uniform floor gives it D·types/(T·V).
    cont = ours._cont[1]
    T, types, V = cont.sum(), np.count_nonzero(cont), len(ours.vocab)
    assert_close("P_KN(<UNK>)", ours.prob("zebra", ()), 0.75 * types / T / V, rtol=1e-12)
    assert 0 < ours.prob("zebra", ("<s>", "a")) and math.isfinite(ours.perplexity(test))


# --------------------------------------------------------------------------
# 4. Properties
# --------------------------------------------------------------------------

PROPER = ["laplace", "lidstone", "interpolation", "kneser-ney"]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), order=st.integers(1, 4), smoothing=st.sampled_from(PROPER + ["mle"]))
def test_every_conditional_distribution_sums_to_one(seed, order, smoothing):
    if smoothing == "kneser-ney" and order == 1:
        with pytest.raises(ValueError, match="order ≥ 2"):   # no lower order to discount towards
            NGramLM(1, smoothing)
        return
    rng = np.random.default_rng(seed)
    train = random_corpus(rng, 20, 9)
    lm = NGramLM(order, smoothing, **({"k": 0.3} if smoothing == "lidstone" else {})).fit(train)
    contexts = [g[:-1] for s in train for g in ngrams(nltk_pad_both_ends(s, order), order)]
    contexts.append(("never-seen",) * (order - 1))           # <UNK> … <UNK>: never seen
    for i, context in enumerate(contexts):
        p = lm.distribution(context)
        assert np.all(p >= 0)
        if smoothing == "mle" and order > 1 and i == len(contexts) - 1:
            assert p.sum() == 0                             # MLE has nothing to say after an unseen context
            continue
        assert abs(p.sum() - 1.0) < 1e-12, f"{smoothing} order {order}: Σ P(· | {context}) = {p.sum()!r}"


def test_stupid_backoff_is_not_a_distribution():
    lm = NGramLM(3, "stupid-backoff").fit(random_corpus(np.random.default_rng(3), 20, 8))
    assert lm.distribution((BOS, BOS)).sum() > 1.01


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10**6), smoothing=st.sampled_from(["mle", "kneser-ney", "interpolation"]))
def test_training_perplexity_falls_from_unigram_to_trigram(seed, smoothing):
    train = random_corpus(np.random.default_rng(seed), 40, 10)
    orders = (1, 2, 3) if smoothing != "kneser-ney" else (2, 3)
    ppl = [NGramLM(n, smoothing).fit(train).perplexity(train) for n in orders]
    assert all(a > b for a, b in zip(ppl, ppl[1:])), ppl


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10**6), order=st.integers(1, 5), cutoff=st.integers(1, 3))
def test_counts_equal_a_counter_of_everygrams(seed, order, cutoff):
    train = random_corpus(np.random.default_rng(seed), 15, 10)
    lm = NGramLM(order, "mle", unk_cutoff=cutoff, nltk_padding=True).fit(train)
    tokens = Counter(w for s in train for w in nltk_pad_both_ends(s, order))
    look = {w: (w if tokens[w] >= cutoff else UNK) for w in tokens}
    counts = Counter(tuple(look[w] for w in g) for s in train
                     for g in everygrams(nltk_pad_both_ends(s, order), max_len=order))
    for g, c in counts.items():
        assert lm.count(g) == c
    for k in range(1, order + 1):
        assert lm.distinct(k) == sum(1 for g in counts if len(g) == k)
        top = lm.most_common(k, top=3, skip_padding=False)
        assert [c for _, c in top] == sorted((c for g, c in counts.items() if len(g) == k), reverse=True)[:3]
        assert all(counts[g] == c for g, c in top)
    if order >= 2:
        assert lm.count((EOS, BOS)) == 0                  # never adjacent inside a padded sentence
    assert all(not set(g) <= {BOS, EOS} for g, _ in lm.most_common(order, top=5))


def test_count_ngrams_and_sparsity():
    train = [["a", "b", "c"], ["a", "b", "d"]]
    lm = NGramLM(3, "mle").fit(train)
    test = [["a", "b", "d"], ["b", "a"]]
    # trigrams scored: (<s> <s> a) (<s> a b) (a b d) (b d </s>) | (<s> <s> b) (<s> b a) (b a </s>)
    assert lm.count_ngrams(test).tolist() == [2, 2, 1, 1, 0, 0, 0]
    assert lm.count_ngrams(test, k=1).tolist() == [2, 2, 1, 4, 2, 2, 4]     # </s> padded twice per sentence


def test_perplexity_cross_entropy_and_logprob_agree():
    rng = np.random.default_rng(7)
    train, test = random_corpus(rng, 30, 8), random_corpus(rng, 5, 8)
    lm = NGramLM(3, "kneser-ney").fit(train)
    lp = lm.logprobs(test)
    assert_close("perplexity", lm.perplexity(test), np.exp(-lp.mean()), rtol=1e-12)
    assert_close("cross-entropy (bits)", lm.cross_entropy(test), np.log2(lm.perplexity(test)), rtol=1e-12)
    s = test[0]
    padded = [BOS, BOS] + s + [EOS]
    by_hand = [lm.logprob(padded[t], padded[t - 2:t]) for t in range(2, len(padded))]
    assert_close("logprob word by word", lp[:len(s) + 1], by_hand, rtol=1e-12)
    assert math.isinf(NGramLM(2, "mle").fit(train).perplexity([["w1", "never-seen"]]))


def test_vocabulary_cutoff_max_words_and_rnn_lm_rule():
    from course_lib import rnn_lm

    sentences = [["b", "a", "c", "a"], ["c", "d", "a"], ["e"]]
    v = Vocabulary.from_sentences(sentences, max_words=2)
    assert v.itos[0] == UNK and {BOS, EOS} <= set(v.itos) and len(v) == 5
    assert v.itos[3:] == ["a", "c"] and v.lookup("d") == UNK
    assert v.encode(["a", "zz"]).tolist() == [v.stoi["a"], 0] and v.decode([0]) == [UNK]
    assert Vocabulary.from_sentences(sentences, unk_cutoff=2).itos[3:] == ["a", "c"]
    corpus = random_corpus(np.random.default_rng(0), 200, 60)
    ours = Vocabulary.from_sentences(corpus, max_words=25)
    assert ours.itos[3:] == rnn_lm.build_vocab(corpus, max_words=25)[2:]
    with pytest.raises(ValueError, match="unk_cutoff"):
        Vocabulary(Counter("ab"), unk_cutoff=0)


def test_split_corpus_is_fixed_and_disjoint():
    sentences = [[f"s{i}"] for i in range(100)]
    train, val, test = ngram.split_corpus(sentences)
    assert (len(train), len(val), len(test)) == (90, 5, 5)
    assert test[0] == ["s19"] and val[0] == ["s18"]
    assert sorted(map(tuple, train + val + test)) == sorted(map(tuple, sentences))
    assert ngram.split_corpus(sentences) == (train, val, test)


def test_context_target_ids():
    v = Vocabulary.from_sentences([["a", "b"]])
    ctx, tgt = ngram.context_target_ids([["a", "b"], ["c"]], v, 3)
    assert ctx.shape == (5, 2) and tgt.shape == (5,)
    assert [v.decode(c) + [v.itos[t]] for c, t in zip(ctx, tgt)] == [
        [BOS, BOS, "a"], [BOS, "a", "b"], ["a", "b", EOS], [BOS, BOS, UNK], [BOS, UNK, EOS]]


def test_generate_is_reproducible_and_follows_seen_bigrams():
    rng = np.random.default_rng(5)
    train = random_corpus(rng, 50, 12)
    lm = NGramLM(2, "mle").fit(train)
    a, b = lm.generate(15, seed=3), lm.generate(15, seed=3)
    assert a == b and 0 < len(a) <= 15
    assert any(lm.generate(15, seed=s) != a for s in range(4, 10))
    history = [BOS] + a
    assert all(lm.count((x, y)) > 0 for x, y in zip(history, history[1:]))
    assert UNK not in NGramLM(3, "laplace").fit(train).generate(30, seed=1)


@pytest.mark.parametrize("bad, match", [
    (lambda: NGramLM(0), "order"),
    (lambda: NGramLM(2, "add-one"), "smoothing"),
    (lambda: NGramLM(2, "lidstone", k=0), "k > 0"),
    (lambda: NGramLM(1, "kneser-ney"), "order ≥ 2"),
    (lambda: NGramLM(2, "kneser-ney", discount=1.5), r"\[0, 1\]"),
    (lambda: NGramLM(2, "interpolation", lambdas=[0.5, 0.5]), "3 non-negative weights"),
    (lambda: NGramLM(3, "laplace", k=0.5), "k does not apply to 'laplace' .laplace is lidstone with k = 1."),
    (lambda: NGramLM(3, "mle", k=0.5), "k does not apply to 'mle'"),
    (lambda: NGramLM(3, "lidstone", discount=0.5), "discount does not apply to 'lidstone'"),
    (lambda: NGramLM(3, "kneser-ney", lambdas=[0.25] * 4), "lambdas does not apply to 'kneser-ney'"),
    (lambda: NGramLM(3, "interpolation", alpha=0.5), "alpha does not apply to 'interpolation'"),
    (lambda: NGramLM(3, "stupid-backoff", k=1.0), "it is a parameter of 'lidstone' only"),
    (lambda: NGramLM(3, vocabulary=Vocabulary(Counter("ab")), unk_cutoff=2), "do not apply when a vocabulary"),
    (lambda: NGramLM(3, "mle").fit(SEED_DOG_CAT).with_smoothing("laplace", k=0.5), "k does not apply"),
    (lambda: NGramLM(2).fit(["the dog ran"]), "list of str tokens"),
    (lambda: NGramLM(2).fit("the dog ran"), "one str"),
    (lambda: NGramLM(2).prob("a", ("b",)), "fit"),
    (lambda: NGramLM(2).fit(SEED_DOG_CAT).prob("ran", "dog"), "one-word context"),
])
def test_errors_say_what_was_expected(bad, match):
    with pytest.raises(ValueError, match=match):
        bad()


def test_with_smoothing_reuses_the_counts():
    rng = np.random.default_rng(11)
    train, test = random_corpus(rng, 30, 10), random_corpus(rng, 5, 12)
    base = NGramLM(3, "mle", unk_cutoff=2).fit(train)
    for smoothing, kw in [("laplace", {}), ("lidstone", {"k": 0.2}), ("kneser-ney", {"discount": 0.5}),
                          ("interpolation", {"lambdas": [0.1, 0.2, 0.3, 0.4]})]:
        fresh = NGramLM(3, smoothing, unk_cutoff=2, **kw).fit(train)
        assert_close(smoothing, base.with_smoothing(smoothing, **kw).logprobs(test), fresh.logprobs(test), rtol=1e-14)
