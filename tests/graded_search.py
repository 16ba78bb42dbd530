"""Which reachable callables reproduce a graded part: the search behind tests/test_graded_unreachable.py.

Two processes, as in verified grading:

* the trusted side (:func:`make_job`, run by pytest with the real ``course_lib``) builds the library a
  graded submission sees (``autograder.strip``: ``course_lib`` with the spec's ``GRADED`` names stubbed
  out, and the stripped third-party files), draws every part's inputs (``autograder.verify.draw_inputs``),
  computes the reference answers and writes a job file; :func:`run_jobs` hands job files to
* the search (:func:`main`: this file run as a script, in a subprocess whose only ``course_lib`` is the
  stripped one and which loads the stripped third-party files in place of the originals), which imports
  every module of that library, calls every name of ``GRADED`` (each must refuse with the stub's
  ImportError), runs the solved notebook's program (locked cells and solution cells, as graded) and then,
  for every part, rebinds the graded function's name to each reachable callable and runs the part's
  ``call``.

A candidate is every function, class and method (static, class and plain, called with the first
argument as ``self``) that the stripped ``course_lib`` defines, plus the third-party names a job adds
(ps3: NLTK's WordNet and SciPy's rank correlation).  Each is tried as it is and through simple adapters
(:func:`input_variants`, ``OUTPUT_VARIANTS``): the first two or three positional arguments permuted,
keyword arguments dropped or passed by position, a context object of the notebook (ps3's ``wn``) put
first, numpy arrays as torch tensors and back, the first of several results.  One-line glue that no
adapter can guess (``cbow_examples`` read as skip-gram pairs, ...) comes as expressions (``glue``).
A candidate that matches the reference on every trial of every seed reproduces the part: it is a
re-implementation that a graded submission could reach.

``search(assignment_id, {})`` strips nothing: it lists every callable that reproduces a part, the
siblings that ``GRADED`` has to name.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import importlib.abc
import importlib.util
import inspect
import io
import itertools
import json
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import time
import types
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
REFUSAL = "is not available while"
CALL_LIMIT_S = 2.0              # one run of a part's call with a candidate

# Never called: data loaders and trainers (slow, they write caches or train for minutes), plotting, and
# what changes the process (thread counts).  None of them computes a graded answer.
NOT_CALLED = {
    "course_lib.corpus": "*", "course_lib.wordnet_data": "*",
    "course_lib.evaluate": ("load_wordsim353", "load_simlex999", "load_analogies", "_read_pairs"),
    "course_lib.word2vec": ("train_word2vec", "default_device"),
    "course_lib.glove": ("train_glove",),
    "course_lib.nnlm": ("train_nnlm", "default_device", "cat_dog_corpus"),
    "course_lib.rnn_lm": ("train_rnn_lm",),
    "course_lib.long_range": ("train", "failure_length", "single_thread", "default_device"),
    "course_lib.seq2seq": ("train_seq2seq", "set_threads", "default_device", "plot_alignment", "cjk_font"),
    "course_lib.wordnet": ("draw_hypernym_tree",),
    "course_lib.dates": ("make_splits", "make_pairs"),
    # NLTK's WordNet reader: what reads other corpora or files (information content, custom lemmas)
    "nltk.corpus.reader.wordnet.WordNetCorpusReader": ("ic", "custom_lemmas", "digraph", "add_omw", "add_exomw",
                                                       "add_provs", "_load_lang_data", "doc", "license", "readme",
                                                       "citation", "langs", "words"),
}


# --------------------------------------------------------------------------
# Trusted side
# --------------------------------------------------------------------------

def program(assignment_id: str) -> list[tuple[str, str]]:
    """(label, source) of the solved notebook's program, as verified grading runs it."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    from submissions import solved

    from autograder.verify import program_cells, source_info

    cells = program_cells(solved(assignment_id), source_info(assignment_id))
    return [c if isinstance(c, tuple) else (f"cell {i}", c) for i, c in enumerate(cells)]


def make_job(assignment_id: str, spec, graded: dict, workdir: Path, seeds=(0, 1), *, extra=(), glue=None,
             context=(), through=None, search_candidates: bool = True) -> dict:
    """Build the stripped library under ``workdir`` and write the search's job file there; returns the job.

    graded:  the ``GRADED`` to strip (the spec's, or ``{}`` to see every candidate that reproduces a part)
    extra:   third-party candidates: ("module", "*") for everything it defines, ("module", "Class") for a
             class and its methods, ("module", "name") for one function
    glue:    {solution id: [expression, ...]}: one-line glue, evaluated in the solved notebook's namespace
             with ``lib`` (:func:`_lib`)
    context: names of notebook objects an adapter may pass first (ps3: "wn")
    through: how many cells of the program to run (None: all of them)
    """
    from autograder.strip import module_file
    from autograder.verify import draw_inputs
    from submissions import through_npz

    # Stripped in a fresh interpreter, as the grader's command does: CPython 3.11's ast.parse of a large file
    # (SciPy's _stats_py.py) can raise "AST constructor recursion depth mismatch" deep inside pytest's stack.
    build = ("import json, sys\nfrom pathlib import Path\nfrom autograder.strip import build_library, stripped_files\n"
             "graded, aid, repo, work = json.loads(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])\n"
             "build_library(graded, aid, repo / 'course_lib', work / 'lib' / 'course_lib')\n"
             "print(json.dumps({str(k): str(v) for k, v in stripped_files(graded, aid, 'course_lib', work / 'third').items()}))")
    done = subprocess.run([sys.executable, "-c", build, json.dumps(graded), assignment_id, str(REPO), str(workdir)],
                          cwd=REPO, capture_output=True, text=True, check=True)
    lib = workdir / "lib" / "course_lib"
    third = {Path(k): Path(v) for k, v in json.loads(done.stdout).items()}     # {original: copy}
    overrides = {module: str(third[module_file(module)]) for module in graded
                 if module != "course_lib" and not module.startswith("course_lib.")}
    drawn = [draw_inputs(spec, seed) for seed in seeds]
    parts = []
    for part in spec.PARTS:
        trials = [(through_npz(inputs), part.expected(inputs)) for d in drawn for inputs in d[part.test_id]]
        fields = {f.name: getattr(part, f.name) for f in dataclasses.fields(part)
                  if not callable(getattr(part, f.name))}           # what compare() reads: tolerances, exact, ...
        parts.append({"test_id": part.test_id, "solution_id": part.solution_id, "call": part.call,
                      "fields": fields, "trials": trials})
    cells = program(assignment_id)
    job = {"assignment_id": assignment_id, "graded": graded, "lib": str(lib), "overrides": overrides,
           "cells": cells if through is None else cells[:through], "parts": parts, "extra": list(extra),
           "glue": glue or {}, "context": list(context), "search_candidates": search_candidates,
           "path": str(workdir / "job.pkl")}
    Path(job["path"]).write_bytes(pickle.dumps(job))
    return job


def run_jobs(jobs: list, timeout: float = 600) -> list[dict]:
    """Run the search of each job, in turn, in one fresh interpreter that sees only the stripped library.

    The library of each job replaces the one before (their modules are forgotten); stripped third-party
    files cannot be forgotten, so a job with ``overrides`` (ps3) must run alone.
    """
    paths = [Path(job["path"]) for job in jobs]
    out = paths[0].with_suffix(".reports.json")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    env.update(PYTHONPATH=str(Path(jobs[0]["lib"]).parent), MPLBACKEND="Agg", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1", PYTHONHASHSEED="0")
    scratch = paths[0].parent / "scratch"
    scratch.mkdir(exist_ok=True)
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), str(out), *map(str, paths)], cwd=scratch,
                          env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(f"the search failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(out.read_text())


def run_job(job: dict, timeout: float = 600) -> dict:
    return run_jobs([job], timeout)[0]


def search(assignment_id: str, graded: dict | None = None, **options) -> tuple[dict, dict]:
    """(job, report of the search, see :func:`main`) for one assignment, in a temporary folder."""
    from autograder.parts import load_spec

    spec = load_spec(assignment_id)
    with tempfile.TemporaryDirectory(prefix=f"graded-{assignment_id}-") as tmp:
        job = make_job(assignment_id, spec, spec.GRADED if graded is None else graded, Path(tmp), **options)
        return job, run_job(job)


# --------------------------------------------------------------------------
# The search (runs in the subprocess)
# --------------------------------------------------------------------------

class _Overrides(importlib.abc.MetaPathFinder):
    """Load the stripped copy of a third-party module in place of the original (the jail mounts it there)."""

    def __init__(self, files: dict):
        self.files = files

    def find_spec(self, fullname, path=None, target=None):
        if fullname in self.files:
            return importlib.util.spec_from_file_location(fullname, self.files[fullname])
        return None


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


@contextlib.contextmanager
def _limit(seconds: float):
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class _NoIPython:
    """get_ipython() while graded: magics and shell escapes do nothing."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def run_program(cells) -> tuple[dict, list[str]]:
    from IPython.core.inputtransformer2 import TransformerManager

    transform = TransformerManager().transform_cell
    ns = {"__name__": "__main__", "__builtins__": __builtins__, "get_ipython": _NoIPython}
    errors = []
    for label, source in cells:
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(transform(source), f"<{label}>", "exec"), ns)
        except Exception as exc:
            errors.append(f"{label}: {type(exc).__name__}: {exc}")
    return ns, errors


def _resolve(module: str, name: str):
    obj = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def check_stubs(graded: dict) -> dict:
    """{"module.name": '' or what is wrong}: every graded name must refuse with the stub's ImportError."""
    from autograder.strip import WHOLE_MODULE

    out = {}
    for module, names in graded.items():
        if names in (WHOLE_MODULE, (WHOLE_MODULE,)):
            try:
                importlib.import_module(module)
                out[module] = "imports"
            except ImportError as exc:
                out[module] = "" if REFUSAL in str(exc) else f"ImportError without the refusal: {exc}"
            continue
        for name in names:
            key = f"{module}.{name}"
            try:
                obj = _resolve(module, name)
            except Exception as exc:
                out[key] = f"cannot be resolved: {type(exc).__name__}: {exc}"
                continue
            try:
                obj()
                out[key] = "callable without error"
            except ImportError as exc:
                out[key] = "" if REFUSAL in str(exc) else f"ImportError without the refusal: {exc}"
            except Exception as exc:
                out[key] = f"raised {type(exc).__name__} instead of ImportError: {exc}"
    return out


def import_library(lib: Path) -> tuple[dict, dict]:
    """({module name: module} of every module of the stripped library, {module name: import error})."""
    modules, errors = {}, {}
    for path in sorted(lib.glob("*.py")):
        name = "course_lib" if path.stem == "__init__" else f"course_lib.{path.stem}"
        try:
            modules[name] = importlib.import_module(name)
        except Exception as exc:
            errors[name] = f"{type(exc).__name__}: {exc}"
    return modules, errors


def _skipped(module: str, name: str) -> bool:
    names = NOT_CALLED.get(module, ())
    return names == "*" or name in names


def _members(owner, label: str):
    """(label, callable) of the methods a class defines (static, class and plain ones), dunders left out."""
    for name, raw in vars(owner).items():
        if name.startswith("__") or _skipped(f"{owner.__module__}.{owner.__qualname__}", name):
            continue
        if isinstance(raw, staticmethod):
            yield f"{label}.{name}", raw.__func__
        elif isinstance(raw, classmethod):
            yield f"{label}.{name}", getattr(owner, name)
        elif inspect.isfunction(raw):
            yield f"{label}.{name}", raw


def _entries(obj, depth: int = 2):
    """(subscript text, value) of the items of a module-level dict, list or tuple, two levels deep."""
    if depth == 0 or not isinstance(obj, (dict, list, tuple)):
        return
    items = obj.items() if isinstance(obj, dict) else enumerate(obj)
    for key, value in items:
        yield f"[{key!r}]", value
        for sub, inner in _entries(value, depth - 1):
            yield f"[{key!r}]{sub}", inner


def candidates(modules: dict, extra, ns: dict, context) -> list[tuple[str, object]]:
    """(label, callable) of everything a submission could call instead of its own function."""
    out, seen = [], set()

    def add(label, obj):
        if callable(obj) and id(obj) not in seen:
            seen.add(id(obj))
            out.append((label, obj))

    for module_name, module in modules.items():
        for name, obj in sorted(vars(module).items()):
            home = getattr(obj, "__module__", None) or ""
            if not (home == "course_lib" or home.startswith("course_lib.")) or _skipped(home, name):
                continue
            if inspect.isclass(obj):
                add(f"{home}.{name}", obj)
                for label, member in _members(obj, f"{home}.{name}"):
                    add(label, member)
            elif inspect.isfunction(obj):
                add(f"{home}.{name}", obj)
        for name, obj in sorted(vars(module).items()):     # tables of functions (backprop.ACTIVATIONS, ...)
            for key, value in _entries(obj):
                if inspect.isfunction(value) and (value.__module__ or "").startswith("course_lib"):
                    add(f"{module_name}.{name}{key}", value)
    for module_name, what in extra:
        module = importlib.import_module(module_name)
        if what == "*":
            names = [n for n, o in vars(module).items() if getattr(o, "__module__", None) == module_name]
        else:
            names = [what]
        for name in sorted(names):
            obj = getattr(module, name)
            if inspect.isclass(obj):
                add(f"{module_name}.{name}", obj)
                for label, member in _members(obj, f"{module_name}.{name}"):
                    add(label, member)
            else:
                add(f"{module_name}.{name}", obj)
    for name in context:                    # bound methods of the notebook's objects (ps3: wn.path_similarity)
        obj = ns[name]
        home = f"{type(obj).__module__}.{type(obj).__qualname__}"
        for attr in sorted(dir(type(obj))):
            if (not attr.startswith("__") and inspect.isfunction(getattr(type(obj), attr, None))
                    and not _skipped(home, attr)):
                add(f"{name}.{attr}", getattr(obj, attr))
    return out


# ---- adapters ---------------------------------------------------------------

def _to_torch(x):
    import torch

    if isinstance(x, np.ndarray) and x.dtype.kind in "biuf":
        return torch.from_numpy(x.copy())
    if isinstance(x, dict):
        return {k: _to_torch(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_to_torch(v) for v in x)
    return x


def _to_numpy(x):
    if type(x).__module__.startswith("torch"):
        try:
            return x.detach().cpu().numpy()
        except AttributeError:
            return x
    if isinstance(x, dict):
        return {k: _to_numpy(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_to_numpy(v) for v in x)
    return x


def input_variants(args: tuple, kwargs: dict, context: dict, torch_ok: bool):
    """(label, f(args, kwargs) -> (args, kwargs)) of the simple adapters for a call with this arity."""
    variants = [("as is", lambda a, k: (a, k))]
    p = min(len(args), 3)
    for perm in itertools.permutations(range(p)):
        if list(perm) != list(range(p)):
            variants.append((f"arguments {perm}",
                             lambda a, k, perm=perm: (tuple(a[i] for i in perm) + tuple(a[p:]), k)))
    if kwargs:
        variants.append(("keywords dropped", lambda a, k: (a, {})))
        variants.append(("keywords by position", lambda a, k: (tuple(a) + tuple(k.values()), {})))
    for name, obj in context.items():
        variants.append((f"{name} first", lambda a, k, obj=obj: ((obj,) + tuple(a), k)))
    if torch_ok:
        variants += [(f"{label}, as torch", lambda a, k, f=f: _to_torch(f(a, k))) for label, f in list(variants)]
    return variants


def _first(r):
    if isinstance(r, (tuple, list)) and r:
        return r[0]
    raise TypeError("not a sequence")


OUTPUT_VARIANTS = [("", lambda r: r), (", first result", _first),
                   (", as numpy", _to_numpy), (", first result as numpy", lambda r: _first(_to_numpy(r)))]


def _signature(fn):
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):         # no signature (a builtin): try it
        return None


def _bindable(signature, args, kwargs) -> bool:
    if signature is None:
        return True
    try:
        signature.bind(*args, **kwargs)
    except TypeError:
        return False
    return True


def refuses(fn) -> bool:
    """Is ``fn`` one of autograder.strip's stubs (which refuse whatever the arguments)?"""
    code = getattr(fn, "__code__", None)
    if code is None or code.co_flags & inspect.CO_VARARGS == 0 or code.co_names[:1] != ("ImportError",):
        return False
    try:
        fn()
    except ImportError as exc:
        return REFUSAL in str(exc)
    except Exception:
        return False
    return False


# ---- running one part ---------------------------------------------------------

class _Probe(Exception):
    def __init__(self, args, kwargs):
        self.args_, self.kwargs_ = args, kwargs


def _as_sent_back(outputs) -> dict:
    arrays = {}
    for key, value in outputs.items():
        array = np.asarray(value)
        arrays[str(key)] = array if array.dtype.kind in "biuf" else np.asarray(value, dtype=np.float64)
    return arrays


def _copy(inputs: dict) -> dict:
    return {k: v.copy() for k, v in inputs.items()}


_COMPILED: dict = {}


def run_call(part: dict, ns: dict, fn, inputs: dict):
    """The part's outputs as the sandbox sends them back, with ``fn`` as the graded function."""
    key = (part["test_id"], part["call"])
    if key not in _COMPILED:
        _COMPILED[key] = compile(part["call"], f"<call {part['test_id']}>", "exec")
    local = dict(ns)
    local[part["solution_id"]] = fn
    local["inputs"] = _copy(inputs)
    exec(_COMPILED[key], local)
    return _as_sent_back(local["outputs"])


def reproduces(part: dict, ns: dict, fn, compare) -> bool:
    """Does the part's check, with ``fn`` as the graded function, match the reference on every trial?"""
    for inputs, expected in part["trials"]:
        try:
            with _limit(CALL_LIMIT_S), contextlib.redirect_stdout(io.StringIO()), \
                    contextlib.redirect_stderr(io.StringIO()), np.errstate(all="ignore"):
                got = run_call(part, ns, fn, inputs)
            if compare(_part_view(part), got, expected):
                return False
        except Exception:                   # a _Timeout too
            return False
    return True


def _part_view(part: dict):
    """The part's fields (all but its functions), which is what ``autograder.parts.compare`` reads."""
    return types.SimpleNamespace(**part["fields"])


def probe(part: dict, ns: dict):
    """(args, kwargs) of the first call of the graded function in the part's call, or None."""
    def recorder(*args, **kwargs):
        raise _Probe(args, kwargs)

    try:
        with contextlib.redirect_stdout(io.StringIO()):
            run_call(part, ns, recorder, part["trials"][0][0])
    except _Probe as p:
        return p.args_, p.kwargs_
    except Exception:
        return None
    return None


def search_part(part: dict, ns: dict, cands, context: dict, compare) -> list[dict]:
    """The candidates that reproduce the part, each with the adapter that made it fit."""
    seen = probe(part, ns)
    if seen is None:                        # a value (ps8's quiz answers), not a function
        return []
    args, kwargs = seen
    hits = []
    for label, fn, signature in cands:
        started = time.perf_counter()
        _search_one(part, ns, label, fn, signature, args, kwargs, context, compare, hits)
        spent = time.perf_counter() - started
        if spent > 0.5:
            SLOW.append({"part": part["test_id"], "candidate": label, "s": round(spent, 2)})
    return hits


SLOW: list[dict] = []


def _search_one(part, ns, label, fn, signature, args, kwargs, context, compare, hits) -> None:
    """Append a hit when ``fn``, through one of the adapters, reproduces the part."""
    torch_ok = "torch" in getattr(inspect.getmodule(fn), "__dict__", {})
    for in_label, adapt in input_variants(args, kwargs, context, torch_ok):
        try:
            a2, k2 = adapt(args, kwargs)
        except Exception:
            continue
        if not _bindable(signature, a2, k2):
            continue
        for out_label, post in OUTPUT_VARIANTS:
            def wrapped(*a, _adapt=adapt, _post=post, **k):
                a2, k2 = _adapt(a, k)
                return _post(fn(*a2, **k2))

            if reproduces(part, ns, wrapped, compare):
                hits.append({"part": part["test_id"], "candidate": label, "adapter": in_label + out_label})
                return


def _lib(name: str):
    """``lib("rnn")`` is course_lib.rnn; ``lib("torch")`` is torch: the modules a glue expression reaches."""
    return importlib.import_module(name if name in ("torch", "itertools", "types", "collections") or "." in name
                                   else f"course_lib.{name}")


def search_glue(part: dict, ns: dict, expressions, compare) -> list[dict]:
    """The glue expressions that reproduce the part (and those that cannot even be evaluated)."""
    hits = []
    for expression in expressions:
        try:
            fn = eval(expression, dict(ns, lib=_lib))
        except Exception as exc:
            hits.append({"part": part["test_id"], "glue": expression, "unavailable": f"{type(exc).__name__}: {exc}"})
            continue
        if reproduces(part, ns, fn, compare):
            hits.append({"part": part["test_id"], "candidate": expression, "adapter": "glue"})
    return hits


def _use_library(lib: Path) -> None:
    """Make ``lib``'s folder the only place course_lib is imported from (forgetting any earlier copy)."""
    for name in [m for m in sys.modules if m == "course_lib" or m.startswith("course_lib.")]:
        del sys.modules[name]
    sys.path[:] = [p for p in sys.path if not (Path(p or ".") / "course_lib").is_dir()]
    sys.path.insert(0, str(lib.parent))
    importlib.invalidate_caches()


def search_job(job: dict) -> dict:
    """The report on one job: what imports, what refuses, what the program says, what reproduces a part."""
    started = time.perf_counter()
    SLOW.clear()
    lib = Path(job["lib"]).resolve()
    _use_library(lib)
    import course_lib

    report = {"assignment_id": job["assignment_id"], "course_lib_file": course_lib.__file__,
              "course_lib_stripped": Path(course_lib.__file__).resolve().parent == lib}
    t = time.perf_counter()
    modules, report["import_errors"] = import_library(lib)
    for module in job["overrides"]:
        try:
            loaded = importlib.import_module(module)
            if Path(loaded.__file__).resolve() != Path(job["overrides"][module]).resolve():
                report["import_errors"][module] = f"loaded from {loaded.__file__}, not the stripped copy"
        except Exception as exc:
            report["import_errors"][module] = f"{type(exc).__name__}: {exc}"
    report["stubs"] = check_stubs(job["graded"])
    report["import_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    ns, report["cell_errors"] = run_program(job["cells"])
    report["program_s"] = round(time.perf_counter() - t, 2)
    from autograder.parts import compare            # numpy only; the editable install finds it

    context = {name: ns[name] for name in job["context"] if name in ns}
    cands = candidates(modules, job["extra"], ns, context) if job["search_candidates"] else []
    refusing = {label for label, fn in cands if refuses(fn)}       # stubs refuse whatever they are given
    report["candidates"], report["refusing_candidates"] = len(cands), len(refusing)
    cands = [(label, fn, _signature(fn)) for label, fn in cands if label not in refusing]
    report["hits"], report["part_s"] = [], {}
    for part in job["parts"]:
        t = time.perf_counter()
        report["hits"] += search_part(part, ns, cands, context, compare)
        report["hits"] += search_glue(part, ns, job["glue"].get(part["solution_id"], ()), compare)
        report["part_s"][part["test_id"]] = round(time.perf_counter() - t, 2)
    report["slow"] = list(SLOW)
    report["total_s"] = round(time.perf_counter() - started, 2)
    return report


def main(out_path: str, *job_paths: str) -> None:
    """Search every job in turn (only the first may load stripped third-party files) and write the reports."""
    warnings.simplefilter("ignore")
    jobs = [pickle.loads(Path(p).read_bytes()) for p in job_paths]
    if any(job["overrides"] for job in jobs[1:]):
        raise ValueError("a job that strips third-party files needs a process of its own, and must come first")
    sys.meta_path.insert(0, _Overrides(jobs[0]["overrides"]))
    reports = [search_job(job) for job in jobs]
    Path(out_path).write_text(json.dumps(reports, indent=1))


if __name__ == "__main__":
    main(*sys.argv[1:])
