"""Verified grading: scores computed outside the student's kernel.

The trusted parent (this module) reads each submission as plain JSON, builds
the program to run (the student's solution and free cells; locked cells from
the instructor's source; test cells left out), draws the inputs of every part
(:mod:`autograder.parts`), sends both to a pre-imported worker
(:mod:`autograder.forkserver`) that runs them in a sandbox, and compares what
comes back with ``course_lib``'s reference.  The student's process never sees
a hidden test, an expected value, another submission or the gradebook, and
nothing it does can change how the parent compares.

Results go into the nbgrader gradebook (``Grade.auto_score`` of each test
cell) and into an "autograded" notebook per student: the submission with the
visible tests restored, their output in the sandbox, and the verified score of
each part.  formgrader, ``nbgrader export`` and ``python -m autograder
feedback`` read those.
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np
from nbformat.v4 import new_output

from .config import REPO, SOURCE_DIR
from .parts import compare
from .sandbox import FULL_ISOLATION

HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
# A locked cell whose first line is this comment is a demonstration for students
# (e.g. a few seconds of training) that the verified grader does not run.
NOT_GRADED = "# (not run when graded)"


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def visible_source(source: str) -> str:
    """A test cell's source without its hidden-test blocks."""
    out, hidden = [], False
    for line in source.splitlines():
        if line.strip() == HIDDEN_BEGIN:
            hidden = True
        elif line.strip() == HIDDEN_END:
            hidden = False
        elif not hidden:
            out.append(line)
    return "\n".join(out).rstrip()


@dataclass
class SourceInfo:
    """What the trusted side knows about an assignment from the instructor's notebook."""

    notebook_id: str
    locked: dict          # grade_id -> source of locked, non-graded code cells
    locked_order: list    # their grade ids in source order
    points: dict          # test-cell grade_id -> points (auto-graded code cells)
    visible: dict         # test-cell grade_id -> visible part of its source
    manual: dict          # grade_id -> points of manually graded cells


def source_info(assignment_id: str) -> SourceInfo:
    path = SOURCE_DIR / assignment_id / f"{assignment_id}.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    locked, order, points, visible, manual = {}, [], {}, {}, {}
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        gid = meta.get("grade_id")
        if not gid:
            continue
        if meta.get("grade") and meta.get("solution"):
            manual[gid] = float(meta.get("points", 0))
        elif meta.get("grade") and cell.cell_type == "code":
            points[gid] = float(meta.get("points", 0))
            visible[gid] = visible_source(cell.source)
        elif meta.get("locked") and not meta.get("solution") and cell.cell_type == "code":
            locked[gid] = "" if cell.source.lstrip().startswith(NOT_GRADED) else cell.source
            order.append(gid)
    return SourceInfo(path.stem, locked, order, points, visible, manual)


def program_cells(nb, info: SourceInfo) -> list[str]:
    """The code to run for a submission, in the submission's order.

    Solution cells and the student's own cells as submitted; locked cells as
    in the instructor's source (edits undone; deleted ones put back first);
    test cells left out (the checks replace them).
    """
    cells, seen = [], set()
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        meta = nbgrader_meta(cell)
        gid = meta.get("grade_id")
        if gid in info.points or (meta.get("grade") and not meta.get("solution")):
            continue
        if gid in info.locked:
            cells.append(info.locked[gid])
            seen.add(gid)
        else:
            cells.append(cell.get("source", ""))
    missing = [info.locked[g] for g in info.locked_order if g not in seen]
    return missing + cells


def _npz(arrays: dict) -> str:
    buf = io.BytesIO()
    np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    return base64.b64encode(buf.getvalue()).decode()


def _unnpz(blob: str) -> dict:
    with np.load(io.BytesIO(base64.b64decode(blob)), allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def draw_inputs(spec, seed: int) -> dict:
    """{test_id: [inputs of each trial]} drawn from the batch's seed."""
    drawn = {}
    for part in spec.PARTS:
        salt = zlib.crc32(part.test_id.encode())
        drawn[part.test_id] = [part.make_inputs(np.random.default_rng([seed, salt, t]), t)
                               for t in range(part.trials)]
    return drawn


class Worker:
    """One forkserver process, used by one thread at a time."""

    def __init__(self, preload: tuple[str, ...]):
        cmd = [sys.executable, "-m", "autograder.forkserver"]
        if preload:
            cmd += ["--preload", *preload]
        env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                   MPLBACKEND="Agg", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
        self.cmd, self.env = cmd, env
        self.proc = None

    def ask(self, job: dict, timeout: float) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen(self.cmd, env=self.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL, text=True, cwd=REPO)
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        answer = {}
        reader = threading.Thread(target=lambda: answer.setdefault("line", self.proc.stdout.readline()))
        reader.start()
        reader.join(timeout)
        if reader.is_alive() or not answer.get("line"):
            self.close()
            raise RuntimeError("the grading worker stopped answering")
        return json.loads(answer["line"])

    def close(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


@dataclass
class Verified:
    student: str
    score: float
    max_score: float
    status: str
    message: str
    part_scores: dict       # test id -> (points earned, max)
    part_messages: dict     # test id -> '' or why it failed
    visible: dict           # test id -> {"stdout", "error"}
    notes: list


def grade_one(nb, student: str, assignment_id: str, spec, info: SourceInfo, inputs: dict,
              worker: Worker, limits: dict, slot: int, workdir: Path) -> Verified:
    parts = [{"id": p.test_id, "call": p.call, "trials": [_npz(x) for x in inputs[p.test_id]]} for p in spec.PARTS]
    hide = [str(limits["work_dir"]), str(SOURCE_DIR), str(REPO / "tests"), str(REPO / "autograder"),
            str(REPO / ".git"), str(REPO / "course_lib" / "__pycache__")]
    for mod in spec.BLOCKED:
        hide.append(str(REPO / (mod.replace(".", "/") + ".py")))
    workdir.mkdir(parents=True, exist_ok=True)
    os.chmod(workdir, 0o777)
    job = {
        "assignment_id": assignment_id, "cells": program_cells(nb, info), "parts": parts,
        "visible_tests": [{"id": tid, "source": src} for tid, src in info.visible.items()],
        "blocked": list(spec.BLOCKED), "hide": hide, "workdir": str(workdir),
        "memory_mb": limits["memory_mb"], "cpu_s": int(limits["submission_timeout"]) + 5,
        "cell_timeout": limits["cell_timeout"], "part_timeout": limits["part_timeout"],
        "submission_timeout": limits["submission_timeout"],
    }
    state = worker.ask(job, timeout=limits["submission_timeout"] * 2 + 60)
    part_scores, part_messages = {}, {}
    for part in spec.PARTS:
        got = state["parts"].get(part.test_id, {})
        message = got.get("error", "")
        if not message:
            for t, trial_inputs in enumerate(inputs[part.test_id]):
                result = got.get("trials", {}).get(str(t))
                if result is None:
                    message = f"{part.solution_id}: the check did not finish"
                elif "error" in result:
                    message = f"{part.solution_id}: {result['error']}"
                else:
                    try:
                        message = compare(part, _unnpz(result["npz"]), part.expected(trial_inputs))
                    except (ValueError, OSError) as exc:
                        message = f"{part.solution_id}: unreadable result ({exc})"
                if message:
                    break
        points = info.points.get(part.test_id, 0.0)
        part_scores[part.test_id] = (0.0 if message else points, points)
        part_messages[part.test_id] = message
    score = sum(s for s, _ in part_scores.values())
    max_score = sum(info.points.values()) + sum(info.manual.values())
    notes = list(state["notes"])
    blocked_msgs = [e for e in state["cell_errors"].values() if "is not available while" in e]
    if blocked_msgs:
        notes.append(blocked_msgs[0].splitlines()[-1])
    failed = [m for m in part_messages.values() if m]
    if info.manual:
        notes.append(f"{sum(info.manual.values()):g} point(s) are graded by hand")
    message = "; ".join(notes + failed[:2])
    if state["isolation"] not in FULL_ISOLATION:
        message = (message + "; " if message else "") + f"isolation: {state['isolation']}"
    return Verified(student, score, max_score, state["status"], message[:1000], part_scores, part_messages,
                    state["visible"], notes)


def run_batch(assignment_id: str, spec, notebooks: dict, *, jobs: int, seed: int, limits: dict,
              tmp: Path, progress) -> dict:
    """Grade {student: notebook} in parallel; returns {student: Verified or Exception}."""
    info = source_info(assignment_id)
    if hasattr(spec, "prepare"):  # e.g. build a data cache the read-only sandbox will need
        spec.prepare()
    inputs = draw_inputs(spec, seed)
    preload = tuple(getattr(spec, "PRELOAD", ()))
    slots = list(range(max(1, jobs)))
    workers = {slot: Worker(preload) for slot in slots}
    free = list(slots)
    lock = threading.Lock()

    def task(student):
        with lock:
            slot = free.pop()
        try:
            return grade_one(notebooks[student], student, assignment_id, spec, info, inputs, workers[slot],
                             limits, slot, tmp / f"slot{slot}" / student)
        except Exception as exc:  # a worker failure costs this student only
            return exc
        finally:
            with lock:
                free.append(slot)
            progress(student)

    try:
        with ThreadPoolExecutor(max_workers=len(slots)) as pool:
            results = dict(zip(notebooks, pool.map(task, list(notebooks))))
    finally:
        for w in workers.values():
            w.close()
    return results


def write_gradebook(db_url: str, assignment_id: str, info: SourceInfo, results: dict) -> None:
    """Store each verified part score as the auto score of its test cell."""
    from nbgrader.api import Gradebook, MissingEntry

    import warnings

    with warnings.catch_warnings(), Gradebook(db_url) as gb:
        warnings.simplefilter("ignore")  # SQLAlchemy notes about nbgrader's cascades, not ours to fix
        for student, res in results.items():
            gb.update_or_create_student(student)
            try:
                gb.remove_submission(assignment_id, student)
            except MissingEntry:
                pass
            gb.add_submission(assignment_id, student)
            for test_id, (earned, _max) in res.part_scores.items():
                grade = gb.find_grade(test_id, info.notebook_id, assignment_id, student)
                grade.auto_score = earned
                # as nbgrader's SaveAutoGrades: an auto score needs no grader unless one overrode it
                grade.needs_manual_grade = grade.manual_score is not None
            gb.db.commit()


def write_autograded(nb, res: Verified, info: SourceInfo, dest: Path) -> None:
    """The submission as graded: visible tests back in place, their output, and the verified score."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell.outputs, cell.execution_count = [], None
        meta = nbgrader_meta(cell)
        tid = meta.get("grade_id")
        if tid in info.points:
            cell.source = info.visible[tid] + "\n# (hidden tests: checked outside your notebook when graded)"
            earned, maximum = res.part_scores.get(tid, (0.0, info.points[tid]))
            vis = res.visible.get(tid, {})
            text = vis.get("stdout", "")
            if vis.get("error"):
                text += vis["error"] + "\n"
            why = res.part_messages.get(tid, "")
            text += f"Verified score: {earned:g} / {maximum:g}" + (f" ({why})" if why else "") + "\n"
            cell.outputs = [new_output("stream", name="stdout", text=text)]
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(dest))
