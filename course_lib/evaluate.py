"""Intrinsic evaluation / 内在评估 of word vectors: similarity, neighbours, human judgements, analogies.

Used by notebooks/02_word_representations.ipynb, notebooks/03_wordnet.ipynb,
problem sets ps2_word_vectors and ps3_wordnet, and benchmarks/bench_word2vec.py.

Slide material implemented here ("Intrinsic evaluation – word correlation")
---------------------------------------------------------------------------
- cosine similarity / 余弦相似度  cos(a, b) = aᵀb / (‖a‖ ‖b‖)       (``cosine_similarity``)
- correlation of the model's similarities with human-judged scores (the slides' table
  tiger–cat 7.35, book–paper 7.46, ... is WordSim-353, Finkelstein et al. 2002).  The
  measure is Spearman's rank correlation ρ: the Pearson correlation of the ranks, ties
  sharing their average rank (``spearman``; ``evaluate_similarity``).
- analogies a : b = c : ? answered by 3CosAdd, argmax_w cos(w, b − a + c) over all words
  but a, b, c (Mikolov et al. 2013; ``analogy_accuracy``) on Google's question set.

Data sets (shipped in gensim's test data, read offline): WordSim-353 (353 pairs, scores
0–10, similarity and relatedness mixed), SimLex-999 (999 pairs, 0–10, similarity only:
related but unlike words such as cup–coffee score low), questions-words.txt (19,544
analogies in 14 sections).  All words are lower-cased.

Shapes: an embedding matrix E is (|V|, d), row i the vector of ``vocab.itos[i]``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from course_lib.corpus import gensim_data_path

__all__ = [
    "SLIDE_HUMAN_SCORES", "cosine_similarity", "normalize_rows", "nearest_neighbours", "rankdata",
    "spearman", "load_wordsim353", "load_simlex999", "load_analogies", "pairs_in_vocab",
    "evaluate_similarity", "analogy_accuracy", "project_2d",
]

# The slides' table of human-judged scores (word 1, word 2, score), as printed.
SLIDE_HUMAN_SCORES = [
    ("tiger", "cat", 7.35), ("tiger", "tiger", 10.00), ("book", "paper", 7.46),
    ("computer", "internet", 7.58), ("plane", "car", 5.77), ("professor", "doctor", 6.62),
    ("stock", "phone", 1.62),
]


def cosine_similarity(a, b) -> float:
    """cos(a, b) = aᵀb / (‖a‖ ‖b‖) of two vectors (d,); 0 when either is the zero vector."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"cosine_similarity: expected two vectors of equal shape (d,), got {a.shape} and {b.shape}")
    norm = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / norm) if norm > 0 else 0.0


def normalize_rows(E) -> np.ndarray:
    """Each row divided by its L2 norm (zero rows stay zero), float64 (|V|, d)."""
    E = np.asarray(E, dtype=np.float64)
    if E.ndim != 2:
        raise ValueError(f"normalize_rows: expected (|V|, d), got {E.shape}")
    norms = np.linalg.norm(E, axis=1, keepdims=True)
    return E / np.where(norms > 0, norms, 1.0)


def _row(vocab, word: str) -> int:
    if word not in vocab:
        raise KeyError(f"{word!r} is not in the vocabulary")
    return vocab.stoi[word] if hasattr(vocab, "stoi") else list(vocab).index(word)


def nearest_neighbours(E, vocab, word: str, k: int = 5) -> list[tuple[str, float]]:
    """The k words with the highest cosine similarity to ``word`` (itself excluded), best first.

    ``vocab`` is a ``text.Vocab`` (or anything with ``stoi`` and ``itos``) matching E's rows.
    """
    E_n = normalize_rows(E)
    i = _row(vocab, word)
    sims = E_n @ E_n[i]
    sims[i] = -np.inf
    top = np.argsort(-sims, kind="stable")[:k]
    return [(vocab.itos[t], float(sims[t])) for t in top]


def rankdata(x) -> np.ndarray:
    """Ranks 1..n of the entries of x (n,), ties getting the average of the ranks they span."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x))
    sorted_x = x[order]
    start = 0
    for end in range(1, len(x) + 1):               # walk runs of equal values
        if end == len(x) or sorted_x[end] != sorted_x[start]:
            ranks[order[start:end]] = (start + end + 1) / 2.0     # mean of ranks start+1..end
            start = end
    return ranks


def spearman(x, y) -> float:
    """Spearman's rank correlation ρ of two score lists (n,): Pearson's r of their ranks."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape or len(x) < 2:
        raise ValueError(f"spearman: expected two sequences of equal length >= 2, got {x.shape} and {y.shape}")
    rx, ry = rankdata(x), rankdata(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denom = np.sqrt((rx @ rx) * (ry @ ry))
    return float(rx @ ry / denom) if denom > 0 else float("nan")


def _read_pairs(name: str) -> list[tuple[str, str, float]]:
    pairs = []
    for line in gensim_data_path(name).read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        a, b, score = line.split("\t")[:3]
        pairs.append((a.lower(), b.lower(), float(score)))
    return pairs


def load_wordsim353() -> list[tuple[str, str, float]]:
    """WordSim-353: 353 (word 1, word 2, human score 0–10) triples, lower-cased, in file order."""
    return _read_pairs("wordsim353.tsv")


def load_simlex999() -> list[tuple[str, str, float]]:
    """SimLex-999: 999 (word 1, word 2, human similarity 0–10) triples, lower-cased."""
    return _read_pairs("simlex999.txt")


def load_analogies(sections: Sequence[str] | None = None) -> list[tuple[str, str, str, str, str]]:
    """Google's analogy questions: (section, a, b, c, d) meaning a : b = c : d, lower-cased.

    ``sections`` keeps only those (e.g. ["capital-common-countries", "gram3-comparative"]).
    """
    out, section = [], ""
    for line in gensim_data_path("questions-words.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith(":"):
            section = line[1:].strip()
        elif line.strip() and (sections is None or section in sections):
            a, b, c, d = line.lower().split()
            out.append((section, a, b, c, d))
    return out


def pairs_in_vocab(pairs, *vocabs) -> list[tuple[str, str, float]]:
    """The pairs whose two words are in every one of ``vocabs`` (to compare models on the same pairs)."""
    return [p for p in pairs if all(p[0] in v and p[1] in v for v in vocabs)]


def evaluate_similarity(E, vocab, pairs) -> dict:
    """Spearman's ρ between cosine similarities of E and human scores, on the covered pairs.

    Args:
        E: (|V|, d) word vectors; vocab: their ``Vocab``.
        pairs: list of (word 1, word 2, human score).

    Returns:
        dict with "spearman" (ρ), "n" (pairs used), "total" (pairs given), "missing" (pairs with
        a word outside the vocabulary), "human" and "model" (the two score lists, (n,)).
    """
    E_n = normalize_rows(E)
    used = pairs_in_vocab(pairs, vocab)
    human = np.array([s for _, _, s in used])
    model = np.array([E_n[vocab.stoi[a]] @ E_n[vocab.stoi[b]] for a, b, _ in used])
    return {"spearman": spearman(human, model) if len(used) >= 2 else float("nan"), "n": len(used),
            "total": len(pairs), "missing": [p for p in pairs if p not in used], "human": human, "model": model}


def analogy_accuracy(E, vocab, questions, batch_size: int = 1024) -> dict:
    """3CosAdd accuracy on the questions whose four words are in the vocabulary.

    For a : b = c : ?, the answer is argmax_w cos(w, b̂ − â + ĉ) over all words w except
    a, b and c (hats: unit vectors).

    Args:
        E: (|V|, d); vocab: ``Vocab``; questions: (section, a, b, c, d) tuples (``load_analogies``).

    Returns:
        dict with "accuracy" (overall), "n" (questions answered), "total", "by_section"
        ({section: (correct, n)}) and "examples" (the first five (a, b, c, expected, predicted)).
    """
    E_n = normalize_rows(E)
    used = [q for q in questions if all(w in vocab for w in q[1:])]
    by_section: dict[str, list[int]] = {}
    examples, correct = [], 0
    for lo in range(0, len(used), batch_size):
        chunk = used[lo:lo + batch_size]
        ids = np.array([[vocab.stoi[w] for w in q[1:]] for q in chunk])        # (n, 4): a, b, c, d
        target = E_n[ids[:, 1]] - E_n[ids[:, 0]] + E_n[ids[:, 2]]
        scores = target @ E_n.T                                                  # (n, |V|)
        rows = np.arange(len(chunk))
        for col in range(3):
            scores[rows, ids[:, col]] = -np.inf                                 # exclude a, b, c
        predicted = scores.argmax(axis=1)
        for q, p, ok in zip(chunk, predicted, predicted == ids[:, 3]):
            stats = by_section.setdefault(q[0], [0, 0])
            stats[0] += int(ok)
            stats[1] += 1
            correct += int(ok)
            if len(examples) < 5:
                examples.append((q[1], q[2], q[3], q[4], vocab.itos[p]))
    return {"accuracy": correct / len(used) if used else float("nan"), "n": len(used), "total": len(questions),
            "by_section": {k: tuple(v) for k, v in by_section.items()}, "examples": examples}


def project_2d(E) -> np.ndarray:
    """The rows of E (n, d) projected on their first two principal components: (n, 2)."""
    E = np.asarray(E, dtype=np.float64)
    centred = E - E.mean(axis=0)
    _, _, Vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ Vt[:2].T
