"""The visible tests catch the plausible mistakes: each one of tests/mistakes/parts/<ID>.json fails a visible test.

A student sees only the visible part of each test cell before grading; a mistake that passes it is
found only when the points are gone.  For every assignment, the solved notebook is run in this
process with the hidden tests cut out of every test cell: it must pass every visible test, and each
mistake (the same textual mutation of one solution cell that tests/test_sharp_parts.py grades) must
make some visible test cell fail.  A mistake no visible test can see by design carries a
``visible_blind`` note (ps8's quiz letters: their visible tests check the form of the answer only).
"""

from __future__ import annotations

import contextlib
import io
import json
import warnings
from pathlib import Path

import pytest
from IPython.core.inputtransformer2 import TransformerManager

from submissions import ALL_SPECS, solved

PARTS_DIR = Path(__file__).resolve().parent / "mistakes" / "parts"
_TRANSFORM = TransformerManager()


def first_failing_test(nb, grade_id: str | None = None, replace: str = "", with_: str = "") -> str | None:
    """Run the notebook's code (hidden tests cut out); the grade id of the first visible test that fails, or None."""
    namespace: dict = {}
    for cell in nb.cells:
        if cell.cell_type != "code" or "google.colab" in cell.source:
            continue
        meta = cell.metadata.get("nbgrader", {})
        source = cell.source.split("### BEGIN HIDDEN TESTS")[0]
        if grade_id is not None and meta.get("grade_id") == grade_id:
            assert replace in source, f"the mistake does not apply to {grade_id}: {replace!r}"
            source = source.replace(replace, with_)
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
                    warnings.catch_warnings():
                warnings.simplefilter("ignore")
                exec(compile(_TRANSFORM.transform_cell(source), meta.get("grade_id", "cell"), "exec"), namespace)
        except BaseException:   # noqa: BLE001  (a mistake may raise anything; a demo cell may need IPython)
            if meta.get("grade") and not meta.get("solution"):
                return meta["grade_id"]
    return None


@pytest.mark.parametrize("assignment_id", ALL_SPECS)
def test_every_plausible_mistake_fails_a_visible_test(assignment_id):
    nb = solved(assignment_id)
    assert first_failing_test(nb) is None, f"{assignment_id}: the solution fails {first_failing_test(nb)}"
    mistakes = json.loads((PARTS_DIR / f"{assignment_id}.json").read_text(encoding="utf-8"))
    missed = [m["why"] for m in mistakes if "visible_blind" not in m
              and first_failing_test(solved(assignment_id), m["grade_id"], m["replace"], m["with"]) is None]
    assert not missed, f"{assignment_id}: mistakes every visible test lets through: {missed}"
