"""word2vec / 词向量: skip-gram / 跳字模型 and CBOW / 连续词袋模型 with negative sampling / 负采样.

Used by notebooks/02_word_representations.ipynb, problem set ps2_word_vectors and
benchmarks/bench_word2vec.py.

Slide material implemented here
-------------------------------
- Training examples from text (the slides' "我爱学习爱劳动，是个好青年", window 2):
  ``skipgram_pairs`` -> (我,爱), (我,学), (爱,我), (爱,学), (爱,习), (学,我), ...
  (centres in text order, each centre's contexts in text order); ``cbow_examples``
  (context words -> centre word) and ``lm_examples`` (previous words -> next word,
  the language-model objective word2vec grew out of).
- "one-hot x embedding matrix = a row": e_iᵀ E = E[i] (``one_hot``; the slides'
  [1, 0, ..., 0] · E = [0.75, 0.82], see ``SLIDE_EMBEDDING``).
- Skip-gram with a full softmax over the vocabulary (``naive_softmax_loss_and_grads``):
      J = −log softmax(U v_c)[o] = −u_oᵀ v_c + log Σ_w exp(u_wᵀ v_c)
- Skip-gram with negative sampling, SGNS (Mikolov et al. 2013), for one centre word c,
  one true context word o and K noise words k_1..k_K drawn from P_n(w) ∝ count(w)^0.75:
      J = −log σ(u_oᵀ v_c) − Σ_k log σ(−u_kᵀ v_c)                    (``sgns_loss_and_grads``)
      ∂J/∂v_c = (σ(u_oᵀ v_c) − 1) u_o + Σ_k σ(u_kᵀ v_c) u_k
      ∂J/∂u_o = (σ(u_oᵀ v_c) − 1) v_c,   ∂J/∂u_k = σ(u_kᵀ v_c) v_c
  v are "input" (centre) vectors, rows of W_in (|V|, d); u are "output" (context)
  vectors, rows of W_out (|V|, d).  The word vectors one keeps are W_in.
- CBOW with negative sampling: the same loss with v_c replaced by the mean of the
  context vectors h = (1/n) Σ_j v_j, and the centre word as the target
  (``cbow_loss_and_grads``); ∂J/∂v_j = ∂J/∂h / n.  (word2vec.c and gensim update every
  v_j by the whole ∂J/∂h; the trainer does the same.)
- Frequent-word subsampling: a token of word w with frequency f(w) is kept with
  probability min(1, sqrt(t / f) + t / f) (the formula of word2vec.c and gensim; the
  paper writes "discard with 1 − sqrt(t / f)").

numpy references (the maths, gradients checked by finite differences) come first; the
torch trainer ``train_word2vec`` is batched and uses the same hand-written gradients
(no autograd).  Speed-ups it makes, each tested: pairs are generated and shuffled per
epoch with vectorised numpy; a mini-batch of B pairs is updated at once (gradients of
repeated rows are summed); and the K noise words can be shared by a group of G
consecutive (shuffled) pairs (``group_size``; G = 1 is word2vec's per-pair sampling).
Sharing keeps each pair's loss exactly the SGNS loss with K noise words from P_n.
"""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from course_lib import backprop
from course_lib.cooccurrence import corpus_ids
from course_lib.text import Vocab

__all__ = [
    "SLIDE_TEXT", "SLIDE_PAIRS_START", "SLIDE_EMBEDDING", "skipgram_pairs", "cbow_examples",
    "lm_examples", "one_hot", "sigmoid", "naive_softmax_loss_and_grads", "sgns_loss_and_grads",
    "cbow_loss_and_grads", "sgns_batch_loss_and_grads", "keep_probabilities", "noise_distribution",
    "sgns_grads_torch", "cbow_grads_torch", "epoch_skipgram_pairs", "epoch_cbow_examples",
    "train_word2vec", "default_device",
]

SLIDE_TEXT = "我爱学习爱劳动，是个好青年"
SLIDE_PAIRS_START = [("我", "爱"), ("我", "学"), ("爱", "我"), ("爱", "学"), ("爱", "习"), ("学", "我")]
# The slides' embedding matrix: rows 0, 1 and the last are printed, the rest elided ("...").
SLIDE_EMBEDDING = {"first_rows": np.array([[0.75, 0.82], [0.43, -0.81]]), "last_row": np.array([-0.2, 0.9])}


# --------------------------------------------------------------------------
# Training examples from a token sequence
# --------------------------------------------------------------------------

def _check_window(window) -> None:
    if not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"window: expected a positive integer, got {window!r}")


def skipgram_pairs(tokens: Sequence, window: int) -> list[tuple]:
    """(centre, context) pairs: every token with each token at most ``window`` positions away.

    Centres in text order; each centre's contexts in text order (left ones, then right ones).
    Returns a list of 2-tuples of tokens (whatever ``tokens`` holds: str or int).
    """
    _check_window(window)
    tokens = list(tokens)
    pairs = []
    for i, centre in enumerate(tokens):
        for j in range(max(0, i - window), min(len(tokens), i + window + 1)):
            if j != i:
                pairs.append((centre, tokens[j]))
    return pairs


def cbow_examples(tokens: Sequence, window: int) -> list[tuple[tuple, object]]:
    """(context words, centre word) examples for CBOW, one per position, in text order.

    The context is the tokens at most ``window`` positions away, in text order (fewer at
    the ends of the sequence).
    """
    _check_window(window)
    tokens = list(tokens)
    out = []
    for i, centre in enumerate(tokens):
        context = tuple(tokens[j] for j in range(max(0, i - window), min(len(tokens), i + window + 1)) if j != i)
        if context:
            out.append((context, centre))
    return out


def lm_examples(tokens: Sequence, context_size: int) -> list[tuple[tuple, object]]:
    """(previous words, next word) examples of a language model with a fixed context.

    Position i (i >= 1) gives (tokens[max(0, i − context_size):i], tokens[i]).
    """
    _check_window(context_size)
    tokens = list(tokens)
    return [(tuple(tokens[max(0, i - context_size):i]), tokens[i]) for i in range(1, len(tokens))]


def one_hot(index: int, size: int) -> np.ndarray:
    """e_index of length ``size`` (float64), so that ``one_hot(i, |V|) @ E == E[i]``."""
    if not 0 <= index < size:
        raise ValueError(f"one_hot: expected 0 <= index < size = {size}, got {index}")
    e = np.zeros(size)
    e[index] = 1.0
    return e


# --------------------------------------------------------------------------
# numpy references: losses and hand-written gradients
# --------------------------------------------------------------------------

sigmoid = backprop.sigmoid             # σ(x) = 1 / (1 + e^{−x}), defined once, in course_lib.backprop


def _log_sigmoid(x):
    """log σ(x), stable for large |x|."""
    x = np.asarray(x, dtype=float)
    return -np.logaddexp(0.0, -x)


def naive_softmax_loss_and_grads(v_c, o: int, U):
    """Skip-gram with a full softmax: J = −log softmax(U v_c)[o].

    Args:
        v_c: centre vector (d,).
        o: id of the true context word, 0 <= o < |V|.
        U: all output vectors as rows (|V|, d).

    Returns:
        loss (float), dv_c (d,), dU (|V|, d)
        with ∂J/∂v_c = Uᵀ (ŷ − y) and ∂J/∂U = (ŷ − y) v_cᵀ, ŷ = softmax(U v_c), y = e_o.
    """
    v_c, U = np.asarray(v_c, dtype=float), np.asarray(U, dtype=float)
    if U.ndim != 2 or v_c.shape != (U.shape[1],):
        raise ValueError(f"naive_softmax: expected v_c (d,) and U (|V|, d), got {v_c.shape} and {U.shape}")
    scores = U @ v_c
    scores = scores - scores.max()
    y_hat = np.exp(scores) / np.exp(scores).sum()
    loss = float(-np.log(y_hat[o]))
    delta = y_hat.copy()
    delta[o] -= 1.0                      # ŷ − y
    return loss, U.T @ delta, np.outer(delta, v_c)


def _check_ns(v, u, U_neg, v_name: str, u_name: str):
    v, u, U_neg = (np.asarray(a, dtype=float) for a in (v, u, U_neg))
    d = u.shape[-1] if u.ndim else None
    if u.ndim != 1 or v.shape[-1:] != (d,) or U_neg.ndim != 2 or U_neg.shape[1] != d:
        raise ValueError(f"expected {v_name} (..., d), {u_name} (d,) and U_neg (K, d) with one d; "
                         f"got {v.shape}, {u.shape} and {U_neg.shape}")
    return v, u, U_neg


def sgns_loss_and_grads(v_c, u_o, U_neg):
    """Skip-gram negative-sampling loss of one (centre, context) pair and its gradients.

    J = −log σ(u_oᵀ v_c) − Σ_k log σ(−u_kᵀ v_c)

    Args:
        v_c: centre (input) vector (d,).
        u_o: true context (output) vector (d,).
        U_neg: the K noise words' output vectors as rows (K, d).

    Returns:
        loss (float), dv_c (d,), du_o (d,), dU_neg (K, d).
    """
    v_c, u_o, U_neg = _check_ns(v_c, u_o, U_neg, "v_c", "u_o")
    if v_c.ndim != 1:
        raise ValueError(f"v_c: expected shape (d,), got {v_c.shape}")
    s_o = u_o @ v_c                       # score of the true pair
    s_k = U_neg @ v_c                     # scores of the noise pairs (K,)
    loss = float(-_log_sigmoid(s_o) - _log_sigmoid(-s_k).sum())
    g_o = sigmoid(s_o) - 1.0              # ∂J/∂s_o
    g_k = sigmoid(s_k)                    # ∂J/∂s_k  (K,)
    dv_c = g_o * u_o + g_k @ U_neg
    du_o = g_o * v_c
    dU_neg = np.outer(g_k, v_c)
    return loss, dv_c, du_o, dU_neg


def cbow_loss_and_grads(V_ctx, u_c, U_neg):
    """CBOW negative-sampling loss of one example: the mean context vector predicts the centre.

    h = (1/n) Σ_j v_j,   J = −log σ(u_cᵀ h) − Σ_k log σ(−u_kᵀ h)

    Args:
        V_ctx: the n context words' input vectors as rows (n, d).
        u_c: the centre word's output vector (d,).
        U_neg: noise words' output vectors (K, d).

    Returns:
        loss (float), dV_ctx (n, d) (every row ∂J/∂h / n), du_c (d,), dU_neg (K, d).
    """
    V_ctx, u_c, U_neg = _check_ns(V_ctx, u_c, U_neg, "V_ctx", "u_c")
    if V_ctx.ndim != 2 or len(V_ctx) == 0:
        raise ValueError(f"V_ctx: expected shape (n, d) with n >= 1, got {V_ctx.shape}")
    n = V_ctx.shape[0]
    h = V_ctx.mean(axis=0)
    loss, dh, du_c, dU_neg = sgns_loss_and_grads(h, u_c, U_neg)
    return loss, np.tile(dh / n, (n, 1)), du_c, dU_neg


def sgns_batch_loss_and_grads(W_in, W_out, centres, contexts, negatives):
    """Summed SGNS loss of a batch of pairs and its gradients with respect to W_in and W_out.

    A noise word equal to the pair's true context word is skipped (it contributes no loss and
    no gradient), as in word2vec.c and gensim.

    Args:
        W_in: input vectors (|V|, d); W_out: output vectors (|V|, d).
        centres, contexts: (B,) int ids; negatives: (B, K) int ids.

    Returns:
        loss (float, summed over the batch), dW_in (|V|, d), dW_out (|V|, d).
    """
    W_in, W_out = np.asarray(W_in, dtype=float), np.asarray(W_out, dtype=float)
    centres, contexts, negatives = (np.asarray(a) for a in (centres, contexts, negatives))
    B = centres.shape[0]
    if W_in.shape != W_out.shape or W_in.ndim != 2:
        raise ValueError(f"W_in and W_out: expected equal shapes (|V|, d), got {W_in.shape} and {W_out.shape}")
    if centres.shape != (B,) or contexts.shape != (B,) or negatives.ndim != 2 or negatives.shape[0] != B:
        raise ValueError(f"expected centres (B,), contexts (B,), negatives (B, K); "
                         f"got {centres.shape}, {contexts.shape}, {negatives.shape}")
    v, u, U_neg = W_in[centres], W_out[contexts], W_out[negatives]     # (B, d), (B, d), (B, K, d)
    keep = negatives != contexts[:, None]                               # (B, K)
    s_o = np.einsum("bd,bd->b", v, u)
    s_k = np.einsum("bkd,bd->bk", U_neg, v)
    loss = float(-_log_sigmoid(s_o).sum() - (_log_sigmoid(-s_k) * keep).sum())
    g_o = sigmoid(s_o) - 1.0
    g_k = sigmoid(s_k) * keep
    dW_in = np.zeros_like(W_in)
    dW_out = np.zeros_like(W_out)
    np.add.at(dW_in, centres, g_o[:, None] * u + np.einsum("bk,bkd->bd", g_k, U_neg))
    np.add.at(dW_out, contexts, g_o[:, None] * v)
    np.add.at(dW_out, negatives.reshape(-1), (g_k[:, :, None] * v[:, None, :]).reshape(-1, v.shape[1]))
    return loss, dW_in, dW_out


def keep_probabilities(counts, sample: float) -> np.ndarray:
    """Subsampling of frequent words: P(keep a token of w) = min(1, sqrt(t/f) + t/f), f = count/total.

    ``sample`` is t (word2vec's -sample, default 1e-3); t = 0 keeps everything.  Returns (|V|,).
    """
    counts = np.asarray(counts, dtype=np.float64)
    if sample <= 0:
        return np.ones_like(counts)
    f = counts / counts.sum()
    with np.errstate(divide="ignore"):
        ratio = np.where(f > 0, sample / np.maximum(f, 1e-300), np.inf)
    return np.minimum(1.0, np.sqrt(ratio) + ratio)


def noise_distribution(counts, power: float = 0.75) -> np.ndarray:
    """P_n(w) ∝ count(w)^power (|V|,), the distribution negative samples are drawn from."""
    p = np.asarray(counts, dtype=np.float64) ** power
    return p / p.sum()


# --------------------------------------------------------------------------
# torch: the same gradients for a batch, written out (no autograd)
# --------------------------------------------------------------------------

def default_device(device=None) -> torch.device:
    """``device`` if given, else CUDA when available, else CPU."""
    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _ns_grads(v, u, targets, U_neg, negatives):
    """Shared core of SGNS and CBOW: predict ``targets`` (output vectors u) from vectors v.

    v, u: (B, d); U_neg: (groups, K, d) noise output vectors of ``negatives`` (groups, K);
    pair b uses the noise words of group b // G, G = B / groups.
    Returns loss (summed), dv (B, d), du (B, d), dU_neg (groups * K, d).
    """
    B, d = v.shape
    groups, K = negatives.shape
    G = B // groups
    keep = (negatives.unsqueeze(1) != targets.view(groups, G, 1)).to(v.dtype)   # skip noise == target
    s_o = (v * u).sum(1)                                                         # (B,)
    if G == 1:   # one group per pair: element-wise products are faster than many 1 x K matrix products
        s_k = (U_neg * v.unsqueeze(1)).sum(2).unsqueeze(1)                       # (B, 1, K)
    else:
        s_k = torch.bmm(v.view(groups, G, d), U_neg.transpose(1, 2))             # (groups, G, K)
    loss = -(torch.nn.functional.logsigmoid(s_o).sum()
             + (torch.nn.functional.logsigmoid(-s_k) * keep).sum())
    g_o = torch.sigmoid(s_o) - 1.0                                               # ∂J/∂s_o
    g_k = torch.sigmoid(s_k) * keep                                              # ∂J/∂s_k
    du = g_o.unsqueeze(1) * v
    if G == 1:
        g = g_k.squeeze(1)
        dv = g_o.unsqueeze(1) * u + (g.unsqueeze(2) * U_neg).sum(1)
        dU_neg = (g.unsqueeze(2) * v.unsqueeze(1)).reshape(-1, d)
    else:
        dv = g_o.unsqueeze(1) * u + torch.bmm(g_k, U_neg).view(B, d)
        dU_neg = torch.bmm(g_k.transpose(1, 2), v.view(groups, G, d)).reshape(-1, d)
    return loss, dv, du, dU_neg


def _check_groups(B: int, negatives) -> None:
    if negatives.ndim != 2 or negatives.shape[0] == 0 or B % negatives.shape[0]:
        raise ValueError(f"negatives: expected shape (groups, K) with B = {B} a multiple of groups, "
                         f"got {tuple(negatives.shape)}")


def sgns_grads_torch(W_in, W_out, centres, contexts, negatives):
    """SGNS loss and gradients of a batch, in torch, by the formulas of ``sgns_loss_and_grads``.

    Args:
        W_in, W_out: (|V|, d) tensors.
        centres, contexts: (B,) int64 tensors.
        negatives: (groups, K) int64; the G = B / groups consecutive pairs of a group share
            these K noise words (groups = B: one set per pair, as in word2vec).

    Returns:
        loss (0-d tensor, summed), dv (B, d) for rows ``centres`` of W_in, du (B, d) for rows
        ``contexts`` of W_out, dU_neg (groups * K, d) for rows ``negatives.reshape(-1)`` of W_out.
        Summing each into its rows (``index_put_(..., accumulate=True)``) gives the dense gradient.
    """
    _check_groups(centres.shape[0], negatives)
    v = W_in.index_select(0, centres)
    u = W_out.index_select(0, contexts)
    U_neg = W_out.index_select(0, negatives.reshape(-1)).view(negatives.shape[0], negatives.shape[1], -1)
    return _ns_grads(v, u, contexts, U_neg, negatives)


def cbow_grads_torch(W_in, W_out, contexts, centres, negatives, exact: bool = True):
    """CBOW negative-sampling loss and gradients of a batch (torch, hand-written).

    With ``exact`` every context row gets ∂J/∂h / n, the gradient of the mean.  word2vec.c and
    gensim (cbow_mean=1) give every context row the whole ∂J/∂h instead, a step n times larger
    for W_in; ``exact=False`` returns that update (the trainer uses it, to match them).

    Args:
        W_in, W_out: (|V|, d).
        contexts: (B, C) int64 context ids, padded with −1 (every row has at least one id).
        centres: (B,) int64 target ids; negatives: (groups, K) as in ``sgns_grads_torch``.

    Returns:
        loss (0-d, summed), dV_ctx (number of real context ids, d) for rows
        ``contexts[contexts >= 0]`` of W_in, du (B, d) for rows ``centres`` of W_out, and
        dU_neg (groups * K, d) for rows ``negatives.reshape(-1)`` of W_out.
    """
    _check_groups(centres.shape[0], negatives)
    mask = contexts >= 0
    n = mask.sum(1).clamp(min=1).to(W_in.dtype)                                  # context sizes (B,)
    V_ctx = W_in.index_select(0, contexts.clamp(min=0).reshape(-1)).view(*contexts.shape, -1)
    h = (V_ctx * mask.unsqueeze(2)).sum(1) / n.unsqueeze(1)                      # mean context vector
    u = W_out.index_select(0, centres)
    U_neg = W_out.index_select(0, negatives.reshape(-1)).view(negatives.shape[0], negatives.shape[1], -1)
    loss, dh, du, dU_neg = _ns_grads(h, u, centres, U_neg, negatives)
    per_row = dh / n.unsqueeze(1) if exact else dh
    dV_ctx = per_row.unsqueeze(1).expand(-1, contexts.shape[1], -1)[mask]
    return loss, dV_ctx, du, dU_neg


# --------------------------------------------------------------------------
# Training data for one epoch (vectorised numpy)
# --------------------------------------------------------------------------

def _subsample(ids, sentence, keep_prob, rng):
    kept = rng.random(len(ids)) < keep_prob[ids]
    return ids[kept], sentence[kept]


def epoch_skipgram_pairs(ids, sentence, keep_prob, window: int, rng):
    """One epoch of skip-gram pairs, as word2vec draws them, shuffled.

    Frequent words are subsampled first (then the window runs over the kept tokens), and each
    centre gets a reduced window b ~ Uniform{1..window} (word2vec's "dynamic window": nearer
    words are used more often).

    Args:
        ids, sentence: the token stream of ``cooccurrence.corpus_ids`` (N,).
        keep_prob: (|V|,) from ``keep_probabilities``.
        window: the largest window; rng: numpy Generator.

    Returns:
        centres (P,), contexts (P,) int64 in random order; kept: number of tokens kept.
    """
    ids, sentence = _subsample(ids, sentence, keep_prob, rng)
    b = rng.integers(1, window + 1, size=len(ids))
    centres, contexts = [], []
    for d in range(1, window + 1):
        same = sentence[:-d] == sentence[d:]
        right = np.nonzero(same & (b[:-d] >= d))[0]        # centre i, context i + d
        left = np.nonzero(same & (b[d:] >= d))[0]          # centre i + d, context i
        centres += [ids[right], ids[left + d]]
        contexts += [ids[right + d], ids[left]]
    centres, contexts = np.concatenate(centres), np.concatenate(contexts)
    order = rng.permutation(len(centres))
    return centres[order], contexts[order], len(ids)


def epoch_cbow_examples(ids, sentence, keep_prob, window: int, rng):
    """One epoch of CBOW examples, shuffled: centres (P,) and contexts (P, 2 * window) padded with −1.

    Same subsampling and dynamic window as ``epoch_skipgram_pairs``; positions without any
    context word are dropped.  Returns centres, contexts, kept.
    """
    ids, sentence = _subsample(ids, sentence, keep_prob, rng)
    N = len(ids)
    b = rng.integers(1, window + 1, size=N)
    offsets = np.concatenate([np.arange(-window, 0), np.arange(1, window + 1)])
    pos = np.arange(N)[:, None] + offsets[None, :]
    inside = (pos >= 0) & (pos < N)
    pos_c = np.clip(pos, 0, max(N - 1, 0))
    valid = inside & (np.abs(offsets)[None, :] <= b[:, None]) & (sentence[pos_c] == sentence[:, None])
    contexts = np.where(valid, ids[pos_c], -1)
    has = valid.any(axis=1)
    centres, contexts = ids[has], contexts[has]
    order = rng.permutation(len(centres))
    return centres[order], contexts[order], N


# --------------------------------------------------------------------------
# The trainer
# --------------------------------------------------------------------------

def train_word2vec(sentences, model: str = "skipgram", dim: int = 100, window: int = 5, negative: int = 5,
                   epochs: int = 5, alpha: float = 0.025, min_alpha: float = 1e-4, sample: float = 1e-3,
                   min_count: int = 5, max_words: int | None = None, batch_size: int = 4096,
                   group_size: int = 8, seed: int = 0, device=None, threads: int | None = 1,
                   progress: bool = True, vocab: Vocab | None = None) -> dict:
    """Train skip-gram or CBOW with negative sampling by mini-batch SGD (torch, hand-written gradients).

    Defaults follow word2vec.c / gensim (dim 100, window 5, 5 noise words, 5 epochs, learning
    rate 0.025 decaying linearly to 1e-4, subsampling 1e-3, min_count 5).  Initialisation as in
    word2vec.c: W_in ~ Uniform(−0.5, 0.5) / dim, W_out = 0.

    Args:
        sentences: list of token lists.
        model: "skipgram" or "cbow".
        max_words: keep at most this many (most frequent) words; vocab: use this vocabulary.
        batch_size: pairs (skip-gram) or examples (CBOW) per update.
        group_size: G consecutive examples share their K noise words (1 = per example).
        threads: torch threads during training (restored afterwards); 1 makes CPU runs
            reproducible and is as fast as 2 on a shared 2-core machine.  None leaves it.
        device: None -> CUDA if available, else CPU.

    Returns:
        dict with "W_in", "W_out" (float32 numpy (|V|, d); W_in are the word vectors),
        "vocab" (``Vocab``), "history" (mean loss per example, one per epoch), "examples"
        (pairs or CBOW examples seen), "tokens" (corpus tokens per epoch, unknown ones included),
        "seconds" and "cpu_seconds" (training loop, data generation included) and
        "words_per_second" (tokens * epochs / seconds, gensim's measure).
    """
    if model not in ("skipgram", "cbow"):
        raise ValueError(f"model: expected 'skipgram' or 'cbow', got {model!r}")
    if batch_size % group_size:
        raise ValueError(f"batch_size ({batch_size}) must be a multiple of group_size ({group_size})")
    dev = default_device(device)
    old_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        if vocab is None:
            vocab = Vocab.build(sentences, min_count=min_count, max_size=max_words)
        ids, sentence = corpus_ids(sentences, vocab)
        n_tokens = sum(len(s) for s in sentences)
        keep_prob = keep_probabilities(vocab.counts, sample)
        noise_cdf = torch.from_numpy(np.cumsum(noise_distribution(vocab.counts))).to(dev)
        noise_cdf[-1] = 1.0 + 1e-9
        rng = np.random.default_rng(seed)
        gen = torch.Generator().manual_seed(seed)
        V = len(vocab)
        W_in = ((torch.rand(V, dim, generator=gen) - 0.5) / dim).to(dev)
        W_out = torch.zeros(V, dim, device=dev)
        bar = tqdm(desc=f"word2vec {model}", unit="ex", unit_scale=True, disable=not progress)
        history, done, total = [], 0, 1
        start, cpu_start = time.perf_counter(), time.process_time()
        for _epoch in range(epochs):
            if model == "skipgram":
                targets, sources, _ = epoch_skipgram_pairs(ids, sentence, keep_prob, window, rng)
            else:
                targets, sources, _ = epoch_cbow_examples(ids, sentence, keep_prob, window, rng)
            n_ex = len(targets) - len(targets) % group_size
            if _epoch == 0:   # the learning rate decays over an estimate of all examples of all epochs
                total = max(1, n_ex * epochs)
                bar.reset(total=total)
            targets_t = torch.from_numpy(targets[:n_ex]).to(dev)
            sources_t = torch.from_numpy(sources[:n_ex]).to(dev)
            epoch_loss = 0.0
            for lo in range(0, n_ex, batch_size):
                lr = max(min_alpha, alpha - (alpha - min_alpha) * done / total)
                a, b = targets_t[lo:lo + batch_size], sources_t[lo:lo + batch_size]
                u_draws = torch.rand(len(a) // group_size, negative, generator=gen).to(dev)
                negs = torch.searchsorted(noise_cdf, u_draws.to(noise_cdf.dtype))
                if model == "skipgram":          # a = centres, b = contexts
                    loss, dv, du, dneg = sgns_grads_torch(W_in, W_out, a, b, negs)
                    W_in.index_put_((a,), dv.mul_(-lr), accumulate=True)
                    W_out.index_put_((b,), du.mul_(-lr), accumulate=True)
                else:                            # a = centres, b = contexts (B, 2 * window)
                    loss, dv, du, dneg = cbow_grads_torch(W_in, W_out, b, a, negs, exact=False)
                    W_in.index_put_((b[b >= 0],), dv.mul_(-lr), accumulate=True)
                    W_out.index_put_((a,), du.mul_(-lr), accumulate=True)
                W_out.index_put_((negs.reshape(-1),), dneg.mul_(-lr), accumulate=True)
                epoch_loss += float(loss)
                done += len(a)
                bar.update(len(a))
            history.append(epoch_loss / max(n_ex, 1))
            bar.set_postfix(loss=f"{history[-1]:.3f}")
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        bar.total = done
        bar.close()
    finally:
        torch.set_num_threads(old_threads)
    return {"W_in": W_in.cpu().numpy(), "W_out": W_out.cpu().numpy(), "vocab": vocab, "history": history,
            "examples": done, "tokens": n_tokens, "seconds": seconds, "cpu_seconds": cpu_seconds,
            "words_per_second": n_tokens * epochs / seconds}
