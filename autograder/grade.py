"""``python -m autograder grade``: autograde a batch of submissions into a CSV.

Layout of ``--submissions DIR`` (nbgrader's submitted layout)::

    DIR/<student>/<ID>/<ID>.ipynb

What happens, in order:

1. Each submission is checked: a missing notebook or malformed JSON gets its
   row (status ``missing`` / ``malformed``) and is not run.
2. The good ones are *copied* into the grading work area (submissions are
   never modified) and the assignment's source is registered in the gradebook.
3. ``--jobs`` worker processes run nbgrader's autograde (always forced, deleted
   grade cells re-added) in a kernel under memory and CPU limits.  A worker
   that hangs past ``--student-timeout`` is killed with its kernel; that
   student gets a ``timeout`` row and the worker restarts for the rest.
4. Scores are read back from the gradebook (SQLite by default, any SQLAlchemy
   URL with ``--db``), so formgrader and ``nbgrader export`` see them too, and
   one CSV row per student is written:
   ``student, assignment, score, max_score, status, message``.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat

from .config import DEFAULT_CELL_TIMEOUT, DEFAULT_MEMORY_MB, WORK_DIR
from .nbgrader_api import ensure_tools_on_path, make_api
from .parts import load_spec
from .sandbox_kernel import install_kernelspec

CSV_COLUMNS = ["student", "assignment", "score", "max_score", "status", "message"]
RUN_MARKER_ENV = "COURSE_GRADER_RUN"


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


def _kill_marked_processes(marker: str) -> None:
    """SIGKILL every process whose environment carries ``COURSE_GRADER_RUN=marker``.

    Kernels live in their own session, so killing the worker's process group
    misses them; the marker in the kernel spec's env finds them.
    """
    needle = f"{RUN_MARKER_ENV}={marker}".encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if needle in (proc / "environ").read_bytes().split(b"\0"):
                os.kill(int(proc.name), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            continue


class _Worker:
    """One worker process and the events file it writes."""

    def __init__(self, job: dict, env: dict, tmp: Path, index: int):
        self.job = dict(job)
        self.env = env
        self.tmp = tmp
        self.index = index
        self.proc = None
        self.offset = 0
        self.current = None
        self.started_at = 0.0
        self.remaining = list(job["students"])

    def launch(self) -> None:
        self.job["students"] = list(self.remaining)
        self.job["events"] = str(self.tmp / f"events-{self.index}-{uuid.uuid4().hex[:6]}.jsonl")
        self.offset = 0
        Path(self.job["events"]).touch()
        job_file = self.tmp / f"job-{self.index}.json"
        job_file.write_text(json.dumps(self.job), encoding="utf-8")
        log = open(self.tmp / f"worker-{self.index}.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "autograder.worker", str(job_file)],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.current, self.started_at = None, time.monotonic()

    def poll_events(self) -> list[dict]:
        path = Path(self.job["events"])
        with path.open("r", encoding="utf-8") as f:
            f.seek(self.offset)
            chunk = f.read()
        complete = chunk[: chunk.rfind("\n") + 1] if "\n" in chunk else ""
        self.offset += len(complete.encode("utf-8"))
        events = [json.loads(line) for line in complete.splitlines() if line.strip()]
        for ev in events:
            if ev["event"] == "start":
                self.current, self.started_at = ev["student"], time.monotonic()
            else:
                self.remaining.remove(ev["student"])
                self.current = None
        return events

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()


def _run_workers(job: dict, students: list[str], jobs: int, env: dict, tmp: Path,
                 student_timeout: float, marker: str, progress) -> dict[str, dict]:
    shards = [students[i::jobs] for i in range(jobs)]
    workers = [_Worker({**job, "students": s}, env, tmp, i) for i, s in enumerate(shards) if s]
    for w in workers:
        w.launch()
    done: dict[str, dict] = {}
    while workers:
        time.sleep(0.2)
        for w in list(workers):
            for ev in w.poll_events():
                if ev["event"] == "done":
                    done[ev["student"]] = ev
                    progress(ev["student"])
            if not w.remaining:
                w.proc.wait()
                workers.remove(w)
                continue
            exited = w.proc.poll() is not None
            hung = w.current is not None and time.monotonic() - w.started_at > student_timeout
            if exited or hung:
                w.kill()
                _kill_marked_processes(marker)
                victim = w.current or w.remaining[0]
                why = (f"grading took longer than {student_timeout:.0f} s and was stopped" if hung
                       else "the grading process died while running this notebook")
                done[victim] = {"student": victim, "status": "timeout" if hung else "kernel_died",
                                "score": 0.0, "max_score": None, "message": why}
                w.remaining.remove(victim)
                progress(victim)
                if w.remaining:
                    w.launch()
                else:
                    workers.remove(w)
    return done


def grade(assignment_id: str, submissions: Path, out_csv: Path, *, jobs: int | None = None,
          cell_timeout: int = DEFAULT_CELL_TIMEOUT, memory_mb: int = DEFAULT_MEMORY_MB,
          student_timeout: float | None = None, db_url: str | None = None,
          work_dir: Path = WORK_DIR, show_progress: bool = True, engine: str = "auto",
          seed: int | None = None) -> list[Row]:
    """Grade every ``submissions/<student>/<assignment_id>/`` and write ``out_csv``.

    engine: "verified" (scores from checks outside the student's kernel, see
    autograder.verify), "nbgrader" (nbgrader's in-kernel autograde), or "auto":
    verified when the assignment has a spec in autograder/specs/, else nbgrader.
    """
    jobs = jobs or os.cpu_count() or 1
    submissions = Path(submissions)
    if not submissions.is_dir():
        raise GradeError(f"--submissions {submissions} is not a folder: give the folder that holds "
                         f"<student>/{assignment_id}/{assignment_id}.ipynb")
    if not any(p.is_dir() for p in submissions.iterdir()):
        raise GradeError(f"--submissions {submissions} holds no student folders: expected "
                         f"{submissions}/<student>/{assignment_id}/{assignment_id}.ipynb (nbgrader's submitted layout)")
    work_dir = Path(work_dir).resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    db_url = db_url or f"sqlite:///{work_dir / 'gradebook.db'}"
    student_timeout = student_timeout or max(120.0, 10.0 * cell_timeout)
    ensure_tools_on_path()

    # 1. register the assignment (its source cells and hidden tests) in the gradebook
    release_dir = work_dir / "release"
    api = make_api(release_dir=release_dir, work_dir=work_dir, db_url=db_url)
    for attempt in range(5):  # graders sharing one database may register the assignment at the same moment
        result = api.generate_assignment(assignment_id, force=True, create=True)
        if result["success"]:
            break
        time.sleep(0.5 + attempt)
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

    spec = load_spec(assignment_id) if engine in ("auto", "verified") else None
    if engine == "verified" and spec is None:
        raise GradeError(f"{assignment_id} has no verified checks (autograder/specs/{assignment_id}.py)")
    if spec is not None:
        return _grade_verified(assignment_id, spec, rows, to_grade, submitted_root, out_csv, jobs=jobs,
                               cell_timeout=cell_timeout, memory_mb=memory_mb, student_timeout=student_timeout,
                               db_url=db_url, work_dir=work_dir, show_progress=show_progress, seed=seed)

    # 3. autograde in workers under limits
    marker = uuid.uuid4().hex
    with tempfile.TemporaryDirectory(prefix="course-grade-") as tmp_str:
        tmp = Path(tmp_str)
        install_kernelspec(tmp / "jupyter", memory_mb=memory_mb, cpu_s=int(student_timeout))
        env = dict(os.environ)
        env["JUPYTER_PATH"] = str(tmp / "jupyter") + os.pathsep + env.get("JUPYTER_PATH", "")
        env[RUN_MARKER_ENV] = marker
        env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent) + os.pathsep + env.get("PYTHONPATH", "")
        job = {"assignment_id": assignment_id, "release_dir": str(release_dir), "work_dir": str(work_dir),
               "db_url": db_url, "cell_timeout": cell_timeout}
        bar = _progress_bar(len(to_grade), show_progress)
        try:
            done = _run_workers(job, to_grade, max(1, min(jobs, len(to_grade) or 1)), env, tmp,
                                student_timeout, marker, lambda student: bar.update(1)) if to_grade else {}
        finally:
            bar.close()
            _kill_marked_processes(marker)

    max_score = _assignment_max_score(db_url, assignment_id)
    for student in to_grade:
        ev = done.get(student, {"status": "error", "score": 0.0, "message": "not graded (internal error)"})
        rows[student] = Row(student, assignment_id, float(ev["score"]),
                            float(ev.get("max_score") or max_score), ev["status"], ev.get("message", ""))
    for row in rows.values():
        if row.status != "ok":
            row.max_score = max_score

    return _write_csv(rows, out_csv)


def _write_csv(rows: dict, out_csv: Path) -> list[Row]:
    ordered = [rows[s] for s in sorted(rows)]
    out_csv = Path(out_csv)
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    with out_csv.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for row in ordered:
            writer.writerow({**asdict(row), "score": f"{row.score:g}", "max_score": f"{row.max_score:g}"})
    return ordered


def _grade_verified(assignment_id, spec, rows, to_grade, submitted_root, out_csv, *, jobs, cell_timeout,
                    memory_mb, student_timeout, db_url, work_dir, show_progress, seed) -> list[Row]:
    from .verify import run_batch, source_info, write_autograded, write_gradebook

    seed = int.from_bytes(os.urandom(4), "little") if seed is None else seed
    print(f"verified grading of {assignment_id}: inputs drawn with --seed {seed}", file=sys.stderr)
    info = source_info(assignment_id)
    notebooks = {s: nbformat.read(str(submitted_root / s / assignment_id / f"{assignment_id}.ipynb"), as_version=4)
                 for s in to_grade}
    limits = {"cell_timeout": cell_timeout, "part_timeout": cell_timeout, "memory_mb": memory_mb,
              "submission_timeout": student_timeout, "work_dir": str(work_dir)}
    bar = _progress_bar(len(to_grade), show_progress)
    try:
        with tempfile.TemporaryDirectory(prefix="course-verify-") as tmp:
            os.chmod(tmp, 0o755)
            results = run_batch(assignment_id, spec, notebooks, jobs=min(jobs, max(1, len(to_grade))), seed=seed,
                                limits=limits, tmp=Path(tmp), progress=lambda student: bar.update(1))
    finally:
        bar.close()
    max_score = sum(info.points.values()) + sum(info.manual.values())
    good = {}
    for student, res in results.items():
        if isinstance(res, Exception):
            rows[student] = Row(student, assignment_id, 0.0, max_score, "error", f"not graded: {res}")
            continue
        good[student] = res
        rows[student] = Row(student, assignment_id, res.score, res.max_score, res.status, res.message)
        dest = work_dir / "autograded" / student / assignment_id / f"{info.notebook_id}.ipynb"
        write_autograded(notebooks[student], res, info, dest)
    write_gradebook(db_url, assignment_id, info, good)
    for row in rows.values():
        row.max_score = max_score
    return _write_csv(rows, out_csv)


def _assignment_max_score(db_url: str, assignment_id: str) -> float:
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        return float(gb.find_assignment(assignment_id).max_score)


def _progress_bar(total: int, show: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="grading", unit="student", disable=not show or total == 0)
