"""Verified checks for ps3_wordnet: each graded function against course_lib.wordnet (DRAFT, module 2-3 helper).

Synsets travel by name (numpy unicode arrays), e.g. "car.n.01"; the check turns them back into synsets with
the notebook's ``wn`` (loaded by its locked set-up cell).  What comes back is numeric:

* ``hypernym_paths``: every path as a row of synset offsets, padded with -1, rows sorted (no test depends on the
  order of NLTK's hypernyms, which changes from one Python process to the next).  Trial 0 is car.n.01,
  trial 1 the instance paris.n.01 (3 paths, each through instance_hypernyms()).
* ``shortest_path_distance``, ``path_similarity``: one number per synset pair, -1 for None.  Trial 0 is the
  slides' car / vehicle (4 steps, similarity 0.2), a verb pair with no common hypernym, and the instance
  einstein.n.01 / physicist.n.01 (1 step, through instance_hypernyms()).
* ``word_similarity``: one number per word pair, -1 for None.  Trial 0: car/automobile, tiger/cat, car/quickly,
  and buy/sell (nouns and verbs: 1/15 over the noun senses, 1/3 over all senses).
* ``spearman``: ρ, against scipy.stats.spearmanr, with many ties.
* ``human_correlation``: ρ and the number of pairs kept, on SimLex-999 samples; trial 0 the slides' pairs.

GRADED holds course_lib.wordnet (the reference hypernym paths and similarities), course_lib.evaluate and NLTK's Synset methods;
the set-up cell loads WordNet through course_lib.wordnet_data, which stays importable.  ``prepare()`` builds
the NLTK-readable WordNet copy in the course cache before grading, because the sandbox's file system is
read-only.
"""

import numpy as np
from scipy.stats import spearmanr

import course_lib.evaluate as ev
import course_lib.wordnet as cw
from autograder.parts import Part

# What this assignment grades, and every re-implementation of it a submission could reach: stubbed out
# of the library the sandbox sees (autograder/strip.py); everything else stays importable.  The notebook
# says to move up the hierarchy with hypernyms() and instance_hypernyms() only and to rank "without
# SciPy", so NLTK's and SciPy's versions are stubbed out too.  Siblings: hypernym_distances (course_lib's,
# NLTK's, and NLTK's _shortest_hypernym_paths and _iter_hypernym_lists) is shortest_path_distance's
# breadth-first search; lch_similarity is a function of the same distance; the reader's and the module's
# path_similarity / lch_similarity call Synset's; rankdata (course_lib's, SciPy's, its _rankdata) is
# spearman's ranking; spearmanrho is spearmanr.  Not graded: hyponym_closure, NLTK's max_depth / min_depth
# and its generic closure() / tree().
_NLTK_SYNSET = ("hypernym_paths", "hypernym_distances", "_shortest_hypernym_paths", "_iter_hypernym_lists",
                "shortest_path_distance", "path_similarity", "lch_similarity")
GRADED = {
    "course_lib.wordnet": ("hypernym_paths", "hypernym_distances", "shortest_path_distance", "path_similarity",
                           "word_similarity"),
    "course_lib.evaluate": ("rankdata", "spearman"),
    "nltk.corpus.reader.wordnet": tuple(f"Synset.{m}" for m in _NLTK_SYNSET)
                                  + ("WordNetCorpusReader.path_similarity", "WordNetCorpusReader.lch_similarity",
                                     "path_similarity", "lch_similarity"),
    "scipy.stats._stats_py": ("spearmanr", "rankdata", "_rankdata"),
    "scipy.stats._mstats_basic": ("spearmanr", "rankdata"),
    "scipy.stats._correlation": ("spearmanrho",),
}


# The jail's zygote loads WordNet once (a few seconds) and imports scipy.stats (recompiled there: its graded
# functions are stripped); every submission's fork then starts with both loaded.
PRELOAD = ("course_lib.wordnet_data:load", "scipy.stats")


def prepare():
    """Run in the trusted parent before any sandbox starts: the WordNet copy must exist."""
    import course_lib.wordnet_data

    course_lib.wordnet_data.load()

_WN = None


def _wn():
    global _WN
    if _WN is None:
        _WN = cw.load()
    return _WN


def _simlex():
    return ev.load_simlex999()


def _synset_names(rng, n, pos=None):
    pairs = _simlex()
    names = []
    while len(names) < n:
        word = pairs[int(rng.integers(len(pairs)))][int(rng.integers(2))]
        senses = _wn().synsets(word, pos) if pos else _wn().synsets(word)
        if senses:
            names.append(senses[int(rng.integers(len(senses)))].name())
    return names


def _encode_paths(paths):
    rows = sorted([s.offset() for s in p] for p in paths)
    width = max(len(r) for r in rows)
    return np.array([r + [-1] * (width - len(r)) for r in rows], dtype=float)


_PATHS_CALL = (
    "import numpy as _np\n"
    "_rows = sorted([_s.offset() for _s in _p] for _p in hypernym_paths(wn.synset(str(inputs['name']))))\n"
    "_w = max(len(_r) for _r in _rows)\n"
    "outputs = {'paths': _np.array([_r + [-1] * (_w - len(_r)) for _r in _rows], dtype=float)}"
)


def _paths_inputs(rng, trial):
    fixed = {0: "car.n.01", 1: "paris.n.01"}
    return {"name": np.array(fixed[trial] if trial in fixed else _synset_names(rng, 1, "n")[0])}


def _pair_inputs(rng, trial):
    if trial == 0:
        return {"a": np.array(["car.n.01", "car.n.01", "car.n.01", "run.v.01", "einstein.n.01"]),
                "b": np.array(["vehicle.n.01", "car.n.01", "bicycle.n.01", "think.v.01", "physicist.n.01"])}
    return {"a": np.array(_synset_names(rng, 8)), "b": np.array(_synset_names(rng, 8))}


# The check's own helper: the student's numbers as one array in their own precision (a float32 answer
# stays float32, so autograder.parts.compare judges it at float32's tolerance); None becomes -1.
_AS_ARRAY_CODE = (
    "import numpy as _np\n"
    "def _as_array(values, none=-1):\n"
    "    known = {_np.asarray(_v).dtype for _v in values if _v is not None}\n"
    "    floats = [_d for _d in known if _d.kind == 'f']\n"
    "    dtype = (min(floats, key=lambda _d: _d.itemsize) if floats\n"
    "             else _np.result_type(*known) if known else _np.dtype(float))\n"
    "    dtype = dtype if dtype.kind in 'if' else _np.dtype(float)\n"
    "    return _np.array([none if _v is None else _v for _v in values], dtype=dtype)\n"
)


def _pair_call(function):
    return _AS_ARRAY_CODE + (
        f"_vals = [{function}(wn.synset(str(_a)), wn.synset(str(_b))) for _a, _b in zip(inputs['a'], inputs['b'])]\n"
        "outputs = {'values': _as_array(_vals)}")


def _pair_expected(function):
    def expected(inp):
        vals = [function(_wn().synset(str(a)), _wn().synset(str(b))) for a, b in zip(inp["a"], inp["b"])]
        return {"values": np.array([-1.0 if v is None else float(v) for v in vals])}
    return expected


def _word_inputs(rng, trial):
    if trial == 0:
        return {"a": np.array(["car", "tiger", "car", "buy"]), "b": np.array(["automobile", "cat", "quickly", "sell"])}
    sample = [_simlex()[int(k)] for k in rng.choice(len(_simlex()), size=15, replace=False)]
    return {"a": np.array([p[0] for p in sample]), "b": np.array([p[1] for p in sample])}


def _word_expected(inp):
    vals = [cw.word_similarity(_wn(), str(a), str(b)) for a, b in zip(inp["a"], inp["b"])]
    return {"values": np.array([-1.0 if v is None else float(v) for v in vals])}


def _spearman_inputs(rng, trial):
    while True:
        n = int(rng.integers(3, 40))
        x = rng.integers(0, int(rng.integers(2, 6)), size=n).astype(float)
        if np.ptp(x) > 0:
            return {"x": x, "y": x + rng.normal(scale=2.0, size=n)}


def _human_inputs(rng, trial):
    if trial == 0:
        pairs = [p for p in ev.SLIDE_HUMAN_SCORES]
    else:
        pairs = [_simlex()[int(k)] for k in rng.choice(len(_simlex()), size=40, replace=False)]
    return {"a": np.array([p[0] for p in pairs]), "b": np.array([p[1] for p in pairs]),
            "scores": np.array([p[2] for p in pairs], dtype=float)}


def _human_expected(inp):
    kept = [(float(s), cw.word_similarity(_wn(), str(a), str(b))) for a, b, s in zip(inp["a"], inp["b"], inp["scores"])]
    kept = [(s, w) for s, w in kept if w is not None]
    return {"rho": np.array(ev.spearman([s for s, _ in kept], [w for _, w in kept])), "n": np.array(len(kept))}


# Stand-ins (autograder/sealed.py): the calls a correct answer makes to the notebook's other graded
# functions, with the reference's results, so that each part's score depends on its own function alone.

def _synsets(inp):
    return [(_wn().synset(str(a)), _wn().synset(str(b))) for a, b in zip(inp["a"], inp["b"])]


def _paths_calls(inp):
    """shortest_path_distance may be built on hypernym_paths."""
    seen = {s for pair in _synsets(inp) for s in pair}
    return [("hypernym_paths", (s,), cw.hypernym_paths(s)) for s in sorted(seen, key=lambda s: s.name())]


def _distance_calls(pairs):
    return [("shortest_path_distance", (a, b), cw.shortest_path_distance(a, b)) for a, b in pairs]


def _word_calls(inp):
    """word_similarity calls path_similarity (or shortest_path_distance) on every pair of noun senses."""
    calls = []
    for w1, w2 in zip(inp["a"], inp["b"]):
        pairs = [(x, y) for x in _wn().synsets(str(w1), pos="n") for y in _wn().synsets(str(w2), pos="n")]
        calls += [("path_similarity", (x, y), cw.path_similarity(x, y)) for x, y in pairs] + _distance_calls(pairs)
    return calls


def _human_calls(inp):
    """human_correlation calls word_similarity on every pair and spearman on the pairs it keeps."""
    calls, human, wordnet = [], [], []
    for a, b, score in zip(inp["a"], inp["b"], inp["scores"]):
        sim = cw.word_similarity(_wn(), str(a), str(b))
        calls.append(("word_similarity", (str(a), str(b)), sim))
        if sim is not None:
            human.append(float(score))
            wordnet.append(sim)
    rho = float(ev.spearman(human, wordnet))
    return calls + [("spearman", (human, wordnet), rho), ("spearman", (wordnet, human), rho)]


PARTS = [
    Part("test_hypernym_paths", "hypernym_paths", call=_PATHS_CALL, make_inputs=_paths_inputs,
         expected=lambda inp: {"paths": _encode_paths(cw.hypernym_paths(_wn().synset(str(inp["name"]))))},
         atol=0, rtol=0, trials=5, exact=True),
    Part("test_shortest_path_distance", "shortest_path_distance", call=_pair_call("shortest_path_distance"),
         make_inputs=_pair_inputs, expected=_pair_expected(cw.shortest_path_distance), atol=0, rtol=0, trials=4,
         exact=True, stand_ins=_paths_calls),
    Part("test_path_similarity", "path_similarity", call=_pair_call("path_similarity"),
         make_inputs=_pair_inputs, expected=_pair_expected(cw.path_similarity), atol=1e-12, trials=4,
         stand_ins=lambda inp: _distance_calls(_synsets(inp))),
    Part("test_word_similarity", "word_similarity",
         call=_AS_ARRAY_CODE + "_vals = [word_similarity(str(_a), str(_b)) for _a, _b in zip(inputs['a'], inputs['b'])]\n"
                                "outputs = {'values': _as_array(_vals)}",
         make_inputs=_word_inputs, expected=_word_expected, atol=1e-12, trials=3, stand_ins=_word_calls),
    Part("test_spearman", "spearman", call="outputs = {'rho': spearman(inputs['x'], inputs['y'])}",
         make_inputs=_spearman_inputs, expected=lambda inp: {"rho": np.array(spearmanr(inp["x"], inp["y"]).statistic)},
         atol=1e-10, trials=5),
    Part("test_human_correlation", "human_correlation",
         call="_pairs = [(str(_a), str(_b), float(_s)) for _a, _b, _s in zip(inputs['a'], inputs['b'], inputs['scores'])]\n"
              "_rho, _n = human_correlation(_pairs)\noutputs = {'rho': _rho, 'n': _n}",
         make_inputs=_human_inputs, expected=_human_expected, atol=1e-10, trials=3, stand_ins=_human_calls),
]
