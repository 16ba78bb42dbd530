"""Where the course's files live, and the nbgrader configuration built from them.

The layout (see README.md):

- ``solutions/<ID>/<ID>.ipynb``           instructor notebooks (nbgrader source)
- ``notebooks/assignments/<ID>/<ID>.ipynb`` released student notebooks (generated)
- ``.grading/``                           ignored work area: submitted, autograded,
                                          feedback and the SQLite gradebook

``nbgrader_config.py`` at the repository root loads :func:`course_config`, so
``nbgrader`` on the command line and formgrader in JupyterLab see the same
course as ``python -m autograder``.
"""

from __future__ import annotations

from pathlib import Path

from traitlets.config import Config

COURSE_ID = "classic-neural-nlp"
REPO = Path(__file__).resolve().parent.parent
SOURCE_DIR = REPO / "solutions"
RELEASE_DIR = REPO / "notebooks" / "assignments"
WORK_DIR = REPO / ".grading"

# Per-cell execution limit used by autograding (seconds); a whole submission
# has its own, larger wall-clock budget in autograder.grade.
DEFAULT_CELL_TIMEOUT = 60
DEFAULT_MEMORY_MB = 4096


def assignment_ids() -> list[str]:
    """The assignments whose source notebook exists: ``solutions/<ID>/<ID>.ipynb``."""
    return sorted(p.name for p in SOURCE_DIR.iterdir() if (p / f"{p.name}.ipynb").is_file())


def gradebook_url(work_dir: Path, db_url: str | None = None) -> str:
    """``db_url``, or the default gradebook: SQLite in the work area."""
    return db_url or f"sqlite:///{Path(work_dir) / 'gradebook.db'}"


def course_config(
    root: Path = REPO,
    release_dir: Path = RELEASE_DIR,
    work_dir: Path = WORK_DIR,
    db_url: str | None = None,
    cell_timeout: int = DEFAULT_CELL_TIMEOUT,
) -> Config:
    """nbgrader configuration for the course.

    ``root`` is nbgrader's course root; every directory is given as an absolute
    path so that grading can use a private ``work_dir`` without touching the
    repository's release folder.
    """
    work_dir = Path(work_dir)
    c = Config()
    c.CourseDirectory.course_id = COURSE_ID
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.source_directory = str(SOURCE_DIR)
    c.CourseDirectory.release_directory = str(release_dir)
    c.CourseDirectory.submitted_directory = str(work_dir / "submitted")
    c.CourseDirectory.autograded_directory = str(work_dir / "autograded")
    c.CourseDirectory.feedback_directory = str(work_dir / "feedback")
    c.CourseDirectory.db_url = gradebook_url(work_dir, db_url)
    # nbgrader's release/collect exchange: a folder of the work area, not the
    # system-wide /usr/local/share/nbgrader/exchange (formgrader warns when that is missing).
    c.Exchange.root = str(work_dir / "exchange")
    # Checkpoints and caches never belong in a release.
    c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]
    # Grading: always re-add grade cells a student deleted, so a deleted test
    # cannot silently become "needs manual grade".
    c.OverwriteCells.add_missing_cells = True
    c.QuietOverwriteCells.add_missing_cells = True
    c.Execute.timeout = cell_timeout
    c.Execute.interrupt_on_timeout = True
    # One engine, whichever door (nbgrader autograde, formgrader's Autograde, python -m autograder grade):
    # the verified checks replace the in-kernel Execute, nbgrader's SaveAutoGrades stores their scores.
    c.VerifiedExecute.timeout = cell_timeout
    c.Autograde.sanitize_preprocessors = [
        "nbgrader.preprocessors.ClearOutput", "nbgrader.preprocessors.DeduplicateIds",
        "nbgrader.preprocessors.OverwriteKernelspec", "autograder.preprocessors.QuietOverwriteCells",
        "nbgrader.preprocessors.CheckCellMetadata"]
    # (nbgrader's default list ends with a second CheckCellMetadata: nothing here changes metadata after the
    # sanitizing pass has checked it, and it is a third of nbgrader's time per notebook.)
    c.Autograde.autograde_preprocessors = [
        "autograder.preprocessors.VerifiedExecute", "nbgrader.preprocessors.LimitOutput",
        "nbgrader.preprocessors.SaveAutoGrades", "nbgrader.preprocessors.AssignLatePenalties"]
    # Feedback (nbgrader generate_feedback, formgrader's Generate Feedback): never a hidden test.
    c.GenerateFeedback.preprocessors = [
        "nbgrader.preprocessors.GetGrades", "autograder.preprocessors.ScrubHiddenTests",
        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor"]
    # Release (nbgrader release_assignment, formgrader's Release): only what solutions/ generates.
    c.ExchangeFactory.release_assignment = "autograder.exchange.VerifiedReleaseAssignment"
    # Every HTML page (feedback, formgrader's views, exports): maths as MathML, no CDN needed.
    c.HTMLExporter.filters = {"markdown2html": "autograder.mathml.markdown2html"}
    c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
    return c


def hub_config(environ=None) -> Config:
    """The class's settings on a JupyterHub (``deploy/jupyterhub/``), read from the grader service's environment.

    The Hub starts each course's formgrader as a service with ``NLP_COURSE_ID`` and
    ``NLP_COURSE_EXCHANGE`` set: the course id, and the exchange shared by every
    user of the Hub (one folder per course in it, nbgrader's ``path_includes_course``).
    Enrolment is the Hub's groups (``nbgrader-<course id>``), read by nbgrader's
    ``JupyterHubAuthPlugin``.  Outside a Hub (no ``NLP_COURSE_EXCHANGE``) nothing changes.
    """
    import os

    environ = os.environ if environ is None else environ
    c = Config()
    if environ.get("NLP_COURSE_EXCHANGE"):
        c.CourseDirectory.course_id = environ.get("NLP_COURSE_ID", COURSE_ID)
        c.Exchange.root = environ["NLP_COURSE_EXCHANGE"]
        c.Exchange.path_includes_course = True
        c.Authenticator.plugin_class = "nbgrader.auth.JupyterHubAuthPlugin"
    return c


def ensure_exchange(config: Config) -> Path:
    """Create the exchange folder of ``config`` if missing.

    nbgrader refuses an exchange that does not exist (formgrader then shows
    "The exchange directory ... does not exist" and disables release/collect).
    """
    root = Path(config.Exchange.root)
    root.mkdir(parents=True, exist_ok=True)
    return root


VALIDATE_NOTE = (
    "Only the visible tests ran. Hidden tests and the verified checks run when your "
    "work is graded, outside your notebook; this is not your score."
)


def patch_validator_messages() -> None:
    """Make ``nbgrader validate`` and the Validate button say that only visible tests ran.

    nbgrader prints a bare "Success! Your notebook passes all the tests." when
    the visible tests pass, which students read as their grade.  Called from
    ``nbgrader_config.py``, so it applies wherever nbgrader loads this course.
    """
    from nbgrader.validator import Validator

    if getattr(Validator, "_course_patched", False):
        return
    original = Validator._print_num_failed

    def _print_num_failed(self, num_failed: int) -> None:
        if num_failed == 0:
            self.stream.write("The visible tests pass. " + VALIDATE_NOTE + "\n")
        else:
            original(self, num_failed)

    Validator._print_num_failed = _print_num_failed
    Validator._course_patched = True
