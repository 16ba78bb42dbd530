"""Grading round trips through `python -m autograder grade` and `feedback`.

For every assignment: the instructor's solution scores full marks, the untouched
release scores 0, a plausible mistake scores partial credit.  For ps1, a hostile
batch (malformed JSON, os._exit, an interrupt-proof loop, deleted / edited /
stripped test cells, a missing notebook) each gets a row with a status, earns no
points it did not earn, and the rest of the batch is still graded.
tests/test_verified.py and tests/test_jail.py attack the verified engine further;
tests/test_nbgrader_doors.py checks that nbgrader's own commands give the same scores.
"""

import csv
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.config import assignment_ids
from conftest import REPO
from submissions import hidden_test_lines, hostile_batch, leaked, plausibly_wrong, release_nb, solved, write

HOSTILE_ID = "ps1_backprop"


def run_cli(*args, check=True):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, check=check, timeout=900)


def auto_points(assignment_id):
    """Points of the auto-graded test cells (manually graded answers are not in an autograde score)."""
    import nbformat

    nb = nbformat.read(str(REPO / "solutions" / assignment_id / f"{assignment_id}.ipynb"), as_version=4)
    return sum(float(c.metadata["nbgrader"].get("points", 0)) for c in nb.cells
               if c.get("metadata", {}).get("nbgrader", {}).get("grade")
               and not c.metadata["nbgrader"].get("solution"))


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def tree_digest(root):
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.mark.parametrize("assignment_id", assignment_ids())
def test_round_trip(assignment_id, tmp_path):
    subs = tmp_path / "submitted"
    write(subs, "full", assignment_id, solved(assignment_id))
    write(subs, "untouched", assignment_id, release_nb(assignment_id))
    write(subs, "wrong", assignment_id, plausibly_wrong(assignment_id))
    out = tmp_path / "grades.csv"
    run_cli("grade", assignment_id, "--submissions", subs, "--out", out, "--work-dir", tmp_path / "work",
            "--seed", "2026")
    rows = read_csv(out)
    auto_max = auto_points(assignment_id)
    assert auto_max > 0
    assert all(r["status"] == "ok" for r in rows.values()), rows
    assert float(rows["full"]["score"]) == auto_max, rows["full"]
    assert float(rows["untouched"]["score"]) == 0
    assert 0 < float(rows["wrong"]["score"]) < auto_max


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    subs = tmp / "submitted"
    kinds = hostile_batch(subs, HOSTILE_ID)
    before = tree_digest(subs)
    out = tmp / "grades.csv"
    db = f"sqlite:///{tmp / 'elsewhere.db'}"
    proc = run_cli("grade", HOSTILE_ID, "--submissions", subs, "--out", out, "--jobs", "2",
                   "--timeout", "5", "--student-timeout", "45", "--db", db, "--work-dir", tmp / "work")
    return {"rows": read_csv(out), "kinds": kinds, "subs": subs, "before": before, "tmp": tmp,
            "db": db, "stdout": proc.stdout}


def test_every_submission_gets_a_row(hostile):
    assert set(hostile["rows"]) == set(hostile["kinds"])
    for row in hostile["rows"].values():
        assert row["assignment"] == HOSTILE_ID
        assert float(row["max_score"]) == float(hostile["rows"]["s01_full"]["max_score"]) > 0


def test_honest_rows(hostile):
    rows = hostile["rows"]
    full = float(rows["s01_full"]["max_score"])
    assert (rows["s01_full"]["status"], float(rows["s01_full"]["score"])) == ("ok", full)
    assert float(rows["s02_untouched"]["score"]) == 0
    assert 0 < float(rows["s03_wrong"]["score"]) < full


@pytest.mark.parametrize("student,status,needle,points", [
    ("s04_malformed", "malformed", "not valid JSON", "none"),
    ("s05_exit", "crashed", "ended the process", "all"),    # the cell is skipped, the rest is graded
    ("s06_loop", "timeout", "ignored the interrupt", "all"),
    ("s10_missing", "missing", "no notebook", "none"),
])
def test_broken_submissions_get_a_status(hostile, student, status, needle, points):
    row = hostile["rows"][student]
    assert row["status"] == status, row
    assert needle in row["message"], row
    assert float(row["score"]) == (float(row["max_score"]) if points == "all" else 0), row


@pytest.mark.parametrize("student", ["s07_deleted_tests", "s08_edited_tests", "s09_stripped_metadata"])
def test_tampered_tests_earn_nothing(hostile, student):
    row = hostile["rows"][student]
    assert float(row["score"]) == 0, f"{hostile['kinds'][student]}: {row}"


@pytest.mark.parametrize("student", ["s11_forged_cell", "s12_flags_flipped"])
def test_forged_nbgrader_metadata_changes_nothing(hostile, student):
    """nbgrader crashed on these ("KeyError: 'grade_id'", "Inconsistent checksums"): now they score as the mistake."""
    row, wrong = hostile["rows"][student], hostile["rows"]["s03_wrong"]
    assert (row["status"], row["score"], row["max_score"]) == ("ok", wrong["score"], wrong["max_score"]), row


def test_deleted_tests_are_restored_and_reported(hostile):
    assert "restored deleted test cells: test_" in hostile["rows"]["s07_deleted_tests"]["message"]


def test_submissions_are_never_modified(hostile):
    assert tree_digest(hostile["subs"]) == hostile["before"]


def test_scores_are_in_the_gradebook(hostile):
    from nbgrader.api import Gradebook

    with Gradebook(hostile["db"]) as gb:
        sub = gb.find_submission(HOSTILE_ID, "s01_full")
        assert sub.score == sub.max_score == float(hostile["rows"]["s01_full"]["max_score"])
        assert gb.find_submission(HOSTILE_ID, "s03_wrong").score == float(hostile["rows"]["s03_wrong"]["score"])


def test_feedback_hides_hidden_tests(hostile):
    proc = run_cli("feedback", HOSTILE_ID, "--db", hostile["db"], "--work-dir", hostile["tmp"] / "work")
    pages = sorted((hostile["tmp"] / "work" / "feedback").rglob("*.html"))
    assert {p.parent.parent.name for p in pages} >= {"s01_full", "s02_untouched", "s03_wrong"}, proc.stdout
    hidden_lines = hidden_test_lines(HOSTILE_ID, longer_than=25)
    assert hidden_lines
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "Score:" in html and "Verified score" in html
        assert "BEGIN HIDDEN TESTS" not in html
        found = leaked(html, hidden_lines)
        assert not found, f"{page}: hidden test lines in feedback: {found[:3]}"
    wrong = (hostile["tmp"] / "work" / "feedback" / "s03_wrong" / HOSTILE_ID / f"{HOSTILE_ID}.html")
    assert "differs from the reference" in wrong.read_text(encoding="utf-8")


def test_validate_does_not_call_visible_tests_a_success(tmp_path):
    """`nbgrader validate` (and the Validate button) says that only the visible tests ran."""
    path = write(tmp_path, "me", HOSTILE_ID, solved(HOSTILE_ID))
    nbgrader = str(Path(sys.executable).parent / "nbgrader")
    proc = subprocess.run([nbgrader, "validate", str(path)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert "this is not your score" in proc.stdout, proc.stdout + proc.stderr
    assert "Success!" not in proc.stdout
