"""What is blocked is what is graded: no route out of the graded library reproduces a graded part.

Each spec's ``GRADED`` (autograder/specs/<ID>.py) names what a graded submission may not reach: the
references of the graded functions and every re-implementation of them (the siblings: the same
equations batched, in torch, under another name, or inside a larger function that returns them) in
``course_lib`` and, where the notebook says not to use them, in third-party packages.  Everything else
stays importable.  For every assignment this file checks, on the library a graded submission sees
(``autograder.strip``; the search itself is tests/graded_search.py, run in a subprocess whose only
``course_lib`` is the stripped one):

* every module of the stripped library imports, and the solved notebook's program (its locked cells and
  solution cells, as verified grading runs them) runs against it without an error;
* every name of ``GRADED`` is a stub: calling it raises ImportError "... is not available while ...";
* no callable the stripped library defines (functions, classes, their methods), nor a third-party one
  listed in ``THIRD_PARTY``, reproduces a part when the part's check calls it in place of the student's
  function, as it is or through a simple adapter (arguments permuted, keywords dropped, ``wn`` passed
  first, numpy as torch, the first of several results);
* nor does any of the one-line glue expressions in ``GLUE``; with the full library (this process) each
  of them does reproduce its part, which is why the functions it calls are in ``GRADED``.

The search runs in two subprocesses at once: ps3's (whose stripped NLTK and SciPy files cannot be
unloaded) and one that searches all the other assignments in turn.
"""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from autograder.config import assignment_ids
from autograder.parts import compare, load_spec
from autograder.strip import WHOLE_MODULE
from graded_search import REFUSAL, _lib, make_job, reproduces, run_jobs, run_program

ASSIGNMENTS = [a for a in assignment_ids() if load_spec(a) is not None]
SEEDS = (0, 1)

# Third-party candidates that GRADED blocks, as ("module", "name" | "Class" | "*").  ps3's notebook says
# "Use only these two methods [hypernyms(), instance_hypernyms()] to move up the hierarchy" and asks for
# spearman "without SciPy".  No other notebook rules out a third-party function (ps2 allows
# scipy.stats.spearmanr; ps4's conventions are those of nltk.lm; ps7 compares with PyTorch).
THIRD_PARTY = {
    "ps3_wordnet": [("nltk.corpus.reader.wordnet", "Synset"), ("nltk.corpus.reader.wordnet", "WordNetCorpusReader"),
                    ("nltk.corpus.reader.wordnet", "path_similarity"),
                    ("nltk.corpus.reader.wordnet", "lch_similarity"),
                    ("scipy.stats._stats_py", "spearmanr"), ("scipy.stats._stats_py", "rankdata"),
                    ("scipy.stats._stats_py", "_rankdata"), ("scipy.stats._correlation", "spearmanrho"),
                    ("scipy.stats._mstats_basic", "spearmanr"), ("scipy.stats._mstats_basic", "rankdata")],
}
CONTEXT = {"ps3_wordnet": ("wn",)}       # notebook objects an adapter may pass first: word_similarity(wn, a, b)

# One line of glue that turns a sibling into the graded function: {assignment: {solution id: [expression]}}.
# ``lib("rnn")`` is course_lib.rnn, ``lib("torch")`` torch; the names of the notebook (np, wn) are there.
_DIST = "(lambda da, db: min((da[c] + db[c] for c in set(da) & set(db)), default=None))"
GLUE = {
    "ps1_backprop": {
        "sigmoid_prime": [
            "lambda z: lib('backprop').activation_backward(np.ones(np.shape(z)), (np.asarray(z, float), 'sigmoid'))",
            "lambda z: lib('backprop').output_delta(np.ones(np.shape(z)), z)",
            "lambda z: lib('backprop').ACTIVATIONS['sigmoid'][1](z)",
        ],
        "affine_backward": [
            "lambda dz, cache: (dz @ cache[1], lib('backprop').weight_gradient(dz, cache[0]), "
            "lib('backprop').bias_gradient(dz))",
        ],
        "output_delta": ["lambda a, y, z: lib('backprop').output_delta(lib('backprop').quadratic_cost(a, y)[1], z)"],
        "backprop": [
            "lambda x, y, W, b: (lambda C, g: (C, *g))(*lib('backprop').MLP.loss_and_grads("
            "lib('types').SimpleNamespace(weights=W, biases=b, activation='sigmoid'), x, y))",
        ],
        "numerical_gradient": ["lambda f, x: lib('gradcheck').numerical_gradient_array(f, x, np.array(1.0))"],
    },
    "ps2_word_vectors": {
        "cooccurrence_matrix": [
            "lambda s, v, w: (lambda V: (lambda r, c, _: np.bincount(r * len(V) + c, minlength=len(V) ** 2)"
            ".reshape(len(V), len(V)))(*lib('cooccurrence').window_pairs(*lib('cooccurrence').corpus_ids(s, V), w)))"
            "(lib('text').Vocab(list(v)))",
        ],
        "skipgram_pairs": ["lambda t, w: [(c, o) for ctx, c in lib('word2vec').cbow_examples(t, w) for o in ctx]"],
        "sgns_loss_and_grads": [
            "lambda v, u, U: (lambda l, dV, du, dU: (l, dV[0], du, dU))("
            "*lib('word2vec').cbow_loss_and_grads(v[None], u, U))",
            "lambda v, u, U: (lambda l, a, b: (l, a[0], b[0], b[1:]))(*lib('word2vec').sgns_batch_loss_and_grads("
            "np.tile(v, (len(U) + 1, 1)), np.vstack([u, U]), np.array([0]), np.array([0]), "
            "np.arange(1, len(U) + 1)[None]))",
            "lambda v, u, U: (lambda t: (lambda r: (float(r[0]), r[1][0].numpy(), r[2][0].numpy(), r[3].numpy()))("
            "lib('word2vec').sgns_grads_torch(t.tensor(np.tile(v, (len(U) + 1, 1))), t.tensor(np.vstack([u, U])), "
            "t.tensor([0]), t.tensor([0]), t.arange(1, len(U) + 1)[None])))(lib('torch'))",
            "lambda v, u, U: (lambda t: (lambda r: (float(r[0]), r[1][0].numpy(), r[2][0].numpy(), r[3].numpy()))("
            "lib('word2vec').cbow_grads_torch(t.tensor(np.tile(v, (len(U) + 1, 1))), t.tensor(np.vstack([u, U])), "
            "t.tensor([[0]]), t.tensor([0]), t.arange(1, len(U) + 1)[None])))(lib('torch'))",
        ],
        "similarity_correlation": [
            "lambda E, vocab, pairs: (lambda r: (r['spearman'], r['n']))(lib('evaluate').evaluate_similarity("
            "E, lib('text').Vocab(list(vocab)), pairs))",
        ],
    },
    "ps3_wordnet": {
        "hypernym_paths": ["lambda s: s.hypernym_paths()"],
        "shortest_path_distance": [
            "lambda a, b: a.shortest_path_distance(b)",
            f"lambda a, b: {_DIST}(lib('wordnet').hypernym_distances(a), lib('wordnet').hypernym_distances(b))",
            f"lambda a, b: {_DIST}(*[dict(sorted(x.hypernym_distances(), key=lambda p: -p[1])) for x in (a, b)])",
            f"lambda a, b: {_DIST}(a._shortest_hypernym_paths(False), b._shortest_hypernym_paths(False))",
            f"lambda a, b: {_DIST}(*[{{s: i for i, level in reversed(list(enumerate(x._iter_hypernym_lists()))) "
            f"for s in level}} for x in (a, b)])",
        ],
        "path_similarity": [
            "lambda a, b: a.path_similarity(b, simulate_root=False)",
            "lambda a, b: wn.path_similarity(a, b, simulate_root=False)",
            "lambda a, b: lib('nltk.corpus.reader.wordnet').path_similarity(a, b, simulate_root=False)",
        ],
        "word_similarity": ["lambda a, b: lib('wordnet').word_similarity(wn, a, b)"],
        "spearman": [
            "lambda x, y: np.corrcoef(lib('evaluate').rankdata(x), lib('evaluate').rankdata(y))[0, 1]",
            "lambda x, y: np.corrcoef(lib('scipy.stats').rankdata(x), lib('scipy.stats').rankdata(y))[0, 1]",
            "lambda x, y: float(lib('scipy.stats').spearmanr(x, y).statistic)",
            "lambda x, y: float(lib('scipy.stats.mstats').spearmanr(x, y).statistic)",
            "lambda x, y: np.corrcoef(*[lib('scipy.stats._stats_py')._rankdata(np.asarray(v, float), 'average') "
            "for v in (x, y)])[0, 1]",
            "lambda x, y: float(lib('scipy.stats').spearmanrho(x, y).statistic)",
        ],
    },
    "ps4_language_models": {
        "count_ngrams": [
            "lambda s, n: lib('collections').Counter(dict(lib('ngram').NGramLM(n, nltk_padding=True).fit(s)"
            ".most_common(n, top=10 ** 9, skip_padding=False)))",
        ],
        "perplexity": [
            "lambda lp, s, n: (lambda V: (lambda c, t: float(np.exp(-np.mean("
            "[lp(V.itos[w], tuple(V.itos[i] for i in h)) for h, w in zip(c, t)]))))("
            "*lib('ngram').context_target_ids(s, V, n)))(lib('ngram').Vocabulary.from_sentences(s))",
        ],
        "nnlm_forward": [
            "lambda c, p: lib('torch').softmax(lib('nnlm').FeedForwardLM.from_numpy(p)(lib('torch').as_tensor(c)), -1)"
            ".detach().numpy()",
        ],
    },
    "ps5_rnn_bptt": {
        "rnn_step": ["lambda x, s, p: lib('clipping').rnn_states(x[None], p, 'tanh', s)[0]",
                     "lambda x, s, p: lib('rnn').rnn_forward_batch(x[None, None], p, s[None])[0][0, 0]"],
        "rnn_forward": [
            "lambda X, p, s0=None: (lambda S: (S, lib('rnn').softmax(S @ p['V'].T + p['b_o'])))"
            "(lib('clipping').rnn_states(X, p, 'tanh', s0))",
            "lambda X, p, s0=None: (lambda S, O: (S[:, 0], O[:, 0]))(*lib('rnn').rnn_forward_batch("
            "X[:, None], p, None if s0 is None else s0[None]))",
            "lambda X, p, s0=None: (lambda d: (d['S'], d['O']))("
            "lib('rnn').rnn_bptt_deltas(X, np.zeros(len(X), int), p, s0))",
        ],
        "output_delta": ["lambda O, y: lib('backprop').softmax_cross_entropy(np.log(O), y)[1] * len(O)"],
        "rnn_bptt": [
            "lambda X, y, p, s0=None: lib('rnn').rnn_bptt_truncated(X, y, p, len(X), s0)",
            "lambda X, y, p, s0=None: lib('rnn').rnn_bptt_batch(X[:, None], y[:, None], p, "
            "None if s0 is None else s0[None])",
        ],
    },
    "ps6_lstm_gru": {
        "sigmoid": ["lambda z: np.exp(lib('word2vec')._log_sigmoid(z))"],
        "lstm_step_forward": [
            "lambda x, h, c, p: (lambda H, C: (H[0], C[0], None))(*lib('gated').lstm_forward(x[None], p, h, c))",
            "lambda x, h, c, p: (lambda H, f: (f[0][0], f[1][0], None))("
            "*lib('gated').stacked_lstm_forward(x[None], [p], [h], [c]))",
        ],
        "lstm_step_backward": [
            "lambda dh, dc, cache: (lambda n: (lambda dX, dh0, dc0, g: (dX[0], dh0, dc0, g))("
            "*lib('gated').lstm_backward(dh[None], cache['a'][None, :, n:], cache['params'], cache['a'][:, :n], "
            "cache['c_prev'], dc_T=dc)))(cache['params']['W_f'].shape[0])",
        ],
        "gru_step_forward": ["lambda x, h, p: lib('gated').gru_forward(x[None], p, h)[0]"],
    },
    "ps7_clipping_gating": {
        "global_norm": ["lambda g: lib('rnn_lm')._clip({k: np.array(v, dtype=float) for k, v in g.items()}, np.inf)"],
        "state_gradient_norms": [
            "lambda X, p, g, act='tanh': (lambda t, f: (lambda S: lib('clipping').torch_state_gradient_norms("
            "(S[-1] * t(g)).sum(), S))(list(lib('itertools').accumulate(t(X), "
            "lambda s, x: f(t(p['U']) @ x + t(p['W']) @ s + t(p['b_s'])), "
            "initial=t(np.zeros(len(g))).requires_grad_()))[1:]))(lib('torch').tensor, "
            "lib('torch').tanh if act == 'tanh' else lib('torch').relu)",
        ],
    },
    "ps8_seq2seq_attention": {
        "attention_scores": ["lambda s, H, p, kind: lib('attention')._scores(s, H, p, kind)[0]"],
        "masked_softmax": [
            "lambda e, m: lib('attention').attention_step(e, np.eye(len(e)), {}, 'dot', m)[1]",
            "lambda e, m: lib('seq2seq').masked_softmax(lib('torch').tensor(e), lib('torch').tensor(m)).numpy()",
        ],
    },
}


# --------------------------------------------------------------------------
# The search on every assignment's graded library, one group of assignments per subprocess
# --------------------------------------------------------------------------

_POOL = ThreadPoolExecutor(max_workers=2)
_RUNS: dict = {}


def _strips_third_party(assignment_id: str) -> bool:
    return any(m != "course_lib" and not m.startswith("course_lib.") for m in load_spec(assignment_id).GRADED)


# ps3's stripped NLTK and SciPy files cannot be unloaded again: it gets a process of its own
GROUPS = ([[a] for a in ASSIGNMENTS if _strips_third_party(a)]
          + [[a for a in ASSIGNMENTS if not _strips_third_party(a)]])


def _missing_data(spec) -> str:
    """'' or why the spec's trusted set-up cannot run here (ps3 without WordNet)."""
    if not hasattr(spec, "prepare"):
        return ""
    from course_lib.wordnet_data import WordNetNotFound

    try:
        spec.prepare()
    except WordNetNotFound as exc:
        return f"WordNet is missing (make setup installs it): {str(exc).splitlines()[0]}"
    return ""


def _search(group: list) -> dict:
    """{assignment: (job, report, why it was skipped)} for one group, searched in one subprocess."""
    out, jobs = {}, []
    with tempfile.TemporaryDirectory(prefix="graded-unreachable-") as tmp:
        for assignment_id in group:
            spec = load_spec(assignment_id)
            missing = _missing_data(spec)
            if missing:
                out[assignment_id] = (None, None, missing)
                continue
            jobs.append(make_job(assignment_id, spec, spec.GRADED, Path(tmp) / assignment_id, SEEDS,
                                 extra=THIRD_PARTY.get(assignment_id, ()), glue=GLUE.get(assignment_id),
                                 context=CONTEXT.get(assignment_id, ())))
        for job, report in zip(jobs, run_jobs(jobs) if jobs else ()):
            out[job["assignment_id"]] = (job, report, "")
    return out


def searched(assignment_id: str) -> tuple[dict, dict]:
    """(job, report) of the search on the assignment's graded library (the first call starts every group)."""
    for i, group in enumerate(GROUPS):
        if i not in _RUNS:
            _RUNS[i] = _POOL.submit(_search, group)
    group = next(i for i, g in enumerate(GROUPS) if assignment_id in g)
    job, report, missing = _RUNS[group].result()[assignment_id]
    if missing:
        pytest.skip(missing)
    return job, report


def _graded_names(graded: dict) -> set[str]:
    """"module.name" for every name of a GRADED dict ("module" for a whole module)."""
    out = set()
    for module, names in graded.items():
        if names in (WHOLE_MODULE, (WHOLE_MODULE,)):
            out.add(module)
        else:
            out.update(f"{module}.{name}" for name in names)
    return out


# --------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------

@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_stripped_library_imports_and_the_program_runs(assignment_id):
    _, report = searched(assignment_id)
    assert report["course_lib_stripped"], f"the search imported {report['course_lib_file']}, not the stripped copy"
    assert report["import_errors"] == {}, "modules of the graded library that do not import"
    refused = [e for e in report["cell_errors"] if REFUSAL in e or "ImportError" in e or "ModuleNotFoundError" in e]
    assert refused == [], "cells of the solved notebook that need something GRADED stubs out"


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_every_graded_name_is_a_stub(assignment_id):
    job, report = searched(assignment_id)
    assert set(report["stubs"]) == _graded_names(job["graded"])
    wrong = {name: why for name, why in report["stubs"].items() if why}
    assert wrong == {}, f"names of GRADED that do not refuse with ImportError '... {REFUSAL} ...'"


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_no_reachable_callable_reproduces_a_part(assignment_id):
    _, report = searched(assignment_id)
    assert report["candidates"] > 100, "the search found (almost) nothing to try"
    broken = [h for h in report["hits"] if "unavailable" in h]
    assert broken == [], "glue expressions that cannot even be built"
    hits = [f"{h['part']}: {h['candidate']} ({h['adapter']})" for h in report["hits"] if "unavailable" not in h]
    assert hits == [], (f"{assignment_id}: reachable re-implementations of graded parts; add them to GRADED in "
                        f"autograder/specs/{assignment_id}.py")


@pytest.mark.parametrize("assignment_id", sorted(GLUE))
def test_glue_reproduces_with_the_full_library(assignment_id):
    """Each GLUE expression is a real sibling: with nothing stripped (this process) it reproduces its part."""
    job, _ = searched(assignment_id)
    solutions = {p["solution_id"] for p in job["parts"]}
    assert set(GLUE[assignment_id]) <= solutions
    last = max(i for i, (label, _) in enumerate(job["cells"]) if any(f"({s})" in label for s in solutions))
    ns, _ = run_program(job["cells"][:last + 1])
    failing = [f"{p['solution_id']}: {expression}" for p in job["parts"]
               for expression in GLUE[assignment_id].get(p["solution_id"], ())
               if not reproduces(p, ns, eval(expression, dict(ns, lib=_lib)), compare)]
    assert failing == [], "glue that does not reproduce its part with the full library: not a sibling"
