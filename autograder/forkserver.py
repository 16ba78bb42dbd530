"""The zygote and the supervisor of each submission, inside the grading jail.

Started by :mod:`autograder.verify` (through :mod:`autograder.jail`) as
``python -m grader_sandbox.forkserver [--preload torch course_lib.wordnet_data:load]``.
The *zygote* imports numpy, IPython (and what ``--preload`` names, calling
``module:function`` entries once: data that every submission loads) once, and
then never receives a job: it reads the two bytes ``go`` and a newline, forks, and waits.  The fork
reads the job (one JSON line) from the same pipe, supervises the submission
and writes one JSON answer line.  So every submission starts from a process
that has held no other submission's data, and still costs no interpreter
start-up.

Supervision: every cell and every part has a wall-clock limit; the sandbox
interrupts a cell itself (see :mod:`autograder.sandbox`), and a child that
ignores the interrupt, or dies (``os._exit``, a crash, the memory limit), is
killed, and a new child is forked that skips the guilty cell (or records the
guilty part as failed).  Killing a child means killing the init of its PID
namespace, which ends every process the submission started.  The submission as
a whole has a deadline too.

The event pipe is written by the submission's process, so nothing on it is
trusted: lines and events are capped, unknown parts and trials are dropped,
and the results are only passed on (the parent checks their headers).
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import time

from .sealed import NO_TABLE

MAX_RESTARTS = 4
GRACE_S = 3.0                 # after the sandbox's own interrupt, how long before the supervisor kills
MAX_LINE = 4 << 20            # bytes in one event line
MAX_EVENTS = 20000
MAX_TABLE = 64 << 20           # bytes of one part's stand-in table


def _run_once(job: dict, state: dict) -> None:
    """Fork one sandbox child and follow its events until it ends, dies or hangs."""
    from .sandbox import run_child

    rfd, wfd = os.pipe()
    table_r, table_w = os.pipe()    # the stand-in table of each part, written when the part starts
    child_job = dict(job, skip=sorted(state["skip"]), done_parts=sorted(state["parts"]), table_fd=table_r)
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(rfd)
        os.close(table_w)
        run_child(child_job, wfd)
    os.close(wfd)
    os.close(table_r)
    os.set_blocking(table_w, False)
    pending = b""                   # table bytes not yet taken by the child
    trials = {p["id"]: len(p["trials"]) for p in job["parts"]}   # in the order the parts run
    stage, started = ("start", None), time.monotonic()
    run = {"init": None, "events": 0, "isolated": False, "starting": None}
    buffer = b""
    ended = False
    deadline = state["deadline"]
    try:
        while True:
            limit = (job["cell_timeout"] if stage[0] in ("cell", "start", "visible") else job["part_timeout"]) + GRACE_S
            wait = min(started + limit, deadline) - time.monotonic()
            if wait <= 0:
                why = ("the time limit for the whole submission" if time.monotonic() >= deadline
                       else f"{limit - GRACE_S:g} s, ignored the interrupt,")
                _stop(pid, run["init"])
                _blame(state, stage, f"ran past {why} and was stopped", "timeout")
                return
            ready, writable, _ = select.select([rfd], [table_w] if pending else [], [], wait)
            if writable:
                try:
                    pending = pending[os.write(table_w, pending):]
                except BlockingIOError:
                    pass
                except BrokenPipeError:
                    pending = b""
            if not ready:
                continue
            chunk = os.read(rfd, 1 << 16)
            if not chunk:
                break
            buffer += chunk
            if b"\n" not in buffer and len(buffer) > MAX_LINE:
                _stop(pid, run["init"])
                _blame(state, stage, f"wrote more than {MAX_LINE >> 20} MiB in one result", "error")
                return
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                run["events"] += 1
                if len(line) > MAX_LINE or run["events"] > MAX_EVENTS:
                    _stop(pid, run["init"])
                    _blame(state, stage, "flooded the grader with output", "error")
                    return
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                if isinstance(ev, dict):
                    stage, started = _event(ev, state, run, trials, stage, started)
                    ended = ended or ev.get("event") == "end"
                    if run["starting"] is not None:
                        starting = run["starting"]
                        pending += _table_from_parent(starting) if starting else (NO_TABLE + "\n").encode()
                        run["starting"] = None
    finally:
        os.close(rfd)
        os.close(table_w)
        _stop(pid, run["init"])
    if not ended:
        _blame(state, stage, "ended the process (os._exit, a crash, or the memory limit)", "crashed")


def _event(ev: dict, state: dict, run: dict, trials: dict, stage: tuple, started: float):
    """Record one event; returns the (possibly new) stage and its start time."""
    kind = ev.get("event")
    now = time.monotonic()
    try:
        if kind == "init" and run["init"] is None and not run["isolated"]:
            run["init"] = int(ev["pid"])
        elif kind == "isolation" and not run["isolated"]:
            run["isolated"] = True
            state["isolation"] = str(ev["mode"])[:400]
        elif kind == "cell":
            return ("cell", int(ev["i"])), now
        elif kind == "cell_error":
            state["cell_errors"][str(int(ev["i"]))] = str(ev["error"])[:400]
        elif kind == "cell_timeout":
            state["interrupted"].add(int(ev["i"]))
        elif kind == "part" and ev.get("id") in trials and ev["id"] not in state["parts"]:
            # Parts run once each, in order: starting one closes every earlier part that never started
            # (so no part's stand-in table reaches the sandbox while a part it could answer is open).
            for earlier in list(trials)[:list(trials).index(ev["id"])]:
                state["parts"].setdefault(earlier, {"trials": {}, "error": "the check never ran"})
            state["parts"][ev["id"]] = {"trials": {}}
            run["starting"] = ev["id"]
            return ("part", ev["id"]), now
        elif kind == "part" and ev.get("id") in trials:
            run["starting"] = ""      # started before: an empty table (the sandbox waits for one), results refused
        elif kind == "result" and ev.get("id") in trials and stage == ("part", ev["id"]):
            trial = int(ev["trial"])
            if 0 <= trial < trials[ev["id"]]:
                state["parts"][ev["id"]]["trials"][str(trial)] = (
                    {"npz": str(ev["npz"])} if "npz" in ev else {"error": str(ev.get("error"))[:400]})
        elif kind == "visible_start":
            return ("visible", str(ev["id"])), now
        elif kind == "visible" and stage == ("visible", ev.get("id")):
            state["visible"][ev["id"]] = {"stdout": str(ev["stdout"])[-4000:], "error": str(ev["error"])[:400]}
        elif kind == "fatal":
            state["notes"].append("grader error: " + str(ev["error"])[:400])
    except (KeyError, TypeError, ValueError):
        pass
    return stage, started


_PARENT = {"in": None}          # the job's pipe from the grader, buffered (serve_one opens it)


def _table_from_parent(part_id: str) -> bytes:
    """Ask the grader for a part's stand-in table (one JSON line); the child reads it when the part starts."""
    out = (json.dumps({"need": part_id}) + "\n").encode()
    while out:
        out = out[os.write(1, out):]
    line = _PARENT["in"].readline(MAX_TABLE)
    if not line.endswith(b"\n"):
        raise RuntimeError("the grader sent no stand-in table")
    return line


def _stop(pid: int, init: int | None) -> None:
    """Kill the submission's PID namespace (through its init), then the child that made it."""
    if init and init != pid:
        try:
            os.kill(init, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
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
    state = {"skip": set(), "parts": {}, "cell_errors": {}, "interrupted": set(), "visible": {}, "notes": [],
             "status": "ok", "isolation": "unknown", "deadline": time.monotonic() + job["submission_timeout"],
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
    state["interrupted"] = sorted(state["interrupted"])
    del state["deadline"]
    return state


def _read_go() -> bool:
    """Read exactly ``go`` and a newline from stdin, byte by byte: the job behind it is the fork's to read."""
    data = b""
    while not data.endswith(b"\n"):
        byte = os.read(0, 1)
        if not byte:
            return False
        data += byte
    return data == b"go\n"


def serve_one() -> None:
    """In the fork: read one job, supervise it, answer one line; never returns."""
    try:
        _PARENT["in"] = os.fdopen(0, "rb")   # buffered: the zygote reads nothing until this fork ends
        answer = json.dumps(supervise(json.loads(_PARENT["in"].readline()))) + "\n"
        out = answer.encode()
        while out:
            out = out[os.write(1, out):]
        os._exit(0)
    except BaseException:  # noqa: BLE001  (the zygote answers for a supervisor that failed)
        os._exit(3)


def main() -> None:
    args = sys.argv[1:]
    import numpy  # noqa: F401  (imported once, shared by every forked sandbox)
    from IPython.core import interactiveshell  # noqa: F401

    if "--preload" in args:   # "module" is imported; "module:function" is also called once (warm data)
        import importlib

        for name in args[args.index("--preload") + 1:]:
            module, _, function = name.partition(":")
            loaded = importlib.import_module(module)
            if function:
                getattr(loaded, function)()
    sys.stdout = sys.stderr  # nothing but answers on the real stdout (fd 1)
    while _read_go():
        pid = os.fork()
        if pid == 0:
            serve_one()
        _, status = os.waitpid(pid, 0)
        if status != 0:
            os.write(1, b'{"error": "the grading supervisor failed"}\n')


if __name__ == "__main__":
    main()
