"""A grading worker that imports the heavy libraries once and forks a sandbox per submission.

Started by :mod:`autograder.verify` as ``python -m autograder.forkserver
[--preload torch]``.  It reads one job per line on stdin (JSON), supervises the
sandbox child (:func:`autograder.sandbox.run_child`) and answers one JSON line
on stdout.

Supervision: every cell and every part has a wall-clock limit; a child that
exceeds it, or dies (``os._exit``, a crash, the memory limit), is killed, and a new child is forked that skips the
guilty cell (or records the guilty part as failed).  So an endless loop or
``os._exit`` costs only what could not run.  The child leads its own process
group and its own PID namespace (see :mod:`autograder.sandbox`), so killing the group ends every
process the student started.  The submission as a whole has a
deadline too.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import time

MAX_RESTARTS = 4


def _run_once(job: dict, state: dict) -> None:
    """Fork one sandbox child and follow its events until it ends, dies or hangs."""
    from .sandbox import run_child

    child_job = dict(job, skip=sorted(state["skip"]), done_parts=sorted(state["parts"]))
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(rfd)
        run_child(child_job, wfd)
    os.close(wfd)
    stage, started = ("start", None), time.monotonic()
    buffer = b""
    ended = False
    deadline = state["deadline"]
    try:
        while True:
            limit = job["cell_timeout"] if stage[0] in ("cell", "start", "visible") else job["part_timeout"]
            wait = min(started + limit, deadline) - time.monotonic()
            if wait <= 0:
                why = "the time limit for the whole submission" if time.monotonic() >= deadline else f"{limit:g} s"
                _stop(pid, job)
                _blame(state, stage, f"ran past {why} and was stopped", "timeout")
                return
            ready, _, _ = select.select([rfd], [], [], wait)
            if not ready:
                continue
            chunk = os.read(rfd, 1 << 16)
            if not chunk:
                break
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                kind = ev.get("event")
                if kind == "cell":
                    stage, started = ("cell", ev["i"]), time.monotonic()
                elif kind == "cell_error":
                    state["cell_errors"][str(ev["i"])] = ev["error"]
                elif kind == "part":
                    stage, started = ("part", ev["id"]), time.monotonic()
                    state["parts"][ev["id"]] = {"trials": {}}
                elif kind == "result":
                    state["parts"].setdefault(ev["id"], {"trials": {}})["trials"][str(ev["trial"])] = (
                        {"npz": ev["npz"]} if "npz" in ev else {"error": ev["error"]})
                elif kind == "visible_start":
                    stage, started = ("visible", ev["id"]), time.monotonic()
                elif kind == "visible":
                    state["visible"][ev["id"]] = {"stdout": ev["stdout"], "error": ev["error"]}
                elif kind == "isolation":
                    state["isolation"] = ev["mode"]
                elif kind == "fatal":
                    state["notes"].append("grader error: " + ev["error"])
                elif kind == "end":
                    ended = True
    finally:
        os.close(rfd)
        _stop(pid, job)
    if not ended:
        _blame(state, stage, "ended the process (os._exit, a crash, or the memory limit)", "crashed")


def _stop(pid: int, job: dict) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _blame(state: dict, stage: tuple, what: str, status: str) -> None:
    kind, key = stage
    state["status"] = status if state["status"] == "ok" else state["status"]
    if kind == "cell":
        state["skip"].add(key)
        state["notes"].append(f"cell {key} {what}; it was skipped")
    elif kind == "part":
        state["parts"].setdefault(key, {"trials": {}})["error"] = f"the check {what}"
        state["notes"].append(f"checking {key} {what}")
    elif kind == "visible":
        state["visible"][key] = {"stdout": "", "error": f"the visible tests {what}"}
        state["visible_done"] = True
    else:
        state["notes"].append(f"the sandbox {what} before running any cell")
        state["fatal"] = True


def supervise(job: dict) -> dict:
    state = {"skip": set(), "parts": {}, "cell_errors": {}, "visible": {}, "notes": [], "status": "ok",
             "isolation": "unknown", "deadline": time.monotonic() + job["submission_timeout"],
             "fatal": False, "visible_done": False}
    for _ in range(MAX_RESTARTS + 1):
        before = (len(state["skip"]), len(state["parts"]), len(state["visible"]))
        _run_once(job, state)
        finished = all(p["id"] in state["parts"] for p in job["parts"]) and (
            state["visible_done"] or len(state["visible"]) == len(job["visible_tests"]))
        if finished or state["fatal"] or time.monotonic() >= state["deadline"]:
            break
        if (len(state["skip"]), len(state["parts"]), len(state["visible"])) == before:
            break  # no progress: do not loop
        if state["visible"] and not state["visible_done"]:
            # visible tests are feedback only: do not rerun everything for them
            break
    for part in job["parts"]:
        state["parts"].setdefault(part["id"], {"trials": {}, "error": "the check never ran"})
    state["skip"] = sorted(state["skip"])
    del state["deadline"]
    return state


def main() -> None:
    preload = sys.argv[1:]
    import numpy  # noqa: F401  (imported once, shared by every forked sandbox)
    from IPython.core import inputtransformer2  # noqa: F401

    if "--preload" in preload:
        for name in preload[preload.index("--preload") + 1:]:
            __import__(name)
    out = sys.stdout
    sys.stdout = sys.stderr  # nothing but answers on the real stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        job = json.loads(line)
        out.write(json.dumps(supervise(job)) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
