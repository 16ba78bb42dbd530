"""Registering an assignment in a gradebook that several graders share, without losing anyone's grades.

nbgrader's ``generate_assignment`` registers an assignment's cells in the
gradebook; when the notebook is already there *without submissions* it removes
it and adds it again.  Two graders sharing one gradebook (shards of one batch,
``--db postgresql://...``) race: one removes the notebook the instant after the
other recorded a submission into it, and that grade is gone.  So registration
here happens under a lock (PostgreSQL's advisory lock, or a file lock next to a
SQLite file), and not at all when the gradebook already holds exactly what
``solutions/`` generates.
"""

from __future__ import annotations

import contextlib
import fcntl
import tempfile
import zlib
from pathlib import Path

from .nbgrader_api import make_api


def cells(db_url: str, assignment_id: str) -> dict | None:
    """{notebook: {cell: (type, locked, checksum, source, points)}} of the assignment in a gradebook, None if absent."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gb:
        try:
            assignment = gb.find_assignment(assignment_id)
        except MissingEntry:
            return None
        out = {}
        for nb in assignment.notebooks:
            points = {c.name: float(c.max_score) for c in nb.grade_cells}
            out[nb.name] = {c.name: (c.cell_type, bool(c.locked), c.checksum, c.source, points.get(c.name))
                            for c in nb.source_cells}
        return out


@contextlib.contextmanager
def registration_lock(db_url: str, assignment_id: str):
    """Only one grader registers ``assignment_id`` in this gradebook at a time."""
    if db_url.startswith("sqlite:///"):
        with open(db_url[len("sqlite:///"):] + ".register-lock", "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            yield
        return
    from sqlalchemy import create_engine, text

    key = zlib.crc32(f"nbgrader-register:{assignment_id}".encode())
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            try:
                yield
            finally:
                if engine.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
    finally:
        engine.dispose()


def register(api, assignment_id: str, db_url: str) -> dict:
    """Put ``assignment_id`` in the gradebook unless it is there already, as ``solutions/`` generates it.

    Returns nbgrader's result dict (``success``, ``log``, ``error``).
    """
    with registration_lock(db_url, assignment_id):
        shared = cells(db_url, assignment_id)
        if shared is None:   # not registered yet: nothing to compare, nothing another grader recorded
            return api.generate_assignment(assignment_id, force=True, create=True)
        with tempfile.TemporaryDirectory(prefix="course-register-") as tmp:
            private = f"sqlite:///{Path(tmp) / 'gradebook.db'}"
            fresh = make_api(release_dir=Path(tmp) / "release", work_dir=Path(tmp), db_url=private)
            result = fresh.generate_assignment(assignment_id, force=True, create=True)
            if not result["success"] or cells(private, assignment_id) == shared:
                return result
        return api.generate_assignment(assignment_id, force=True, create=True)
