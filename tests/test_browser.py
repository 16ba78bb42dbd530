"""Run notebooks in a real JupyterLab in headless Chromium and check what renders.

Needs Debian's /usr/bin/chromium (skipped otherwise); never `playwright install`.
Screenshots of course notebooks go to artifacts/screenshots/ (git-ignored).
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")

from autograder.config import assignment_ids  # noqa: E402
from test_notebooks import runnable  # noqa: E402  (those reading the Bibles skip where they are missing)
from jupyterlab_browser import (  # noqa: E402
    chromium_available, chromium_page, close_modal, nudge_first_slider, run_notebook_in_browser, running_lab)
import attacks  # noqa: E402
from submissions import (  # noqa: E402
    append_code, hidden_test_lines, leaked, plausibly_wrong, release_nb, solution_ids, solved, spec_of, write)

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
    _write_notebook(root / "widgets.ipynb", [
        "import io\n"
        "import ipywidgets as widgets\n"
        "from IPython.display import Image, display\n"
        "from matplotlib.figure import Figure\n"
        "def png(k):\n"
        "    fig = Figure(figsize=(3, 2)); fig.subplots().plot(range(k + 1))\n"
        "    b = io.BytesIO(); fig.savefig(b, format='png'); return b.getvalue()\n"
        "slider = widgets.IntSlider(value=3, min=0, max=9, description='k')\n"
        "display(slider)\n"
        "shown = display(Image(data=png(slider.value)), display_id=True)\n"
        "slider.observe(lambda ch: shown.update(Image(data=png(ch['new']))), names='value')",
        # a widget view whose model does not exist: 'Error displaying widget'
        "display({'application/vnd.jupyter.widget-view+json':"
        " {'model_id': 'no-such-model', 'version_major': 2, 'version_minor': 0}}, raw=True)",
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


def test_browser_reports_widgets_and_a_slider_that_redraws(selftest_lab, tmp_path):
    report = run_notebook_in_browser(selftest_lab, "widgets.ipynb", tmp_path / "widgets.png",
                                     timeout_s=120, interact=nudge_first_slider)
    assert report["errors"] == 0, report
    # the slider and the figure wired to it render; the made-up widget does not
    assert report["widget_outputs"] == 2 and report["rendered_widgets"] == 1, report
    assert len(report["widget_errors"]) == 1 and "Error displaying widget" in report["widget_errors"][0]
    assert report["interaction"]["readout_before"] == "3"
    assert report["interaction"]["readout_after"] == "5"
    assert report["interaction"]["images_changed"] == 1


LECTURES = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def uses_widgets(path: Path) -> bool:
    nb = json.loads(path.read_text())
    return any("ipywidgets" in "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")


@pytest.fixture(scope="module")
def course_lab(tmp_path_factory):
    """One JupyterLab serving the repository, shared by the lecture notebooks."""
    with running_lab(REPO, tmp_path_factory.mktemp("course_lab")) as lab:
        yield lab


CHINESE = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "notebooks" / "zh").glob("[0-9][0-9]_*.ipynb"))


def test_every_lecture_is_browser_tested():
    assert len(LECTURES) == 9, LECTURES
    assert [Path(p).name for p in CHINESE] == [Path(p).name for p in LECTURES], "the Chinese edition is incomplete"


@pytest.mark.parametrize("path", runnable([REPO / nb for nb in LECTURES + CHINESE]))
def test_course_notebook_runs_in_jupyterlab(path, course_lab):
    notebook = path.relative_to(REPO).as_posix()
    before = path.read_bytes()
    checkpoints = path.parent / ".ipynb_checkpoints"
    had_checkpoints = checkpoints.exists()
    chinese = "/zh/" in notebook
    shot = SCREENSHOTS / (("zh_" if chinese else "") + path.stem + ".png")
    widgets = uses_widgets(path)
    report = run_notebook_in_browser(course_lab, notebook, shot, timeout_s=300,
                                     interact=nudge_first_slider if widgets else None)
    summary = {k: report[k] for k in ("code_cells", "executed_cells", "errors", "rendered_widgets",
                                      "interaction", "seconds")}
    print(f"{notebook}: {summary}, {len(report['rendered_images'])} figure(s), screenshot {shot}")
    assert report["code_cells"] > 0
    assert report["errors"] == 0 and report["model_errors"] == [], report["error_texts"] or report
    # every cell ran: Run All stops at the first failure, and a stuck cell never gets its count
    assert report["executed_cells"] == report["code_cells"], report
    assert report["broken_images"] == [], report["broken_images"]
    assert len(report["rendered_images"]) >= 1, "no figure rendered"
    # ipywidgets (sliders, tqdm progress bars) render as widgets, not as an error. (Not every
    # widget output stays in the page: a finished `tqdm(leave=False)` bar closes its widget.)
    assert report["widget_errors"] == [], report["widget_errors"]
    assert report["rendered_widgets"] <= report["widget_outputs"], report
    if widgets:
        assert report["rendered_widgets"] >= 1
        moved = report["interaction"]
        assert moved["readout_after"] != moved["readout_before"], moved
        assert moved["images_changed"] >= 1, f"moving the slider redrew nothing: {moved}"
    # the Markdown is rendered, in Chinese for the Chinese edition (and in English otherwise)
    assert report["markdown_chars"] > 500, report["markdown_chars"]
    if chinese:
        assert report["markdown_cjk"] > 200, f"too little Chinese rendered: {report['markdown_cjk']} characters"
    else:
        assert report["markdown_cjk"] < report["markdown_chars"] / 10
    # autosave is off: running the notebook must not rewrite the committed file
    assert path.read_bytes() == before
    # and must not leave a .ipynb_checkpoints/ in the repository
    assert checkpoints.exists() == had_checkpoints


# --------------------------------------------------------------------------
# The grader's view: nbgrader's formgrader inside JupyterLab, after grading.

GRADED_ID = "ps1_backprop"

# The rows of a DataTables table in formgrader's frame: one list of cell texts per row.
_TABLE_ROWS_JS = "t => [...t.rows].map(r => [...r.cells].map(c => c.innerText.trim()))"


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    """A course root whose gradebook holds a batch graded by ``python -m autograder grade``.

    Its nbgrader_config.py is the repository's, pointed at this work area: the
    server reads it from its working directory, as `make lab` does.
    """
    base = tmp_path_factory.mktemp("formgrader")
    course = base / "course"
    course.mkdir()
    work = course / ".grading"
    subs = base / "submitted"
    write(subs, "ada", GRADED_ID, solved(GRADED_ID))
    write(subs, "bob", GRADED_ID, plausibly_wrong(GRADED_ID))
    write(subs, "cy", GRADED_ID, release_nb(GRADED_ID))
    # the hostile part of the batch: calls the course's reference; patches numpy's comparisons onto a mistake
    blocked = [m for m in spec_of(GRADED_ID).GRADED if m.startswith("course_lib")]
    write(subs, "dan", GRADED_ID, append_code(release_nb(GRADED_ID),
                                              attacks.call_reference(solution_ids(GRADED_ID), blocked)))
    write(subs, "eve", GRADED_ID, append_code(plausibly_wrong(GRADED_ID), attacks.patch_comparisons()))
    out = base / "grades.csv"
    subprocess.run([sys.executable, "-m", "autograder", "grade", GRADED_ID, "--submissions", subs,
                    "--out", out, "--work-dir", work, "--seed", "2026"],
                   cwd=REPO, check=True, capture_output=True, text=True, timeout=600)
    (course / "nbgrader_config.py").write_text(
        "from pathlib import Path\n"
        "from autograder.config import course_config, ensure_exchange\n"
        "c = get_config()  # noqa: F821\n"
        f"c.merge(course_config(root=Path({str(course)!r}), work_dir=Path({str(work)!r})))\n"
        "ensure_exchange(c)\n")
    with open(out, newline="", encoding="utf-8") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    return course, rows


def _score(text: str) -> tuple[float, float]:
    """'7 / 10' -> (7.0, 10.0)"""
    got, total = (float(x) for x in text.split("/"))
    return got, total


def test_formgrader_shows_the_graded_batch(graded_course, tmp_path):
    course, rows = graded_course
    assert {s: r["status"] for s, r in rows.items()} == dict.fromkeys(["ada", "bob", "cy", "dan", "eve"], "ok")
    expected = {s: (float(r["score"]), float(r["max_score"])) for s, r in rows.items()}
    assert expected["ada"][0] == expected["ada"][1] > expected["bob"][0] > expected["cy"][0] == 0
    console_errors: list[str] = []
    with running_lab(course, tmp_path) as lab, chromium_page(console_errors) as page:
        page.goto(lab.url("lab"), wait_until="domcontentloaded", timeout=60_000)
        # the grader's way in: the Nbgrader menu of JupyterLab
        page.locator("#jp-menu-panel .lm-MenuBar-itemLabel", has_text="Nbgrader").click(timeout=60_000)
        page.locator(".lm-Menu .lm-Menu-itemLabel", has_text=re.compile(r"^Formgrader$")).click()
        frame = page.frame_locator(".jp-MainAreaWidget iframe").first
        table = frame.locator("tbody#main-table")

        # Manage Assignments: every assignment of solutions/, ps1 with its three submissions
        frame.locator("tbody#main-table td", has_text=GRADED_ID).first.wait_for(timeout=60_000)
        page.wait_for_timeout(500)
        assignments = {r[0]: r for r in table.evaluate(_TABLE_ROWS_JS)}
        header = frame.locator("thead").first.evaluate("t => [...t.rows[0].cells].map(c => c.innerText.trim())")
        assert set(assignment_ids()) <= set(assignments), assignments
        assert assignments[GRADED_ID][header.index("# Submissions")] == "5"
        body = frame.locator("body").inner_text()
        assert "does not exist" not in body, body  # e.g. the exchange directory warning
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "formgrader_assignments.png"))

        # Manage Students: each student's overall score is the verified score of the CSV
        frame.locator("a", has_text="Manage Students").first.click()
        frame.locator("tbody#main-table td.score").first.wait_for(timeout=30_000)
        students = {r[1]: _score(r[3]) for r in table.evaluate(_TABLE_ROWS_JS)}
        assert students == expected, (students, expected)
        page.screenshot(path=str(SCREENSHOTS / "formgrader_students.png"))

        # Manual Grading > ps1 > notebook: the submissions, names revealed, same scores
        frame.locator("a", has_text="Manual Grading").first.click()
        frame.locator("tbody#main-table a", has_text=GRADED_ID).first.click()
        frame.locator("tbody#main-table a", has_text=GRADED_ID).first.click()
        frame.locator("tbody#main-table td.name").first.wait_for(timeout=30_000)
        frame.locator("#toggle_names").click(timeout=30_000)
        frame.locator("tbody#main-table a.name-shown").first.wait_for(timeout=30_000)
        submissions = {r[1]: _score(r[2]) for r in table.evaluate(_TABLE_ROWS_JS)}
        assert submissions == expected, (submissions, expected)
        page.screenshot(path=str(SCREENSHOTS / "formgrader_submissions.png"))
    assert not [e for e in console_errors if "formgrader" in e], console_errors


def test_formgrader_buttons_keep_the_verified_scores(graded_course, tmp_path):
    """Autograde, Generate Feedback and Release, clicked in formgrader, go through the verified doors."""
    from autograder.release import release_differences

    course, rows = graded_course
    expected = {s: (float(r["score"]), float(r["max_score"])) for s, r in rows.items()}
    work = course / ".grading"
    with running_lab(course, tmp_path) as lab, chromium_page() as page:
        page.goto(lab.url("lab"), wait_until="domcontentloaded")   # logs in (formgrader's pages need the cookie)
        page.locator("#jp-menu-panel .lm-MenuBar-itemLabel", has_text="Nbgrader").wait_for(timeout=60_000)
        page.goto(f"{lab.base_url}formgrader/manage_submissions/{GRADED_ID}", wait_until="domcontentloaded")
        table = page.locator("tbody#main-table")
        page.locator("tbody#main-table td.autograde a").first.wait_for(timeout=60_000)
        for i in range(page.locator("tbody#main-table td.autograde a").count()):
            page.locator("tbody#main-table td.autograde a").nth(i).click()
            assert "Successfully autograded" in close_modal(page, "autograd")
        page.reload()
        page.locator("tbody#main-table td.autograde a").first.wait_for(timeout=60_000)
        page.wait_for_timeout(500)
        header = page.locator("thead").first.evaluate("t => [...t.rows[0].cells].map(c => c.innerText.trim())")
        shown = {r[header.index("Student ID")]: _score(r[header.index("Score")])
                 for r in table.evaluate(_TABLE_ROWS_JS)}
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "formgrader_after_autograde.png"))
        assert shown == expected, (shown, expected)

        page.goto(f"{lab.base_url}formgrader/manage_assignments", wait_until="domcontentloaded")
        row = page.locator("tbody#main-table tr", has=page.locator("td", has_text=GRADED_ID)).first
        row.locator("td.generate-feedback a").click(timeout=60_000)
        assert "Successfully generated feedback" in close_modal(page, "feedback")
        row.locator("td.release a").click(timeout=60_000)
        assert "Successfully released" in close_modal(page, "release")
        page.screenshot(path=str(SCREENSHOTS / "formgrader_released.png"))

    pages = sorted((work / "feedback").rglob("*.html"))
    assert {p.parent.parent.name for p in pages} == set(rows), pages
    hidden = hidden_test_lines(GRADED_ID)
    for path in pages:
        text = path.read_text(encoding="utf-8")
        assert "Verified score" in text and not leaked(text, hidden)
    published = next((work / "exchange").rglob(f"outbound/{GRADED_ID}")).parent
    assert release_differences(GRADED_ID, published) == []


def test_feedback_maths_is_typeset_offline(graded_course, tmp_path):
    """A feedback page, opened with every network request refused, shows formulas as maths (MathML)."""
    course, rows = graded_course
    subprocess.run([sys.executable, "-m", "autograder", "feedback", GRADED_ID, "--work-dir", course / ".grading"],
                   cwd=REPO, check=True, capture_output=True, timeout=600)
    path = course / ".grading" / "feedback" / "bob" / GRADED_ID / f"{GRADED_ID}.html"
    refused = []
    with chromium_page() as page:
        def route(r):
            if r.request.url.startswith("file:"):
                r.continue_()
            else:
                refused.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.goto(path.as_uri(), wait_until="load")
        boxes = page.locator("math").evaluate_all("ms => ms.map(m => m.getBoundingClientRect().height)")
        text = page.locator("body").inner_text()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.locator("math").first.scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "feedback_offline_maths.png"))
    assert len(boxes) >= 10 and all(h > 0 for h in boxes), boxes
    assert "\\frac" not in text and "\\top" not in text, "raw LaTeX on the page"


def test_formgrader_submission_view_typesets_maths_offline(graded_course, tmp_path):
    """formgrader's view of a submission, with every request off the server refused, shows formulas as maths."""
    course, _ = graded_course
    refused: list[str] = []
    with running_lab(course, tmp_path) as lab, chromium_page() as page:
        page.goto(lab.url("lab"), wait_until="domcontentloaded")   # logs in
        page.locator("#jp-menu-panel .lm-MenuBar-itemLabel", has_text="Nbgrader").wait_for(timeout=60_000)
        listing = page.evaluate("async u => (await fetch(u)).json()",
                                f"{lab.base_url}formgrader/api/submitted_notebooks/{GRADED_ID}/{GRADED_ID}")
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(lab.base_url)
                   else (refused.append(r.request.url), r.abort()))
        page.goto(f"{lab.base_url}formgrader/submissions/{listing[0]['id']}", wait_until="load")
        heights = page.locator("math").evaluate_all("ms => ms.map(m => m.getBoundingClientRect().height)")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "formgrader_submission_offline_maths.png"))
    assert len(heights) >= 10 and all(h > 0 for h in heights), heights
