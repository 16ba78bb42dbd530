"""n-gram language models / n 元语法语言模型, with smoothing / 平滑 and perplexity / 困惑度.

Used by notebooks/04_language_models.ipynb (and the assignment ps4_language_models).
A language model / 语言模型 gives every sentence a probability by the chain rule
of probability / 概率的链式法则, and an n-gram model cuts each condition to the
last n−1 words (the Markov assumption / 马尔可夫假设)::

    P(w_1 .. w_T) = Π_t P(w_t | w_1 .. w_{t-1}) ≈ Π_t P(w_t | w_{t-n+1} .. w_{t-1})

Estimators implemented here (c(·) is a training count, V the vocabulary size,
N1+(c •) the number of distinct words seen after context c)::

    mle              P(w | c) = c(c w) / c(c •)                                   (zero for unseen n-grams)
    laplace          P(w | c) = (c(c w) + 1) / (c(c •) + V)                       (add-one)
    lidstone         P(w | c) = (c(c w) + k) / (c(c •) + k V)                     (add-k)
    interpolation    P(w | c) = Σ_j λ_j P_mle(w | last j−1 words of c), j = 0..n, P_0 = 1/V
                     (Jelinek–Mercer; a level whose context was never seen gives its λ to the others)
    stupid-backoff   S(w | c) = c(c w)/c(c •) if c(c w) > 0 else α S(w | c minus its first word)
                     (Brants et al. 2007: a score, NOT a probability — it does not sum to 1)
    kneser-ney       interpolated Kneser–Ney / Kneser–Ney 平滑 (Chen & Goodman 1999), discount D:
                     P(w | c) = max(c(c w) − D, 0)/c(c •) + D N1+(c •)/c(c •) · P_lower(w | c')
                     where c' is c without its first word, and the lower orders use continuation
                     counts N1+(• c' w) (in how many different contexts a word appears) instead of c(c' w);
                     the recursion ends in the uniform distribution 1/V, so no word gets probability 0.
    kneser-ney-nltk  exactly nltk.lm.KneserNeyInterpolated (see "Kneser–Ney: where NLTK differs").

Conventions: those of ``nltk.lm``, so that every probability equals NLTK's
(tests/test_ngram.py checks MLE, Laplace, Lidstone, stupid backoff and
kneser-ney-nltk to 1e-9 relative on random corpora and orders):

- training sentences are padded with n−1 ``<s>`` and n−1 ``</s>`` (``pad_both_ends``) and
  *every* n-gram of length 1..n of the padded sentence is counted (``padded_everygram_pipeline``);
- the vocabulary is every padded-text token seen at least ``unk_cutoff`` times, plus ``<UNK>``
  (V counts ``<s>``, ``</s>`` and ``<UNK>`` too); any other word is read as ``<UNK>``;
- a context that was never seen gives 0 under MLE (NLTK's ``FreqDist.freq``).

Two deliberate differences in what is *scored*, both switched off by ``nltk_padding=True``:

1. ``perplexity(sentences)`` scores each word and ONE ``</s>`` per sentence. NLTK users feed
   ``ngrams(pad_both_ends(s, n), n)``, which scores n−1 end markers: a trigram model predicts
   ``</s>`` again after ``</s>`` (nearly free), so its perplexity is computed over more, easier
   tokens than a bigram's, and the orders cannot be compared.
2. For the unigram model, ``pad_both_ends(s, 1)`` adds nothing, so NLTK's unigram model never
   sees a sentence end; ours appends one ``</s>`` so that it predicts the same tokens as the
   higher orders. (The slide's "I like deep learning" gives 1/4 per word with NLTK's padding
   and 1/5 per token with ours, where ``</s>`` is the fifth.)

Kneser–Ney: where NLTK differs. ``kneser-ney-nltk`` reproduces two choices of NLTK 3.10 that
``kneser-ney`` does not make:

a. Middle orders weight the lower order by D·N1+(c •)/N1+(• c •) with N1+(c •) counted on raw
   n-grams, where the continuation counts need the number of words w with N1+(• c w) > 0. The two
   differ for the one context that starts every padded sentence (c = <s>…<s>, n−2 of them, whose
   follower <s> is never preceded by anything), so NLTK's P(· | <s> <s>) sums to more than 1.
b. The recursion ends at the continuation unigram N1+(• w)/N1+(• •) without a uniform floor, so a
   word never seen after another word — ``<UNK>`` with the default cutoff — gets probability 0 and
   any text with an unknown word has infinite perplexity.

Counting is vectorised: sentences become one array of word ids; the distinct k-grams of each
order are found with ``np.unique`` on integer keys (the index of the (k−1)-gram prefix times V
plus the last word, a trie in sorted arrays), and queries are ``np.searchsorted`` look-ups.
"""

from __future__ import annotations

from collections import Counter
from itertools import chain, repeat

import numpy as np

__all__ = [
    "BOS", "EOS", "UNK", "SMOOTHING", "pad_both_ends", "split_corpus", "Vocabulary",
    "context_target_ids", "NGramLM",
]

BOS, EOS, UNK = "<s>", "</s>", "<UNK>"
SMOOTHING = ("mle", "laplace", "lidstone", "interpolation", "stupid-backoff", "kneser-ney", "kneser-ney-nltk")
_SMOOTHING_OF = {"k": ("lidstone",), "discount": ("kneser-ney", "kneser-ney-nltk"),
                 "lambdas": ("interpolation",), "alpha": ("stupid-backoff",)}     # which smoothing takes what


def pad_both_ends(sentence, n: int) -> list[str]:
    """``[<s>] * (n-1) + sentence + [</s>] * (n-1)``, as ``nltk.lm.preprocessing.pad_both_ends``."""
    return [BOS] * (n - 1) + list(sentence) + [EOS] * (n - 1)


def _check_sentences(sentences, name: str = "sentences") -> list[list[str]]:
    """A list of token lists; a str (or a list of str) is the usual mistake and raises ValueError."""
    if isinstance(sentences, str):
        raise ValueError(f"{name}: expected a list of sentences (each a list of str tokens), got one str")
    sentences = list(sentences)
    # Cheap checks (this runs on every fit and every score): each sentence is a list or tuple, and
    # the first token of the first non-empty one is a str.
    bad = next((i for i, s in enumerate(sentences) if type(s) not in (list, tuple)), None)
    if bad is None:
        first = next((s for s in sentences if s), None)
        bad = None if first is None or isinstance(first[0], str) else sentences.index(first)
    if bad is not None:
        sentence = sentences[bad]
        raise ValueError(
            f"{name}[{bad}]: expected a list of str tokens, got {type(sentence).__name__} {sentence!r:.60}"
            " (split each sentence into words first)"
        )
    return sentences


def split_corpus(sentences, every: int = 20):
    """The course's fixed split by sentence: (train, validation, test), about 90 / 5 / 5 per cent.

    Sentence i goes to the test set when ``i % every == every - 1``, to the validation set when
    ``i % every == every - 2``, and to the training set otherwise. Interleaving keeps every article
    represented in all three parts; no randomness, so every notebook gets the same split.
    """
    if every < 3:
        raise ValueError(f"split_corpus: every must be at least 3, got {every}")
    train, val, test = [], [], []
    for i, sentence in enumerate(sentences):
        r = i % every
        (test if r == every - 1 else val if r == every - 2 else train).append(sentence)
    return train, val, test


class Vocabulary:
    """Word ↔ id mapping with an unknown-word token / 未登录词 ``<UNK>`` (id 0).

    Args:
        counts: token -> count (a ``collections.Counter``).
        unk_cutoff: tokens seen fewer times are not in the vocabulary (NLTK's ``unk_cutoff``).
        max_words: keep only this many of the most frequent tokens (ties in alphabetical order,
            the rule of ``course_lib.rnn_lm.build_vocab``); tokens in ``reserved`` do not count
            against it and are kept whenever they pass the cutoff.
        reserved: tokens kept regardless of ``max_words`` (by default ``<s>`` and ``</s>``).

    ``itos`` is ``[<UNK>] + tokens by decreasing count``; ``len(vocab)`` is V, NLTK's ``len(vocab)``.
    """

    def __init__(self, counts, unk_cutoff: int = 1, max_words: int | None = None, reserved=(BOS, EOS)):
        if unk_cutoff < 1:
            raise ValueError(f"Vocabulary: unk_cutoff must be at least 1, got {unk_cutoff}")
        if max_words is not None and max_words < 0:
            raise ValueError(f"Vocabulary: max_words must be None or ≥ 0, got {max_words}")
        counts = Counter(counts)
        kept = sorted(w for w, c in counts.items() if c >= unk_cutoff and w != UNK)
        kept.sort(key=counts.__getitem__, reverse=True)          # stable: ties stay alphabetical
        words = [w for w in kept if w not in reserved]
        if max_words is not None:
            words = words[:max_words]
        self.counts = counts
        self.unk_cutoff = unk_cutoff
        self.itos = [UNK] + [w for w in kept if w in reserved] + words
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    @classmethod
    def from_sentences(cls, sentences, unk_cutoff: int = 1, max_words: int | None = None) -> "Vocabulary":
        """Vocabulary of the words of ``sentences`` plus ``<s>`` and ``</s>`` (always kept)."""
        counts = Counter(chain.from_iterable(_check_sentences(sentences)))
        counts[BOS] = counts[EOS] = max(unk_cutoff, len(sentences))
        return cls(counts, unk_cutoff=unk_cutoff, max_words=max_words)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, word) -> bool:
        return word in self.stoi

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} tokens incl. {UNK}, unk_cutoff={self.unk_cutoff})"

    def lookup(self, word: str) -> str:
        """The word itself if it is in the vocabulary, else ``<UNK>``."""
        return word if word in self.stoi else UNK

    def encode(self, tokens) -> np.ndarray:
        """Ids of ``tokens`` (unknown words -> 0, the id of ``<UNK>``), shape (len(tokens),)."""
        return np.fromiter(map(self.stoi.get, tokens, repeat(0)), dtype=np.int64)

    def decode(self, ids) -> list[str]:
        """Tokens of a sequence of ids."""
        return [self.itos[int(i)] for i in ids]


def _padded_ids(sentences, vocab: Vocabulary, left: int, right: int):
    """All sentences as one id array, each with ``left`` <s> before and ``right`` </s> after it.

    Returns (ids (Σ len + left + right,), padded lengths (S,)). Built in numpy: only the words go
    through the dictionary.
    """
    lengths = np.fromiter(map(len, sentences), dtype=np.int64, count=len(sentences))
    padded = lengths + left + right
    starts = np.cumsum(padded) - padded
    ids = np.full(int(padded.sum()), vocab.stoi.get(EOS, 0), dtype=np.int64)
    if left:
        ids[(starts[:, None] + np.arange(left)).ravel()] = vocab.stoi.get(BOS, 0)
    n_words = int(lengths.sum())
    if n_words:
        within = np.arange(n_words) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        ids[np.repeat(starts + left, lengths) + within] = vocab.encode(chain.from_iterable(sentences))
    return ids, padded


def _unique_counts(keys: np.ndarray):
    """(sorted distinct keys, their counts as floats, index of each key among them): np.unique with
    return_counts and return_inverse, without the stable sort that return_index would need."""
    perm = np.argsort(keys)
    ordered = keys[perm]
    new = np.concatenate([[True], ordered[1:] != ordered[:-1]]) if len(keys) else np.zeros(0, bool)
    starts = np.flatnonzero(new)
    inverse = np.empty(len(keys), dtype=np.int64)
    inverse[perm] = np.cumsum(new) - 1
    return ordered[starts], np.diff(np.append(starts, len(keys))).astype(float), inverse


def _windows(lengths, count_per_sentence, start_offset, width: int) -> np.ndarray:
    """Start positions, in the concatenation of sequences of ``lengths``, of windows of ``width``.

    Sentence s contributes ``count_per_sentence[s]`` windows starting at its position ``start_offset``,
    ``start_offset + 1``, ...  Returns an int64 array of shape (Σ counts,).
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    counts = np.asarray(count_per_sentence, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]) + start_offset
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    first = np.repeat(starts, counts)
    within = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    return first + within


def context_target_ids(sentences, vocab: Vocabulary, order: int):
    """(contexts, targets) of every word and ONE ``</s>`` per sentence, contexts padded with ``<s>``.

    The prediction events of ``NGramLM.perplexity`` (default) and of the feed-forward LM
    (``course_lib.nnlm``): word t of a sentence is predicted from the ``order - 1`` tokens before it.

    Returns:
        contexts: int64 ids, shape (M, order - 1); targets: int64 ids, shape (M,),
        with M = Σ (len(sentence) + 1).
    """
    sentences = _check_sentences(sentences)
    if order < 1:
        raise ValueError(f"context_target_ids: order must be at least 1, got {order}")
    flat, lengths = _padded_ids(sentences, vocab, order - 1, 1)
    pos = _windows(lengths, lengths - order + 1, 0, order)
    grams = flat[pos[:, None] + np.arange(order)] if len(pos) else np.zeros((0, order), dtype=np.int64)
    return grams[:, :-1], grams[:, -1]


class NGramLM:
    """An n-gram language model with the smoothing methods of the module docstring.

    Args:
        order: n (1 = unigram, 2 = bigram, 3 = trigram, ...).
        smoothing: one of ``SMOOTHING``.
        k: the added count of ``lidstone`` (default 1; ``laplace`` is k = 1).
        discount: D of ``kneser-ney`` / ``kneser-ney-nltk``, 0 ≤ D ≤ 1, default 0.75 (NLTK's default
            is 0.1; Chen & Goodman's estimate is about 0.75).
        lambdas: weights (λ_0, λ_1, ..., λ_n) of ``interpolation`` for the uniform distribution, the
            unigram, ..., the n-gram; non-negative, summing to 1. Default: λ_0 = 0.01 and the rest
            split equally.
        alpha: the back-off factor of ``stupid-backoff``, default 0.4.
        unk_cutoff, max_words: how the vocabulary is built from the padded training text
            (see ``Vocabulary``; default cutoff 1, no limit).
        vocabulary: a fixed ``Vocabulary`` (to compare models on the same words).

        nltk_padding: score and pad exactly as NLTK (see the module docstring).

    Each of k, discount, lambdas and alpha belongs to one smoothing: giving it to another raises
    ValueError, as does unk_cutoff or max_words together with ``vocabulary``.

    After ``fit``: ``vocab``, ``distinct(k)`` (number of distinct k-grams), ``count(ngram)``.
    """

    def __init__(self, order: int, smoothing: str = "mle", *, k: float | None = None,
                 discount: float | None = None, lambdas=None, alpha: float | None = None,
                 unk_cutoff: int | None = None, max_words: int | None = None,
                 vocabulary: Vocabulary | None = None, nltk_padding: bool = False):
        if not isinstance(order, (int, np.integer)) or order < 1:
            raise ValueError(f"NGramLM: order must be an int ≥ 1, got {order!r}")
        if smoothing not in SMOOTHING:
            raise ValueError(f"NGramLM: smoothing must be one of {SMOOTHING}, got {smoothing!r}")
        for name, value in {"k": k, "discount": discount, "lambdas": lambdas, "alpha": alpha}.items():
            if value is not None and smoothing not in _SMOOTHING_OF[name]:
                hint = " (laplace is lidstone with k = 1)" if smoothing == "laplace" and name == "k" else ""
                raise ValueError(f"NGramLM: {name} does not apply to {smoothing!r}{hint}; "
                                 f"it is a parameter of {' and '.join(map(repr, _SMOOTHING_OF[name]))} only")
        if vocabulary is not None and (unk_cutoff is not None or max_words is not None):
            raise ValueError("NGramLM: unk_cutoff and max_words build a vocabulary; they do not apply "
                             "when a vocabulary is given")
        k = 1.0 if smoothing == "laplace" or (smoothing == "lidstone" and k is None) else k
        discount = 0.75 if discount is None and smoothing.startswith("kneser-ney") else discount
        alpha = 0.4 if alpha is None and smoothing == "stupid-backoff" else alpha
        if smoothing == "lidstone" and not k > 0:
            raise ValueError(f"NGramLM: lidstone needs k > 0, got k = {k}")
        if smoothing.startswith("kneser-ney"):
            if order < 2:
                raise ValueError("NGramLM: Kneser–Ney needs order ≥ 2 (its lowest order counts bigram types)")
            if not 0 <= discount <= 1:
                raise ValueError(f"NGramLM: discount must lie in [0, 1] to give probabilities, got {discount}")
        if smoothing == "interpolation":
            if lambdas is None:
                lambdas = [0.01] + [0.99 / order] * order
            lambdas = np.asarray(lambdas, dtype=float)
            if lambdas.shape != (order + 1,) or np.any(lambdas < 0) or abs(lambdas.sum() - 1) > 1e-9:
                raise ValueError(
                    f"NGramLM: lambdas must be {order + 1} non-negative weights (uniform, unigram, ..., "
                    f"{order}-gram) summing to 1, got {lambdas.tolist()}"
                )
        self.order = int(order)
        self.smoothing = smoothing
        self.k = None if k is None else float(k)                          # the parameter of this smoothing
        self.discount = None if discount is None else float(discount)     # only; the others are None
        self.lambdas = lambdas
        self.alpha = None if alpha is None else float(alpha)
        self.unk_cutoff = 1 if unk_cutoff is None else unk_cutoff
        self.max_words = max_words
        self.vocab = vocabulary
        self._fixed_vocab = vocabulary is not None
        self.nltk_padding = nltk_padding
        self._fitted = False

    def __repr__(self) -> str:
        s = self.smoothing
        extra = (f", k={self.k:g}" if s == "lidstone" else f", alpha={self.alpha:g}" if s == "stupid-backoff"
                 else f", discount={self.discount:g}" if s.startswith("kneser-ney")
                 else f", lambdas={np.round(self.lambdas, 4).tolist()}" if s == "interpolation" else "")
        return f"NGramLM({self.order}, {self.smoothing!r}{extra})"

    # ------------------------------------------------------------------
    # Training: count every k-gram, k = 1..n, of the padded sentences
    # ------------------------------------------------------------------

    def _padding(self) -> tuple[int, int]:
        """(number of <s>, number of </s>) around each training sentence."""
        if self.order == 1 and not self.nltk_padding:
            return 0, 1
        return self.order - 1, self.order - 1

    def fit(self, sentences) -> "NGramLM":
        """Count the n-grams of ``sentences`` (a list of token lists); returns self."""
        sentences = _check_sentences(sentences)
        if not sentences:
            raise ValueError("fit: expected at least one sentence, got none")
        left, right = self._padding()
        if not self._fixed_vocab:                    # NLTK counts the padded text, pads included
            counts = Counter(chain.from_iterable(sentences))
            for pad, number in ((BOS, left), (EOS, right)):
                if number:
                    counts[pad] += number * len(sentences)
            self.vocab = Vocabulary(counts, unk_cutoff=self.unk_cutoff, max_words=self.max_words)
        V = self.V = len(self.vocab)
        flat, lengths = _padded_ids(sentences, self.vocab, left, right)
        sentence_end = np.repeat(np.cumsum(lengths), lengths)        # one past the end, per position
        positions = np.arange(len(flat))

        # Level 1 is dense (index = word id); level k ≥ 2 keeps only the k-grams seen, sorted by
        # key = (index of the (k-1)-gram prefix) * V + last word.
        self._count = {1: np.bincount(flat, minlength=V).astype(float)}
        self._keys = {1: np.arange(V, dtype=np.int64)}
        index_at = {1: flat}                        # index of the k-gram starting at each position
        first_at = {}
        for k in range(2, self.order + 1):
            valid = positions[positions + k <= sentence_end]
            keys = index_at[k - 1][valid] * V + flat[valid + k - 1]
            uniq, counts, inverse = _unique_counts(keys)
            self._keys[k], self._count[k] = uniq, counts
            at = np.full(len(flat), -1, dtype=np.int64)
            at[valid] = inverse
            first_at[k] = np.empty(len(uniq), dtype=np.int64)
            first_at[k][inverse] = valid              # one position where each k-gram occurs
            index_at[k] = at

        # Context statistics at level k: c(c •) and N1+(c •) for every (k-1)-gram c.
        self._ctx_total = {1: np.array([self._count[1].sum()])}
        self._ctx_types = {1: np.array([float(np.count_nonzero(self._count[1]))])}
        for k in range(2, self.order + 1):
            prefix, size = self._keys[k] // V, len(self._keys[k - 1])
            self._ctx_total[k] = np.bincount(prefix, weights=self._count[k], minlength=size)
            self._ctx_types[k] = np.bincount(prefix, minlength=size).astype(float)

        # Continuation counts N1+(• g) of every k-gram g, k < n: the number of distinct (k+1)-grams
        # that end in g; and, per context c, N1+(• c •) = Σ_w N1+(• c w) and #{w : N1+(• c w) > 0}.
        self._cont, self._cont_total, self._cont_types = {}, {}, {}
        for k in range(1, self.order):
            suffix = index_at[k][first_at[k + 1] + 1]
            cont = np.bincount(suffix, minlength=len(self._keys[k])).astype(float)
            self._cont[k] = cont
            if k == 1:
                self._cont_total[1] = np.array([cont.sum()])
                self._cont_types[1] = np.array([float(np.count_nonzero(cont))])
            else:
                prefix, size = self._keys[k] // V, len(self._keys[k - 1])
                self._cont_total[k] = np.bincount(prefix, weights=cont, minlength=size)
                self._cont_types[k] = np.bincount(prefix, weights=cont > 0, minlength=size)
        self._fitted = True
        return self

    _COUNT_TABLES = ("V", "_count", "_keys", "_ctx_total", "_ctx_types", "_cont", "_cont_total", "_cont_types")

    def with_smoothing(self, smoothing: str, **params) -> "NGramLM":
        """The same counts with another estimator, without counting again (``params`` as in the constructor,
        e.g. ``lm.with_smoothing("lidstone", k=0.01)``)."""
        self._require_fit()
        other = NGramLM(self.order, smoothing, vocabulary=self.vocab, nltk_padding=self.nltk_padding, **params)
        for name in self._COUNT_TABLES:
            setattr(other, name, getattr(self, name))
        other._fitted = True
        return other

    def _require_fit(self):
        if not self._fitted:
            raise ValueError("NGramLM: call fit(sentences) first")

    # ------------------------------------------------------------------
    # Look-ups
    # ------------------------------------------------------------------

    def _index(self, grams: np.ndarray) -> np.ndarray:
        """Index of each k-gram (rows of ``grams``, shape (M, k), k ≥ 1) in level k, or -1 if unseen."""
        idx = grams[:, 0].copy()
        V = self.V
        for j in range(1, grams.shape[1]):
            keys = self._keys[j + 1]
            if len(keys) == 0:
                return np.full(len(grams), -1, dtype=np.int64)
            key = idx * V + grams[:, j]
            pos = np.minimum(np.searchsorted(keys, key), len(keys) - 1)
            idx = np.where((idx >= 0) & (keys[pos] == key), pos, -1)
        return idx

    @staticmethod
    def _take(table: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """table[idx] where idx ≥ 0, else 0."""
        return np.where(idx >= 0, table[np.maximum(idx, 0)], 0.0)

    def count(self, ngram) -> int:
        """Training count of one n-gram (a tuple of words, length 1..order); words map through ``<UNK>``."""
        self._require_fit()
        ngram = (ngram,) if isinstance(ngram, str) else tuple(ngram)
        if not 1 <= len(ngram) <= self.order:
            raise ValueError(f"count: expected an n-gram of length 1..{self.order}, got {ngram!r}")
        idx = self._index(self.vocab.encode(ngram)[None, :])
        return int(self._take(self._count[len(ngram)], idx)[0])

    def distinct(self, k: int) -> int:
        """Number of distinct k-grams seen in training (k = 1 counts vocabulary entries with count > 0)."""
        self._require_fit()
        if not 1 <= k <= self.order:
            raise ValueError(f"distinct: k must lie in 1..{self.order}, got {k}")
        return int(np.count_nonzero(self._count[1])) if k == 1 else len(self._keys[k])

    def most_common(self, k: int, top: int = 10, skip_padding: bool = True) -> list[tuple[tuple[str, ...], int]]:
        """The ``top`` most frequent k-grams with their counts (ties in key order); with ``skip_padding``,
        k-grams made only of ``<s>`` / ``</s>`` are left out."""
        self._require_fit()
        if not 1 <= k <= self.order:
            raise ValueError(f"most_common: k must lie in 1..{self.order}, got {k}")
        counts = self._count[k]
        out = []
        for i in np.argsort(-counts, kind="stable"):
            if len(out) == top or counts[i] == 0:
                break
            words, idx = [], int(i)
            for level in range(k, 1, -1):
                key = int(self._keys[level][idx])
                words.append(self.vocab.itos[key % self.V])
                idx = key // self.V
            words.append(self.vocab.itos[idx])
            if skip_padding and set(words) <= {BOS, EOS}:
                continue
            out.append((tuple(reversed(words)), int(counts[i])))
        return out

    # ------------------------------------------------------------------
    # Probabilities (vectorised over M queries)
    # ------------------------------------------------------------------

    def _level(self, ctx: np.ndarray, w: np.ndarray, k: int):
        """(c(c w), c(c •), N1+(c •), context index, k-gram index) at level k, context = last k-1 columns."""
        if k == 1:
            c_idx = np.zeros(len(w), dtype=np.int64)
            g_idx = w
        else:
            c_idx = self._index(ctx[:, ctx.shape[1] - (k - 1):])
            g_idx = self._index(np.column_stack([ctx[:, ctx.shape[1] - (k - 1):], w]))
        return (self._take(self._count[k], g_idx), self._take(self._ctx_total[k], c_idx),
                self._take(self._ctx_types[k], c_idx), c_idx, g_idx)

    def _prob_ids(self, ctx: np.ndarray, w: np.ndarray) -> np.ndarray:
        """P(w | ctx) for id arrays ctx (M, L), w (M,), L ≤ order − 1 (longer contexts are cut)."""
        L = min(ctx.shape[1], self.order - 1)
        ctx = ctx[:, ctx.shape[1] - L:]
        top = L + 1
        V = float(self.V)
        s = self.smoothing
        with np.errstate(divide="ignore", invalid="ignore"):
            if s == "mle":
                count, total, *_ = self._level(ctx, w, top)
                return np.where(total > 0, count / total, 0.0)
            if s in ("laplace", "lidstone"):
                count, total, *_ = self._level(ctx, w, top)
                return (count + self.k) / (total + V * self.k)
            if s == "stupid-backoff":
                p = np.zeros(len(w))
                done = np.zeros(len(w), dtype=bool)
                factor = 1.0
                for k in range(top, 0, -1):
                    count, total, *_ = self._level(ctx, w, k)
                    hit = ~done & ((count > 0) if k > 1 else True)
                    p[hit] = factor * np.where(total[hit] > 0, count[hit] / total[hit], 0.0)
                    done |= hit
                    factor *= self.alpha
                return p
            if s == "interpolation":
                lam = self.lambdas
                num = np.full(len(w), lam[0] / V)
                den = np.full(len(w), lam[0])
                for k in range(1, top + 1):
                    count, total, *_ = self._level(ctx, w, k)
                    seen = total > 0
                    num += np.where(seen, lam[k] * count / total, 0.0)
                    den += np.where(seen, lam[k], 0.0)
                return num / den
            return self._kneser_ney(ctx, w, top)

    def _kneser_ney(self, ctx, w, top):
        D, nltk = self.discount, self.smoothing == "kneser-ney-nltk"
        cont, total, types = self._cont[1][w], self._cont_total[1][0], self._cont_types[1][0]
        if nltk:
            p = cont / total
        else:
            p = np.maximum(cont - D, 0.0) / total + D * types / total / self.V
        for k in range(2, top + 1):
            count, raw_total, raw_types, c_idx, g_idx = self._level(ctx, w, k)
            if k == self.order:                      # highest order: raw counts
                num, den, types = count, raw_total, raw_types
            else:                                    # lower orders: continuation counts
                num = self._take(self._cont[k], g_idx)
                den = self._take(self._cont_total[k], c_idx)
                types = raw_types if nltk else self._take(self._cont_types[k], c_idx)
            seen = (raw_total > 0) & (den > 0)
            p = np.where(seen, np.maximum(num - D, 0.0) / den + D * types / den * p, p)
        return p

    def _context_ids(self, context) -> np.ndarray:
        if context is None:
            context = ()
        if isinstance(context, str):
            raise ValueError(f"context: expected a sequence of words, got the str {context!r} "
                             f"(write ({context!r},) for a one-word context)")
        return self.vocab.encode(tuple(context))

    def prob(self, word: str, context=()) -> float:
        """P(word | context); context is a sequence of words, cut to the last ``order - 1``.

        A context shorter than ``order - 1`` asks the model of that order (as ``nltk.lm``'s ``score``);
        unknown words read as ``<UNK>``.
        """
        self._require_fit()
        if not isinstance(word, str):
            raise ValueError(f"prob: word must be a str, got {type(word).__name__}")
        ctx = self._context_ids(context)[None, :]
        return float(self._prob_ids(ctx, self.vocab.encode([word]))[0])

    def logprob(self, word: str, context=()) -> float:
        """Natural log of ``prob(word, context)`` (−inf for probability 0). NLTK's ``logscore`` is log2."""
        p = self.prob(word, context)
        return float(np.log(p)) if p > 0 else float("-inf")

    def distribution(self, context=()) -> np.ndarray:
        """P(w | context) for every vocabulary id w, shape (V,), in the order of ``vocab.itos``."""
        self._require_fit()
        ctx = self._context_ids(context)
        return self._prob_ids(np.tile(ctx, (self.V, 1)), np.arange(self.V))

    # ------------------------------------------------------------------
    # Scoring text
    # ------------------------------------------------------------------

    def ngram_ids(self, sentences) -> np.ndarray:
        """The scored n-grams as ids, shape (M, order): by default one per word and one for ``</s>``;
        with ``nltk_padding`` every n-gram of ``pad_both_ends(sentence, order)`` (what NLTK users score)."""
        self._require_fit()
        sentences = _check_sentences(sentences)
        n = self.order
        if not self.nltk_padding:
            ctx, target = context_target_ids(sentences, self.vocab, n)
            return np.column_stack([ctx, target])
        flat, lengths = _padded_ids(sentences, self.vocab, n - 1, n - 1)
        pos = _windows(lengths, lengths - n + 1, 0, n)
        return flat[pos[:, None] + np.arange(n)] if len(pos) else np.zeros((0, n), dtype=np.int64)

    def logprobs(self, sentences) -> np.ndarray:
        """Natural-log probability of every scored token of ``sentences`` (see ``ngram_ids``), shape (M,)."""
        grams = self.ngram_ids(sentences)
        with np.errstate(divide="ignore"):
            return np.log(self._prob_ids(grams[:, :-1], grams[:, -1]))

    def count_ngrams(self, sentences, k: int | None = None) -> np.ndarray:
        """Training count of the k-gram ending at every scored token of ``sentences``, shape (M,)."""
        k = self.order if k is None else k
        if not 1 <= k <= self.order:
            raise ValueError(f"count_ngrams: k must lie in 1..{self.order}, got {k}")
        grams = self.ngram_ids(sentences)[:, self.order - k:]
        return self._take(self._count[k], self._index(grams)).astype(np.int64)

    def cross_entropy(self, sentences) -> float:
        """Mean −log2 P per scored token (bits per token), NLTK's ``entropy``."""
        lp = self.logprobs(sentences)
        if len(lp) == 0:
            raise ValueError("cross_entropy: no tokens to score")
        return float(-lp.mean() / np.log(2))

    def perplexity(self, sentences) -> float:
        """exp(mean −log P) over the scored tokens = 2 ** cross_entropy (inf if a token has P = 0)."""
        lp = self.logprobs(sentences)
        if len(lp) == 0:
            raise ValueError("perplexity: no tokens to score")
        with np.errstate(over="ignore"):
            return float(np.exp(-lp.mean()))

    def generate(self, max_words: int = 20, seed=0, context=(), allow_unk: bool = False) -> list[str]:
        """Sample a sentence word by word until ``</s>`` or ``max_words`` words.

        ``seed`` is an int or a ``numpy.random.Generator``; ``context`` primes the history (after the
        ``<s>`` padding). ``<s>`` is never drawn, nor ``<UNK>`` unless ``allow_unk``.
        """
        self._require_fit()
        rng = np.random.default_rng(seed)
        history = [BOS] * (self.order - 1) + list(context)
        banned = [self.vocab.stoi[t] for t in (BOS,) if t in self.vocab.stoi]
        if not allow_unk:
            banned.append(0)
        words = []
        for _ in range(max_words):
            p = self.distribution(history[len(history) - (self.order - 1):] if self.order > 1 else ())
            p[banned] = 0.0
            if p.sum() <= 0:
                break
            word = self.vocab.itos[rng.choice(self.V, p=p / p.sum())]
            if word == EOS:
                break
            words.append(word)
            history.append(word)
        return words
