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

import pytest

from conftest import REPO
from submissions import plausibly_wrong, release_nb, solved, write

A = "ps1_backprop"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    initdb = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not initdb:
        pytest.skip("PostgreSQL server not installed (make test installs Debian's postgresql)")
    try:
        pw = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("no postgres system user")
    if os.geteuid() != 0:
        pytest.skip("starting the server as the postgres user needs root")
    bindir = os.path.dirname(initdb[-1])
    data = tempfile.mkdtemp(prefix="course-pg-")
    os.chmod(data, 0o700)
    os.chown(data, pw.pw_uid, pw.pw_gid)
    port = _free_port()
    run_as = ["runuser", "-u", "postgres", "--"]
    subprocess.run(run_as + [f"{bindir}/initdb", "-D", data, "-U", "postgres", "--auth=trust"],
                   check=True, capture_output=True)
    subprocess.run(run_as + [f"{bindir}/pg_ctl", "-D", data, "-w", "-l", f"{data}/log",
                             "-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "start"],
                   check=True, capture_output=True)
    try:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres",
                             autocommit=True) as conn:
            conn.execute("CREATE DATABASE gradebook")
        yield f"postgresql://postgres@127.0.0.1:{port}/gradebook"
    finally:
        subprocess.run(run_as + [f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


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
