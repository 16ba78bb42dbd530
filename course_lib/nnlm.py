"""Feed-forward neural language model / 前馈神经网络语言模型 (Bengio, Ducharme, Vincent & Jauvin, 2003).

Used by notebooks/04_language_models.ipynb (section "A feed-forward neural LM") and the assignment
ps4_language_models. The slides' model: an embedding layer / 嵌入层 maps each of the n−1 previous
words to a vector, a hidden layer / 隐藏层 with tanh mixes them, and a softmax output layer / 输出层
gives the next word's distribution; training minimises the cross-entropy / 交叉熵. In Bengio et al.'s
symbols (the slides name none), for a context of ids w_{t-n+1} .. w_{t-1}::

    x = [C[w_{t-n+1}]; ...; C[w_{t-1}]]          (n−1)·m   concatenated embeddings (oldest word first)
    a = tanh(d + H x)                             h
    y = b + W x + U a                             V         (W: optional direct connections)
    P(w_t = i | context) = softmax(y)_i
    loss = mean over the batch of −log P(w_t | context)

Shapes: C (V, m) — row i is the word vector / 词向量 of word i, shared by all context positions;
H (h, (n−1)m), d (h,), U (V, h), b (V,), W (V, (n−1)m) or absent.

Backward pass (hand-derived, numpy; B examples, δ are gradients of the mean loss)::

    δy = (P − onehot(w_t)) / B                                  (softmax + cross-entropy)
    ∇b = Σ δy,   ∇U = δyᵀ a,   ∇W = δyᵀ x
    δa = δy U,   δz = δa ⊙ (1 − a²)                             (tanh′)
    ∇d = Σ δz,   ∇H = δzᵀ x
    δx = δz H + δy W,   ∇C[i] = Σ of the slices of δx whose word is i   (a scatter-add)

``nnlm_forward`` / ``nnlm_backward`` are that numpy reference; ``FeedForwardLM`` is the same model in
torch (same parameter names) used for training; tests/test_nnlm.py checks the numpy gradients against
finite differences and against torch autograd in float64, and the two forward passes against each other.

Why related words share probability ("smoothing is automatically done"): P(w | context) is a smooth
function of the context's embeddings. If "cat" and "dog" end up with close rows of C (because they are
seen in similar contexts), every prediction made after "cat" is also made, nearly, after "dog" — even
for continuations never seen after "dog".
"""

from __future__ import annotations

import math
import os

import numpy as np
import torch
from tqdm.auto import tqdm

from course_lib.ngram import Vocabulary, context_target_ids

__all__ = [
    "PARAM_NAMES", "init_params", "nnlm_forward", "nnlm_backward", "nnlm_loss", "FeedForwardLM",
    "default_device", "train_nnlm", "logprobs", "perplexity", "nearest_neighbours", "cat_dog_corpus",
]

PARAM_NAMES = ("C", "H", "d", "U", "b")


def default_device() -> torch.device:
    """CUDA when available, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


# --------------------------------------------------------------------------
# numpy reference: forward and hand-written backward
# --------------------------------------------------------------------------

def init_params(V: int, m: int, h: int, context: int, rng, direct: bool = False, scale: float = 0.1,
                dtype=np.float64) -> dict:
    """Random parameters: C, H, U ~ N(0, scale²)-ish (uniform ±scale·√3), d = b = 0, W = 0 if direct.

    Args:
        V: vocabulary size; m: embedding size; h: hidden units; context: n − 1 words.
        rng: a numpy Generator or an int seed.
    """
    rng = np.random.default_rng(rng)
    u = scale * math.sqrt(3.0)
    params = {
        "C": rng.uniform(-u, u, size=(V, m)),
        "H": rng.uniform(-u, u, size=(h, context * m)),
        "d": np.zeros(h),
        "U": rng.uniform(-u, u, size=(V, h)),
        "b": np.zeros(V),
    }
    if direct:
        params["W"] = np.zeros((V, context * m))
    return {k: v.astype(dtype) for k, v in params.items()}


def _sizes(params) -> tuple[int, int, int, int]:
    """Check the parameters against each other; return (V, m, h, n − 1)."""
    missing = [name for name in PARAM_NAMES if name not in params]
    if missing:
        raise ValueError(f"params: missing {missing}; expected keys {list(PARAM_NAMES)} (+ optional 'W')")
    C, H, U = (np.asarray(params[k]) for k in ("C", "H", "U"))
    if C.ndim != 2:
        raise ValueError(f"C: expected shape (V, m), got {C.shape}")
    V, m = C.shape
    if H.ndim != 2 or H.shape[1] % m:
        raise ValueError(f"H: expected shape (h, (n-1)*m) with m = {m}, got {H.shape}")
    h, context = H.shape[0], H.shape[1] // m
    expected = {"d": (h,), "U": (V, h), "b": (V,), "W": (V, context * m)}
    for name, shape in expected.items():
        if name in params and np.shape(params[name]) != shape:
            raise ValueError(f"{name}: expected shape {shape} (from C {C.shape} and H {H.shape}), "
                             f"got {np.shape(params[name])}")
    return V, m, h, context


def _check_ids(name: str, ids, shape_text: str, ndim: int, V: int, width: int | None = None) -> np.ndarray:
    ids = np.asarray(ids)
    if ids.ndim != ndim or not np.issubdtype(ids.dtype, np.integer) or (width is not None and ids.shape[1] != width):
        raise ValueError(f"{name}: expected integer ids of shape {shape_text}, got {ids.dtype} {ids.shape}")
    if ids.size and (ids.min() < 0 or ids.max() >= V):
        raise ValueError(f"{name}: ids must lie in [0, {V}), got values in [{ids.min()}, {ids.max()}]")
    return ids


def nnlm_forward(contexts, params):
    """Forward pass of a batch.

    Args:
        contexts: int ids (B, n−1), oldest word first.
        params: dict C (V, m), H (h, (n−1)m), d (h,), U (V, h), b (V,), optional W (V, (n−1)m).

    Returns:
        P: next-word probabilities (B, V), rows sum to 1; cache: (contexts, x, a, P) for the backward pass.
    """
    V, m, h, context = _sizes(params)
    contexts = _check_ids("contexts", contexts, f"(B, n-1) = (B, {context})", 2, V, context)
    x = params["C"][contexts].reshape(len(contexts), context * m)
    a = np.tanh(params["d"] + x @ params["H"].T)
    y = params["b"] + a @ params["U"].T
    if "W" in params:
        y = y + x @ params["W"].T
    e = np.exp(y - y.max(axis=1, keepdims=True))
    P = e / e.sum(axis=1, keepdims=True)
    return P, (contexts, x, a, P)


def nnlm_backward(targets, cache, params) -> dict:
    """Gradients of the mean cross-entropy, by the formulas of the module docstring.

    Args:
        targets: int ids (B,); cache: from ``nnlm_forward``; params: as for ``nnlm_forward``.

    Returns:
        dict with the keys and shapes of ``params``.
    """
    contexts, x, a, P = cache
    B, V = P.shape
    targets = _check_ids("targets", targets, f"(B,) = ({B},)", 1, V)
    if targets.shape != (B,):
        raise ValueError(f"targets: expected shape ({B},), got {targets.shape}")
    m = params["C"].shape[1]
    dy = P.copy()
    dy[np.arange(B), targets] -= 1.0
    dy /= B
    grads = {"b": dy.sum(axis=0), "U": dy.T @ a}
    dz = (dy @ params["U"]) * (1.0 - a * a)
    grads["d"] = dz.sum(axis=0)
    grads["H"] = dz.T @ x
    dx = dz @ params["H"]
    if "W" in params:
        grads["W"] = dy.T @ x
        dx = dx + dy @ params["W"]
    grads["C"] = np.zeros_like(params["C"])
    np.add.at(grads["C"], contexts.reshape(-1), dx.reshape(-1, m))
    return grads


def nnlm_loss(contexts, targets, params):
    """(mean cross-entropy, grads) of a batch: ``nnlm_forward`` then ``nnlm_backward``."""
    P, cache = nnlm_forward(contexts, params)
    targets = np.asarray(targets)
    if targets.shape != (len(P),):
        raise ValueError(f"targets: expected shape ({len(P)},), got {targets.shape}")
    loss = float(-np.mean(np.log(P[np.arange(len(P)), targets])))
    return loss, nnlm_backward(targets, cache, params)


# --------------------------------------------------------------------------
# torch: the same model, for training
# --------------------------------------------------------------------------

class FeedForwardLM(torch.nn.Module):
    """Bengio's feed-forward LM with the parameter names of the numpy reference (C, H, d, U, b, W).

    ``forward(contexts)`` takes int64 ids (B, n−1) and returns the logits y (B, V);
    ``torch.log_softmax(y, -1)`` are the log-probabilities.
    """

    def __init__(self, V: int, m: int, h: int, context: int, direct: bool = False, seed: int = 0,
                 scale: float = 0.1, dtype=torch.float32):
        super().__init__()
        self.V, self.m, self.h, self.context = V, m, h, context
        params = init_params(V, m, h, context, np.random.default_rng(seed), direct=direct, scale=scale)
        for name, value in params.items():
            self.register_parameter(name, torch.nn.Parameter(torch.tensor(value, dtype=dtype)))

    @classmethod
    def from_numpy(cls, params, dtype=torch.float64) -> "FeedForwardLM":
        """A model holding copies of numpy parameters (for checking the reference)."""
        V, m, h, context = _sizes(params)
        model = cls(V, m, h, context, direct="W" in params, dtype=dtype)
        with torch.no_grad():
            for name, value in params.items():
                getattr(model, name).copy_(torch.as_tensor(value, dtype=dtype))
        return model

    def numpy_params(self) -> dict:
        """The parameters as float64 numpy arrays (keys C, H, d, U, b and W if present)."""
        return {name: p.detach().cpu().double().numpy() for name, p in self.named_parameters()}

    def forward(self, contexts: torch.Tensor) -> torch.Tensor:
        if contexts.ndim != 2 or contexts.shape[1] != self.context:
            raise ValueError(f"contexts: expected shape (B, n-1) = (B, {self.context}), got {tuple(contexts.shape)}")
        x = self.C[contexts].reshape(len(contexts), self.context * self.m)
        a = torch.tanh(self.d + x @ self.H.T)
        y = self.b + a @ self.U.T
        if hasattr(self, "W"):
            y = y + x @ self.W.T
        return y

    @property
    def order(self) -> int:
        return self.context + 1


def _batches(n: int, batch_size: int):
    for start in range(0, n, batch_size):
        yield slice(start, min(start + batch_size, n))


@torch.no_grad()
def _mean_nll(model, contexts, targets, device, batch_size: int = 4096) -> float:
    total = 0.0
    for sl in _batches(len(targets), batch_size):
        logits = model(contexts[sl].to(device))
        total += float(torch.nn.functional.cross_entropy(logits, targets[sl].to(device), reduction="sum"))
    return total / len(targets)


def train_nnlm(train_sentences, vocab: Vocabulary, order: int = 4, m: int = 32, h: int = 64,
               epochs: int = 1, batch_size: int = 512, lr: float = 3e-3, direct: bool = False,
               val_sentences=None, max_examples: int | None = None, seed: int = 0, device=None,
               threads: int | None = 1, progress: bool = True, callback=None) -> dict:
    """Train a ``FeedForwardLM`` with Adam on every word (and one ``</s>``) of ``train_sentences``.

    Args:
        train_sentences: list of token lists; vocab: the ``course_lib.ngram.Vocabulary`` to use
            (unknown words become ``<UNK>``, contexts are padded with ``<s>``).
        order: n, so the model sees n − 1 previous words; m, h: embedding and hidden sizes.
        epochs, batch_size, lr: passes over the (shuffled) examples, examples per Adam step, step size.
        val_sentences: if given, the validation perplexity is measured after every epoch.
        max_examples: train on only this many (randomly chosen) examples, e.g. to fit a time budget.
        seed: seeds the initialisation and the shuffling, so a run is reproducible.
        device: ``None`` for ``default_device()``.
        threads: torch CPU threads while training (restored afterwards); 1 is as fast on a shared
            2-core machine and keeps the floating-point sums in a fixed order. ``None``: leave as is.
            On CUDA, deterministic algorithms are switched on while training (``warn_only``; the
            embedding's scatter-add would otherwise use atomics) and restored afterwards.
        callback: if given, ``callback(epoch, model)`` runs after every epoch (model in eval mode, no
            gradients) and its result is stored in the history under "callback".

    Returns:
        dict with "model" (in eval mode, on ``device``), "vocab", "order", "history" (per epoch:
        epoch, train_ppl — averaged while training — val_ppl or None, callback), "losses" (mean loss of
        every step) and "examples" (how many were trained on per epoch).
    """
    device = default_device() if device is None else torch.device(device)
    contexts, targets = context_target_ids(train_sentences, vocab, order)
    gen = torch.Generator().manual_seed(seed)
    contexts, targets = torch.from_numpy(contexts), torch.from_numpy(targets)
    if max_examples is not None and max_examples < len(targets):
        keep = torch.randperm(len(targets), generator=gen)[:max_examples]
        contexts, targets = contexts[keep], targets[keep]
    val = None
    if val_sentences is not None:
        val = tuple(torch.from_numpy(a) for a in context_target_ids(val_sentences, vocab, order))

    old_threads = torch.get_num_threads()
    old_deterministic = (torch.are_deterministic_algorithms_enabled(),
                         torch.is_deterministic_algorithms_warn_only_enabled())
    if threads is not None:
        torch.set_num_threads(threads)
    if device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        torch.manual_seed(seed)
        model = FeedForwardLM(len(vocab), m, h, order - 1, direct=direct, seed=seed).to(device)
        optimiser = torch.optim.Adam(model.parameters(), lr=lr)
        history, losses = [], []
        steps = -(-len(targets) // batch_size)
        bar = tqdm(total=epochs * steps, desc="feed-forward LM", disable=not progress)
        for epoch in range(1, epochs + 1):
            model.train()
            order_ = torch.randperm(len(targets), generator=gen)
            total = 0.0
            for sl in _batches(len(targets), batch_size):
                idx = order_[sl]
                logits = model(contexts[idx].to(device))
                loss = torch.nn.functional.cross_entropy(logits, targets[idx].to(device))
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                value = loss.item()
                losses.append(value)
                total += value * len(idx)
                bar.update(1)
                if len(losses) % 50 == 0:
                    bar.set_postfix(loss=f"{value:.3f}")
            model.eval()
            val_ppl = math.exp(_mean_nll(model, *val, device)) if val is not None else None
            history.append({"epoch": epoch, "train_ppl": math.exp(total / len(targets)), "val_ppl": val_ppl})
            if callback is not None:
                with torch.no_grad():
                    history[-1]["callback"] = callback(epoch, model)
            if val_ppl is not None:
                bar.set_postfix(train_ppl=f"{history[-1]['train_ppl']:.1f}", val_ppl=f"{val_ppl:.1f}")
        bar.close()
    finally:
        torch.set_num_threads(old_threads)
        torch.use_deterministic_algorithms(old_deterministic[0], warn_only=old_deterministic[1])
    return {"model": model, "vocab": vocab, "order": order, "history": history,
            "losses": np.array(losses), "examples": len(targets)}


@torch.no_grad()
def logprobs(model: FeedForwardLM, sentences, vocab: Vocabulary, batch_size: int = 4096) -> np.ndarray:
    """Natural-log probability of every word and one ``</s>`` per sentence, shape (M,) — the same
    tokens, in the same order, as ``NGramLM.logprobs`` with the default padding."""
    contexts, targets = context_target_ids(sentences, vocab, model.order)
    device = next(model.parameters()).device
    model.eval()
    out = []
    for sl in _batches(len(targets), batch_size):
        logp = torch.log_softmax(model(torch.from_numpy(contexts[sl]).to(device)).double(), dim=-1)
        out.append(logp.gather(1, torch.from_numpy(targets[sl]).to(device)[:, None])[:, 0].cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0)


def perplexity(model: FeedForwardLM, sentences, vocab: Vocabulary) -> float:
    """exp(mean −log P) over every word and one ``</s>`` per sentence."""
    lp = logprobs(model, sentences, vocab)
    if len(lp) == 0:
        raise ValueError("perplexity: no tokens to score")
    return float(np.exp(-lp.mean()))


def nearest_neighbours(model: FeedForwardLM, vocab: Vocabulary, word: str, k: int = 5) -> list[tuple[str, float]]:
    """The ``k`` words whose embeddings (rows of C) have the highest cosine similarity to ``word``'s.

    ``<UNK>``, ``<s>`` and ``</s>`` are left out of the answers. Raises ValueError for a word that is
    not in the vocabulary.
    """
    if word not in vocab:
        raise ValueError(f"nearest_neighbours: {word!r} is not in the vocabulary ({len(vocab)} tokens)")
    C = model.C.detach().cpu().double().numpy()
    unit = C / np.maximum(np.linalg.norm(C, axis=1, keepdims=True), 1e-12)
    sims = unit @ unit[vocab.stoi[word]]
    skip = {vocab.stoi[word]} | {vocab.stoi[t] for t in ("<UNK>", "<s>", "</s>") if t in vocab}
    ranked = [i for i in np.argsort(-sims, kind="stable") if i not in skip][:k]
    return [(vocab.itos[i], float(sims[i])) for i in ranked]


def cat_dog_corpus() -> list[list[str]]:
    """The seeds' example ("The dog ran" / "The cat jumped") grown into a toy corpus of 19 sentences.

    "cat" and "dog" share every context (the/a + slept/ate/ran/sat) except one: "the cat jumped" is
    in the data and "the dog jumped" is not; "horse" jumps too. An n-gram model gives
    P(jumped | the dog) only the smoothing mass; a neural LM whose embeddings of cat and dog are close
    gives it a share of P(jumped | the cat).
    """
    sentences = [[det, animal, verb] for det in ("the", "a") for verb in ("slept", "ate", "ran", "sat")
                 for animal in ("cat", "dog")]
    return sentences + [["the", "cat", "jumped"], ["a", "horse", "jumped"], ["the", "horse", "jumped"]]
