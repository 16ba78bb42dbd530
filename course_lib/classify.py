"""Sequence -> vector (sentence classification) and aligned tagging (one label per token), trained.

Used by notebooks/06_lstm_gru.ipynb, last section.  The two shapes of the slides' "what an RNN is for":

- **sequence -> vector**: read a whole sentence, keep one vector, name one label.  Two encoders:
  ``MeanBagClassifier`` (the average of the word vectors, then logistic regression:
  p(y | x) = softmax(V mean_t e(x_t) + b_o)) and ``LSTMClassifier`` (the LSTM's final state h_T, then the
  same linear layer: p(y | x) = softmax(V h_T + b_o)).
- **aligned tagging**: one label per token, p(y_t | x_1..x_t) = softmax(V h_t + b_o) at every t
  (``LSTMTagger``; the LSTM reads left to right, so y_t sees the tokens up to and including x_t).

Data that ships offline (inside the gensim wheel, ``gensim/test/test_data/``):

- ``read_polarity``: ``pang_lee_polarity.cor``, 200 movie-review sentences labelled ``__label__pos`` /
  ``__label__neg`` (100 each), a sample of the sentence polarity data of Pang & Lee (2005);
- ``truecase_sentences``: no hand-tagged (POS / NER) corpus is installed, so the tagging task is a
  SUBSTITUTE derived deterministically from the Lee news corpus: the input is the lower-cased words,
  the tag of each word is how the original text wrote it (``lower``, ``Title``, ``UPPER``), i.e.
  truecasing.  The tags come from the text's own capitals, not from an annotator.

Baselines: ``majority_label``, ``build_lexicon`` / ``lexicon_predict`` (a word list read off the
training split only), ``most_frequent_tags`` / ``most_frequent_tag_predict``.  ``accuracy_with_se``
gives an accuracy and its binomial standard error sqrt(p (1 - p) / N).

Padding: id 0 is ``<pad>``, id 1 is ``<unk>``; padded tag positions carry ``IGNORE = -100`` and do not
count in the loss (``torch.nn.functional.cross_entropy(ignore_index=-100)``).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

import numpy as np
import torch

from course_lib.corpus import gensim_data_path
from course_lib.long_range import single_thread

__all__ = [
    "PAD", "UNK", "IGNORE", "CASE_TAGS", "read_polarity", "case_tag", "truecase_sentences", "kfold_indices",
    "build_vocab", "encode", "encode_tags", "MeanBagClassifier", "LSTMClassifier", "LSTMTagger",
    "train", "predict", "majority_label", "build_lexicon", "lexicon_predict", "most_frequent_tags",
    "most_frequent_tag_predict", "accuracy_with_se",
]

PAD, UNK, IGNORE = 0, 1, -100
CASE_TAGS = ("lower", "Title", "UPPER")
_LABELS = {"__label__neg": 0, "__label__pos": 1}
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")


# ---------------------------------------------------------------- data
def read_polarity(path=None) -> tuple[list[list[str]], np.ndarray]:
    """The polarity sentences: (sentences, y), sentences[i] a list of str tokens, y shape (N,), 1 = pos.

    The file is already lower-cased and tokenised (tokens separated by spaces); it is encoded in
    Windows-1252 (``clichés``, ``—``), not UTF-8.
    """
    path = gensim_data_path("pang_lee_polarity.cor") if path is None else path
    sentences, labels = [], []
    with open(path, encoding="cp1252") as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            label, *tokens = line.split()
            if label not in _LABELS:
                raise ValueError(f"line {line_no}: expected __label__pos or __label__neg, got {label!r}")
            sentences.append(tokens)
            labels.append(_LABELS[label])
    return sentences, np.array(labels, dtype=np.int64)


def case_tag(word: str) -> str:
    """'lower' (all lower-case), 'UPPER' (two or more letters, all capitals) or 'Title' (anything else)."""
    if word.islower():
        return "lower"
    if word.isupper() and sum(ch.isalpha() for ch in word) > 1:
        return "UPPER"
    return "Title"


def truecase_sentences(documents) -> list[tuple[list[str], list[str]]]:
    """Truecasing data from raw text: one (lower-cased words, case tags) pair per sentence.

    documents: iterable of str (e.g. ``course_lib.corpus.lee_documents()``).  Sentences are split after
    . ! ? followed by a capital or a quote; words are letter runs with an inner apostrophe (digits and
    punctuation are dropped).  Both lists of a pair have the same length.
    """
    pairs = []
    for doc in documents:
        for sentence in _SENTENCE_END.split(doc):
            words = _WORD.findall(sentence)
            if words:
                pairs.append(([w.lower() for w in words], [case_tag(w) for w in words]))
    return pairs


def kfold_indices(y, k: int, seed: int) -> list[np.ndarray]:
    """Stratified k-fold: k disjoint, sorted test-index arrays covering range(len(y)) once.

    y shape (N,) integer labels.  Each label's indices are shuffled with one seeded generator and dealt
    into the k folds in turn, so every fold holds each label in (nearly) its overall proportion.
    """
    y = np.asarray(y)
    if not 2 <= k <= len(y):
        raise ValueError(f"need 2 <= k <= N, got k={k}, N={len(y)}")
    rng = np.random.default_rng(seed)
    folds = [[] for _ in range(k)]
    position = 0
    for label in np.unique(y):
        for index in rng.permutation(np.flatnonzero(y == label)):
            folds[position % k].append(index)
            position += 1
    return [np.sort(np.array(f, dtype=np.int64)) for f in folds]


def build_vocab(sentences, min_count: int = 1) -> dict[str, int]:
    """word -> id for words seen at least min_count times; 0 = <pad>, 1 = <unk>; ids in order of first sight."""
    counts = Counter(w for s in sentences for w in s)
    vocab = {"<pad>": PAD, "<unk>": UNK}
    for s in sentences:
        for w in s:
            if counts[w] >= min_count and w not in vocab:
                vocab[w] = len(vocab)
    return vocab


def encode(sentences, vocab) -> tuple[torch.Tensor, torch.Tensor]:
    """Padded ids X, shape (B, T_max) int64 (0 = <pad>), and lengths, shape (B,) int64."""
    lengths = [len(s) for s in sentences]
    if not lengths or min(lengths) == 0:
        raise ValueError("every sentence needs at least one token")
    X = torch.full((len(sentences), max(lengths)), PAD, dtype=torch.long)
    for i, s in enumerate(sentences):
        X[i, :len(s)] = torch.tensor([vocab.get(w, UNK) for w in s])
    return X, torch.tensor(lengths)


def encode_tags(tag_lists, tags=CASE_TAGS) -> torch.Tensor:
    """Padded tag ids, shape (B, T_max) int64, IGNORE (-100) at the padding."""
    index = {t: i for i, t in enumerate(tags)}
    Y = torch.full((len(tag_lists), max(len(t) for t in tag_lists)), IGNORE, dtype=torch.long)
    for i, t in enumerate(tag_lists):
        Y[i, :len(t)] = torch.tensor([index[x] for x in t])
    return Y


# ---------------------------------------------------------------- models
class MeanBagClassifier(torch.nn.Module):
    """Average of word vectors + logistic regression: logits = V mean_{t <= len} e(x_t) + b_o.

    forward(X (B, T) int64, lengths (B,)) -> logits (B, classes).  Padding (id 0) is left out of the mean.
    """

    def __init__(self, vocab_size: int, dim: int, classes: int = 2):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab_size, dim, padding_idx=PAD)
        self.out = torch.nn.Linear(dim, classes)

    def forward(self, X, lengths):
        summed = self.embed(X).sum(dim=1)                       # (B, dim); the <pad> vector is 0
        return self.out(summed / lengths[:, None].to(summed.dtype))


class LSTMClassifier(torch.nn.Module):
    """LSTM encoder, final state h_T of each sentence (at its own length), + linear: logits = V h_T + b_o.

    forward(X (B, T) int64, lengths (B,)) -> logits (B, classes).
    """

    def __init__(self, vocab_size: int, dim: int, hidden: int, classes: int = 2):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab_size, dim, padding_idx=PAD)
        self.lstm = torch.nn.LSTM(dim, hidden, batch_first=True)
        self.out = torch.nn.Linear(hidden, classes)

    def forward(self, X, lengths):
        packed = torch.nn.utils.rnn.pack_padded_sequence(self.embed(X), lengths.cpu(), batch_first=True,
                                                         enforce_sorted=False)
        _, (h_T, _) = self.lstm(packed)                          # h_T: (1, B, hidden), at each length
        return self.out(h_T[0])


class LSTMTagger(torch.nn.Module):
    """LSTM over the tokens, one label per token: logits_t = V h_t + b_o.

    forward(X (B, T) int64, lengths (B,)) -> logits (B, T, tags); positions past a length are padding.
    """

    def __init__(self, vocab_size: int, dim: int, hidden: int, tags: int):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab_size, dim, padding_idx=PAD)
        self.lstm = torch.nn.LSTM(dim, hidden, batch_first=True)
        self.out = torch.nn.Linear(hidden, tags)

    def forward(self, X, lengths):
        H, _ = self.lstm(self.embed(X))                          # (B, T, hidden); causal, so padding at
        return self.out(H)                                       # the end never reaches earlier steps


def train(model, X, lengths, Y, epochs: int, seed: int, lr: float = 1e-2, batch: int = 32,
          weight_decay: float = 0.0) -> list[float]:
    """Adam on the mean cross-entropy (IGNORE targets left out), shuffled minibatches; returns the loss per step.

    X (N, T) int64, lengths (N,), Y (N,) class ids or (N, T) tag ids.  One torch thread, seeded shuffles.
    """
    if X.shape[0] != Y.shape[0] or X.shape[0] != lengths.shape[0]:
        raise ValueError(f"X, lengths and Y need the same first size, got {X.shape}, {lengths.shape}, {Y.shape}")
    generator = torch.Generator().manual_seed(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    losses = []
    with single_thread():
        model.train()
        for _ in range(epochs):
            for rows in torch.randperm(X.shape[0], generator=generator).split(batch):
                width = int(lengths[rows].max())
                logits = model(X[rows, :width], lengths[rows])
                target = Y[rows] if Y.dim() == 1 else Y[rows, :width]
                loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1),
                                                         ignore_index=IGNORE)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                losses.append(loss.item())
    return losses


def predict(model, X, lengths) -> torch.Tensor:
    """Arg-max labels: shape (N,) for a classifier, (N, T) for a tagger."""
    with torch.no_grad(), single_thread():
        model.eval()
        return model(X, lengths).argmax(dim=-1)


# ---------------------------------------------------------------- baselines and scores
def majority_label(y_train) -> int:
    """The most frequent training label (the smaller label on a tie)."""
    return int(np.bincount(np.asarray(y_train)).argmax())


def build_lexicon(sentences, y, min_count: int = 1) -> dict[str, int]:
    """Training-split word list: word -> +1 (seen only in positive sentences) or -1 (only negative).

    A word must occur in at least min_count training sentences, all of one label; other words are left out.
    """
    seen = defaultdict(Counter)
    for s, label in zip(sentences, y):
        for w in set(s):
            seen[w][int(label)] += 1
    lexicon = {}
    for w, c in seen.items():
        if sum(c.values()) >= min_count and len(c) == 1:
            lexicon[w] = 1 if 1 in c else -1
    return lexicon


def lexicon_predict(lexicon, sentences, default: int) -> np.ndarray:
    """1 if the sentence's lexicon words sum > 0, 0 if < 0, ``default`` on 0 (no or balanced evidence)."""
    scores = np.array([sum(lexicon.get(w, 0) for w in s) for s in sentences])
    return np.where(scores > 0, 1, np.where(scores < 0, 0, default))


def most_frequent_tags(tagged) -> tuple[dict[str, str], str]:
    """(word -> its most frequent training tag, the most frequent tag overall); ties go to the first seen."""
    per_word, overall = defaultdict(Counter), Counter()
    for words, tags in tagged:
        for w, t in zip(words, tags):
            per_word[w][t] += 1
            overall[t] += 1
    return {w: c.most_common(1)[0][0] for w, c in per_word.items()}, overall.most_common(1)[0][0]


def most_frequent_tag_predict(table, fallback: str, sentences) -> list[list[str]]:
    """Tag each word with its table entry, unseen words with ``fallback``."""
    return [[table.get(w, fallback) for w in s] for s in sentences]


def accuracy_with_se(correct) -> tuple[float, float]:
    """(accuracy p, binomial standard error sqrt(p (1 - p) / N)) of a 0/1 array of N outcomes."""
    correct = np.asarray(correct, dtype=float).ravel()
    p = correct.mean()
    return float(p), float(np.sqrt(p * (1 - p) / correct.size))
