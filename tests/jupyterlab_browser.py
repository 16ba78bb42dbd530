"""Drive a real JupyterLab in headless Chromium (Debian's /usr/bin/chromium).

Reusable by any test that must check what a student actually sees:

    with running_lab(root_dir, tmp_path) as lab:
        report = run_notebook_in_browser(lab, "notebooks/x.ipynb", "shot.png")

``running_lab`` starts ``jupyter lab`` from this virtual environment with every
Jupyter/IPython directory isolated under ``tmp_path`` and tears everything down
afterwards, including kernels (they run in their own session, so killing the
server's process group would miss them: we find them through /proc by the
runtime directory that holds their connection files, and end them by PID).

``run_notebook_in_browser`` opens a notebook, waits until the status bar says
the kernel is idle, runs all cells through the menu (Run > Run All Cells), waits
until the run has finished and returns a report built from the rendered page.

Never run ``playwright install``: Playwright drives the system Chromium through
``executable_path``.
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
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
MAX_SCREENSHOT_HEIGHT = 16000  # Chromium refuses far taller captures

# Settings written into the isolated user-settings directory.
#  * windowingMode "none": every cell is attached to the DOM, so the report
#    (and the screenshot) covers cells outside the viewport too;
#  * no news / update checks: no toast over the notebook, no network;
#  * no autosave: running a notebook must never write outputs into the
#    repository's file (the browser is closed without saving).
LAB_USER_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {
        "autosave": False
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
        "windowingMode": "none"
    },
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}

# IPython renders an exception as a line "<ename>: <evalue>" (or just
# "<ename>"), possibly after "Traceback (most recent call last)".
_ENAME_LINE = re.compile(
    r"^[A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit)(?::.*)?\s*$", re.M
)
# ANSI colour codes survive in some renderings of tracebacks.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def chromium_available() -> bool:
    return CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)


def looks_like_error(text: str) -> bool:
    """True for the text of a rendered exception, false for ordinary stderr.

    JupyterLab 4 renders ``error`` outputs with the same MIME type as stderr
    streams (``application/vnd.jupyter.stderr``), so the text decides: a
    traceback header, or a line that is an exception name (``ValueError: x``,
    ``SyntaxError: ...``, ``KeyboardInterrupt``).  Progress bars (tqdm) and
    warnings (``file.py:3: UserWarning: ...``) do not match.
    """
    text = _ANSI.sub("", text)
    return "Traceback (most recent call last)" in text or bool(_ENAME_LINE.search(text))


# --------------------------------------------------------------------------
# Server


@dataclass
class Lab:
    """A running JupyterLab server."""

    base_url: str
    token: str
    root_dir: Path
    runtime_dir: Path
    log_path: Path
    process: subprocess.Popen
    tmp_path: Path
    kernel_pids: set[int] = field(default_factory=set)

    def url(self, path: str = "lab") -> str:
        """Tokenised URL of ``path`` (relative to the server root)."""
        sep = "&" if "?" in path else "?"
        return f"{self.base_url}{path.lstrip('/')}{sep}token={self.token}"

    def api(self, path: str, method: str = "GET", timeout: float = 10) -> object:
        req = urllib.request.Request(
            f"{self.base_url}api/{path.lstrip('/')}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def record_kernel_pids(self) -> set[int]:
        """Find this server's kernels in /proc and remember their PIDs."""
        found = _pids_with_cmdline_containing(str(self.runtime_dir))
        found.discard(self.process.pid)
        self.kernel_pids |= found
        return found

    def shutdown_session(self, notebook_rel_path: str) -> None:
        """Shut down the kernel of ``notebook_rel_path`` (if any)."""
        self.record_kernel_pids()
        try:
            sessions = self.api("sessions")
        except (OSError, ValueError):
            return
        for s in sessions or []:
            if s.get("path") == notebook_rel_path:
                with contextlib.suppress(OSError, ValueError):
                    self.api(f"sessions/{s['id']}", method="DELETE", timeout=20)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _proc_table() -> dict[int, tuple[int, str]]:
    """pid -> (ppid, cmdline) for every process we can read."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            stat = Path(f"/proc/{pid}/stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        table[pid] = (ppid, cmdline.decode(errors="replace"))
    return table


def _pids_with_cmdline_containing(needle: str) -> set[int]:
    return {pid for pid, (_, cmd) in _proc_table().items() if needle in cmd}


def _with_descendants(pids: set[int]) -> set[int]:
    table = _proc_table()
    out = {p for p in pids if p in table}
    changed = True
    while changed:
        changed = False
        for pid, (ppid, _) in table.items():
            if ppid in out and pid not in out:
                out.add(pid)
                changed = True
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _kill_pids(pids: set[int], grace_s: float = 5) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and any(_alive(p) for p in pids):
            time.sleep(0.1)
        if not any(_alive(p) for p in pids):
            return


def _write_settings(user_settings_dir: Path) -> None:
    for rel, value in LAB_USER_SETTINGS.items():
        f = user_settings_dir / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(value))


@contextlib.contextmanager
def running_lab(root_dir, tmp_path, startup_timeout_s: float = 60, extra_args=()) -> Iterator[Lab]:
    """Start JupyterLab serving ``root_dir``; everything it writes goes to ``tmp_path``."""
    root_dir = Path(root_dir).resolve()
    base = Path(tmp_path) / "jupyterlab"
    dirs = {
        "JUPYTER_CONFIG_DIR": base / "config",
        "JUPYTER_DATA_DIR": base / "data",
        "JUPYTER_RUNTIME_DIR": base / "runtime",
        "IPYTHONDIR": base / "ipython",
        "TMPDIR": base / "tmp",
    }
    dirs["checkpoints"] = base / "checkpoints"
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    _write_settings(dirs["JUPYTER_CONFIG_DIR"] / "lab" / "user-settings")
    # Run All sends every cell at once; after an error ipykernel aborts only the requests that arrive
    # within stop_on_error_timeout (0 s by default), so on a loaded machine a cell queued after the
    # failing one could still run. Ten seconds makes "Run All stops at the first error" hold under load.
    profile = dirs["IPYTHONDIR"] / "profile_default"
    profile.mkdir(parents=True, exist_ok=True)
    (profile / "ipython_kernel_config.py").write_text("c.Kernel.stop_on_error_timeout = 10.0\n")

    venv_bin = Path(sys.executable).parent
    env = dict(os.environ)
    env.update({k: str(v) for k, v in dirs.items() if k.isupper()})
    env["PATH"] = f"{venv_bin}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv_bin.parent)
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # quiets a debugger warning
    # Test suites often set MPLBACKEND=Agg (tests/conftest.py does): a kernel
    # inheriting it draws no inline figures. Students' kernels do not have it.
    env.pop("MPLBACKEND", None)
    env.pop("JUPYTER_PATH", None)
    env.pop("JUPYTER_CONFIG_PATH", None)

    port = _free_port()
    token = secrets.token_hex(24)
    log_path = base / "server.log"
    cmd = [
        str(venv_bin / "jupyter"), "lab",
        "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--port-retries=0",
        f"--ServerApp.token={token}", f"--ServerApp.root_dir={root_dir}",
        "--allow-root",
        # JupyterLab makes a checkpoint of every file it opens; by default in
        # <dir>/.ipynb_checkpoints, i.e. inside the repository. An absolute
        # checkpoint_dir keeps them in the temporary directory.
        f"--FileCheckpoints.checkpoint_dir={dirs['checkpoints']}",
        "--LabApp.expose_app_in_browser=True",  # fallback for Run All, see below
        "--LabApp.news_url=",
        "--ServerApp.open_browser=False",
        *extra_args,
    ]
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        cmd, cwd=root_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, start_new_session=True,
    )
    lab = Lab(
        base_url=f"http://127.0.0.1:{port}/", token=token, root_dir=root_dir,
        runtime_dir=dirs["JUPYTER_RUNTIME_DIR"], log_path=log_path,
        process=proc, tmp_path=Path(tmp_path),
    )
    try:
        deadline = time.monotonic() + startup_timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {proc.returncode}:\n{lab.log()[-4000:]}")
            try:
                lab.api("status", timeout=2)
                break
            except (OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"jupyter lab did not answer /api/status:\n{lab.log()[-4000:]}")
            time.sleep(0.25)
        yield lab
    finally:
        _stop_lab(lab)
        log.close()


def _stop_lab(lab: Lab) -> None:
    lab.record_kernel_pids()
    # Polite first: ask the server to shut its kernels down.
    if lab.process.poll() is None:
        try:
            kernels = lab.api("kernels", timeout=5)
        except (OSError, ValueError):
            kernels = []
        for k in kernels or []:
            with contextlib.suppress(OSError, ValueError):
                lab.api(f"kernels/{k['id']}", method="DELETE", timeout=10)
    lab.record_kernel_pids()
    server_tree = _with_descendants({lab.process.pid})
    # The server and whatever stayed in its process group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(lab.process.pid, signal.SIGTERM)
    try:
        lab.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(lab.process.pid, signal.SIGKILL)
        lab.process.wait(timeout=10)
    # Kernels (own session) and anything they started, by PID.
    leftovers = _with_descendants(lab.kernel_pids | (server_tree - {lab.process.pid}))
    leftovers |= _pids_with_cmdline_containing(str(lab.runtime_dir))
    leftovers.discard(os.getpid())
    _kill_pids({p for p in leftovers if _alive(p)})


# --------------------------------------------------------------------------
# Browser

# Collected in the page after the run.  Each code cell: prompt, outputs
# (text of stderr-mime renderings, images, widget errors).
_COLLECT_JS = r"""
() => {
  const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
  if (!nb) return null;
  const cells = [...nb.querySelectorAll('.jp-Cell.jp-CodeCell')];
  return cells.map((cell, i) => {
    const prompt = (cell.querySelector('.jp-InputArea-prompt') || {}).textContent || '';
    const outs = [...cell.querySelectorAll('.jp-OutputArea-output')];
    const stderr = outs
      .filter(o => o.matches('[data-mime-type="application/vnd.jupyter.stderr"]')
                || o.querySelector('[data-mime-type="application/vnd.jupyter.stderr"]'))
      .map(o => o.innerText);
    const images = [...cell.querySelectorAll('.jp-OutputArea-output img')].map(img => ({
      complete: img.complete, naturalWidth: img.naturalWidth,
      naturalHeight: img.naturalHeight, src: (img.getAttribute('src') || '').slice(0, 40),
    }));
    const svgs = [...cell.querySelectorAll('.jp-OutputArea-output .jp-RenderedSVG svg')].length;
    const text = outs.map(o => o.innerText).join('\n');
    // an output area holding a rendered ipywidget view (sliders, tqdm bars, ...)
    const widgets = outs.filter(o => o.querySelector(':scope > .jupyter-widgets')).length;
    return {
      index: i, prompt: prompt.trim(),
      stderr, images, svgs, widgets,
      widget_errors: (text.match(/Error displaying widget[^\n]*/g) || []),
    };
  });
}
"""

# The text of the rendered Markdown cells (to check that a translated notebook shows its language).
_MARKDOWN_JS = r"""
() => {
  const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
  if (!nb) return '';
  return [...nb.querySelectorAll('.jp-MarkdownCell .jp-RenderedMarkdown')].map(m => m.innerText).join('\n');
}
"""

# True once the notebook run is over: no queued/running cell, the kernel is
# idle, and every non-empty code cell has an execution count unless an error
# stopped the run (JupyterLab leaves the cells after a failing one at "[ ]").
_STATUS_JS = r"""
() => {
  const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
  if (!nb) return {ready: false, why: 'no notebook'};
  const bar = document.querySelector('#jp-main-statusbar');
  const idle = !!bar && /\|\s*Idle/.test(bar.textContent);
  const cells = [...nb.querySelectorAll('.jp-Cell.jp-CodeCell')];
  let running = 0, pending = 0;
  for (const c of cells) {
    const p = ((c.querySelector('.jp-InputArea-prompt') || {}).textContent || '').trim();
    const empty = !((c.querySelector('.jp-InputArea-editor') || {}).textContent || '').trim();
    if (p.includes('*')) running++;
    else if (!/\[\d+\]/.test(p) && !empty) pending++;
  }
  // Things that would otherwise only end in a timeout.
  let blocked = '';
  const dialog = document.querySelector('.jp-Dialog');
  if (dialog) blocked = 'dialog: ' + dialog.innerText.replace(/\s+/g, ' ').slice(0, 300);
  else if (nb.querySelector('.jp-Stdin')) blocked = 'a cell waits for input()';
  else if (bar && /\|\s*(Dead|Restarting|Autorestarting)/.test(bar.textContent))
    blocked = 'kernel ' + bar.textContent.match(/\|\s*(\w+)/)[1];
  return {idle, running, pending, blocked, status: bar ? bar.textContent : ''};
}
"""


def _wait_kernel_idle(page, timeout_s: float) -> None:
    """Wait for the status bar to read '... (ipykernel) | Idle'.

    The notebook toolbar says idle before a kernel exists; only the status bar
    text tells that the kernel is connected (otherwise Run All is lost).
    A 'Select Kernel' dialog (notebook without kernelspec) is accepted.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        dialog = page.locator(".jp-Dialog .jp-mod-accept")
        if dialog.count():
            with contextlib.suppress(Exception):
                dialog.first.click(timeout=2000)
        bar = page.locator("#jp-main-statusbar")
        text = bar.inner_text(timeout=5000) if bar.count() else ""
        if re.search(r"\(ipykernel\)\s*\|\s*Idle", text):
            return
        time.sleep(0.25)
    raise TimeoutError(f"kernel not idle after {timeout_s}s")


def _run_all(page) -> str:
    """Run > Run All Cells through the menu bar; the command as a fallback."""
    try:
        page.locator("#jp-menu-panel .lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click(timeout=5000)
        page.locator(".lm-Menu .lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click(timeout=5000)
        return "menu"
    except Exception:  # menus changed: use the command behind the menu item
        page.keyboard.press("Escape")
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        return "command"


def _clear_outputs(page) -> None:
    """Drop outputs/execution counts saved in the file, so that what we see is ours."""
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")


def _error_from_model(page) -> list[dict]:
    """Error outputs as the notebook model holds them (cross-check of the DOM)."""
    return page.evaluate(
        r"""() => {
          const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
          if (!w || !w.content || !w.content.model) return null;
          const out = [];
          const cells = w.content.model.cells;
          let code = -1;
          for (let i = 0; i < cells.length; i++) {
            const c = cells.get(i);
            if (c.type !== 'code') continue;
            code++;
            const o = c.outputs;
            for (let j = 0; j < o.length; j++) {
              const item = o.get(j).toJSON();
              if (item.output_type === 'error')
                out.push({cell: code, ename: item.ename, evalue: item.evalue});
            }
          }
          return out;
        }"""
    )


def _widget_outputs_in_model(page) -> int:
    """How many outputs carry an ipywidget view (what the DOM should render)."""
    return page.evaluate(
        r"""() => {
          const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
          if (!w || !w.content || !w.content.model) return -1;
          let n = 0;
          const cells = w.content.model.cells;
          for (let i = 0; i < cells.length; i++) {
            const c = cells.get(i);
            if (c.type !== 'code') continue;
            for (let j = 0; j < c.outputs.length; j++) {
              const data = c.outputs.get(j).toJSON().data || {};
              if ('application/vnd.jupyter.widget-view+json' in data) n++;
            }
          }
          return n;
        }"""
    )


def _wait_widgets_settled(page, expected: int, timeout_s: float) -> None:
    """Wait until each widget output shows its view or its error.

    Widget views render asynchronously, after the kernel is idle, and so does
    "Error displaying widget: model not found".
    """
    js = r"""() => [...document.querySelectorAll(
          '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output')]
          .filter(o => o.querySelector(':scope > .jupyter-widgets')
                    || /Error displaying widget/.test(o.innerText)).length"""
    deadline = time.monotonic() + timeout_s
    while page.evaluate(js) < expected and time.monotonic() < deadline:
        time.sleep(0.2)


def nudge_first_slider(page, presses: int = 2, timeout_s: float = 15) -> dict:
    """Move the notebook's first ipywidgets slider by keyboard (ArrowRight).

    Returns the slider's readout before and after, and how many output images
    changed (a slider wired to a plot redraws it through the live kernel).
    """
    panel = ".jp-NotebookPanel:not(.lm-mod-hidden)"
    srcs_js = f"() => [...document.querySelectorAll('{panel} .jp-OutputArea-output img')].map(i => i.src)"
    readout = page.locator(f"{panel} .widget-slider .widget-readout").first
    before_readout = readout.inner_text(timeout=5000)
    before = page.evaluate(srcs_js)
    page.locator(f"{panel} .widget-slider .noUi-handle").first.focus()
    for _ in range(presses):
        page.keyboard.press("ArrowRight")
    deadline = time.monotonic() + timeout_s
    changed = 0
    while time.monotonic() < deadline:
        after = page.evaluate(srcs_js)
        changed = sum(a != b for a, b in zip(before, after)) + abs(len(after) - len(before))
        if changed:
            break
        time.sleep(0.2)
    page.wait_for_timeout(300)  # let the new image decode before the screenshot
    return {"readout_before": before_readout, "readout_after": readout.inner_text(timeout=5000),
            "images_changed": changed}


@contextlib.contextmanager
def chromium():
    """Headless Debian Chromium (a Playwright browser), for tests that need several contexts (users) at once."""
    from playwright.sync_api import sync_playwright

    # Chromium puts its SingletonSocket (a unix socket, path <= 107 bytes) under
    # TMPDIR: pytest's tmp_path is often too long for that (FATAL "Socket path
    # too long"), so the browser gets a short private directory of its own.
    browser_tmp = tempfile.mkdtemp(prefix="chr-", dir="/tmp")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True,
                env={**os.environ, "TMPDIR": browser_tmp},
            )
            try:
                yield browser
            finally:
                browser.close()
    finally:
        shutil.rmtree(browser_tmp, ignore_errors=True)


@contextlib.contextmanager
def chromium_page(console_errors: list[str] | None = None):
    """A page in headless Debian Chromium; console errors are appended to ``console_errors``."""
    errors = console_errors if console_errors is not None else []
    with chromium() as browser:
        page = browser.new_page(viewport=VIEWPORT)
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
        yield page


def run_notebook_in_browser(lab: Lab, notebook_rel_path: str, screenshot_path,
                            timeout_s: float = 180, shutdown_kernel: bool = True,
                            interact=None) -> dict:
    """Open ``notebook_rel_path`` in JupyterLab, Run All, report what rendered.

    Report keys: ``code_cells``, ``executed_cells``, ``errors`` (count of
    rendered exceptions), ``error_texts``, ``model_errors`` (ename/evalue from
    the notebook model, a cross-check), ``stderr_outputs`` (all stderr-mime
    renderings incl. harmless ones such as tqdm), ``images`` (every ``img``
    in outputs with natural size), ``rendered_images`` (those complete with a
    non-zero size), ``broken_images``, ``svgs``, ``widget_errors``,
    ``widget_outputs`` (outputs holding an ipywidget in the notebook model),
    ``rendered_widgets`` (output areas where a widget view is in the page),
    ``run_via``, ``seconds``, ``screenshot``, ``console_errors``.

    ``interact(page)``, when given, is called after the run (what it returns is
    the report's ``interaction``); the screenshot shows the page after it.
    """
    started = time.monotonic()
    deadline = started + timeout_s
    screenshot_path = Path(screenshot_path)
    screenshot_path.parent.mkdir(parents=True, exist_ok=True)
    rel = notebook_rel_path.replace(os.sep, "/")
    # A workspace of its own: nothing opened by an earlier run is restored.
    workspace = "t" + secrets.token_hex(4)
    url = lab.url(f"lab/workspaces/{workspace}/tree/{urllib.parse.quote(rel)}")
    console_errors: list[str] = []

    try:
        with chromium_page(console_errors) as page:
            page.goto(url, wait_until="domcontentloaded", timeout=60_000)
            page.wait_for_selector(
                ".jp-NotebookPanel .jp-Notebook .jp-Cell",
                timeout=max(1, deadline - time.monotonic()) * 1000,
            )
            _wait_kernel_idle(page, deadline - time.monotonic())
            lab.record_kernel_pids()
            _clear_outputs(page)
            run_via = _run_all(page)

            stable = 0
            status = {}
            while True:
                status = page.evaluate(_STATUS_JS)
                done = status.get("idle") and not status.get("running") and (
                    not status.get("pending") or _any_error(page)
                )
                stable = stable + 1 if done else 0
                if stable >= 3:  # same verdict three polls in a row
                    break
                if status.get("blocked"):  # kernel died, input() waits...
                    page.screenshot(path=str(screenshot_path))
                    raise RuntimeError(f"{rel}: run blocked: {status['blocked']}")
                if time.monotonic() > deadline:
                    page.screenshot(path=str(screenshot_path))
                    raise TimeoutError(
                        f"{rel}: run not finished after {timeout_s}s ({status})")
                time.sleep(0.3)
            lab.record_kernel_pids()

            widget_outputs = _widget_outputs_in_model(page)
            _wait_widgets_settled(page, widget_outputs, min(10, max(1, deadline - time.monotonic())))
            cells = page.evaluate(_COLLECT_JS) or []
            markdown = page.evaluate(_MARKDOWN_JS) or ""
            model_errors = _error_from_model(page)
            interaction = interact(page) if interact else None
            _full_page_screenshot(page, screenshot_path)
    finally:
        if shutdown_kernel:
            lab.shutdown_session(rel)

    error_texts = [t for c in cells for t in c["stderr"] if looks_like_error(t)]
    images = [dict(img, cell=c["index"]) for c in cells for img in c["images"]]
    rendered = [i for i in images if i["complete"] and i["naturalWidth"] > 0 and i["naturalHeight"] > 0]
    return {
        "notebook": rel,
        "code_cells": len(cells),
        "executed_cells": sum(bool(re.search(r"\[\d+\]", c["prompt"])) for c in cells),
        # collapsed outputs have no rendered text: the model count covers them
        "errors": max(len(error_texts), len(model_errors or [])),
        "error_texts": error_texts,
        "model_errors": model_errors,
        "stderr_outputs": sum(len(c["stderr"]) for c in cells),
        "images": images,
        "rendered_images": rendered,
        "broken_images": [i for i in images if i not in rendered],
        "svgs": sum(c["svgs"] for c in cells),
        "widget_errors": [w for c in cells for w in c["widget_errors"]],
        "widget_outputs": widget_outputs,
        "rendered_widgets": sum(c["widgets"] for c in cells),
        "console_errors": console_errors,
        "markdown_chars": len(markdown),
        "markdown_cjk": len(re.findall(r"[\u4e00-\u9fff]", markdown)),
        "run_via": run_via,
        "interaction": interaction,
        "kernel_status": _kernel_status(status.get("status", "")),
        "seconds": round(time.monotonic() - started, 1),
        "screenshot": str(screenshot_path),
    }


def _kernel_status(status_bar_text: str) -> str:
    m = re.search(r"[^|]*?\(ipykernel\)\s*\|\s*[A-Z][a-z]+", status_bar_text)
    return m.group(0).lstrip("0123456789") if m else status_bar_text


def _any_error(page) -> bool:
    texts = page.evaluate(
        r"""() => [...document.querySelectorAll(
              '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output')]
              .filter(o => o.matches('[data-mime-type="application/vnd.jupyter.stderr"]')
                        || o.querySelector('[data-mime-type="application/vnd.jupyter.stderr"]'))
              .map(o => o.innerText)"""
    )
    return any(looks_like_error(t) for t in texts)


def _full_page_screenshot(page, path: Path) -> None:
    """Screenshot of the whole notebook, not just the viewport.

    JupyterLab scrolls inside its own panel, so Playwright's ``full_page``
    sees one screen; grow the viewport until the last cell fits instead.
    The file browser is collapsed so the notebook gets the width.
    """
    with contextlib.suppress(Exception):
        page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
    needed = page.evaluate(
        r"""() => {
          const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
          const outer = panel && (panel.querySelector('.jp-WindowedPanel-outer')
                                  || panel.querySelector('.jp-Notebook'));
          const cells = panel ? panel.querySelectorAll('.jp-Cell') : [];
          if (!outer || !cells.length) return 0;
          const top = outer.getBoundingClientRect().top;
          const last = cells[cells.length - 1].getBoundingClientRect().bottom;
          const bar = document.querySelector('#jp-main-statusbar');
          return (last - top) + outer.scrollTop + top + 40 + (bar ? bar.offsetHeight : 0);
        }"""
    )
    height = int(min(max(VIEWPORT["height"], needed), MAX_SCREENSHOT_HEIGHT))
    page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
    page.wait_for_timeout(300)  # let lumino re-layout
    page.evaluate(
        r"""() => {
          const s = document.querySelector(
            '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer');
          if (s) s.scrollTop = 0;
        }"""
    )
    page.wait_for_timeout(200)
    page.screenshot(path=str(path), full_page=True)


def close_modal(frame, title: str) -> str:
    """Wait for formgrader's modal saying ``title``, return its text, press OK."""
    modal = frame.locator(".modal-dialog", has_text=title).first
    modal.wait_for(timeout=180_000)
    text = modal.inner_text()
    modal.locator("button.close", has_text="OK").click()
    modal.wait_for(state="hidden", timeout=30_000)
    return text
