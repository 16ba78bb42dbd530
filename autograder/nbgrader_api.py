"""A thin wrapper around nbgrader's Python API with the course configuration."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory

from .config import course_config


def ensure_tools_on_path() -> None:
    """nbgrader shells out to ``alembic``: put this interpreter's bin/ on PATH."""
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def _alembic_head_in_process() -> str:
    """The gradebook schema's alembic head, read from nbgrader's migration scripts.

    nbgrader asks a new gradebook for it by running the ``alembic`` command in a
    subprocess (3 s and more on 2 cores); reading the scripts here gives the same
    revision in a few milliseconds.
    """
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import _temp_alembic_ini

    with _temp_alembic_ini("sqlite:////tmp/gradebook.db") as ini:
        return ScriptDirectory.from_config(Config(ini)).get_current_head()


def use_in_process_alembic() -> None:
    import nbgrader.api

    nbgrader.api.get_alembic_version = _alembic_head_in_process


def quiet_false_warnings() -> None:
    """Hide two notes nbgrader's own code causes on every batch, which say nothing about a submission.

    SQLAlchemy's "not in session" about nbgrader's cascades, and nbformat's
    "Cell is missing an id field" about the test cells nbgrader puts back.
    """
    import warnings

    from nbformat.warnings import MissingIDFieldWarning
    from sqlalchemy.exc import SAWarning

    warnings.filterwarnings("ignore", message=r"Object of type <\w+> not in session", category=SAWarning)
    warnings.filterwarnings("ignore", category=MissingIDFieldWarning)


def make_api(extra=None, **config_kwargs) -> NbGraderAPI:
    """An NbGraderAPI whose course directory follows :func:`course_config` (plus ``extra`` settings)."""
    ensure_tools_on_path()
    quiet_false_warnings()
    use_in_process_alembic()
    config = course_config(**config_kwargs)
    if extra is not None:
        config.merge(extra)
    coursedir = CourseDirectory(config=config)
    return NbGraderAPI(coursedir=coursedir, config=config)
