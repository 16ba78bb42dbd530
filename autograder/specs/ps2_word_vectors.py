"""Verified checks for ps2_word_vectors: each graded function against course_lib (DRAFT, module 2-3 helper).

Tokens travel as numpy unicode arrays (``np.savez`` stores them without pickles); a corpus is one flat
array ``tokens`` plus ``lengths`` (one entry per sentence).  Every answer that comes back is numeric:

* ``cooccurrence_matrix``: the matrix itself.  Trial 0 is the slides' corpus and row order (window 1).
* ``ppmi``: the matrix; trial 1 has an empty row and column, trial 2 negative PMI values (clipped).
* ``svd_vectors``: the Gram matrix X Xᵀ (independent of the singular vectors' signs) and the shape.
* ``skipgram_pairs``: the pairs as (centre position in ``names``, context position) rows, in order.
  Trial 0 is the slides' 我爱学习爱劳动是个好青年 with window 2.
* ``sgns_loss_and_grads``: loss and the three gradients.
* ``similarity_correlation``: ρ and the number of pairs used; pairs contain unknown words and ties.
"""

import numpy as np

import course_lib.cooccurrence as co
import course_lib.evaluate as ev
import course_lib.word2vec as w2v
from autograder.parts import Part
from course_lib.text import Vocab

# The student implements these references: they are not importable while grading.
# (The notebook's locked cells import only course_lib.checks, course_lib.gradcheck and course_lib.corpus.)
BLOCKED = ("course_lib.cooccurrence", "course_lib.word2vec", "course_lib.evaluate", "course_lib.glove")

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
    m, n = (int(v) for v in rng.integers(3, 9, size=2))
    return {"P": rng.random((m, n)) * (rng.random((m, n)) < 0.7), "k": np.array(int(rng.integers(1, min(m, n) + 1)))}


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
    d, K = int(rng.integers(1, 8)), int(rng.integers(1, 7))
    return {"v": rng.normal(scale=2.0, size=d), "u": rng.normal(scale=2.0, size=d),
            "U": rng.normal(scale=2.0, size=(K, d))}


def _sgns_expected(inp):
    loss, dv, du, dU = w2v.sgns_loss_and_grads(inp["v"], inp["u"], inp["U"])
    return {"loss": np.array(loss), "dv_c": dv, "du_o": du, "dU_neg": dU}


def _corr_inputs(rng, trial):
    V, d = int(rng.integers(4, 12)), int(rng.integers(2, 6))
    words = [f"w{i}" for i in range(V)]
    E = rng.normal(size=(V, d)) * rng.uniform(0.1, 5.0, size=(V, 1))
    n = int(rng.integers(6, 20))
    return {"E": E, "words": np.array(words), "a": rng.choice(words + ["oov"], size=n), "b": rng.choice(words, size=n),
            "scores": rng.integers(0, 4, size=n).astype(float)}


def _corr_expected(inp):
    pairs = [(str(a), str(b), float(s)) for a, b, s in zip(inp["a"], inp["b"], inp["scores"])]
    r = ev.evaluate_similarity(inp["E"], Vocab([str(w) for w in inp["words"]]), pairs)
    return {"rho": np.array(r["spearman"]), "n": np.array(r["n"])}


PARTS = [
    Part("test_cooccurrence_matrix", "cooccurrence_matrix",
         call=_SENTENCES_CODE + "outputs = {'M': cooccurrence_matrix(_sents, [str(_w) for _w in inputs['vocab']], "
                                "int(inputs['window']))}",
         make_inputs=_cooc_inputs, expected=_cooc_expected, atol=0, rtol=0, trials=5),
    Part("test_ppmi", "ppmi", call="outputs = {'P': ppmi(inputs['M'])}", make_inputs=_ppmi_inputs,
         expected=lambda inp: {"P": co.ppmi(inp["M"])}, atol=1e-10, trials=5),
    Part("test_svd_vectors", "svd_vectors",
         call="import numpy as _np\n_X = _np.asarray(svd_vectors(inputs['P'], int(inputs['k'])))\n"
              "outputs = {'gram': _X @ _X.T, 'shape': _np.array(_X.shape)}",
         make_inputs=_svd_inputs, expected=_svd_expected, atol=1e-8, trials=4),
    Part("test_skipgram_pairs", "skipgram_pairs", call=_PAIRS_CALL, make_inputs=_pairs_inputs,
         expected=_pairs_expected, atol=0, rtol=0, trials=5),
    Part("test_sgns_loss_and_grads", "sgns_loss_and_grads",
         call="_l, _dv, _du, _dU = sgns_loss_and_grads(inputs['v'], inputs['u'], inputs['U'])\n"
              "outputs = {'loss': _l, 'dv_c': _dv, 'du_o': _du, 'dU_neg': _dU}",
         make_inputs=_sgns_inputs, expected=_sgns_expected, atol=1e-9, trials=5),
    Part("test_similarity_correlation", "similarity_correlation",
         call="_pairs = [(str(_a), str(_b), float(_s)) for _a, _b, _s in zip(inputs['a'], inputs['b'], inputs['scores'])]\n"
              "_rho, _n = similarity_correlation(inputs['E'], [str(_w) for _w in inputs['words']], _pairs)\n"
              "outputs = {'rho': _rho, 'n': _n}",
         make_inputs=_corr_inputs, expected=_corr_expected, atol=1e-9, trials=4),
]
