"""Verified checks for ps3_wordnet: each graded function against course_lib.wordnet (DRAFT, module 2-3 helper).

Synsets travel by name (numpy unicode arrays), e.g. "car.n.01"; the check turns them back into synsets with
the notebook's ``wn`` (loaded by its locked set-up cell).  What comes back is numeric:

* ``hypernym_paths``: every path as a row of synset offsets, padded with -1, rows sorted (no test depends on the
  order of NLTK's hypernyms, which changes from one Python process to the next).  Trial 0 is car.n.01.
* ``shortest_path_distance``, ``path_similarity``: one number per synset pair, -1 for None.  Trial 0 is the
  slides' car / vehicle (4 steps, similarity 0.2) plus a verb pair with no common hypernym.
* ``word_similarity``: one number per word pair, -1 for None.  Trial 0: car/automobile, tiger/cat, car/quickly.
* ``spearman``: ρ, against scipy.stats.spearmanr, with many ties.
* ``human_correlation``: ρ and the number of pairs kept, on SimLex-999 samples; trial 0 the slides' pairs.

BLOCKED holds course_lib.wordnet (the reference hypernym paths and similarities) and course_lib.evaluate;
the set-up cell loads WordNet through course_lib.wordnet_data, which stays importable.  ``prepare()`` builds
the NLTK-readable WordNet copy in the course cache before grading, because the sandbox's file system is
read-only.
"""

import numpy as np
from scipy.stats import spearmanr

import course_lib.evaluate as ev
import course_lib.wordnet as cw
from autograder.parts import Part

BLOCKED = ("course_lib.evaluate", "course_lib.wordnet")


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
    return {"name": np.array("car.n.01" if trial == 0 else _synset_names(rng, 1, "n")[0])}


def _pair_inputs(rng, trial):
    if trial == 0:
        return {"a": np.array(["car.n.01", "car.n.01", "car.n.01", "run.v.01"]),
                "b": np.array(["vehicle.n.01", "car.n.01", "bicycle.n.01", "think.v.01"])}
    return {"a": np.array(_synset_names(rng, 8)), "b": np.array(_synset_names(rng, 8))}


def _pair_call(function):
    return (f"_vals = [{function}(wn.synset(str(_a)), wn.synset(str(_b))) for _a, _b in zip(inputs['a'], inputs['b'])]\n"
            "outputs = {'values': [-1.0 if _v is None else float(_v) for _v in _vals]}")


def _pair_expected(function):
    def expected(inp):
        vals = [function(_wn().synset(str(a)), _wn().synset(str(b))) for a, b in zip(inp["a"], inp["b"])]
        return {"values": np.array([-1.0 if v is None else float(v) for v in vals])}
    return expected


def _word_inputs(rng, trial):
    if trial == 0:
        return {"a": np.array(["car", "tiger", "car"]), "b": np.array(["automobile", "cat", "quickly"])}
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


PARTS = [
    Part("test_hypernym_paths", "hypernym_paths", call=_PATHS_CALL, make_inputs=_paths_inputs,
         expected=lambda inp: {"paths": _encode_paths(cw.hypernym_paths(_wn().synset(str(inp["name"]))))},
         atol=0, rtol=0, trials=5),
    Part("test_shortest_path_distance", "shortest_path_distance", call=_pair_call("shortest_path_distance"),
         make_inputs=_pair_inputs, expected=_pair_expected(cw.shortest_path_distance), atol=0, rtol=0, trials=4),
    Part("test_path_similarity", "path_similarity", call=_pair_call("path_similarity"),
         make_inputs=_pair_inputs, expected=_pair_expected(cw.path_similarity), atol=1e-12, trials=4),
    Part("test_word_similarity", "word_similarity",
         call="_vals = [word_similarity(str(_a), str(_b)) for _a, _b in zip(inputs['a'], inputs['b'])]\n"
              "outputs = {'values': [-1.0 if _v is None else float(_v) for _v in _vals]}",
         make_inputs=_word_inputs, expected=_word_expected, atol=1e-12, trials=3),
    Part("test_spearman", "spearman", call="outputs = {'rho': spearman(inputs['x'], inputs['y'])}",
         make_inputs=_spearman_inputs, expected=lambda inp: {"rho": np.array(spearmanr(inp["x"], inp["y"]).statistic)},
         atol=1e-10, trials=5),
    Part("test_human_correlation", "human_correlation",
         call="_pairs = [(str(_a), str(_b), float(_s)) for _a, _b, _s in zip(inputs['a'], inputs['b'], inputs['scores'])]\n"
              "_rho, _n = human_correlation(_pairs)\noutputs = {'rho': _rho, 'n': _n}",
         make_inputs=_human_inputs, expected=_human_expected, atol=1e-10, trials=3),
]
