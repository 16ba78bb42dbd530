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
   the gradebook: ``student, assignment, score, max_score, status, message, message_zh`` (the message in
   Chinese, :mod:`autograder.zh`).
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat
from traitlets.config import Config

from .config import DEFAULT_CELL_TIMEOUT, DEFAULT_MEMORY_MB, WORK_DIR, gradebook_url
from .nbgrader_api import ensure_tools_on_path, make_api
from .parts import load_spec
from .register import register
from .zh import chinese

CSV_COLUMNS = ["student", "assignment", "score", "max_score", "status", "message", "message_zh"]


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
          work_dir: Path = WORK_DIR, show_progress: bool = True, seed: int | None = None,
          cluster: str | None = None) -> list[Row]:
    """Grade every ``submissions/<student>/<assignment_id>/`` and write ``out_csv``.

    ``cluster``: the address of a Dask scheduler (``tcp://HOST:PORT``) whose workers check the
    submissions (:mod:`autograder.cluster`); this process still records every result.
    """
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
    db_url = gradebook_url(work_dir, db_url)
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
    from .cluster import ClusterError
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
            if cluster:
                from .cluster import run_batch_on_cluster

                checked = run_batch_on_cluster(cluster, assignment_id, notebooks, seed=seed, limits=limits)
            else:
                checked = run_batch(assignment_id, spec, notebooks, jobs=min(jobs, max(1, len(to_grade))),
                                    seed=seed, limits=limits, tmp=Path(tmp))
            # 4. as each check finishes, its result is saved, then nbgrader's autograde stores it (notebook,
            #    gradebook); a gradebook that does not answer is tried again, and then left for `record`
            pending, down = pending_dir(work_dir, assignment_id), False
            for student, res in checked:
                if isinstance(res, BaseException):
                    rows[student] = Row(student, assignment_id, 0.0, 0.0, "error", f"not graded: {res}")
                else:
                    saved = _save_result(pending, student, res, seed)
                    row = _record_patiently(api, assignment_id, student, res, notebooks[student], info, db_url,
                                            delays=() if down else RETRY_DELAYS)
                    down = row is None
                    if down:
                        row = Row(student, assignment_id, res.score, 0.0, res.status,
                                  "; ".join(filter(None, [res.message, "not yet in the gradebook"]))[:2000])
                    else:
                        saved.unlink()
                    rows[student] = row
                bar.update(1)
    except ClusterError as exc:
        raise GradeError(str(exc)) from None
    finally:
        bar.close()
    max_score = sum(info.points.values()) + sum(info.manual.values())
    for row in rows.values():
        row.max_score = max_score
    written = _write_csv(rows, out_csv)
    if any(pending.glob("*.json")) and _gradebook_answers(db_url):   # it came back before the batch ended
        _record_saved(api, assignment_id, db_url, work_dir, info, sorted(pending.glob("*.json")))
    waiting = sorted(pending.glob("*.json"))
    if waiting:
        print(f"the gradebook {_shown(db_url)} did not answer: {len(waiting)} result(s) are in {out_csv} and saved "
              f"in {pending}; when it is back, run `python -m autograder record {assignment_id} --db URL "
              f"--work-dir {work_dir}`", file=sys.stderr)
    return written


# --------------------------------------------------------------------------
# A gradebook that goes away: results saved first, tried again, recorded later
# --------------------------------------------------------------------------

RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)   # seconds between tries of a gradebook that does not answer (~15 s)
NOT_RECORDED = "nbgrader could not record the grade: "


def pending_dir(work_dir: Path, assignment_id: str) -> Path:
    """Where checked results wait until the gradebook holds them: ``<work dir>/pending/<ID>/<student>.json``."""
    path = Path(work_dir) / "pending" / assignment_id
    path.mkdir(parents=True, exist_ok=True)
    return path


def _save_result(pending: Path, student: str, res, seed: int) -> Path:
    path = pending / f"{student}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"seed": seed, "verified": asdict(res)}), encoding="utf-8")
    tmp.replace(path)     # whole or not at all
    return path


def _load_result(path: Path):
    from .verify import Verified

    data = json.loads(path.read_text(encoding="utf-8"))
    fields = data["verified"]
    fields["part_scores"] = {k: tuple(v) for k, v in fields["part_scores"].items()}
    return Verified(**fields), int(data["seed"])


def _shown(db_url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(db_url).render_as_string(hide_password=True)


def _gradebook_answers(db_url: str) -> bool:
    import sqlalchemy

    engine = sqlalchemy.create_engine(db_url)
    try:
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT 1"))
        return True
    except sqlalchemy.exc.SQLAlchemyError:
        return False
    finally:
        engine.dispose()


def _record_patiently(api, assignment_id, student, res, nb, info, db_url, delays=RETRY_DELAYS) -> Row | None:
    """:func:`_record`, tried again after each of ``delays`` while the gradebook does not answer; None if it never
    did.  A failure while the gradebook answers is nbgrader's own, and its row says so."""
    for delay in (*delays, None):
        try:
            row = _record(api, assignment_id, student, res, nb, info, db_url)
        except Exception as exc:  # noqa: BLE001  (the database went away between autograde and the read-back)
            row = Row(student, assignment_id, 0.0, 0.0, "error", NOT_RECORDED + str(exc).splitlines()[0][:300])
        if not row.message.startswith(NOT_RECORDED) or _gradebook_answers(db_url):
            return row
        if delay is None:
            return None
        time.sleep(delay)
    return None


def record(assignment_id: str, db_url: str | None = None, work_dir: Path = WORK_DIR) -> list[Row]:
    """Put the results that ``grade`` saved while the gradebook was away into the gradebook (``record ID``)."""
    from .verify import source_info

    work_dir = Path(work_dir).resolve()
    db_url = gradebook_url(work_dir, db_url)
    waiting = sorted(pending_dir(work_dir, assignment_id).glob("*.json"))
    if not waiting:
        return []
    if not _gradebook_answers(db_url):
        raise GradeError(f"the gradebook {_shown(db_url)} still does not answer: {len(waiting)} result(s) wait "
                         f"in {waiting[0].parent}")
    seed = _load_result(waiting[0])[1]
    extra = Config()
    extra.VerifiedExecute.seed = seed
    api = make_api(release_dir=work_dir / "release", work_dir=work_dir, db_url=db_url, extra=extra)
    result = register(api, assignment_id, db_url)
    if not result["success"]:
        raise GradeError(f"could not prepare {assignment_id} in the gradebook:\n{result.get('error', '')}")
    return _record_saved(api, assignment_id, db_url, work_dir, source_info(assignment_id), waiting)


def _record_saved(api, assignment_id: str, db_url: str, work_dir: Path, info, waiting: list) -> list[Row]:
    """Record each saved result of ``waiting`` with ``api`` (registered) and remove it; GradeError if the gradebook
    goes away again."""
    rows = []
    for path in waiting:
        res, _ = _load_result(path)
        nb = nbformat.read(str(work_dir / "submitted" / res.student / assignment_id / f"{assignment_id}.ipynb"),
                           as_version=4)
        row = _record_patiently(api, assignment_id, res.student, res, nb, info, db_url, delays=(0.5, 1.0, 2.0))
        if row is None:
            raise GradeError(f"the gradebook {_shown(db_url)} went away again: {len(waiting) - len(rows)} "
                             f"result(s) still wait in {path.parent}")
        path.unlink()
        rows.append(row)
    return rows


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
                   NOT_RECORDED + (last[-1].strip() if last else "unknown error"))
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
            writer.writerow({**asdict(row), "score": f"{round(row.score, 2):g}", "max_score": f"{row.max_score:g}",
                             "message_zh": chinese(row.message)})
    return ordered


def _progress_bar(total: int, show: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="grading", unit="student", disable=not show or total == 0)
