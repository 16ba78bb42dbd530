"""Tests for course_lib.text: the slides' tokenisations exactly, and the Vocab's bookkeeping."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib import text
from course_lib.text import UNK, Vocab

SLIDE_CORPUS = "I love AI. I love deep learning. I enjoy learning."


def test_slide_corpus_sentences():
    assert text.split_sentences(SLIDE_CORPUS) == ["I love AI.", "I love deep learning.", "I enjoy learning."]
    assert text.sentences(SLIDE_CORPUS) == [["I", "love", "AI"], ["I", "love", "deep", "learning"],
                                            ["I", "enjoy", "learning"]]
    assert text.sentences(SLIDE_CORPUS, lower=True)[0] == ["i", "love", "ai"]


def test_slide_chinese_characters():
    chars = text.characters("我爱学习爱劳动，是个好青年")
    assert chars == list("我爱学习爱劳动是个好青年")
    assert len(chars) == 12


def test_chinese_sentence_ends_and_apostrophes():
    assert text.split_sentences("我爱学习。你呢？好！") == ["我爱学习。", "你呢？", "好！"]
    assert text.tokenize("Don't stop, it's 2024!") == ["Don't", "stop", "it's", "2024"]


def test_vocab_frequency_order_and_counts():
    sents = text.sentences(SLIDE_CORPUS)
    v = Vocab.build(sents)
    # I 3, learning 2, love 2, then the 1-count words alphabetically (upper case sorts first)
    assert v.itos == ["I", "learning", "love", "AI", "deep", "enjoy"]
    assert v.counts.tolist() == [3, 2, 2, 1, 1, 1]
    assert Vocab.build(sents, order="first").itos == ["I", "love", "AI", "deep", "learning", "enjoy"]
    assert Vocab.build(sents, min_count=2).itos == ["I", "learning", "love"]
    assert Vocab.build(sents, max_size=2).itos == ["I", "learning"]


def test_vocab_unknown_words():
    sents = text.sentences(SLIDE_CORPUS)
    v = Vocab.build(sents, min_count=2, unk=True)
    assert v.itos[0] == UNK and v["AI"] == 0 and v["love"] == v.stoi["love"]
    assert v.counts[0] == 3                      # AI, deep, enjoy were dropped
    assert v.counts.sum() == sum(len(s) for s in sents)
    with pytest.raises(KeyError, match="not in the vocabulary"):
        Vocab.build(sents)["robot"]
    assert v.encode(["I", "robot"]).tolist() == [v["I"], 0]
    assert v.encode(["I", "robot"], drop_unknown=True).tolist() == [v["I"]]


def test_vocab_one_hot_is_orthogonal():
    v = Vocab.build(text.sentences(SLIDE_CORPUS))
    E = np.stack([v.one_hot(w) for w in v.itos])
    np.testing.assert_array_equal(E, np.eye(len(v), dtype=np.int64))
    assert v.one_hot("love") @ v.one_hot("enjoy") == 0        # the slides: one-hot vectors are orthogonal


def test_vocab_errors():
    with pytest.raises(ValueError, match="duplicates"):
        Vocab(["a", "b", "a"])
    with pytest.raises(ValueError, match="counts of shape"):
        Vocab(["a", "b"], counts=[1])
    with pytest.raises(ValueError, match="order"):
        Vocab.build([["a"]], order="alphabetical")


words = st.sampled_from(["the", "cat", "sat", "on", "a", "mat", "dog", "ran"])


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(words, min_size=1, max_size=8), min_size=1, max_size=6))
def test_vocab_round_trip_and_counts(sents):
    v = Vocab.build(sents)
    counter = Counter(w for s in sents for w in s)
    assert dict(zip(v.itos, v.counts.tolist())) == dict(counter)
    assert list(v.counts) == sorted(v.counts, reverse=True)
    for s in sents:
        assert v.decode(v.encode(s)) == s
