"""Several graders, one gradebook: two shards of a batch graded at once into PostgreSQL.

The fixture starts Debian's PostgreSQL server on 127.0.0.1 in a temporary folder
(`make test` installs the server) and stops it afterwards.
"""

import csv
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import pytest

from conftest import REPO
from submissions import append_code, plausibly_wrong, release_nb, solved, write

A = "ps1_backprop"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """Debian's PostgreSQL server in a temporary folder, on 127.0.0.1, which a test may stop and start again."""

    def __init__(self, bindir: str, data: str, port: int):
        self.bindir, self.data, self.port = bindir, data, port
        self.url = f"postgresql://postgres@127.0.0.1:{port}/gradebook"

    def _ctl(self, *args, check=True):
        subprocess.run(["runuser", "-u", "postgres", "--", f"{self.bindir}/pg_ctl", "-D", self.data, *args],
                       check=check, capture_output=True)

    def start(self):
        self._ctl("-w", "-l", f"{self.data}/log", "-o",
                  f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1", "start")

    def stop(self):
        self._ctl("-m", "immediate", "stop", check=False)


@pytest.fixture(scope="module")
def postgres():
    initdb = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not initdb:
        pytest.skip("PostgreSQL server not installed (make test installs Debian's postgresql)")
    try:
        pw = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("no postgres system user")
    if os.geteuid() != 0:
        pytest.skip("starting the server as the postgres user needs root")
    data = tempfile.mkdtemp(prefix="course-pg-")
    os.chmod(data, 0o700)
    os.chown(data, pw.pw_uid, pw.pw_gid)
    server = Server(os.path.dirname(initdb[-1]), data, _free_port())
    subprocess.run(["runuser", "-u", "postgres", "--", f"{server.bindir}/initdb", "-D", data, "-U", "postgres",
                    "--auth=trust"], check=True, capture_output=True)
    server.start()
    try:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=server.port, user="postgres", dbname="postgres",
                             autocommit=True) as conn:
            conn.execute("CREATE DATABASE gradebook")
        yield server
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres_url(postgres):
    return postgres.url


def test_two_shards_into_one_postgres_gradebook(postgres_url, tmp_path):
    kinds = {"full": solved, "untouched": release_nb, "wrong": plausibly_wrong}
    shards = {0: tmp_path / "shard0", 1: tmp_path / "shard1"}
    expected = {}
    for i in range(8):
        kind = list(kinds)[i % 3]
        student = f"student{i:02d}_{kind}"
        write(shards[i % 2], student, A, kinds[kind](A))
        expected[student] = kind
    procs = [subprocess.Popen([sys.executable, "-m", "autograder", "grade", A, "--submissions", shards[i],
                               "--out", tmp_path / f"grades{i}.csv", "--db", postgres_url, "--jobs", "1",
                               "--work-dir", tmp_path / f"work{i}"],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in shards]
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-2000:]
    rows = {}
    for i in shards:
        with open(tmp_path / f"grades{i}.csv", newline="") as f:
            for row in csv.DictReader(f):
                assert row["student"] not in rows
                rows[row["student"]] = row
    assert set(rows) == set(expected)

    from nbgrader.api import Gradebook

    with Gradebook(postgres_url) as gb:
        subs = gb.assignment_submissions(A)
        assert sorted(s.student.id for s in subs) == sorted(expected), "lost or duplicated submissions"
        assert len(gb.assignments) == 1
        for sub in subs:
            assert sub.score == float(rows[sub.student.id]["score"])
            if expected[sub.student.id] == "full":
                assert sub.score == sub.max_score
            if expected[sub.student.id] == "untouched":
                assert sub.score == 0


# --------------------------------------------------------------------------
# The gradebook going away loses nothing (issue: a 4 s outage used to lose the whole batch)
# --------------------------------------------------------------------------

SLOW = "import time\ntime.sleep(0.6)   # a slower student, so that the batch lasts a few seconds"


def _outage_batch(root, n=10):
    for i in range(n):
        nb = solved(A) if i % 2 else plausibly_wrong(A)
        write(root, f"s{i:02d}", A, append_code(nb, SLOW))


def _grade_during(server, tmp_path, name, db, after_s, down_s):
    """Grade the batch into db while the server stops after ``after_s`` for ``down_s`` (None: until the end)."""
    subs = tmp_path / f"subs-{name}"
    _outage_batch(subs)
    proc = subprocess.Popen([sys.executable, "-m", "autograder", "grade", A, "--submissions", subs,
                             "--out", tmp_path / f"{name}.csv", "--db", db, "--jobs", "1", "--seed", "5",
                             "--work-dir", tmp_path / f"work-{name}"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120   # wait until the first result is in the gradebook, then pull the plug
    while time.time() < deadline and proc.poll() is None:
        if list((tmp_path / f"work-{name}" / "autograded").glob("*/*/*.ipynb")):
            break
        time.sleep(0.05)
    time.sleep(after_s)
    server.stop()
    if down_s is not None:
        time.sleep(down_s)
        server.start()
    out, err = proc.communicate(timeout=600)
    if down_s is None:
        server.start()
    with open(tmp_path / f"{name}.csv", newline="") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    return proc.returncode, err, rows


def _in_gradebook(db):
    from nbgrader.api import Gradebook

    with Gradebook(db) as gb:
        return {s.student.id: s.score for s in gb.assignment_submissions(A)}


def _database(server, name):
    import psycopg

    with psycopg.connect(host="127.0.0.1", port=server.port, user="postgres", dbname="postgres",
                         autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.url.rsplit("/", 1)[0] + f"/{name}"


def test_a_short_outage_is_waited_for(postgres, tmp_path):
    db = _database(postgres, "outage_short")
    code, err, rows = _grade_during(postgres, tmp_path, "short", db, after_s=0.5, down_s=4.0)
    assert code == 0, err[-2000:]
    assert len(rows) == 10 and all(r["status"] == "ok" for r in rows.values()), rows
    assert "did not answer" not in err
    recorded = _in_gradebook(db)
    assert {s: round(v, 2) for s, v in recorded.items()} == {s: float(r["score"]) for s, r in rows.items()}
    assert not list((tmp_path / "work-short" / "pending" / A).glob("*.json"))


def test_a_long_outage_saves_every_result_and_record_applies_them(postgres, tmp_path):
    db = _database(postgres, "outage_long")
    code, err, rows = _grade_during(postgres, tmp_path, "long", db, after_s=0.5, down_s=None)
    assert len(rows) == 10 and all(r["status"] == "ok" for r in rows.values()), rows   # the CSV is whole
    last = err.strip().splitlines()[-1]
    assert last.startswith("the gradebook postgresql://postgres@127.0.0.1:") and "autograder record" in last, last
    waiting = sorted(p.stem for p in (tmp_path / "work-long" / "pending" / A).glob("*.json"))
    assert waiting and set(waiting) | set(_in_gradebook(db)) == set(rows)
    assert all("not yet in the gradebook" in rows[s]["message"] for s in waiting)
    proc = subprocess.run([sys.executable, "-m", "autograder", "record", A, "--db", db,
                           "--work-dir", tmp_path / "work-long"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith(f"recorded {len(waiting)} saved result(s)"), proc.stdout
    recorded = _in_gradebook(db)
    assert {s: round(v, 2) for s, v in recorded.items()} == {s: float(r["score"]) for s, r in rows.items()}
    assert not list((tmp_path / "work-long" / "pending" / A).glob("*.json"))
