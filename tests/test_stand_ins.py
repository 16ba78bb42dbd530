"""Blame the right function: while a part is graded, the notebook's other graded functions answer through
sealed stand-ins (autograder/sealed.py), and a function with several outputs earns a share per output.

* the sealed table answers exactly the calls a correct answer makes (to float32 precision) and nothing else,
  and says nothing about arguments or results to someone who does not present the arguments;
* every spec orders its parts so that a helper is graded before the functions built on it (its table reaches
  the sandbox only then), names only graded functions of its own notebook, and splits credit only over its
  real outputs;
* in the real jail: a mistake in a helper costs only the helper's points, a wrong output only its share, and
  a submission that starts a later part early to read its table loses the parts it skipped.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

import attacks
from autograder.parts import load_spec
from autograder.sealed import StandIns, seal, stand_in
from autograder.verify import draw_inputs, expected_outputs, run_batch
from submissions import ALL_SPECS, solved, with_cell

LIMITS = {"cell_timeout": 20, "part_timeout": 20, "memory_mb": 2048, "submission_timeout": 240}


def _student(x, y, scale=1.0):
    return ("student's", float(np.sum(x)))


def test_a_stand_in_answers_the_reference_for_the_calls_of_a_correct_answer():
    x, y = np.array([[0.1, -2.0], [3.0, 0.0]]), np.array([1.0, 2.0])
    table = seal([("f", (x, y, 1.0), {"z": np.arange(3.0), "n": 4, "none": None})])
    f = stand_in("f", _student, table)
    got = f(x * (1 + 1e-15), y, scale=1.0)            # another order of operations; a keyword; the default
    assert np.array_equal(got["z"], np.arange(3.0)) and got["n"] == 4 and got["none"] is None
    assert f(x, y)["n"] == 4                             # the default filled in
    assert f(-0.0 * x + x, [1.0, 2.0])["n"] == 4        # -0.0, and a list of numbers for an array
    assert f(x + 1e-3, y) == ("student's", float(np.sum(x + 1e-3)))   # a wrong argument: the student's own
    assert f(x, y, 2.0)[0] == "student's"


def test_an_unkeyable_or_unbindable_call_goes_to_the_student():
    table = seal([("g", (np.ones(2),), 5.0)])
    g = stand_in("g", lambda v: "own", table)
    assert g(lambda: 0) == "own"
    with pytest.raises(TypeError):
        g(np.ones(2), 3)                                 # the student's own error, as without a stand-in


def test_the_table_says_nothing_without_the_arguments():
    secret = np.array([0.123456789, 9.87654321])
    table = seal([("h", (np.array([1.0, 2.0]),), secret)])
    text = json.dumps(table)
    assert "0.123456789" not in text and "9.87654321" not in text and "1.0" not in text
    digest, sealed = next(iter(table.items()))
    assert len(digest) == 64 and "array" not in sealed


def test_stand_ins_come_and_go():
    ns: dict = {}
    exec("def helper(v):\n    return 'own'\n\ndef composite(v):\n    return helper(v)\n", ns)   # a notebook
    table = seal([("helper", (np.ones(2),), "reference")])
    with StandIns((ns,), ["helper", "not_defined"], table):
        assert ns["composite"](np.ones(2)) == "reference" and ns["composite"](np.zeros(2)) == "own"
        assert "not_defined" not in ns
    assert ns["composite"](np.ones(2)) == "own"


@pytest.mark.parametrize("assignment_id", ALL_SPECS)
def test_helpers_are_graded_before_the_functions_built_on_them(assignment_id):
    """A part's table reaches the sandbox only when the part starts, and starting it closes every earlier part
    (autograder/forkserver.py): so the helpers whose answers it holds must be graded before it."""
    spec = load_spec(assignment_id)
    if hasattr(spec, "prepare"):
        spec.prepare()
    order = [p.solution_id for p in spec.PARTS]
    inputs = draw_inputs(spec, 0)
    for k, part in enumerate(spec.PARTS):
        if part.stand_ins is None:
            continue
        names = {name for x in inputs[part.test_id] for name, _, _ in part.stand_ins(x)}
        assert names, f"{part.test_id}: stand_ins lists no call"
        unknown = names - set(order)
        assert not unknown, f"{part.test_id}: stand-ins for functions the notebook does not grade: {unknown}"
        later = [n for n in names if order.index(n) >= k]
        assert not later, f"{part.test_id}: its helpers {later} are graded after it (move their parts before it)"


# Outputs that say something about the answer without being one (a shape, an input left alone, a count the
# helpers give away): never a group of their own, or a stub that returns zeros would earn a share.
PROPERTIES = {"x_after", "input_modified", "pad_nonzero", "shape", "empty", "n", "n_keys", "infinite",
              "keys", "other_keys", "y_neg"}


@pytest.mark.parametrize("assignment_id", ALL_SPECS)
def test_credit_groups_cover_the_outputs_once_and_never_a_property_alone(assignment_id):
    from fnmatch import fnmatchcase

    spec = load_spec(assignment_id)
    if hasattr(spec, "prepare"):
        spec.prepare()
    expected = expected_outputs(spec, draw_inputs(spec, 0))
    for part in spec.PARTS:
        if not part.credit:
            continue
        for want in expected[part.test_id]:
            owners = {k: [g for g in part.credit if any(fnmatchcase(k, pat) for pat in g)] for k in want}
            assert all(len(o) == 1 for o in owners.values()), f"{part.test_id}: {owners}"
            for group in part.credit:
                keys = {k for k in want if any(fnmatchcase(k, pat) for pat in group)}
                assert keys and not keys <= PROPERTIES, f"{part.test_id}: the group {group} holds {keys}"
        assert part.share(list(expected[part.test_id][0]), set()) == 1.0
        assert part.share(list(expected[part.test_id][0]), set(expected[part.test_id][0])) == 0.0


# --------------------------------------------------------------------------
# In the jail
# --------------------------------------------------------------------------

def _mutated(assignment_id: str, grade_id: str, replace: str, with_: str):
    nb = solved(assignment_id)
    cell = next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)
    assert replace in cell.source
    return with_cell(nb, grade_id, cell.source.replace(replace, with_))


def _grade(assignment_id: str, notebooks: dict, seed: int = 7) -> dict:
    with tempfile.TemporaryDirectory(prefix="stand-ins-") as tmp:
        os.chmod(tmp, 0o755)
        results = dict(run_batch(assignment_id, load_spec(assignment_id), notebooks, jobs=2, seed=seed,
                                 limits=LIMITS, tmp=Path(tmp)))
    for student, result in results.items():
        assert not isinstance(result, Exception), f"{student}: {result}"
    return results


def _lost(result) -> dict:
    return {t: (earned, points) for t, (earned, points) in result.part_scores.items() if earned < points}


@pytest.fixture(scope="module")
def ps1_graded():
    A = "ps1_backprop"
    parts = [p.test_id for p in load_spec(A).PARTS]
    return _grade(A, {
        "solution": solved(A),
        "output_delta_without_1_over_N": _mutated(A, "output_delta", "(a_L - y) / N", "(a_L - y)"),
        "sigmoid_prime_of_z": _mutated(A, "sigmoid_prime", "return s * (1.0 - s)", "return z * (1.0 - z)"),
        "backprop_cost_without_half": _mutated(A, "backprop", "C = 0.5 * np.sum", "C = np.sum"),
        "steal_tables": with_cell(solved(A), "sigmoid_prime", next(
            c.source for c in solved(A).cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            == "sigmoid_prime") + "\n" + attacks.steal_tables(parts[-2])),
    })


def test_in_the_jail_a_helper_mistake_costs_only_the_helper(ps1_graded):
    assert not _lost(ps1_graded["solution"]), ps1_graded["solution"].part_messages
    assert set(_lost(ps1_graded["output_delta_without_1_over_N"])) == {"test_output_delta"}
    # sigmoid_prime is called by output_delta and backprop: both keep their points
    assert set(_lost(ps1_graded["sigmoid_prime_of_z"])) == {"test_sigmoid_prime"}


def test_in_the_jail_a_wrong_output_costs_only_its_share(ps1_graded):
    lost = _lost(ps1_graded["backprop_cost_without_half"])
    assert set(lost) == {"test_backprop"}
    earned, points = lost["test_backprop"]
    assert earned == pytest.approx(points * 2 / 3), lost      # the weight and bias gradients are right
    assert "C differs" in ps1_graded["backprop_cost_without_half"].part_messages["test_backprop"]


def test_starting_a_later_part_early_loses_the_parts_it_skips(ps1_graded):
    result = ps1_graded["steal_tables"]
    spec = load_spec("ps1_backprop")
    skipped = [p.test_id for p in spec.PARTS][:-2]
    assert all(result.part_scores[t][0] == 0 for t in skipped), result.part_scores
    assert result.score < ps1_graded["solution"].score


def test_in_the_jail_ps6_backward_is_graded_on_the_reference_cache():
    A = "ps6_lstm_gru"
    results = _grade(A, {
        "solution": solved(A),
        "concatenates_x_first": _mutated(A, "lstm_step_forward", "np.concatenate([h_prev, x_t], axis=1)",
                                         "np.concatenate([x_t, h_prev], axis=1)"),
    })
    assert not _lost(results["solution"]), results["solution"].part_messages
    assert set(_lost(results["concatenates_x_first"])) == {"test_lstm_step_forward"}
