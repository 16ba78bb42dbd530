"""``python -m autograder release``: regenerate student notebooks from solutions/.

First writes each solution notebook's "while graded" line (which functions a
submission cannot import while graded) from its spec's ``GRADED``, then runs
``nbgrader generate_assignment`` on ``solutions/<ID>/`` and writes
``notebooks/assignments/<ID>/``.  The result is deterministic, so a test can
regenerate into a temporary folder and compare with what is committed.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import nbformat

from .config import RELEASE_DIR, SOURCE_DIR, WORK_DIR, assignment_ids
from .nbgrader_api import make_api
from .parts import load_spec
from .strip import WHOLE_MODULE

GRADED_NOTE_ID = "md_while_graded"


class ReleaseError(RuntimeError):
    pass


def graded_note(graded: dict) -> str:
    """The released notebook's one line on what may not be imported while graded (from the spec's GRADED)."""
    items = []
    for module, names in graded.items():
        if names in (WHOLE_MODULE, (WHOLE_MODULE,)):
            items.append(f"`{module}`")
        else:
            shown = [n for n in names if not any(part.startswith("_") for part in n.split("."))]
            if shown:                           # a module whose blocked names are all private goes unnamed
                items.append(f"`{module}`: " + ", ".join(f"`{n}`" for n in shown))
    return ("**While graded** your code cannot import what this problem set asks you to write, nor its "
            "re-implementations elsewhere: " + "; ".join(items) + ". Everything else may be imported. "
            "Answers are compared in float64 (numpy's default); a float32 answer is accepted within float32 "
            "precision (relative 1e-4). / 评分时上述函数不可导入（评分检查的是你自己的实现），其余部分都可以使用；"
            "答案按 float64 比较，float32 的答案在 float32 精度（相对误差 1e-4）内也算对。")


def sync_graded_note(assignment_id: str) -> bool:
    """Write the "while graded" line into the solution notebook (after its title cell); True if it changed."""
    spec = load_spec(assignment_id)
    if spec is None or not getattr(spec, "GRADED", None):
        return False
    path = SOURCE_DIR / assignment_id / f"{assignment_id}.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    text = graded_note(spec.GRADED)
    cell = next((c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == GRADED_NOTE_ID),
                None)
    if cell is not None and cell.source == text:
        return False
    if cell is None:
        cell = nbformat.v4.new_markdown_cell(text)
        cell.id = GRADED_NOTE_ID.replace("_", "-")
        cell.metadata["nbgrader"] = {"grade": False, "grade_id": GRADED_NOTE_ID, "locked": True,
                                     "schema_version": 3, "solution": False, "task": False}
        nb.cells.insert(1, cell)
    cell.source = text
    nbformat.write(nb, str(path))
    return True


def release(ids: list[str] | None = None, release_dir: Path = RELEASE_DIR,
            work_dir: Path = WORK_DIR, db_url: str | None = None) -> list[Path]:
    """Generate the student version of each assignment; returns the notebooks written."""
    ids = ids or assignment_ids()
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    api = make_api(release_dir=Path(release_dir), work_dir=work_dir, db_url=db_url)
    written = []
    for assignment_id in ids:
        if Path(release_dir) == RELEASE_DIR:
            sync_graded_note(assignment_id)
        result = api.generate_assignment(assignment_id, force=True, create=True)
        if not result["success"]:
            raise ReleaseError(
                f"nbgrader generate_assignment failed for {assignment_id}:\n"
                f"{result.get('log', '')}\n{result.get('error', '')}"
            )
        written.extend(sorted((Path(release_dir) / assignment_id).glob("*.ipynb")))
    return written


def _canonical(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _files(release_dir: Path, assignment_id: str) -> set[Path]:
    """The files of ``release_dir/<ID>``, relative to ``release_dir`` (JupyterLab's checkpoints left out)."""
    folder = release_dir / assignment_id
    return {p.relative_to(release_dir) for p in folder.rglob("*")
            if p.is_file() and ".ipynb_checkpoints" not in p.parts} if folder.exists() else set()


def release_differences(assignment_id: str, release_dir: Path = RELEASE_DIR) -> list[str]:
    """What differs between ``release_dir/<ID>`` and a fresh generation from ``solutions/<ID>`` ([] if nothing)."""
    release_dir = Path(release_dir)
    with tempfile.TemporaryDirectory() as tmp:
        fresh_dir = Path(tmp) / "release"
        release([assignment_id], release_dir=fresh_dir, work_dir=Path(tmp) / "work")
        fresh, there = _files(fresh_dir, assignment_id), _files(release_dir, assignment_id)
        differences = [f"{rel} is missing" for rel in sorted(fresh - there)]
        differences += [f"{rel} is not generated from solutions/" for rel in sorted(there - fresh)]
        for rel in sorted(fresh & there):
            a, b = fresh_dir / rel, release_dir / rel
            try:
                same = _canonical(a) == _canonical(b) if rel.suffix == ".ipynb" else a.read_bytes() == b.read_bytes()
            except ValueError:   # not JSON any more
                same = False
            if not same:
                differences.append(f"{rel} was changed")
    return differences


def stale_releases(ids: list[str] | None = None) -> list[str]:
    """Assignments whose committed release differs from a fresh generation."""
    return [assignment_id for assignment_id in ids or assignment_ids() if release_differences(assignment_id)]
