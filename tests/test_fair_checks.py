"""Every graded part is fair: a correct answer written another way keeps it on every seed.

A verified part compares a student's result with the reference within ``atol + rtol * |expected|``
(``autograder.parts.compare``).  Where the inputs are ill-conditioned, a correct answer that rounds
differently loses the points: a Spearman ρ over cosines with exact ties (a word paired with itself),
a truncated SVD whose k-th singular value is almost the (k+1)-th, a loss whose log σ(−x) is computed
as log(1 − σ(x)) at x = 37, an argmax between two almost equal probabilities.  The specs draw their
inputs away from those; this file keeps them there.  A float32 answer is judged at float32's tolerance only
while the check's snippet keeps its dtype (no ``float(...)`` of the result), and a centred difference with
another step h is as correct as the solution's: both are among the alternatives.  For the parts listed in ``ALTERNATIVES`` and
every seed in ``SEEDS``, each alternative (a textual edit of one solution cell, written the way
tests/mistakes/parts/*.json writes mistakes) must pass every trial.  tests/test_sharp_parts.py checks
the other direction: plausible mistakes lose those parts.

The program is the source notebook's set-up cells and solution cells (test cells and the ungraded demo
cells at the end left out); the inputs come from ``autograder.verify.draw_inputs`` and travel through
``.npz`` as they do to the sandbox; the outputs keep their dtype, as the sandbox sends them back.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from autograder.parts import compare, load_spec
from autograder.verify import draw_inputs
from submissions import grade_id, source_nb, through_npz

SEEDS = range(20)
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")

_COSINE = "model.append(E[index[a]] @ E[index[b]])"
_NORMALISE = "    E = E / np.maximum(np.linalg.norm(E, axis=1, keepdims=True), 1e-300)\n"
_SVD = ("    U, S, _ = np.linalg.svd(np.asarray(P, dtype=float), full_matrices=False)\n"
        "    return U[:, :k] * np.sqrt(S[:k])")
_SIGMOID = "    sigmoid = lambda x: 0.5 * (1.0 + np.tanh(0.5 * x))\n"
_LOSS = ("    loss = float(np.logaddexp(0.0, -s_o) + np.logaddexp(0.0, s_k).sum())"
         "   # -log sigma(x) = log(1 + e^-x)\n")

# (assignment, part, solution cell, [(replace, with), ...], why it is correct)
ALTERNATIVES = [
    ("ps2_word_vectors", "test_similarity_correlation", "similarity_correlation",
     [(_NORMALISE, ""), (_COSINE, "model.append(1 - scipy.spatial.distance.cosine(E[index[a]], E[index[b]]))"),
      ("    from scipy.stats import spearmanr\n",
       "    from scipy.stats import spearmanr\n    import scipy.spatial.distance\n")],
     "cosine as 1 - scipy.spatial.distance.cosine"),
    ("ps2_word_vectors", "test_similarity_correlation", "similarity_correlation",
     [(_NORMALISE, ""),
      (_COSINE, "u, v = E[index[a]], E[index[b]]\n"
                "            model.append(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))")],
     "cosine as u @ v / (norm(u) * norm(v))"),
    ("ps2_word_vectors", "test_similarity_correlation", "similarity_correlation",
     [(_NORMALISE, ""),
      (_COSINE, "u, v = E[index[a]], E[index[b]]\n"
                "            model.append(np.dot(u, v) / np.sqrt(np.dot(u, u) * np.dot(v, v)))")],
     "cosine as np.dot(u, v) / np.sqrt(np.dot(u, u) * np.dot(v, v))"),
    ("ps2_word_vectors", "test_similarity_correlation", "similarity_correlation",
     [(_COSINE, "model.append(-np.linalg.norm(E[index[a]] - E[index[b]]))")],
     "minus the distance of the unit vectors: a monotone function of the cosine, so the same ranks"),
    ("ps2_word_vectors", "test_svd_vectors", "svd_vectors",
     [(_SVD, "    P = np.asarray(P, dtype=float)\n    w, U = np.linalg.eigh(P @ P.T)\n"
             "    top = np.argsort(w)[::-1][:k]\n    return U[:, top] * np.maximum(w[top], 0.0) ** 0.25")],
     "U_k and sigma_k from the eigenvectors and eigenvalues of P P^T"),
    ("ps2_word_vectors", "test_svd_vectors", "svd_vectors",
     [(_SVD, "    from scipy.sparse.linalg import svds\n    P = np.asarray(P, dtype=float)\n"
             "    U, S, _ = svds(P, k=k) if k < min(P.shape) else np.linalg.svd(P, full_matrices=False)\n"
             "    return U[:, :k] * np.sqrt(S[:k])")],
     "scipy's truncated SVD (ARPACK), in its own order of the singular values"),
    ("ps2_word_vectors", "test_sgns_loss_and_grads", "sgns_loss_and_grads",
     [(_SIGMOID, "    sigmoid = lambda x: 1.0 / (1.0 + np.exp(-x))\n"),
      (_LOSS, "    loss = float(-np.log(sigmoid(s_o)) - np.log(1.0 - sigmoid(s_k)).sum())\n")],
     "the loss as -log sigma(s_o) - sum log(1 - sigma(s_k)), with the plain sigmoid"),
    ("ps2_word_vectors", "test_sgns_loss_and_grads", "sgns_loss_and_grads",
     [(_LOSS, "    loss = float(-np.log(sigmoid(s_o)) - np.log(sigmoid(-s_k)).sum())\n")],
     "the loss as the log of the tanh-form sigmoid"),
    ("ps8_seq2seq_attention", "test_greedy_decode", "greedy_decode",
     [("    s, y = np.asarray(s0, dtype=float), sos",
       "    f32 = lambda v: np.asarray(v, dtype=np.float32)\n    H = f32(H)\n"
       "    params = {k: {a: f32(w) for a, w in v.items()} if k == 'attention' else f32(v)\n"
       "              for k, v in params.items()}\n"
       "    s, y = f32(s0), sos")],
     "the whole decoding in float32 (torch's default precision)"),
    ("ps1_backprop", "test_numerical_gradient", "numerical_gradient", [("h=1e-5", "h=1e-6")],
     "a centred difference with h = 1e-6 (more rounding, less truncation)"),
    ("ps1_backprop", "test_numerical_gradient", "numerical_gradient", [("h=1e-5", "h=1e-4")],
     "a centred difference with h = 1e-4 (more truncation, less rounding)"),
    ("ps5_rnn_bptt", "test_rnn_forward", "rnn_forward",
     [("e = np.exp(logits - logits.max(axis=1, keepdims=True))", "e = np.exp(logits)")],
     "the softmax without subtracting the maximum (the logits are small), judged at rtol 1e-9"),
    ("ps5_rnn_bptt", "test_rnn_bptt", "rnn_bptt",
     [("cost = float(-np.sum(np.log(O[np.arange(T), y])))",
       "from scipy.special import logsumexp\n"
       "    logits = S @ params[\"V\"].T + params[\"b_o\"]\n"
       "    cost = float(np.sum(logsumexp(logits, axis=1) - logits[np.arange(T), y]))")],
     "the cost as log-sum-exp minus the logit of the target, judged at rtol 1e-9"),
    ("ps3_wordnet", "test_word_similarity", "word_similarity",
     [("return max(scores) if scores else None", "return np.float32(max(scores)) if scores else None")],
     "the best similarity as a float32 (judged at float32's tolerance)"),
    ("ps4_language_models", "test_lidstone_prob", "lidstone_prob",
     [("return (ngram_counts.get(context + (word,), 0) + k) / (context_count + k * V)",
       "return np.float32((ngram_counts.get(context + (word,), 0) + k) / (context_count + k * V))")],
     "the probability as a float32 (judged at float32's tolerance)"),
    ("ps4_language_models", "test_perplexity", "perplexity",
     [("return math.exp(-total / count)", "return np.exp(np.float32(-total / count))")],
     "the perplexity as a float32, inf included (judged at float32's tolerance)"),
    ("ps6_lstm_gru", "test_gradient_errors", "gradient_errors",
     [("errors[name] = rel_error(analytic[name], numerical_gradient(loss, value))",
       "errors[name] = np.float32(rel_error(analytic[name], numerical_gradient(loss, value)))")],
     "the relative errors as float32 (judged at float32's tolerance)"),
]


# --------------------------------------------------------------------------
# The solved program, with one cell rewritten
# --------------------------------------------------------------------------

_transform = TransformerManager().transform_cell


def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


@functools.cache
def _cells(assignment_id: str) -> tuple[tuple[str, str], ...]:
    """(grade id, source) of the locked set-up cells before the first solution cell, and of the solution cells."""
    cells, seen_solution = [], False
    for cell in source_nb(assignment_id).cells:
        meta = _nbgrader(cell)
        if cell.cell_type != "code" or meta.get("grade") and not meta.get("solution"):
            continue
        if meta.get("solution"):
            seen_solution = True
            source = "\n".join(line for line in cell.source.splitlines() if line.strip() not in MARKERS)
            cells.append((grade_id(cell), source))
        elif not seen_solution:
            cells.append((grade_id(cell), cell.source))
    return tuple(cells)


def program(assignment_id: str, solution_id: str, edits) -> dict:
    """The namespace of the solved notebook in which ``solution_id``'s cell has the edits applied."""
    ns = {"__name__": "__main__", "__builtins__": __builtins__}
    for gid, source in _cells(assignment_id):
        if gid == solution_id:
            for old, new in edits:
                assert old in source, f"{assignment_id}: {old!r} is not in the solution cell {gid}"
                source = source.replace(old, new)
        exec(compile(_transform(source), f"<{assignment_id} {gid}>", "exec"), ns)
    return ns


# --------------------------------------------------------------------------
# Inputs, reference answers and the verdict of one part
# --------------------------------------------------------------------------

def _part(assignment_id: str, test_id: str):
    return next(p for p in load_spec(assignment_id).PARTS if p.test_id == test_id)


@functools.cache
def _drawn(assignment_id: str, seed: int) -> dict:
    """{test_id: [inputs of each trial]} for one seed, exactly as the grader draws them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return draw_inputs(load_spec(assignment_id), seed)


@functools.cache
def _trials(assignment_id: str, test_id: str, seed: int) -> tuple:
    """((inputs, expected) of each trial) of one part at one seed."""
    part = _part(assignment_id, test_id)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tuple((through_npz(inp), part.expected(inp)) for inp in _drawn(assignment_id, seed)[test_id])


def verdict(ns: dict, assignment_id: str, test_id: str, seed: int) -> str:
    """'' when the part's points are earned at this seed; otherwise why not."""
    part = _part(assignment_id, test_id)
    code = compile(part.call, f"<check {test_id}>", "exec")
    for trial, (inputs, want) in enumerate(_trials(assignment_id, test_id, seed)):
        local = dict(ns, inputs=inputs)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                exec(code, local)
            got = {str(k): np.asarray(v) for k, v in local["outputs"].items()}
        except Exception as exc:  # an error costs the part
            return f"trial {trial}: {type(exc).__name__}: {exc}"
        message = compare(part, got, want)
        if message:
            return f"trial {trial}: {message}"
    return ""


@pytest.mark.parametrize("assignment_id, test_id, solution_id, edits, why",
                         [pytest.param(*a, id=f"{a[0]}-{a[1]}-{k}") for k, a in enumerate(ALTERNATIVES)])
def test_a_correct_alternative_keeps_the_part(assignment_id, test_id, solution_id, edits, why):
    ns = program(assignment_id, solution_id, edits)
    lost = {seed: reason for seed in SEEDS if (reason := verdict(ns, assignment_id, test_id, seed))}
    assert not lost, f"'{why}' ({solution_id}) loses {test_id} at seeds {sorted(lost)}: {next(iter(lost.values()))}"


# --------------------------------------------------------------------------
# The inputs stay away from ties and ill-conditioning (rare events: many more seeds, no student code)
# --------------------------------------------------------------------------

CONDITIONING_SEEDS = range(200)


def _cosines_apart(inp) -> bool:
    """No two cosines of the pairs used closer than 1e-6; in particular no self-pair and no pair twice."""
    words = inp["words"].tolist()
    used = [(str(a), str(b)) for a, b in zip(inp["a"], inp["b"]) if a in words and b in words]
    if any(a == b for a, b in used) or len({frozenset(p) for p in used}) < len(used):
        return False
    E = inp["E"] / np.linalg.norm(inp["E"], axis=1, keepdims=True)
    cosines = np.sort([E[words.index(a)] @ E[words.index(b)] for a, b in used])
    return bool(np.min(np.diff(cosines)) > 1e-6)


def _singular_gap(inp) -> bool:
    """sigma_k at least 1% of sigma_1 above sigma_(k+1) (0 past the last one)."""
    s, k = np.append(np.linalg.svd(inp["P"], compute_uv=False), 0.0), int(inp["k"])
    return bool(s[k - 1] - s[k] >= 0.01 * s[0])


def _moderate_scores(inp) -> bool:
    """Every score u.v within +-20, where log(1 - sigma(x)) still has most of its digits."""
    return bool(abs(inp["u"] @ inp["v"]) < 20 and np.all(np.abs(inp["U"] @ inp["v"]) < 20))


def _clear_argmax(inp) -> bool:
    """At every step of the reference's greedy decoding the two most probable tokens are 1e-4 apart."""
    import course_lib.attention as ref

    params = {k: inp[k] for k in ("E", "U", "W", "b_s", "V", "b_o")}
    params["attention"] = {k[2:]: v for k, v in inp.items() if k.startswith("a_")}
    kind, mask = ref.KINDS[int(inp["kind"])], inp["mask"] > 0.5
    s, y = inp["s0"], int(inp["sos"])
    for _ in range(int(inp["max_len"])):
        o, s, _ = ref.decoder_step(y, s, inp["H"], params, kind, mask)
        second, first = np.sort(o)[-2:]
        if first - second < 1e-4:
            return False
        y = int(np.argmax(o))
        if y == int(inp["eos"]):
            break
    return True


CONDITIONS = [
    ("ps2_word_vectors", "test_similarity_correlation", _cosines_apart),
    ("ps2_word_vectors", "test_svd_vectors", _singular_gap),
    ("ps2_word_vectors", "test_sgns_loss_and_grads", _moderate_scores),
    ("ps8_seq2seq_attention", "test_greedy_decode", _clear_argmax),
]


@pytest.mark.parametrize("assignment_id, test_id, condition",
                         [pytest.param(*c, id=f"{c[0]}-{c[1]}") for c in CONDITIONS])
def test_the_inputs_are_well_conditioned(assignment_id, test_id, condition):
    bad = [(seed, trial) for seed in CONDITIONING_SEEDS
           for trial, inp in enumerate(_drawn(assignment_id, seed)[test_id]) if not condition(inp)]
    assert not bad, f"{test_id}: {condition.__doc__.strip()} fails at (seed, trial) {bad[:5]}"
