"""The verified engine inside nbgrader: preprocessors that ``nbgrader_config.py`` puts in nbgrader's converters.

nbgrader grades a notebook by running it in a kernel (``Execute``) and then
reading each test cell's outputs (``SaveAutoGrades``).  The course replaces
the first step and keeps the rest, so every door of nbgrader — ``nbgrader
autograde``, formgrader's *Autograde* button, ``python -m autograder grade`` —
stores the same verified score in the same gradebook:

- :class:`VerifiedExecute` (in ``Autograde.autograde_preprocessors`` in place
  of ``Execute``) asks the verified engine (:mod:`autograder.verify`) what each
  part returned in the jail, and writes every test cell's verdict as its output;
- :class:`QuietOverwriteCells` (in ``Autograde.sanitize_preprocessors`` in
  place of ``OverwriteCells``) does not warn about a test cell that is exactly
  as released (its hidden tests were cut out for students, nbgrader #1961);
- :class:`ScrubHiddenTests` (in ``GenerateFeedback.preprocessors``) removes
  hidden tests from feedback, and every output of a test cell but its verdict.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

from nbformat.v4 import new_output
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor, OverwriteCells
from nbgrader.utils import is_grade, is_solution
from traitlets import Float, Integer

from .config import DEFAULT_CELL_TIMEOUT, DEFAULT_MEMORY_MB

# Results already computed by a parallel batch (python -m autograder grade):
# {(assignment, student): (program key, Verified)}.  VerifiedExecute uses one only
# if the notebook nbgrader hands it runs exactly the program that was graded.
PREFETCHED: dict = {}


class _Checkers:
    """One :class:`autograder.verify.Checker` per assignment and settings, kept while in use.

    ``nbgrader autograde`` grades students one after the other in one process:
    the jail and the reference outputs are built once.  In a long-lived process
    (the Jupyter server behind formgrader) a checker unused for ``idle_s`` is
    closed, so no zygote lingers after the last click.
    """

    idle_s = 120.0

    def __init__(self):
        self._lock = threading.Lock()
        self._open: dict = {}   # key -> {"checker", "tmp", "busy", "used"}
        self._sweep = None      # the pending idle check, if any
        atexit.register(self.close_all)

    @contextlib.contextmanager
    def use(self, key, make):
        with self._lock:
            if key not in self._open:
                tmp = tempfile.mkdtemp(prefix="course-verify-")
                os.chmod(tmp, 0o755)
                self._open[key] = {"checker": make(Path(tmp)), "tmp": tmp, "busy": 0}
            entry = self._open[key]
            entry["busy"] += 1
        try:
            yield entry["checker"]
        finally:
            with self._lock:
                entry["busy"] -= 1
                entry["used"] = time.monotonic()
                self._schedule(self.idle_s + 1)

    def _schedule(self, delay: float) -> None:
        """Check for idle checkers in ``delay`` seconds, unless a check is already pending (under the lock)."""
        if self._sweep is None:
            self._sweep = threading.Timer(delay, self._close_idle)
            self._sweep.daemon = True
            self._sweep.start()

    def _close_idle(self):
        with self._lock:
            self._sweep = None
            now = time.monotonic()
            for key, entry in list(self._open.items()):
                if entry["busy"] == 0 and now - entry["used"] >= self.idle_s:
                    self._close(key)
            waiting = [self.idle_s - (now - e["used"]) for e in self._open.values() if e["busy"] == 0]
            if waiting:   # used since this check was scheduled: look again when the next one turns idle
                self._schedule(min(waiting) + 0.1)

    def _close(self, key):
        entry = self._open.pop(key)
        entry["checker"].close()
        shutil.rmtree(entry["tmp"], ignore_errors=True)

    def close_all(self):
        with self._lock:
            for key in list(self._open):
                self._close(key)


CHECKERS = _Checkers()


class VerifiedExecute(NbGraderPreprocessor):
    """Grade a submission with the verified engine instead of running it in a kernel.

    For every auto-graded test cell it writes the verified verdict as the cell's
    output: what the visible tests printed, ``Verified score: x / y (why)``, and
    the score as a number, from which nbgrader's ``SaveAutoGrades`` stores
    exactly those points.  A test cell with no verified check scores 0 (nbgrader
    would give full credit to a cell without output).  An assignment without a
    spec in ``autograder/specs/`` is refused.
    """

    seed = Integer(None, allow_none=True,
                   help="Seed of the inputs drawn for the checks (default: a new one per process, logged)"
                   ).tag(config=True)
    timeout = Integer(DEFAULT_CELL_TIMEOUT, help="Seconds a cell of the submission may run").tag(config=True)
    memory_mb = Integer(DEFAULT_MEMORY_MB, help="Memory limit of a submission, in MiB").tag(config=True)
    submission_timeout = Float(0.0, help="Seconds for a whole submission (0: max(120, 10 x timeout))"
                               ).tag(config=True)

    _process_seed = None

    def _limits(self) -> dict:
        whole = self.submission_timeout or max(120.0, 10.0 * self.timeout)
        return {"cell_timeout": self.timeout, "part_timeout": self.timeout, "memory_mb": self.memory_mb,
                "submission_timeout": whole}

    def _seed(self) -> int:
        if self.seed is not None:
            return self.seed
        if VerifiedExecute._process_seed is None:
            VerifiedExecute._process_seed = int.from_bytes(os.urandom(4), "little")
        return VerifiedExecute._process_seed

    def preprocess(self, nb, resources):
        from .parts import load_spec
        from .verify import Checker, program_key, source_info, verdict_outputs

        assignment_id = resources["nbgrader"]["assignment"]
        student = resources["nbgrader"]["student"]
        spec = load_spec(assignment_id)
        if spec is None:
            raise RuntimeError(f"{assignment_id} has no verified checks: write autograder/specs/{assignment_id}.py "
                               "(nbgrader's in-kernel autograde is not used: a student could patch its tests)")
        key, res = PREFETCHED.pop((assignment_id, student), (None, None))
        if res is None or key != program_key(nb, source_info(assignment_id)):
            seed, limits = self._seed(), self._limits()
            self.log.info("verified grading of %s for %s (inputs drawn with seed %s)", assignment_id, student, seed)
            with CHECKERS.use((assignment_id, seed, tuple(sorted(limits.items()))),
                              lambda tmp: Checker(assignment_id, spec, seed=seed, limits=limits, tmp=tmp)) as checker:
                res = checker.grade(nb, student)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
                meta = cell.metadata.get("nbgrader", {})
                if is_grade(cell) and not is_solution(cell):
                    cell.outputs = verdict_outputs(res, meta.get("grade_id", ""), float(meta.get("points", 0)))
        log = self.log.info if res.status == "ok" else self.log.warning
        log("%s %s: %g / %g verified (%s)%s", assignment_id, student, res.score, res.max_score, res.status,
            f": {res.message}" if res.message else "")
        return nb, resources


class QuietOverwriteCells(OverwriteCells):
    """nbgrader's ``OverwriteCells``, without its false warning and without its crashes on forged metadata.

    - A released test cell lacks its hidden tests, so its checksum always
      differs from the instructor's (nbgrader #1961): four "checksum has
      changed" warnings per untouched submission.  A test cell whose source is
      exactly its released (visible) part is put back silently; any other
      change is still reported.
    - A submission's nbgrader flags (grade, solution, task, locked) are put back
      as the instructor's source has them, with a warning: a test cell turned
      into a "solution" crashed nbgrader ("Inconsistent checksums") or sent
      it to manual grading.
    - A cell claiming a grade id the assignment does not have loses its nbgrader
      metadata, with a warning (nbgrader kept ``grade: true`` without an id and
      crashed on ``KeyError: 'grade_id'``).
    """

    def _source_cells(self) -> dict:
        """{grade id: (flags, source)} of the instructor's notebook, read once per notebook."""
        key = (self.notebook_id, self.assignment_id)
        if getattr(self, "_source_key", None) != key:
            source_nb = self.gradebook.find_notebook(*key)
            grade = {c.name for c in source_nb.grade_cells}
            solution = {c.name for c in source_nb.solution_cells}
            task = {c.name for c in source_nb.task_cells}
            self._source = {c.name: ({"grade": c.name in grade, "solution": c.name in solution, "task": c.name in task,
                                      "locked": bool(c.locked)}, c.source) for c in source_nb.source_cells}
            self._source_key = key
        return self._source

    def preprocess_cell(self, cell, resources, cell_index):
        from .verify import visible_source

        meta = cell.metadata.get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if not grade_id:
            if meta:
                self.log.warning("A cell without a grade id lost its nbgrader metadata %s", dict(meta))
                del cell.metadata["nbgrader"]
            return cell, resources
        if grade_id not in self._source_cells():
            self.log.warning("Cell %s is not in the assignment: its nbgrader metadata was removed", grade_id)
            del cell.metadata["nbgrader"]
            return cell, resources
        flags, source = self._source_cells()[grade_id]
        for flag, value in flags.items():
            if bool(meta.get(flag, False)) != value:
                self.report_change(grade_id, flag, value, meta.get(flag, False))
                meta[flag] = value
        if flags["grade"] and not flags["solution"] and cell.source.rstrip() == visible_source(source):
            cell.source = source   # exactly as released: not a change
        return super().preprocess_cell(cell, resources, cell_index)


HIDDEN_NOTE = "# (hidden tests ran here, outside your notebook, when it was graded)"


class ScrubHiddenTests(ClearHiddenTests):
    """Feedback without hidden tests: nbgrader's ``ClearHiddenTests``, plus the outputs.

    ``ClearHiddenTests`` removes the hidden lines from a test cell's source, but
    a traceback in its outputs can still quote them, with their expected values.
    Here every auto-graded test cell keeps only the verdict :class:`VerifiedExecute`
    wrote (what the visible tests printed, the verified score and why); any other
    output — e.g. from an older in-kernel autograde — is replaced by one line.
    A hidden-test marker in a student's own cell is cut, never an error.
    """

    enforce_metadata = False

    def preprocess_cell(self, cell, resources, cell_index):
        from .verify import VERIFIED_MIME

        removed = self._remove_hidden_test_region(cell)
        if cell.cell_type == "code" and is_grade(cell) and not is_solution(cell):
            verdicts = [o for o in cell.get("outputs", []) if VERIFIED_MIME in o.get("data", {})]
            if verdicts:
                cell.outputs = [new_output("stream", name="stdout", text=o["data"]["text/plain"]) for o in verdicts]
            else:
                cell.outputs = [new_output("stream", name="stdout",
                                           text="This cell was not graded by the verified checks; "
                                                "details of hidden tests are not shown.\n")]
            if removed:
                cell.source = cell.source.rstrip() + "\n" + HIDDEN_NOTE
        return cell, resources
