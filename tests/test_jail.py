"""The grading jail, attacked as a student who has read the grader's source would (issue: hardened grading).

One batch of ps1, graded with one worker so that every attack follows an honest
student in the same jail: copying a classmate through the environment and the
working directories, reading earlier students' code out of memory, loading the
reference from another copy on disk, forging and flooding the result channel,
processes that try to outlive the submission, a fork bomb.  And the other side:
correct answers written as Jupyter would run them (cell magics, ``display``, slow
cells that nbgrader would interrupt, float32 results) keep their points, and a
syntax error is named by cell and line.  Then six copies of every assignment's
solution, graded with the default ``--jobs`` on two seeds, all get full marks.
"""

import csv
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import nbformat
import pytest

import attacks
from autograder.release import GRADED_NOTE_ID, graded_note
from autograder.verify import source_info
from conftest import REPO
from submissions import ALL_SPECS, append_code, grade_id, release_nb, solution_ids, solved, spec_of, write

A = "ps1_backprop"
MARKER = f"escape-marker-{uuid.uuid4().hex[:8]}"
needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed (make setup)")


def with_magics(nb):
    """Every solution cell as a student who times things writes it; one captured; a display() cell."""
    first = True
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution") and cell.cell_type == "code":
            cell.source = ("%%capture captured\n" if first else "%%time\n") + cell.source
            first = False
    nb = append_code(nb, "%matplotlib inline\nimport matplotlib.pyplot as plt\nplt.plot([1, 2]); plt.show()")
    return append_code(nb, "from IPython.display import display\ndisplay('hello')\ndisplay(np.zeros(2))\n"
                           "%timeit -n1 -r1 sum(range(10))\n_files = !ls /")


def with_syntax_error(nb, gid):
    for cell in nb.cells:
        if grade_id(cell) == gid:
            cell.source += "\n\ndef oops(:\n    pass\n"
    return nb


def processes_with(text: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if text.encode() in (proc / "cmdline").read_bytes():
                    found.append(proc.name)
            except OSError:
                pass
    return found


# Runs a command and writes the peak memory (KiB) of it and of every process it waited for into a file.
PEAK = ("import resource, subprocess, sys; rc = subprocess.call(sys.argv[2:]); "
        "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); sys.exit(rc)")


def run_grader(A, subs, tmp, *args, env=None, cwd=REPO):
    out = tmp / "grades.csv"
    proc = subprocess.run([sys.executable, "-c", PEAK, tmp / "peak_kib",
                           sys.executable, "-m", "autograder", "grade", A, "--submissions", subs, "--out", out,
                           "--db", f"sqlite:///{tmp / 'gradebook.db'}", "--work-dir", tmp / "work", *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(out, newline="", encoding="utf-8") as f:
        return {r["student"]: r for r in csv.DictReader(f)}


@pytest.fixture(scope="module")
def jailed(tmp_path_factory):
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed (make setup)")
    tmp = tmp_path_factory.mktemp("jail")
    subs = tmp / "submitted"
    functions = solution_ids(A)
    first = functions[0]
    stems = sorted({m.rsplit(".", 1)[-1] for m in spec_of(A).GRADED if m.startswith("course_lib")})
    shutil.copytree(REPO / "course_lib", tmp / "another_clone" / "course_lib")   # a second copy on disk
    batch = {
        "a_full": solved(A),
        "b_scan_memory": append_code(release_nb(A), attacks.scan_memory(functions)),
        "c_copy_classmate": append_code(release_nb(A), attacks.copy_classmate(A)),
        "d_other_copies": append_code(release_nb(A), attacks.load_other_copies(stems, functions)),
        "e_forge": append_code(solved(A), attacks.forge_results([p.test_id for p in spec_of(A).PARTS]), after=first),
        "f_flood": append_code(solved(A), attacks.flood_one_line(), after=first),
        "g_escape": append_code(solved(A), attacks.escape(MARKER), after=first),
        "h_close_and_sleep": append_code(solved(A), attacks.close_pipes_and_sleep(), after=first),
        "i_magics": with_magics(solved(A)),
        "j_slow": solved(A),
        "k_syntax": with_syntax_error(solved(A), "affine_forward"),
        "l_float32": append_code(solved(A), attacks.as_float32(functions)),
        "m_full_last": solved(A),
    }
    for _ in range(5):
        append_code(batch["j_slow"], "import time\ntime.sleep(600)", after=first)
    for student, nb in batch.items():
        write(subs, student, A, nb)
    # what `make grade` and a shell leave in the environment: all of it names the submissions
    env = dict(os.environ, SUBMISSIONS=str(subs), OUT=str(tmp / "grades.csv"), OLDPWD=str(subs / "a_full"),
               PWD=str(subs), MAKEFLAGS=f"SUBMISSIONS={subs} OUT={tmp}/x.csv", INIT_CWD=str(tmp))
    submitted = {p: p.read_bytes() for p in subs.rglob("*.ipynb")}
    rows = run_grader(A, subs, tmp, "--jobs", "1", "--timeout", "4", "--seed", "7", env=env, cwd=subs)
    peak_mb = int((tmp / "peak_kib").read_text()) / 1024     # the grader, its jail and every sandbox
    return {"rows": rows, "tmp": tmp, "full": sum(source_info(A).points.values()), "peak_mb": peak_mb,
            "submitted": submitted, "subs": subs}


def test_submissions_are_byte_identical_after_the_attacks(jailed):
    assert {p: p.read_bytes() for p in jailed["subs"].rglob("*.ipynb")} == jailed["submitted"]


def score(jailed, student):
    return float(jailed["rows"][student]["score"])


def test_honest_students_around_the_attacks_keep_full_marks(jailed):
    for student in ("a_full", "m_full_last"):
        assert score(jailed, student) == jailed["full"], jailed["rows"][student]
        assert "isolation" not in jailed["rows"][student]["message"], jailed["rows"][student]


@pytest.mark.parametrize("student", ["b_scan_memory", "c_copy_classmate", "d_other_copies"])
def test_no_code_from_classmates_memory_or_other_copies(jailed, student):
    assert score(jailed, student) == 0, jailed["rows"][student]


def test_visible_tests_run_in_the_grader_without_tripping_the_block(jailed):
    nb = nbformat.read(str(jailed["tmp"] / "work" / "autograded" / "a_full" / A / f"{A}.ipynb"), as_version=4)
    outputs = ["".join(o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in c.get("outputs", []))
               for c in nb.cells
               if c.get("metadata", {}).get("nbgrader", {}).get("grade")
               and not c.get("metadata", {}).get("nbgrader", {}).get("solution")]
    assert outputs and all("visible tests passed" in text for text in outputs), outputs
    assert not any("Error" in text for text in outputs), outputs


@pytest.mark.parametrize("student", ["e_forge", "f_flood"])
def test_forged_or_flooded_results_earn_nothing_and_the_grader_stays_small(jailed, student):
    assert score(jailed, student) <= jailed["full"]
    assert jailed["rows"][student]["status"] in ("ok", "error", "crashed", "timeout"), jailed["rows"][student]
    # a 256 MiB deflated array and a header declaring 8 GiB never reach np.load in the trusted grader
    assert jailed["peak_mb"] < 900, jailed["peak_mb"]


def test_flooding_one_line_costs_only_that_cell(jailed):
    row = jailed["rows"]["f_flood"]
    assert score(jailed, "f_flood") == jailed["full"], row
    assert "MiB in one result" in row["message"], row


@pytest.mark.parametrize("student", ["g_escape", "h_close_and_sleep"])
def test_processes_die_with_their_submission(jailed, student):
    assert score(jailed, student) == jailed["full"], jailed["rows"][student]
    assert processes_with(MARKER) == []
    assert processes_with("grader_sandbox") == []


def test_cell_magics_and_display_run_as_in_jupyter(jailed):
    assert score(jailed, "i_magics") == jailed["full"], jailed["rows"]["i_magics"]


def test_slow_cells_are_interrupted_and_grading_goes_on(jailed):
    row = jailed["rows"]["j_slow"]
    assert score(jailed, "j_slow") == jailed["full"], row
    assert row["status"] == "ok" and row["message"].count("was interrupted") == 5, row


def test_a_syntax_error_names_the_cell_and_line(jailed):
    row = jailed["rows"]["k_syntax"]
    assert "(affine_forward): SyntaxError at line" in row["message"], row
    assert 0 < score(jailed, "k_syntax") < jailed["full"], row


def test_float32_results_are_accepted_within_float32_precision(jailed):
    assert score(jailed, "l_float32") == jailed["full"], jailed["rows"]["l_float32"]


@needs_bwrap
def test_a_helper_from_a_graded_module_stays_importable(tmp_path):
    """ps5 grades rnn_step & co.: course_lib.rnn.softmax, which it does not grade, may be imported."""
    A5 = "ps5_rnn_bptt"
    nb = solved(A5)
    for cell in nb.cells:
        if grade_id(cell) == "rnn_forward":
            cell.source = "from course_lib.rnn import softmax\n" + cell.source
    write(tmp_path / "subs", "helper", A5, nb)
    nb = solved(A5)
    nb = append_code(nb, "import course_lib.rnn\nfrom course_lib.clipping import rnn_states")
    write(tmp_path / "subs", "imports_graded", A5, nb)
    rows = run_grader(A5, tmp_path / "subs", tmp_path, "--seed", "3")
    full = sum(source_info(A5).points.values())
    assert float(rows["helper"]["score"]) == full, rows["helper"]
    assert float(rows["imports_graded"]["score"]) == full, rows["imports_graded"]   # importing costs nothing...
    nb = solved(A5)
    nb = append_code(nb, "from course_lib.rnn import rnn_bptt")   # ...using it does, with the reason
    for cell in nb.cells:
        if grade_id(cell) == "rnn_bptt":
            cell.source = "from course_lib.rnn import rnn_bptt\n"
    write(tmp_path / "subs2", "uses_graded", A5, nb)
    rows = run_grader(A5, tmp_path / "subs2", tmp_path / "b", "--seed", "3")
    assert float(rows["uses_graded"]["score"]) < full, rows["uses_graded"]
    assert "is not available while ps5_rnn_bptt is graded" in rows["uses_graded"]["message"], rows["uses_graded"]


@pytest.mark.parametrize("assignment_id", ALL_SPECS)
def test_each_release_says_what_cannot_be_imported_while_graded(assignment_id):
    nb = release_nb(assignment_id)
    cells = [c for c in nb.cells if grade_id(c) == GRADED_NOTE_ID]
    assert len(cells) == 1 and cells[0].source == graded_note(spec_of(assignment_id).GRADED), (
        "run `python -m autograder release` to write the note from the spec's GRADED")


@needs_bwrap
@pytest.mark.parametrize("seed", [11, 12])
@pytest.mark.parametrize("assignment_id", ALL_SPECS)
def test_six_copies_of_the_solution_all_get_full_marks(assignment_id, seed, tmp_path):
    subs = tmp_path / "subs"
    for k in range(6):
        write(subs, f"copy{k}", assignment_id, solved(assignment_id))
    rows = run_grader(assignment_id, subs, tmp_path, "--seed", str(seed))   # default --jobs: every core
    full = sum(source_info(assignment_id).points.values())
    bad = {s: (r["score"], r["status"], r["message"]) for s, r in rows.items()
           if float(r["score"]) != full or r["status"] != "ok"}
    assert not bad and len(rows) == 6, bad
    # the visible tests ran in the grader too, without tripping over what the jail leaves out
    nb = nbformat.read(str(tmp_path / "work" / "autograded" / "copy0" / assignment_id / f"{assignment_id}.ipynb"),
                       as_version=4)
    text = lambda o: o.get("text", "") or o.get("data", {}).get("text/plain", "")  # noqa: E731
    tests = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade") and c.cell_type == "code"
             and not c.metadata["nbgrader"].get("solution")]
    assert tests and all("Verified score" in "".join(map(text, c.get("outputs", []))) for c in tests)
    broken = {grade_id(c): "".join(map(text, c.get("outputs", [])))[-300:] for c in tests
              if any("Error" in text(o) for o in c.get("outputs", []))}
    assert not broken, broken


@needs_bwrap
@pytest.mark.parametrize("assignment_id", ALL_SPECS)
def test_every_assignment_keeps_classmates_and_references_out(assignment_id, tmp_path):
    """The attacks that apply everywhere, on every assignment, each after an honest student in the same jail."""
    functions = solution_ids(assignment_id)
    stems = sorted({m.rsplit(".", 1)[-1] for m in spec_of(assignment_id).GRADED if m.startswith("course_lib")})
    subs = tmp_path / "subs"
    batch = {
        "a_full": solved(assignment_id),
        "b_scan_memory": append_code(release_nb(assignment_id), attacks.scan_memory(functions)),
        "c_copy_classmate": append_code(release_nb(assignment_id), attacks.copy_classmate(assignment_id)),
        "d_other_copies": append_code(release_nb(assignment_id), attacks.load_other_copies(stems, functions)),
        "e_magics": with_magics(solved(assignment_id)),
    }
    for student, nb in batch.items():
        write(subs, student, assignment_id, nb)
    env = dict(os.environ, SUBMISSIONS=str(subs), OLDPWD=str(subs / "a_full"), PWD=str(subs))
    rows = run_grader(assignment_id, subs, tmp_path, "--jobs", "1", "--timeout", "30", "--seed", "5", env=env,
                      cwd=subs)
    full = sum(source_info(assignment_id).points.values())
    assert float(rows["a_full"]["score"]) == full, rows["a_full"]
    assert float(rows["e_magics"]["score"]) == full, rows["e_magics"]
    for student in ("b_scan_memory", "c_copy_classmate", "d_other_copies"):
        assert float(rows[student]["score"]) == 0, rows[student]


@needs_bwrap
def test_a_wrong_multiple_choice_answer_is_only_called_wrong(tmp_path):
    """ps8's quiz: the CSV and the feedback say which answer is wrong, never how far from the right letter."""
    A8 = "ps8_seq2seq_attention"
    nb = solved(A8)
    for cell in nb.cells:
        if grade_id(cell) in ("answer_q1", "answer_q2", "answer_q3"):
            cell.source = f'{grade_id(cell)} = "d"'
    write(tmp_path / "subs", "guess", A8, nb)
    rows = run_grader(A8, tmp_path / "subs", tmp_path, "--seed", "4")
    message = rows["guess"]["message"]
    assert message.count("is not the right answer") == 3 and "differs" not in message, message
    subprocess.run([sys.executable, "-m", "autograder", "feedback", A8, "--db", f"sqlite:///{tmp_path / 'gradebook.db'}",
                    "--work-dir", tmp_path / "work"], cwd=REPO, check=True, capture_output=True)
    page = (tmp_path / "work" / "feedback" / "guess" / A8 / f"{A8}.html").read_text(encoding="utf-8")
    assert "is not the right answer" in page and "differs from the reference" not in page
