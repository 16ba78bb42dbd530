"""Count-based word vectors: co-occurrence matrices / 共现矩阵, PPMI and truncated SVD.

Used by notebooks/02_word_representations.ipynb and problem set ps2_word_vectors.

Slide material implemented here
-------------------------------
- Window-based co-occurrence matrix (基于窗口的共现矩阵): M[i, j] = how often word j
  appears within ``window`` positions left or right of word i, inside one sentence
  (never across a sentence end).  M is symmetric; row/column i is ``vocab.itos[i]``.
  With window 1 the slides' corpus "I love AI. I love deep learning. I enjoy learning."
  gives their table (``SLIDE_CORPUS``, ``SLIDE_ORDER``, ``SLIDE_TABLE``).  The notes' prose
  uses CS224n's corpus "I like deep learning. I like NLP. I enjoy flying." instead; CS224n's
  published table (``CS224N_TABLE``) counts "." as a word at the end of each sentence and, like
  ``window_cooccurrence``, never lets a window cross a sentence end.
- Word-document matrix (词-文档矩阵): A[i, d] = count of word i in document d; its
  truncated SVD is latent semantic analysis (LSA, 潜在语义分析).
- The slides' "issues" of raw counts (size grows with the vocabulary, high dimension,
  sparsity): ``matrix_stats`` measures them.
- GloVe's motivation (Pennington et al. 2014, Table 1): ratios of co-occurrence probabilities
  P(k | i) / P(k | j), with P(k | i) = X_ik / Σ_k' X_ik'  (``probability_ratios``).
- The "idea: low dimensional word vectors": positive pointwise mutual information

      PPMI(i, j) = max(0, log P(i, j) / (P(i) P_α(j))),   P_α(j) ∝ count(j)^α

  (α = 1 is plain PPMI; α = 0.75 is the "context distribution smoothing" of Levy,
  Goldberg & Dagan 2015), then a truncated SVD M ≈ U_k Σ_k V_kᵀ and word vectors
  U_k Σ_k^p (p = 0.5 by default).  ``randomized_svd`` is Halko, Martinsson & Tropp's
  (2011) algorithm in a few lines of numpy; it works on dense arrays and scipy sparse
  matrices alike.

Shapes: |V| words, D documents; M (|V|, |V|), A (|V|, D), word vectors (|V|, k).
Tokens that are not in the vocabulary are removed before windowing, as word2vec and
GloVe do.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.sparse as sp

from course_lib.text import Vocab

__all__ = [
    "SLIDE_CORPUS", "SLIDE_ORDER", "SLIDE_TABLE", "CS224N_CORPUS", "CS224N_ORDER", "CS224N_TABLE",
    "as_vocab", "corpus_ids", "window_pairs",
    "window_cooccurrence", "word_document_matrix", "tfidf", "ppmi", "randomized_svd",
    "svd_embeddings", "matrix_stats", "probability_ratios",
]

# The slides' example (window length 1, left or right context).
SLIDE_CORPUS = "I love AI. I love deep learning. I enjoy learning."
SLIDE_ORDER = ["I", "love", "enjoy", "AI", "deep", "learning"]
SLIDE_TABLE = np.array([
    [0, 2, 1, 0, 0, 0],
    [2, 0, 0, 1, 1, 0],
    [1, 0, 0, 0, 0, 1],
    [0, 1, 0, 0, 0, 0],
    [0, 1, 0, 0, 0, 1],
    [0, 0, 1, 0, 1, 0],
])

# CS224n's example (Stanford CS224n, lecture "Word vectors 2"; window length 1), as published:
# "." is a word (one at the end of each sentence), and no window crosses a sentence end
# (otherwise ". I" would count twice).
CS224N_CORPUS = "I like deep learning. I like NLP. I enjoy flying."
CS224N_ORDER = ["I", "like", "enjoy", "deep", "learning", "NLP", "flying", "."]
CS224N_TABLE = np.array([
    [0, 2, 1, 0, 0, 0, 0, 0],
    [2, 0, 0, 1, 0, 1, 0, 0],
    [1, 0, 0, 0, 0, 0, 1, 0],
    [0, 1, 0, 0, 1, 0, 0, 0],
    [0, 0, 0, 1, 0, 0, 0, 1],
    [0, 1, 0, 0, 0, 0, 0, 1],
    [0, 0, 1, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 1, 1, 1, 0],
])


def as_vocab(vocab, sentences) -> Vocab:
    """``vocab`` as a Vocab: None -> the words of ``sentences`` in order of first appearance;
    a list of words -> that order; a Vocab -> itself."""
    if vocab is None:
        return Vocab.build(sentences, order="first")
    if isinstance(vocab, Vocab):
        return vocab
    return Vocab(list(vocab))


def corpus_ids(sentences: Sequence[Sequence[str]], vocab: Vocab) -> tuple[np.ndarray, np.ndarray]:
    """All in-vocabulary tokens as one stream.

    Returns:
        ids: (N,) int64 word ids, sentences concatenated, unknown tokens removed.
        sentence: (N,) int64, the index of the sentence each token came from.
    """
    stoi = vocab.stoi
    ids, sentence = [], []
    for s, tokens in enumerate(sentences):
        kept = [stoi[t] for t in tokens if t in stoi]
        ids.extend(kept)
        sentence.extend([s] * len(kept))
    return np.array(ids, dtype=np.int64), np.array(sentence, dtype=np.int64)


def window_pairs(ids: np.ndarray, sentence: np.ndarray, window: int, weighting: str = "count"):
    """Every (word, context word) pair at distance 1..window inside a sentence, both directions.

    Args:
        ids, sentence: the token stream of ``corpus_ids``, shapes (N,).
        window: how many positions to the left and to the right count as context.
        weighting: "count" (each pair counts 1) or "harmonic" (a pair at distance d counts
            1/d, as in GloVe).

    Returns:
        rows, cols: (P,) int64 word ids; weights: (P,) float64.  Pair order: by distance,
        then position (vectorised, not text order; use ``word2vec.skipgram_pairs`` for that).
    """
    if not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"window: expected a positive integer, got {window!r}")
    if weighting not in ("count", "harmonic"):
        raise ValueError(f"weighting: expected 'count' or 'harmonic', got {weighting!r}")
    ids, sentence = np.asarray(ids), np.asarray(sentence)
    if ids.shape != sentence.shape or ids.ndim != 1:
        raise ValueError(f"ids and sentence: expected equal shapes (N,), got {ids.shape} and {sentence.shape}")
    rows, cols, weights = [], [], []
    for d in range(1, window + 1):
        same = sentence[:-d] == sentence[d:]            # both ends inside one sentence
        left, right = ids[:-d][same], ids[d:][same]
        w = np.full(left.shape, 1.0 if weighting == "count" else 1.0 / d)
        rows += [left, right]                           # word at i sees i + d, and i + d sees i
        cols += [right, left]
        weights += [w, w]
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(weights)


def window_cooccurrence(sentences: Sequence[Sequence[str]], window: int = 1, vocab=None,
                        weighting: str = "count", sparse: bool = False):
    """The window-based co-occurrence matrix of a tokenised corpus.

    Args:
        sentences: list of sentences, each a list of tokens (see ``text.sentences``).
        window: context size on each side (the slides' "window length").
        vocab: None (words in order of first appearance), a list of words fixing the
            row/column order, or a ``Vocab``.  Tokens not in it are removed first.
        weighting: "count" or "harmonic" (1/distance, GloVe's weighting).
        sparse: return a scipy.sparse CSR matrix (for a real corpus: a dense 10k x 10k
            matrix of int64 takes 800 MB).

    Returns:
        M: (|V|, |V|) symmetric; int64 counts for "count" (float64 for "harmonic"), dense
           numpy unless ``sparse``.  M[i, j] = weighted count of word j near word i.
        vocab: the ``Vocab`` whose id i is row and column i.
    """
    vocab = as_vocab(vocab, sentences)
    ids, sentence = corpus_ids(sentences, vocab)
    rows, cols, weights = window_pairs(ids, sentence, window, weighting)
    n = len(vocab)
    dtype = np.int64 if weighting == "count" else np.float64
    if sparse:
        M = sp.coo_matrix((weights, (rows, cols)), shape=(n, n)).tocsr()
        M.sum_duplicates()
        return M.astype(dtype), vocab
    M = np.zeros((n, n), dtype=np.float64)
    np.add.at(M, (rows, cols), weights)
    return M.astype(dtype), vocab


def word_document_matrix(documents: Sequence[Sequence[str]], vocab=None, sparse: bool = False):
    """A[i, d] = how often word i occurs in document d.

    Args:
        documents: list of documents, each a list of tokens.
        vocab: as in ``window_cooccurrence``.
        sparse: return scipy CSR.

    Returns:
        A: (|V|, D) int64 counts; vocab: the ``Vocab`` of the rows.
    """
    vocab = as_vocab(vocab, documents)
    ids, doc = corpus_ids(documents, vocab)
    A = sp.coo_matrix((np.ones(len(ids), dtype=np.int64), (ids, doc)), shape=(len(vocab), len(documents))).tocsr()
    A.sum_duplicates()
    return (A if sparse else A.toarray()), vocab


def tfidf(A):
    """tf-idf weighting of a word-document matrix (|V|, D): A[i, d] * log(D / df_i).

    df_i is the number of documents that contain word i; a word in every document gets 0.
    Dense in, dense out; sparse in, sparse out.
    """
    D = A.shape[1]
    df = np.asarray((A > 0).sum(axis=1)).ravel()
    idf = np.log(D / np.maximum(df, 1))
    if sp.issparse(A):
        return sp.diags(idf) @ A.astype(np.float64)
    return np.asarray(A, dtype=np.float64) * idf[:, None]


def ppmi(M, alpha: float = 1.0):
    """Positive pointwise mutual information of a co-occurrence matrix.

    PPMI(i, j) = max(0, log(P(i, j) / (P(i) P_α(j)))), with P(i, j) = M_ij / Σ M,
    P(i) = Σ_j M_ij / Σ M and P_α(j) = (Σ_i M_ij)^α / Σ_j' (Σ_i M_ij')^α.
    Entries with M_ij = 0 stay 0 (log 0 = −inf, clipped).

    Args:
        M: (|V|, |V'|) non-negative counts, dense or scipy sparse.
        alpha: context distribution smoothing exponent (1 = plain PPMI).

    Returns:
        float64 array of M's shape (sparse CSR if M is sparse).
    """
    if M.ndim != 2:
        raise ValueError(f"ppmi: expected a 2-D matrix, got shape {M.shape}")
    total = float(M.sum())
    if total <= 0:
        raise ValueError("ppmi: the matrix has no positive counts")
    row = np.asarray(M.sum(axis=1), dtype=np.float64).ravel() / total
    col = np.asarray(M.sum(axis=0), dtype=np.float64).ravel() ** alpha
    col /= col.sum()
    if sp.issparse(M):
        C = M.tocoo()
        pmi = np.log(C.data / total / (row[C.row] * col[C.col]))
        keep = pmi > 0
        out = sp.csr_matrix((pmi[keep], (C.row[keep], C.col[keep])), shape=M.shape)
        return out
    M = np.asarray(M, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):      # log 0 = −inf where M_ij = 0: masked below
        pmi = np.log(M / total) - np.log(row)[:, None] - np.log(col)[None, :]
    return np.where(M > 0, np.maximum(pmi, 0.0), 0.0)


def randomized_svd(A, k: int, n_oversamples: int = 10, n_iter: int = 4, seed=0):
    """Truncated SVD A ≈ U diag(S) Vt by random projection (Halko et al. 2011, Alg. 4.4 + 5.1).

    1. Y = A Ω with a random Gaussian Ω (n, k + p): Y's columns span (almost) A's top
       left singular space;  2. a few power iterations Y = A Aᵀ Y sharpen it;
    3. Q = orth(Y);  4. the small B = Qᵀ A (k + p, n) has an exact SVD B = Ũ S Vt;
    5. U = Q Ũ.  Only products with A are needed, so A may be scipy sparse.

    Args:
        A: (m, n) dense array or scipy sparse matrix.
        k: number of singular triplets, 1 <= k <= min(m, n).
        n_oversamples: extra random directions p; n_iter: power iterations.
        seed: int or numpy Generator.

    Returns:
        U (m, k), S (k,) in decreasing order, Vt (k, n).
    """
    m, n = A.shape
    if not 1 <= k <= min(m, n):
        raise ValueError(f"randomized_svd: expected 1 <= k <= min{A.shape} = {min(m, n)}, got k = {k}")
    rng = np.random.default_rng(seed)
    width = min(k + n_oversamples, min(m, n))
    Y = A @ rng.standard_normal((n, width))
    for _ in range(n_iter):                       # re-orthonormalise between products for stability
        Q, _ = np.linalg.qr(Y)
        Q, _ = np.linalg.qr(A.T @ Q)
        Y = A @ Q
    Q, _ = np.linalg.qr(np.asarray(Y))
    B = np.asarray((A.T @ Q).T)                   # = Qᵀ A, computed as (Aᵀ Q)ᵀ so sparse A works
    U_small, S, Vt = np.linalg.svd(B, full_matrices=False)
    U = Q @ U_small
    # fix the sign of each singular pair (largest |entry| of u positive) so results are reproducible
    signs = np.sign(U[np.abs(U).argmax(axis=0), np.arange(U.shape[1])])
    signs[signs == 0] = 1.0
    U, Vt = U * signs, Vt * signs[:, None]
    return U[:, :k], S[:k], Vt[:k]


def svd_embeddings(M, k: int, power: float = 0.5, seed=0, exact: bool = False) -> np.ndarray:
    """Word vectors U_k Σ_k^power from a truncated SVD of M (|V|, n).

    ``exact`` uses numpy's full SVD (dense M only; for checking); otherwise ``randomized_svd``.
    Returns (|V|, k).
    """
    if exact:
        U, S, Vt = np.linalg.svd(np.asarray(M.toarray() if sp.issparse(M) else M, dtype=np.float64),
                                 full_matrices=False)
        U, S = U[:, :k], S[:k]
    else:
        U, S, _ = randomized_svd(M, k, seed=seed)
    return U * S ** power


def matrix_stats(M) -> dict:
    """The slides' issues in numbers: size, density and memory of a (sparse or dense) matrix.

    Returns a dict: shape, entries (rows x cols), nonzeros, density (nonzeros / entries),
    dense_mib (as a dense float32 array) and sparse_mib (CSR: a float32 value and an int32
    column index per nonzero plus the row pointers).
    """
    rows, cols = M.shape
    nnz = int(M.nnz if sp.issparse(M) else np.count_nonzero(M))
    entries = rows * cols
    return {
        "shape": (rows, cols), "entries": entries, "nonzeros": nnz,
        "density": nnz / entries if entries else 0.0,
        "dense_mib": entries * 4 / 2**20,
        "sparse_mib": (nnz * 8 + (rows + 1) * 4) / 2**20,
    }


def probability_ratios(X, vocab, i: str, j: str, probes: Sequence[str]):
    """GloVe's motivating table: P(k | i), P(k | j) and their ratio for each probe word k.

    P(k | i) = X_ik / X_i with X_i = Σ_k' X_ik' (row i of the co-occurrence matrix, normalised).
    Pennington et al. (2014, Table 1) compare i = ice with j = steam: the ratio is large for a k
    related to i but not to j (solid), small for the reverse (gas), and near 1 for a k related
    to both (water) or to neither (fashion).

    Args:
        X: (|V|, |V|) co-occurrence matrix, dense or scipy sparse; row r belongs to ``vocab.itos[r]``.
        vocab: the ``Vocab`` of X's rows and columns.
        i, j: the two words compared.  probes: the K context words k.

    Returns:
        P_i, P_j, ratio: float64 arrays of shape (K,); ``ratio`` is inf where P(k | j) = 0 < P(k | i)
        and nan where both are 0.
    """
    if X.ndim != 2 or X.shape[0] != X.shape[1] or X.shape[0] != len(vocab):
        raise ValueError(f"X: expected a square matrix (|V|, |V|) with |V| = {len(vocab)}, got shape {X.shape}")
    missing = [w for w in (i, j, *probes) if w not in vocab.stoi]
    if missing:
        raise ValueError(f"probability_ratios: not in the vocabulary: {missing}")
    X = X.tocsr() if sp.issparse(X) else np.asarray(X)
    cols = [vocab.stoi[k] for k in probes]

    def conditional(word):
        r = vocab.stoi[word]
        row = np.asarray(X[r].toarray() if sp.issparse(X) else X[r], dtype=np.float64).ravel()
        if row.sum() <= 0:
            raise ValueError(f"probability_ratios: {word!r} co-occurs with no word, so P(k | {word}) is undefined")
        return row[cols] / row.sum()

    P_i, P_j = conditional(i), conditional(j)
    with np.errstate(divide="ignore", invalid="ignore"):       # 0 in P_j: inf or nan, as documented
        ratio = P_i / P_j
    return P_i, P_j, ratio
