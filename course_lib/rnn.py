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

The slides' numeric example contains mistakes: its data, the numbers printed
(SLIDE_VALUES) and the errata (ERRATA) are in ``course_lib.rnn_slides``, whose
names (slide_example, rnn_trace, compare_with_slides, ...) import from here too.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "softmax", "rnn_step", "rnn_forward", "output_delta", "rnn_bptt_deltas", "rnn_bptt",
    "rnn_bptt_truncated", "rnn_forward_batch", "rnn_bptt_batch", "hidden_gradient_norms", "init_params",
    # from course_lib.rnn_slides:
    "rnn_trace", "slide_example", "SLIDE_VALUES", "SLIDE_DECIMALS", "compare_with_slides", "ERRATA", "CHECKED_OK",
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
# The slides' worked example lives in course_lib.rnn_slides; its names stay importable from here
# --------------------------------------------------------------------------

_SLIDE_NAMES = ("rnn_trace", "slide_example", "SLIDE_VALUES", "SLIDE_DECIMALS", "compare_with_slides", "ERRATA",
                "CHECKED_OK")


def __getattr__(name):
    """``rnn.slide_example`` and the like, looked up in ``course_lib.rnn_slides`` (which imports this module)."""
    if name in _SLIDE_NAMES:
        from course_lib import rnn_slides

        return getattr(rnn_slides, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
