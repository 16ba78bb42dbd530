"""One attention step / 注意力机制的一步, in numpy, forward and backward by hand.

Used by notebooks/08_seq2seq_attention.ipynb and the assignment
ps8_seq2seq_attention (as its reference); ``course_lib.seq2seq`` holds the
torch modules, and tests/test_attention.py shows that both agree.

Notation (Bahdanau et al. 2015; Luong et al. 2015).  The encoder's hidden
states / 编码器隐藏状态 h_1..h_S are the rows of H (S, d_h); s (d_s,) is the
decoder state that asks where to look (the query: s_t in ``decoder_step``,
s_{t-1} in Bahdanau et al.'s decoder).  One attention step is

    (A1)  scores / 注意力分数      e_i = score(s, h_i)                    i = 1..S
    (A2)  weights / 注意力权重     α = softmax(e) over the real positions; α_i = 0 on padding
    (A3)  context / 上下文向量     c = Σ_i α_i h_i

with three score functions:

    additive (Bahdanau)        e_i = vᵀ tanh(W s + U h_i)     W (d_a, d_s), U (d_a, d_h), v (d_a,)
    dot (Luong)                e_i = sᵀ h_i                   needs d_s = d_h
    general (Luong)            e_i = sᵀ W_a h_i               W_a (d_s, d_h)

``mask`` (S,) is True at real source positions and False at padding / 填充;
masked positions get α_i = 0 exactly, and the real ones sum to 1.

A decoder step / 解码器的一步 (``decoder_step``) puts one attention step after
the RNN step of module 5, in the same symbols (U, W, V, b_s, b_o); the input
x_t is the embedding E[y_{t-1}] of the previous output token, and the
output layer sees the state and the context (Luong et al. 2015):

    s_t      = tanh(U E[y_{t-1}] + W s_{t-1} + b_s)     module 5's (2) with x_t = E[y_{t-1}]
    c_t, α_t = attend(s_t, H)                           (A1)-(A3), the query is the NEW state
    o_t      = softmax(V [s_t; c_t] + b_o)              module 5's (1), with c_t appended

Greedy decoding (``greedy_decode``) feeds argmax o_t back as y_t until </s>.
``course_lib.seq2seq.Seq2Seq(cell="rnn")`` computes exactly this (test_attention.py).
"""

from __future__ import annotations

import numpy as np

__all__ = ["KINDS", "init_attention", "attention_scores", "masked_softmax", "context_vector", "attention_step",
           "attention_step_backward", "init_decoder", "decoder_step", "greedy_decode"]

KINDS = ("additive", "dot", "general")


# --------------------------------------------------------------------------
# Checks at the public entry points
# --------------------------------------------------------------------------

def _check_step(s, H, mask, params, kind):
    """Validate one attention step's inputs; return them as arrays (mask as bool)."""
    if kind not in KINDS:
        raise ValueError(f"kind: expected one of {KINDS}, got {kind!r}")
    s, H = np.asarray(s), np.asarray(H)
    if H.ndim != 2:
        raise ValueError(f"H: expected shape (S, d_h), got {H.shape}")
    S, d_h = H.shape
    if s.ndim != 1:
        raise ValueError(f"s: expected shape (d_s,), got {s.shape}")
    d_s = s.shape[0]
    mask = np.ones(S, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if mask.shape != (S,):
        raise ValueError(f"mask: expected shape (S,) = ({S},), got {mask.shape}")
    if not mask.any():
        raise ValueError("mask: at least one source position must be real (True)")
    expected = {"additive": {"W": (None, d_s), "U": (None, d_h), "v": (None,)},
                "dot": {}, "general": {"W_a": (d_s, d_h)}}[kind]
    if kind == "dot" and d_s != d_h:
        raise ValueError(f"dot attention needs d_s = d_h, got s {s.shape} and H {H.shape}")
    for name, shape in expected.items():
        if params is None or name not in params:
            raise ValueError(f"params: {kind} attention needs {sorted(expected)}, missing {name!r}")
        got = np.shape(params[name])
        if len(got) != len(shape) or any(e is not None and e != g for e, g in zip(shape, got)):
            raise ValueError(f"{name}: expected shape {tuple('d_a' if e is None else e for e in shape)}, got {got}")
    if kind == "additive":
        d_a = np.shape(params["v"])[0]
        for name in ("W", "U"):
            if np.shape(params[name])[0] != d_a:
                raise ValueError(f"{name}: expected {d_a} rows (d_a = len(v)), got shape {np.shape(params[name])}")
    return s, H, mask


def init_attention(kind: str, d_s: int, d_h: int, d_a: int = 8, rng=0) -> dict:
    """Random attention parameters ~ N(0, 1/fan_in): additive W, U, v; general W_a; dot none.

    ``rng`` is a numpy Generator or an int seed.
    """
    if kind not in KINDS:
        raise ValueError(f"kind: expected one of {KINDS}, got {kind!r}")
    rng = np.random.default_rng(rng)
    if kind == "additive":
        return {"W": rng.normal(size=(d_a, d_s)) / np.sqrt(d_s), "U": rng.normal(size=(d_a, d_h)) / np.sqrt(d_h),
                "v": rng.normal(size=d_a) / np.sqrt(d_a)}
    if kind == "general":
        return {"W_a": rng.normal(size=(d_s, d_h)) / np.sqrt(d_h)}
    return {}


# --------------------------------------------------------------------------
# Forward: (A1) scores, (A2) masked softmax, (A3) context
# --------------------------------------------------------------------------

def attention_scores(s, H, params, kind: str = "additive"):
    """(A1) e_i = score(s, h_i) for every source position.

    Args:
        s: decoder state (d_s,).
        H: encoder states h_1..h_S as rows (S, d_h).
        params: additive {W (d_a, d_s), U (d_a, d_h), v (d_a,)}; general {W_a (d_s, d_h)}; dot {}.
        kind: "additive", "dot" or "general".

    Returns:
        e: scores (S,), padding included (``masked_softmax`` ignores those).
    """
    s, H, _ = _check_step(s, H, None, params, kind)
    return _scores(s, H, params, kind)[0]


def _scores(s, H, params, kind):
    """Scores e (S,) and what the backward pass needs."""
    if kind == "additive":
        A = np.tanh(params["W"] @ s + H @ params["U"].T)     # row i: tanh(W s + U h_i), (S, d_a)
        return A @ params["v"], A
    if kind == "general":
        return H @ (params["W_a"].T @ s), None                # sᵀ W_a h_i = (W_aᵀ s) · h_i
    return H @ s, None                                        # dot: sᵀ h_i


def masked_softmax(e, mask=None):
    """(A2) α = softmax(e) over the positions where ``mask`` is True; α is 0 elsewhere.

    Args:
        e: scores (..., S).
        mask: bool (..., S) or None (all real); every row needs at least one True.

    Returns:
        alpha: (..., S), non-negative, each row summing to 1, exactly 0 where ``mask`` is False.
    """
    e = np.asarray(e, dtype=float)
    mask = np.ones(e.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if mask.shape != e.shape:
        raise ValueError(f"mask: expected the shape of e {e.shape}, got {mask.shape}")
    if not mask.any(axis=-1).all():
        raise ValueError("mask: every row needs at least one real (True) position")
    shifted = np.where(mask, e, -np.inf)
    shifted = shifted - shifted.max(axis=-1, keepdims=True)  # the max is over real positions only
    w = np.where(mask, np.exp(shifted), 0.0)
    return w / w.sum(axis=-1, keepdims=True)


def context_vector(alpha, H):
    """(A3) c = Σ_i α_i h_i = αᵀ H.  alpha (S,), H (S, d_h) → c (d_h,)."""
    alpha, H = np.asarray(alpha), np.asarray(H)
    if H.ndim != 2 or alpha.shape != (H.shape[0],):
        raise ValueError(f"expected alpha (S,) and H (S, d_h) with the same S, got alpha {alpha.shape}, H {H.shape}")
    return alpha @ H


def attention_step(s, H, params, kind: str = "additive", mask=None):
    """(A1)-(A3) together.

    Args:
        s: decoder state (d_s,);  H: encoder states (S, d_h);  params, kind: as ``attention_scores``;
        mask: bool (S,), True at real positions (None: all real).

    Returns:
        c: context (d_h,).
        alpha: weights (S,), summing to 1 over the real positions, 0 on padding.
        cache: what ``attention_step_backward`` needs.
    """
    s, H, mask = _check_step(s, H, mask, params, kind)
    e, A = _scores(s, H, params, kind)
    alpha = masked_softmax(e, mask)
    c = alpha @ H
    return c, alpha, {"s": s, "H": H, "params": params, "kind": kind, "A": A, "alpha": alpha}


# --------------------------------------------------------------------------
# Backward by hand
# --------------------------------------------------------------------------

def attention_step_backward(dc, cache):
    """Gradients of a loss L through one attention step, given dL/dc.

    Chain, from (A3) back to (A1):
        dα_i = dcᵀ h_i,   dh_i ← α_i dc                                      (A3)
        de_i = α_i (dα_i − Σ_j α_j dα_j)   (softmax Jacobian; 0 where α_i = 0)   (A2)
        additive: a_i = tanh(W s + U h_i), dz_i = de_i v ⊙ (1 − a_i²)
            dv = Σ de_i a_i,  dW = Σ dz_i sᵀ,  dU = Σ dz_i h_iᵀ,  ds = Wᵀ Σ dz_i,  dh_i ← Uᵀ dz_i
        general:  dW_a = s (Σ de_i h_i)ᵀ,  ds = W_a Σ de_i h_i,  dh_i ← de_i W_aᵀ s
        dot:      ds = Σ de_i h_i,  dh_i ← de_i s

    Args:
        dc: dL/dc (d_h,).
        cache: from ``attention_step``.

    Returns:
        dict with "s" (d_s,), "H" (S, d_h) and one entry per parameter (its shape).
    """
    s, H, params, kind, A, alpha = (cache[k] for k in ("s", "H", "params", "kind", "A", "alpha"))
    dc = np.asarray(dc)
    if dc.shape != (H.shape[1],):
        raise ValueError(f"dc: expected shape (d_h,) = ({H.shape[1]},), got {dc.shape}")
    d_alpha = H @ dc                                     # (S,)
    dH = np.outer(alpha, dc)                             # α_i dc in row i
    de = alpha * (d_alpha - alpha @ d_alpha)             # softmax backward
    grads = {}
    if kind == "additive":
        dZ = np.outer(de, params["v"]) * (1.0 - A**2)    # row i: dz_i, (S, d_a)
        grads["v"] = A.T @ de
        grads["W"] = np.outer(dZ.sum(axis=0), s)
        grads["U"] = dZ.T @ H
        ds = params["W"].T @ dZ.sum(axis=0)
        dH += dZ @ params["U"]
    elif kind == "general":
        weighted = de @ H                                # Σ de_i h_i
        grads["W_a"] = np.outer(s, weighted)
        ds = params["W_a"] @ weighted
        dH += np.outer(de, params["W_a"].T @ s)
    else:
        ds = de @ H
        dH += np.outer(de, s)
    grads["s"], grads["H"] = ds, dH
    return grads


# --------------------------------------------------------------------------
# A decoder step and greedy decoding (module 5's RNN with attention)
# --------------------------------------------------------------------------

def init_decoder(vocab_size: int, d_emb: int, d_s: int, d_h: int, kind: str = "additive",
                 d_a: int = 8, rng=0) -> dict:
    """Random decoder parameters: E (vocab, d_emb), U (d_s, d_emb), W (d_s, d_s), b_s (d_s,),
    V (vocab, d_s + d_h), b_o (vocab,), and "attention": the parameters of ``kind``."""
    rng = np.random.default_rng(rng)
    params = {
        "E": rng.normal(size=(vocab_size, d_emb)),
        "U": rng.normal(size=(d_s, d_emb)) / np.sqrt(d_emb),
        "W": rng.normal(size=(d_s, d_s)) / np.sqrt(d_s),
        "b_s": np.zeros(d_s),
        "V": rng.normal(size=(vocab_size, d_s + d_h)) / np.sqrt(d_s + d_h),
        "b_o": np.zeros(vocab_size),
    }
    params["attention"] = init_attention(kind, d_s, d_h, d_a, rng)
    return params


def decoder_step(y_prev: int, s_prev, H, params, kind: str = "additive", mask=None):
    """One decoder step: update the state, attend with it, predict.

    Args:
        y_prev: id of the previous output token y_{t-1} (the start token <s> at t = 1).
        s_prev: previous decoder state s_{t-1} (d_s,).
        H: encoder states (S, d_h).
        params: E (vocab, d_emb), U (d_s, d_emb), W (d_s, d_s), b_s (d_s,), V (vocab, d_s + d_h),
            b_o (vocab,), and "attention": the score parameters of ``kind`` (see ``attention_scores``).
        kind: "additive", "dot" or "general".
        mask: bool (S,), True at real positions (None: all real).

    Returns:
        o: output distribution o_t (vocab,).
        s: new state s_t (d_s,).
        alpha: attention weights α_t (S,).
    """
    s_prev = np.asarray(s_prev)
    d_s, d_emb = np.shape(params["U"])
    if s_prev.shape != (d_s,) or np.shape(params["W"]) != (d_s, d_s) or np.shape(params["E"])[1] != d_emb:
        raise ValueError(f"expected s_prev ({d_s},), W ({d_s}, {d_s}) and E (vocab, {d_emb}) "
                         f"for U {np.shape(params['U'])}, "
                         f"got s_prev {s_prev.shape}, W {np.shape(params['W'])}, E {np.shape(params['E'])}")
    s = np.tanh(params["U"] @ params["E"][y_prev] + params["W"] @ s_prev + params["b_s"])   # (2)
    c, alpha, _ = attention_step(s, H, params["attention"], kind, mask)                      # (A1)-(A3)
    logits = params["V"] @ np.concatenate([s, c]) + params["b_o"]                            # (1)
    o = np.exp(logits - logits.max())
    return o / o.sum(), s, alpha


def greedy_decode(H, s0, params, kind: str = "additive", mask=None, sos: int = 1, eos: int = 2,
                  max_len: int = 40):
    """Greedy decoding / 贪心解码: y_t = argmax o_t, fed back, until </s> or ``max_len`` tokens.

    Args:
        H: encoder states (S, d_h);  s0: initial decoder state (d_s,);  params, kind, mask: as
        ``decoder_step``;  sos, eos: ids of <s> and </s>.

    Returns:
        ids: list of output ids, </s> excluded.
        alphas: attention weights of every step run, (len(ids) + 1, S) with the </s> step,
            or (max_len, S) when ``max_len`` stopped the decoding before any </s>.
    """
    s, y = np.asarray(s0, dtype=float), sos
    ids, alphas = [], []
    for _ in range(max_len):
        o, s, alpha = decoder_step(y, s, H, params, kind, mask)
        alphas.append(alpha)
        y = int(np.argmax(o))
        if y == eos:
            break
        ids.append(y)
    return ids, np.array(alphas)
