"""The sandbox: runs one student's code in a forked, isolated, limited process.

Runs in a child forked from :mod:`autograder.forkserver` (numpy, and torch
when needed, already imported, so a check costs no interpreter start-up).
Before any student code runs, the child

- starts its own session (the supervisor kills the whole group),
- enters new mount, network, PID and IPC namespaces (as root; without root
  inside a new user namespace, where the kernel allows it): no network at
  all, the grader's processes out of sight; hides
  the grading work area, the instructor's solutions, the tests, the git
  history and the graded reference modules behind empty mounts, makes every
  other mount read-only, works in an empty tmpfs, and drops every capability;
- lowers its limits: memory (``RLIMIT_DATA``), CPU time, file size, processes;
- blocks imports of the references being graded (and of autograder/nbgrader),
  with an error that says why.

It then executes the notebook's code cells in order, calls each part's
``call`` snippet on the inputs it was given, and writes JSON events to a pipe:
``cell`` / ``cell_error`` / ``part`` / ``result`` / ``visible`` / ``end``.
Results are arrays serialised with ``numpy.savez`` (loaded back with
``allow_pickle=False``), never pickles.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import io
import json
import os
import resource
import sys
import traceback

import numpy as np

CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWPID, CLONE_NEWIPC = 0x00020000, 0x40000000, 0x20000000, 0x08000000
CLONE_NEWUSER = 0x10000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 24, 38
# The isolation modes in which every namespace and mount below is in place (as root; without root).
NAMESPACES, USER_NAMESPACES = "namespaces", "user namespaces"
FULL_ISOLATION = (NAMESPACES, USER_NAMESPACES)


class _Blocker:
    """A meta-path finder that refuses the modules a student may not use while graded."""

    def __init__(self, blocked, assignment_id):
        self.blocked = tuple(blocked)
        self.assignment_id = assignment_id

    def find_spec(self, name, path=None, target=None):
        for mod in self.blocked:
            if name == mod or name.startswith(mod + "."):
                raise ImportError(
                    f"{name} is not available while {self.assignment_id} is graded: "
                    "the grader checks your own implementation, not the course's reference"
                )
        return None


class _FakeIPython:
    """Stands in for get_ipython(): magics and shell escapes do nothing while graded."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _mount_points() -> list[tuple[str, list[str]]]:
    """(mount point, per-mount options) of every mount this process sees."""
    with open("/proc/self/mountinfo") as f:
        rows = [line.split() for line in f]
    return [(row[4].replace("\\040", " "), row[5].split(",")) for row in rows]


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


def _isolate(job) -> str:
    """Namespaces, hidden paths, a read-only file system and no capabilities.

    Returns the isolation mode: "namespaces" (as root), "user namespaces"
    (without root, where the kernel allows unprivileged user namespaces), or
    "python-only" (neither: only the import blocker and the limits apply).
    New mount, network, PID and IPC namespaces: no network; the grader's
    processes are invisible and unkillable; the hidden paths behind empty
    mounts; every other mount read-only except an empty tmpfs working
    directory; a fresh /proc; then every capability dropped.  A mount that
    cannot be made is named in the mode ("... (partial: ...)"), never ignored.
    """
    workdir = job["workdir"]
    libc = _libc()
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC
    if os.geteuid() == 0:
        mode = NAMESPACES if libc.unshare(flags) == 0 else ""
    else:
        mode = USER_NAMESPACES if _enter_user_namespace(libc, flags) else ""
    if not mode:
        os.chdir(workdir)
        return "python-only"
    pid = os.fork()               # the first child in the new PID namespace is its init (PID 1)
    if pid:
        _, status = os.waitpid(pid, 0)
        os._exit(0)
    failed = []

    def mount(source, target, fstype, mount_flags, data=None):
        if libc.mount(source, target.encode(), fstype, mount_flags, data) != 0:
            failed.append(f"{target}: {os.strerror(ctypes.get_errno())}")

    mount(None, "/", None, MS_REC | MS_PRIVATE)
    if libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None) != 0:
        mount(b"tmpfs", "/proc", b"tmpfs", MS_RDONLY, b"size=16k,mode=0555")  # no /proc rather than the host's
    for path in job["hide"]:
        if os.path.isdir(path):
            mount(b"tmpfs", path, b"tmpfs", MS_RDONLY, b"size=16k,mode=0555")
        elif os.path.isfile(path):
            mount(b"/dev/null", path, None, MS_BIND)
    for point, options in _mount_points():
        # Inside a user namespace, a remount must keep the flags the outer namespace locked.
        keep = sum(flag for name, flag in (("nosuid", MS_NOSUID), ("nodev", MS_NODEV), ("noexec", MS_NOEXEC))
                   if name in options)
        mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | keep)
    mount(b"tmpfs", workdir, b"tmpfs", MS_NOSUID | MS_NODEV, b"size=64m,mode=0777")
    os.chdir(workdir)
    os.environ["TMPDIR"] = workdir  # HOME stays: read-only caches (corpus, WordNet) remain usable
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


def _error_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()[-400:]


def _to_arrays(outputs) -> dict:
    if not isinstance(outputs, dict):
        raise TypeError(f"the check expected a dict of outputs, got {type(outputs).__name__}")
    arrays = {}
    for key, value in outputs.items():
        try:
            arrays[str(key)] = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{key}: your function returned {type(value).__name__}, not numbers ({exc})") from None
    return arrays


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
        mode = _isolate(job)
        _limits(job)
        emit(event="isolation", mode=mode)
        blocked = list(job["blocked"]) + ["autograder", "nbgrader"]
        for name in list(sys.modules):
            if any(name == b or name.startswith(b + ".") for b in blocked):
                del sys.modules[name]
        sys.meta_path.insert(0, _Blocker(blocked, job["assignment_id"]))

        from IPython.core.inputtransformer2 import TransformerManager

        transform = TransformerManager().transform_cell
        ns = {"__name__": "__main__", "__builtins__": __builtins__, "get_ipython": _FakeIPython}
        skip = set(job["skip"])
        for i, source in enumerate(job["cells"]):
            if i in skip:
                continue
            emit(event="cell", i=i)
            try:
                exec(compile(transform(source), f"<cell {i}>", "exec"), ns)
            except BaseException as exc:  # a student's cell may raise anything, SystemExit included
                emit(event="cell_error", i=i, error=_error_text(exc))

        done = set(job["done_parts"])
        for part in job["parts"]:
            if part["id"] in done:
                continue
            emit(event="part", id=part["id"])
            code = compile(part["call"], f"<check {part['id']}>", "exec")
            for trial, blob in enumerate(part["trials"]):
                local = dict(ns)
                local["inputs"] = dict(np.load(io.BytesIO(base64.b64decode(blob)), allow_pickle=False))
                try:
                    exec(code, local)
                    buf = io.BytesIO()
                    np.savez(buf, **_to_arrays(local.get("outputs")))
                    emit(event="result", id=part["id"], trial=trial, npz=base64.b64encode(buf.getvalue()).decode())
                except BaseException as exc:
                    emit(event="result", id=part["id"], trial=trial, error=_error_text(exc))
            emit(event="part_done", id=part["id"])

        for test in job["visible_tests"]:
            out = io.StringIO()
            error = ""
            emit(event="visible_start", id=test["id"])
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                try:
                    exec(compile(transform(test["source"]), f"<visible tests {test['id']}>", "exec"), dict(ns))
                except BaseException as exc:
                    error = _error_text(exc)
            emit(event="visible", id=test["id"], stdout=out.getvalue()[-4000:], error=error)
        emit(event="end")
    except BaseException as exc:  # the harness itself failed: report, never hang
        try:
            emit(event="fatal", error=_error_text(exc))
        except OSError:
            pass
    finally:
        os._exit(0)
