"""Backpropagation / 反向传播 for a small fully connected network, in numpy.

Used by notebooks/01_backpropagation.ipynb.  Backpropagation is a way to
*compute gradients*; it does not update the parameters.  Updating is the
optimizer's job (``MLP.step`` below is plain gradient descent).

Slide equations implemented here
--------------------------------
Chain rule / 链式法则, for x = f(w), y = f(x), z = f(y)::

    ∂z/∂w = ∂z/∂y · ∂y/∂x · ∂x/∂w = f'(y) f'(x) f'(w)          -> chain_rule

Forward pass / 前向传播, layer l = 1..L (σ is the activation)::

    zˡ = Wˡ aˡ⁻¹ + bˡ,   aˡ = σ(zˡ)                            -> forward

Backward pass / 反向传播, with δˡ = ∂C/∂zˡ and ⊙ the elementwise product::

    BP1  δᴸ = ∇ₐC ⊙ σ′(zᴸ)                                      -> output_delta
    BP2  δˡ = ((Wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ)                            -> hidden_delta
    BP3  ∂C/∂bˡ = δˡ                                             -> bias_gradient
    BP4  ∂C/∂Wˡ = δˡ (aˡ⁻¹)ᵀ                                     -> weight_gradient

Shapes: layer l has ``W`` of shape (n_out, n_in) and ``b`` of shape (n_out,).
A batch of N examples is stored as ROWS, so ``a`` has shape (N, n_in) and
``z = a @ W.T + b`` has shape (N, n_out).  In this row form BP2 reads
``δˡ = (δˡ⁺¹ @ Wˡ⁺¹) ⊙ σ′(zˡ)``, BP3 sums δ over the rows and BP4 is
``δᵀ @ a_prev`` (each row is one example's column vector from the slides).

Each layer also comes as a CS231n-style pair ``*_forward(...) -> (out, cache)``
and ``*_backward(dout, cache) -> grads``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from tqdm.auto import trange

__all__ = [
    "sigmoid", "sigmoid_prime", "tanh", "tanh_prime", "relu", "relu_prime", "ACTIVATIONS",
    "chain_rule",
    "affine_forward", "affine_backward", "activation_forward", "activation_backward",
    "quadratic_cost", "softmax_cross_entropy",
    "output_delta", "hidden_delta", "bias_gradient", "weight_gradient",
    "init_params", "forward", "backprop", "MLP",
]


# --------------------------------------------------------------------------
# Activations σ and their derivatives σ′ (elementwise, any shape)
# --------------------------------------------------------------------------

def sigmoid(z):
    """σ(z) = 1 / (1 + e^(−z)), computed without overflow for large |z|."""
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_prime(z):
    """σ′(z) = σ(z) (1 − σ(z))."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z):
    """tanh(z)."""
    return np.tanh(np.asarray(z, dtype=float))


def tanh_prime(z):
    """tanh′(z) = 1 − tanh(z)²."""
    return 1.0 - np.tanh(np.asarray(z, dtype=float)) ** 2


def relu(z):
    """relu(z) = max(0, z)."""
    return np.maximum(0.0, np.asarray(z, dtype=float))


def relu_prime(z):
    """relu′(z) = 1 if z > 0 else 0 (we take relu′(0) = 0, as PyTorch does)."""
    return (np.asarray(z, dtype=float) > 0).astype(float)


ACTIVATIONS: dict[str, tuple[Callable, Callable]] = {
    "sigmoid": (sigmoid, sigmoid_prime),
    "tanh": (tanh, tanh_prime),
    "relu": (relu, relu_prime),
}


def _activation_pair(where: str, name: str) -> tuple[Callable, Callable]:
    if name not in ACTIVATIONS:
        raise ValueError(f"{where}: unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]


# --------------------------------------------------------------------------
# Chain rule / 链式法则
# --------------------------------------------------------------------------

def chain_rule(w, f: Callable = np.sin, f_prime: Callable = np.cos) -> dict:
    """The slides' chain w → x → y → z with x = f(w), y = f(x), z = f(y).

    Args:
        w: scalar or array (everything is elementwise).
        f, f_prime: the function and its derivative (default sin and cos).

    Returns:
        dict with the forward values ``x, y, z``, the local derivatives
        ``dz_dy = f'(y)``, ``dy_dx = f'(x)``, ``dx_dw = f'(w)`` and their
        product ``dz_dw = f'(y) f'(x) f'(w)``; each has the shape of ``w``.
    """
    x = f(w)                     # forward pass: w → x → y → z
    y = f(x)
    z = f(y)
    dz_dy = f_prime(y)           # local derivatives, one per arrow
    dy_dx = f_prime(x)
    dx_dw = f_prime(w)
    dz_dw = dz_dy * dy_dx * dx_dw
    return {"x": x, "y": y, "z": z, "dz_dy": dz_dy, "dy_dx": dy_dx, "dx_dw": dx_dw, "dz_dw": dz_dw}


# --------------------------------------------------------------------------
# Layers as forward/backward pairs
# --------------------------------------------------------------------------

def _check_affine(where: str, a_prev, W, b) -> None:
    if np.ndim(W) != 2:
        raise ValueError(f"{where}: W must have shape (n_out, n_in), got shape {np.shape(W)}")
    n_out, n_in = np.shape(W)
    if np.ndim(a_prev) != 2:
        raise ValueError(
            f"{where}: a_prev must have shape (N, n_in) with one example per row, got shape {np.shape(a_prev)}; "
            f"expected (N, {n_in})"
        )
    if np.shape(a_prev)[1] != n_in:
        raise ValueError(
            f"{where}: W has shape {np.shape(W)} but a_prev has {np.shape(a_prev)[1]} features; "
            f"expected W of shape (n_out, {np.shape(a_prev)[1]})"
        )
    if np.shape(b) != (n_out,):
        raise ValueError(f"{where}: b has shape {np.shape(b)} but W has shape {np.shape(W)}; expected b of shape ({n_out},)")


def affine_forward(a_prev, W, b):
    """Affine layer z = a_prev Wᵀ + b (the slides' zˡ = Wˡ aˡ⁻¹ + bˡ, one row per example).

    Args:
        a_prev: (N, n_in) activations of the previous layer.
        W: (n_out, n_in) weights.
        b: (n_out,) biases.

    Returns:
        z: (N, n_out) pre-activations.
        cache: (a_prev, W, b) for ``affine_backward``.
    """
    _check_affine("affine_forward", a_prev, W, b)
    a_prev, W, b = (np.asarray(t, dtype=float) for t in (a_prev, W, b))
    z = a_prev @ W.T + b
    return z, (a_prev, W, b)


def affine_backward(dz, cache):
    """Backward pass of ``affine_forward``.

    Args:
        dz: (N, n_out) upstream gradient ∂C/∂z.
        cache: from ``affine_forward``.

    Returns:
        da_prev: (N, n_in) gradient ∂C/∂a_prev = dz W.
        dW: (n_out, n_in) gradient ∂C/∂W = dzᵀ a_prev.
        db: (n_out,) gradient ∂C/∂b = sum of dz over the rows.
    """
    a_prev, W, _ = cache
    expected = (a_prev.shape[0], W.shape[0])
    if np.shape(dz) != expected:
        raise ValueError(f"affine_backward: dz has shape {np.shape(dz)} but z had shape {expected}; expected dz of shape {expected}")
    dz = np.asarray(dz, dtype=float)
    return dz @ W, dz.T @ a_prev, dz.sum(axis=0)


def activation_forward(z, name: str):
    """Elementwise activation a = σ(z).

    Args:
        z: pre-activations, any shape (usually (N, n)).
        name: "sigmoid", "tanh" or "relu".

    Returns:
        a: same shape as ``z``.
        cache: (z, name) for ``activation_backward``.
    """
    f, _ = _activation_pair("activation_forward", name)
    z = np.asarray(z, dtype=float)
    return f(z), (z, name)


def activation_backward(da, cache):
    """Backward pass of ``activation_forward``: dz = da ⊙ σ′(z).

    Args:
        da: upstream gradient ∂C/∂a, same shape as ``z``.
        cache: from ``activation_forward``.

    Returns:
        dz: same shape as ``z``.
    """
    z, name = cache
    _, f_prime = _activation_pair("activation_backward", name)
    if np.shape(da) != z.shape:
        raise ValueError(f"activation_backward: da has shape {np.shape(da)} but z has shape {z.shape}; expected da of shape {z.shape}")
    return np.asarray(da, dtype=float) * f_prime(z)


# --------------------------------------------------------------------------
# Costs C and their gradients
# --------------------------------------------------------------------------

def quadratic_cost(a, y):
    """Quadratic cost C = ½ Σ (a − y)² / N, averaged over the N rows of the batch.

    Args:
        a: (N, k) network outputs aᴸ.
        y: (N, k) targets.

    Returns:
        C: float.
        dC_da: (N, k) gradient ∇ₐC = (a − y) / N.
    """
    if np.ndim(a) != 2:
        raise ValueError(f"quadratic_cost: a must have shape (N, k), got shape {np.shape(a)}")
    if np.shape(y) != np.shape(a):
        raise ValueError(f"quadratic_cost: y has shape {np.shape(y)} but a has shape {np.shape(a)}; expected y of shape {np.shape(a)}")
    a = np.asarray(a, dtype=float)
    y = np.asarray(y, dtype=float)
    n = a.shape[0]
    diff = a - y
    return float(0.5 * np.sum(diff**2) / n), diff / n


def softmax_cross_entropy(z, y):
    """Softmax followed by cross-entropy, averaged over the batch (stable log-sum-exp).

    Args:
        z: (N, k) scores (logits).
        y: (N,) integer class ids in [0, k), or (N, k) one-hot rows
            (any rows of probabilities work too).

    Returns:
        C: float, the mean of −log softmax(z)[target] over the rows.
        dC_dz: (N, k) gradient (softmax(z) − onehot(y)) / N.
    """
    if np.ndim(z) != 2:
        raise ValueError(f"softmax_cross_entropy: z must have shape (N, k), got shape {np.shape(z)}")
    z = np.asarray(z, dtype=float)
    n, k = z.shape
    y = np.asarray(y)
    if y.shape == (n,):
        if not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"softmax_cross_entropy: class ids y must be integers, got dtype {y.dtype}")
        if n and (y.min() < 0 or y.max() >= k):
            raise ValueError(f"softmax_cross_entropy: class ids must lie in [0, {k}), got min {y.min()} and max {y.max()}")
        target = np.zeros((n, k))
        target[np.arange(n), y] = 1.0
    elif y.shape == (n, k):
        target = y.astype(float)
    else:
        raise ValueError(
            f"softmax_cross_entropy: y has shape {y.shape} but z has shape {z.shape}; "
            f"expected class ids of shape ({n},) or one-hot rows of shape ({n}, {k})"
        )
    shifted = z - z.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    C = -np.sum(target * log_probs) / n
    dC_dz = (np.exp(log_probs) * target.sum(axis=1, keepdims=True) - target) / n
    return float(C), dC_dz


# --------------------------------------------------------------------------
# The four equations of backpropagation (BP1–BP4), row-batch form
# --------------------------------------------------------------------------

def output_delta(grad_C_a, z_L, activation: str = "sigmoid"):
    """BP1: δᴸ = ∇ₐC ⊙ σ′(zᴸ).

    Args:
        grad_C_a: (N, n_L) gradient of the cost with respect to the output aᴸ.
        z_L: (N, n_L) pre-activations of the output layer.
        activation: name of σ.

    Returns:
        delta_L: (N, n_L), the error δᴸ = ∂C/∂zᴸ.
    """
    _, f_prime = _activation_pair("output_delta", activation)
    if np.shape(grad_C_a) != np.shape(z_L):
        raise ValueError(
            f"output_delta: grad_C_a has shape {np.shape(grad_C_a)} but z_L has shape {np.shape(z_L)}; "
            f"expected equal shapes"
        )
    return np.asarray(grad_C_a, dtype=float) * f_prime(z_L)


def hidden_delta(W_next, delta_next, z, activation: str = "sigmoid"):
    """BP2: δˡ = ((Wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ), i.e. (δˡ⁺¹ Wˡ⁺¹) ⊙ σ′(zˡ) with rows as examples.

    Args:
        W_next: (n_next, n_l) weights Wˡ⁺¹ of the layer after l.
        delta_next: (N, n_next) error δˡ⁺¹ of the layer after l.
        z: (N, n_l) pre-activations zˡ of layer l.
        activation: name of σ.

    Returns:
        delta: (N, n_l), the error δˡ = ∂C/∂zˡ.
    """
    _, f_prime = _activation_pair("hidden_delta", activation)
    if np.ndim(W_next) != 2 or np.ndim(delta_next) != 2 or np.ndim(z) != 2:
        raise ValueError(
            f"hidden_delta: expected 2-D W_next (n_next, n_l), delta_next (N, n_next) and z (N, n_l), "
            f"got shapes {np.shape(W_next)}, {np.shape(delta_next)} and {np.shape(z)}"
        )
    n_next, n_l = np.shape(W_next)
    if np.shape(delta_next)[1] != n_next:
        raise ValueError(
            f"hidden_delta: W_next has shape {np.shape(W_next)} but delta_next has shape {np.shape(delta_next)}; "
            f"expected delta_next of shape (N, {n_next})"
        )
    expected_z = (np.shape(delta_next)[0], n_l)
    if np.shape(z) != expected_z:
        raise ValueError(f"hidden_delta: z has shape {np.shape(z)} but W_next and delta_next need z of shape {expected_z}")
    return (np.asarray(delta_next, dtype=float) @ np.asarray(W_next, dtype=float)) * f_prime(z)


def bias_gradient(delta):
    """BP3: ∂C/∂bˡ = δˡ, summed over the batch rows.

    Args:
        delta: (N, n_l) error of layer l.

    Returns:
        (n_l,) gradient of the cost with respect to bˡ.
    """
    if np.ndim(delta) != 2:
        raise ValueError(f"bias_gradient: delta must have shape (N, n_l), got shape {np.shape(delta)}")
    return np.asarray(delta, dtype=float).sum(axis=0)


def weight_gradient(delta, a_prev):
    """BP4: ∂C/∂Wˡ = δˡ (aˡ⁻¹)ᵀ, summed over the batch: ``delta.T @ a_prev``.

    Args:
        delta: (N, n_l) error of layer l.
        a_prev: (N, n_prev) activations of layer l − 1.

    Returns:
        (n_l, n_prev) gradient of the cost with respect to Wˡ.
    """
    if np.ndim(delta) != 2 or np.ndim(a_prev) != 2:
        raise ValueError(
            f"weight_gradient: expected delta (N, n_l) and a_prev (N, n_prev), "
            f"got shapes {np.shape(delta)} and {np.shape(a_prev)}"
        )
    if np.shape(delta)[0] != np.shape(a_prev)[0]:
        raise ValueError(
            f"weight_gradient: delta has shape {np.shape(delta)} but a_prev has shape {np.shape(a_prev)}; "
            f"expected the same number of rows N"
        )
    return np.asarray(delta, dtype=float).T @ np.asarray(a_prev, dtype=float)


# --------------------------------------------------------------------------
# A whole network
# --------------------------------------------------------------------------

def init_params(sizes, seed=0):
    """Random weights (Xavier/Glorot-scaled normal) and zero biases.

    Args:
        sizes: layer widths [n_0, n_1, ..., n_L] (n_0 = number of input features).
        seed: int or numpy Generator.

    Returns:
        weights: list of L arrays, weights[l] of shape (sizes[l+1], sizes[l]).
        biases: list of L arrays, biases[l] of shape (sizes[l+1],).
    """
    sizes = list(sizes)
    if len(sizes) < 2 or any(int(n) != n or n < 1 for n in sizes):
        raise ValueError(f"init_params: sizes must list at least two positive integers, got {sizes}")
    rng = np.random.default_rng(seed)
    weights, biases = [], []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        std = np.sqrt(2.0 / (n_in + n_out))
        weights.append(rng.normal(0.0, std, size=(n_out, n_in)))
        biases.append(np.zeros(n_out))
    return weights, biases


def _check_network(where: str, x, weights, biases) -> None:
    if len(weights) == 0 or len(weights) != len(biases):
        raise ValueError(f"{where}: expected as many weight matrices as bias vectors (at least one), got {len(weights)} and {len(biases)}")
    if np.ndim(x) != 2:
        raise ValueError(f"{where}: x must have shape (N, n_in) with one example per row, got shape {np.shape(x)}")
    n_prev = np.shape(x)[1]
    for l, (W, b) in enumerate(zip(weights, biases)):
        if np.ndim(W) != 2 or np.shape(W)[1] != n_prev:
            raise ValueError(
                f"{where}: weights[{l}] has shape {np.shape(W)} but its input has {n_prev} features; "
                f"expected weights[{l}] of shape (n_out, {n_prev})"
            )
        if np.shape(b) != (np.shape(W)[0],):
            raise ValueError(f"{where}: biases[{l}] has shape {np.shape(b)}; expected ({np.shape(W)[0]},) to match weights[{l}]")
        n_prev = np.shape(W)[0]


def forward(x, weights, biases, activation: str = "sigmoid"):
    """Forward pass / 前向传播: zˡ = aˡ⁻¹ (Wˡ)ᵀ + bˡ, aˡ = σ(zˡ) for l = 1..L.

    Args:
        x: (N, n_0) inputs, one example per row (a⁰ = x).
        weights, biases: as returned by ``init_params``.
        activation: name of σ, used in every layer including the output.

    Returns:
        a_L: (N, n_L) outputs.
        cache: dict with "zs" (list of L arrays zˡ) and "activations"
            (list of L + 1 arrays a⁰ = x, a¹, ..., aᴸ).
    """
    _check_network("forward", x, weights, biases)
    sigma, _ = _activation_pair("forward", activation)
    a = np.asarray(x, dtype=float)
    zs, activations = [], [a]
    for W, b in zip(weights, biases):
        z = a @ W.T + b
        a = sigma(z)
        zs.append(z)
        activations.append(a)
    return a, {"zs": zs, "activations": activations}


def backprop(x, y, weights, biases, activation: str = "sigmoid"):
    """Backpropagation / 反向传播 of the quadratic cost, written as BP1–BP4.

    Args:
        x: (N, n_0) inputs.
        y: (N, n_L) targets.
        weights, biases: as returned by ``init_params``.
        activation: name of σ.

    Returns:
        C: float, the quadratic cost ½ Σ (aᴸ − y)² / N.
        grad_weights: list of arrays shaped like ``weights`` (∂C/∂Wˡ).
        grad_biases: list of arrays shaped like ``biases`` (∂C/∂bˡ).
    """
    a_L, cache = forward(x, weights, biases, activation)
    if np.shape(y) != a_L.shape:
        raise ValueError(f"backprop: y has shape {np.shape(y)} but the network outputs shape {a_L.shape}; expected y of shape {a_L.shape}")
    zs, activations = cache["zs"], cache["activations"]
    L = len(weights)
    grad_weights, grad_biases = [None] * L, [None] * L

    C, grad_C_a = quadratic_cost(a_L, y)
    delta = output_delta(grad_C_a, zs[-1], activation)                      # BP1
    for l in reversed(range(L)):
        if l < L - 1:
            delta = hidden_delta(weights[l + 1], delta, zs[l], activation)  # BP2
        grad_biases[l] = bias_gradient(delta)                               # BP3
        grad_weights[l] = weight_gradient(delta, activations[l])            # BP4
    return C, grad_weights, grad_biases


class MLP:
    """A small multilayer perceptron trained with backprop and gradient descent.

    Args:
        sizes: layer widths [n_0, ..., n_L].
        activation: "sigmoid", "tanh" or "relu" (every layer).
        seed: seed of ``init_params``.
    """

    def __init__(self, sizes, activation: str = "sigmoid", seed=0):
        _activation_pair("MLP", activation)
        self.sizes = list(sizes)
        self.activation = activation
        self.weights, self.biases = init_params(self.sizes, seed=seed)

    def __repr__(self) -> str:
        return f"MLP(sizes={self.sizes}, activation={self.activation!r})"

    def forward(self, x):
        """Outputs aᴸ of shape (N, n_L) for inputs x of shape (N, n_0)."""
        return forward(x, self.weights, self.biases, self.activation)[0]

    def loss_and_grads(self, x, y):
        """Quadratic cost and its gradients.

        Returns:
            C: float.
            grads: (grad_weights, grad_biases), lists shaped like the parameters.
        """
        C, grad_weights, grad_biases = backprop(x, y, self.weights, self.biases, self.activation)
        return C, (grad_weights, grad_biases)

    def step(self, grads, lr: float) -> None:
        """One gradient-descent update θ ← θ − lr ∇C (the optimizer, not backprop)."""
        grad_weights, grad_biases = grads
        for W, dW, b, db in zip(self.weights, grad_weights, self.biases, grad_biases):
            W -= lr * dW
            b -= lr * db

    def fit(self, x, y, epochs: int, lr: float, batch_size=None, seed=0, progress: bool = False) -> list:
        """Train with (mini-batch) gradient descent.

        Args:
            x: (N, n_0) inputs.  y: (N, n_L) targets.
            epochs: number of passes over the data.
            lr: learning rate.
            batch_size: rows per update; None means the whole batch.
            seed: seed of the shuffling (only used with mini-batches).
            progress: show a tqdm progress bar.

        Returns:
            losses: list of ``epochs`` floats, the mean cost over each epoch's batches.
        """
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        if np.ndim(x) != 2 or x.shape[1] != self.sizes[0]:
            raise ValueError(f"MLP.fit: x has shape {x.shape}; expected (N, {self.sizes[0]})")
        if y.shape != (x.shape[0], self.sizes[-1]):
            raise ValueError(f"MLP.fit: y has shape {y.shape} but x has shape {x.shape}; expected y of shape {(x.shape[0], self.sizes[-1])}")
        n = x.shape[0]
        size = n if batch_size is None else int(batch_size)
        if size < 1:
            raise ValueError(f"MLP.fit: batch_size must be positive, got {batch_size}")
        rng = np.random.default_rng(seed)
        losses = []
        for _ in trange(epochs, disable=not progress, desc="epochs"):
            order = np.arange(n) if batch_size is None else rng.permutation(n)
            total = 0.0
            for start in range(0, n, size):
                rows = order[start:start + size]
                C, grads = self.loss_and_grads(x[rows], y[rows])
                self.step(grads, lr)
                total += C * len(rows)
            losses.append(total / n)
        return losses
