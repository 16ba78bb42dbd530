"""The verified grader: scores computed outside the student's kernel.

For every assignment with verified checks (autograder/specs/<ID>.py), a batch of
honest, broken and hostile submissions is graded once; each attack class must earn
nothing it did not earn, the batch must survive, the submissions and the
repository must be unchanged, and the gradebook and feedback must agree with the CSV.

ps1's batch is graded twice: by root (CI, a grading server), and by an unprivileged
user (``nobody``: an instructor without root), whose sandboxes live in user namespaces.
"""

import csv
import hashlib
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import attacks
from autograder.verify import source_info
from conftest import REPO
from submissions import (ALL_SPECS, append_code, hidden_test_lines, leaked, plausibly_wrong, release_nb, solution_ids,
                         solved, spec_of, write, write_malformed)

# The full attack battery runs on the two assignments the issue names; every other
# assignment with a spec is covered by the round trip in test_grading.py (verified engine)
# and by test_every_spec_covers_every_auto_graded_cell below.
VERIFIED = ["ps1_backprop", "ps5_rnn_bptt"]


def digest(paths):
    h = hashlib.sha256()
    for root in paths:
        for p in sorted(root.rglob("*")) if root.is_dir() else [root]:
            if p.is_file() and ".git" not in p.parts and "__pycache__" not in p.parts:
                h.update(str(p).encode())
                h.update(p.read_bytes())
    return h.hexdigest()


def build_batch(root, A):
    functions = solution_ids(A)
    blocked = [m for m in spec_of(A).GRADED if m.startswith("course_lib")]
    blocked_files = [str(REPO / (m.replace(".", "/") + ".py")) for m in blocked]
    first = functions[0]
    wrong = lambda: plausibly_wrong(A)  # noqa: E731
    batch = {
        "full": solved(A),
        "untouched": release_nb(A),
        "wrong": wrong(),
        "exit": append_code(solved(A), "import os\nos._exit(0)", after=first),
        "loop": append_code(solved(A), "while True:\n    try:\n        while True:\n            pass\n"
                                       "    except KeyboardInterrupt:\n        pass", after=first),
        "memory": append_code(solved(A), attacks.hog_memory(), after=first),
        "patch_comparisons": append_code(wrong(), attacks.patch_comparisons()),
        "patch_course_objects": append_code(wrong(), attacks.patch_course_objects()),
        "always_equal": append_code(solved(A), attacks.always_equal(functions)),
        "ipython_tricks": append_code(wrong(), attacks.ipython_tricks(), after=first),
        "read_write_outside": append_code(release_nb(A), attacks.read_and_write_outside(A, blocked_files)),
        "call_reference": append_code(release_nb(A), attacks.call_reference(functions, blocked)),
        "kill_everything": append_code(solved(A), attacks.kill_everything(), after=first),
    }
    nb = release_nb(A)
    for c in nb.cells:
        if c.get("metadata", {}).get("nbgrader", {}).get("grade"):
            c.source = "print('all tests passed')"
    batch["edited_tests"] = nb
    nb = wrong()
    nb.cells = [c for c in nb.cells if not c.get("metadata", {}).get("nbgrader", {}).get("grade")]
    batch["deleted_tests"] = nb
    nb = wrong()
    for c in nb.cells:
        if c.get("metadata", {}).get("nbgrader", {}).get("locked"):
            del c.metadata["nbgrader"]
    batch["stripped_metadata"] = nb
    for student, notebook in batch.items():
        write(root, student, A, notebook)
    write_malformed(root, "malformed", A)
    return set(batch) | {"malformed"}


# (assignment, the user who grades): every attack again as an unprivileged grader on ps1
GRADERS = [(A, "root") for A in VERIFIED] + [("ps1_backprop", "nobody")]


def unprivileged(cmd: list, user: str = "nobody") -> list:
    """``cmd`` run as ``user``, in a private mount namespace where this Python and the repository are reachable.

    Either may live under a directory ``user`` cannot enter (pyenv in /root, a
    clone made by ``mktemp -d``): for this command only, each such directory is
    covered with an open tmpfs into which its entries are bound back, so their
    own permissions still apply.
    """
    needed = [Path(sys.base_prefix).resolve(), REPO.resolve()]
    closed = sorted({d for path in needed for d in [*path.parents, path]
                     if not os.stat(d).st_mode & stat.S_IXOTH}, key=lambda d: len(d.parts))
    lines = ["set -e"]
    for d in closed:  # outer ones first: an inner one is reached through the outer's new tmpfs
        aside = tempfile.mkdtemp(prefix="closed-", dir="/tmp")
        lines += [f"mount --bind '{d}' '{aside}'", f"mount -t tmpfs -o mode=755 tmpfs '{d}'",
                  f"for e in '{aside}'/* '{aside}'/.[!.]*; do",
                  '  [ -e "$e" ] || continue',
                  f'  n="{d}/$(basename "$e")"',
                  '  if [ -d "$e" ]; then mkdir "$n"; else touch "$n"; fi',
                  '  mount --bind "$e" "$n"',
                  "done"]
    lines += ['cd "$PWD"', 'exec runuser -u "$0" -- "$@"']  # cd: the working directory through the new mounts
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", "\n".join(lines), user,
            *map(str, cmd)]


def user_namespaces_for(user: str) -> str:
    """Why ``user`` cannot grade in a user namespace here, or "" when it can."""
    if os.geteuid() != 0 or not (shutil.which("runuser") and shutil.which("unshare")):
        return "needs root, runuser and unshare to act as an unprivileged grader"
    probe = subprocess.run(unprivileged(["unshare", "--user", "--map-current-user", "--mount", "--net",
                                         sys.executable, "-c", "import autograder.sandbox"], user),
                           cwd=REPO, capture_output=True, text=True)
    return "" if probe.returncode == 0 else (
        f"{user} cannot run this Python in a user namespace (does the kernel refuse unprivileged user "
        f"namespaces?): {probe.stderr[-300:]}")


@pytest.fixture(scope="module", params=GRADERS, ids=[f"{a}-{u}" for a, u in GRADERS])
def graded(request, tmp_path_factory):
    A, user = request.param
    if user == "root":
        tmp = tmp_path_factory.mktemp(f"verified-{A}")
        as_user = list
    else:
        why = user_namespaces_for(user)
        if why:
            pytest.skip(why)
        # pytest's temporary folders are private to root: this one is open to the grader
        tmp = Path(tempfile.mkdtemp(prefix=f"verified-{A}-{user}-", dir="/tmp"))
        tmp.chmod(0o777)
        request.addfinalizer(lambda: shutil.rmtree(tmp, ignore_errors=True))
        as_user = lambda cmd: unprivileged(["env", f"HOME={tmp}", *cmd], user)  # noqa: E731
    subs = tmp / "submitted"
    students = build_batch(subs, A)
    watched = [subs, REPO / "course_lib", REPO / "README.md", REPO / "solutions"]
    before = digest(watched)
    out = tmp / "grades.csv"
    db = f"sqlite:///{tmp / 'gradebook.db'}"
    proc = subprocess.run(as_user([sys.executable, "-m", "autograder", "grade", A, "--submissions", subs,
                                   "--out", out, "--jobs", "2", "--timeout", "8", "--student-timeout", "90",
                                   "--db", db, "--work-dir", tmp / "work",
                                   "--seed", "2026"]),
                          cwd=REPO, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(out, newline="", encoding="utf-8") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    info = source_info(A)
    return {"A": A, "rows": rows, "students": students, "tmp": tmp, "db": db, "before": before,
            "watched": watched, "full": sum(info.points.values()), "stderr": proc.stderr}


def score(graded, student):
    return float(graded["rows"][student]["score"])


def test_every_submission_has_a_row(graded):
    assert set(graded["rows"]) == graded["students"]


def test_honest_scores(graded):
    full = graded["full"]
    assert score(graded, "full") == full, graded["rows"]["full"]
    assert score(graded, "untouched") == 0
    assert 0 < score(graded, "wrong") < full
    assert graded["rows"]["full"]["status"] == "ok"
    # namespaces (root) or user namespaces (nobody): full isolation, so the CSV has no isolation note
    assert "isolation" not in graded["rows"]["full"]["message"], graded["rows"]["full"]


@pytest.mark.parametrize("student,status", [("exit", "crashed"), ("loop", "timeout")])
def test_a_dead_or_stuck_cell_costs_only_itself(graded, student, status):
    row = graded["rows"][student]
    assert row["status"] == status, row
    assert "was skipped" in row["message"], row
    assert score(graded, student) == graded["full"], row


def test_memory_cap(graded):
    assert score(graded, "memory") == graded["full"], graded["rows"]["memory"]


@pytest.mark.parametrize("student", ["patch_comparisons", "patch_course_objects", "ipython_tricks",
                                     "deleted_tests", "stripped_metadata"])
def test_attacks_on_a_wrong_solution_earn_nothing_extra(graded, student):
    if student == "ipython_tricks":   # cells run in a real IPython shell: its input transformers hurt only itself
        assert score(graded, student) <= score(graded, "wrong"), graded["rows"][student]
    else:
        assert score(graded, student) == score(graded, "wrong"), graded["rows"][student]


@pytest.mark.parametrize("student", ["always_equal", "edited_tests", "read_write_outside", "call_reference"])
def test_attacks_on_no_solution_earn_nothing(graded, student):
    assert score(graded, student) == 0, graded["rows"][student]


def test_calling_the_reference_says_why(graded):
    assert "is not available while" in graded["rows"]["call_reference"]["message"]


def test_killing_processes_does_not_hurt_the_batch(graded):
    assert score(graded, "kill_everything") == graded["full"], graded["rows"]["kill_everything"]


def test_malformed(graded):
    row = graded["rows"]["malformed"]
    assert row["status"] == "malformed" and score(graded, "malformed") == 0


def test_submissions_and_repository_unchanged(graded):
    assert digest(graded["watched"]) == graded["before"]


def test_gradebook_holds_the_verified_scores(graded):
    from nbgrader.api import Gradebook

    with Gradebook(graded["db"]) as gb:
        for student in ("full", "wrong", "patch_comparisons"):
            # the CSV's score is the gradebook's, to the hundredth it is written with (partial credit: 2.67 of 4)
            assert round(gb.find_submission(graded["A"], student).score, 2) == score(graded, student)
            # auto-graded test cells are done: formgrader must not list them as needing a grader
            notebook = gb.find_submission_notebook(graded["A"], graded["A"], student)
            tests = [g for g in notebook.grades if g.cell_type == "code"]
            assert tests and not any(g.needs_manual_grade for g in tests), student


def test_feedback_shows_verified_scores_without_hidden_tests(graded):
    A = graded["A"]
    subprocess.run([sys.executable, "-m", "autograder", "feedback", A, "--db", graded["db"],
                    "--work-dir", graded["tmp"] / "work"], cwd=REPO, check=True, capture_output=True)
    page = (graded["tmp"] / "work" / "feedback" / "wrong" / A / f"{A}.html").read_text(encoding="utf-8")
    assert "Verified score" in page
    lines = hidden_test_lines(A, longer_than=25)
    assert lines and not leaked(page, lines), leaked(page, lines)[:3]


@pytest.mark.parametrize("assignment_id", ALL_SPECS)
def test_every_spec_covers_every_auto_graded_cell(assignment_id):
    info = source_info(assignment_id)
    covered = {part.test_id for part in spec_of(assignment_id).PARTS}
    assert covered == set(info.points), (
        f"auto-graded test cells without a verified check: {sorted(set(info.points) - covered)}; "
        f"checks for cells that are not graded: {sorted(covered - set(info.points))}")
