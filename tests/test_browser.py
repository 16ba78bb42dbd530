"""Run notebooks in a real JupyterLab in headless Chromium and check what renders.

Needs Debian's /usr/bin/chromium (skipped otherwise); never `playwright install`.
Screenshots of course notebooks go to artifacts/screenshots/ (git-ignored).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")

from jupyterlab_browser import chromium_available, run_notebook_in_browser, running_lab  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO / "artifacts" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not chromium_available(), reason="/usr/bin/chromium is not installed "
                       "(apt-get install -y chromium); browser tests need it"),
]


def _write_notebook(path: Path, sources: list[str]) -> None:
    nb = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                           "language": "python"},
            "language_info": {"name": "python"},
        },
        "cells": [
            {"cell_type": "code", "id": f"cell{i}", "metadata": {}, "execution_count": None,
             "outputs": [], "source": src}
            for i, src in enumerate(sources)
        ],
    }
    path.write_text(json.dumps(nb, indent=1))


@pytest.fixture(scope="module")
def selftest_lab(tmp_path_factory):
    """One JupyterLab for the self-tests, serving a temporary directory."""
    root = tmp_path_factory.mktemp("lab_root")
    _write_notebook(root / "fails.ipynb", [
        # stderr that is NOT an error: a progress bar and a warning
        "import sys, warnings\n"
        "print(' 50%|#####     | 1/2 [00:00<00:00]', file=sys.stderr)\n"
        "warnings.warn('just a warning')",
        "def f():\n    raise ValueError('deliberate failure')\nf()",
        "print('not reached')",
    ])
    _write_notebook(root / "plots.ipynb", [
        "import matplotlib.pyplot as plt\n"
        "fig, ax = plt.subplots(figsize=(4, 3))\n"
        "ax.plot([0, 1, 2], [0, 1, 4])\n"
        "plt.show()",
        "",  # an empty cell never gets an execution count: must not hang the wait
        "print('done')",
    ])
    with running_lab(root, tmp_path_factory.mktemp("lab_state")) as lab:
        yield lab


def test_browser_reports_a_failing_cell(selftest_lab, tmp_path):
    report = run_notebook_in_browser(selftest_lab, "fails.ipynb", tmp_path / "fails.png", timeout_s=120)
    assert report["code_cells"] == 3
    assert report["errors"] == 1, report
    assert "ValueError: deliberate failure" in report["error_texts"][0]
    assert report["model_errors"] == [
        {"cell": 1, "ename": "ValueError", "evalue": "deliberate failure"}]
    # the progress bar / warning output is stderr but no error
    assert report["stderr_outputs"] == 2, report
    assert report["executed_cells"] == 2  # Run All stops at the failing cell
    assert Path(report["screenshot"]).stat().st_size > 0


def test_browser_reports_a_rendered_figure(selftest_lab, tmp_path):
    report = run_notebook_in_browser(selftest_lab, "plots.ipynb", tmp_path / "plots.png", timeout_s=120)
    assert report["errors"] == 0 and report["model_errors"] == [], report
    assert len(report["rendered_images"]) == 1, report
    img = report["rendered_images"][0]
    assert img["naturalWidth"] > 100 and img["naturalHeight"] > 100
    assert report["broken_images"] == []
    assert report["executed_cells"] == 2  # the empty cell is left alone
    assert report["widget_errors"] == []


@pytest.mark.parametrize("notebook", ["notebooks/01_backpropagation.ipynb"])
def test_course_notebook_runs_in_jupyterlab(notebook, tmp_path):
    path = REPO / notebook
    if not path.is_file():
        pytest.skip(f"{notebook} does not exist (yet)")
    before = path.read_bytes()
    checkpoints = path.parent / ".ipynb_checkpoints"
    had_checkpoints = checkpoints.exists()
    shot = SCREENSHOTS / (path.stem + ".png")
    with running_lab(REPO, tmp_path) as lab:
        report = run_notebook_in_browser(lab, notebook, shot, timeout_s=180)
    summary = {k: report[k] for k in ("code_cells", "executed_cells", "errors", "seconds")}
    print(f"{notebook}: {summary}, {len(report['rendered_images'])} figure(s), screenshot {shot}")
    assert report["code_cells"] > 0
    assert report["errors"] == 0 and report["model_errors"] == [], report["error_texts"] or report
    assert report["widget_errors"] == [], report["widget_errors"]
    assert report["broken_images"] == [], report["broken_images"]
    assert len(report["rendered_images"]) >= 1, "no figure rendered"
    assert report["executed_cells"] >= 1
    # autosave is off: running the notebook must not rewrite the committed file
    assert path.read_bytes() == before
    # and must not leave a .ipynb_checkpoints/ in the repository
    assert checkpoints.exists() == had_checkpoints
