"""Residual connections and layer normalisation in a tanh RNN: two more remedies for vanishing gradients.

Used by notebooks/07_clipping_and_gating.ipynb (section 4, "Residual connections and normalisation"), through ``course_lib.long_range``'s kinds
"res_rnn" and "ln_rnn".  The slides list identity initialisation, the LSTM, residual networks and batch
normalisation against vanishing gradients; for a recurrent net the last two read::

    residual:    s_t = s_{t-1} + tanh(U x_t + W s_{t-1} + b_s)          -> residual_rnn_states, ResidualRNN
    layer norm:  s_t = tanh(LN(U x_t + W s_{t-1} + b_s))                -> layer_norm_rnn_states, LayerNormRNN
                 LN(z) = γ ⊙ (z − μ(z)) / sqrt(σ²(z) + ε) + β,  μ, σ² over the n units of ONE state

One step back, the residual RNN multiplies the error by (I + diag(1 − a_t²) W)ᵀ, a_t = tanh(...): the
identity is always there, so nothing forces the product to vanish (nor stops it from growing).  Layer
norm divides by the size of the pre-activation, so a large W no longer pushes every unit into saturation.
(Batch norm would normalise each unit over the BATCH, which for an RNN means statistics per time step,
trouble with sequences of different lengths and with batches of one at inference: layer norm, over the
units of one example, is the recurrent version; Ba, Kiros & Hinton 2016.)

numpy first (``layer_norm_forward`` / ``layer_norm_backward`` as a forward/backward pair, the states of
both RNNs), then torch modules that ``long_range`` trains; tests/test_residual_norm.py checks them
against ``torch.nn.functional.layer_norm``, torch autograd, finite differences and hand-computed values.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = [
    "LN_EPS", "layer_norm_forward", "layer_norm_backward", "residual_rnn_states", "layer_norm_rnn_states",
    "ResidualRNN", "LayerNormRNN", "params_from_torch",
]

LN_EPS = 1e-5       # the ε of torch.nn.functional.layer_norm


# --------------------------------------------------------------------------
# numpy: layer norm as a forward/backward pair, and the two recurrences
# --------------------------------------------------------------------------

def layer_norm_forward(z, gamma, beta, eps: float = LN_EPS):
    """LN over the last axis: γ ⊙ (z − μ) / sqrt(σ² + ε) + β, σ² the biased variance (as torch).

    Args:
        z: (..., n) pre-activations; each row is normalised on its own.
        gamma, beta: (n,) gain and shift.

    Returns:
        out (..., n) and a cache for ``layer_norm_backward``.
    """
    z, gamma, beta = np.asarray(z, dtype=float), np.asarray(gamma, dtype=float), np.asarray(beta, dtype=float)
    n = z.shape[-1]
    if gamma.shape != (n,) or beta.shape != (n,):
        raise ValueError(f"expected gamma and beta of shape ({n},), got {gamma.shape} and {beta.shape}")
    mu = z.mean(axis=-1, keepdims=True)
    inv_sigma = 1.0 / np.sqrt(((z - mu) ** 2).mean(axis=-1, keepdims=True) + eps)
    z_hat = (z - mu) * inv_sigma
    return gamma * z_hat + beta, {"z_hat": z_hat, "inv_sigma": inv_sigma, "gamma": gamma}


def layer_norm_backward(dout, cache):
    """Gradients of layer norm.

    With g = dout ⊙ γ:  dz = (g − mean(g) − ẑ ⊙ mean(g ⊙ ẑ)) / sqrt(σ² + ε)   (means over the last axis).

    Args:
        dout: (..., n) ∂L/∂out; cache: from ``layer_norm_forward``.

    Returns:
        dz (..., n), dgamma (n,), dbeta (n,).
    """
    z_hat, inv_sigma, gamma = cache["z_hat"], cache["inv_sigma"], cache["gamma"]
    dout = np.asarray(dout, dtype=float)
    axes = tuple(range(dout.ndim - 1))
    g = dout * gamma
    dz = inv_sigma * (g - g.mean(axis=-1, keepdims=True) - z_hat * (g * z_hat).mean(axis=-1, keepdims=True))
    return dz, (dout * z_hat).sum(axis=axes), dout.sum(axis=axes)


def _check_batch(X, params, keys):
    U, W = np.asarray(params["U"]), np.asarray(params["W"])
    n, m = U.shape
    X = np.asarray(X, dtype=float)
    if X.ndim != 3 or X.shape[2] != m:
        raise ValueError(f"X: expected shape (T, B, m) = (T, B, {m}), got {X.shape}")
    for k in keys:
        expected = (n, n) if k == "W" else (n,)
        if np.shape(params[k]) != expected:
            raise ValueError(f"{k}: expected shape {expected}, got {np.shape(params[k])}")
    return X, U, W, n


def residual_rnn_states(X, params):
    """States of s_t = s_{t-1} + tanh(U x_t + W s_{t-1} + b_s), s_0 = 0.

    Args:
        X: (T, B, m); params: U (n, m), W (n, n), b_s (n,).

    Returns:
        S: (T, B, n).
    """
    X, U, W, n = _check_batch(X, params, ("W", "b_s"))
    s = np.zeros((X.shape[1], n))
    S = np.zeros((X.shape[0], X.shape[1], n))
    for t, x in enumerate(X):
        s = s + np.tanh(x @ U.T + s @ W.T + params["b_s"])
        S[t] = s
    return S


def layer_norm_rnn_states(X, params, eps: float = LN_EPS):
    """States of s_t = tanh(LN(U x_t + W s_{t-1} + b_s)), s_0 = 0.

    Args:
        X: (T, B, m); params: U (n, m), W (n, n), b_s (n,), gamma (n,), beta (n,).

    Returns:
        S: (T, B, n).
    """
    X, U, W, n = _check_batch(X, params, ("W", "b_s", "gamma", "beta"))
    s = np.zeros((X.shape[1], n))
    S = np.zeros((X.shape[0], X.shape[1], n))
    for t, x in enumerate(X):
        s = np.tanh(layer_norm_forward(x @ U.T + s @ W.T + params["b_s"], params["gamma"], params["beta"], eps)[0])
        S[t] = s
    return S


# --------------------------------------------------------------------------
# torch: the same recurrences as modules with torch.nn.RNN's parameter names
# --------------------------------------------------------------------------

class _TanhRecurrence(torch.nn.Module):
    """Shared parts: U = weight_ih_l0 (n, m), W = weight_hh_l0 (n, n), b_s = bias_ih_l0 + bias_hh_l0.

    The names and the initialisation (uniform in ±1/sqrt(n)) are torch.nn.RNN's, so that
    ``long_range.SequenceClassifier`` treats every kind alike.  ``forward`` has nn.RNN's interface.
    """

    def __init__(self, m: int, n: int):
        super().__init__()
        self.input_size, self.hidden_size = m, n
        self.weight_ih_l0 = torch.nn.Parameter(torch.empty(n, m))
        self.weight_hh_l0 = torch.nn.Parameter(torch.empty(n, n))
        self.bias_ih_l0 = torch.nn.Parameter(torch.empty(n))
        self.bias_hh_l0 = torch.nn.Parameter(torch.empty(n))
        bound = 1.0 / np.sqrt(n)
        for p in (self.weight_ih_l0, self.weight_hh_l0, self.bias_ih_l0, self.bias_hh_l0):
            torch.nn.init.uniform_(p, -bound, bound)

    def input_part(self, x):
        """U x_t + b_s for x (..., m): one matrix product for all time steps at once."""
        return x @ self.weight_ih_l0.T + self.bias_ih_l0 + self.bias_hh_l0

    def recur(self, u, s):
        """s_t (B, n) from u = U x_t + b_s (B, n) and s_{t-1} (B, n)."""
        raise NotImplementedError

    def step(self, x, s):
        """s_t (B, n) from x_t (B, m) and s_{t-1} (B, n)."""
        return self.recur(self.input_part(x), s)

    def forward(self, X, s0=None):
        """X (T, B, m) -> (H (T, B, n), s_T (1, B, n)), like torch.nn.RNN."""
        if X.ndim != 3 or X.shape[2] != self.input_size:
            raise ValueError(f"X: expected shape (T, B, m) = (T, B, {self.input_size}), got {tuple(X.shape)}")
        s = X.new_zeros(X.shape[1], self.hidden_size) if s0 is None else s0
        states = []
        for u in self.input_part(X):
            s = self.recur(u, s)
            states.append(s)
        return torch.stack(states), s[None]


class ResidualRNN(_TanhRecurrence):
    """s_t = s_{t-1} + tanh(U x_t + W s_{t-1} + b_s)."""

    def recur(self, u, s):
        return s + torch.tanh(u + s @ self.weight_hh_l0.T)


class LayerNormRNN(_TanhRecurrence):
    """s_t = tanh(LN(U x_t + W s_{t-1} + b_s)); γ = ln_weight (n,) starts at 1, β = ln_bias (n,) at 0."""

    def __init__(self, m: int, n: int):
        super().__init__(m, n)
        self.ln_weight = torch.nn.Parameter(torch.ones(n))
        self.ln_bias = torch.nn.Parameter(torch.zeros(n))

    def recur(self, u, s):
        z = u + s @ self.weight_hh_l0.T
        return torch.tanh(torch.nn.functional.layer_norm(z, (self.hidden_size,), self.ln_weight, self.ln_bias, LN_EPS))


def params_from_torch(module: _TanhRecurrence) -> dict:
    """The numpy params (U, W, b_s, and gamma, beta for layer norm) of a ResidualRNN / LayerNormRNN."""
    get = lambda p: p.detach().cpu().double().numpy()
    params = {"U": get(module.weight_ih_l0), "W": get(module.weight_hh_l0),
              "b_s": get(module.bias_ih_l0) + get(module.bias_hh_l0)}
    if isinstance(module, LayerNormRNN):
        params.update(gamma=get(module.ln_weight), beta=get(module.ln_bias))
    return params
