"""The slides' worked RNN example / 循环神经网络算例: its data, the numbers printed on the slides, and their errata.

Used by notebooks/05_rnn_bptt.ipynb (and the specs of ps5_rnn_bptt and ps7_clipping_gating); every name
here is also importable from ``course_lib.rnn``, where the algorithm itself lives.

- ``slide_example``: the example's X, Y and parameters (T = 3, m = 3, n = 2, k = 3, biases zero);
- ``rnn_trace``: every intermediate of the forward and backward pass, in the slides' order;
- ``SLIDE_VALUES`` / ``SLIDE_DECIMALS``: the numbers as printed and the precision of each;
- ``compare_with_slides``: each printed number next to its float64 recomputation;
- ``ERRATA``: each mistake established by recomputing (tests/test_rnn.py checks every claim);
  ``CHECKED_OK``: numbers suspected but right at the printed precision.
"""

from __future__ import annotations

import sys

import numpy as np

from course_lib.rnn import _unpack, rnn_bptt, rnn_bptt_deltas

__all__ = ["rnn_trace", "slide_example", "SLIDE_VALUES", "SLIDE_DECIMALS", "compare_with_slides", "ERRATA",
           "CHECKED_OK"]


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
