"""Verified checks: what each auto-graded part of an assignment is scored on.

A *part* is one graded test cell of an assignment (its nbgrader grade id and
points come from the instructor's source notebook).  Its official score is
not what the student's kernel says: the grader

1. draws fresh inputs in the trusted parent (``make_inputs(rng)``),
2. runs the student's code in an isolated sandbox process that receives only
   those inputs, executes ``call`` (a short snippet that calls the student's
   function) and sends back plain arrays (``.npz`` without pickles),
3. computes the reference answer in the parent with ``course_lib``
   (``expected(inputs)``) and compares (``compare``).

Each assignment with verified checks has a module ``autograder/specs/<ID>.py``
defining ``PARTS`` (a list of :class:`Part`) and ``GRADED`` (what a student may
not reach while graded: the graded functions and every re-implementation of
them, stubbed out of the jail's files by :mod:`autograder.strip`),
and optionally ``PRELOAD`` (modules the zygote imports once before forking;
``"module:function"`` also calls the function once, e.g. to load WordNet)
and ``prepare()`` (run by the trusted parent before grading, e.g. to build a
data cache that the read-only sandbox will read).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Callable

import numpy as np

Arrays = dict[str, np.ndarray]


@dataclass
class Part:
    """One auto-graded part.

    test_id:    grade id of the test cell whose points this part earns
    solution_id: grade id of the solution cell the part grades (for messages)
    call:       code run in the sandbox after the student's notebook; it sees
                ``inputs`` (dict of arrays) and must bind ``outputs`` (dict of arrays)
    make_inputs: rng -> dict of arrays, drawn in the trusted parent at grade time
    expected:   inputs -> dict of arrays, the reference answer, computed in the parent
    atol, rtol: tolerances of the default comparison
    trials:     how many independent input draws; every one must pass
    exact:      an exact answer (a multiple-choice letter, a count): a wrong one is
                reported as wrong, never with how far it is from the answer
    stand_ins:  inputs -> [(helper name, arguments, reference result)]: the calls a correct
                answer makes to the notebook's other graded functions; while the part runs
                they answer as the reference does (:mod:`autograder.sealed`), so a mistake in
                a helper costs the helper's part only
    credit:     groups of output keys that earn an equal share of the points each (e.g. the
                cost, the gradients); empty: all or nothing
    """

    test_id: str
    solution_id: str
    call: str
    make_inputs: Callable[[np.random.Generator], Arrays]
    expected: Callable[[Arrays], Arrays]
    atol: float = 1e-6
    rtol: float = 1e-5
    trials: int = 3
    needs: tuple[str, ...] = field(default_factory=tuple)
    exact: bool = False
    stand_ins: Callable[[Arrays], list] | None = None
    credit: tuple[tuple[str, ...], ...] = ()

    def share(self, keys, failed) -> float:
        """The fraction of the points earned when the outputs ``failed`` (a subset of ``keys``) are wrong.

        Each group of ``credit`` (its patterns in fnmatch's form: ``"gW*"``) earns an equal share when
        none of its outputs failed; without ``credit`` every output must be right.
        """
        if not failed:
            return 1.0
        if not self.credit:
            return 0.0
        groups = [{k for k in keys if any(fnmatchcase(k, pattern) for pattern in group)} for group in self.credit]
        return sum(not (g & set(failed)) for g in groups) / len(groups)


# The dtype policy: numpy's float64 is what the notebooks use; a result in a lower precision
# (float32, e.g. from torch's default) is accepted within that precision's tolerance.
LOW_PRECISION_RTOL = {np.dtype(np.float32): 1e-4, np.dtype(np.float16): 1e-2}


def _entry(index: tuple) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]" if index else ""


def compare(part: Part, got: Arrays, want: Arrays) -> str:
    """'' when ``got`` matches ``want``; otherwise what differs, for every output that does (see :func:`differences`)."""
    return joined(part, differences(part, got, want))


def joined(part: Part, problems: dict[str, str]) -> str:
    """'' or ``solution_id: what differs; ...``: the message of :func:`differences`' problems."""
    return f"{part.solution_id}: " + "; ".join(problems.values()) if problems else ""


def differences(part: Part, got: Arrays, want: Arrays) -> dict[str, str]:
    """{output key: what is wrong with it} for every output of ``want`` that ``got`` does not match.

    Float64 results must match within the part's ``atol``/``rtol``; a float32 or
    float16 result within its own precision (``LOW_PRECISION_RTOL``, relative to
    the largest expected value).  A differing output is named with its worst
    entry, expected vs yours (never the whole expected array).  Exact parts say
    only that the answer is wrong.
    """
    problems = {}
    for key, expected in want.items():
        if key not in got:
            problems[key] = f"no value for {key!r} came back"
            continue
        actual = got[key]
        expected = np.asarray(expected, dtype=float)
        if actual.dtype.kind not in "fiub":
            problems[key] = f"{key} has dtype {actual.dtype}, expected numbers"
            continue
        if actual.shape != expected.shape:
            problems[key] = f"{key} has shape {actual.shape}, expected {expected.shape}"
            continue
        low = LOW_PRECISION_RTOL.get(actual.dtype)
        actual = actual.astype(float)
        if not np.all(np.isfinite(actual)) and not np.array_equal(actual, expected, equal_nan=True):
            where = np.unravel_index(int(np.argmax(~np.isfinite(actual))), actual.shape) if actual.ndim else ()
            problems[key] = (f"{key} contains NaN or inf (first at {key}{_entry(where)})" if where
                             else f"{key} is {float(actual):g}")
            continue
        atol, rtol = part.atol, part.rtol
        if low is not None and not part.exact:
            scale = float(np.max(np.abs(expected), initial=0.0))
            atol, rtol = max(atol, low * (1.0 + scale)), max(rtol, low)
        diff = np.abs(actual - expected)
        excess = diff - (atol + rtol * np.abs(expected))
        if np.any(excess > 0):
            if part.exact:
                problems[key] = f"{key} is not the right answer"
                continue
            where = np.unravel_index(int(np.argmax(excess)), excess.shape) if excess.ndim else ()
            note = (f"; your result is {got[key].dtype}: compute in float64 for full precision"
                    if low is not None else "")
            problems[key] = (f"{key} differs from the reference by up to {float(diff.max()):.3g} "
                             f"(worst at {key}{_entry(where)}: expected {float(expected[where]):.6g}, "
                             f"yours {float(actual[where]):.6g}; atol={atol:g}, rtol={rtol:g}){note}")
    return problems


def _values(a: np.ndarray) -> str:
    """``[[-0.077, 0.9077], [1.5, 2]]``: an array's entries to 4 significant digits, nested as its shape."""
    return f"{a.item():.4g}" if a.ndim == 0 else "[" + ", ".join(_values(x) for x in a) + "]"


def describe_inputs(inputs: Arrays, small: int = 4) -> str:
    """``x (2, 3), W (4, 3), L = 2``: each input's shape, and its value when it has at most ``small`` entries."""
    out = []
    for key, value in inputs.items():
        value = np.asarray(value)
        if value.size <= small and value.dtype.kind in "biufU":
            if value.dtype.kind == "U":
                shown = repr(str(value)) if not value.ndim else repr([str(v) for v in value.ravel()])
            else:
                shown = _values(value)
            out.append(f"{key} = {shown}")
        else:
            out.append(f"{key} {tuple(value.shape)}")
    return ", ".join(out)


def load_spec(assignment_id: str):
    """The spec module of an assignment, or None when it has no verified checks."""
    try:
        return importlib.import_module(f"autograder.specs.{assignment_id}")
    except ModuleNotFoundError as exc:
        if exc.name == f"autograder.specs.{assignment_id}":
            return None
        raise
