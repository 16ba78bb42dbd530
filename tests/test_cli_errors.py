"""The grader's command line: every usage error is one line that says what to do, with a non-zero exit."""

import subprocess
import sys

import pytest

from conftest import REPO
from submissions import release_nb, solved, write


def cli(*args, cwd=REPO):
    proc = subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


def one_line(text):
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


@pytest.mark.parametrize("command", [["grade", "ps5_rnn", "--submissions", ".", "--out", "x.csv"],
                                     ["feedback", "ps5_rnn"], ["release", "ps5_rnn"]])
def test_an_unknown_assignment_names_the_close_one_and_all(command):
    rc, _, err = cli(*command)
    line = one_line(err)
    assert rc == 2 and "did you mean ps5_rnn_bptt?" in line and "ps8_seq2seq_attention" in line, err


def test_a_missing_submissions_folder(tmp_path):
    rc, _, err = cli("grade", "ps1_backprop", "--submissions", tmp_path / "nope", "--out", tmp_path / "g.csv")
    assert rc == 2 and "is not a folder" in one_line(err), err


def test_an_empty_submissions_folder(tmp_path):
    (tmp_path / "subs").mkdir()
    rc, _, err = cli("grade", "ps1_backprop", "--submissions", tmp_path / "subs", "--out", tmp_path / "g.csv")
    assert rc == 2 and "holds no student folders" in one_line(err), err


def test_feedback_before_grading(tmp_path):
    rc, _, err = cli("feedback", "ps1_backprop", "--work-dir", tmp_path / "work")
    assert rc == 1 and "run `python -m autograder grade ps1_backprop" in one_line(err), err


def test_summary_line_missing_file_named_and_exit_code(tmp_path):
    subs = tmp_path / "subs"
    write(subs, "ok", "ps1_backprop", solved("ps1_backprop"))
    wrong_name = subs / "renamed" / "ps1_backprop"
    wrong_name.mkdir(parents=True)
    (wrong_name / "my_ps1.ipynb").write_text("{}")
    args = ["--out", tmp_path / "g.csv", "--work-dir", tmp_path / "work", "--seed", "1"]
    rc, out, err = cli("grade", "ps1_backprop", "--submissions", subs, *args)
    assert rc == 0, err
    assert f"graded 2: 1 ok, 1 missing -> {tmp_path / 'g.csv'}" in out, out
    assert "found ps1_backprop/my_ps1.ipynb" in out, out
    # every submission failed: the exit code says so
    only_bad = tmp_path / "bad"
    write(only_bad, "stub", "ps1_backprop", "{ not json")
    rc, out, err = cli("grade", "ps1_backprop", "--submissions", only_bad, *args)
    assert rc == 1 and "graded 1: 0 ok, 1 malformed" in out, (out, err)


def test_every_failing_part_is_named(tmp_path):
    write(tmp_path / "subs", "stub", "ps1_backprop", release_nb("ps1_backprop"))
    rc, out, err = cli("grade", "ps1_backprop", "--submissions", tmp_path / "subs", "--out", tmp_path / "g.csv",
                       "--work-dir", tmp_path / "work", "--seed", "1")
    assert rc == 0, err
    assert "and 3 more failing part(s)" in (tmp_path / "g.csv").read_text(), out
