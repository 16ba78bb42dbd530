"""Verified checks for ps2_word_vectors: each graded function against course_lib (DRAFT, module 2-3 helper).

Tokens travel as numpy unicode arrays (``np.savez`` stores them without pickles); a corpus is one flat
array ``tokens`` plus ``lengths`` (one entry per sentence).  Every answer that comes back is numeric:

* ``cooccurrence_matrix``: the matrix itself.  Trial 0 is the slides' corpus and row order (window 1).
* ``ppmi``: the matrix; trial 1 has an empty row and column, trial 2 negative PMI values (clipped).
* ``svd_vectors``: the Gram matrix X Xᵀ (independent of the singular vectors' signs) and the shape;
  σ_k stays 1% of σ_1 away from σ_(k+1) and from 0 (otherwise X Xᵀ is ill-conditioned).
* ``skipgram_pairs``: the pairs as (centre position in ``names``, context position) rows, in order.
  Trial 0 is the slides' 我爱学习爱劳动是个好青年 with window 2.
* ``sgns_loss_and_grads``: loss and the three gradients, on scores u·v within ±20.
* ``similarity_correlation``: ρ and the number of pairs used; pairs contain unknown words (on both sides)
  and tied human scores, but no two cosines closer than 1e-6 (no self-pairs, no pair twice: rounding
  would break those ties).
"""

import numpy as np

import course_lib.cooccurrence as co
import course_lib.evaluate as ev
import course_lib.word2vec as w2v
from autograder.parts import Part
from course_lib.text import Vocab

# What this assignment grades, and every re-implementation of it a submission could reach: stubbed out
# of the library the sandbox sees (autograder/strip.py); everything else stays importable.
# (The notebook's locked cells import only course_lib.checks, course_lib.gradcheck and course_lib.corpus.)
# Siblings: window_pairs (with corpus_ids) counts the co-occurrences; cbow_examples lists each centre's
# contexts in text order (the skip-gram pairs); cbow_loss_and_grads with one context vector and the batched
# and torch SGNS / CBOW gradients on a batch of one are sgns_loss_and_grads; evaluate_similarity is
# similarity_correlation.  Not stubbed: cosine_similarity, normalize_rows, spearman and rankdata (the
# notebook allows scipy.stats.spearmanr), randomized_svd (an SVD, as np.linalg.svd that the notebook names).
GRADED = {
    "course_lib.cooccurrence": ("window_pairs", "window_cooccurrence", "ppmi", "svd_embeddings"),
    "course_lib.word2vec": ("skipgram_pairs", "cbow_examples", "sgns_loss_and_grads", "cbow_loss_and_grads",
                            "sgns_batch_loss_and_grads", "_ns_grads", "sgns_grads_torch", "cbow_grads_torch"),
    "course_lib.evaluate": ("evaluate_similarity",),
}

_SLIDE = [["I", "love", "AI"], ["I", "love", "deep", "learning"], ["I", "enjoy", "learning"]]
_SLIDE_ORDER = ["I", "love", "enjoy", "AI", "deep", "learning"]


def _flat(sentences):
    return {"tokens": np.array([t for s in sentences for t in s] or [""], dtype=str),
            "lengths": np.array([len(s) for s in sentences], dtype=np.int64)}


def _sentences(inp):
    tokens = inp["tokens"].tolist()
    bounds = np.cumsum(inp["lengths"])[:-1]
    return [list(map(str, s)) for s in np.split(np.array(tokens[: int(inp["lengths"].sum())], dtype=object), bounds)]


_SENTENCES_CODE = (
    "import numpy as _np\n"
    "_toks = inputs['tokens'].tolist()[: int(inputs['lengths'].sum())]\n"
    "_sents = [list(map(str, _s)) for _s in _np.split(_np.array(_toks, dtype=object), _np.cumsum(inputs['lengths'])[:-1])]\n"
)


def _cooc_inputs(rng, trial):
    if trial == 0:
        return dict(_flat(_SLIDE), vocab=np.array(_SLIDE_ORDER), window=np.array(1))
    words = [f"w{i}" for i in range(int(rng.integers(2, 7)))]
    sents = [[str(t) for t in rng.choice(words + ["oov"], size=int(rng.integers(1, 10)))]
             for _ in range(int(rng.integers(1, 5)))]
    return dict(_flat(sents), vocab=np.array(list(rng.permutation(words))), window=np.array(int(rng.integers(1, 5))))


def _cooc_expected(inp):
    M, _ = co.window_cooccurrence(_sentences(inp), window=int(inp["window"]), vocab=[str(w) for w in inp["vocab"]])
    return {"M": M}


def _ppmi_inputs(rng, trial):
    if trial == 1:
        return {"M": np.array([[4, 0, 1], [0, 0, 0], [2, 0, 3]])}
    if trial == 2:
        return {"M": np.array([[100, 1], [1, 100]])}
    m, n = (int(v) for v in rng.integers(1, 8, size=2))
    M = rng.poisson(1.5, size=(m, n)) * (rng.random((m, n)) < 0.6)
    M[0, 0] += 1
    return {"M": M}


def _svd_inputs(rng, trial):
    # U_k Σ_k^(1/2) is ill-conditioned when σ_k is close to 0 or to σ_(k+1) (a correct answer through
    # eigh(P Pᵀ) then differs by ~1e-8), so both stay at least 1% of σ_1 away.
    while True:
        m, n = (int(v) for v in rng.integers(3, 9, size=2))
        P, k = rng.random((m, n)) * (rng.random((m, n)) < 0.7), int(rng.integers(1, min(m, n) + 1))
        s = np.append(np.linalg.svd(P, compute_uv=False), 0.0)
        if s[k - 1] - s[k] >= 0.01 * s[0]:
            return {"P": P, "k": np.array(k)}


def _svd_expected(inp):
    Y = co.svd_embeddings(inp["P"], int(inp["k"]), exact=True)
    return {"gram": Y @ Y.T, "shape": np.array(Y.shape)}


def _pairs_inputs(rng, trial):
    if trial == 0:
        names = list(dict.fromkeys("我爱学习劳动是个好青年"))
        return {"tokens": np.array(list("我爱学习爱劳动是个好青年")), "names": np.array(names), "window": np.array(2)}
    names = [f"t{i}" for i in range(5)]
    tokens = [str(t) for t in rng.choice(names, size=int(rng.integers(1, 12)))]
    return {"tokens": np.array(tokens), "names": np.array(names), "window": np.array(int(rng.integers(1, 5)))}


def _pairs_expected(inp):
    names = inp["names"].tolist()
    pairs = w2v.skipgram_pairs(inp["tokens"].tolist(), int(inp["window"]))
    return {"pairs": np.array([[names.index(c), names.index(o)] for c, o in pairs], dtype=float).reshape(-1, 2)}


_PAIRS_CALL = (
    "_names = inputs['names'].tolist()\n"
    "_got = skipgram_pairs([str(_t) for _t in inputs['tokens'].tolist()], int(inputs['window']))\n"
    "outputs = {'pairs': [[_names.index(_c), _names.index(_o)] for _c, _o in _got]}\n"
    "import numpy as _np\n"
    "outputs['pairs'] = _np.array(outputs['pairs'], dtype=float).reshape(-1, 2)\n"
)


def _sgns_inputs(rng, trial):
    # Scores u·v within ±20: beyond, log(1 - σ(x)) and log(½(1 + tanh(x/2))), correct formulas for
    # log σ(-x), lose every digit to rounding (and give -inf near 37).
    while True:
        d, K = int(rng.integers(1, 8)), int(rng.integers(1, 7))
        v, u, U = rng.normal(scale=2.0, size=d), rng.normal(scale=2.0, size=d), rng.normal(scale=2.0, size=(K, d))
        if abs(u @ v) < 20 and np.all(np.abs(U @ v) < 20):
            return {"v": v, "u": u, "U": U}


def _sgns_expected(inp):
    loss, dv, du, dU = w2v.sgns_loss_and_grads(inp["v"], inp["u"], inp["U"])
    return {"loss": np.array(loss), "dv_c": dv, "du_o": du, "dU_neg": dU}


def _corr_inputs(rng, trial):
    # Ties in the human scores stay (Spearman gives them average ranks); ties in the model's cosines do not:
    # a word paired with itself (cosine 1) or a pair drawn twice is a tie that rounding breaks differently in
    # every correct formula (1 - scipy's cosine, u·v / (|u| |v|), ...), and that changes ρ.  So the known pairs
    # are distinct pairs of distinct words, redrawn until their cosines are at least 1e-6 apart.  At least 10
    # of them: with fewer, dot products (no normalisation) can rank like the cosines within the tied scores.
    while True:
        V, d = int(rng.integers(6, 12)), int(rng.integers(2, 6))
        words = [f"w{i}" for i in range(V)]
        E = rng.normal(size=(V, d)) * rng.uniform(0.1, 5.0, size=(V, 1))
        distinct = [(words[i], words[j]) if rng.random() < 0.5 else (words[j], words[i])
                    for i in range(V) for j in range(i + 1, V)]
        chosen = rng.choice(len(distinct), size=int(rng.integers(10, min(19, len(distinct)) + 1)), replace=False)
        pairs = [distinct[k] for k in chosen]
        for k, w in enumerate(rng.choice(words, size=int(rng.integers(2, 4)))):   # an unknown word on each side
            pairs.append(("oov", str(w)) if k % 2 == 0 else (str(w), "oov"))
        order = rng.permutation(len(pairs))
        a, b = np.array([pairs[k][0] for k in order]), np.array([pairs[k][1] for k in order])
        scores = rng.integers(0, 4, size=len(pairs)).astype(float)
        used = (a != "oov") & (b != "oov")
        E_n = E / np.linalg.norm(E, axis=1, keepdims=True)
        cosines = np.sort([E_n[int(x[1:])] @ E_n[int(y[1:])] for x, y in zip(a[used], b[used])])
        if np.min(np.diff(cosines)) > 1e-6 and np.ptp(scores[used]) > 0:
            return {"E": E, "words": np.array(words), "a": a, "b": b, "scores": scores}


def _corr_expected(inp):
    pairs = [(str(a), str(b), float(s)) for a, b, s in zip(inp["a"], inp["b"], inp["scores"])]
    r = ev.evaluate_similarity(inp["E"], Vocab([str(w) for w in inp["words"]]), pairs)
    return {"rho": np.array(r["spearman"]), "n": np.array(r["n"])}


PARTS = [
    Part("test_cooccurrence_matrix", "cooccurrence_matrix",
         call=_SENTENCES_CODE + "outputs = {'M': cooccurrence_matrix(_sents, [str(_w) for _w in inputs['vocab']], "
                                "int(inputs['window']))}",
         make_inputs=_cooc_inputs, expected=_cooc_expected, atol=0, rtol=0, trials=5, exact=True),
    Part("test_ppmi", "ppmi", call="outputs = {'P': ppmi(inputs['M'])}", make_inputs=_ppmi_inputs,
         expected=lambda inp: {"P": co.ppmi(inp["M"])}, atol=1e-10, trials=5),
    Part("test_svd_vectors", "svd_vectors",
         call="import numpy as _np\n_X = _np.asarray(svd_vectors(inputs['P'], int(inputs['k'])))\n"
              "outputs = {'gram': _X @ _X.T, 'shape': _np.array(_X.shape)}",
         make_inputs=_svd_inputs, expected=_svd_expected, atol=1e-8, trials=4),
    Part("test_skipgram_pairs", "skipgram_pairs", call=_PAIRS_CALL, make_inputs=_pairs_inputs,
         expected=_pairs_expected, atol=0, rtol=0, trials=5, exact=True),
    Part("test_sgns_loss_and_grads", "sgns_loss_and_grads",
         call="_l, _dv, _du, _dU = sgns_loss_and_grads(inputs['v'], inputs['u'], inputs['U'])\n"
              "outputs = {'loss': _l, 'dv_c': _dv, 'du_o': _du, 'dU_neg': _dU}",
         make_inputs=_sgns_inputs, expected=_sgns_expected, atol=1e-9, trials=5,
         credit=(("loss",), ("dv_c",), ("du_o",), ("dU_neg",))),
    Part("test_similarity_correlation", "similarity_correlation",
         call="_pairs = [(str(_a), str(_b), float(_s)) for _a, _b, _s in zip(inputs['a'], inputs['b'], inputs['scores'])]\n"
              "_rho, _n = similarity_correlation(inputs['E'], [str(_w) for _w in inputs['words']], _pairs)\n"
              "outputs = {'rho': _rho, 'n': _n}",
         make_inputs=_corr_inputs, expected=_corr_expected, atol=1e-9, trials=4),
]
