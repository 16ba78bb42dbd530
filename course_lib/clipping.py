"""Gradient clipping (梯度裁剪) and probes of gradient norms through time (梯度消失 / 梯度爆炸).

Used by notebooks/07_clipping_and_gating.ipynb (and by ``course_lib.long_range``'s training loops).
numpy, with the torch peers named where they exist; tests/test_clipping.py checks each against them.

What the slides say, and what is implemented here
-------------------------------------------------
* Going one step back in a plain RNN s_t = f(U x_t + W s_{t-1} + b_s) multiplies the error by a
  Jacobian transpose::

      ∂L/∂s_{t-1} = Wᵀ (∂L/∂s_t ⊙ f′(z_t))                       -> state_gradient_norms

  so ‖∂L_T/∂s_t‖ is a product of T − t such factors: it shrinks (vanishing gradient) or grows
  (exploding gradient) exponentially with the distance T − t.  The slides tie this to the eigenvalues
  of W; ``spectral_radius`` and ``scale_to_spectral_radius`` let the notebook turn that knob.
* Gradient clipping by the global norm, with the semantics of ``torch.nn.utils.clip_grad_norm_``::

      ‖g‖ = sqrt(Σ_arrays Σ_entries g²)                           -> global_norm
      g ← g · min(1, max_norm / (‖g‖ + 1e-6))                     -> clip_grad_norm

  (the slides: "if the norm exceeds the threshold, rescale the gradient so that its norm equals the
  threshold"; PyTorch's 1e-6 makes it land a hair below).  ``clip_grad_value`` clips each entry to
  [−v, v] like ``torch.nn.utils.clip_grad_value_``.  Clipping multiplies EVERY gradient by the same
  number, so it bounds the size of a step but leaves the ratio between the contributions of distant
  and recent time steps unchanged: it cannot undo vanishing.
* ``gated_state_gradient_norms`` is the same probe for the LSTM and GRU of ``course_lib.gated``;
  ``torch_state_gradient_norms`` reads ‖∂L/∂s_t‖ off any torch graph.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from course_lib import gated

__all__ = [
    "CLIP_EPS", "global_norm", "clip_grad_norm", "clip_grad_value",
    "spectral_radius", "scale_to_spectral_radius", "ACTIVATIONS",
    "rnn_states", "state_gradient_norms", "clipping_curve",
    "gated_state_gradient_norms", "torch_state_gradient_norms",
]

CLIP_EPS = 1e-6     # the epsilon of torch.nn.utils.clip_grad_norm_: max_norm / (total_norm + 1e-6)


# --------------------------------------------------------------------------
# Clipping
# --------------------------------------------------------------------------

def _arrays(grads):
    """The arrays of a dict or a sequence of gradients, and a function that rebuilds the container."""
    if isinstance(grads, Mapping):
        keys = list(grads)
        return [np.asarray(grads[k]) for k in keys], lambda arrays: dict(zip(keys, arrays))
    if isinstance(grads, np.ndarray):
        return [grads], lambda arrays: arrays[0]
    try:
        arrays = [np.asarray(g) for g in grads]
    except TypeError:
        raise ValueError(f"grads: expected a dict or a list of arrays, got {type(grads).__name__}") from None
    return arrays, lambda new: type(grads)(new) if isinstance(grads, tuple) else list(new)


def global_norm(grads, norm_type: float = 2.0) -> float:
    """The norm of all gradients taken together, as if concatenated into one vector.

    Args:
        grads: dict of arrays (e.g. ``{"U": ..., "W": ...}``), a list/tuple of arrays, or one array.
        norm_type: 2.0 (Euclidean, the default) or ``float("inf")`` (largest |entry|).

    Returns:
        ‖g‖ as a float (0.0 for no gradients); NaN or inf if an entry is.
    """
    arrays, _ = _arrays(grads)
    if norm_type not in (2.0, float("inf")):
        raise ValueError(f"norm_type: expected 2.0 or inf, got {norm_type!r}")
    if not arrays:
        return 0.0
    if norm_type == float("inf"):
        return float(max(np.max(np.abs(a)) if a.size else 0.0 for a in arrays))
    per_array = np.array([np.sqrt(np.sum(np.square(a, dtype=np.float64))) for a in arrays])
    return float(np.sqrt(np.sum(per_array ** 2)))


def clip_grad_norm(grads, max_norm: float, norm_type: float = 2.0):
    """Rescale all gradients together so that their global norm is at most ``max_norm``.

    Same arithmetic as ``torch.nn.utils.clip_grad_norm_``: every array is multiplied by
    min(1, max_norm / (total_norm + 1e-6)), so gradients under the threshold are untouched and the
    direction of the whole gradient never changes.  Unlike torch this returns new arrays (the inputs
    are not modified).

    Args:
        grads: dict of arrays, a list/tuple of arrays, or one array.
        max_norm: the threshold, > 0.
        norm_type: 2.0 or ``float("inf")``.

    Returns:
        clipped: the same container with rescaled copies.
        total_norm: the global norm BEFORE clipping (float), as torch returns it.
    """
    if not max_norm > 0:
        raise ValueError(f"max_norm: expected a positive number, got {max_norm!r}")
    arrays, rebuild = _arrays(grads)
    total_norm = global_norm(arrays, norm_type)
    coef = float(np.minimum(max_norm / (total_norm + CLIP_EPS), 1.0))   # NaN stays NaN, as in torch
    with np.errstate(invalid="ignore"):                                  # inf · 0 = NaN, as in torch
        return rebuild([a * coef for a in arrays]), total_norm


def clip_grad_value(grads, clip_value: float):
    """Clip every entry to [−clip_value, clip_value] (``torch.nn.utils.clip_grad_value_``).

    This changes the direction of the gradient when some entries are clipped and others not, which is
    why clipping by the global norm is the usual choice for RNNs.

    Returns the same container with clipped copies.
    """
    if not clip_value > 0:
        raise ValueError(f"clip_value: expected a positive number, got {clip_value!r}")
    arrays, rebuild = _arrays(grads)
    return rebuild([np.clip(a, -clip_value, clip_value) for a in arrays])


# --------------------------------------------------------------------------
# Plain RNN with any activation, and the norm of ∂L_T/∂s_t through time
# --------------------------------------------------------------------------

def spectral_radius(W) -> float:
    """ρ(W) = the largest |eigenvalue| of a square matrix."""
    W = np.asarray(W)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W: expected a square matrix (n, n), got {W.shape}")
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def scale_to_spectral_radius(W, rho: float):
    """W rescaled so that its spectral radius is ``rho``."""
    return np.asarray(W) * (rho / spectral_radius(W))


# f and f′ written with the OUTPUT s = f(z), which is all the backward pass keeps.
ACTIVATIONS = {
    "tanh": (np.tanh, lambda s: 1.0 - s ** 2),
    "relu": (lambda z: np.maximum(z, 0.0), lambda s: (s > 0).astype(s.dtype)),
    "linear": (lambda z: z, np.ones_like),
}


def _rnn_sizes(X, params):
    U, W, b_s = (np.asarray(params[k]) for k in ("U", "W", "b_s"))
    n, m = U.shape
    if W.shape != (n, n) or b_s.shape != (n,):
        raise ValueError(f"expected U (n, m), W (n, n), b_s (n,); got U {U.shape}, W {W.shape}, b_s {b_s.shape}")
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != m:
        raise ValueError(f"X: expected shape (T, m) = (T, {m}), got {X.shape}")
    return X, U, W, b_s


def rnn_states(X, params, activation: str = "tanh", s0=None):
    """States of the slides' RNN s_t = f(U x_t + W s_{t-1} + b_s) for f = tanh, relu or linear.

    With f = tanh this is ``course_lib.rnn.rnn_forward``'s S (tested).

    Args:
        X: one sequence (T, m).
        params: dict with U (n, m), W (n, n), b_s (n,) (V, b_o are ignored).
        activation: "tanh", "relu" or "linear".
        s0: initial state (n,); zeros if None.

    Returns:
        S: states s_1..s_T (T, n).
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation: expected one of {sorted(ACTIVATIONS)}, got {activation!r}")
    X, U, W, b_s = _rnn_sizes(X, params)
    f = ACTIVATIONS[activation][0]
    s = np.zeros(W.shape[0]) if s0 is None else np.asarray(s0, dtype=float)
    S = np.zeros((X.shape[0], W.shape[0]))
    for t in range(X.shape[0]):
        s = f(U @ X[t] + W @ s + b_s)
        S[t] = s
    return S


def state_gradient_norms(X, params, grad_T=None, activation: str = "tanh", s0=None,
                         return_grad_W: bool = False):
    """‖∂L_T/∂s_t‖ for t = 1..T, for a loss L_T that depends on the last state only.

    Runs the forward pass, then ∂L/∂s_{t-1} = Wᵀ (∂L/∂s_t ⊙ f′(z_t)) from t = T down to 2.

    Args:
        X, params, activation, s0: as ``rnn_states``.
        grad_T: ∂L_T/∂s_T (n,); default a unit vector with equal entries.  With
            grad_T = Vᵀ(o_T − y_T) this is ``course_lib.rnn.hidden_gradient_norms`` (tested).
        return_grad_W: also return the per-step terms of ∂L_T/∂W.

    Returns:
        norms (T,); with ``return_grad_W`` also W_terms (T, n, n), the term δ_t s_{t-1}ᵀ of each step
        (their sum is ∂L_T/∂W), where δ_t = ∂L_T/∂s_t ⊙ f′(z_t).
    """
    S = rnn_states(X, params, activation, s0)
    _, _, W, _ = _rnn_sizes(X, params)
    n = W.shape[0]
    grad = np.full(n, 1.0 / np.sqrt(n)) if grad_T is None else np.asarray(grad_T, dtype=float)
    if grad.shape != (n,):
        raise ValueError(f"grad_T: expected shape (n,) = ({n},), got {grad.shape}")
    f_prime = ACTIVATIONS[activation][1]
    s_prev = np.zeros(n) if s0 is None else np.asarray(s0, dtype=float)
    S_prev = np.vstack([s_prev[None], S[:-1]])
    T = len(S)
    norms = np.zeros(T)
    W_terms = np.zeros((T, n, n))
    for t in range(T - 1, -1, -1):
        norms[t] = np.linalg.norm(grad)
        delta = grad * f_prime(S[t])                  # ∂L_T/∂z_t
        W_terms[t] = np.outer(delta, S_prev[t])
        grad = W.T @ delta                            # ∂L_T/∂s_{t-1}
    return (norms, W_terms) if return_grad_W else norms


def clipping_curve(rho: float, T: int, max_norm: float, activation: str = "tanh", n: int = 32,
                   m: int = 8, input_scale: float = 0.5, seed: int = 0) -> dict:
    """The data of notebook 07's widget: one random RNN, W rescaled to spectral radius ``rho``.

    For a loss at the last step (∂L_T/∂s_T a fixed unit vector) it returns the size of every time
    step's term of ∂L_T/∂W before and after clipping the whole gradient ∂L_T/∂W at ``max_norm``.
    The random draws depend on ``seed`` only, so moving ρ, T or the threshold changes nothing else.

    Returns:
        dict with "steps" (1..T), "state_norms" ‖∂L_T/∂s_t‖ (T,), "terms" ‖δ_t s_{t-1}ᵀ‖ (T,; the
        t = 1 term is 0 because s_0 = 0), "terms_clipped" (T,), "grad_norm" ‖∂L_T/∂W‖ before clipping,
        "clip_coef" (the factor applied) and "ratio" = terms[1] / terms[-1], how much less step 2
        contributes than step T (the same before and after clipping).
    """
    rng = np.random.default_rng(seed)
    W0 = rng.standard_normal((n, n)) / np.sqrt(n)
    params = {"U": input_scale * rng.standard_normal((n, m)) / np.sqrt(m),
              "W": scale_to_spectral_radius(W0, rho), "b_s": np.zeros(n)}
    X = rng.standard_normal((max(int(T), 1), m))
    norms, W_terms = state_gradient_norms(X, params, activation=activation, return_grad_W=True)
    (clipped,), grad_norm = clip_grad_norm([W_terms.sum(axis=0)], max_norm)
    coef = float(np.linalg.norm(clipped) / grad_norm) if grad_norm > 0 else 1.0
    terms = np.linalg.norm(W_terms, axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = float(terms[1] / terms[-1]) if len(terms) > 1 and terms[-1] > 0 else float("nan")
    return {"steps": np.arange(1, len(X) + 1), "state_norms": norms, "terms": terms,
            "terms_clipped": coef * terms, "grad_norm": grad_norm, "clip_coef": coef, "ratio": ratio}


# --------------------------------------------------------------------------
# The same probe for gated units, and for any torch graph
# --------------------------------------------------------------------------

def gated_state_gradient_norms(kind: str, X, params, dh_T=None, variant: str = "slides") -> dict:
    """‖∂L_T/∂h_t‖ (and ‖∂L_T/∂c_t‖ for the LSTM), t = 1..T, for a loss on the last hidden state.

    Args:
        kind: "lstm" or "gru".
        X: one batch of sequences (T, B, m).
        params: the ``course_lib.gated`` params of that kind.
        dh_T: ∂L_T/∂h_T (B, n); default every row a unit vector with equal entries.
        variant: the GRU variant ("slides" or "torch").

    Returns:
        dict with "h" (T,) and, for the LSTM, "c" (T,): Frobenius norms over the batch.
    """
    if kind not in ("lstm", "gru"):
        raise ValueError(f"kind: expected 'lstm' or 'gru', got {kind!r}")
    X = np.asarray(X)
    if kind == "lstm":
        H, C = gated.lstm_forward(X, params)
    else:
        H = gated.gru_forward(X, params, variant=variant)
    T, B, n = H.shape
    dh = np.full((B, n), 1.0 / np.sqrt(n)) if dh_T is None else np.asarray(dh_T, dtype=float)
    if dh.shape != (B, n):
        raise ValueError(f"dh_T: expected shape (B, n) = ({B}, {n}), got {dh.shape}")
    zeros = np.zeros((B, n))
    norms_h, norms_c = np.zeros(T), np.zeros(T)
    dc = zeros
    for t in range(T - 1, -1, -1):
        h_prev = H[t - 1] if t > 0 else zeros
        norms_h[t] = np.linalg.norm(dh)
        if kind == "lstm":
            c_prev = C[t - 1] if t > 0 else zeros
            _, _, cache = gated.lstm_step_forward(X[t], h_prev, c_prev, params)
            # ∂L/∂c_t in full: what arrives from step t + 1 plus the path through h_t = o_t ⊙ tanh(c_t)
            norms_c[t] = np.linalg.norm(dc + dh * cache["o"] * (1.0 - cache["tanh_c"] ** 2))
            _, dh, dc, _ = gated.lstm_step_backward(dh, dc, cache)
        else:
            _, cache = gated.gru_step_forward(X[t], h_prev, params, variant)
            _, dh, _ = gated.gru_step_backward(dh, cache)
    return {"h": norms_h, "c": norms_c} if kind == "lstm" else {"h": norms_h}


def torch_state_gradient_norms(loss, states) -> np.ndarray:
    """‖∂loss/∂s_t‖ for a list of torch state tensors s_1..s_T that are part of ``loss``'s graph.

    ``torch.autograd.grad`` with respect to an intermediate tensor gives the TOTAL derivative (through
    every later step), which is what BPTT carries back.  Norms are Frobenius norms over the batch.
    The graph is kept (retain_graph=True), so ``loss.backward()`` can follow.
    """
    import torch

    grads = torch.autograd.grad(loss, list(states), retain_graph=True, allow_unused=True)
    return np.array([0.0 if g is None else float(torch.linalg.vector_norm(g.detach().double())) for g in grads])
