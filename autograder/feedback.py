"""``python -m autograder feedback``: nbgrader's ``generate_feedback``, with the course's configuration.

A thin front door: the same converter runs behind ``nbgrader generate_feedback``
and formgrader's *Generate Feedback* button, and ``nbgrader_config.py`` puts
:class:`autograder.preprocessors.ScrubHiddenTests` in it, so no door writes a
hidden test, its seeds or its expected values into a student's feedback.  Each
page shows the visible tests, what they printed, and the verified score and
reason per part; maths is MathML (:mod:`autograder.mathml`), readable offline.
"""

from __future__ import annotations

from pathlib import Path

from .config import WORK_DIR, gradebook_url
from .nbgrader_api import make_api


class FeedbackError(RuntimeError):
    pass


def feedback(assignment_id: str, work_dir: Path = WORK_DIR, db_url: str | None = None,
             students: list[str] | None = None) -> list[Path]:
    """Write ``work_dir/feedback/<student>/<ID>/<notebook>.html`` for every graded student."""
    work_dir = Path(work_dir).resolve()
    db_url = gradebook_url(work_dir, db_url)
    graded = sorted(p.parent.name for p in (work_dir / "autograded").glob(f"*/{assignment_id}") if p.is_dir()
                    and (not students or p.parent.name in students))
    api = make_api(release_dir=work_dir / "release", work_dir=work_dir, db_url=db_url)
    written = []
    for student in graded:
        result = api.generate_feedback(assignment_id, student, force=True)
        if not result["success"]:
            last = [x for x in (result.get("log", "") + "\n" + result.get("error", "")).splitlines() if x.strip()]
            raise FeedbackError(f"feedback for {student} failed: {last[-1].strip() if last else 'unknown error'}")
        written.extend(sorted((work_dir / "feedback" / student / assignment_id).glob("*.html")))
    return written
