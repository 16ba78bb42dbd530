"""A grading worker: autogrades a list of students, one after the other.

Run by :mod:`autograder.grade` as ``python -m autograder.worker JOB.json``.
For each student it appends two JSON lines to the job's ``events`` file: a
``start`` event before nbgrader runs, and a ``done`` event with the outcome.
The parent watches that file, so a worker that hangs or dies costs only the
student it was grading.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from .nbgrader_api import make_api


def classify_failure(text: str) -> tuple[str, str]:
    """(status, message) for a failed nbgrader run, from its log and traceback."""
    if re.search(r"DeadKernelError|Kernel died|kernel died", text):
        return "kernel_died", ("the kernel died while running the notebook (a cell called os._exit, "
                               "crashed the interpreter, or ran out of memory)")
    if re.search(r"CellTimeoutError|TimeoutError|Timeout waiting|timed out|UnresponsiveKernelError", text):
        return "timeout", ("a cell ran past the time limit and could not be interrupted "
                           "(an endless loop, or one that ignores KeyboardInterrupt)")
    if "MemoryError" in text:
        return "memory", "the notebook ran out of its memory limit"
    last = [line for line in text.strip().splitlines() if line.strip()]
    return "error", "nbgrader could not grade this notebook: " + (last[-1].strip() if last else "unknown error")


def restored_cells(log: str) -> list[str]:
    """grade ids of cells nbgrader re-added because the submission had lost them."""
    return sorted(set(re.findall(r"Missing (?:grade|task) cell (\S+) encountered", log)))


def timed_out_cells(work_dir: str, assignment_id: str, student_id: str) -> int:
    """How many cells of the autograded notebook(s) were stopped by the per-cell time limit."""
    count = 0
    for path in (Path(work_dir) / "autograded" / student_id / assignment_id).glob("*.ipynb"):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb.get("cells", []):
            count += sum(o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", []))
    return count


def score_of(db_url: str, assignment_id: str, student_id: str) -> tuple[float, float]:
    with Gradebook(db_url) as gb:
        try:
            sub = gb.find_submission(assignment_id, student_id)
            return float(sub.score), float(sub.max_score)
        except MissingEntry:
            return 0.0, float(gb.find_assignment(assignment_id).max_score)


def max_score_of(db_url: str, assignment_id: str) -> float:
    with Gradebook(db_url) as gb:
        return float(gb.find_assignment(assignment_id).max_score)


def run(job: dict) -> None:
    events = Path(job["events"])
    api = make_api(release_dir=Path(job["release_dir"]), work_dir=Path(job["work_dir"]),
                   db_url=job["db_url"], cell_timeout=job["cell_timeout"])
    assignment_id = job["assignment_id"]
    with events.open("a", encoding="utf-8") as out:
        def emit(**event):
            out.write(json.dumps(event) + "\n")
            out.flush()

        for student in job["students"]:
            emit(event="start", student=student, time=time.time())
            result = api.autograde(assignment_id, student, force=True, create=True)
            log = result.get("log", "") + "\n" + result.get("error", "")
            if result["success"]:
                score, max_score = score_of(job["db_url"], assignment_id, student)
                restored = restored_cells(log)
                notes = []
                if restored:
                    notes.append("restored deleted cells: " + ", ".join(restored))
                slow = timed_out_cells(job["work_dir"], assignment_id, student)
                if slow:
                    notes.append(f"{slow} cell(s) ran past the time limit and were interrupted")
                message = "; ".join(notes)
                emit(event="done", student=student, status="ok", score=score,
                     max_score=max_score, message=message)
            else:
                status, message = classify_failure(log)
                emit(event="done", student=student, status=status, score=0.0,
                     max_score=max_score_of(job["db_url"], assignment_id), message=message)


def main() -> None:
    job = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    run(job)


if __name__ == "__main__":
    main()
