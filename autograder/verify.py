"""Verified grading, in the grader's own process: scores computed outside the student's kernel.

The trusted parent (this module) reads each submission as plain JSON, builds
the program to run (the student's solution and free cells; locked cells from
the instructor's source; test cells left out), draws the inputs of every part
(:mod:`autograder.parts`) and computes their reference outputs once per batch,
sends program and inputs to a zygote in the grading jail (:mod:`autograder.jail`,
:mod:`autograder.forkserver`) that runs them in a fresh sandbox, checks every
header of what comes back and compares it with the reference.  The student's
process never sees a hidden test, an expected value, another submission or the
gradebook, and nothing it does can change how the parent compares.

Results go into the nbgrader gradebook (``Grade.auto_score`` of each test
cell) and into an "autograded" notebook per student: the submission with the
visible tests restored, their output in the sandbox, and the verified score of
each part.  formgrader, ``nbgrader export`` and ``python -m autograder
feedback`` read those.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import queue
import subprocess
import threading
import time
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np
from nbformat.v4 import new_output

from .config import SOURCE_DIR
from .parts import describe_inputs, differences, joined
from .sandbox import FULL_ISOLATION
from .sealed import NO_TABLE, seal
from .zh import chinese

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


def program_cells(nb, info: SourceInfo) -> list[tuple[str, str]]:
    """(label, source) of the code to run for a submission, in the submission's order.

    Solution cells and the student's own cells as submitted; locked cells as
    in the instructor's source (edits undone; deleted ones put back first);
    test cells left out (the checks replace them).  The label names the cell
    in messages: "cell 7 (backprop)" is the notebook's 7th cell, grade id backprop.
    """
    cells, seen = [], set()
    for n, cell in enumerate(nb.cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        meta = nbgrader_meta(cell)
        gid = meta.get("grade_id")
        if gid in info.points or (meta.get("grade") and not meta.get("solution")):
            continue
        label = f"cell {n}" + (f" ({gid})" if gid else "")
        if gid in info.locked:
            cells.append((label, info.locked[gid]))
            seen.add(gid)
        else:
            cells.append((label, cell.get("source", "")))
    missing = [(f"restored cell ({g})", info.locked[g]) for g in info.locked_order if g not in seen]
    return missing + cells


def _npz(arrays: dict) -> str:
    buf = io.BytesIO()
    np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    return base64.b64encode(buf.getvalue()).decode()


class BadResult(ValueError):
    """A result from the sandbox that is not what the part expects (shape, type, size, format)."""


MAX_RESULT_BYTES = 64 << 20


def load_result(blob: str, want: dict) -> dict:
    """The arrays of one result, each header checked against ``want`` before a byte is loaded.

    The blob comes from the student's process: an uncompressed ``.npz`` whose
    members are exactly arrays of numbers with the expected shapes, no bigger
    than those shapes need.  Anything else raises :class:`BadResult`.
    """
    if len(blob) > MAX_RESULT_BYTES * 4 // 3 + 4:
        raise BadResult("the result is larger than any answer could be")
    try:
        raw = base64.b64decode(blob, validate=True)
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except (ValueError, zipfile.BadZipFile) as exc:
        raise BadResult(f"unreadable result ({exc})") from None
    out = {}
    with archive:
        infos = archive.infolist()
        if len(infos) > len(want):
            raise BadResult(f"{len(infos)} values came back, expected {len(want)}")
        for info in infos:
            key = info.filename[:-4] if info.filename.endswith(".npy") else None
            if key not in want or key in out:
                raise BadResult(f"unexpected value {info.filename!r}")
            if info.compress_type != zipfile.ZIP_STORED:
                raise BadResult(f"{key}: compressed result")
            shape = np.shape(want[key])
            if info.file_size > int(np.prod(shape, dtype=np.int64)) * 16 + 4096:
                raise BadResult(f"{key}: {info.file_size} bytes, far more than shape {shape} needs")
            with archive.open(info) as f:
                try:
                    version = np.lib.format.read_magic(f)
                    header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                              else np.lib.format.read_array_header_2_0)
                    got_shape, _, dtype = header(f)
                except ValueError as exc:
                    raise BadResult(f"{key}: unreadable array ({exc})") from None
                if dtype.hasobject or dtype.kind not in "biuf":
                    raise BadResult(f"{key} has dtype {dtype}, expected numbers")
                if tuple(got_shape) != tuple(shape):
                    raise BadResult(f"{key} has shape {tuple(got_shape)}, expected {tuple(shape)}")
            with archive.open(info) as f:
                out[key] = np.lib.format.read_array(f, allow_pickle=False)
    return out


def draw_inputs(spec, seed: int) -> dict:
    """{test_id: [inputs of each trial]} drawn from the batch's seed."""
    drawn = {}
    for part in spec.PARTS:
        salt = zlib.crc32(part.test_id.encode())
        drawn[part.test_id] = [part.make_inputs(np.random.default_rng([seed, salt, t]), t)
                               for t in range(part.trials)]
    return drawn


MAX_ANSWER_BYTES = 256 << 20


def stand_in_tables(spec, inputs: dict) -> dict:
    """{test id: the sealed stand-in table of each trial, as the line the sandbox reads when the part starts}."""
    tables = {}
    for part in spec.PARTS:
        if part.stand_ins is None:
            continue
        names, trials = set(), []
        for x in inputs[part.test_id]:
            calls = part.stand_ins(x)
            names |= {name for name, _, _ in calls}
            trials.append(seal(calls))
        tables[part.test_id] = json.dumps({"names": sorted(names), "trials": trials})
    return tables


class Zygote:
    """The grader's handle on one jailed zygote (:mod:`autograder.jail`, :mod:`autograder.forkserver`),
    used by one thread at a time."""

    def __init__(self, jail, log: Path):
        self.jail, self.log = jail, log
        self.proc = None

    def _start(self):
        j = self.jail
        with open(self.log, "ab") as log:   # the jail's own errors (bwrap, the zygote), never a student's output
            self.proc = subprocess.Popen(j.argv, env=j.env, cwd=j.cwd, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=log)

    def ask(self, job: dict, timeout: float, tables: dict | None = None) -> dict:
        """Send ``job``; answer the supervisor's requests for a part's stand-in table; return its final state."""
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        try:
            self._send(b"go\n" + json.dumps(job).encode() + b"\n")
        except BrokenPipeError:
            self.close()
            raise RuntimeError("the grading jail did not start" + (self._last_error() or
                               " (is bubblewrap allowed to make namespaces here?)"))
        deadline = time.monotonic() + timeout
        while True:
            state = json.loads(self._line(deadline))
            if "error" in state:
                raise RuntimeError(state["error"])
            if set(state) != {"need"}:
                return state
            try:   # a part starts: its table now, never before (autograder/sealed.py)
                self._send(((tables or {}).get(str(state["need"]), NO_TABLE) + "\n").encode())
            except BrokenPipeError:
                self.close()
                raise RuntimeError("the grading jail stopped answering" + self._last_error())

    def _send(self, data: bytes) -> None:
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def _line(self, deadline: float) -> bytes:
        answer = {}
        reader = threading.Thread(target=lambda: answer.setdefault(
            "line", self.proc.stdout.readline(MAX_ANSWER_BYTES)))
        reader.start()
        reader.join(max(0.0, deadline - time.monotonic()))
        if reader.is_alive() or not answer.get("line", b"").endswith(b"\n"):
            self.close()
            raise RuntimeError("the grading jail stopped answering" + self._last_error())
        return answer["line"]

    def _last_error(self) -> str:
        try:
            lines = [x for x in self.log.read_text(errors="replace").splitlines() if x.strip()]
        except OSError:
            return ""
        return f" ({lines[-1][-300:]})" if lines else ""

    def close(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            for pipe in (self.proc.stdin, self.proc.stdout):
                pipe.close()
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


# Whole modules a submission may not import while graded (the graded functions of course_lib and
# of third-party packages are stubbed out of the jail's files instead: autograder/strip.py).
BLOCKED_MODULES = ("autograder", "nbgrader")


def expected_outputs(spec, inputs: dict) -> dict:
    """{test_id: [reference outputs of each trial]}: computed once per batch, in one thread."""
    return {p.test_id: [p.expected(x) for x in inputs[p.test_id]] for p in spec.PARTS}


def _cell_notes(state: dict, cells: list) -> list[str]:
    """What went wrong in the submission's own cells, named by cell."""
    label = lambda i: cells[int(i)][0] if 0 <= int(i) < len(cells) else f"cell {i}"  # noqa: E731
    notes = [f"{label(i)} ran past the cell time limit and was interrupted" for i in state.get("interrupted", [])]
    errors = sorted(state["cell_errors"].items(), key=lambda kv: int(kv[0]))
    blocked = [e for _, e in errors if "is not available while" in e]
    if blocked:
        notes.append(blocked[0].splitlines()[-1])
    others = [f"{label(i)}: {e.splitlines()[-1]}" for i, e in errors if "is not available while" not in e]
    if others:
        notes.append("error in " + others[0] + (f" (and {len(others) - 1} more)" if len(others) > 1 else ""))
    return notes


def judge_trials(part, results: dict, inputs: list, expected: list) -> tuple[float, str]:
    """(share of the part's points earned, '' or what went wrong in the smallest trial that failed).

    An output earns its group's share (``Part.credit``) only if it is right in
    every trial; a trial that raised or came back unreadable fails every output.
    The message names the smallest failing trial's inputs (shapes, values when
    small), every output that differs with its worst entry, and how many trials failed.
    """
    failed, wrong = [], set()
    for t, want in enumerate(expected):
        result = results.get(str(t))
        problems = {}
        if result is None:
            message = f"{part.solution_id}: the check did not finish"
        elif "error" in result:
            message = f"{part.solution_id}: {result['error']}"
        else:
            try:
                problems = differences(part, load_result(result["npz"], want), want)
                message = joined(part, problems)
            except BadResult as exc:
                message = f"{part.solution_id}: {exc}"
        if message:
            wrong |= set(problems) if problems else set(want)
            size = sum(int(np.asarray(v).size) for v in inputs[t].values())
            failed.append((size, t, message))
    if not failed:
        return 1.0, ""
    share = part.share(expected[0].keys() if expected else (), wrong)
    size, t, message = min(failed)
    shown = describe_inputs(inputs[t])
    where = [] if len(expected) == 1 else [
        f"trial {t + 1} of {len(expected)}, " + ("the only one that fails" if len(failed) == 1
                                                 else f"{len(failed)} of {len(expected)} trials fail")]
    where += [f"inputs: {shown}"] if shown else []
    return share, f"{message} ({'; '.join(where)})" if where else message


def _trial_verdict(part, results: dict, inputs: list, expected: list) -> str:
    """'' if every trial of ``part`` passed; otherwise what went wrong (see :func:`judge_trials`)."""
    return judge_trials(part, results, inputs, expected)[1]


def grade_one(nb, student: str, assignment_id: str, spec, info: SourceInfo, inputs: dict, expected: dict,
              zygote: Zygote, limits: dict, tables: dict | None = None) -> Verified:
    parts = [{"id": p.test_id, "call": p.call, "trials": [_npz(x) for x in inputs[p.test_id]]} for p in spec.PARTS]
    cells = program_cells(nb, info)
    job = {
        "assignment_id": assignment_id, "cells": [src for _, src in cells], "parts": parts,
        "visible_tests": [{"id": tid, "source": src} for tid, src in info.visible.items()],
        "blocked": list(BLOCKED_MODULES), "scratch": zygote.jail.scratch, "drop_to": zygote.jail.drop_to,
        "private_tmp": zygote.jail.private_tmp,
        "memory_mb": limits["memory_mb"], "cpu_s": int(limits["submission_timeout"]) + 5,
        "cell_timeout": limits["cell_timeout"], "part_timeout": limits["part_timeout"],
        "submission_timeout": limits["submission_timeout"],
    }
    state = zygote.ask(job, timeout=limits["submission_timeout"] * 2 + 60, tables=tables)
    part_scores, part_messages = {}, {}
    for part in spec.PARTS:
        got = state["parts"].get(part.test_id, {})
        message, share = got.get("error", ""), 0.0
        if not message:
            share, message = judge_trials(part, got.get("trials", {}), inputs[part.test_id], expected[part.test_id])
        points = info.points.get(part.test_id, 0.0)
        part_scores[part.test_id] = (points if share == 1 else round(points * share, 2), points)   # 2/3 of 4: 2.67
        part_messages[part.test_id] = message
    score = sum(s for s, _ in part_scores.values())
    max_score = sum(info.points.values()) + sum(info.manual.values())
    notes = list(state["notes"]) + _cell_notes(state, cells)
    failed = [m for m in part_messages.values() if m]
    if info.manual:
        notes.append(f"{sum(info.manual.values()):g} point(s) are graded by hand")
    shown = failed[:3] + ([f"and {len(failed) - 3} more failing part(s)"] if len(failed) > 3 else [])
    message = "; ".join(notes + shown)
    isolation = state["isolation"] if state["isolation"] not in FULL_ISOLATION else ""
    if zygote.jail.note:
        isolation = (isolation + "; " if isolation else "") + zygote.jail.note
    if isolation:
        message = (message + "; " if message else "") + f"isolation: {isolation}"
    return Verified(student, score, max_score, state["status"], message[:2000], part_scores, part_messages,
                    state["visible"], notes)


class Checker:
    """One assignment's verified checks on one seed, ready to grade any number of notebooks.

    Holds what a batch shares: the jail's staging (built once), the inputs drawn
    from ``seed`` and their reference outputs (computed once), and ``jobs``
    zygotes.  :meth:`grade` may be called from ``jobs`` threads at once.  Used
    by :func:`run_batch` and by nbgrader's autograde (:mod:`autograder.preprocessors`).
    """

    def __init__(self, assignment_id: str, spec, *, seed: int, limits: dict, tmp: Path, jobs: int = 1):
        from .jail import build

        self.assignment_id, self.spec, self.seed, self.limits = assignment_id, spec, seed, limits
        self.info = source_info(assignment_id)
        if hasattr(spec, "prepare"):  # e.g. build a data cache the read-only sandbox will need
            spec.prepare()
        self.inputs = draw_inputs(spec, seed)
        self.expected = expected_outputs(spec, self.inputs)
        self.tables = stand_in_tables(spec, self.inputs)
        jail = build(assignment_id, spec, Path(tmp) / "jail", tuple(getattr(spec, "PRELOAD", ())))
        self.zygotes = [Zygote(jail, Path(tmp) / f"jail{slot}.log") for slot in range(max(1, jobs))]
        self._free = queue.Queue()
        for zygote in self.zygotes:
            self._free.put(zygote)

    def grade(self, nb, student: str) -> Verified:
        zygote = self._free.get()   # waits while every zygote is busy (e.g. two clicks on formgrader's Autograde)
        try:
            return grade_one(nb, student, self.assignment_id, self.spec, self.info, self.inputs, self.expected,
                             zygote, self.limits, self.tables)
        finally:
            self._free.put(zygote)

    def close(self) -> None:
        for zygote in self.zygotes:
            zygote.close()


def program_key(nb, info: SourceInfo) -> str:
    """A digest of the code :func:`program_cells` runs for ``nb``: equal keys, equal programs."""
    return hashlib.sha256(json.dumps([src for _, src in program_cells(nb, info)]).encode()).hexdigest()


def run_batch(assignment_id: str, spec, notebooks: dict, *, jobs: int, seed: int, limits: dict, tmp: Path):
    """Check {student: notebook}, ``jobs`` at a time; yields (student, Verified or the exception) as each finishes."""
    checker = Checker(assignment_id, spec, seed=seed, limits=limits, tmp=tmp, jobs=jobs)
    try:
        with ThreadPoolExecutor(max_workers=len(checker.zygotes)) as pool:
            futures = {pool.submit(checker.grade, nb, student): student for student, nb in notebooks.items()}
            for future in as_completed(futures):   # a jail failure costs its student only
                yield futures[future], future.exception() or future.result()
    finally:
        checker.close()


VERIFIED_MIME = "application/vnd.course.verified+json"


def verdict_outputs(res: Verified, test_id: str, points: float) -> list:
    """The outputs nbgrader stores for one graded test cell, so that its stock SaveAutoGrades reads the verified score.

    nbgrader scores a test cell by its outputs: an error gives 0, an
    ``execute_result`` that is a number gives that many points, *no output*
    gives full credit.  Every graded cell therefore gets two: what the visible
    tests printed and the verdict (a ``display_data`` the feedback keeps), then
    the score as an ``execute_result`` (which the feedback drops).
    """
    earned, maximum = res.part_scores.get(test_id, (0.0, points))
    vis = res.visible.get(test_id, {})
    text = vis.get("stdout", "")
    if vis.get("error"):
        text += vis["error"] + "\n"
    why = res.part_messages.get(test_id, "") if test_id in res.part_scores else "no verified check for this cell"
    text += f"Verified score: {earned:g} / {maximum:g}" + (f" ({why})" if why else "") + "\n"
    text += f"验证得分：{earned:g} / {maximum:g}" + (f"（{chinese(why)}）" if why else "") + "\n"
    verdict = {"test_id": test_id, "score": earned, "max_score": maximum, "message": why}
    return [new_output("display_data", data={"text/plain": text, VERIFIED_MIME: verdict}),
            new_output("execute_result", data={"text/plain": repr(float(earned))}, execution_count=None)]
