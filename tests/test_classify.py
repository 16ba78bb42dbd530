"""Tests for course_lib.classify: sentence classification and aligned tagging, data, models, baselines.

Oracles: label counts and lines read off the file with grep/sed by hand; hand-made texts with their
tags written out; the mean of word vectors and the linear layer computed again by hand; torch.nn.LSTM run
on each sentence alone (no padding); hand-counted baselines.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib import classify as C


# ---------------------------------------------------------------- data
def test_polarity_file_has_the_hand_counted_labels():
    sentences, y = C.read_polarity()
    assert len(sentences) == 200 and y.shape == (200,)
    assert (y == 1).sum() == 100 and (y == 0).sum() == 100           # grep -c __label__pos / __label__neg
    assert (y[:100] == 0).all() and (y[100:] == 1).all()            # lines 1-100 neg, 101-200 pos
    assert sentences[0] == ["simplistic", ",", "silly", "and", "tedious", "."]
    assert sentences[100][:4] == ["the", "rock", "is", "destined"]
    assert sentences[-1][:3] == ["i", "enjoyed", "time"]


def test_polarity_file_is_read_as_windows_1252():
    sentences, _ = C.read_polarity()
    words = {w for s in sentences for w in s}
    assert "clichés" in words and "—" in words


def test_polarity_reader_rejects_an_unknown_label(tmp_path):
    path = tmp_path / "bad.cor"
    path.write_text("__label__pos fine .\n__label__meh so so .\n", encoding="cp1252")
    with pytest.raises(ValueError, match="line 2"):
        C.read_polarity(path)


@pytest.mark.parametrize("word, tag", [("the", "lower"), ("The", "Title"), ("I", "Title"), ("NASA", "UPPER"),
                                       ("McDonald", "Title"), ("don't", "lower"), ("A", "Title")])
def test_case_tag(word, tag):
    assert C.case_tag(word) == tag


def test_truecase_sentences_on_a_hand_made_text():
    text = "Hundreds met NASA staff in Hill Top, 4 km away. The end! it's 'Quiet' here."
    assert C.truecase_sentences([text]) == [
        (["hundreds", "met", "nasa", "staff", "in", "hill", "top", "km", "away"],
         ["Title", "lower", "UPPER", "lower", "lower", "Title", "Title", "lower", "lower"]),
        (["the", "end", "it's", "quiet", "here"], ["Title", "lower", "lower", "Title", "lower"]),
    ]


def test_kfold_is_stratified_and_covers_every_index_once():
    y = np.array([0] * 7 + [1] * 13)
    folds = C.kfold_indices(y, 4, seed=3)
    assert sorted(np.concatenate(folds).tolist()) == list(range(20))
    for fold in folds:
        assert (y[fold] == 0).sum() in (1, 2) and (y[fold] == 1).sum() in (3, 4)
    assert all(np.array_equal(a, b) for a, b in zip(folds, C.kfold_indices(y, 4, seed=3)))


def test_vocab_and_padding_by_hand():
    vocab = C.build_vocab([["a", "b", "a"], ["c"]], min_count=2)
    assert vocab == {"<pad>": 0, "<unk>": 1, "a": 2}
    X, lengths = C.encode([["a", "z"], ["a", "a", "b"]], vocab)
    assert X.tolist() == [[2, 1, 0], [2, 2, 1]] and lengths.tolist() == [2, 3]
    assert C.encode_tags([["Title"], ["lower", "UPPER"]]).tolist() == [[1, -100], [0, 2]]
    with pytest.raises(ValueError):
        C.encode([["a"], []], vocab)


# ---------------------------------------------------------------- models
def batch(seed=0, B=4, T=6, V=9):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([T, 2, 5, 1][:B])
    X = torch.randint(2, V, (B, T), generator=g)
    X[torch.arange(T)[None, :] >= lengths[:, None]] = C.PAD
    return X, lengths


def test_mean_bag_is_the_mean_of_the_word_vectors_then_linear():
    torch.manual_seed(0)
    model = C.MeanBagClassifier(9, 5)
    X, lengths = batch()
    E, V, b = model.embed.weight.detach(), model.out.weight.detach(), model.out.bias.detach()
    expected = torch.stack([V @ E[X[i, :lengths[i]]].mean(0) + b for i in range(len(X))])
    torch.testing.assert_close(model(X, lengths).detach(), expected)


def test_lstm_classifier_reads_each_sentence_up_to_its_own_length():
    torch.manual_seed(1)
    model = C.LSTMClassifier(9, 4, 3)
    X, lengths = batch()
    with torch.no_grad():
        logits = model(X, lengths)
        assert logits.shape == (4, 2)
        for i in range(len(X)):                                      # one sentence at a time, no padding
            _, (h_T, _) = model.lstm(model.embed(X[i:i + 1, :lengths[i]]))
            torch.testing.assert_close(logits[i], model.out(h_T[0, 0]))


def test_tagger_shapes_and_no_peeking_at_later_tokens():
    torch.manual_seed(2)
    model = C.LSTMTagger(9, 4, 3, tags=3)
    X, lengths = batch()
    with torch.no_grad():
        logits = model(X, lengths)
        assert logits.shape == (4, 6, 3)
        changed = X.clone()
        changed[:, 3:] = 5
        torch.testing.assert_close(model(changed, lengths)[:, :3], logits[:, :3])


def toy_sentences():
    words = ["good", "bad", "film", "plot", "the", "a"]
    rng = np.random.default_rng(0)
    sentences = [list(rng.choice(words[2:], size=rng.integers(2, 6))) for _ in range(40)]
    y = np.arange(40) % 2
    for s, label in zip(sentences, y):
        s.insert(int(rng.integers(0, len(s) + 1)), "good" if label else "bad")
    return sentences, y


@pytest.mark.parametrize("kind", ["mean", "lstm"])
def test_classifiers_learn_a_one_word_rule(kind):
    sentences, y = toy_sentences()
    vocab = C.build_vocab(sentences)
    X, lengths = C.encode(sentences, vocab)
    torch.manual_seed(0)
    model = C.MeanBagClassifier(len(vocab), 8) if kind == "mean" else C.LSTMClassifier(len(vocab), 8, 8)
    losses = C.train(model, X, lengths, torch.tensor(y), epochs=30, seed=0, batch=8)
    assert np.mean(losses[-5:]) < 0.3 * np.mean(losses[:5])
    assert (C.predict(model, X, lengths).numpy() == y).all()


def test_tagger_learns_and_the_padding_does_not_count():
    sentences, _ = toy_sentences()
    tags = [["UPPER" if w in ("good", "bad") else "lower" for w in s] for s in sentences]
    vocab = C.build_vocab(sentences)
    X, lengths = C.encode(sentences, vocab)
    Y = C.encode_tags(tags)
    torch.manual_seed(0)
    model = C.LSTMTagger(len(vocab), 8, 8, tags=3)
    losses = C.train(model, X, lengths, Y, epochs=30, seed=0, batch=8)
    assert losses[-1] < 0.1
    P = C.predict(model, X, lengths)
    assert (P[Y != C.IGNORE] == Y[Y != C.IGNORE]).all()


def test_training_repeats_exactly():
    sentences, y = toy_sentences()
    vocab = C.build_vocab(sentences)
    X, lengths = C.encode(sentences, vocab)
    runs = []
    for _ in range(2):
        torch.manual_seed(4)
        runs.append(C.train(C.LSTMClassifier(len(vocab), 4, 4), X, lengths, torch.tensor(y), epochs=2, seed=4))
    assert runs[0] == runs[1]


# ---------------------------------------------------------------- baselines and scores
def test_majority_label():
    assert C.majority_label([0, 1, 1]) == 1 and C.majority_label([1, 0]) == 0


def test_lexicon_by_hand():
    sentences = [["great", "fun", "fun", "film"], ["dull", "film"], ["great", "cast"], ["dull", "dull", "plot"]]
    y = [1, 0, 1, 0]
    assert C.build_lexicon(sentences, y) == {"great": 1, "fun": 1, "dull": -1, "cast": 1, "plot": -1}
    assert C.build_lexicon(sentences, y, min_count=2) == {"great": 1, "dull": -1}   # "fun": twice, one sentence
    lexicon = {"great": 1, "dull": -1}
    tests = [["great", "dull", "great"], ["dull"], ["film"], ["great", "dull"]]
    predicted = C.lexicon_predict(lexicon, tests, default=1)
    assert predicted.tolist() == [1, 0, 1, 1]


def test_most_frequent_tag_by_hand():
    tagged = [(["the", "us", "us"], ["Title", "UPPER", "lower"]), (["the", "us"], ["lower", "UPPER"]),
              (["the"], ["lower"])]
    table, fallback = C.most_frequent_tags(tagged)
    assert table == {"the": "lower", "us": "UPPER"} and fallback == "lower"
    assert C.most_frequent_tag_predict(table, fallback, [["us", "new"]]) == [["UPPER", "lower"]]


def test_accuracy_with_standard_error():
    assert C.accuracy_with_se([1, 1, 0, 0]) == (0.5, 0.25)
    p, se = C.accuracy_with_se(np.ones(10))
    assert (p, se) == (1.0, 0.0)
