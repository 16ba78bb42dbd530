"""GloVe / 全局词向量 (Pennington, Socher & Manning 2014): weighted least squares on log co-occurrence counts.

Used by notebooks/02_word_representations.ipynb.

Slide material implemented here ("local context + global statistics": build the
co-occurrence matrix, fit it, weight the word pairs)
-------------------------------------------------------------------------------
The objective over the nonzero entries X_ij of the co-occurrence matrix:

    J = Σ_{i,j: X_ij > 0} f(X_ij) (w_iᵀ w̃_j + b_i + b̃_j − log X_ij)²             (``glove_loss_and_grads``)

    f(x) = (x / x_max)^α  if x < x_max,  else 1      (x_max = 100, α = 3/4)     (``glove_weight``)

w_i (rows of W) are word vectors, w̃_j (rows of W̃) context vectors, b, b̃ biases.
Note that GloVe fits log *counts* (the slides say "co-occurrence probabilities"; the
biases absorb log X_i, which is why counts suffice).  f gives rare pairs little weight
and caps frequent ones at 1 (the count-based methods' "disproportionate importance given
to large counts" is what f tames).  With e_ij = w_iᵀ w̃_j + b_i + b̃_j − log X_ij:

    ∂J/∂w_i = Σ_j 2 f(X_ij) e_ij w̃_j,   ∂J/∂w̃_j = Σ_i 2 f(X_ij) e_ij w_i,
    ∂J/∂b_i = Σ_j 2 f(X_ij) e_ij,       ∂J/∂b̃_j = Σ_i 2 f(X_ij) e_ij.

No matrix is decomposed (the notes' "矩阵分解技术" / matrix factorisation): J is a weighted
least-squares fit of the model w_iᵀ w̃_j + b_i + b̃_j (rank d plus biases) to log X_ij at the
nonzero entries only, minimised by gradient steps; the zero entries, which an SVD of the whole
matrix would have to fit, never enter.

Training: AdaGrad (Duchi et al. 2011), as in the paper: per parameter G ← G + g²,
θ ← θ − η g / (√G + ε), with G starting at 0, on mini-batches of nonzero entries (the
gradient of a batch is summed first; one batch step equals ``torch.optim.Adagrad`` on the
batch's J).  The entries are shuffled once, as the reference implementation's ``shuffle``
tool does.  The final word vectors are W + W̃ (the paper's choice; both play symmetric roles).
Where the reference C code (``glove.c``) differs: it updates after every single entry (several
threads at once), starts G at 1 (so its first step is η g; ours is ±η per coordinate) and
writes the cost with a factor ½.

The co-occurrence matrix comes from ``cooccurrence.window_cooccurrence(...,
weighting="harmonic")``: a pair at distance d counts 1/d, as in the paper.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
import torch
from tqdm.auto import tqdm

from course_lib.word2vec import default_device

__all__ = ["glove_weight", "glove_loss_and_grads", "adagrad_step", "glove_grads_torch", "train_glove"]

PARAM_NAMES = ("W", "W_tilde", "b", "b_tilde")


def glove_weight(X, x_max: float = 100.0, alpha: float = 0.75):
    """f(x) = min(1, (x / x_max)^α), element-wise, for x >= 0."""
    X = np.asarray(X, dtype=np.float64)
    return np.minimum(1.0, (X / x_max) ** alpha)


def glove_loss_and_grads(params: dict, i, j, X_ij, x_max: float = 100.0, alpha: float = 0.75):
    """GloVe's J over the given nonzero entries and its gradients (numpy, hand-written).

    Args:
        params: dict W (|V|, d), W_tilde (|V|, d), b (|V|,), b_tilde (|V|,).
        i, j: (N,) int row and column ids of the entries; X_ij: (N,) their counts (> 0).

    Returns:
        loss (float), grads (dict with the keys and shapes of ``params``).
    """
    W, Wt, b, bt = (np.asarray(params[k], dtype=np.float64) for k in PARAM_NAMES)
    i, j, X_ij = np.asarray(i), np.asarray(j), np.asarray(X_ij, dtype=np.float64)
    if W.ndim != 2 or Wt.shape != W.shape or b.shape != (W.shape[0],) or bt.shape != b.shape:
        raise ValueError(f"params: expected W, W_tilde (|V|, d) and b, b_tilde (|V|,); got "
                         f"{W.shape}, {Wt.shape}, {b.shape}, {bt.shape}")
    if not (i.shape == j.shape == X_ij.shape) or i.ndim != 1:
        raise ValueError(f"i, j, X_ij: expected equal shapes (N,), got {i.shape}, {j.shape}, {X_ij.shape}")
    if np.any(X_ij <= 0):
        raise ValueError("X_ij: GloVe sums over the nonzero entries only; got a count <= 0")
    e = np.einsum("nd,nd->n", W[i], Wt[j]) + b[i] + bt[j] - np.log(X_ij)
    fe = glove_weight(X_ij, x_max, alpha) * e
    loss = float(np.sum(fe * e))
    grads = {k: np.zeros_like(np.asarray(params[k], dtype=np.float64)) for k in PARAM_NAMES}
    np.add.at(grads["W"], i, 2 * fe[:, None] * Wt[j])
    np.add.at(grads["W_tilde"], j, 2 * fe[:, None] * W[i])
    np.add.at(grads["b"], i, 2 * fe)
    np.add.at(grads["b_tilde"], j, 2 * fe)
    return loss, grads


def adagrad_step(param, grad, G, lr: float, eps: float = 1e-10) -> None:
    """One AdaGrad update, in place: G += grad², param −= lr · grad / (√G + eps). numpy or torch."""
    G += grad * grad
    param -= lr * grad / (G ** 0.5 + eps)


def glove_grads_torch(params: dict, i, j, log_X, f_X):
    """J over a batch and the dense gradients, in torch, by the formulas of ``glove_loss_and_grads``.

    Args:
        params: dict of tensors W, W_tilde (|V|, d), b, b_tilde (|V|,).
        i, j: (N,) int64; log_X, f_X: (N,) log X_ij and f(X_ij) (precomputed once).

    Returns:
        loss (0-d tensor), grads (dict of dense tensors shaped like ``params``).
    """
    W, Wt, b, bt = (params[k] for k in PARAM_NAMES)
    w_i, w_j = W.index_select(0, i), Wt.index_select(0, j)
    e = (w_i * w_j).sum(1) + b.index_select(0, i) + bt.index_select(0, j) - log_X
    fe2 = 2 * f_X * e
    grads = {k: torch.zeros_like(params[k]) for k in PARAM_NAMES}
    grads["W"].index_put_((i,), fe2.unsqueeze(1) * w_j, accumulate=True)
    grads["W_tilde"].index_put_((j,), fe2.unsqueeze(1) * w_i, accumulate=True)
    grads["b"].index_put_((i,), fe2, accumulate=True)
    grads["b_tilde"].index_put_((j,), fe2, accumulate=True)
    return (f_X * e * e).sum(), grads


def train_glove(M, dim: int = 50, epochs: int = 10, lr: float = 0.05, x_max: float = 100.0,
                alpha: float = 0.75, batch_size: int = 65536, seed: int = 0, device=None,
                threads: int | None = 1, progress: bool = True) -> dict:
    """Fit GloVe to a co-occurrence matrix with mini-batch AdaGrad (torch, hand-written gradients).

    Args:
        M: (|V|, |V|) co-occurrence matrix, dense numpy or scipy sparse (only nonzeros are used).
        dim: d; epochs: passes over the nonzero entries; lr: AdaGrad's η (the paper's 0.05).
        x_max, alpha: the weighting function f.
        batch_size: nonzero entries per update.
        seed: initialisation (Uniform(−0.5, 0.5) / d, as the reference code) and shuffling.
        threads: torch threads during training (restored afterwards); device: None -> CUDA if any.

    Returns:
        dict with "vectors" = W + W̃ (|V|, d) float32 numpy, "params" (W, W_tilde, b, b_tilde
        as numpy), "history" (J after each epoch, summed over the entries while training),
        "nonzeros" and "seconds".
    """
    if M.ndim != 2 or M.shape[0] != M.shape[1]:
        raise ValueError(f"M: expected a square co-occurrence matrix (|V|, |V|), got shape {M.shape}")
    C = sp.coo_matrix(M)
    C.sum_duplicates()
    keep = C.data > 0
    rows, cols, counts = C.row[keep].astype(np.int64), C.col[keep].astype(np.int64), C.data[keep].astype(np.float64)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(counts))                 # shuffled once, like GloVe's `shuffle` tool
    dev = default_device(device)
    old_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        I = torch.from_numpy(rows[order]).to(dev)
        J = torch.from_numpy(cols[order]).to(dev)
        log_X = torch.from_numpy(np.log(counts[order])).float().to(dev)
        f_X = torch.from_numpy(glove_weight(counts[order], x_max, alpha)).float().to(dev)
        V = M.shape[0]
        gen = torch.Generator().manual_seed(seed)
        params = {
            "W": ((torch.rand(V, dim, generator=gen) - 0.5) / dim).to(dev),
            "W_tilde": ((torch.rand(V, dim, generator=gen) - 0.5) / dim).to(dev),
            "b": torch.zeros(V, device=dev),
            "b_tilde": torch.zeros(V, device=dev),
        }
        G = {k: torch.zeros_like(p) for k, p in params.items()}
        n = len(counts)
        history = []
        start = time.perf_counter()
        bar = tqdm(total=epochs * n, desc="GloVe", unit="pair", unit_scale=True, disable=not progress)
        for _ in range(epochs):
            total = 0.0
            for lo in range(0, n, batch_size):
                sl = slice(lo, lo + batch_size)
                loss, grads = glove_grads_torch(params, I[sl], J[sl], log_X[sl], f_X[sl])
                for k in PARAM_NAMES:
                    adagrad_step(params[k], grads[k], G[k], lr)
                total += float(loss)
                bar.update(min(batch_size, n - lo))
            history.append(total)
            bar.set_postfix(J=f"{total:.4g}")
        bar.close()
        seconds = time.perf_counter() - start
    finally:
        torch.set_num_threads(old_threads)
    out = {k: p.cpu().numpy() for k, p in params.items()}
    return {"vectors": out["W"] + out["W_tilde"], "params": out, "history": history, "nonzeros": n,
            "seconds": seconds}
