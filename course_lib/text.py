"""Text to tokens to ids: sentence splitting, tokenisation / 分词 and a vocabulary / 词表.

Used by notebooks/02_word_representations.ipynb and problem set ps2_word_vectors
(and by ``course_lib.cooccurrence`` and ``course_lib.word2vec``).

The functions reproduce the slides' small examples exactly:

- ``sentences("I love AI. I love deep learning. I enjoy learning.")``
  -> ``[["I", "love", "AI"], ["I", "love", "deep", "learning"], ["I", "enjoy", "learning"]]``
  (the corpus of the co-occurrence table; punctuation is dropped, case is kept);
- ``characters("我爱学习爱劳动，是个好青年")``
  -> ``["我", "爱", "学", "习", "爱", "劳", "动", "是", "个", "好", "青", "年"]``
  (the skip-gram example: one token per Chinese character, punctuation dropped).

A ``Vocab`` maps words to integer ids and back and keeps their counts. Id 0 is
``<unk>`` (unknown word / 未登录词) when the vocabulary has one; every word of
the vocabulary then has a one-hot vector / 独热向量 e_i of length ``len(vocab)``.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import Iterable, Sequence

import numpy as np

__all__ = ["UNK", "split_sentences", "tokenize", "sentences", "characters", "Vocab"]

UNK = "<unk>"

# A sentence ends at . ! ? (or the Chinese 。！？) followed by white space or the end of the text.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])")
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?|[0-9]+")


def split_sentences(text: str) -> list[str]:
    """Split a text into sentences at . ! ? 。！？ (the mark stays with its sentence; empty pieces dropped)."""
    return [piece.strip() for piece in _SENTENCE_END.split(text) if piece.strip()]


def tokenize(sentence: str, lower: bool = False) -> list[str]:
    """Word tokens of one sentence: runs of letters (with an inner apostrophe) or of digits.

    Punctuation is dropped; case is kept unless ``lower`` (the slides write "I" and "AI").
    """
    tokens = _WORD.findall(sentence)
    return [t.lower() for t in tokens] if lower else tokens


def sentences(text: str, lower: bool = False) -> list[list[str]]:
    """``split_sentences`` then ``tokenize``: a list of sentences, each a list of word tokens."""
    return [toks for toks in (tokenize(s, lower) for s in split_sentences(text)) if toks]


def characters(text: str) -> list[str]:
    """One token per character, without punctuation or white space (for Chinese text).

    A character is dropped when its Unicode category is punctuation (P*), a symbol (S*)
    or a separator/space, so "，" and "。" go and "我" stays.
    """
    return [ch for ch in text if not ch.isspace() and unicodedata.category(ch)[0] not in "PSZ"]


class Vocab:
    """Word <-> id mapping with counts.

    Build one with ``Vocab.build(sentences, ...)`` or ``Vocab(words)`` from an explicit
    id-to-word list.  ``vocab[word]`` is the word's id (the ``<unk>`` id for unknown words,
    or a KeyError when the vocabulary has no ``<unk>``); ``vocab.itos[i]`` is the word of id i.

    Attributes:
        itos: list of words, position = id.
        stoi: dict word -> id.
        counts: int64 array (len(vocab),), the corpus count of each word (0 for ``<unk>``
            unless unknown tokens were counted).
    """

    def __init__(self, words: Sequence[str], counts: Sequence[int] | None = None, unk: bool = False):
        words = list(words)
        if unk and UNK not in words:
            words = [UNK] + words
            counts = None if counts is None else [0] + list(counts)
        if len(set(words)) != len(words):
            dupes = sorted(w for w, c in Counter(words).items() if c > 1)
            raise ValueError(f"Vocab: words must be unique, got duplicates {dupes[:5]}")
        self.itos = words
        self.stoi = {w: i for i, w in enumerate(words)}
        if counts is None:
            counts = np.zeros(len(words), dtype=np.int64)
        self.counts = np.asarray(counts, dtype=np.int64)
        if self.counts.shape != (len(words),):
            raise ValueError(f"Vocab: expected counts of shape ({len(words)},), got {self.counts.shape}")

    @classmethod
    def build(cls, sentences: Iterable[Sequence[str]], min_count: int = 1, max_size: int | None = None,
              order: str = "frequency", unk: bool = False) -> "Vocab":
        """A vocabulary of the words in ``sentences`` (a list of token lists).

        Args:
            min_count: keep words seen at least this often.
            max_size: keep at most this many words (the most frequent ones), ``<unk>`` not counted.
            order: "frequency" (most frequent first, ties alphabetical; word2vec's order) or
                "first" (order of first appearance in the text).
            unk: put ``<unk>`` at id 0; it counts the tokens of the dropped words.
        """
        if order not in ("frequency", "first"):
            raise ValueError(f"order: expected 'frequency' or 'first', got {order!r}")
        counter: Counter = Counter()
        for sentence in sentences:
            counter.update(sentence)
        words = [w for w, c in counter.items() if c >= min_count]    # Counter keeps first-seen order
        if order == "frequency":
            words.sort(key=lambda w: (-counter[w], w))
        if max_size is not None:
            kept = sorted(words, key=lambda w: (-counter[w], w))[:max_size]
            keep = set(kept)
            words = [w for w in words if w in keep]
        counts = [counter[w] for w in words]
        vocab = cls(words, counts, unk=unk)
        if unk:
            vocab.counts[0] = sum(counter.values()) - int(np.sum(counts))
        return vocab

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, word) -> bool:
        return word in self.stoi

    def __iter__(self):
        return iter(self.itos)

    def __getitem__(self, word: str) -> int:
        if word in self.stoi:
            return self.stoi[word]
        if UNK in self.stoi:
            return self.stoi[UNK]
        raise KeyError(f"{word!r} is not in the vocabulary (and it has no {UNK})")

    def __repr__(self) -> str:
        head = ", ".join(self.itos[:5])
        return f"Vocab({len(self)} words: {head}{', ...' if len(self) > 5 else ''})"

    def encode(self, tokens: Sequence[str], drop_unknown: bool = False) -> np.ndarray:
        """Ids of ``tokens``, shape (len(tokens),) (or fewer with ``drop_unknown``)."""
        if drop_unknown:
            return np.array([self.stoi[t] for t in tokens if t in self.stoi], dtype=np.int64)
        return np.array([self[t] for t in tokens], dtype=np.int64)

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Words of ``ids``."""
        return [self.itos[int(i)] for i in ids]

    def one_hot(self, word: str) -> np.ndarray:
        """The one-hot vector e_i of ``word``: shape (len(vocab),), a single 1 at its id."""
        e = np.zeros(len(self), dtype=np.int64)
        e[self[word]] = 1
        return e
