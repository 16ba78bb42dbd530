"""Recurrent neural network / 循环神经网络 and backpropagation through time / 沿时间反向传播.

Used by notebooks/05_rnn_bptt.ipynb (and the RNN language model in
``course_lib.rnn_lm``).  numpy only, in the slides' notation: every vector is
a column on the slides and a 1-D array here.

Slide equations implemented here (f = tanh, g = softmax)
---------------------------------------------------------
Forward pass, t = 1..T, with hidden state / 隐藏状态 s_t and s_0 = 0::

    (1)  o_t = g(V s_t + b_o)                                    -> rnn_forward
    (2)  s_t = f(U x_t + W s_{t-1} + b_s)                        -> rnn_step
    (3)  o_t = g(V f(U x_t + W f(U x_{t-1} + W f(...) + b_s) + b_s) + b_o)

Cost = Σ_t CE(o_t, y_t) = −Σ_t log o_t[y_t]  (sum over time steps, natural log).

Backward pass, δ_t^out = ∂Cost/∂(V s_t + b_o) and δ_t = ∂Cost/∂z_t with
z_t = U x_t + W s_{t-1} + b_s (⊙ is the elementwise product)::

    BP1   δ_t^out = o_t − y_t            (softmax + cross-entropy)  -> output_delta
    BP2T  δ_t = (Wᵀ δ_{t+1} + Vᵀ δ_t^out) ⊙ (1 − s_t²),  δ_{T+1} = 0
          (1 − s_t² = tanh′(z_t); at t = T this is the ordinary BP2)  -> rnn_bptt_deltas
    BP3   ∂Cost/∂b_o = Σ_t δ_t^out,     ∂Cost/∂b_s = Σ_t δ_t          -> rnn_bptt
    BP4V  ∂Cost/∂V = Σ_t δ_t^out s_tᵀ
    BP4W  ∂Cost/∂W = Σ_t δ_t s_{t-1}ᵀ   (the t = 1 term vanishes when s_0 = 0)
    BP4U  ∂Cost/∂U = Σ_t δ_t x_tᵀ       (all sums run over t = 1..T)

Shapes: x_t ∈ R^m, s_t ∈ R^n, o_t ∈ R^k; U (n, m), W (n, n), V (k, n),
b_s (n,), b_o (k,).  A sequence stacks time steps as rows: X (T, m), S (T, n),
O (T, k).  The batched versions add a batch axis: X (T, B, m), S (T, B, n).

The slides' numeric example (slide_example, SLIDE_VALUES) contains mistakes;
ERRATA lists each one with the value printed and the value recomputed here.
"""

from __future__ import annotations

import sys

import numpy as np

__all__ = [
    "softmax", "rnn_step", "rnn_forward", "output_delta", "rnn_bptt_deltas", "rnn_bptt",
    "rnn_bptt_truncated", "rnn_forward_batch", "rnn_bptt_batch", "rnn_trace",
    "hidden_gradient_norms", "compare_with_slides", "init_params", "slide_example", "SLIDE_VALUES", "SLIDE_DECIMALS", "ERRATA", "CHECKED_OK",
]

PARAM_NAMES = ("U", "W", "V", "b_s", "b_o")


# --------------------------------------------------------------------------
# Shape checks (public entry points only; the inner loops stay clean)
# --------------------------------------------------------------------------

def _unpack(params):
    """(U, W, V, b_s, b_o) as numpy arrays."""
    return tuple(np.asarray(params[name]) for name in PARAM_NAMES)


def _param_sizes(params) -> tuple[int, int, int]:
    """Check params against each other; return (n, m, k)."""
    missing = [name for name in PARAM_NAMES if name not in params]
    if missing:
        raise ValueError(f"params: missing {missing}; expected keys {list(PARAM_NAMES)}")
    U, W, V, b_s, b_o = _unpack(params)
    if U.ndim != 2:
        raise ValueError(f"U: expected shape (n, m), got {U.shape}")
    n, m = U.shape
    if V.ndim != 2:
        raise ValueError(f"V: expected shape (k, n) = (k, {n}), got {V.shape}")
    k = V.shape[0]
    expected = {"W": (n, n), "V": (k, n), "b_s": (n,), "b_o": (k,)}
    for name, arr in zip(("W", "V", "b_s", "b_o"), (W, V, b_s, b_o)):
        if arr.shape != expected[name]:
            raise ValueError(
                f"{name}: expected shape {expected[name]} (from U {U.shape} and V {V.shape}), got {arr.shape}"
            )
    return n, m, k


def _check_inputs(X, params, s0, batch: bool):
    """Validate X (T, m) or (T, B, m) and s0; return (X, s0 as an array, n, m, k)."""
    n, m, k = _param_sizes(params)
    X = np.asarray(X)
    if batch:
        if X.ndim == 2 and np.issubdtype(X.dtype, np.integer):
            if X.size and (X.min() < 0 or X.max() >= m):
                raise ValueError(f"X: integer ids must lie in [0, {m}), got values in [{X.min()}, {X.max()}]")
        elif X.ndim != 3 or X.shape[2] != m:
            raise ValueError(f"X: expected shape (T, B, m) = (T, B, {m}) or integer ids (T, B), got {X.shape}")
        state_shape = (X.shape[1], n)
    else:
        if X.ndim != 2 or X.shape[1] != m:
            raise ValueError(f"X: expected shape (T, m) = (T, {m}), got {X.shape}")
        state_shape = (n,)
    dtype = np.result_type(*_unpack(params)[:3], np.float32)
    if s0 is None:
        s0 = np.zeros(state_shape, dtype=dtype)
    else:
        s0 = np.asarray(s0)
        if s0.shape != state_shape:
            raise ValueError(f"s0: expected shape {state_shape}, got {s0.shape}")
    return X, s0, n, m, k


def _targets_one_hot(Y, T: int, k: int) -> np.ndarray:
    """Y as one-hot rows (T, k); Y is one-hot (T, k) or integer ids (T,)."""
    Y = np.asarray(Y)
    if Y.shape == (T,) and np.issubdtype(Y.dtype, np.integer):
        if T and (Y.min() < 0 or Y.max() >= k):
            raise ValueError(f"Y: integer ids must lie in [0, {k}), got values in [{Y.min()}, {Y.max()}]")
        return np.eye(k)[Y]
    if Y.shape != (T, k):
        raise ValueError(f"Y: expected one-hot shape (T, k) = ({T}, {k}) or integer ids ({T},), got {Y.shape}")
    return Y.astype(float)


# --------------------------------------------------------------------------
# Forward pass: equations (1) and (2)
# --------------------------------------------------------------------------

def softmax(z, axis: int = -1):
    """g(z) = exp(z) / Σ exp(z) along ``axis`` (shifted by the max for stability)."""
    z = np.asarray(z)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def rnn_step(x_t, s_prev, params):
    """One time step, equation (2): s_t = tanh(U x_t + W s_{t-1} + b_s).

    Args:
        x_t: input (m,).
        s_prev: previous hidden state s_{t-1} (n,).
        params: dict with U (n, m), W (n, n), b_s (n,) (V, b_o are not used).

    Returns:
        s_t: new hidden state (n,).
    """
    U, W, b_s = (np.asarray(params[name]) for name in ("U", "W", "b_s"))
    x_t, s_prev = np.asarray(x_t), np.asarray(s_prev)
    if x_t.shape != (U.shape[1],) or s_prev.shape != (U.shape[0],):
        raise ValueError(
            f"rnn_step: expected x_t {(U.shape[1],)} and s_prev {(U.shape[0],)} for U {U.shape}, "
            f"got x_t {x_t.shape} and s_prev {s_prev.shape}"
        )
    return np.tanh(U @ x_t + W @ s_prev + b_s)


def rnn_forward(X, params, s0=None):
    """Run the RNN over one sequence: equations (2) then (1) at every step.

    Args:
        X: inputs x_1..x_T as rows, shape (T, m).
        params: dict U (n, m), W (n, n), V (k, n), b_s (n,), b_o (k,).
        s0: initial hidden state (n,); zeros if None.

    Returns:
        S: hidden states s_1..s_T, shape (T, n).
        O: softmax outputs o_1..o_T, shape (T, k).
    """
    X, s, n, _, k = _check_inputs(X, params, s0, batch=False)
    U, W, V, b_s, b_o = _unpack(params)
    T = X.shape[0]
    S = np.zeros((T, n), dtype=s.dtype)
    for t in range(T):
        s = np.tanh(U @ X[t] + W @ s + b_s)   # (2)
        S[t] = s
    O = softmax(S @ V.T + b_o)                 # (1) for all t at once: row t is V s_t + b_o
    return S, O


# --------------------------------------------------------------------------
# Backward pass: BP1, BP2T, BP3, BP4
# --------------------------------------------------------------------------

def output_delta(O, Y):
    """BP1 for softmax + cross-entropy: δ_t^out = o_t − y_t.

    Args:
        O: softmax outputs (T, k).
        Y: targets, one-hot (T, k) or integer ids (T,).

    Returns:
        delta_out: (T, k).
    """
    O = np.asarray(O)
    if O.ndim != 2:
        raise ValueError(f"O: expected shape (T, k), got {O.shape}")
    return O - _targets_one_hot(Y, *O.shape)


def rnn_bptt_deltas(X, Y, params, s0=None) -> dict:
    """Forward pass and the δ recursion through time (BP1, BP2T).

    Args:
        X: inputs (T, m).
        Y: targets, one-hot (T, k) or integer ids (T,).
        params: dict U (n, m), W (n, n), V (k, n), b_s (n,), b_o (k,).
        s0: initial hidden state (n,); zeros if None.

    Returns:
        dict with
            "S": hidden states (T, n),  "O": outputs (T, k),
            "loss": Σ_t −log o_t[y_t] (float),
            "delta_out": δ_t^out = o_t − y_t, (T, k)          (BP1),
            "sigma_prime": tanh′(z_t) = 1 − s_t², (T, n),
            "delta_s": δ_t = ∂Cost/∂z_t, (T, n)                (BP2T).
    """
    S, O = rnn_forward(X, params, s0)
    T, n = S.shape
    Y1 = _targets_one_hot(Y, *O.shape)
    _, W, V, _, _ = _unpack(params)
    delta_out = O - Y1                                        # BP1
    sigma_prime = 1.0 - S**2                                  # tanh′(z_t) = 1 − s_t²
    delta_s = np.zeros_like(S)
    delta_next = np.zeros(n, dtype=S.dtype)                   # δ_{T+1} = 0
    for t in reversed(range(T)):
        delta_s[t] = (W.T @ delta_next + V.T @ delta_out[t]) * sigma_prime[t]   # BP2T
        delta_next = delta_s[t]
    loss = float(-np.sum(Y1 * np.log(O)))
    return {"S": S, "O": O, "loss": loss, "delta_out": delta_out,
            "sigma_prime": sigma_prime, "delta_s": delta_s}


def rnn_bptt(X, Y, params, s0=None):
    """Loss and gradients of one sequence by backpropagation through time.

    Args:
        X: inputs (T, m).
        Y: targets, one-hot (T, k) or integer ids (T,).
        params: dict U (n, m), W (n, n), V (k, n), b_s (n,), b_o (k,).
        s0: initial hidden state (n,); zeros if None.

    Returns:
        loss: Σ_t cross-entropy(o_t, y_t) (float, summed over time).
        grads: dict with the keys and shapes of ``params``.
    """
    d = rnn_bptt_deltas(X, Y, params, s0)
    X = np.asarray(X)
    S, delta_out, delta_s = d["S"], d["delta_out"], d["delta_s"]
    s0 = np.zeros(S.shape[1], dtype=S.dtype) if s0 is None else np.asarray(s0)
    S_prev = np.vstack([s0[None, :], S[:-1]])                # s_0..s_{T-1}
    grads = {
        "U": delta_s.T @ X,              # BP4U  Σ_t δ_t x_tᵀ
        "W": delta_s.T @ S_prev,         # BP4W  Σ_t δ_t s_{t-1}ᵀ
        "V": delta_out.T @ S,            # BP4V  Σ_t δ_t^out s_tᵀ
        "b_s": delta_s.sum(axis=0),      # BP3   Σ_t δ_t
        "b_o": delta_out.sum(axis=0),    # BP3   Σ_t δ_t^out
    }
    return d["loss"], grads


def rnn_bptt_truncated(X, Y, params, k: int, s0=None):
    """Truncated BPTT: the error of step t flows back through at most k hidden states.

    The error injected at step t reaches δ at steps t, t−1, ..., t−k+1 and is
    then dropped.  k = 1 keeps every error at its own step (W still gets the
    term δ_t s_{t-1}ᵀ, but s_{t-1} receives nothing); k ≥ T is full BPTT.

    Args:
        X: inputs (T, m).
        Y: targets, one-hot (T, k_out) or integer ids (T,).
        params: dict U (n, m), W (n, n), V (k_out, n), b_s (n,), b_o (k_out,).
        k: truncation length, a positive integer.
        s0: initial hidden state (n,); zeros if None.

    Returns:
        loss: Σ_t cross-entropy (the same as ``rnn_bptt``).
        grads: dict with the keys and shapes of ``params``.
    """
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k: expected a positive integer, got {k!r}")
    S, O = rnn_forward(X, params, s0)
    X = np.asarray(X)
    T, n = S.shape
    Y1 = _targets_one_hot(Y, *O.shape)
    _, W, V, _, _ = _unpack(params)
    s0 = np.zeros(n, dtype=S.dtype) if s0 is None else np.asarray(s0)
    S_prev = np.vstack([s0[None, :], S[:-1]])
    delta_out = O - Y1
    grads = {name: np.zeros_like(np.asarray(params[name]), dtype=S.dtype) for name in PARAM_NAMES}
    grads["V"] += delta_out.T @ S
    grads["b_o"] += delta_out.sum(axis=0)
    for t in range(T):                                   # the error of step t ...
        delta = (V.T @ delta_out[t]) * (1.0 - S[t] ** 2)
        for tau in range(t, max(t - k, -1), -1):         # ... reaches steps t, t−1, ..., t−k+1
            if tau < t:
                delta = (W.T @ delta) * (1.0 - S[tau] ** 2)
            grads["U"] += np.outer(delta, X[tau])
            grads["W"] += np.outer(delta, S_prev[tau])
            grads["b_s"] += delta
    return float(-np.sum(Y1 * np.log(O))), grads


# --------------------------------------------------------------------------
# Batched versions (for training): a batch axis B after the time axis
# --------------------------------------------------------------------------

def _input_term(U, X_t):
    """U x_t for a batch, as rows (B, n).  Integer ids pick columns of U (U @ one_hot = U[:, id])."""
    if X_t.ndim == 1:
        return U.T[X_t]
    return X_t @ U.T


def rnn_forward_batch(X, params, s0=None):
    """Run the RNN over B sequences at once (rows are batch items).

    Args:
        X: inputs (T, B, m), or integer ids (T, B) standing for one-hot rows of
            length m (then U x_t is column x_t of U: U holds the word vectors).
        params: dict U (n, m), W (n, n), V (k, n), b_s (n,), b_o (k,).
        s0: initial hidden states (B, n); zeros if None.

    Returns:
        S: hidden states (T, B, n).
        O: softmax outputs (T, B, k).
    """
    X, s, n, _, _ = _check_inputs(X, params, s0, batch=True)
    U, W, V, b_s, b_o = _unpack(params)
    T, B = X.shape[:2]
    S = np.zeros((T, B, n), dtype=s.dtype)
    for t in range(T):
        s = np.tanh(_input_term(U, X[t]) + s @ W.T + b_s)   # (2), one row per batch item
        S[t] = s
    O = softmax(S @ V.T + b_o)                              # (1)
    return S, O


def rnn_bptt_batch(X, Y, params, s0=None, return_last_state: bool = False):
    """Loss and gradients for a batch of B sequences.

    The loss is summed over time and AVERAGED over the batch:
    loss = (1/B) Σ_b Σ_t −log o_t^(b)[y_t^(b)], so B = 1 gives ``rnn_bptt``.

    Args:
        X: inputs (T, B, m) or integer ids (T, B) (see ``rnn_forward_batch``).
        Y: integer target ids (T, B) in [0, k).
        params: dict U (n, m), W (n, n), V (k, n), b_s (n,), b_o (k,).
        s0: initial hidden states (B, n); zeros if None.
        return_last_state: also return s_T (B, n), to carry over to the next chunk.

    Returns:
        loss (float), grads (dict with the keys and shapes of ``params``)
        [, s_T (B, n) if ``return_last_state``].
    """
    X, s0, n, m, k = _check_inputs(X, params, s0, batch=True)
    Y = np.asarray(Y)
    T, B = X.shape[:2]
    if Y.shape != (T, B) or not np.issubdtype(Y.dtype, np.integer):
        raise ValueError(f"Y: expected integer ids of shape (T, B) = ({T}, {B}), got {Y.dtype} {Y.shape}")
    if Y.size and (Y.min() < 0 or Y.max() >= k):
        raise ValueError(f"Y: ids must lie in [0, {k}), got values in [{Y.min()}, {Y.max()}]")
    U, W, V, _, _ = _unpack(params)
    S, O = rnn_forward_batch(X, params, s0)
    t_idx, b_idx = np.indices((T, B))
    loss = float(-np.log(O[t_idx, b_idx, Y]).sum() / B)

    delta_out = O.copy()                                  # BP1: o_t − y_t, divided by B (the mean)
    delta_out[t_idx, b_idx, Y] -= 1.0
    delta_out /= B
    back_from_output = delta_out @ V                      # Vᵀ δ_t^out for every t, as rows (T, B, n)
    delta_s = np.zeros_like(S)
    delta_next = np.zeros((B, n), dtype=S.dtype)
    for t in reversed(range(T)):
        delta_s[t] = (delta_next @ W + back_from_output[t]) * (1.0 - S[t] ** 2)   # BP2T
        delta_next = delta_s[t]

    S_prev = np.concatenate([s0[None], S[:-1]], axis=0)   # s_0..s_{T-1}
    flat_delta_s = delta_s.reshape(T * B, n)
    if X.ndim == 2:                                       # ids: Σ δ_t x_tᵀ adds δ_t to column x_t
        grad_U = np.zeros((n, m), dtype=S.dtype)
        np.add.at(grad_U.T, X.reshape(-1), flat_delta_s)
    else:
        grad_U = flat_delta_s.T @ X.reshape(T * B, m)
    grads = {
        "U": grad_U,                                                   # BP4U
        "W": flat_delta_s.T @ S_prev.reshape(T * B, n),                # BP4W
        "V": delta_out.reshape(T * B, k).T @ S.reshape(T * B, n),      # BP4V
        "b_s": flat_delta_s.sum(axis=0),                               # BP3
        "b_o": delta_out.reshape(T * B, k).sum(axis=0),                # BP3
    }
    if return_last_state:
        return loss, grads, S[-1]
    return loss, grads


def hidden_gradient_norms(X, Y, params, s0=None):
    """‖∂L_T/∂s_t‖ for t = 1..T, where L_T is the loss of the LAST step only.

    Shows how far one error travels back in time: each step multiplies it by
    Wᵀ diag(1 − s_t²), so it shrinks (vanishing gradient) or grows (exploding).

    Args: as ``rnn_bptt``.  Returns: norms (T,).
    """
    S, O = rnn_forward(X, params, s0)
    Y1 = _targets_one_hot(Y, *O.shape)
    _, W, V, _, _ = _unpack(params)
    grad_s = V.T @ (O[-1] - Y1[-1])                        # ∂L_T/∂s_T
    norms = [np.linalg.norm(grad_s)]
    for t in range(len(S) - 1, 0, -1):
        grad_s = W.T @ (grad_s * (1.0 - S[t] ** 2))        # ∂L_T/∂s_{t-1} = Wᵀ (∂L_T/∂s_t ⊙ (1 − s_t²))
        norms.append(np.linalg.norm(grad_s))
    return np.array(norms[::-1])


def init_params(m: int, n: int, k: int, rng, scale: float | None = None, dtype=np.float64) -> dict:
    """Random parameters: U (n, m), W (n, n), V (k, n) ~ N(0, scale²), zero biases.

    ``rng`` is a numpy Generator or an int seed; ``scale`` defaults to 1/sqrt(n).
    """
    rng = np.random.default_rng(rng)
    scale = 1.0 / np.sqrt(n) if scale is None else scale
    return {
        "U": (scale * rng.standard_normal((n, m))).astype(dtype),
        "W": (scale * rng.standard_normal((n, n))).astype(dtype),
        "V": (scale * rng.standard_normal((k, n))).astype(dtype),
        "b_s": np.zeros(n, dtype=dtype),
        "b_o": np.zeros(k, dtype=dtype),
    }


# --------------------------------------------------------------------------
# The slides' worked example, printed step by step
# --------------------------------------------------------------------------

def _fmt(a, indent: int = 0) -> str:
    """5-decimal text of a vector, or of a matrix with one row per line (rows indented)."""
    a = np.round(np.atleast_1d(np.asarray(a, dtype=float)), 5) + 0.0   # + 0.0 turns −0.0 into 0.0
    if a.ndim == 1:
        return "[" + ", ".join(f"{v: .5f}" for v in a) + "]"
    return "[" + (",\n" + " " * (indent + 1)).join(_fmt(row) for row in a) + "]"


def rnn_trace(X, Y, params, s0=None, file=None) -> None:
    """Print every intermediate of the forward and backward pass, in the slides' order, 5 decimals.

    Args: as ``rnn_bptt``; ``file`` is a text stream (default sys.stdout).
    """
    out = sys.stdout if file is None else file
    d = rnn_bptt_deltas(X, Y, params, s0)
    _, grads = rnn_bptt(X, Y, params, s0)
    X = np.asarray(X)
    U, W, V, b_s, b_o = _unpack(params)
    S, O, T = d["S"], d["O"], X.shape[0]
    s_prev = np.zeros(S.shape[1]) if s0 is None else np.asarray(s0)
    S_prev = np.vstack([s_prev[None, :], S[:-1]])

    def show(label, value):
        print(f"{label:<34}{_fmt(value, indent=34)}", file=out)

    print("Forward pass", file=out)
    for t in range(T):
        i = t + 1
        show(f"U x_{i}", U @ X[t])
        show(f"W s_{i-1}", W @ S_prev[t])
        show(f"z_{i} = U x_{i} + W s_{i-1} + b_s", U @ X[t] + W @ S_prev[t] + b_s)
        show(f"s_{i} = tanh(z_{i})", S[t])
        show(f"V s_{i} + b_o  (logits)", V @ S[t] + b_o)
        show(f"o_{i} = softmax(logits)", O[t])
    print(f"Cost = Σ_t −log o_t[y_t] = {d['loss']:.5f}", file=out)
    print("Backward pass (t = T..1)", file=out)
    for t in reversed(range(T)):
        i = t + 1
        show(f"δ_{i}^out = o_{i} − y_{i}", d["delta_out"][t])
        show(f"∇V_{i} = δ_{i}^out s_{i}ᵀ", np.outer(d["delta_out"][t], S[t]))
        show(f"σ′ = 1 − s_{i}²", d["sigma_prime"][t])
        show(f"δ_{i} = (Wᵀδ_{i+1} + Vᵀδ_{i}^out) ⊙ σ′", d["delta_s"][t])
    for t in reversed(range(T)):
        show(f"∇W term δ_{t+1} s_{t}ᵀ", np.outer(d["delta_s"][t], S_prev[t]))
    for name, label in (("W", "∇W = Σ_t δ_t s_{t-1}ᵀ"), ("V", "∇V = Σ_t δ_t^out s_tᵀ"),
                        ("U", "∇U = Σ_t δ_t x_tᵀ"), ("b_s", "∇b_s = Σ_t δ_t"),
                        ("b_o", "∇b_o = Σ_t δ_t^out")):
        show(label, grads[name])


def slide_example(ground_truth: str = "as_computed"):
    """The slides' numeric example: T = 3, m = 3, n = 2, k = 3, all biases zero.

    Args:
        ground_truth: which printed targets to use.
            "as_computed" (default): y_1 = e1, y_2 = e3, y_3 = e2, as printed on
                the forward-pass slides; the printed δ values, ∇V and ∇W use these.
            "bptt_slide": y_1 = e1, y_2 = e2, y_3 = e3, as printed on the BPTT
                slide next to those δ values (an erratum: see ERRATA).

    Returns:
        X (3, 3): rows x_1, x_2, x_3.
        Y (3, 3): one-hot rows y_1, y_2, y_3.
        params: dict U (2, 3), W (2, 2), V (3, 2), b_s (2,), b_o (3,), float64.
    """
    orders = {"as_computed": [0, 2, 1], "bptt_slide": [0, 1, 2]}
    if ground_truth not in orders:
        raise ValueError(f"ground_truth: expected one of {sorted(orders)}, got {ground_truth!r}")
    params = {
        "U": np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]),
        "W": np.array([[0.1, 0.2], [0.3, 0.4]]),
        "V": np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]),
        "b_s": np.zeros(2),
        "b_o": np.zeros(3),
    }
    X = np.array([[1.0, 2.0, 3.0], [2.0, 3.0, 4.0], [3.0, 4.0, 5.0]])
    Y = np.eye(3)[orders[ground_truth]]
    return X, Y, params


# The numbers printed on the slides (rows are t = 1, 2, 3 where a quantity has
# one value per step).  SLIDE_DECIMALS gives the precision each was printed at.
SLIDE_VALUES = {
    "z": np.array([[1.40, 3.20], [2.29, 5.36], [2.90, 6.89]]),          # pre-activations in tanh(...)
    "s1_shown_in_s2": np.array([0.89, 1.00]),                            # s_1 as shown inside s_2's line
    "s2_shown_in_s3": np.array([0.98, 1.00]),
    "S": np.array([[0.88535, 0.99668], [0.97961, 0.99996], [0.99394, 1.00000]]),
    "logits": np.array([[0.29, 0.66, 1.04], [0.30, 0.69, 1.09], [0.30, 0.70, 1.10]]),
    "O": np.array([[0.22, 0.32, 0.46], [0.21, 0.32, 0.47], [0.21, 0.32, 0.47]]),
    "delta_out": np.array([[-0.78166, 0.31813, 0.46353],
                           [0.21308, 0.31658, -0.52965],
                           [0.21231, -0.68366, 0.47135]]),
    "grad_V_terms": np.array([[[-0.69, -0.78], [0.28, 0.32], [0.41, 0.46]],     # δ_1^out s_1ᵀ
                              [[0.21, 0.21], [0.31, 0.32], [-0.52, -0.53]],     # δ_2^out s_2ᵀ
                              [[0.21, 0.21], [-0.68, -0.68], [0.47, 0.47]]]),   # δ_3^out s_3ᵀ
    "sigma_prime": np.array([[0.21615, 0.00662], [0.04036, 0.00009], [0.01209, 0.00000]]),
    "delta_s": np.array([[0.05370, 0.00164], [-0.00599, -0.00001], [0.00063, 0.00000]]),
    "grad_W_terms": np.array([[[-0.00531, -0.00597], [-0.00001, -0.00001]],    # δ_2 s_1ᵀ
                              [[0.00061, 0.00063], [0.00000, 0.00000]]]),      # δ_3 s_2ᵀ
    "grad_W": np.array([[-0.00469, -0.00535], [-0.00001, -0.00001]]),
    "grad_V": np.array([[-0.27229, -0.35369], [-0.08774, -0.05002], [0.36003, 0.40372]]),
    "grad_U": np.array([[-0.27229, -0.35369], [-0.08774, -0.05002], [0.36003, 0.40372]]),  # sic: (3, 2)
    "b_o": np.array([0.00, 0.00]),                                       # sic: 2 entries on three slides
    "ground_truth_forward_slides": np.eye(3)[[0, 2, 1]],
    "ground_truth_bptt_slide": np.eye(3)[[0, 1, 2]],
}
SLIDE_DECIMALS = {
    "z": 2, "s1_shown_in_s2": 2, "s2_shown_in_s3": 2, "S": 5, "logits": 2, "O": 2,
    "delta_out": 5, "grad_V_terms": 2, "sigma_prime": 5, "delta_s": 5, "grad_W_terms": 5,
    "grad_W": 5, "grad_V": 5, "grad_U": 5, "b_o": 2,
    "ground_truth_forward_slides": 2, "ground_truth_bptt_slide": 2,
}

def _inline(a, decimals: int) -> str:
    a = np.round(np.asarray(a, dtype=float), decimals) + 0.0
    if a.ndim == 0:
        return f"{a:.{decimals}f}"
    return "[" + ", ".join(_inline(row, decimals) for row in a) + "]"


def compare_with_slides(ground_truth: str = "as_computed") -> list[dict]:
    """Every printed number of the example next to the float64 recomputation.

    Returns one dict per quantity (per time step where there is one per step):
    "quantity", "slide" and "computed" (text, at the slide's precision),
    "decimals" and "agrees" (True when they are equal at that precision).
    """
    X, Y, params = slide_example(ground_truth)
    d = rnn_bptt_deltas(X, Y, params)
    _, grads = rnn_bptt(X, Y, params)
    S, U, W, V = d["S"], params["U"], params["W"], params["V"]
    S_prev = np.vstack([np.zeros(2), S[:-1]])
    per_step = {
        "z": ("z_{t}", X @ U.T + S_prev @ W.T), "S": ("s_{t}", S), "logits": ("V s_{t} + b_o", S @ V.T),
        "O": ("o_{t}", d["O"]), "delta_out": ("δ_{t}^out", d["delta_out"]),
        "grad_V_terms": ("∇V_{t}", np.einsum("tk,tn->tkn", d["delta_out"], S)),
        "sigma_prime": ("σ′ at t={t}", d["sigma_prime"]), "delta_s": ("δ_{t}", d["delta_s"]),
    }
    rows = []

    def add(quantity, key, slide, computed):
        dec = SLIDE_DECIMALS[key]
        same = np.shape(slide) == np.shape(computed) and bool(
            np.all(np.abs(np.asarray(computed) - slide) <= 0.5 * 10.0 ** -dec + 1e-12))
        rows.append({"quantity": quantity, "slide": _inline(slide, dec), "computed": _inline(computed, dec),
                     "decimals": dec, "agrees": same})

    for key, (label, values) in per_step.items():
        for t in range(3):
            add(label.format(t=t + 1), key, SLIDE_VALUES[key][t], values[t])
    terms = [np.outer(d["delta_s"][1], S[0]), np.outer(d["delta_s"][2], S[1])]
    add("∇W term δ_2 s_1ᵀ", "grad_W_terms", SLIDE_VALUES["grad_W_terms"][0], terms[0])
    add("∇W term δ_3 s_2ᵀ", "grad_W_terms", SLIDE_VALUES["grad_W_terms"][1], terms[1])
    for name in ("W", "V", "U"):
        add(f"∇{name}", f"grad_{name}", SLIDE_VALUES[f"grad_{name}"], grads[name])
    add("b_o", "b_o", SLIDE_VALUES["b_o"], params["b_o"])
    return rows


# One entry per mistake established by recomputing the example in float64
# (see tests/test_rnn.py, which checks every claim below).  "kind" says whether
# a printed number, the example's data, or a formula/notation is wrong.
ERRATA = [
    {
        "quantity": "GroundTruth_2, GroundTruth_3 on the BPTT example slide",
        "kind": "data",
        "slide_value": "GT_2 = [0, 1, 0], GT_3 = [0, 0, 1]",
        "correct_value": "GT_2 = [0, 0, 1], GT_3 = [0, 1, 0] (as on the forward-pass slides)",
        "why": "The δ's printed on the same slide are o_t − y_t only with y_2 = e3, y_3 = e2: "
               "δ_2^out = [0.21308, 0.31658, −0.52965], δ_3^out = [0.21231, −0.68366, 0.47135]. "
               "With the labels printed there they would be [0.21308, −0.68342, 0.47035] and "
               "[0.21231, 0.31634, −0.52865]. The printed δ_t, ∇V and ∇W also follow e3, e2.",
    },
    {
        "quantity": "b_o on the first example slide and both BPTT example slides",
        "kind": "data",
        "slide_value": "b_o = [0.00, 0.00] (2 entries)",
        "correct_value": "b_o = [0.00, 0.00, 0.00] (k = 3 entries, as on the forward-pass slide)",
        "why": "V is (3, 2), so V s_t has 3 entries and b_o in o_t = softmax(V s_t + b_o) needs 3; "
               "b_o has the size of the output, b_s (2 entries) that of the state. No numeric effect (zeros).",
    },
    {
        "quantity": "BP1 for the output delta δ_t^(L) (and its label σ′(logit_(T)) at t = 1, 2)",
        "kind": "formula",
        "slide_value": "δ_t^(L) = ∇_y Cost ⊙ σ′(logit_(T)^(L))",
        "correct_value": "δ_t^out = o_t − y_t (softmax with cross-entropy); subscript t, not T",
        "why": "softmax has no elementwise derivative σ′. The printed numbers are o_t − y_t (correct). "
               "Read literally with σ′ = diag of the softmax Jacobian, o(1 − o), the formula gives "
               "−y_t ⊙ (1 − o_t) = [0, −0.68366, 0] at t = 3: only the true-class entry agrees.",
    },
    {
        "quantity": "σ′ in BP2T and in the example's δ_t^2 = (...) ⊙ σ′(s_t^2)",
        "kind": "formula",
        "slide_value": "σ′(s_(t)^(l))",
        "correct_value": "f′(z_t) = tanh′(z_t) = 1 − s_t²",
        "why": "The printed factors [0.21615, 0.00662], [0.04036, 0.00009], [0.01209, 0.00000] are "
               "1 − s_t², i.e. tanh′ at the pre-activation z_t. tanh′ evaluated at s_t would give "
               "[0.42386, 0.41998] at t = 3, and the sigmoid′(z_3) that 'σ' suggests [0.04952, 0.00101]. "
               "BP2 on the same slide correctly writes σ′(logit).",
    },
    {
        "quantity": "BP4V as printed the second time",
        "kind": "formula",
        "slide_value": "∂Cost/∂V = Σ_{t=1}^T δ_t^(l) (s_{t−1}^(l−1))ᵀ",
        "correct_value": "∂Cost/∂V = Σ_{t=1}^T δ_t^out s_tᵀ (as printed the first time)",
        "why": "o_t depends on s_t, not s_{t−1}. The printed ∇V = [[−0.27229, −0.35369], "
               "[−0.08774, −0.05002], [0.36003, 0.40372]] is Σ δ_t^out s_tᵀ; with s_{t−1} it would be "
               "[[0.39663, 0.42467], [−0.38944, −0.36810], [−0.00718, −0.05656]].",
    },
    {
        "quantity": "BP4W as printed the second time",
        "kind": "formula",
        "slide_value": "∂Cost/∂W = Σ_{t=1}^T δ_t^(l) (s_{t−1}^(l−1))ᵀ",
        "correct_value": "∂Cost/∂W = Σ_{t=1}^T δ_t^(l) (s_{t−1}^(l))ᵀ (as printed the first time)",
        "why": "W connects the hidden layer to itself across time. For the hidden layer l = 2 the "
               "layer l − 1 is the input x, and δ_t^(2) x_{t−1}ᵀ has shape (2, 3), not W's (2, 2). "
               "The example's own ∇W = Σ δ_t^(2) (s_{t−1}^(2))ᵀ uses layer 2 for both.",
    },
    {
        "quantity": "Summation range in BP3, BP4V, BP4U and the example's ∇V, ∇U",
        "kind": "formula",
        "slide_value": "Σ_{t=0}^T",
        "correct_value": "Σ_{t=1}^T",
        "why": "The sequence is x_1..x_T with outputs o_1..o_T; there is no x_0, o_0 or δ_0 "
               "(s_0 is only the initial state). BP4W already starts at t = 1, and its t = 1 term "
               "δ_1 s_0ᵀ is zero because s_0 = 0, which is why the slide shows only two terms.",
    },
    {
        "quantity": "∇U",
        "kind": "number",
        "slide_value": "[[−0.27229, −0.35369], [−0.08774, −0.05002], [0.36003, 0.40372]] "
                       "(shape (3, 2), a copy of ∇V, written Σ δ_t^(1) x_tᵀ)",
        "correct_value": "[[0.04359, 0.09193, 0.14026], [0.00162, 0.00325, 0.00487]] (shape (2, 3))",
        "why": "∇U must have U's shape (2, 3). It is Σ_t δ_t x_tᵀ with the hidden deltas δ_t^(2) "
               "(not δ^(1)); the slide repeated ∇V.",
    },
    {
        "quantity": "Bias in the shape slides s_Ux and s_Ws",
        "kind": "formula",
        "slide_value": "s_Ux = U·x + b_s and s_Ws = W·s_{t−1} + b_s",
        "correct_value": "z_t = U x_t + W s_{t−1} + b_s (b_s added once)",
        "why": "Adding the two parts as written counts b_s twice (2 b_s instead of b_s), unlike "
               "equation (2). No numeric effect in the example because b_s = 0.",
    },
    {
        "quantity": "Equation (3) on the slide that adds biases (加入偏置)",
        "kind": "formula",
        "slide_value": "o_t = g(V f(U x_t + W f(U x_{t−1} + ...)))",
        "correct_value": "o_t = g(V f(U x_t + W f(U x_{t−1} + ... + b_s) + b_s) + b_o)",
        "why": "Equations (1) and (2) on that slide carry b_o and b_s; the unrolled (3) below them "
               "still omits both.",
    },
]

# Suspected but CORRECT at the printed precision (the notebook shows the evidence).
CHECKED_OK = [
    {
        "quantity": "z_2 = [2.29, 5.36] with s_1 shown as [0.89, 1.00]",
        "slide_value": "[2.29, 5.36]",
        "computed_value": "[2.28787, 5.36428] from the exact s_1; [2.289, 5.367] from the rounded one",
        "note": "The slide carried full precision and only DISPLAYED s_1 rounded; recomputing from "
                "the displayed [0.89, 1.00] gives 5.37. s_2, s_3 are right to 5 decimals.",
    },
    {
        "quantity": "o_1, o_2, o_3 (softmax of the 2-decimal logits)",
        "slide_value": "[0.22, 0.32, 0.46], [0.21, 0.32, 0.47], [0.21, 0.32, 0.47]",
        "computed_value": "[0.21834, 0.31813, 0.46353], [0.21308, 0.31658, 0.47035], [0.21231, 0.31634, 0.47135]",
        "note": "Equal at 2 decimals whether the softmax takes the exact or the rounded logits.",
    },
    {
        "quantity": "∇W = δ_3 s_2ᵀ + δ_2 s_1ᵀ",
        "slide_value": "[[0.00061, 0.00063], [0, 0]] + [[−0.00531, −0.00597], [−0.00001, −0.00001]] "
                       "= [[−0.00469, −0.00535], [−0.00001, −0.00001]]",
        "computed_value": "[[−0.00469, −0.00535], [−0.00001, −0.00001]]",
        "note": "The t = 1 term δ_1 s_0ᵀ vanishes (s_0 = 0). Adding the rounded terms gives −0.00470 and "
                "−0.00534; the printed sum is the exact sum rounded, so it is right.",
    },
    {
        "quantity": "δ_t^out, σ′ factors, δ_t, ∇V_t and ∇V",
        "slide_value": "as printed",
        "computed_value": "equal at the printed precision (with the forward slides' ground truth e1, e3, e2)",
        "note": "The σ′ factors equal 1 − s_t²; δ_3 uses δ_4 = 0.",
    },
]
