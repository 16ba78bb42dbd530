"""A long-range memory task and the small torch training loops that compare RNN, LSTM and GRU.

Used by notebooks/06_lstm_gru.ipynb (training curves) and notebooks/07_clipping_and_gating.ipynb
(where the plain RNN fails, exploding gradients, clipping, gating, ReLU with identity initialisation,
residual connections and layer normalisation, stacked layers).

The task: remember the first symbol (a small version of the copy / memory problems of Hochreiter &
Schmidhuber 1997).  A sequence of T symbols is drawn uniformly from K; the network reads them one at a
time (one-hot, plus a marker channel that is 1 at the first step only) and must name the FIRST symbol
after reading the last one.  Everything after the first step is a distractor, so the only useful
gradient has to travel T − 1 steps back in time.  Chance accuracy is 1/K.

The models are the slides' recurrences, written with PyTorch's fused layers for speed
(``torch.nn.RNN``, ``torch.nn.LSTM``, ``torch.nn.GRU``; course_lib.gated shows they compute the slides'
equations), the residual and layer-norm tanh RNNs of ``course_lib.residual_norm`` (kinds "res_rnn" and
"ln_rnn"), and a linear read-out of the last hidden state: logits = V h_T + b_o.  ``unrolled_states``
recomputes the same states step by step, so that ‖∂L/∂h_t‖ can be read at every t.

Reproducibility: every random draw comes from a seeded ``torch.Generator`` on the CPU, and the
training loops run with ONE torch thread (``single_thread``): on a shared 2-core machine that is faster
for these small matrices, and it fixes the order of floating-point sums, so a run repeats exactly.
Everything runs on CUDA when one is present (``device=None``), with the data still drawn on the CPU.
"""

from __future__ import annotations

import contextlib
import time

import numpy as np
import torch
from tqdm.auto import tqdm

from course_lib import residual_norm

__all__ = [
    "KINDS", "FUSED_KINDS", "default_device", "single_thread", "recall_batch", "SequenceClassifier", "train",
    "accuracy", "unrolled_states", "state_gradient_norms", "failure_length",
]

KINDS = ("rnn", "relu_rnn", "res_rnn", "ln_rnn", "lstm", "gru")
FUSED_KINDS = ("rnn", "relu_rnn", "lstm", "gru")          # torch's fused layers: these can be stacked
HELD_OUT_SEED = 12345


def default_device(device=None) -> torch.device:
    """``device`` if given, else CUDA when available, else the CPU."""
    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@contextlib.contextmanager
def single_thread():
    """Run the block with one torch thread, then restore the previous setting."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def recall_batch(T: int, batch: int, symbols: int = 4, generator: torch.Generator | None = None,
                 seed: int | None = None):
    """A batch of the remember-the-first-symbol task.

    Args:
        T: sequence length (≥ 1); the answer is T − 1 steps behind the last input.
        batch: B, the number of sequences.
        symbols: K, the number of symbols (chance accuracy 1/K).
        generator: a seeded ``torch.Generator`` (CPU), or give ``seed``.

    Returns:
        X: float32 inputs (T, B, K + 1): one-hot symbols, channel K is the marker (1 at t = 1 only).
        y: int64 targets (B,): the first symbol of every sequence.
    """
    if T < 1 or batch < 1 or symbols < 2:
        raise ValueError(f"expected T ≥ 1, batch ≥ 1, symbols ≥ 2; got T={T}, batch={batch}, symbols={symbols}")
    if generator is None:
        generator = torch.Generator().manual_seed(0 if seed is None else seed)
    tokens = torch.randint(0, symbols, (T, batch), generator=generator)
    X = torch.nn.functional.one_hot(tokens, symbols + 1).float()
    X[0, :, symbols] = 1.0
    return X, tokens[0].clone()


def _blocks(weight, n):
    return [weight[k * n:(k + 1) * n] for k in range(weight.shape[0] // n)]


class SequenceClassifier(torch.nn.Module):
    """A recurrent layer over X (T, B, m) and a linear read-out of its last hidden state h_T.

    Args:
        kind: "rnn" (tanh), "relu_rnn", "res_rnn" (residual tanh), "ln_rnn" (layer-norm tanh), "lstm" or "gru".
        m, n, k: input size, hidden size (of every layer), number of classes.
        memory_bias: added to the bias of the gate that KEEPS the old state: the LSTM's forget gate f_t,
            the GRU's z_t (PyTorch's h_t = z_t ⊙ h_{t-1} + (1 − z_t) ⊙ h̃_t).  3.0 starts with
            σ(3) ≈ 0.95, i.e. remembering.  Ignored by the plain RNNs.
        recurrent_radius: if given, every recurrent weight block (W of the RNN; each gate's block of
            weight_hh for the LSTM and GRU) is rescaled to this spectral radius.
        identity_init: for "relu_rnn": W = I and zero biases (the IRNN of Le, Jaitly & Hinton 2015).
        layers: the number of stacked recurrent layers (fused kinds only); layer l + 1 reads the states
            of layer l, and the read-out reads the top layer.  The options above apply to every layer.
        seed: seed of the initialisation (torch's default initialisation otherwise).
    """

    def __init__(self, kind: str, m: int, n: int, k: int, memory_bias: float = 0.0,
                 recurrent_radius: float | None = None, identity_init: bool = False, layers: int = 1,
                 seed: int = 0):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"kind: expected one of {KINDS}, got {kind!r}")
        if identity_init and kind != "relu_rnn":
            raise ValueError(f"identity_init is for kind='relu_rnn', got kind={kind!r}")
        if layers < 1 or (layers > 1 and kind not in FUSED_KINDS):
            raise ValueError(f"layers: expected 1 (or more for the kinds {FUSED_KINDS}), got {layers} for {kind!r}")
        self.kind, self.n, self.layers = kind, n, layers
        torch.manual_seed(seed)
        if kind in ("rnn", "relu_rnn"):
            self.recurrent = torch.nn.RNN(m, n, num_layers=layers, nonlinearity="tanh" if kind == "rnn" else "relu")
        elif kind == "res_rnn":
            self.recurrent = residual_norm.ResidualRNN(m, n)
        elif kind == "ln_rnn":
            self.recurrent = residual_norm.LayerNormRNN(m, n)
        elif kind == "lstm":
            self.recurrent = torch.nn.LSTM(m, n, num_layers=layers)
        else:
            self.recurrent = torch.nn.GRU(m, n, num_layers=layers)
        self.readout = torch.nn.Linear(n, k)
        with torch.no_grad():
            for layer in range(layers):
                W_hh = getattr(self.recurrent, f"weight_hh_l{layer}")
                b_ih, b_hh = (getattr(self.recurrent, f"bias_{x}_l{layer}") for x in ("ih", "hh"))
                if recurrent_radius is not None:
                    for block in _blocks(W_hh, n):
                        block.mul_(recurrent_radius / torch.linalg.eigvals(block).abs().max())
                if identity_init:
                    W_hh.copy_(torch.eye(n))
                    b_ih.zero_()
                    b_hh.zero_()
                if kind in ("lstm", "gru"):            # torch's rows: LSTM (i, f, g, o), GRU (r, z, n)
                    b_ih[n:2 * n] += memory_bias

    def forward(self, X):
        """Logits (B, k) of X (T, B, m)."""
        H, _ = self.recurrent(X)
        return self.readout(H[-1])


def unrolled_states(model: SequenceClassifier, X):
    """The hidden states h_1..h_T (and c_1..c_T for the LSTM) recomputed one step at a time.

    Same numbers as the fused layer (tested), but every h_t is its own tensor in the graph, so
    ``course_lib.clipping.torch_state_gradient_norms`` can read ‖∂L/∂h_t‖.  With stacked layers the
    states are the TOP layer's (the one the read-out reads).

    Returns:
        (hs, cs, logits): lists of T tensors (B, n) (cs empty unless LSTM) and the logits (B, k).
    """
    r, n = model.recurrent, model.n
    if model.kind in ("res_rnn", "ln_rnn"):
        h, hs = torch.zeros(X.shape[1], n, dtype=X.dtype, device=X.device), []
        for x in X:
            h = r.step(x, h)
            hs.append(h)
        return hs, [], model.readout(h)
    inputs = list(X)
    for layer in range(model.layers):
        W_ih, W_hh, b_ih, b_hh = (getattr(r, f"{name}_l{layer}")
                                  for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
        h = torch.zeros(X.shape[1], n, dtype=X.dtype, device=X.device)
        c = torch.zeros_like(h)
        hs, cs = [], []
        for x in inputs:
            if model.kind in ("rnn", "relu_rnn"):
                z = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
                h = torch.tanh(z) if model.kind == "rnn" else torch.relu(z)
            elif model.kind == "lstm":
                i, f, g, o = (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=1)
                c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
                h = torch.sigmoid(o) * torch.tanh(c)
                cs.append(c)
            else:
                xr, xz, xn = (x @ W_ih.T + b_ih).chunk(3, dim=1)
                hr, hz, hn = (h @ W_hh.T + b_hh).chunk(3, dim=1)
                reset, update = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
                h = update * h + (1 - update) * torch.tanh(xn + reset * hn)
            hs.append(h)
        inputs = hs
    return hs, cs, model.readout(h)


def state_gradient_norms(model: SequenceClassifier, T: int, batch: int = 256, symbols: int = 4,
                         seed: int = HELD_OUT_SEED) -> dict:
    """‖∂L/∂h_t‖ (and ‖∂L/∂c_t‖ for the LSTM), t = 1..T, for the mean cross-entropy of one batch.

    Returns dict with "h" (T,), "c" (T,) or None, and "loss" (float).
    """
    from course_lib.clipping import torch_state_gradient_norms

    device = next(model.parameters()).device
    X, y = recall_batch(T, batch, symbols, seed=seed)
    hs, cs, logits = unrolled_states(model, X.to(device))
    loss = torch.nn.functional.cross_entropy(logits, y.to(device))
    return {"h": torch_state_gradient_norms(loss, hs),
            "c": torch_state_gradient_norms(loss, cs) if cs else None, "loss": loss.item()}


@torch.no_grad()
def accuracy(model: SequenceClassifier, T: int, symbols: int = 4, size: int = 1000,
             seed: int = HELD_OUT_SEED) -> float:
    """Fraction of ``size`` held-out sequences (a fixed seed, never trained on) answered correctly."""
    device = next(model.parameters()).device
    X, y = recall_batch(T, size, symbols, seed=seed)
    logits = model(X.to(device))
    if not torch.isfinite(logits).all():
        return float("nan")
    return float((logits.argmax(dim=1).cpu() == y).float().mean())


def train(kind: str, T: int, steps: int = 600, hidden: int = 16, symbols: int = 4, batch: int = 32,
          lr: float = 3e-3, optimizer: str = "adam", clip: float | None = 1.0, memory_bias: float = 3.0,
          recurrent_radius: float | None = None, identity_init: bool = False, layers: int = 1, seed: int = 0,
          device=None, progress: bool = True, desc: str | None = None) -> dict:
    """Train a ``SequenceClassifier`` on the remember-the-first-symbol task with fresh batches.

    Args:
        kind: one of ``KINDS``.
        T: sequence length; steps: number of updates, each on a new batch of ``batch`` sequences.
        hidden, symbols: n and K.
        lr, optimizer: step size and "adam" or "sgd".
        clip: threshold of ``torch.nn.utils.clip_grad_norm_`` (None: no clipping).
        memory_bias, recurrent_radius, identity_init, layers: see ``SequenceClassifier``.
        seed: seeds the initialisation and the training batches.
        device: None = CUDA if available, else CPU.
        progress, desc: a tqdm progress bar and its label.

    Returns:
        dict with "loss" and "grad_norm" (steps,) (the norm BEFORE clipping; NaN after a divergence),
        "accuracy" (held-out, float; NaN if the model diverged), "nan_step" (the number, counted from 1,
        of the first training step whose loss or gradient was not finite; training stops there; else
        None), "solved_step" (the number of updates after which the mean loss of the last 20 batches
        first fell below 0.1, else None), "seconds" (wall clock), "model".
    """
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer: expected 'adam' or 'sgd', got {optimizer!r}")
    device = default_device(device)
    model = SequenceClassifier(kind, symbols + 1, hidden, symbols, memory_bias=memory_bias,
                               recurrent_radius=recurrent_radius, identity_init=identity_init,
                               layers=layers, seed=seed).to(device)
    params = list(model.parameters())
    opt = torch.optim.Adam(params, lr=lr) if optimizer == "adam" else torch.optim.SGD(params, lr=lr)
    generator = torch.Generator().manual_seed(seed + 1)
    losses, norms = np.full(steps, np.nan), np.full(steps, np.nan)
    nan_step = solved_step = None
    start = time.perf_counter()
    with single_thread():
        bar = tqdm(range(steps), desc=desc or f"{kind} T={T}", disable=not progress, leave=False)
        for step in bar:
            X, y = recall_batch(T, batch, symbols, generator)
            loss = torch.nn.functional.cross_entropy(model(X.to(device)), y.to(device))
            opt.zero_grad()
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(params, clip if clip is not None else float("inf"))
            losses[step], norms[step] = loss.item(), norm.item()
            if not (np.isfinite(losses[step]) and np.isfinite(norms[step])):
                nan_step = step + 1
                break
            opt.step()
            if solved_step is None and step >= 19 and losses[step - 19:step + 1].mean() < 0.1:
                solved_step = step + 1
        bar.close()
        acc = accuracy(model, T, symbols) if nan_step is None else float("nan")
    return {"loss": losses, "grad_norm": norms, "accuracy": acc, "nan_step": nan_step,
            "solved_step": solved_step, "seconds": time.perf_counter() - start, "model": model}


def failure_length(lengths, kind: str = "rnn", threshold: float = 0.5, progress: bool = True, **kwargs) -> dict:
    """Train ``kind`` at each sequence length and find the shortest one where it fails.

    Args:
        lengths: increasing sequence lengths T.
        threshold: "fails" means held-out accuracy below this (chance is 1/K).
        **kwargs: passed to ``train``.

    Returns:
        dict with "lengths", "accuracy" (one per length) and "fails_at" (the first failing length, or None).
    """
    accs = []
    for T in tqdm(lengths, desc=f"{kind}: sequence lengths", disable=not progress):
        accs.append(train(kind, T, progress=False, **kwargs)["accuracy"])
    fails = [T for T, a in zip(lengths, accs) if not a >= threshold]
    return {"lengths": list(lengths), "accuracy": accs, "fails_at": fails[0] if fails else None}
