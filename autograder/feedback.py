"""``python -m autograder feedback``: HTML feedback that does not give away hidden tests.

nbgrader's own ``generate_feedback`` shows the hidden tests, and even with
``ClearHiddenTests`` the tracebacks still quote them.  Here every graded test
cell that contains hidden tests is rewritten before export: its source keeps
only the visible part, and its outputs are replaced by the cell's score and,
on failure, the exception's *type* only (an ``AssertionError`` message from a
hidden test could print the expected values).
"""

from __future__ import annotations

import html
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbformat.v4 import new_markdown_cell, new_output

from .config import WORK_DIR
from .verify import HIDDEN_BEGIN, visible_source


def visible_part(source: str) -> str:
    """The source of a test cell with every hidden-test block removed, and a note where they ran."""
    return visible_source(source) + "\n# (hidden tests ran here when your notebook was graded)"


def scrub(nb, scores: dict[str, tuple[float, float]]):
    """Return the notebook with hidden tests and their outputs removed (in place)."""
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade") or HIDDEN_BEGIN not in cell.source:
            continue
        score, max_score = scores.get(meta.get("grade_id"), (0.0, float(meta.get("points", 0))))
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        verdict = f"Score for this cell: {score:g} / {max_score:g}."
        if errors:
            verdict += f" The tests raised {errors[0].get('ename', 'an error')}; details of hidden tests are not shown."
        cell.source = visible_part(cell.source)
        cell.outputs = [new_output("stream", name="stdout", text=verdict + "\n")]
    return nb


def cell_scores(db_url: str, assignment_id: str, notebook_id: str, student_id: str) -> dict:
    from nbgrader.api import Gradebook, MissingEntry

    scores = {}
    with Gradebook(db_url) as gb:
        nb_sub = gb.find_submission_notebook(notebook_id, assignment_id, student_id)
        for grade in nb_sub.grades:
            try:
                scores[grade.name] = (float(grade.score), float(grade.max_score))
            except (MissingEntry, TypeError):
                continue
    return scores


def feedback(assignment_id: str, work_dir: Path = WORK_DIR, db_url: str | None = None,
             students: list[str] | None = None) -> list[Path]:
    """Write ``work_dir/feedback/<student>/<ID>/<notebook>.html`` for graded students."""
    work_dir = Path(work_dir).resolve()
    db_url = db_url or f"sqlite:///{work_dir / 'gradebook.db'}"
    autograded = work_dir / "autograded"
    exporter = HTMLExporter(template_name="lab")
    written = []
    for student_dir in sorted(p for p in autograded.glob("*") if p.is_dir()):
        if students and student_dir.name not in students:
            continue
        for path in sorted((student_dir / assignment_id).glob("*.ipynb")):
            nb = nbformat.read(str(path), as_version=4)
            scores = cell_scores(db_url, assignment_id, path.stem, student_dir.name)
            total = sum(s for s, _ in scores.values())
            max_total = sum(m for _, m in scores.values())
            scrub(nb, scores)
            nb.cells.insert(0, new_markdown_cell(
                f"# Feedback: {html.escape(assignment_id)} — {html.escape(student_dir.name)}\n\n"
                f"**Total: {total:g} / {max_total:g}**"))
            body, _ = exporter.from_notebook_node(nb)
            dest = work_dir / "feedback" / student_dir.name / assignment_id / f"{path.stem}.html"
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(body, encoding="utf-8")
            written.append(dest)
    return written
