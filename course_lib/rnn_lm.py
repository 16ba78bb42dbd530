"""A small RNN language model (RNNLM) trained with the numpy BPTT of ``course_lib.rnn``.

Used by notebooks/05_rnn_bptt.ipynb, last section.  The model is the slides'
RNN with word ids as inputs and the next word as target:

    s_t = tanh(U x_t + W s_{t-1} + b_s),   o_t = softmax(V s_t + b_o) = P(w_{t+1} | w_1..w_t)

x_t is the one-hot vector of word w_t, so U x_t is column w_t of U: U holds the
input word vectors (词向量).  Training follows Mikolov's RNNLM recipe: the
corpus is one long stream of ids (an <eos> after every sentence), cut into B
parallel streams and read in chunks of ``bptt`` steps; the state is carried
from chunk to chunk, but gradients stop at the chunk boundary (truncated BPTT).
Gradient clipping (梯度裁剪) keeps the global gradient norm at most ``clip``,
and Adam updates the parameters.

Why numpy and not torch: the gradients are exactly the ones checked against
the slides and against torch.autograd in tests/test_rnn.py, and on a
2,000-word vocabulary with 64 hidden units one epoch takes a few seconds on a
laptop CPU in float32.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from tqdm.auto import tqdm

from course_lib.rnn import init_params, rnn_bptt_batch, rnn_forward_batch, softmax

__all__ = ["UNK", "EOS", "build_vocab", "encode", "batchify", "perplexity", "train_rnn_lm", "sample"]

UNK, EOS = "<unk>", "<eos>"


def build_vocab(sentences, max_words: int = 2000) -> list[str]:
    """Id-to-word list: [<unk>, <eos>] + the ``max_words`` most frequent words (ties alphabetical)."""
    counts = Counter(word for sentence in sentences for word in sentence)
    ranked = sorted(counts, key=lambda w: (-counts[w], w))
    return [UNK, EOS] + ranked[:max_words]


def encode(sentences, itos) -> np.ndarray:
    """One stream of ids, shape (N,): each sentence followed by <eos>; unknown words -> <unk>."""
    stoi = {w: i for i, w in enumerate(itos)}
    unk, eos = stoi[UNK], stoi[EOS]
    ids = []
    for sentence in sentences:
        ids.extend(stoi.get(word, unk) for word in sentence)
        ids.append(eos)
    return np.array(ids, dtype=np.int64)


def batchify(ids, batch_size: int) -> np.ndarray:
    """Cut a stream (N,) into ``batch_size`` parallel streams, shape (N // B, B); the tail is dropped."""
    ids = np.asarray(ids)
    steps = len(ids) // batch_size
    if steps < 2:
        raise ValueError(f"batchify: need at least 2 * batch_size = {2 * batch_size} ids, got {len(ids)}")
    return ids[: steps * batch_size].reshape(batch_size, steps).T


def _chunks(streams, bptt: int):
    """(inputs, targets) pairs of shape (≤bptt, B): targets are the inputs shifted by one."""
    for start in range(0, len(streams) - 1, bptt):
        stop = min(start + bptt, len(streams) - 1)
        yield streams[start:stop], streams[start + 1: stop + 1]


def perplexity(params, ids, batch_size: int = 32, bptt: int = 32) -> float:
    """exp(mean cross-entropy per predicted token) of the model on a stream of ids (N,)."""
    streams = batchify(ids, batch_size)
    s = None
    total, count = 0.0, 0
    for X, Y in _chunks(streams, bptt):
        S, O = rnn_forward_batch(X, params, s)
        s = S[-1]
        t_idx, b_idx = np.indices(Y.shape)
        total += float(-np.log(O[t_idx, b_idx, Y]).sum())
        count += Y.size
    return float(np.exp(total / count))


def _clip(grads, max_norm: float) -> float:
    """Scale all gradients together so that their global L2 norm is at most ``max_norm``."""
    norm = float(np.sqrt(sum(float(np.sum(g * g)) for g in grads.values())))
    if norm > max_norm:
        for g in grads.values():
            g *= max_norm / norm
    return norm


def train_rnn_lm(sentences, max_words: int = 2000, hidden: int = 64, batch_size: int = 32,
                 bptt: int = 16, epochs: int = 3, lr: float = 5e-3, clip: float = 1.0,
                 val_fraction: float = 0.1, seed: int = 0, progress: bool = True) -> dict:
    """Train an RNN language model; the last ``val_fraction`` of the sentences is held out.

    Args:
        sentences: list of token lists (e.g. ``course_lib.corpus.lee_sentences()``).
        max_words: vocabulary size without <unk> and <eos>.
        hidden: n, the size of the hidden state s_t.
        batch_size, bptt: B parallel streams, read ``bptt`` steps at a time.
        epochs, lr, clip: passes over the training stream, Adam step size, gradient-norm bound.
        seed: seed of the parameter initialisation (the only random step).
        progress: show a tqdm progress bar.

    Returns:
        dict with "params" (float32; U (n, |vocab|), W (n, n), V (|vocab|, n), b_s, b_o), "itos" (list of
        words), "history" (one dict per epoch: epoch, train_ppl, val_ppl), "val_perplexity",
        "unigram_val_perplexity" (the baseline that ignores context) and "grad_norms" (per update).
    """
    n_val = max(1, int(len(sentences) * val_fraction))
    train_sents, val_sents = sentences[:-n_val], sentences[-n_val:]
    itos = build_vocab(train_sents, max_words)
    train_ids, val_ids = encode(train_sents, itos), encode(val_sents, itos)
    size = len(itos)
    params = init_params(size, hidden, size, np.random.default_rng(seed), scale=0.1, dtype=np.float32)

    # Adam (Kingma & Ba, 2015): running means of the gradient and of its square.
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    first = {k: np.zeros_like(v) for k, v in params.items()}
    second = {k: np.zeros_like(v) for k, v in params.items()}
    step = 0

    streams = batchify(train_ids, batch_size)
    n_chunks = -(-(len(streams) - 1) // bptt)
    history, grad_norms = [], []
    bar = tqdm(total=epochs * n_chunks, desc="RNNLM", disable=not progress)
    for epoch in range(1, epochs + 1):
        s, total, count = None, 0.0, 0
        for X, Y in _chunks(streams, bptt):
            loss, grads, s = rnn_bptt_batch(X, Y, params, s, return_last_state=True)
            total += loss * X.shape[1]
            count += Y.size
            for g in grads.values():
                g /= X.shape[0]                       # mean over time steps as well as the batch
            grad_norms.append(_clip(grads, clip))
            step += 1
            for k in params:
                first[k] = beta1 * first[k] + (1 - beta1) * grads[k]
                second[k] = beta2 * second[k] + (1 - beta2) * grads[k] ** 2
                m_hat = first[k] / (1 - beta1 ** step)
                v_hat = second[k] / (1 - beta2 ** step)
                params[k] -= (lr * m_hat / (np.sqrt(v_hat) + eps)).astype(params[k].dtype)
            bar.update(1)
        val_ppl = perplexity(params, val_ids, batch_size, bptt)
        history.append({"epoch": epoch, "train_ppl": float(np.exp(total / count)), "val_ppl": val_ppl})
        bar.set_postfix(train_ppl=f"{history[-1]['train_ppl']:.1f}", val_ppl=f"{val_ppl:.1f}")
    bar.close()

    counts = np.bincount(train_ids, minlength=size) + 1.0          # add-one unigram baseline
    unigram_ppl = float(np.exp(-np.mean(np.log(counts[val_ids[1:]] / counts.sum()))))
    return {"params": params, "itos": itos, "history": history, "val_perplexity": history[-1]["val_ppl"],
            "unigram_val_perplexity": unigram_ppl, "grad_norms": np.array(grad_norms)}


def sample(params, itos, rng, prompt=("the",), length: int = 20, temperature: float = 1.0) -> str:
    """Generate up to ``length`` words after ``prompt`` (stops at <eos>); <unk> is never drawn.

    ``rng`` is a numpy Generator or an int seed; lower ``temperature`` gives safer text.
    """
    rng = np.random.default_rng(rng)
    stoi = {w: i for i, w in enumerate(itos)}
    words = [w if w in stoi else UNK for w in prompt]
    S, _ = rnn_forward_batch(np.array([[stoi[w]] for w in words]), params)   # ids (T, B=1)
    s = S[-1]
    for _ in range(length):
        logits = s @ params["V"].T + params["b_o"]
        logits[:, stoi[UNK]] = -np.inf
        p = softmax(logits.astype(np.float64) / temperature)[0]
        current = np.array([rng.choice(len(itos), p=p)])
        if itos[current[0]] == EOS:
            break
        words.append(itos[current[0]])
        S, _ = rnn_forward_batch(current[None, :], params, s)
        s = S[-1]
    return " ".join(words)
