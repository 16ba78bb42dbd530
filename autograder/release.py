"""``python -m autograder release``: regenerate student notebooks from solutions/.

Runs ``nbgrader generate_assignment`` on ``solutions/<ID>/`` and writes
``notebooks/assignments/<ID>/``.  The result is deterministic, so a test can
regenerate into a temporary folder and compare with what is committed.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from .config import RELEASE_DIR, WORK_DIR, assignment_ids
from .nbgrader_api import make_api


class ReleaseError(RuntimeError):
    pass


def release(ids: list[str] | None = None, release_dir: Path = RELEASE_DIR,
            work_dir: Path = WORK_DIR, db_url: str | None = None) -> list[Path]:
    """Generate the student version of each assignment; returns the notebooks written."""
    ids = ids or assignment_ids()
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    api = make_api(release_dir=Path(release_dir), work_dir=work_dir, db_url=db_url)
    written = []
    for assignment_id in ids:
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


def stale_releases(ids: list[str] | None = None) -> list[str]:
    """Assignments whose committed release differs from a fresh generation."""
    ids = ids or assignment_ids()
    stale = []
    with tempfile.TemporaryDirectory() as tmp:
        fresh_dir = Path(tmp) / "release"
        release(ids, release_dir=fresh_dir, work_dir=Path(tmp) / "work")
        for assignment_id in ids:
            fresh = sorted(p.relative_to(fresh_dir) for p in (fresh_dir / assignment_id).rglob("*") if p.is_file())
            committed_dir = RELEASE_DIR / assignment_id
            committed = sorted(p.relative_to(RELEASE_DIR) for p in committed_dir.rglob("*") if p.is_file()) \
                if committed_dir.exists() else []
            if fresh != committed:
                stale.append(assignment_id)
                continue
            for rel in fresh:
                a, b = fresh_dir / rel, RELEASE_DIR / rel
                same = _canonical(a) == _canonical(b) if rel.suffix == ".ipynb" else a.read_bytes() == b.read_bytes()
                if not same:
                    stale.append(assignment_id)
                    break
    return stale
