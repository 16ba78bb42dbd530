"""Verified checks for ps4_language_models: each graded function against course_lib.ngram / course_lib.nnlm.

Sentences travel as integer ids (``ids``, one flat array, and ``lengths``, one entry per sentence); the check
turns them into the str tokens the student's functions take: id i is the word ``"w{i}"``, and the special
tokens are ``"<s>"``, ``"</s>"`` and ``"<UNK>"`` (``_NAMES_CODE``).  What comes back is numeric again:

* ``count_ngrams``: the counts as a dense array over every n-tuple of known tokens, the number of keys, and
  the number of keys that are not n-tuples of known tokens (strings instead of 1-tuples, wrong padding
  tokens, ...) — against ``nltk``'s ``pad_both_ends`` + ``ngrams`` (the hidden test's reference) and
  ``course_lib.ngram``'s conventions.  Trial 0 is the slides' two sentences (The dog ran / The cat jumped).
* ``lidstone_prob``: given the n-gram counts (built in the check, not by the student's ``count_ngrams``),
  P(w | h) for every word of the vocabulary and every seen context, a context of a never-seen word and a
  random one — against ``course_lib.ngram.NGramLM(n, "lidstone", k, nltk_padding=True)``.  Trial 0 is the
  slides' bigram example with V = 8, k = 1.
* ``perplexity``: the model is a table of log-probabilities of a reference ``NGramLM`` (Laplace unigram,
  Kneser–Ney bigram / trigram, MLE bigram), exposed to the student's function as ``logprob(word, context)``
  defined by the check; the result must equal that model's own ``perplexity`` (one ``</s>`` per sentence,
  ``<s>`` padding).  The MLE trial contains an unseen word: the answer must be ``math.inf``.
* ``nnlm_forward``: ``P`` against ``course_lib.nnlm.nnlm_forward`` on random shapes; trial 0 has logits of
  ±900 (a numerically stable softmax is required).
"""

import itertools
from collections import Counter

import numpy as np
from nltk.lm.preprocessing import pad_both_ends
from nltk.util import ngrams

import course_lib.ngram as ngram
from autograder.parts import Part

# What this assignment grades, and every re-implementation of it a submission could reach: stubbed out
# of the library the sandbox sees (autograder/strip.py); everything else stays importable.
# (The notebook's locked cells import only course_lib.checks and course_lib.corpus.)
# Siblings: NGramLM counts, smooths and scores (its most_common(n) is count_ngrams); context_target_ids
# lists perplexity's prediction events (each word and one </s>, <s> padding); FeedForwardLM is nnlm_forward
# in torch.  nltk.lm and nltk.util stay: the notebook takes its conventions from them (pad_both_ends).
GRADED = {
    "course_lib.ngram": ("context_target_ids", "NGramLM"),
    "course_lib.nnlm": ("nnlm_forward", "FeedForwardLM"),
}

SPECIALS = ("<s>", "</s>", "<UNK>")


def _names(W: int) -> list[str]:
    """Token of every index: the specials, then w0 .. w{W} (w{W} never occurs in a training text)."""
    return list(SPECIALS) + [f"w{i}" for i in range(W + 1)]


def _sentences(inp, key="ids", lengths="lengths") -> list[list[str]]:
    names = _names(int(inp["W"]))
    bounds = np.cumsum(inp[lengths])[:-1]
    return [[names[int(i)] for i in s] for s in np.split(inp[key], bounds)]


# The same decoding, run in the sandbox (the check's own code; numpy imported under its own name).
_NAMES_CODE = (
    "import numpy as _np\n"
    "from collections import Counter as _Counter\n"
    '_names = ["<s>", "</s>", "<UNK>"] + [f"w{_i}" for _i in range(int(inputs["W"]) + 1)]\n'
    "def _decode(ids, lengths):\n"
    "    return [[_names[int(_i)] for _i in _s] for _s in _np.split(ids, _np.cumsum(lengths)[:-1])]\n"
)


def _draw_text(rng, W, n_sentences, max_len, zipf=False):
    """(ids, lengths) of n_sentences random sentences of 1..max_len words drawn from w0 .. w{W-1}."""
    lengths = rng.integers(1, max_len + 1, size=n_sentences)
    total = int(lengths.sum())
    words = (rng.zipf(1.7, size=total) % W) if zipf else rng.integers(0, W, size=total)
    return len(SPECIALS) + words.astype(np.int64), lengths.astype(np.int64)


def _dog_cat():
    """The slides' two sentences, The dog ran / The cat jumped, as w0 w1 w2 / w0 w3 w4."""
    return {"W": np.array(5), "ids": np.array([0, 1, 2, 0, 3, 4]) + len(SPECIALS), "lengths": np.array([3, 3])}


# --------------------------------------------------------------------------
# count_ngrams
# --------------------------------------------------------------------------

def _count_inputs(rng, trial):
    if trial == 0:
        return dict(_dog_cat(), n=np.array(2))
    n = 1 if trial == 1 else int(rng.integers(2, 5))
    W = int(rng.integers(2, 10))
    ids, lengths = _draw_text(rng, W, int(rng.integers(1, 15)), 7)
    return {"W": np.array(W), "n": np.array(n), "ids": ids, "lengths": lengths}


def _count_expected(inp):
    n, names = int(inp["n"]), _names(int(inp["W"]))
    index = {w: i for i, w in enumerate(names)}
    counts = Counter(g for s in _sentences(inp) for g in ngrams(pad_both_ends(s, n), n))
    dense = np.zeros((len(names),) * n)
    for gram, c in counts.items():
        dense[tuple(index[w] for w in gram)] = c
    return {"counts": dense, "keys": np.array(len(counts)), "other_keys": np.array(0)}


_COUNT_CALL = _NAMES_CODE + (
    '_n = int(inputs["n"])\n'
    "_index = {_w: _i for _i, _w in enumerate(_names)}\n"
    '_got = dict(count_ngrams(_decode(inputs["ids"], inputs["lengths"]), _n))\n'
    "_dense, _other = _np.zeros((len(_names),) * _n), 0\n"
    "for _g, _c in _got.items():\n"
    "    if isinstance(_g, tuple) and len(_g) == _n and all(isinstance(_w, str) and _w in _index for _w in _g):\n"
    "        _dense[tuple(_index[_w] for _w in _g)] += float(_c)\n"
    "    else:\n"
    "        _other += 1\n"
    'outputs = {"counts": _dense, "keys": len(_got), "other_keys": _other}'
)


# --------------------------------------------------------------------------
# lidstone_prob
# --------------------------------------------------------------------------

def _lidstone_inputs(rng, trial):
    if trial == 0:
        inp, n, k = _dog_cat(), 2, 1.0
    else:
        n = (1, 2, 3)[trial - 1] if trial <= 3 else int(rng.integers(1, 4))
        W = int(rng.integers(2, 9))
        ids, lengths = _draw_text(rng, W, int(rng.integers(1, 13)), 6)
        inp, k = {"W": np.array(W), "ids": ids, "lengths": lengths}, float(rng.uniform(0.05, 2.0))
    W, sents = int(inp["W"]), _sentences(inp)
    names = _names(W)
    index = {w: i for i, w in enumerate(names)}
    counts = Counter(g for s in sents for g in ngrams(pad_both_ends(s, n), n))
    grams = np.array([[index[w] for w in g] for g in counts], dtype=np.int64).reshape(len(counts), n)
    lm = ngram.NGramLM(n, "lidstone", k=k, nltk_padding=True).fit(sents)
    vocab = [index[w] for w in lm.vocab.itos] + [index[f"w{W}"]]            # + a word never seen
    contexts = {g[:-1] for g in map(tuple, grams)}
    contexts.add((index[f"w{W}"],) * (n - 1))                               # a context never seen
    contexts.add(tuple(int(v) for v in rng.choice(vocab, size=n - 1)))      # a random one
    ctx = np.array(sorted(contexts), dtype=np.int64).reshape(len(contexts), n - 1)
    return dict(inp, n=np.array(n), k=np.array(k), V=np.array(len(lm.vocab)), grams=grams,
                gram_counts=np.array([counts[g] for g in counts], dtype=np.int64), ctx=ctx,
                vocab=np.array(vocab, dtype=np.int64))


def _lidstone_expected(inp):
    n, k, names = int(inp["n"]), float(inp["k"]), _names(int(inp["W"]))
    lm = ngram.NGramLM(n, "lidstone", k=k, nltk_padding=True).fit(_sentences(inp))
    assert len(lm.vocab) == int(inp["V"])
    return {"P": np.array([[lm.prob(names[w], tuple(names[i] for i in h)) for w in inp["vocab"]]
                           for h in inp["ctx"]])}


# The student's numbers keep their precision (a float32 answer is judged at float32's tolerance by
# autograder.parts.compare): a scalar becomes a 0-d array of its own float dtype, float64 for anything else.
_SCALAR_CODE = (
    "def _scalar(value):\n"
    "    value = _np.asarray(value)\n"
    "    return (value if value.dtype.kind == 'f' else value.astype(float)).reshape(())\n"
    "def _scalars(values):\n"
    "    values = [_scalar(_v) for _v in values]\n"
    "    floats = {_v.dtype for _v in values}\n"
    "    return _np.array(values, dtype=min(floats, key=lambda _d: _d.itemsize) if floats else float)\n"
)

_LIDSTONE_CALL = _NAMES_CODE + _SCALAR_CODE + (
    '_counts = _Counter({tuple(_names[int(_i)] for _i in _g): int(_c)\n'
    '                   for _g, _c in zip(inputs["grams"], inputs["gram_counts"])})\n'
    '_V, _k = int(inputs["V"]), float(inputs["k"])\n'
    '_P = [lidstone_prob(_counts, _names[int(_w)], tuple(_names[int(_i)] for _i in _h), _V, _k)\n'
    '      for _h in inputs["ctx"] for _w in inputs["vocab"]]\n'
    'outputs = {"P": _scalars(_P).reshape(len(inputs["ctx"]), len(inputs["vocab"]))}'
)


# --------------------------------------------------------------------------
# perplexity
# --------------------------------------------------------------------------

_PPL_MODELS = ((1, "laplace"), (2, "kneser-ney"), (3, "kneser-ney"), (2, "mle"))


def _ppl_model(inp):
    n, smoothing = _PPL_MODELS[int(inp["model"])]
    return n, ngram.NGramLM(n, smoothing).fit(_sentences(inp))


def _perplexity_inputs(rng, trial):
    W = int(rng.integers(3, 10))
    ids, lengths = _draw_text(rng, W, 30, 7, zipf=True)
    test_ids, test_lengths = _draw_text(rng, W, 6, 7, zipf=True)
    inp = {"W": np.array(W), "model": np.array(trial % len(_PPL_MODELS)), "ids": ids, "lengths": lengths}
    if _PPL_MODELS[trial % len(_PPL_MODELS)][1] == "mle":
        # the training text itself, then one sentence with a word never seen: probability 0
        test_ids = np.concatenate([ids, [len(SPECIALS) + 1, len(SPECIALS) + W]])
        test_lengths = np.concatenate([lengths, [2]])
    inp.update(test_ids=test_ids.astype(np.int64), test_lengths=test_lengths.astype(np.int64))
    n, lm = _ppl_model(inp)
    names = _names(W)
    index = {w: i for i, w in enumerate(names)}
    V = len(lm.vocab)
    logp = np.empty((V,) * n)
    with np.errstate(divide="ignore"):
        for h in itertools.product(range(V), repeat=n - 1):
            logp[h] = np.log(lm.distribution([lm.vocab.itos[i] for i in h]))
    inp.update(n=np.array(n), itos=np.array([index[w] for w in lm.vocab.itos], dtype=np.int64), logp=logp)
    return inp


def _perplexity_expected(inp):
    _, lm = _ppl_model(inp)
    pp = lm.perplexity(_sentences(inp, "test_ids", "test_lengths"))
    infinite = pp == np.inf
    return {"infinite": np.array(float(infinite)), "perplexity": np.array(0.0 if infinite else pp)}


_PERPLEXITY_CALL = _NAMES_CODE + _SCALAR_CODE + (
    '_n, _logp = int(inputs["n"]), inputs["logp"]\n'
    '_stoi = {_names[int(_i)]: _j for _j, _i in enumerate(inputs["itos"])}   # position 0 is <UNK>\n'
    "def _logprob(word, context):\n"
    "    context = tuple(context)\n"
    "    if len(context) < _n - 1:\n"
    '        raise ValueError(f"logprob: a {_n}-gram model needs a context of {_n - 1} tokens, got {context!r}")\n'
    "    context = context[len(context) - (_n - 1):]\n"
    "    return float(_logp[tuple(_stoi.get(_w, 0) for _w in context) + (_stoi.get(word, 0),)])\n"
    '_pp = _scalar(perplexity(_logprob, _decode(inputs["test_ids"], inputs["test_lengths"]), _n))\n'
    '_infinite = bool(_pp == float("inf"))\n'
    'outputs = {"infinite": float(_infinite), "perplexity": _np.zeros((), _pp.dtype) if _infinite else _pp}'
)


# --------------------------------------------------------------------------
# nnlm_forward
# --------------------------------------------------------------------------

def _nnlm_inputs(rng, trial):
    from course_lib.nnlm import init_params

    if trial == 0:          # large logits: a softmax without the max subtracted overflows
        params = init_params(4, 2, 3, 2, rng, scale=0.5)
        params["b"] = np.array([900.0, 0.0, -900.0, 10.0])
        return dict(params, contexts=np.array([[0, 1], [3, 3]]))
    V, m, h, c, B = (int(v) for v in rng.integers(2, 8, size=5))
    params = init_params(V, m, h, c, rng, scale=0.7)
    params["d"], params["b"] = rng.normal(size=h), rng.normal(size=V)
    return dict(params, contexts=rng.integers(0, V, size=(B, c)))


def _nnlm_expected(inp):
    from course_lib.nnlm import nnlm_forward   # imports torch: only when this part is graded

    return {"P": nnlm_forward(inp["contexts"], {k: inp[k] for k in ("C", "H", "d", "U", "b")})[0]}


PARTS = [
    Part("test_count_ngrams", "count_ngrams", call=_COUNT_CALL,
         make_inputs=_count_inputs, expected=_count_expected, atol=0, rtol=0, trials=4, exact=True),
    Part("test_lidstone_prob", "lidstone_prob", call=_LIDSTONE_CALL,
         make_inputs=_lidstone_inputs, expected=_lidstone_expected, atol=1e-12, rtol=1e-9, trials=4),
    Part("test_perplexity", "perplexity", call=_PERPLEXITY_CALL,
         make_inputs=_perplexity_inputs, expected=_perplexity_expected, atol=0, rtol=1e-9, trials=4),
    Part("test_nnlm_forward", "nnlm_forward",
         call=('_params = {_k: inputs[_k] for _k in ("C", "H", "d", "U", "b")}\n'
               'outputs = {"P": nnlm_forward(inputs["contexts"], _params)}'),
         make_inputs=_nnlm_inputs, expected=_nnlm_expected, atol=1e-12, rtol=1e-9, trials=4),
]
