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
defining ``PARTS`` (a list of :class:`Part`) and ``BLOCKED`` (the course_lib
modules a student may not import while graded: the references being graded),
and optionally ``PRELOAD`` (modules the worker imports once before forking)
and ``prepare()`` (run by the trusted parent before grading, e.g. to build a
data cache that the read-only sandbox will read).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
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


def compare(part: Part, got: Arrays, want: Arrays) -> str:
    """'' when ``got`` matches ``want``; otherwise a message saying what differs."""
    for key, expected in want.items():
        if key not in got:
            return f"{part.solution_id}: no value for {key!r} came back"
        actual = got[key]
        expected = np.asarray(expected, dtype=float)
        if actual.dtype.kind not in "fiub":
            return f"{part.solution_id}: {key} has dtype {actual.dtype}, expected numbers"
        if actual.shape != expected.shape:
            return f"{part.solution_id}: {key} has shape {actual.shape}, expected {expected.shape}"
        actual = actual.astype(float)
        if not np.all(np.isfinite(actual)):
            return f"{part.solution_id}: {key} contains NaN or inf"
        diff = np.abs(actual - expected)
        if np.any(diff > part.atol + part.rtol * np.abs(expected)):
            return (f"{part.solution_id}: {key} differs from the reference by up to {float(diff.max()):.3g} "
                    f"(atol={part.atol:g}, rtol={part.rtol:g})")
    return ""


def load_spec(assignment_id: str):
    """The spec module of an assignment, or None when it has no verified checks."""
    try:
        return importlib.import_module(f"autograder.specs.{assignment_id}")
    except ModuleNotFoundError as exc:
        if exc.name == f"autograder.specs.{assignment_id}":
            return None
        raise
