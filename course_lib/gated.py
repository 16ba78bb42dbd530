"""Gated recurrent units: the LSTM (长短期记忆网络) and the GRU (门控循环单元), forward and backward by hand.

Used by notebooks/06_lstm_gru.ipynb and notebooks/07_clipping_and_gating.ipynb (and, through
``course_lib.long_range``, by their training experiments).  numpy only, in the slides' notation:
the gates act on the concatenation [h_{t-1}, x_t] (hidden state first, input second), σ is the
logistic sigmoid and ⊙ the elementwise product.

LSTM, the slides' equations (1)–(6)
-----------------------------------
::

    (1)  f_t = σ(W_f [h_{t-1}, x_t] + b_f)          forget gate / 遗忘门
    (2)  i_t = σ(W_i [h_{t-1}, x_t] + b_i)          input gate / 输入门
    (3)  c̃_t = tanh(W_c [h_{t-1}, x_t] + b_c)       candidate cell / 候选记忆
    (4)  c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t            cell state / 细胞状态
    (5)  o_t = σ(W_o [h_{t-1}, x_t] + b_o)          output gate / 输出门
    (6)  h_t = o_t ⊙ tanh(c_t)                      hidden state / 隐藏状态

One slide stacks the four as (i, f, o, g) = (σ, σ, σ, tanh) W [h_{t-1}; x_t] with g = c̃_t and no
biases; PyTorch stacks them in the order (i, f, g, o) and splits each bias in two (b_ih + b_hh).
``lstm_params_from_torch`` converts.

GRU, the slides' equations
--------------------------
::

    z_t = σ(W_z [h_{t-1}, x_t] + b_z)               update gate / 更新门
    r_t = σ(W_r [h_{t-1}, x_t] + b_r)               reset gate / 重置门
    h̃_t = tanh(W_h [r_t ⊙ h_{t-1}, x_t] + b_h)      candidate state / 候选隐藏状态
    h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t           (variant="slides", Cho et al. 2014)

PyTorch's ``torch.nn.GRU`` (variant="torch") differs in two places: the reset gate multiplies the
recurrent term AFTER the matrix product, h̃_t = tanh(W_h^x x_t + b_h + r_t ⊙ (W_h^h h_{t-1} + b_hn)),
with its own bias b_hn; and z and 1 − z swap roles, h_t = z_t ⊙ h_{t-1} + (1 − z_t) ⊙ h̃_t.
Here W_h^h = W_h[:, :n] and W_h^x = W_h[:, n:].  ``gru_params_from_torch`` converts.

Shapes: x_t ∈ R^m, h_t, c_t ∈ R^n; every W_* is (n, n + m) (columns: first the n recurrent ones,
then the m input ones), every b_* is (n,).  Steps work on a batch of rows: x_t (B, m), h_t (B, n).
Sequences are time-major: X (T, B, m), H (T, B, n), C (T, B, n).

Forward steps are ``lstm_step_forward`` and ``gru_step_forward``, the names ps6 asks for.
Backward passes: ``*_step_backward`` takes the gradient arriving at the step's outputs and returns
the gradients of its inputs, then a dict of its parameters' gradients; ``lstm_backward`` and
``gru_backward`` run them from t = T down to 1, adding the gradient that comes back from step t + 1,
and return in the same order: (dX, dh0, dc0, grads) and (dX, dh0, grads).  In the LSTM the cell path gives
∂c_t/∂c_{t-1} = diag(f_t) (no W, no tanh′): the "constant error carousel" that keeps gradients alive.
"""

from __future__ import annotations

import numpy as np

from course_lib import backprop

__all__ = [
    "sigmoid", "LSTM_PARAM_NAMES", "GRU_PARAM_NAMES", "TORCH_LSTM_GATE_ORDER", "SLIDE_LSTM_GATE_ORDER",
    "init_lstm_params", "init_gru_params",
    "lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward", "stacked_lstm_forward",
    "gru_step_forward", "gru_step_backward", "gru_forward", "gru_backward",
    "lstm_params_from_torch", "gru_params_from_torch",
    "stack_lstm_weights", "unstack_lstm_weights",
    "rnn_param_count", "lstm_param_count", "gru_param_count",
]

LSTM_PARAM_NAMES = ("W_f", "W_i", "W_c", "W_o", "b_f", "b_i", "b_c", "b_o")
GRU_PARAM_NAMES = ("W_z", "W_r", "W_h", "b_z", "b_r", "b_h")
GRU_TORCH_EXTRA = "b_hn"               # the recurrent bias inside r ⊙ (...) of variant="torch"
TORCH_LSTM_GATE_ORDER = ("i", "f", "g", "o")   # rows of torch.nn.LSTM.weight_ih_l0 / weight_hh_l0
SLIDE_LSTM_GATE_ORDER = ("i", "f", "o", "g")   # the slide's stacked (i, f, o, g) = (σ, σ, σ, tanh) W [h; x]
GRU_VARIANTS = ("slides", "torch")


sigmoid = backprop.sigmoid             # σ(z) = 1 / (1 + exp(−z)), defined once, in course_lib.backprop


# --------------------------------------------------------------------------
# Shape checks (public entry points only)
# --------------------------------------------------------------------------

def _sizes(params, names, kind: str) -> tuple[int, int]:
    """Check a parameter dict; return (n, m)."""
    missing = [name for name in names if name not in params]
    if missing:
        raise ValueError(f"{kind} params: missing {missing}; expected keys {list(names)}")
    W0 = np.asarray(params[names[0]])
    if W0.ndim != 2 or W0.shape[1] <= W0.shape[0]:
        raise ValueError(f"{names[0]}: expected shape (n, n + m) with m ≥ 1, got {W0.shape}")
    n, m = W0.shape[0], W0.shape[1] - W0.shape[0]
    for name in names:
        expected = (n,) if name.startswith("b_") else (n, n + m)
        shape = np.shape(params[name])
        if shape != expected:
            raise ValueError(f"{name}: expected shape {expected} (n = {n}, m = {m} from {names[0]} "
                             f"{W0.shape}), got {shape}")
    return n, m


def _gru_names(params, variant: str) -> tuple[str, ...]:
    if variant not in GRU_VARIANTS:
        raise ValueError(f"variant: expected one of {GRU_VARIANTS}, got {variant!r}")
    if variant == "torch":
        return GRU_PARAM_NAMES + (GRU_TORCH_EXTRA,)
    if GRU_TORCH_EXTRA in params:
        raise ValueError("params contain 'b_hn', which only variant='torch' uses "
                         "(these look like gru_params_from_torch's params): pass variant='torch'")
    return GRU_PARAM_NAMES


def _check_sequence(X, m: int, n: int, states: dict):
    """X must be (T, B, m); each state (B, n) or None -> zeros.  Returns X and the states."""
    X = np.asarray(X)
    if X.ndim != 3 or X.shape[2] != m:
        raise ValueError(f"X: expected shape (T, B, m) = (T, B, {m}), got {X.shape}")
    B = X.shape[1]
    out = []
    for name, value in states.items():
        if value is None:
            out.append(np.zeros((B, n), dtype=np.result_type(X.dtype, np.float32)))
        else:
            value = np.asarray(value)
            if value.shape != (B, n):
                raise ValueError(f"{name}: expected shape (B, n) = ({B}, {n}), got {value.shape}")
            out.append(value)
    return (X, *out)


def _check_step(x_t, states: dict, m: int, n: int):
    x_t = np.asarray(x_t)
    if x_t.ndim != 2 or x_t.shape[1] != m:
        raise ValueError(f"x_t: expected shape (B, m) = (B, {m}), got {x_t.shape}")
    out = [x_t]
    for name, value in states.items():
        value = np.asarray(value)
        if value.shape != (x_t.shape[0], n):
            raise ValueError(f"{name}: expected shape (B, n) = ({x_t.shape[0]}, {n}), got {value.shape}")
        out.append(value)
    return out


# --------------------------------------------------------------------------
# Initialisation and parameter counts
# --------------------------------------------------------------------------

def init_lstm_params(m: int, n: int, rng, scale: float | None = None, forget_bias: float = 0.0,
                     dtype=np.float64) -> dict:
    """Random LSTM parameters: every W_* (n, n + m) ~ N(0, scale²), biases zero except b_f = forget_bias.

    ``rng`` is a numpy Generator or an int seed; ``scale`` defaults to 1/sqrt(n + m).  A positive
    ``forget_bias`` (e.g. 1.0) starts the forget gate open, a common trick (Gers et al. 2000).
    """
    rng = np.random.default_rng(rng)
    scale = 1.0 / np.sqrt(n + m) if scale is None else scale
    params = {name: (scale * rng.standard_normal((n, n + m))).astype(dtype) for name in LSTM_PARAM_NAMES[:4]}
    params.update({name: np.zeros(n, dtype=dtype) for name in LSTM_PARAM_NAMES[4:]})
    params["b_f"] += forget_bias
    return params


def init_gru_params(m: int, n: int, rng, scale: float | None = None, variant: str = "slides",
                    dtype=np.float64) -> dict:
    """Random GRU parameters: W_z, W_r, W_h (n, n + m) ~ N(0, scale²), zero biases (+ b_hn for "torch")."""
    _gru_names({}, variant)
    rng = np.random.default_rng(rng)
    scale = 1.0 / np.sqrt(n + m) if scale is None else scale
    params = {name: (scale * rng.standard_normal((n, n + m))).astype(dtype) for name in GRU_PARAM_NAMES[:3]}
    params.update({name: np.zeros(n, dtype=dtype) for name in GRU_PARAM_NAMES[3:]})
    if variant == "torch":
        params[GRU_TORCH_EXTRA] = np.zeros(n, dtype=dtype)
    return params


def rnn_param_count(m: int, n: int) -> int:
    """U (n, m), W (n, n), b_s (n,): one block n(n + m) + n (the output layer not counted)."""
    return n * (n + m) + n


def lstm_param_count(m: int, n: int, torch_biases: bool = False) -> int:
    """Four blocks (f, i, c̃, o), each n(n + m) weights + n biases (2n in PyTorch, b_ih and b_hh)."""
    return 4 * (n * (n + m) + (2 if torch_biases else 1) * n)


def gru_param_count(m: int, n: int, torch_biases: bool = False) -> int:
    """Three blocks (z, r, h̃): 3/4 of an LSTM of the same sizes (PyTorch: 2n biases per block)."""
    return 3 * (n * (n + m) + (2 if torch_biases else 1) * n)


# --------------------------------------------------------------------------
# LSTM
# --------------------------------------------------------------------------

def lstm_step_forward(x_t, h_prev, c_prev, params):
    """One LSTM step, equations (1)–(6), for a batch of rows.

    Args:
        x_t: inputs (B, m).
        h_prev, c_prev: h_{t-1}, c_{t-1}, each (B, n).
        params: dict W_f, W_i, W_c, W_o (n, n + m) and b_f, b_i, b_c, b_o (n,).

    Returns:
        h_t (B, n), c_t (B, n), and a cache (dict) for ``lstm_step_backward``.
    """
    n, m = _sizes(params, LSTM_PARAM_NAMES, "LSTM")
    x_t, h_prev, c_prev = _check_step(x_t, {"h_prev": h_prev, "c_prev": c_prev}, m, n)
    return _lstm_step(x_t, h_prev, c_prev, params)


def _lstm_step(x_t, h_prev, c_prev, p):
    a = np.concatenate([h_prev, x_t], axis=1)          # [h_{t-1}, x_t], (B, n + m)
    f = sigmoid(a @ p["W_f"].T + p["b_f"])             # (1)
    i = sigmoid(a @ p["W_i"].T + p["b_i"])             # (2)
    c_tilde = np.tanh(a @ p["W_c"].T + p["b_c"])       # (3)
    c = f * c_prev + i * c_tilde                       # (4)
    o = sigmoid(a @ p["W_o"].T + p["b_o"])             # (5)
    tanh_c = np.tanh(c)
    h = o * tanh_c                                     # (6)
    cache = {"a": a, "c_prev": c_prev, "f": f, "i": i, "c_tilde": c_tilde, "o": o, "tanh_c": tanh_c,
             "params": p}
    return h, c, cache


def lstm_step_backward(dh_t, dc_t, cache):
    """Backward through one LSTM step.

    Args:
        dh_t: ∂L/∂h_t (B, n), everything that reaches h_t (from the output and from step t + 1).
        dc_t: ∂L/∂c_t (B, n) arriving from step t + 1 (zeros at t = T).
        cache: from ``lstm_step_forward``.

    Returns:
        dx_t (B, m), dh_prev (B, n), dc_prev (B, n), and grads (dict, the keys and shapes of params).
    """
    p = cache["params"]
    n = p["W_f"].shape[0]
    f, i, c_tilde, o, tanh_c = cache["f"], cache["i"], cache["c_tilde"], cache["o"], cache["tanh_c"]
    do = dh_t * tanh_c                                  # (6): h = o ⊙ tanh(c)
    dc = dc_t + dh_t * o * (1.0 - tanh_c ** 2)          # both paths into c_t
    df = dc * cache["c_prev"]                           # (4): c = f ⊙ c_prev + i ⊙ c̃
    di = dc * c_tilde
    dc_tilde = dc * i
    dc_prev = dc * f                                    # the cell path: only ⊙ f_t
    # gradients at the pre-activations: σ′ = σ(1 − σ), tanh′ = 1 − tanh²
    delta = {"f": df * f * (1.0 - f), "i": di * i * (1.0 - i),
             "c": dc_tilde * (1.0 - c_tilde ** 2), "o": do * o * (1.0 - o)}
    a = cache["a"]
    grads, da = {}, 0.0
    for gate, d in delta.items():
        grads[f"W_{gate}"] = d.T @ a
        grads[f"b_{gate}"] = d.sum(axis=0)
        da = da + d @ p[f"W_{gate}"]
    grads = {name: grads[name] for name in LSTM_PARAM_NAMES}
    return da[:, n:], da[:, :n], dc_prev, grads


def lstm_forward(X, params, h0=None, c0=None):
    """Run the LSTM over a batch of sequences.

    Args:
        X: inputs (T, B, m), time-major.
        params: dict W_f, W_i, W_c, W_o (n, n + m), b_f, b_i, b_c, b_o (n,).
        h0, c0: initial states (B, n); zeros if None.

    Returns:
        H: hidden states h_1..h_T (T, B, n).
        C: cell states c_1..c_T (T, B, n).
    """
    n, m = _sizes(params, LSTM_PARAM_NAMES, "LSTM")
    X, h, c = _check_sequence(X, m, n, {"h0": h0, "c0": c0})
    H = np.zeros(X.shape[:2] + (n,), dtype=h.dtype)
    C = np.zeros_like(H)
    for t in range(X.shape[0]):
        h, c, _ = _lstm_step(X[t], h, c, params)
        H[t], C[t] = h, c
    return H, C


def lstm_backward(dH, X, params, h0=None, c0=None, dh_T=None, dc_T=None):
    """Backpropagation through time for the LSTM (the forward pass is recomputed).

    Args:
        dH: ∂L/∂h_t from the layers above, for t = 1..T, shape (T, B, n) (e.g. zeros except at T).
        X, params, h0, c0: as ``lstm_forward``.
        dh_T, dc_T: extra gradients on the final states h_T, c_T (B, n), e.g. from a next chunk.

    Returns:
        dX (T, B, m), dh0 (B, n), dc0 (B, n), and grads (dict with the keys and shapes of ``params``):
        the convention of ``lstm_step_backward``, inputs first, parameters last.
    """
    n, m = _sizes(params, LSTM_PARAM_NAMES, "LSTM")
    X, h, c = _check_sequence(X, m, n, {"h0": h0, "c0": c0})
    dH = np.asarray(dH)
    if dH.shape != X.shape[:2] + (n,):
        raise ValueError(f"dH: expected shape (T, B, n) = {X.shape[:2] + (n,)}, got {dH.shape}")
    caches = []
    for t in range(X.shape[0]):
        h, c, cache = _lstm_step(X[t], h, c, params)
        caches.append(cache)
    grads = {name: np.zeros_like(np.asarray(params[name]), dtype=h.dtype) for name in LSTM_PARAM_NAMES}
    dX = np.zeros(X.shape, dtype=h.dtype)
    dh_next = np.zeros_like(h) if dh_T is None else np.asarray(dh_T, dtype=h.dtype)
    dc_next = np.zeros_like(h) if dc_T is None else np.asarray(dc_T, dtype=h.dtype)
    for t in reversed(range(X.shape[0])):
        dX[t], dh_next, dc_next, g = lstm_step_backward(dH[t] + dh_next, dc_next, caches[t])
        for name in grads:
            grads[name] += g[name]
    return dX, dh_next, dc_next, grads


def stacked_lstm_forward(X, layers, h0=None, c0=None):
    """A multi-layer (stacked) LSTM / 多层LSTM: layer l reads the hidden states of layer l − 1.

    Args:
        X: inputs (T, B, m).
        layers: list of LSTM param dicts; layer 0 has W_* (n, n + m), the others (n, 2n).
        h0, c0: initial states (L, B, n) or None (zeros).

    Returns:
        H: the top layer's hidden states (T, B, n).
        (h_T, c_T): final states of every layer, each (L, B, n), as ``torch.nn.LSTM`` returns them.
    """
    finals_h, finals_c = [], []
    inputs = X
    for l, params in enumerate(layers):
        H, C = lstm_forward(inputs, params, None if h0 is None else h0[l], None if c0 is None else c0[l])
        finals_h.append(H[-1])
        finals_c.append(C[-1])
        inputs = H
    return inputs, (np.stack(finals_h), np.stack(finals_c))


# --------------------------------------------------------------------------
# GRU
# --------------------------------------------------------------------------

def gru_step_forward(x_t, h_prev, params, variant: str = "slides"):
    """One GRU step for a batch of rows.

    Args:
        x_t: inputs (B, m).
        h_prev: h_{t-1} (B, n).
        params: dict W_z, W_r, W_h (n, n + m), b_z, b_r, b_h (n,) [and b_hn (n,) for variant="torch"].
        variant: "slides" (reset before the product, h_t = (1 − z) ⊙ h_{t-1} + z ⊙ h̃) or
            "torch" (reset after the product, h_t = z ⊙ h_{t-1} + (1 − z) ⊙ h̃).

    Returns:
        h_t (B, n) and a cache (dict) for ``gru_step_backward``.
    """
    n, m = _sizes(params, _gru_names(params, variant), "GRU")
    x_t, h_prev = _check_step(x_t, {"h_prev": h_prev}, m, n)
    return _gru_step(x_t, h_prev, params, variant)


def _gru_step(x_t, h_prev, p, variant):
    n = h_prev.shape[1]
    a = np.concatenate([h_prev, x_t], axis=1)                   # [h_{t-1}, x_t]
    z = sigmoid(a @ p["W_z"].T + p["b_z"])
    r = sigmoid(a @ p["W_r"].T + p["b_r"])
    cache = {"x": x_t, "h_prev": h_prev, "z": z, "r": r, "params": p, "variant": variant}
    if variant == "slides":
        a_h = np.concatenate([r * h_prev, x_t], axis=1)         # [r_t ⊙ h_{t-1}, x_t]
        h_tilde = np.tanh(a_h @ p["W_h"].T + p["b_h"])
        h = (1.0 - z) * h_prev + z * h_tilde
        cache["a_h"] = a_h
    else:
        recurrent = h_prev @ p["W_h"][:, :n].T + p["b_hn"]       # W_h^h h_{t-1} + b_hn, reset applied after
        h_tilde = np.tanh(x_t @ p["W_h"][:, n:].T + p["b_h"] + r * recurrent)
        h = z * h_prev + (1.0 - z) * h_tilde
        cache["recurrent"] = recurrent
    cache.update({"a": a, "h_tilde": h_tilde})
    return h, cache


def gru_step_backward(dh_t, cache):
    """Backward through one GRU step.

    Args:
        dh_t: ∂L/∂h_t (B, n), everything that reaches h_t.
        cache: from ``gru_step_forward``.

    Returns:
        dx_t (B, m), dh_prev (B, n), grads (dict, the keys and shapes of params).
    """
    p, variant = cache["params"], cache["variant"]
    z, r, h_tilde, h_prev, x = cache["z"], cache["r"], cache["h_tilde"], cache["h_prev"], cache["x"]
    n = h_prev.shape[1]
    grads = {}
    if variant == "slides":
        dh_prev = dh_t * (1.0 - z)
        dz = dh_t * (h_tilde - h_prev)
        delta_h = dh_t * z * (1.0 - h_tilde ** 2)               # at the candidate's pre-activation
        grads["W_h"] = delta_h.T @ cache["a_h"]
        grads["b_h"] = delta_h.sum(axis=0)
        da_h = delta_h @ p["W_h"]
        d_reset_h = da_h[:, :n]                                 # ∂L/∂(r ⊙ h_{t-1})
        dx = da_h[:, n:]
        dr = d_reset_h * h_prev
        dh_prev = dh_prev + d_reset_h * r
    else:
        dh_prev = dh_t * z
        dz = dh_t * (h_prev - h_tilde)
        delta_h = dh_t * (1.0 - z) * (1.0 - h_tilde ** 2)
        d_recurrent = delta_h * r
        dr = delta_h * cache["recurrent"]
        grads["W_h"] = np.concatenate([d_recurrent.T @ h_prev, delta_h.T @ x], axis=1)
        grads["b_h"] = delta_h.sum(axis=0)
        grads[GRU_TORCH_EXTRA] = d_recurrent.sum(axis=0)
        dx = delta_h @ p["W_h"][:, n:]
        dh_prev = dh_prev + d_recurrent @ p["W_h"][:, :n]
    delta_z = dz * z * (1.0 - z)
    delta_r = dr * r * (1.0 - r)
    a = cache["a"]
    grads["W_z"], grads["b_z"] = delta_z.T @ a, delta_z.sum(axis=0)
    grads["W_r"], grads["b_r"] = delta_r.T @ a, delta_r.sum(axis=0)
    da = delta_z @ p["W_z"] + delta_r @ p["W_r"]
    dh_prev = dh_prev + da[:, :n]
    dx = dx + da[:, n:]
    names = GRU_PARAM_NAMES + ((GRU_TORCH_EXTRA,) if variant == "torch" else ())
    return dx, dh_prev, {name: grads[name] for name in names}


def gru_forward(X, params, h0=None, variant: str = "slides"):
    """Run the GRU over a batch of sequences.

    Args:
        X: inputs (T, B, m), time-major.
        params: dict W_z, W_r, W_h (n, n + m), b_z, b_r, b_h (n,) [+ b_hn (n,) for variant="torch"].
        h0: initial state (B, n); zeros if None.
        variant: "slides" or "torch" (see ``gru_step_forward``).

    Returns:
        H: hidden states h_1..h_T (T, B, n).
    """
    n, m = _sizes(params, _gru_names(params, variant), "GRU")
    X, h = _check_sequence(X, m, n, {"h0": h0})
    H = np.zeros(X.shape[:2] + (n,), dtype=h.dtype)
    for t in range(X.shape[0]):
        h, _ = _gru_step(X[t], h, params, variant)
        H[t] = h
    return H


def gru_backward(dH, X, params, h0=None, variant: str = "slides", dh_T=None):
    """Backpropagation through time for the GRU (the forward pass is recomputed).

    Args:
        dH: ∂L/∂h_t from the layers above, (T, B, n).
        X, params, h0, variant: as ``gru_forward``.
        dh_T: extra gradient on the final state h_T (B, n).

    Returns:
        dX (T, B, m), dh0 (B, n), and grads (dict with the keys and shapes of ``params``):
        the convention of ``gru_step_backward``, inputs first, parameters last.
    """
    names = _gru_names(params, variant)
    n, m = _sizes(params, names, "GRU")
    X, h = _check_sequence(X, m, n, {"h0": h0})
    dH = np.asarray(dH)
    if dH.shape != X.shape[:2] + (n,):
        raise ValueError(f"dH: expected shape (T, B, n) = {X.shape[:2] + (n,)}, got {dH.shape}")
    caches = []
    for t in range(X.shape[0]):
        h, cache = _gru_step(X[t], h, params, variant)
        caches.append(cache)
    grads = {name: np.zeros_like(np.asarray(params[name]), dtype=h.dtype) for name in names}
    dX = np.zeros(X.shape, dtype=h.dtype)
    dh_next = np.zeros_like(h) if dh_T is None else np.asarray(dh_T, dtype=h.dtype)
    for t in reversed(range(X.shape[0])):
        dX[t], dh_next, g = gru_step_backward(dH[t] + dh_next, caches[t])
        for name in grads:
            grads[name] += g[name]
    return dX, dh_next, grads


# --------------------------------------------------------------------------
# Conversions from PyTorch
# --------------------------------------------------------------------------

def _torch_layer(module, layer: int, kind: str):
    import torch

    expected = torch.nn.LSTM if kind == "LSTM" else torch.nn.GRU
    if not isinstance(module, expected):
        raise ValueError(f"expected a torch.nn.{kind}, got {type(module).__name__}")
    if module.bidirectional:
        raise ValueError(f"bidirectional torch.nn.{kind} is not supported: convert each direction's module")
    if getattr(module, "proj_size", 0):
        raise ValueError("torch.nn.LSTM with proj_size > 0 is not supported")
    if not 0 <= layer < module.num_layers:
        raise ValueError(f"layer: expected 0 ≤ layer < num_layers = {module.num_layers}, got {layer}")
    get = lambda name: getattr(module, f"{name}_l{layer}").detach().cpu().numpy().astype(np.float64)
    w_ih, w_hh = get("weight_ih"), get("weight_hh")
    n = module.hidden_size
    if module.bias:
        b_ih, b_hh = get("bias_ih"), get("bias_hh")
    else:
        b_ih = b_hh = np.zeros(w_ih.shape[0])
    blocks = lambda a: [a[k * n:(k + 1) * n] for k in range(a.shape[0] // n)]
    return blocks(w_ih), blocks(w_hh), blocks(b_ih), blocks(b_hh)


def lstm_params_from_torch(module, layer: int = 0) -> dict:
    """The params of one layer of a ``torch.nn.LSTM``, in this module's notation (float64).

    PyTorch stacks the gates as rows (i, f, g, o) of ``weight_ih_l{layer}`` (4n, m) and
    ``weight_hh_l{layer}`` (4n, n), and has two biases per gate; here each gate gets
    W_* = [W_hh block, W_ih block] (n, n + m) and b_* = b_ih + b_hh.
    """
    w_ih, w_hh, b_ih, b_hh = _torch_layer(module, layer, "LSTM")
    params = {}
    for k, gate in enumerate(TORCH_LSTM_GATE_ORDER):
        name = "c" if gate == "g" else gate
        params[f"W_{name}"] = np.concatenate([w_hh[k], w_ih[k]], axis=1)
        params[f"b_{name}"] = b_ih[k] + b_hh[k]
    return {name: params[name] for name in LSTM_PARAM_NAMES}


def gru_params_from_torch(module, layer: int = 0) -> dict:
    """The params of one layer of a ``torch.nn.GRU``, for ``gru_forward(..., variant="torch")`` (float64).

    PyTorch stacks (r, z, n) as rows; b_r = b_ir + b_hr and b_z = b_iz + b_hz can be merged, but the
    candidate's two biases cannot (b_hn sits inside r ⊙ (...)): b_h = b_in and b_hn = b_hn.
    """
    w_ih, w_hh, b_ih, b_hh = _torch_layer(module, layer, "GRU")
    return {
        "W_z": np.concatenate([w_hh[1], w_ih[1]], axis=1),
        "W_r": np.concatenate([w_hh[0], w_ih[0]], axis=1),
        "W_h": np.concatenate([w_hh[2], w_ih[2]], axis=1),
        "b_z": b_ih[1] + b_hh[1],
        "b_r": b_ih[0] + b_hh[0],
        "b_h": b_ih[2],
        "b_hn": b_hh[2],
    }


def stack_lstm_weights(params, order=SLIDE_LSTM_GATE_ORDER):
    """The four gates' weights and biases stacked in ``order`` (default the slide's (i, f, o, g)).

    Returns W (4n, n + m) and b (4n,), so that [pre-activations] = W [h_{t-1}; x_t] + b.
    """
    _sizes(params, LSTM_PARAM_NAMES, "LSTM")
    names = ["c" if gate == "g" else gate for gate in order]
    return (np.concatenate([params[f"W_{g}"] for g in names]),
            np.concatenate([params[f"b_{g}"] for g in names]))


def unstack_lstm_weights(W, b, order=SLIDE_LSTM_GATE_ORDER) -> dict:
    """Inverse of ``stack_lstm_weights``: W (4n, n + m), b (4n,) in ``order`` -> the params dict."""
    W, b = np.asarray(W), np.asarray(b)
    if W.ndim != 2 or W.shape[0] % 4 or b.shape != (W.shape[0],):
        raise ValueError(f"expected W (4n, n + m) and b (4n,), got W {W.shape} and b {b.shape}")
    n = W.shape[0] // 4
    params = {}
    for k, gate in enumerate(order):
        name = "c" if gate == "g" else gate
        params[f"W_{name}"], params[f"b_{name}"] = W[k * n:(k + 1) * n], b[k * n:(k + 1) * n]
    return {name: params[name] for name in LSTM_PARAM_NAMES}
