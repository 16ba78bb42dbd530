"""Builds submissions for grading round trips: honest, wrong, broken and hostile.

Each builder takes the released or source notebook and returns a new
notebook as nbgrader would collect it from a student.
"""

from __future__ import annotations

import html
import importlib
import io
import json
from pathlib import Path

import nbformat
import numpy as np

from autograder.config import RELEASE_DIR, REPO, SOURCE_DIR

# Every assignment with verified checks (autograder/specs/<ID>.py).
ALL_SPECS = sorted(p.stem for p in (REPO / "autograder" / "specs").glob("ps*.py"))


def source_nb(assignment_id: str):
    return nbformat.read(str(SOURCE_DIR / assignment_id / f"{assignment_id}.ipynb"), as_version=4)


def release_nb(assignment_id: str):
    return nbformat.read(str(RELEASE_DIR / assignment_id / f"{assignment_id}.ipynb"), as_version=4)


def grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def spec_of(assignment_id: str):
    return importlib.import_module(f"autograder.specs.{assignment_id}")


def solution_ids(assignment_id: str) -> list[str]:
    """Grade ids of the released notebook's solution code cells (the graded functions' names)."""
    return [grade_id(c) for c in release_nb(assignment_id).cells
            if c.get("metadata", {}).get("nbgrader", {}).get("solution") and c.cell_type == "code"]


def solved(assignment_id: str):
    """The released notebook with every solution cell filled in from the source."""
    src = {grade_id(c): c.source for c in source_nb(assignment_id).cells}
    nb = release_nb(assignment_id)
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            cell.source = "\n".join(line for line in src[grade_id(cell)].splitlines()
                                     if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
    return nb


def with_cell(nb, gid: str, source: str):
    for cell in nb.cells:
        if grade_id(cell) == gid:
            cell.source = source
            return nb
    raise KeyError(gid)


def append_code(nb, source: str, after: str | None = None):
    cell = nbformat.v4.new_code_cell(source)
    cell["id"] = f"student-{len(nb.cells)}"
    if after is None:
        nb.cells.append(cell)
    else:
        idx = [grade_id(c) for c in nb.cells].index(after)
        nb.cells.insert(idx + 1, cell)
    return nb


def write(root: Path, student: str, assignment_id: str, nb) -> Path:
    path = Path(root) / student / assignment_id / f"{assignment_id}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(nb, str):
        path.write_text(nb, encoding="utf-8")
    else:
        nbformat.write(nb, str(path))
    return path


def write_malformed(root: Path, student: str, assignment_id: str) -> Path:
    good = json.dumps(nbformat.v4.writes(release_nb(assignment_id)))
    return write(root, student, assignment_id, good[: len(good) // 2])


# A plausible mistake per assignment lives in tests/mistakes/<ID>.json:
# {"why": ..., "grade_id": solution cell, "replace": text, "with": replacement}.
# Grading it must give partial credit: more than 0, less than full marks.
MISTAKES_DIR = Path(__file__).resolve().parent / "mistakes"


def plausibly_wrong(assignment_id: str):
    path = MISTAKES_DIR / f"{assignment_id}.json"
    assert path.exists(), f"add a plausible mistake for {assignment_id} in {path}"
    spec = json.loads(path.read_text(encoding="utf-8"))
    gid, old, new = spec["grade_id"], spec["replace"], spec["with"]
    nb = solved(assignment_id)
    cell = next(c for c in nb.cells if grade_id(c) == gid)
    assert old in cell.source, f"{assignment_id}: mutation target {old!r} not in {gid}"
    cell.source = cell.source.replace(old, new)
    return nb


def hostile_batch(root: Path, assignment_id: str) -> dict[str, str]:
    """Write the adversarial submissions; returns {student: what it does}."""
    A = assignment_id
    first_solution = next(grade_id(c) for c in release_nb(A).cells
                          if c.get("metadata", {}).get("nbgrader", {}).get("solution"))
    write(root, "s01_full", A, solved(A))
    write(root, "s02_untouched", A, release_nb(A))
    write(root, "s03_wrong", A, plausibly_wrong(A))
    write_malformed(root, "s04_malformed", A)
    write(root, "s05_exit", A, append_code(solved(A), "import os\nos._exit(0)", after=first_solution))
    loop = "while True:\n    try:\n        while True:\n            pass\n    except KeyboardInterrupt:\n        pass"
    write(root, "s06_loop", A, append_code(solved(A), loop, after=first_solution))
    nb = release_nb(A)
    nb.cells = [c for c in nb.cells if not c.get("metadata", {}).get("nbgrader", {}).get("grade")]
    write(root, "s07_deleted_tests", A, nb)
    nb = release_nb(A)
    for c in nb.cells:
        if c.get("metadata", {}).get("nbgrader", {}).get("grade"):
            c.source = "print('all tests passed')"
    write(root, "s08_edited_tests", A, nb)
    nb = release_nb(A)
    for c in nb.cells:
        if c.get("metadata", {}).get("nbgrader", {}).get("grade"):
            c.source = "pass"
            del c.metadata["nbgrader"]
    write(root, "s09_stripped_metadata", A, nb)
    (root / "s10_missing" / A).mkdir(parents=True)
    nb = plausibly_wrong(A)
    forged = nbformat.v4.new_code_cell("print('all tests passed')")
    forged.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "points": 100,
                                   "grade_id": "extra_credit", "schema_version": 3}
    nb.cells.append(forged)
    write(root, "s11_forged_cell", A, nb)
    nb = plausibly_wrong(A)
    for c in nb.cells:
        if c.get("metadata", {}).get("nbgrader", {}).get("grade"):
            c.metadata["nbgrader"]["solution"] = True     # "grade me by hand"
            c.metadata["nbgrader"]["points"] = 100
    write(root, "s12_flags_flipped", A, nb)
    return {
        "s01_full": "the instructor's solution", "s02_untouched": "the release as handed out",
        "s03_wrong": "a plausible mistake", "s04_malformed": "truncated JSON",
        "s05_exit": "os._exit(0) in a cell", "s06_loop": "a loop that swallows KeyboardInterrupt",
        "s07_deleted_tests": "test cells deleted", "s08_edited_tests": "test cells rewritten",
        "s09_stripped_metadata": "test cells emptied and their nbgrader metadata stripped",
        "s10_missing": "no notebook at all",
        "s11_forged_cell": "a plausible mistake plus a forged test cell worth 100 points",
        "s12_flags_flipped": "a plausible mistake with every test cell turned into a 100-point solution cell",
    }


def through_npz(arrays: dict) -> dict:
    """Arrays as the sandbox receives them (and sends them back): saved and loaded as .npz, without pickles."""
    buf = io.BytesIO()
    np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def hidden_test_lines(assignment_id: str, longer_than: int = 20) -> list[str]:
    """Lines of the instructor's hidden tests that no feedback may show: longer than ``longer_than``, not also visible."""
    lines = []
    for cell in source_nb(assignment_id).cells:
        visible = {ln.strip() for ln in cell.source.split("### BEGIN HIDDEN TESTS")[0].splitlines()}
        for block in cell.source.split("### BEGIN HIDDEN TESTS")[1:]:
            lines += [ln.strip() for ln in block.split("### END HIDDEN TESTS")[0].splitlines()
                      if len(ln.strip()) > longer_than and ln.strip() not in visible]
    return lines


def leaked(page: str, lines: list[str]) -> list[str]:
    """The ``lines`` that appear in ``page``, as they are or HTML-escaped."""
    return [ln for ln in lines if ln in page or html.escape(ln) in page]
