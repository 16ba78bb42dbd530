"""Grading on a Dask cluster (`--cluster tcp://HOST:PORT`, autograder/cluster.py): same CSV as local
grading, a lost worker costs nothing, a worker with another course is refused before any grading.

The cluster is real: a `dask scheduler` and four `dask worker` processes started here on 127.0.0.1,
each worker grading with its own jail; the client is the grading command itself.  Each batch is 40
submissions of ps1 or ps5: correct, partial, untouched, hostile (a crash, a process killer, a memory
hog, calls of the reference) and slow ones.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import attacks
from autograder.cluster import start_scheduler, start_worker, stop, wait_for_workers
from conftest import REPO
from submissions import append_code, plausibly_wrong, release_nb, solution_ids, solved, spec_of, write

ASSIGNMENTS = ("ps1_backprop", "ps5_rnn_bptt")
SLOW = "import time\ntime.sleep(0.5)   # a slower student: the batch lasts long enough to lose a worker"


def _scheduler(tmp: Path, name: str):
    folder = tmp / name
    folder.mkdir()
    return start_scheduler(folder)


def _worker(tmp: Path, address: str, name: str, cwd: Path = REPO):
    return start_worker(address, name, tmp, cwd=cwd)


def _grade(tmp: Path, subs: Path, name: str, *extra, wait=True, A="ps1_backprop"):
    cmd = [sys.executable, "-m", "autograder", "grade", A, "--submissions", subs, "--out", tmp / f"{name}.csv",
           "--seed", "31", "--timeout", "20", "--db", f"sqlite:///{tmp / (name + '.db')}",
           "--work-dir", tmp / f"work-{name}", *extra]
    proc = subprocess.Popen(list(map(str, cmd)), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if not wait:
        return proc
    out, err = proc.communicate(timeout=600)
    return proc.returncode, out, err


def _rows(path: Path) -> dict:
    with open(path, newline="", encoding="utf-8") as f:
        return {r["student"]: r for r in csv.DictReader(f)}


def _students(A: str) -> dict:
    """40 submissions: correct, partial, untouched, hostile (a crash, a process killer, a memory hog), slow."""
    first = solution_ids(A)[0]
    out = {}
    for k in range(10):
        out[f"full{k}"] = solved(A)
        out[f"wrong{k}"] = plausibly_wrong(A)
        out[f"slow{k}"] = append_code(solved(A) if k % 2 else plausibly_wrong(A), SLOW)
    for k in range(4):
        out[f"untouched{k}"] = release_nb(A)
    out["exit"] = append_code(solved(A), "import os\nos._exit(0)", after=first)
    out["kill_everything"] = append_code(solved(A), attacks.kill_everything(), after=first)
    out["memory"] = append_code(plausibly_wrong(A), attacks.hog_memory(), after=first)
    for k in range(3):
        out[f"call_reference{k}"] = append_code(release_nb(A), attacks.call_reference(
            solution_ids(A), [m for m in spec_of(A).GRADED if m.startswith("course_lib")]))
    return out


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def batch(request, tmp_path_factory):
    A = request.param
    tmp = tmp_path_factory.mktemp(f"cluster-{A}")
    subs = tmp / "submitted"
    students = _students(A)
    assert len(students) >= 40
    for student, nb in students.items():
        write(subs, student, A, nb)
    code, out, err = _grade(tmp, subs, "local", A=A)
    assert code == 0, err[-2000:]
    return tmp, subs, _rows(tmp / "local.csv"), A


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dask")
    scheduler, address = _scheduler(tmp, "scheduler")
    workers = [_worker(tmp, address, f"w{k}") for k in range(4)]   # two are lost, one per batch
    try:
        wait_for_workers(address, 4)
        yield address, workers
    finally:
        stop(*workers, scheduler)


def test_the_cluster_gives_the_local_csv(batch, cluster):
    tmp, subs, local, A = batch
    code, out, err = _grade(tmp, subs, "cluster", "--cluster", cluster[0], A=A)
    assert code == 0, err[-2000:]
    assert _rows(tmp / "cluster.csv") == local
    assert local["full0"]["score"] == local["full0"]["max_score"] and float(local["untouched0"]["score"]) == 0
    assert 0 < float(local["wrong0"]["score"]) < float(local["wrong0"]["max_score"])
    assert local["exit"]["status"] == "crashed" and local["kill_everything"]["score"] == local["full0"]["score"]
    assert float(local["call_reference0"]["score"]) == 0


def _kill_when_busy(address: str, name: str, proc, timeout: float = 120) -> bool:
    """SIGKILL worker ``name`` as soon as the scheduler has given it a submission to grade."""
    from distributed import Client

    with Client(address, timeout=30, set_as_default=False) as client:
        end = time.time() + timeout
        while time.time() < end:
            workers = client.scheduler_info()["workers"]
            mine = next(a for a, w in workers.items() if w.get("name") == name)
            if any(str(k).startswith("grade-") for k in client.processing().get(mine, ())):
                stop(proc)
                return True
            time.sleep(0.02)
    return False


def test_a_lost_worker_costs_nothing(batch, cluster):
    tmp, subs, local, A = batch
    address, workers = cluster
    victim = f"w{ASSIGNMENTS.index(A)}"      # one worker lost per assignment: three workers, two batches
    proc = _grade(tmp, subs, "lost", "--cluster", address, wait=False, A=A)
    assert _kill_when_busy(address, victim, workers[ASSIGNMENTS.index(A)]), "the batch ended before a worker was lost"
    out, err = proc.communicate(timeout=600)    # its submissions were graded again on w1 and w2
    assert proc.returncode == 0, err[-2000:]
    assert _rows(tmp / "lost.csv") == local


def test_a_worker_with_another_course_is_refused_before_grading(batch, tmp_path):
    tmp, subs, _, A = batch
    other = tmp_path / "other-clone"
    for part in ("course_lib", "autograder", "solutions"):
        shutil.copytree(REPO / part, other / part, ignore=shutil.ignore_patterns("__pycache__"))
    with open(other / "course_lib" / "backprop.py", "a", encoding="utf-8") as f:
        f.write("\n# a local edit on one grading machine\n")
    scheduler, address = _scheduler(tmp_path, "other-scheduler")
    worker = _worker(tmp_path, address, "stale", cwd=other)
    try:
        wait_for_workers(address, 1)
        code, out, err = _grade(tmp_path, subs, "refused", "--cluster", address, A=A)
    finally:
        stop(worker, scheduler)
    assert code == 2, (out, err)
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: refused:") and "course_lib (" in last, err[-1500:]
    assert "autograder (" not in last and "solutions (" not in last, last      # only what differs is named
    assert not (tmp_path / "refused.csv").exists()


def test_no_scheduler_is_one_line(batch, tmp_path):
    tmp, subs, _, A = batch
    code, out, err = _grade(tmp_path, subs, "nobody", "--cluster", "tcp://127.0.0.1:9", A=A)
    assert code == 2
    assert err.strip().splitlines()[-1].startswith("error: no Dask scheduler answers at tcp://127.0.0.1:9"), err[-800:]
