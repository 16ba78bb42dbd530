"""The sandbox: runs one student's notebook in a fresh, isolated, limited process.

This file runs *inside* the grading jail (:mod:`autograder.jail`): a bubblewrap
sandbox whose file system holds only the interpreter, the environment's
packages, the data the assignment reads and a ``course_lib`` without the graded
functions.  It is copied there as ``grader_sandbox.sandbox`` and imports nothing
of the autograder.

:func:`run_child` is called in a process forked from the zygote
(:mod:`autograder.forkserver`) for one submission.  Before any student code runs,
it

- starts its own session and enters new user, mount, PID, network and IPC
  namespaces: its first child is the PID namespace's init, which the supervisor
  kills to end every process the submission started, whatever it did with
  sessions; the supervisor learns that init's PID before any student code runs;
- mounts an empty writable ``/scratch`` (its working directory, ``HOME`` and
  ``TMPDIR``), ``/dev/shm`` and, where the jail allows, ``/tmp``, so nothing
  another submission wrote is visible, covers ``/proc`` (the kernel refuses a
  new one inside the jail: an empty, read-only one instead), then drops every
  capability;
- lowers its limits: memory (``RLIMIT_DATA``), CPU time, file size, processes.

It then runs the notebook's cells in a real IPython ``InteractiveShell`` (cell
magics such as ``%%time`` run their body; ``display`` works), each under the
cell time limit (a cell past it is interrupted with ``KeyboardInterrupt``, as
nbgrader interrupts a kernel, and the next cell runs), calls each part's
``call`` snippet on the inputs it was given, and writes JSON events to a pipe:
``init`` / ``isolation`` / ``cell`` / ``cell_error`` / ``part`` / ``result`` /
``visible`` / ``end``.  Results are arrays in an uncompressed ``.npz`` (read
back by the trusted parent only after checking every header), never pickles.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import io
import json
import os
import resource
import select
import signal
import sys
import time
import traceback

import numpy as np

from .sealed import StandIns

CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWPID, CLONE_NEWIPC = 0x00020000, 0x40000000, 0x20000000, 0x08000000
CLONE_NEWUSER = 0x10000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REC, MS_PRIVATE = 16384, 1 << 18
PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 4, 24, 38
# The isolation modes in which every namespace and mount below is in place (as root; without root).
NAMESPACES, USER_NAMESPACES = "namespaces", "user namespaces"
FULL_ISOLATION = (NAMESPACES, USER_NAMESPACES)
MAX_PROCESSES = 64          # RLIMIT_NPROC: counted per user namespace, so these are the submission's own


class _Blocker:
    """A meta-path finder that refuses whole modules while graded (the grader's own, nbgrader)."""

    def __init__(self, blocked, assignment_id):
        self.blocked = tuple(blocked)
        self.assignment_id = assignment_id

    def find_spec(self, name, path=None, target=None):
        for mod in self.blocked:
            if name == mod or name.startswith(mod + "."):
                raise ImportError(f"{name} is not available while {self.assignment_id} is graded")
        return None


class CellTimeout(KeyboardInterrupt):
    """Raised in a cell (or a check) that ran past its time limit, as nbgrader interrupts the kernel."""


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _enter_user_namespace(libc, flags: int) -> bool:
    """Without root: a new user namespace (same uid and gid inside) makes the other namespaces possible."""
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(CLONE_NEWUSER | flags) != 0:
        return False
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)
    return True


def _drop_capabilities(libc) -> None:
    """No capabilities left, now or after an exec: uid 0 without CAP_SYS_ADMIN, CAP_KILL, ..."""
    for cap in range(64):
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)     # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()                     # effective, permitted, inheritable = 0 (x2 words)
    if libc.capset(header, data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


def _isolate(job, emit) -> str:
    """New namespaces, a fresh /proc, empty scratch folders, no capabilities; returns the isolation mode.

    "namespaces" (root outside a jail), "user namespaces" (otherwise, where the
    kernel allows them) or "python-only" (neither: only the limits apply).  A
    mount that cannot be made is named in the mode ("... (partial: ...)").
    """
    libc = _libc()
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC
    scratch = job["scratch"]
    if job.get("drop_to") is not None:     # graded as root, in the jail: become nobody first
        os.setgroups([])
        os.setresgid(job["drop_to"], job["drop_to"], job["drop_to"])
        os.setresuid(job["drop_to"], job["drop_to"], job["drop_to"])
        libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)   # so that it may write its own /proc/self/uid_map
    if os.geteuid() == 0 and libc.unshare(flags) == 0:
        mode = NAMESPACES
    else:
        mode = USER_NAMESPACES if _enter_user_namespace(libc, flags) else ""
    if not mode:
        os.makedirs(scratch, exist_ok=True)
        os.chdir(scratch)
        emit(event="init", pid=os.getpid())
        return "python-only"
    go_r, go_w = os.pipe()
    pid = os.fork()               # the first child in the new PID namespace is its init (PID 1)
    if pid:
        os.close(go_r)
        emit(event="init", pid=pid)   # before the init runs any student code: the supervisor's kill target
        os.write(go_w, b"x")
        os.close(go_w)
        os.waitpid(pid, 0)
        os._exit(0)
    os.close(go_w)
    os.read(go_r, 1)
    os.close(go_r)
    failed = []

    def mount(source, target, fstype, mount_flags, data=None):
        if libc.mount(source, target.encode(), fstype, mount_flags, data) != 0:
            failed.append(f"{target}: {os.strerror(ctypes.get_errno())}")

    mount(None, "/", None, MS_REC | MS_PRIVATE)
    if libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None) != 0:
        mount(b"tmpfs", "/proc", b"tmpfs", MS_RDONLY, b"size=16k,mode=0555")  # no /proc rather than another's
    private = [(scratch, "64m"), ("/dev/shm", "16m")] + ([("/tmp", "64m")] if job.get("private_tmp") else [])
    for path, size in private:
        if os.path.isdir(path):
            mount(b"tmpfs", path, b"tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=0777".encode())
        elif path == scratch:
            failed.append(f"{scratch}: missing")
    os.chdir(scratch if os.path.isdir(scratch) else "/")
    _drop_capabilities(libc)
    return f"{mode} (partial: {'; '.join(failed)[:300]})" if failed else mode


def _limits(job) -> None:
    mb = int(job["memory_mb"])
    if mb > 0:
        resource.setrlimit(resource.RLIMIT_DATA, (mb << 20, mb << 20))
    cpu = int(job["cpu_s"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 2))
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 << 20, 64 << 20))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (MAX_PROCESSES, MAX_PROCESSES))


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return f"{type(exc).__name__} at line {exc.lineno}: {exc.msg}"
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()[-400:]


def _to_arrays(outputs) -> dict:
    """Plain numeric arrays, in the dtype the student's code produced (the parent applies the dtype policy)."""
    if not isinstance(outputs, dict):
        raise TypeError(f"the check expected a dict of outputs, got {type(outputs).__name__}")
    arrays = {}
    for key, value in outputs.items():
        try:
            array = np.asarray(value)
            if array.dtype.kind not in "biuf":
                array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{key}: your function returned {type(value).__name__}, not numbers ({exc})") from None
        arrays[str(key)] = array
    return arrays


class _Timer:
    """Interrupts the code it guards after ``seconds`` (and again each second while it keeps running)."""

    def __init__(self, seconds: float):
        self.seconds, self.fired = float(seconds), False

    def _fire(self, signum, frame):
        self.fired = True
        raise CellTimeout(f"ran past {self.seconds:g} s")

    def __enter__(self):
        signal.signal(signal.SIGALRM, self._fire)
        signal.setitimer(signal.ITIMER_REAL, self.seconds, 1.0)
        return self

    def __exit__(self, kind, exc, tb):
        signal.setitimer(signal.ITIMER_REAL, 0)
        return kind is CellTimeout   # a late repeat, between the guarded code's end and here


def _read_table(fd: int, timeout: float) -> dict:
    """The stand-in table of the part that starts (one JSON line from the supervisor; see sealed.py)."""
    data, end = b"", time.monotonic() + timeout
    while not data.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], max(0.0, end - time.monotonic()))
        chunk = os.read(fd, 1 << 20) if ready else b""
        if not chunk:
            raise RuntimeError("no stand-in table came for this part")
        data += chunk
    table = json.loads(data)
    return {"names": [str(n) for n in table.get("names", [])], "trials": list(table.get("trials", []))}


def _shell():
    """An IPython shell as ipykernel's, less the kernel: ``%matplotlib inline`` works, GUI loops do nothing."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    class GradingShell(InteractiveShell):
        def enable_gui(self, gui=None):
            pass  # no event loop while graded; inline and Agg figures still draw

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "NoColor"
    config.InteractiveShell.xmode = "Plain"
    return GradingShell.instance(config=config)


def run_child(job: dict, wfd: int) -> None:
    """Entry point in the forked child; never returns."""

    def emit(**event):
        data = (json.dumps(event) + "\n").encode()
        while data:
            data = data[os.write(wfd, data):]

    try:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        mode = _isolate(job, emit)
        _limits(job)
        emit(event="isolation", mode=mode)
        blocked = list(job["blocked"])
        for name in list(sys.modules):
            if any(name == b or name.startswith(b + ".") for b in blocked):
                del sys.modules[name]
        sys.meta_path.insert(0, _Blocker(blocked, job["assignment_id"]))

        shell = _shell()
        skip = set(job["skip"])
        for i, source in enumerate(job["cells"]):
            if i in skip:
                continue
            emit(event="cell", i=i)
            result = None
            with _Timer(job["cell_timeout"]) as timer:
                try:
                    result = shell.run_cell(source, store_history=False)
                except CellTimeout:          # fired between IPython's own handlers
                    result = None
            error = None if result is None else (result.error_before_exec or result.error_in_exec)
            if timer.fired:
                emit(event="cell_timeout", i=i)
            elif error is not None:
                emit(event="cell_error", i=i, error=_error_text(error))

        done = set(job["done_parts"])
        for part in job["parts"]:
            if part["id"] in done:
                continue
            emit(event="part", id=part["id"])
            table = _read_table(job["table_fd"], job["part_timeout"])
            code = compile(part["call"], f"<check {part['id']}>", "exec")
            for trial, blob in enumerate(part["trials"]):
                local = dict(shell.user_ns)
                local["inputs"] = dict(np.load(io.BytesIO(base64.b64decode(blob)), allow_pickle=False))
                sealed = table["trials"][trial] if trial < len(table["trials"]) else {}
                try:
                    with _Timer(job["part_timeout"]) as timer, \
                            StandIns((shell.user_ns, local), table["names"], sealed):
                        exec(code, local)
                    if timer.fired:
                        raise CellTimeout
                    buf = io.BytesIO()
                    np.savez(buf, **_to_arrays(local.get("outputs")))
                    emit(event="result", id=part["id"], trial=trial, npz=base64.b64encode(buf.getvalue()).decode())
                except CellTimeout:
                    emit(event="result", id=part["id"], trial=trial,
                         error=f"ran past the {job['part_timeout']:g} s limit of a check and was interrupted")
                except BaseException as exc:
                    emit(event="result", id=part["id"], trial=trial, error=_error_text(exc))
            emit(event="part_done", id=part["id"])

        for test in job["visible_tests"]:
            out = io.StringIO()
            error = ""
            emit(event="visible_start", id=test["id"])
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out), _Timer(job["cell_timeout"]):
                try:
                    result = shell.run_cell(test["source"], store_history=False)
                    if not result.success:
                        error = _error_text(result.error_before_exec or result.error_in_exec)
                except CellTimeout:
                    error = f"the visible tests ran past {job['cell_timeout']:g} s"
            emit(event="visible", id=test["id"], stdout=out.getvalue()[-4000:], error=error)
        emit(event="end")
    except BaseException as exc:  # the harness itself failed: report, never hang
        try:
            emit(event="fatal", error=_error_text(exc))
        except OSError:
            pass
    finally:
        os._exit(0)
