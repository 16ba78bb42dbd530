"""Every nbgrader door gives the verified score, and no door's feedback shows a hidden test.

For ps1, ps5 and ps8, one hostile batch (the solution, the untouched release, a
plausible mistake, one that calls the course's reference, one that patches
numpy's comparisons onto a mistake) is graded twice, in two work areas:

- through the course's door: ``python -m autograder grade`` and ``feedback``;
- through nbgrader's own: ``nbgrader generate_assignment``, ``nbgrader autograde
  ID --force``, ``nbgrader generate_feedback ID --force``, ``nbgrader export``,
  run from the repository root so that they read its ``nbgrader_config.py``
  (only the folders are moved, by nbgrader's own command-line options).

Both gradebooks, nbgrader's export and the CSV agree to the point with the
expected verified scores; every feedback page of both doors is grepped for the
hidden tests; nbgrader's output has none of its false warnings.
"""

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import attacks
from conftest import REPO
from submissions import (append_code, hidden_test_lines, leaked, plausibly_wrong, release_nb, solution_ids, solved,
                         spec_of, write)

DOORS = ["ps1_backprop", "ps5_rnn_bptt", "ps8_seq2seq_attention"]
SEED = "2026"
NBGRADER = str(Path(sys.executable).parent / "nbgrader")


def batch(A):
    blocked = [m for m in spec_of(A).GRADED if m.startswith("course_lib")]
    return {
        "full": solved(A),
        "untouched": release_nb(A),
        "wrong": plausibly_wrong(A),
        "call_reference": append_code(release_nb(A), attacks.call_reference(solution_ids(A), blocked)),
        "patch_comparisons": append_code(plausibly_wrong(A), attacks.patch_comparisons()),
    }


def gradebook_scores(db, A):
    from nbgrader.api import Gradebook

    with Gradebook(db) as gb:
        return {s.student.id: float(s.score) for s in gb.assignment_submissions(A)}


def nbgrader(*args, work):
    """An nbgrader command from the repository root (its nbgrader_config.py), folders moved into ``work``."""
    folders = [f"--CourseDirectory.{key}_directory={work / key}" for key in
               ("submitted", "autograded", "feedback", "release")]
    proc = subprocess.run([NBGRADER, *args, *folders, f"--CourseDirectory.db_url=sqlite:///{work / 'gradebook.db'}"],
                          cwd=REPO, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return proc.stdout + proc.stderr


@pytest.fixture(scope="module", params=DOORS)
def doors(request, tmp_path_factory):
    A = request.param
    tmp = tmp_path_factory.mktemp(A)
    subs = tmp / "subs"
    students = batch(A)
    for student, nb in students.items():
        write(subs, student, A, nb)

    course = tmp / "course"
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", A, "--submissions", subs, "--out",
                           tmp / "grades.csv", "--work-dir", course, "--seed", SEED, "--jobs", "2"],
                          cwd=REPO, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    subprocess.run([sys.executable, "-m", "autograder", "feedback", A, "--work-dir", course],
                   cwd=REPO, check=True, capture_output=True, timeout=600)
    with open(tmp / "grades.csv", newline="", encoding="utf-8") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}

    plain = tmp / "nbgrader"
    shutil.copytree(subs, plain / "submitted")
    logs = nbgrader("generate_assignment", A, "--force", work=plain)
    logs += nbgrader("autograde", A, "--force", f"--VerifiedExecute.seed={SEED}", work=plain)
    logs += nbgrader("generate_feedback", A, "--force", work=plain)
    nbgrader("export", "--to", str(plain / "export.csv"), work=plain)
    with open(plain / "export.csv", newline="", encoding="utf-8") as f:
        export = {r["student_id"]: r for r in csv.DictReader(f) if r["assignment"] == A}
    return {"A": A, "tmp": tmp, "rows": rows, "export": export, "logs": logs, "students": students,
            "course_db": f"sqlite:///{course / 'gradebook.db'}", "plain_db": f"sqlite:///{plain / 'gradebook.db'}",
            "pages": sorted((course / "feedback").rglob("*.html")) + sorted((plain / "feedback").rglob("*.html"))}


def test_the_verified_scores(doors):
    rows = doors["rows"]
    full = float(rows["full"]["max_score"])
    assert float(rows["full"]["score"]) == full > 0, rows["full"]
    assert float(rows["untouched"]["score"]) == 0, rows["untouched"]
    assert 0 < float(rows["wrong"]["score"]) < full, rows["wrong"]
    assert float(rows["call_reference"]["score"]) == 0, rows["call_reference"]
    assert float(rows["patch_comparisons"]["score"]) == float(rows["wrong"]["score"]), rows["patch_comparisons"]


def test_every_door_stores_the_same_scores(doors):
    A = doors["A"]
    csv_scores = {s: float(r["score"]) for s, r in doors["rows"].items()}
    assert gradebook_scores(doors["course_db"], A) == csv_scores
    assert gradebook_scores(doors["plain_db"], A) == csv_scores, "nbgrader autograde stored other scores"
    assert {s: float(r["score"]) for s, r in doors["export"].items()} == csv_scores, "nbgrader export differs"


def test_every_test_cell_has_an_output_so_nbgrader_cannot_default_to_full_credit(doors):
    """nbgrader gives full credit to a test cell without output: each one carries its verified score."""
    A = doors["A"]
    for work in (doors["tmp"] / "course", doors["tmp"] / "nbgrader"):
        for student in doors["students"]:
            nb = nbformat.read(str(work / "autograded" / student / A / f"{A}.ipynb"), as_version=4)
            tests = [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
                     and not c.metadata["nbgrader"].get("solution")]
            assert tests and all(o.output_type == "execute_result" for c in tests for o in c.outputs[-1:]), (work, student)
    from nbgrader.api import Gradebook

    for db in (doors["course_db"], doors["plain_db"]):
        with Gradebook(db) as gb:
            for student in doors["students"]:
                nb = gb.find_submission_notebook(A, A, student)
                tests = [g for g in nb.grades if g.cell_type == "code" and g.auto_score is not None]
                assert tests and all(not g.needs_manual_grade for g in tests), (db, student)


def test_a_test_cell_without_a_check_scores_nothing():
    from autograder.verify import Verified, verdict_outputs
    from nbgrader.utils import determine_grade

    res = Verified("x", 3.0, 3.0, "ok", "", {"test_a": (3.0, 3.0)}, {"test_a": ""}, {}, [])
    cell = nbformat.v4.new_code_cell("pass", metadata={"nbgrader": {"grade": True, "solution": False,
                                                                    "points": 2, "grade_id": "test_b"}})
    cell.outputs = verdict_outputs(res, "test_b", 2.0)
    assert determine_grade(cell) == (0.0, 2.0)
    cell.metadata["nbgrader"]["grade_id"] = "test_a"
    cell.metadata["nbgrader"]["points"] = 3
    cell.outputs = verdict_outputs(res, "test_a", 3.0)
    assert determine_grade(cell) == (3.0, 3.0)


def test_no_feedback_page_shows_a_hidden_test(doors):
    lines = hidden_test_lines(doors["A"])
    assert lines and len(doors["pages"]) == 2 * len(doors["students"]), doors["pages"]
    for page in doors["pages"]:
        text = page.read_text(encoding="utf-8")
        assert "Verified score" in text and "BEGIN HIDDEN TESTS" not in text, page
        found = leaked(text, lines)
        assert not found, f"{page}: {found[:3]}"


def test_nbgrader_says_nothing_false(doors):
    """No "checksum has changed" for untouched test cells, no kernel (so no "TCP without encryption")."""
    logs = doors["logs"]
    assert "has changed" not in logs, [ln for ln in logs.splitlines() if "has changed" in ln][:3]
    assert "without encryption" not in logs and "Traceback" not in logs, logs[-3000:]


def test_release_publishes_only_what_solutions_generate(tmp_path):
    """`nbgrader release_assignment` (formgrader's Release) refuses a release folder a student typed into."""
    from autograder.release import release_differences

    A = "ps1_backprop"
    release = tmp_path / "release"
    shutil.copytree(REPO / "notebooks" / "assignments" / A, release / A)
    typed = solved(A)  # a student's answers, typed into the working copy
    nbformat.write(typed, str(release / A / f"{A}.ipynb"))
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    args = [NBGRADER, "release_assignment", A, f"--CourseDirectory.release_directory={release}",
            f"--Exchange.root={exchange}", f"--CourseDirectory.db_url=sqlite:///{tmp_path / 'gb.db'}"]
    proc = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "not released" in proc.stderr and "was changed" in proc.stderr and "make release" in proc.stderr, proc.stderr
    assert not list(exchange.rglob("*.ipynb")), "something was published"

    shutil.rmtree(release / A)
    shutil.copytree(REPO / "notebooks" / "assignments" / A, release / A)
    proc = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    published = next(exchange.rglob(f"outbound/{A}")).parent
    assert release_differences(A, published) == [], "the published release is not a fresh generation"


def test_formgraders_server_keeps_no_idle_zygote():
    """In the Jupyter server a checker (its zygotes) closes once idle, never while a submission is graded."""
    import time

    from autograder.preprocessors import _Checkers

    class Fake:
        closed = False

        def close(self):
            self.closed = True

    checkers = _Checkers()
    checkers.idle_s = 0.2
    with checkers.use("ps1", lambda tmp: Fake()) as first:
        time.sleep(0.6)
        assert not first.closed, "closed while in use"
    with checkers.use("ps1", lambda tmp: Fake()) as again:
        assert again is first, "not reused"
    time.sleep(1.5)
    assert first.closed and not checkers._open
