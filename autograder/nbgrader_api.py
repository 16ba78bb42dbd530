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


def make_api(**config_kwargs) -> NbGraderAPI:
    """An NbGraderAPI whose course directory follows :func:`course_config`."""
    ensure_tools_on_path()
    config = course_config(**config_kwargs)
    coursedir = CourseDirectory(config=config)
    return NbGraderAPI(coursedir=coursedir, config=config)
