"""A real class on the course's JupyterHub (deploy/jupyterhub), end to end in headless Chromium.

The test builds its own class with deploy/jupyterhub/setup.py: Unix accounts for an instructor and
three students (PAM passwords, LocalProcessSpawner servers as those accounts), two courses on one Hub,
the shared environment that `make test` builds once (/opt/nlp-course/env), a fresh prefix with the
courses, the exchange and the Hub's state; it starts the Hub and its proxy (npm's
configurable-http-proxy) itself and removes the accounts and the prefix afterwards.

Every user logs in through the Hub's login page.  The instructor releases ps1 (generated from
solutions/) with formgrader's *Release* button; each student fetches it from the *Assignments* tab's
API, answers it (ada: correct; bob: a plausible mistake, submitted after the due date; cy: calls the
course's reference) and submits; the instructor collects, autogrades (the verified door), generates
and releases feedback with formgrader's buttons; each student fetches feedback and reads their own
verified score, no hidden test.  cy then tries to read what a student must not, from her server's
file browser and from a kernel.  A second course shows that enrolment is the Hub's groups.

Needs root (accounts), Chromium, Node.js's proxy (make hub-deps) and the shared environment;
skipped with the reason otherwise.  Screenshots: artifacts/screenshots/hub_*.png.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")

import attacks  # noqa: E402
from conftest import REPO  # noqa: E402
from jupyterlab_browser import VIEWPORT, chromium, chromium_available, close_modal  # noqa: E402
from submissions import (  # noqa: E402
    hidden_test_lines, leaked, plausibly_wrong, release_nb, solution_ids, solved, spec_of, append_code)

DEPLOY = REPO / "deploy" / "jupyterhub"
HUB_ENV = Path(os.environ.get("NLP_HUB_ENV", "/opt/nlp-course/env"))
PROXY = DEPLOY / "node_modules" / ".bin" / "configurable-http-proxy"
SCREENSHOTS = REPO / "artifacts" / "screenshots"
A = "ps1_backprop"
CLASS, SEMINAR = "nlpt-class", "nlpt-seminar"
PROF, ADA, BOB, CY = "nlpt-prof", "nlpt-ada", "nlpt-bob", "nlpt-cy"
STUDENTS = [ADA, BOB, CY]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="the Hub test creates Unix accounts: run as root"),
    pytest.mark.skipif(not chromium_available(), reason="/usr/bin/chromium is not installed (make browser)"),
    pytest.mark.skipif(not PROXY.exists(), reason="configurable-http-proxy is not installed (make hub-deps)"),
    pytest.mark.skipif(not (HUB_ENV / "bin" / "jupyterhub-singleuser").exists(),
                       reason=f"the shared environment {HUB_ENV} is not built (make hub-deps)"),
]

ROSTER = f"""
[[course]]
id = "{CLASS}"
title = "The test class"
instructors = ["{PROF}"]
students = ["{ADA}", "{BOB}", "{CY}"]

[[course]]
id = "{SEMINAR}"
title = "A second course on the same Hub"
instructors = ["{PROF}"]
students = ["{ADA}"]
"""

# fetch() from a logged-in page, with the server's XSRF cookie, as the Assignments tab and formgrader do.
_FETCH_JS = """async ([url, method, body]) => {
  const x = document.cookie.match(/_xsrf=([^;]+)/);
  const r = await fetch(url, {method, body, headers: {'X-XSRFToken': x ? decodeURIComponent(x[1]) : '',
                                                       'Content-Type': 'application/json'}});
  return [r.status, await r.text()];
}"""

# One cell in a new kernel of the page's server, over the kernel's websocket; returns its printed text.
_KERNEL_JS = """async ([base, code]) => {
  const x = decodeURIComponent(document.cookie.match(/_xsrf=([^;]+)/)[1]);
  const k = await (await fetch(base + 'api/kernels', {method: 'POST', body: '{}',
                                headers: {'X-XSRFToken': x, 'Content-Type': 'application/json'}})).json();
  const ws = new WebSocket(location.origin.replace(/^http/, 'ws') + base + 'api/kernels/' + k.id + '/channels');
  const msg_id = 'probe-' + Math.random();
  let out = '';
  return await new Promise((resolve) => {
    ws.onopen = () => ws.send(JSON.stringify({channel: 'shell', buffers: [], metadata: {}, parent_header: {},
      header: {msg_id, username: '', session: 'probe', msg_type: 'execute_request', version: '5.3',
               date: new Date().toISOString()},
      content: {code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false,
                stop_on_error: true}}));
    ws.onmessage = (e) => {
      const m = JSON.parse(e.data);
      if (m.parent_header.msg_id !== msg_id) return;
      if (m.msg_type === 'stream') out += m.content.text;
      if (m.msg_type === 'error') out += m.content.ename + ': ' + m.content.evalue;
      if (m.msg_type === 'status' && m.content.execution_state === 'idle') { ws.close(); resolve(out); }
    };
    setTimeout(() => resolve(out + '[no answer in 90 s]'), 90000);
  });
}"""


def _free_base_port() -> int:
    """A port P with P..P+12 free (the Hub, its API, the proxy's API, the services)."""
    for _ in range(50):
        base = 20000 + secrets.randbelow(30000)
        try:
            socks = []
            for p in range(base, base + 13):
                s = socket.socket()
                s.bind(("127.0.0.1", p))
                socks.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no 13 free ports in a row")


class Hub:
    def __init__(self, port: int, prefix: Path, passwords: dict[str, str]):
        self.port, self.prefix, self.passwords = port, prefix, passwords

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def course_dir(self, course_id: str) -> Path:
        return self.prefix / "courses" / course_id / "course"


@pytest.fixture(scope="module")
def hub():
    prefix = Path(tempfile.mkdtemp(prefix="nlphub-", dir="/tmp"))
    os.chmod(prefix, 0o755)
    roster = prefix / "roster.toml"
    roster.write_text(ROSTER)
    passwords = {u: secrets.token_urlsafe(12) for u in [PROF] + STUDENTS}
    pwfile = prefix / "given-passwords"
    pwfile.write_text("".join(f"{u}:{p}\n" for u, p in passwords.items()))
    os.chmod(pwfile, 0o600)
    port = _free_base_port()
    env = {**os.environ, "NLP_HUB_PREFIX": str(prefix), "NLP_HUB_ROSTER": str(roster),
           "NLP_HUB_ENV": str(HUB_ENV), "NLP_HUB_PORT": str(port)}
    setup = [sys.executable, DEPLOY / "setup.py", "--roster", roster, "--prefix", prefix, "--env", HUB_ENV]
    log = open(prefix / "hub.log", "w")
    proc = None
    try:
        subprocess.run([*setup, "--passwords", pwfile], check=True, capture_output=True, text=True, timeout=600)
        proc = subprocess.Popen([Path(sys.executable).parent / "jupyterhub", "-f", DEPLOY / "jupyterhub_config.py"],
                                cwd=prefix, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/hub/api", timeout=5)
                break
            except Exception:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("the Hub did not start:\n" + (prefix / "hub.log").read_text()[-4000:])
                time.sleep(1)
        yield Hub(port, prefix, passwords)
    finally:
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        log.close()
        hub_log = (prefix / "hub.log").read_text(errors="replace")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS.parent / "hub.log").write_text(hub_log)
        subprocess.run([*setup, "--remove"], capture_output=True)
        shutil.rmtree(prefix, ignore_errors=True)


def login(b, hub: Hub, user: str):
    """A page of ``user``'s own browser context, logged in through the Hub's login page, on their JupyterLab."""
    page = b.new_context(viewport=VIEWPORT).new_page()
    page.goto(hub.url("hub/login"), wait_until="domcontentloaded")
    page.fill("#username_input", user)
    page.fill("#password_input", hub.passwords[user])
    page.click("#login_submit")
    page.wait_for_url(re.compile(rf"/user/{user}/lab"), timeout=180_000)
    page.locator("#jp-menu-panel").wait_for(timeout=120_000)
    return page


def call(page, url: str, method: str = "GET", body=None) -> tuple[int, str]:
    return page.evaluate(_FETCH_JS, [url, method, None if body is None else json.dumps(body)])


def assignments(page, user: str, course_id: str) -> list[dict]:
    status, text = call(page, f"/user/{user}/assignments?course_id={course_id}")
    assert status == 200, (status, text)
    return json.loads(text)["value"]


def student_action(page, user: str, action: str, course_id: str = CLASS) -> dict:
    status, text = call(page, f"/user/{user}/assignments/{action}?course_id={course_id}&assignment_id={A}", "POST")
    assert status == 200, (user, action, status, text)
    return json.loads(text)


def formgrader(page, course_id: str, view: str) -> str:
    base = f"/services/{course_id}/formgrader/"
    page.goto(f"http://{page.url.split('/')[2]}{base}{view}", wait_until="domcontentloaded")
    return base


def click_in_row(page, css: str, expect: str, title: str) -> None:
    row = page.locator("tbody#main-table tr", has=page.locator("td", has_text=A)).first
    row.locator(f"td.{css} a").click(timeout=90_000)
    text = close_modal(page, title)
    assert expect in text, text


# A student's probe, run in her own kernel: what of the instructor's and the classmates' can she read?
PROBE = """
import json, os
def attempt(path):
    try:
        if os.path.isdir(path):
            return "listed: " + ", ".join(sorted(os.listdir(path))[:5])
        with open(path, "rb") as f:
            return "read %d bytes" % len(f.read())
    except OSError as e:
        return "refused: " + type(e).__name__
found = {path: attempt(path) for path in PATHS}
walked = []
for root, dirs, files in os.walk(COURSE, onerror=lambda e: walked.append("refused: " + type(e).__name__)):
    walked += files
found["os.walk(course)"] = walked
try:
    import autograder
    found["import autograder"] = autograder.__file__
except ImportError as e:
    found["import autograder"] = "refused: " + type(e).__name__
import course_lib.backprop
found["import course_lib"] = course_lib.backprop.__file__
print(json.dumps(found))
"""


def test_a_class_on_the_hub(hub):
    course = hub.course_dir(CLASS)
    blocked = [m for m in spec_of(A).GRADED if m.startswith("course_lib")]
    answers = {ADA: solved(A), BOB: plausibly_wrong(A),
               CY: append_code(release_nb(A), attacks.call_reference(solution_ids(A), blocked))}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with chromium() as b:
        # The instructor releases ps1 with formgrader's Release button, in both courses.
        prof = login(b, hub, PROF)
        for course_id in (CLASS, SEMINAR):
            formgrader(prof, course_id, "manage_assignments")
            prof.locator("tbody#main-table td", has_text=A).first.wait_for(timeout=120_000)
            click_in_row(prof, "assign", "Successfully created the student version", "assign")
            click_in_row(prof, "release", "Successfully released", "release")
        prof.screenshot(path=str(SCREENSHOTS / "hub_instructor_released.png"))

        # Students: log in, see ps1 in the Assignments tab, fetch, answer, submit (bob after the due date).
        # ada clicks the tab's Fetch and Submit buttons; bob and cy call the same API the buttons call.
        pages = {}
        for user in STUDENTS:
            page = pages[user] = login(b, hub, user)
            listed = assignments(page, user, CLASS)
            assert [(a["course_id"], a["assignment_id"], a["status"]) for a in listed] == [(CLASS, A, "released")]
        ada = pages[ADA]
        ada.locator("#jp-menu-panel .lm-MenuBar-itemLabel", has_text="Nbgrader").click()
        ada.locator(".lm-Menu .lm-Menu-itemLabel", has_text="Assignment List").click()
        panel = ada.locator("#nbgrader-assignment-list")
        panel.locator("#released_assignments_list button", has_text="Fetch").click(timeout=60_000)
        panel.locator("#fetched_assignments_list button", has_text="Submit").wait_for(timeout=60_000)
        ada.screenshot(path=str(SCREENSHOTS / "hub_student_assignments.png"))
        for user in (BOB, CY):
            student_action(pages[user], user, "fetch")
        for user in (ADA, CY, BOB):
            path = f"/user/{user}/api/contents/{CLASS}/{A}/{A}.ipynb"
            status, text = call(pages[user], path)
            assert status == 200, (user, "the fetched notebook is not in the home folder", status, text)
            status, text = call(pages[user], path, "PUT", {"type": "notebook", "format": "json",
                                                           "content": answers[user]})
            assert status in (200, 201), (status, text)
            if user == BOB:   # the due date falls between the others' submissions and bob's
                time.sleep(1.5)
                due = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
                formgrader(prof, CLASS, "manage_assignments")
                status, text = call(prof, f"/services/{CLASS}/formgrader/api/assignment/{A}", "PUT",
                                    {"duedate_notimezone": due, "duedate_timezone": "UTC"})
                assert status == 200, (status, text)
                time.sleep(2)
            if user == ADA:
                panel.locator("#fetched_assignments_list button", has_text="Submit").click()
                panel.locator("#submitted_assignments_list", has_text=A).wait_for(timeout=60_000)
                ada.screenshot(path=str(SCREENSHOTS / "hub_student_submitted.png"))
            else:
                result = student_action(pages[user], user, "submit")
                assert "value" in result, result

        # The instructor collects, autogrades, generates and releases feedback: formgrader's buttons.
        formgrader(prof, CLASS, "manage_assignments")
        prof.locator("tbody#main-table td", has_text=A).first.wait_for(timeout=60_000)
        click_in_row(prof, "collect", "Successfully collected", "collect")
        formgrader(prof, CLASS, f"manage_submissions/{A}")
        prof.locator("tbody#main-table td.autograde a").first.wait_for(timeout=60_000)
        for i in range(prof.locator("tbody#main-table td.autograde a").count()):
            prof.locator("tbody#main-table td.autograde a").nth(i).click()
            text = close_modal(prof, "autograd")
            assert "Successfully autograded" in text, text
        prof.reload()
        prof.locator("tbody#main-table td.autograde a").first.wait_for(timeout=60_000)
        prof.wait_for_timeout(500)
        prof.screenshot(path=str(SCREENSHOTS / "hub_instructor_autograded.png"))
        formgrader(prof, CLASS, "manage_assignments")
        prof.locator("tbody#main-table td", has_text=A).first.wait_for(timeout=60_000)
        click_in_row(prof, "generate-feedback", "Successfully generated feedback", "feedback")
        click_in_row(prof, "release-feedback", "Successfully released feedback", "feedback")

        # The gradebook: verified scores, bob late.
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{course / '.grading' / 'gradebook.db'}") as gb:
            got = {u: gb.find_submission(A, u) for u in STUDENTS}
            scores = {u: (s.score, s.max_score) for u, s in got.items()}
            late = {u: s.total_seconds_late for u, s in got.items()}
        top = scores[ADA][1]
        assert scores[ADA][0] == top > scores[BOB][0] > 0, scores
        assert scores[CY][0] == 0, ("the student who calls the course's reference earned points", scores)
        assert late[BOB] > 0 and late[ADA] == late[CY] == 0, late

        # Each student fetches feedback: their own verified score, no hidden test.
        hidden = hidden_test_lines(A)
        for user in STUDENTS:
            student_action(pages[user], user, "fetch_feedback")
            status, text = call(pages[user], f"/user/{user}/api/contents/{CLASS}/{A}/feedback")
            assert status == 200, (user, status, text)
            stamp = json.loads(text)["content"][0]["name"]
            status, html = call(pages[user], f"/user/{user}/files/{CLASS}/{A}/feedback/{stamp}/{A}.html")
            assert status == 200 and "Verified score" in html, (user, status, html[:300])
            score = scores[user][0]
            assert re.search(rf"Score: {score:g}(\.0+)? / {top:g}", html), (user, score, re.findall(r"Score: [^<]*", html)[:3])
            assert not leaked(html, hidden), (user, leaked(html, hidden))
            if user == BOB:
                shot = pages[user].context.new_page()   # (the feedback page is sandboxed: no fetch() from it)
                shot.goto(hub.url(f"user/{user}/files/{CLASS}/{A}/feedback/{stamp}/{A}.html"))
                shot.screenshot(path=str(SCREENSHOTS / "hub_student_feedback.png"), full_page=True)
                shot.close()

        # cy tries to read the instructor's files and a classmate's work: the file browser, then a kernel.
        cy = pages[CY]
        ada_home = Path(f"/home/{ADA}")
        for rel in ("../" + ADA, "../../" + str(course).lstrip("/")):
            status, _ = call(cy, f"/user/{CY}/api/contents/{rel}")
            assert status in (403, 404), (rel, status)
        status, text = call(cy, f"/user/{CY}/api/contents/peek", "PUT", {"type": "directory"})
        targets = [course / "solutions" / A / f"{A}.ipynb", course / "autograder" / "specs" / f"{A}.py",
                   course / ".grading" / "gradebook.db", course / ".grading", hub.prefix / "courses",
                   hub.prefix / "hub", ada_home, ada_home / CLASS / A / f"{A}.ipynb",
                   hub.prefix / "exchange" / CLASS / "inbound", hub.prefix / "passwords.txt"]
        out = cy.evaluate(_KERNEL_JS, [f"/user/{CY}/",
                                       f"PATHS = {[str(t) for t in targets]!r}\nCOURSE = {str(course)!r}\n" + PROBE])
        found = json.loads(out.strip().splitlines()[-1])
        readable = {k: v for k, v in found.items()
                    if k not in ("import course_lib", "os.walk(course)") and not str(v).startswith("refused")}
        assert readable == {}, readable
        assert found["os.walk(course)"] == ["refused: PermissionError"], found["os.walk(course)"]
        assert found["import course_lib"].startswith(str(HUB_ENV)), found["import course_lib"]
        # ... and in the file browser, a link to the course directory shows nothing either
        subprocess.run(["runuser", "-u", CY, "--", "ln", "-sfn", str(course), f"/home/{CY}/peek"], check=True)
        status, text = call(cy, f"/user/{CY}/api/contents/peek/solutions")
        assert status in (403, 404, 500) and "ipynb" not in text, (status, text[:300])
        # a student has no formgrader, on the Hub or in her own server
        status, text = call(cy, f"/services/{CLASS}/formgrader/manage_assignments")
        assert status == 403 and "Manage Assignments" not in text, (status, text[:300])
        status, _ = call(cy, f"/user/{CY}/formgrader/manage_assignments")
        assert status == 404, status
        cy.screenshot(path=str(SCREENSHOTS / "hub_student_no_formgrader.png"))

        # Two courses: ada is in both and fetches from both; bob sees only his.
        listed = assignments(pages[ADA], ADA, SEMINAR)
        assert [(a["course_id"], a["status"]) for a in listed] == [(SEMINAR, "released")], listed
        student_action(pages[ADA], ADA, "fetch", SEMINAR)
        status, _ = call(pages[ADA], f"/user/{ADA}/api/contents/{SEMINAR}/{A}/{A}.ipynb")
        assert status == 200
        status, text = call(pages[BOB], f"/user/{BOB}/assignments?course_id={SEMINAR}")
        assert status == 200 and json.loads(text)["value"] == [], text[:300]
        # the course list is the instructors' (the Hub's services they grade), not the students'
        assert call(pages[ADA], f"/user/{ADA}/formgraders")[0] == 404
        prof.goto(hub.url(f"user/{PROF}/lab"), wait_until="domcontentloaded")
        prof.locator("#jp-menu-panel").wait_for(timeout=60_000)
        status, text = call(prof, f"/user/{PROF}/formgraders")
        assert status == 200 and CLASS in text and SEMINAR in text, (status, text[:300])
