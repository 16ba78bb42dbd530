"""Every graded part is sharp: a plausible wrong answer loses it on every seed, the solution keeps it.

The verified grader draws each part's inputs from the batch's seed (random unless ``--seed`` is
given), so a part that a wrong answer passes on *some* seeds is a lottery.  For every part of every
spec (autograder/specs/<ID>.py) and every seed in ``SEEDS`` this file checks that

* the instructor's solution passes every trial, and
* each mistake of tests/mistakes/parts/<ID>.json fails some trial.

It runs in this process, without nbgrader or a sandbox, the way the sandbox scores a submission:
the program of the solved notebook (``autograder.verify.program_cells``: locked cells as in the
source, solution cells, no test cells; IPython syntax transformed; a cell that raises is reported
and the next one runs) is executed once per assignment; the inputs come from
``autograder.verify.draw_inputs`` and travel through ``.npz`` as they do to the sandbox; the part's
``call`` runs in a copy of the namespace, the notebook's other graded functions answering through
their stand-ins (autograder/sealed.py); ``autograder.parts.differences`` judges the outputs against
``expected``, and ``Part.share`` the points (partial credit per output group).

A mistake is a textual mutation of one solution cell: {"part", "grade_id", "replace", "with", "why"}.
The whole program runs again with the mutated cell, as the sandbox would run it: every function
that calls the wrong one calls it.  The mistake must cost points of its own part on every seed and
no point of any other part (the stand-ins blame the function that contains it).  A
mistake that the spec's draws cannot see carries a "blind" note (why, and how the spec's
``make_inputs`` could see it); its test is expected to fail until the spec is fixed.  Every part
needs at least one mistake without such a note.
"""

from __future__ import annotations

import functools
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from autograder.config import assignment_ids
from autograder.parts import differences, joined, load_spec
from autograder.sealed import StandIns, seal
from autograder.verify import NOT_GRADED, draw_inputs, program_cells, source_info
from submissions import grade_id, solved, through_npz

SEEDS = range(20)
OTHER_SEEDS = range(5)        # where a mistake must cost no other part (every part, every trial: 5 seeds)
PARTS_DIR = Path(__file__).resolve().parent / "mistakes" / "parts"
ASSIGNMENTS = [a for a in assignment_ids() if load_spec(a) is not None]


def mistakes(assignment_id: str) -> list[dict]:
    path = PARTS_DIR / f"{assignment_id}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []


# --------------------------------------------------------------------------
# The solved program, and a mutated copy of it
# --------------------------------------------------------------------------

class _NoIPython:
    """get_ipython() while graded: magics and shell escapes do nothing (as in the sandbox)."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


_transform = TransformerManager().transform_cell


def _run_cell(source: str, ns: dict, name: str) -> str:
    """Execute one cell in ns; '' or the error it raised (the next cell runs either way)."""
    if source.lstrip().startswith(NOT_GRADED):
        return ""
    try:
        exec(compile(_transform(source), name, "exec"), ns)
    except Exception as exc:  # a cell that fails is reported, as the sandbox does
        return f"{name}: {type(exc).__name__}: {exc}"
    return ""


def _prepare(spec) -> None:
    """The spec's trusted set-up (ps3: the WordNet copy); skip where its data is missing."""
    if not hasattr(spec, "prepare"):
        return
    from course_lib.wordnet_data import WordNetNotFound

    try:
        spec.prepare()
    except WordNetNotFound as exc:
        pytest.skip(f"WordNet is missing (make setup installs it): {str(exc).splitlines()[0]}")


@functools.cache
def solution_sources(assignment_id: str) -> dict:
    """{grade id: source} of the solved notebook's solution cells."""
    return {grade_id(c): c.source for c in solved(assignment_id).cells
            if c.cell_type == "code" and c.get("metadata", {}).get("nbgrader", {}).get("solution")}


def _program(assignment_id: str, mistake: dict | None = None):
    """(namespace of the solved notebook's program, the errors of the cells that failed), one cell mutated."""
    _prepare(load_spec(assignment_id))
    nb = solved(assignment_id)
    ns = {"__name__": "__main__", "__builtins__": __builtins__, "get_ipython": _NoIPython}
    errors = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for label, source in program_cells(nb, source_info(assignment_id)):
            if mistake is not None and label.endswith(f"({mistake['grade_id']})"):
                source = source.replace(mistake["replace"], mistake["with"])
            errors.append(_run_cell(source, ns, f"<{assignment_id} {label}>"))
    return ns, [e for e in errors if e]


@functools.cache
def program(assignment_id: str):
    """(namespace of the solved notebook's program, the errors of the cells that failed)."""
    return _program(assignment_id)


def applies(assignment_id: str, mistake: dict) -> str:
    """'' when the mistake's text is in its solution cell; otherwise why it no longer applies."""
    source = solution_sources(assignment_id).get(mistake["grade_id"])
    if source is None:
        return f"{assignment_id} has no solution cell {mistake['grade_id']!r}"
    if mistake["replace"] not in source:
        return (f"{mistake['replace']!r} is not in the solution cell {mistake['grade_id']}: "
                f"the mistake '{mistake['why']}' no longer applies")
    return ""


def mutated(assignment_id: str, mistake: dict) -> dict:
    """The namespace of the whole program with the mistake's cell mutated, as the sandbox would run it:
    every function that calls the wrong one calls it (through its stand-in while graded)."""
    assert not (why := applies(assignment_id, mistake)), why
    wrong, errors = _program(assignment_id, mistake)
    _, before = program(assignment_id)
    new = [e for e in errors if e not in before]
    assert not any(f"({mistake['grade_id']})" in e for e in new), (
        f"the mutated cell itself fails, which is no plausible answer: {new}")
    return wrong


# --------------------------------------------------------------------------
# Inputs, reference answers and the score of one part
# --------------------------------------------------------------------------

def _as_sent_back(outputs) -> dict:
    """The outputs as the sandbox sends them back: numeric arrays (anything else as float64, or an error)."""
    if not isinstance(outputs, dict):
        raise TypeError(f"the check expected a dict of outputs, got {type(outputs).__name__}")
    arrays = {}
    for key, value in outputs.items():
        array = np.asarray(value)
        arrays[str(key)] = array if array.dtype.kind in "biuf" else np.asarray(value, dtype=np.float64)
    return arrays


@functools.cache
def drawn(assignment_id: str, seed: int) -> dict:
    """{test_id: [inputs of each trial]} for one seed, exactly as the grader draws them."""
    return draw_inputs(load_spec(assignment_id), seed)


@functools.cache
def expected(assignment_id: str, seed: int, test_id: str, trial: int) -> dict:
    part = _part(assignment_id, test_id)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return part.expected(drawn(assignment_id, seed)[test_id][trial])


def _part(assignment_id: str, test_id: str):
    return next(p for p in load_spec(assignment_id).PARTS if p.test_id == test_id)


@functools.cache
def sealed_table(assignment_id: str, seed: int, test_id: str, trial: int) -> tuple[tuple, dict]:
    """(helper names, sealed stand-in table) of one trial, as the sandbox receives them (autograder/sealed.py)."""
    part = _part(assignment_id, test_id)
    if part.stand_ins is None:
        return (), {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        calls = part.stand_ins(drawn(assignment_id, seed)[test_id][trial])
    return tuple(sorted({name for name, _, _ in calls})), seal(calls)


def score(ns: dict, assignment_id: str, test_id: str, seed: int) -> tuple[float, str]:
    """(share of the part's points earned at this seed, '' or why not: the first trial that fails).

    As in the sandbox: the part's helpers answer through their stand-ins, and an output group of
    ``Part.credit`` earns its share when it is right in every trial.
    """
    part = _part(assignment_id, test_id)
    code = compile(part.call, f"<check {test_id}>", "exec")
    wrong, why, keys = set(), "", ()
    for trial, inputs in enumerate(drawn(assignment_id, seed)[test_id]):
        want = expected(assignment_id, seed, test_id, trial)
        keys = want.keys()
        names, table = sealed_table(assignment_id, seed, test_id, trial)
        local = dict(ns)
        local["inputs"] = through_npz(inputs)
        try:
            with warnings.catch_warnings(), StandIns((ns, local), names, table):
                warnings.simplefilter("ignore")
                exec(code, local)
            got = _as_sent_back(local.get("outputs"))
        except Exception as exc:  # an error in the student's function costs the part
            wrong |= set(want)
            why = why or f"trial {trial}: {type(exc).__name__}: {exc}"
            continue
        problems = differences(part, got, want)
        wrong |= set(problems)
        if problems and not why:
            why = f"trial {trial}: {joined(part, problems)}"
    return part.share(keys, wrong), why


def verdict(ns: dict, assignment_id: str, test_id: str, seed: int) -> str:
    """'' when all of the part's points are earned at this seed; otherwise why not (the first trial that fails)."""
    return score(ns, assignment_id, test_id, seed)[1]


# --------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------

PARTS = [pytest.param(a, p.test_id, id=f"{a}-{p.test_id}") for a in ASSIGNMENTS for p in load_spec(a).PARTS]
# A mistake with a "blind" note is one the spec's draws cannot see (the note says why and how to fix the spec):
# it is expected to fail until the spec is fixed, and then the note must go.
MISTAKES = [pytest.param(a, k, m, id=f"{a}-{m['part']}-{k}",
                         marks=[pytest.mark.xfail(strict=True, reason=m["blind"])] if "blind" in m else [])
            for a in ASSIGNMENTS for k, m in enumerate(mistakes(a))]


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_every_part_has_a_mistake(assignment_id):
    parts = {p.test_id: p.solution_id for p in load_spec(assignment_id).PARTS}
    listed = mistakes(assignment_id)
    assert listed, f"add plausible mistakes for {assignment_id} in {PARTS_DIR / (assignment_id + '.json')}"
    unknown = sorted({m["part"] for m in listed} - set(parts))
    assert not unknown, f"{assignment_id}: mistakes for parts the spec does not have: {unknown}"
    missing = sorted(set(parts) - {m["part"] for m in listed if "blind" not in m})
    assert not missing, f"{assignment_id}: no plausible mistake that the grader sees for {missing}"
    for m in listed:   # checked here too, because the test of a "blind" mistake is expected to fail
        assert set(m) >= {"part", "grade_id", "replace", "with", "why"}, m
        assert m["replace"] != m["with"], m
        assert m["grade_id"] == parts[m["part"]], (
            f"{m['part']} grades {parts[m['part']]}, but its mistake '{m['why']}' mutates {m['grade_id']}")
        assert not (why := applies(assignment_id, m)), why


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_the_round_trip_mistake_is_one_of_the_list(assignment_id):
    """tests/mistakes/<ID>.json (the mistake of the grading round trips) is held to the same standard."""
    path = PARTS_DIR.parent / f"{assignment_id}.json"
    listed = {(m["grade_id"], m["replace"], m["with"]) for m in mistakes(assignment_id)}
    for m in (lambda d: d if isinstance(d, list) else [d])(json.loads(path.read_text(encoding="utf-8"))):
        assert (m["grade_id"], m["replace"], m["with"]) in listed, f"add '{m['why']}' to {PARTS_DIR / path.name}"


@pytest.mark.parametrize("assignment_id, test_id", PARTS)
def test_the_solution_keeps_the_part(assignment_id, test_id):
    ns, errors = program(assignment_id)
    lost = {seed: why for seed in SEEDS if (why := verdict(ns, assignment_id, test_id, seed))}
    assert not lost, (f"the solution loses {test_id} at seeds {sorted(lost)}: {next(iter(lost.values()))}"
                      + (f" (cells that failed: {errors})" if errors else ""))


@pytest.mark.parametrize("assignment_id, index, mistake", MISTAKES)
def test_the_mistake_loses_its_part_and_no_other(assignment_id, index, mistake):
    """Blame the right function: the mistake costs points of its own part on every seed, and (its helpers
    answering through their stand-ins) not a point of any other part, on OTHER_SEEDS."""
    wrong = mutated(assignment_id, mistake)
    kept = [seed for seed in SEEDS if not verdict(wrong, assignment_id, mistake["part"], seed)]
    assert not kept, (f"'{mistake['why']}' ({mistake['grade_id']}) still earns {mistake['part']} at seeds {kept} "
                      f"of {SEEDS.start}..{SEEDS.stop - 1}")
    blamed = {(p.test_id, seed): why for p in load_spec(assignment_id).PARTS if p.test_id != mistake["part"]
              for seed in OTHER_SEEDS if (why := verdict(wrong, assignment_id, p.test_id, seed))}
    assert not blamed, (f"'{mistake['why']}' ({mistake['grade_id']}) also costs points of "
                        f"{sorted({t for t, _ in blamed})}: {next(iter(blamed.items()))}")
