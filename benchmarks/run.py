"""`make bench`: how long each notebook takes, and the grader against plain nbgrader.

1. Executes every lecture and solution notebook in a fresh kernel and reports wall
   time and peak memory (resident set of the kernel and its children, sampled every
   50 ms) as a Markdown table.
2. Grades the same batch of 21 ps1 and ps5 submissions (correct, partial, broken)
   with plain `nbgrader autograde --force` (the peer: sequential, in-kernel) and with
   `python -m autograder grade` (verified checks, one sandbox per submission forked
   from a pre-imported worker, --jobs = cores), asserts identical scores, and prints
   the wall-time ratio.

``--notebooks`` does only 1 (and rewrites the README's table); ``--grading`` only 2.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]
os.environ.setdefault("MPLBACKEND", "Agg")


def run_notebook(path: Path) -> tuple[float, float]:
    """(wall seconds, peak MiB of the kernel process tree)."""
    nb = nbformat.read(str(path), as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    peak = [0.0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            km = client.km
            pid = getattr(getattr(km, "provisioner", None), "pid", None) if km else None
            if pid:
                try:
                    proc = psutil.Process(pid)
                    rss = sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)])
                    peak[0] = max(peak[0], rss / 2**20)
                except psutil.Error:
                    pass
            time.sleep(0.05)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    stop.set()
    thread.join()
    return elapsed, peak[0]


BUDGET_S = {"08_seq2seq_attention.ipynb": 120.0, "09_translating_real_text.ipynb": 180.0}
DEFAULT_BUDGET_S = 60.0
BUDGET_MIB = 1536.0
README = REPO / "README.md"
BEGIN, END = "<!-- bench:notebooks:begin -->", "<!-- bench:notebooks:end -->"


def notebook_table() -> tuple[str, list[str]]:
    """(Markdown table, list of budget violations)."""
    paths = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")) + sorted((REPO / "solutions").glob("*/*.ipynb"))
    lines = ["| notebook | wall time (s) | peak memory (MiB) | budget (s) |", "|---|---:|---:|---:|"]
    total, over = 0.0, []
    for path in paths:
        wall, mib = run_notebook(path)
        budget = BUDGET_S.get(path.name, DEFAULT_BUDGET_S)
        total += wall
        lines.append(f"| `{path.relative_to(REPO)}` | {wall:.1f} | {mib:.0f} | {budget:.0f} |")
        print(lines[-1], flush=True)
        if wall > budget or mib > BUDGET_MIB:
            over.append(f"{path.relative_to(REPO)}: {wall:.1f} s, {mib:.0f} MiB (budget {budget:.0f} s, {BUDGET_MIB:.0f} MiB)")
    lines.append(f"| **all** | **{total:.1f}** | | 360 |")
    if total > 360:
        over.append(f"the whole course takes {total:.0f} s (budget 360 s)")
    return "\n".join(lines), over


def write_into_readme(table: str) -> None:
    text = README.read_text(encoding="utf-8")
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        machine = f"{os.cpu_count()} cores, measured by `make bench` on {time.strftime('%Y-%m-%d')}"
        README.write_text(f"{head}{BEGIN}\n_{machine}_\n\n{table}\n{END}{tail}", encoding="utf-8")


def grading_ratio(assignment: str, n_students: int = 21) -> str:
    """Same batch through plain `nbgrader autograde` and `python -m autograder grade`; scores must agree."""
    import csv

    from nbgrader.api import Gradebook

    from autograder.config import course_config
    from submissions import release_nb, solution_ids, solved, with_cell, write

    def last_left_as_stub(a):
        # partial: the last graded function, which no other builds on, left as released. (A mistake in a helper
        # scores differently by design: the verified grader blames only the function that contains it and gives
        # partial credit per output, where nbgrader's in-kernel tests fail every test cell that uses the helper.)
        last = solution_ids(a)[-1]
        return with_cell(solved(a), last, next(c.source for c in release_nb(a).cells
                                                if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == last))

    kinds = [("correct", solved), ("partial", last_left_as_stub), ("broken", release_nb)]
    with tempfile.TemporaryDirectory() as tmp_str:
        tmp = Path(tmp_str)
        subs = tmp / "subs"
        for i in range(n_students):
            kind, make = kinds[i % 3]
            write(subs, f"s{i:02d}_{kind}", assignment, make(assignment))
        # the peer: plain nbgrader, sequential, on a course directory of its own
        course = tmp / "course"
        shutil.copytree(subs, course / "submitted")
        cfg = course_config(root=course, release_dir=course / "release", work_dir=course)
        lines = ["c = get_config()"] + [f"c.CourseDirectory.{k} = {v!r}" for k, v in cfg.CourseDirectory.items()]
        lines += ["c.OverwriteCells.add_missing_cells = True"]
        (course / "nbgrader_config.py").write_text("\n".join(lines))
        subprocess.run(["nbgrader", "generate_assignment", assignment, "--force"], cwd=course, check=True,
                       capture_output=True)
        start = time.perf_counter()
        subprocess.run(["nbgrader", "autograde", assignment, "--force"], cwd=course, check=True, capture_output=True)
        peer = time.perf_counter() - start
        with Gradebook(cfg.CourseDirectory.db_url) as gb:
            peer_scores = {s.student.id: s.score for s in gb.assignment_submissions(assignment)}
        # ours: the whole command, set-up included
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "autograder", "grade", assignment, "--submissions", str(subs),
                        "--out", str(tmp / "g.csv"), "--work-dir", str(tmp / "work")],
                       cwd=REPO, check=True, capture_output=True)
        ours = time.perf_counter() - start
        with open(tmp / "g.csv", newline="") as f:
            our_scores = {r["student"]: float(r["score"]) for r in csv.DictReader(f)}
    assert our_scores == peer_scores, f"scores differ: ours {our_scores} vs nbgrader {peer_scores}"
    return (f"{assignment}: {n_students} submissions (correct/partial/broken), identical scores. "
            f"plain `nbgrader autograde` {peer:.1f} s ({peer / n_students:.2f} s each); "
            f"`python -m autograder grade` (verified, --jobs {os.cpu_count()}) {ours:.1f} s "
            f"({ours / n_students:.2f} s each); speed-up x{peer / ours:.1f}")


def main() -> None:
    if "--notebooks" in sys.argv[1:]:    # only the notebook table (README)
        table, over = notebook_table()
        write_into_readme(table)
        print(table)
        sys.exit("over budget:\n  " + "\n  ".join(over) if over else 0)
    if "--grading" in sys.argv[1:]:      # only the grader against plain nbgrader
        for assignment in ("ps1_backprop", "ps5_rnn_bptt"):
            print(grading_ratio(assignment), flush=True)
        return
    table, over = notebook_table()
    write_into_readme(table)
    print()
    for assignment in ("ps1_backprop", "ps5_rnn_bptt"):
        print(grading_ratio(assignment), flush=True)
    # every other benchmark script prints its own comparison against a named peer
    for script in sorted(Path(__file__).resolve().parent.glob("bench_*.py")):
        print(f"\n## {script.name}", flush=True)
        subprocess.run([sys.executable, str(script)], cwd=REPO, check=True)
    if over:
        sys.exit("over budget:\n  " + "\n  ".join(over))


if __name__ == "__main__":
    main()
