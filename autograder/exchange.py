"""formgrader's *Release* and ``nbgrader release_assignment``: publish only what ``solutions/`` generates.

nbgrader's release copies the release folder as it is on disk.  In this course
that folder is ``notebooks/assignments/<ID>``, which students in a local clone
open too: a release from it could publish one student's answers.  Here the
release folder is first compared with a fresh generation from ``solutions/``
(``python -m autograder release --check`` does the same for every assignment);
if anything differs, nothing is released and the message says what to run.
"""

from __future__ import annotations

from pathlib import Path

from nbgrader.exchange.default.release_assignment import ExchangeReleaseAssignment


class VerifiedReleaseAssignment(ExchangeReleaseAssignment):
    """nbgrader's release, refused when the release folder is not what ``solutions/`` generates."""

    def init_src(self):
        super().init_src()
        from .release import release_differences

        assignment_id = self.coursedir.assignment_id
        differences = release_differences(assignment_id, Path(self.src_path).parent)
        if differences:
            self.fail(f"not released: {self.src_path} differs from what solutions/{assignment_id} generates "
                      f"({'; '.join(differences[:3])}); run `make release` (or formgrader's Generate) "
                      f"and release again. Students in a clone work in their own copy (see README).")
