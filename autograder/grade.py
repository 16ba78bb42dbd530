"""``python -m autograder grade``: autograde a batch of submissions into a CSV.

Layout of ``--submissions DIR`` (nbgrader's submitted layout)::

    DIR/<student>/<ID>/<ID>.ipynb

A thin front door to nbgrader's own autograde, configured with the verified
engine (:mod:`autograder.preprocessors`), so this command, ``nbgrader
autograde`` and formgrader's *Autograde* button store the same scores:

1. Each submission is checked: a missing notebook or malformed JSON gets its
   row (status ``missing`` / ``malformed``) and is not graded.
2. The good ones are *copied* into the grading work area (submissions are
   never modified) and the assignment's source is registered in the gradebook.
3. The verified checks run for the whole batch, ``--jobs`` sandboxes in
   parallel (:func:`autograder.verify.run_batch`).
4. As each check finishes, nbgrader's autograde runs for that student, its
   ``VerifiedExecute`` taking the result just computed for exactly that program; nbgrader writes
   the autograded notebook and the gradebook (SQLite by default, any
   SQLAlchemy URL with ``--db``), and one CSV row per student is written from
   the gradebook: ``student, assignment, score, max_score, status, message``.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat
from traitlets.config import Config

from .config import DEFAULT_CELL_TIMEOUT, DEFAULT_MEMORY_MB, WORK_DIR
from .nbgrader_api import ensure_tools_on_path, make_api
from .parts import load_spec
from .register import register

CSV_COLUMNS = ["student", "assignment", "score", "max_score", "status", "message"]


@dataclass
class Row:
    student: str
    assignment: str
    score: float
    max_score: float
    status: str
    message: str = ""


class GradeError(RuntimeError):
    pass


def check_submission(path: Path) -> tuple[str, str]:
    """("ok", "") or (status, why) for one submitted notebook file."""
    if not path.is_file():
        student_dir = path.parent.parent
        found = sorted(str(p.relative_to(student_dir)) for p in student_dir.rglob("*")
                       if p.is_file() and ".ipynb_checkpoints" not in p.parts)
        shown = ", ".join(found[:3]) + (f" and {len(found) - 3} more" if len(found) > 3 else "")
        return "missing", (f"no notebook at {path.parent.name}/{path.name}; "
                           + (f"found {shown}" if found else "the folder is empty"))
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # nbformat raises NotJSONError, UnicodeDecodeError, ...
        return "malformed", (f"{path.name} is not a readable notebook ({type(exc).__name__}): the file is "
                             "not valid JSON, perhaps truncated or edited outside Jupyter")
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        return "malformed", f"{path.name} breaks the notebook format: {exc.message[:200]}"
    return "ok", ""


def grade(assignment_id: str, submissions: Path, out_csv: Path, *, jobs: int | None = None,
          cell_timeout: int = DEFAULT_CELL_TIMEOUT, memory_mb: int = DEFAULT_MEMORY_MB,
          student_timeout: float | None = None, db_url: str | None = None,
          work_dir: Path = WORK_DIR, show_progress: bool = True, seed: int | None = None) -> list[Row]:
    """Grade every ``submissions/<student>/<assignment_id>/`` and write ``out_csv``."""
    jobs = jobs or os.cpu_count() or 1
    submissions = Path(submissions)
    if not submissions.is_dir():
        raise GradeError(f"--submissions {submissions} is not a folder: give the folder that holds "
                         f"<student>/{assignment_id}/{assignment_id}.ipynb")
    if not any(p.is_dir() for p in submissions.iterdir()):
        raise GradeError(f"--submissions {submissions} holds no student folders: expected "
                         f"{submissions}/<student>/{assignment_id}/{assignment_id}.ipynb (nbgrader's submitted layout)")
    spec = load_spec(assignment_id)
    if spec is None:
        raise GradeError(f"{assignment_id} has no verified checks yet: write autograder/specs/{assignment_id}.py")
    work_dir = Path(work_dir).resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    db_url = db_url or f"sqlite:///{work_dir / 'gradebook.db'}"
    student_timeout = student_timeout or max(120.0, 10.0 * cell_timeout)
    seed = int.from_bytes(os.urandom(4), "little") if seed is None else seed
    ensure_tools_on_path()

    # 1. register the assignment (its source cells and hidden tests) in the gradebook
    extra = Config()
    extra.VerifiedExecute.seed = seed
    extra.VerifiedExecute.memory_mb = memory_mb
    extra.VerifiedExecute.submission_timeout = float(student_timeout)
    api = make_api(release_dir=work_dir / "release", work_dir=work_dir, db_url=db_url, cell_timeout=cell_timeout,
                   extra=extra)
    result = register(api, assignment_id, db_url)   # locked, and skipped when the gradebook has it already
    if not result["success"]:
        raise GradeError(f"could not prepare {assignment_id} for grading:\n{result.get('log', '')}\n"
                         f"{result.get('error', '')}")

    # 2. check and copy submissions
    rows: dict[str, Row] = {}
    to_grade = []
    submitted_root = work_dir / "submitted"
    for student_dir in sorted(p for p in submissions.iterdir() if p.is_dir()):
        student = student_dir.name
        status, why = check_submission(student_dir / assignment_id / f"{assignment_id}.ipynb")
        if status != "ok":
            rows[student] = Row(student, assignment_id, 0.0, 0.0, status, why)
            continue
        dest = submitted_root / student / assignment_id
        if dest.resolve() != (student_dir / assignment_id).resolve():  # grading nbgrader's own folder in place
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(student_dir / assignment_id, dest)
        to_grade.append(student)

    # 3. the verified checks, for the whole batch in parallel
    from .verify import run_batch, source_info

    print(f"verified grading of {assignment_id}: inputs drawn with --seed {seed}", file=sys.stderr)
    info = source_info(assignment_id)
    notebooks = {s: nbformat.read(str(submitted_root / s / assignment_id / f"{assignment_id}.ipynb"), as_version=4)
                 for s in to_grade}
    limits = {"cell_timeout": cell_timeout, "part_timeout": cell_timeout, "memory_mb": memory_mb,
              "submission_timeout": student_timeout}
    bar = _progress_bar(len(to_grade), show_progress)
    try:
        with tempfile.TemporaryDirectory(prefix="course-verify-") as tmp:
            os.chmod(tmp, 0o755)
            # 4. as each check finishes, nbgrader's autograde stores its result (notebook, gradebook)
            for student, res in run_batch(assignment_id, spec, notebooks, jobs=min(jobs, max(1, len(to_grade))),
                                          seed=seed, limits=limits, tmp=Path(tmp)):
                if isinstance(res, BaseException):
                    rows[student] = Row(student, assignment_id, 0.0, 0.0, "error", f"not graded: {res}")
                else:
                    rows[student] = _record(api, assignment_id, student, res, notebooks[student], info, db_url)
                bar.update(1)
    finally:
        bar.close()
    max_score = sum(info.points.values()) + sum(info.manual.values())
    for row in rows.values():
        row.max_score = max_score
    return _write_csv(rows, out_csv)


def restored_cells(log: str) -> list[str]:
    """grade ids of the test cells nbgrader put back because the submission had lost them."""
    return sorted(set(re.findall(r"Missing (?:grade|task) cell (\S+) encountered", log)))


def _record(api, assignment_id: str, student: str, res, nb, info, db_url: str) -> Row:
    """nbgrader's autograde of one student, its VerifiedExecute handed the result just checked; read back."""
    from nbgrader.api import Gradebook

    from .preprocessors import PREFETCHED
    from .verify import program_key

    PREFETCHED[(assignment_id, student)] = (program_key(nb, info), res)
    try:
        result = api.autograde(assignment_id, student, force=True, create=True)
    finally:
        PREFETCHED.pop((assignment_id, student), None)
    log = result.get("log", "") + "\n" + result.get("error", "")
    if not result["success"]:
        last = [line for line in log.strip().splitlines() if line.strip()]
        return Row(student, assignment_id, 0.0, 0.0, "error",
                   "nbgrader could not record the grade: " + (last[-1].strip() if last else "unknown error"))
    with Gradebook(db_url) as gb:
        score = float(gb.find_submission(assignment_id, student).score)
    restored = restored_cells(log)
    message = res.message
    if restored:
        message = "; ".join(filter(None, ["restored deleted test cells: " + ", ".join(restored), message]))
    return Row(student, assignment_id, score, 0.0, res.status, message[:2000])


def _write_csv(rows: dict, out_csv: Path) -> list[Row]:
    ordered = [rows[s] for s in sorted(rows)]
    out_csv = Path(out_csv)
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    with out_csv.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for row in ordered:
            writer.writerow({**asdict(row), "score": f"{round(row.score, 2):g}", "max_score": f"{row.max_score:g}"})
    return ordered


def _progress_bar(total: int, show: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="grading", unit="student", disable=not show or total == 0)
