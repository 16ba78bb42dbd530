"""Grading on a Dask cluster: ``python -m autograder grade ID ... --cluster tcp://HOST:PORT``.

Each submission is one task on the cluster whose scheduler is at that address.
A worker checks it with its own verified engine (:class:`autograder.verify.Checker`:
the same jail, the same inputs drawn from the batch's seed, the same reference
outputs), and sends back the :class:`autograder.verify.Verified` result.  The
client alone writes the gradebook and the CSV (:mod:`autograder.grade`), so
formgrader and ``nbgrader export`` see nothing different.

Before any submission is graded, every worker's course is compared with the
client's (:func:`fingerprint`: the package version and a digest of
``course_lib``, ``autograder`` with its specs, and ``solutions/``); a worker that
differs is named and the batch refused.  Each task checks again, so a worker
that joins later with another course fails its tasks with the same message.
A worker lost mid-batch costs nothing: the scheduler runs its tasks again
elsewhere (Dask's ``allowed-failures``).

Workers are started the usual way, from a clone of this course at the same
commit with its environment (``make setup``)::

    dask scheduler --port 8786
    dask worker tcp://HOST:8786 --nthreads 2       # on every grading machine
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import shutil
import tempfile
import threading
import uuid
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# What decides a score: the reference, the engine and its specs, the instructor's notebooks.
COURSE_PARTS = ("course_lib", "autograder", "solutions")


class ClusterError(RuntimeError):
    """The cluster cannot grade this batch (unreachable, no workers, a worker with another course)."""


@functools.cache
def fingerprint() -> dict:
    """{part: digest} of this installation: the package version and a SHA-256 of each of COURSE_PARTS.

    Computed once per process (the client, each worker): what it has loaded does not change after.
    """
    out = {"version": metadata.version("nlp-course")}
    for part in COURSE_PARTS:
        h = hashlib.sha256()
        for path in sorted((REPO / part).rglob("*")):
            if path.is_file() and path.suffix in (".py", ".ipynb") and "__pycache__" not in path.parts:
                h.update(path.relative_to(REPO).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
        out[part] = h.hexdigest()[:16]
    return out


def differences(mine: dict, theirs: dict) -> str:
    """'' when equal; otherwise ``course_lib (abc… here, def… there)`` for each part that differs."""
    return ", ".join(f"{k} ({mine.get(k)} here, {theirs.get(k)} there)"
                     for k in sorted(set(mine) | set(theirs)) if mine.get(k) != theirs.get(k))


# --------------------------------------------------------------------------
# On a worker
# --------------------------------------------------------------------------

_CHECKERS: dict = {}
_LOCK = threading.Lock()


def _checker(assignment_id: str, seed: int, limits: tuple, jobs: int):
    """This worker's Checker for one batch (built once: the jail, the inputs, the reference outputs)."""
    from .parts import load_spec
    from .verify import Checker

    key = (assignment_id, seed, limits)
    with _LOCK:
        if key not in _CHECKERS:
            tmp = Path(tempfile.mkdtemp(prefix="course-verify-"))
            tmp.chmod(0o755)
            checker = Checker(assignment_id, load_spec(assignment_id), seed=seed, limits=dict(limits), tmp=tmp,
                              jobs=jobs)
            _CHECKERS[key] = checker
            atexit.register(shutil.rmtree, tmp, True)
            atexit.register(checker.close)
        return _CHECKERS[key]


def check_on_worker(expected: dict, assignment_id: str, seed: int, limits: tuple, student: str, notebook: str):
    """The task: refuse if this worker's course differs from the client's; else the Verified result."""
    import nbformat
    from distributed import get_worker

    why = differences(expected, fingerprint())
    if why:
        raise ClusterError(f"worker {get_worker().address} has another course: {why}")
    jobs = max(1, int(get_worker().state.nthreads))
    return _checker(assignment_id, seed, limits, jobs).grade(nbformat.reads(notebook, as_version=4), student)


# --------------------------------------------------------------------------
# On the client
# --------------------------------------------------------------------------

def connect(address: str, timeout: float = 10.0):
    """A client of the scheduler at ``address`` whose every worker runs this course; else ClusterError."""
    from distributed import Client

    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"no Dask scheduler answers at {address} ({exc}): start one with "
                           f"`dask scheduler` and workers with `dask worker {address}`") from None
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (OSError, TimeoutError):
        client.close()
        raise ClusterError(f"the scheduler at {address} has no workers: start them with `dask worker {address}`") from None
    mine = fingerprint()
    theirs = client.run(fingerprint)
    wrong = {w: differences(mine, fp) for w, fp in theirs.items() if differences(mine, fp)}
    if wrong:
        client.close()
        raise ClusterError("refused: these workers run another course than this one: "
                           + "; ".join(f"{w}: {why}" for w, why in sorted(wrong.items()))
                           + " (start workers from a clone at the same commit, after `make setup`)")
    return client


def run_batch_on_cluster(address: str, assignment_id: str, notebooks: dict, *, seed: int, limits: dict):
    """Check {student: notebook} on the cluster; yields (student, Verified or the exception) as each finishes."""
    import nbformat
    from distributed import as_completed

    client = connect(address)
    try:
        expected, frozen, batch = fingerprint(), tuple(sorted(limits.items())), uuid.uuid4().hex[:8]
        futures = {client.submit(check_on_worker, expected, assignment_id, seed, frozen, student, nbformat.writes(nb),
                                 key=f"grade-{assignment_id}-{batch}-{student}", pure=False): student
                   for student, nb in notebooks.items()}
        for future in as_completed(futures, loop=client.loop):
            student = futures[future]
            error = future.exception()
            yield student, error if error is not None else future.result()
    finally:
        client.close()


# --------------------------------------------------------------------------
# A cluster on this machine (to try --cluster out; the tests and the benchmark)
# --------------------------------------------------------------------------

def start_scheduler(folder: Path):
    """A ``dask scheduler`` process on 127.0.0.1 (any free port); returns (process, its address)."""
    import json
    import subprocess
    import sys
    import time

    folder = Path(folder)
    file = folder / "scheduler.json"
    proc = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                             "--port", "0", "--no-dashboard", "--scheduler-file", str(file)],
                            cwd=folder, stdout=subprocess.DEVNULL, stderr=open(folder / "scheduler.log", "wb"),
                            start_new_session=True)
    for _ in range(300):
        if proc.poll() is None and file.exists() and file.stat().st_size:
            try:
                return proc, json.loads(file.read_text())["address"]
            except ValueError:
                pass
        time.sleep(0.1)
    proc.kill()
    raise ClusterError("the scheduler did not start: " + (folder / "scheduler.log").read_text()[-500:])


def start_worker(address: str, name: str, folder: Path, cwd: Path = REPO, threads: int = 1):
    """A ``dask worker`` process without a nanny (killing its session kills it), grading with the course
    importable from ``cwd``."""
    import subprocess
    import sys

    code = ("import sys; from distributed.cli.dask_worker import main; "
            f"sys.argv = ['dask-worker', {address!r}, '--nthreads', '{threads}', '--no-nanny', '--no-dashboard', "
            f"'--name', {name!r}]; main()")
    return subprocess.Popen([sys.executable, "-c", code], cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=open(Path(folder) / f"{name}.log", "wb"), start_new_session=True)


def wait_for_workers(address: str, n: int, timeout: float = 60) -> None:
    from distributed import Client

    with Client(address, timeout=30, set_as_default=False) as client:
        client.wait_for_workers(n, timeout=timeout)


def stop(*procs) -> None:
    """SIGKILL each process's session and reap it."""
    import os
    import signal

    for proc in procs:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
