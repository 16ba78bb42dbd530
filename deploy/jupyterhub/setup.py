"""Set up a machine for the class's JupyterHub: the shared environment, the accounts, the courses.

Run as root (``make hub`` does, then starts the Hub)::

    python deploy/jupyterhub/setup.py [--roster deploy/jupyterhub/roster.toml] [--prefix /opt/nlp-course]

What it makes, all under ``--prefix`` (idempotent: a second run changes only what is missing or stale):

- ``env/``        (or ``--env DIR``) the course installed once for all users: a virtual environment of Debian's
                  /usr/bin/python3 (readable by everyone, unlike an interpreter in root's home) with
                  the pinned packages, JupyterHub's single-user server and ``course_lib``.  The
                  ``autograder`` package and its specs (the hidden checks) are *not* in it: they stay in
                  each course directory, which only that course's grader account can read.
- ``exchange/``   nbgrader's exchange, shared by all users as nbgrader documents (mode 0777; nbgrader
                  makes each course's ``inbound/`` write-only for students and names feedback by hash).
- ``courses/<id>/course/``  per course, a copy of this repository (solutions, releases, autograder,
                  gradebook in ``.grading/``), owned by the Unix account ``grader-<id>``, mode 0700.
                  The Hub runs that course's formgrader as a service under this account.
- ``etc/student/``, ``etc/instructor/``  the Jupyter settings of each role (their servers'
                  JUPYTER_CONFIG_DIR): students get the *Assignments* tab and no formgrader, instructors
                  the course list as well; both the exchange and enrolment by the Hub's groups.
- ``passwords.txt``  (mode 0600, root only) the password of each account this script created, unless
                  ``--passwords FILE`` (lines ``user:password``) gave it.

Unix accounts for every instructor and student of the roster are created with ``useradd`` (homes
mode 0700); accounts that exist are left alone.  ``--remove`` deletes the accounts and the prefix's
courses again (the tests use it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
DEFAULT_PREFIX = Path("/opt/nlp-course")
DEFAULT_ROSTER = HERE / "roster.toml"
# The interpreter of the shared environment: one every account may run (pyenv's lives in /root).
SYSTEM_PYTHON = "/usr/bin/python3"

# What a role's JupyterLab does not load (nbgrader's instructor plugins; the news feed, which asks the
# network) and the server extensions it does not run.
HIDDEN_FROM = {
    "student": (["@jupyterlab/apputils-extension:announcements", "@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                 "@jupyter/nbgrader:course-list"],
                ["nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list"]),
    "instructor": (["@jupyterlab/apputils-extension:announcements", "@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment"],
                   ["nbgrader.server_extensions.formgrader"]),
}


def load_roster(path: Path) -> list[dict]:
    """The roster's courses: ``[{"id", "title", "instructors", "students"}, ...]``, checked."""
    courses = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("course", [])
    if not courses:
        raise SystemExit(f"{path}: no [[course]] table; see deploy/jupyterhub/roster.toml")
    for course in courses:
        missing = [k for k in ("id", "instructors", "students") if k not in course]
        if missing:
            raise SystemExit(f"{path}: course {course.get('id', '?')!r} lacks {', '.join(missing)}")
        course.setdefault("title", course["id"])
    return courses


def grader_account(course_id: str) -> str:
    return f"grader-{course_id}"[:32]


def people(courses: list[dict]) -> tuple[list[str], list[str]]:
    """(instructors, students) of all courses, each once, in roster order."""
    instructors = list(dict.fromkeys(u for c in courses for u in c["instructors"]))
    students = list(dict.fromkeys(u for c in courses for u in c["students"] if u not in instructors))
    return instructors, students


def run(*cmd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(x) for x in cmd], check=True, **kw)


def pip(py: Path, *args) -> None:
    """pip, without its warning per package about this machine's local index folders that lack it."""
    done = subprocess.run([str(py), "-m", "pip", *map(str, args)], capture_output=True, text=True)
    noise = "is ignored: it is neither a file nor a directory"
    print("".join(ln for ln in (done.stdout + done.stderr).splitlines(True) if noise not in ln), end="")
    if done.returncode:
        raise SystemExit(f"hub: pip {' '.join(map(str, args))} failed (exit {done.returncode})")


def digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for root in paths:
        files = sorted(root.rglob("*.py")) if root.is_dir() else [root]
        for f in files:
            h.update(str(f.relative_to(REPO)).encode() + f.read_bytes())
    return h.hexdigest()[:16]


def ensure_env(env: Path) -> None:
    """The shared environment: pinned packages, JupyterHub's single-user server, ``course_lib`` only."""
    py = env / "bin" / "python"
    if not py.exists():
        print(f"hub: building the shared environment {env} (first time: torch and the Jupyter stack, ~2 minutes)",
              flush=True)
        run(SYSTEM_PYTHON, "-m", "venv", env)
        pip(py, "install", "-q", "torch==2.13.0")
        pip(py, "install", "-q", f"{REPO}[hub]")
    stamp = env / ".course-digest"
    want = digest(REPO / "course_lib", REPO / "pyproject.toml")
    if not stamp.exists() or stamp.read_text() != want:
        print(f"hub: installing course_lib into {env}", flush=True)
        pip(py, "install", "-q", f"{REPO}[hub]")                       # what pyproject.toml added since
        pip(py, "install", "-q", "--no-deps", "--force-reinstall", REPO)  # this checkout's course_lib
        stamp.write_text(want)
    # The hidden checks stay with the graders: the package built from this repository carries
    # autograder/ too, which students must not read.
    site = Path(subprocess.check_output([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                        text=True).strip())
    shutil.rmtree(site / "autograder", ignore_errors=True)
    run("chmod", "-R", "a+rX", env)


def ensure_user(name: str, home: Path | None = None, system: bool = False) -> bool:
    """Create the Unix account ``name`` if missing; returns whether it was created."""
    try:
        pwd.getpwnam(name)
        return False
    except KeyError:
        pass
    if system:
        run("useradd", "--system", "--home-dir", home, "--no-create-home", "--shell", "/usr/sbin/nologin", name)
    else:
        run("useradd", "--create-home", "--shell", "/bin/bash", name)
        os.chmod(pwd.getpwnam(name).pw_dir, 0o700)
    return True


def set_passwords(passwords: dict[str, str]) -> None:
    if passwords:
        run("chpasswd", input="".join(f"{u}:{p}\n" for u, p in passwords.items()), text=True)


def copy_course(dest: Path) -> None:
    """The repository's files (as git lists them) into ``dest``; the gradebook and work area are kept."""
    listed = subprocess.check_output(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                     cwd=REPO).decode().split("\0")
    for rel in filter(None, listed):
        src = REPO / rel
        if src.is_file() and not rel.startswith("deploy/"):
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)


def role_settings(etc: Path) -> None:
    """``etc/<role>/``: the JUPYTER_CONFIG_DIR the Hub gives each role's servers."""
    for role, (lab_plugins, server_extensions) in HIDDEN_FROM.items():
        d = etc / role
        (d / "labconfig").mkdir(parents=True, exist_ok=True)
        (d / "labconfig" / "page_config.json").write_text(
            json.dumps({"disabledExtensions": dict.fromkeys(lab_plugins, True)}, indent=1))
        (d / "jupyter_server_config.json").write_text(
            json.dumps({"ServerApp": {"jpserver_extensions": dict.fromkeys(server_extensions, False)}}, indent=1))


def nbgrader_settings(etc: Path, exchange: Path, courses: list[dict]) -> None:
    """Each role's nbgrader settings: the shared exchange, one folder per course, enrolment by Hub groups."""
    titles = {c["id"]: c["title"] for c in courses}
    for role in HIDDEN_FROM:
        (etc / role / "nbgrader_config.py").write_text(
            "# Written by deploy/jupyterhub/setup.py: the class's exchange, shared by every user of the Hub.\n"
            "c = get_config()  # noqa: F821\n"
            f"c.Exchange.root = {str(exchange)!r}\n"
            "c.Exchange.path_includes_course = True\n"
            "# Who is in which course: the Hub's groups nbgrader-<course id> (students) and formgrade-<course id>.\n"
            "c.Authenticator.plugin_class = 'nbgrader.auth.JupyterHubAuthPlugin'\n"
            f"c.NbGrader.course_titles = {titles!r}\n")


def setup(roster: Path, prefix: Path, env: Path | None = None, passwords_file: Path | None = None) -> dict:
    courses = load_roster(roster)
    prefix.mkdir(parents=True, exist_ok=True)
    os.chmod(prefix, 0o755)
    ensure_env(env or prefix / "env")
    exchange = prefix / "exchange"
    exchange.mkdir(exist_ok=True)
    os.chmod(exchange, 0o777)
    role_settings(prefix / "etc")
    nbgrader_settings(prefix / "etc", exchange, courses)
    run("chmod", "-R", "a+rX", prefix / "etc")

    given = {}
    if passwords_file:
        given = dict(line.split(":", 1) for line in Path(passwords_file).read_text().split() if ":" in line)
    instructors, students = people(courses)
    created = {}
    for name in instructors + students:
        if ensure_user(name) and name not in given:
            created[name] = secrets.token_urlsafe(9)
    set_passwords({**created, **given})
    if created:
        record = prefix / "passwords.txt"
        with open(record, "a", encoding="utf-8") as f:
            os.chmod(record, 0o600)
            f.writelines(f"{u}:{p}\n" for u, p in created.items())

    (prefix / "courses").mkdir(exist_ok=True)
    os.chmod(prefix / "courses", 0o711)   # graders reach their own; nobody lists the courses
    for course in courses:
        home = prefix / "courses" / course["id"]
        grader = grader_account(course["id"])
        ensure_user(grader, home=home, system=True)
        copy_course(home / "course")
        (home / "course" / ".grading").mkdir(exist_ok=True)   # the gradebook and submissions' work area
        run("chown", "-R", f"{grader}:", home)
        os.chmod(home, 0o700)
    return {"courses": courses, "instructors": instructors, "students": students, "created": sorted(created)}


def remove(roster: Path, prefix: Path) -> None:
    """Delete the roster's accounts (homes included), their processes, and the prefix's courses and exchange."""
    courses = load_roster(roster)
    instructors, students = people(courses)
    for name in instructors + students + [grader_account(c["id"]) for c in courses]:
        subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
        subprocess.run(["userdel", "--remove", name], capture_output=True)
    for sub in ("courses", "exchange", "etc", "hub", "passwords.txt"):
        p = prefix / sub
        shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--roster", type=Path, default=DEFAULT_ROSTER)
    ap.add_argument("--prefix", type=Path, default=DEFAULT_PREFIX)
    ap.add_argument("--env", type=Path, help="the shared environment (default PREFIX/env)")
    ap.add_argument("--passwords", type=Path, help="lines user:password for the accounts (else random, new ones only)")
    ap.add_argument("--env-only", action="store_true", help="build or update the shared environment only")
    ap.add_argument("--remove", action="store_true", help="delete the roster's accounts and the prefix's courses")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("hub: the class's Hub creates Unix accounts and starts servers as them: run `make hub` as root "
              "(or with sudo)", file=sys.stderr)
        return 2
    if args.remove:
        remove(args.roster, args.prefix)
        return 0
    if args.env_only:
        ensure_env(args.env or args.prefix / "env")
        return 0
    done = setup(args.roster, args.prefix, args.env, args.passwords)
    for course in done["courses"]:
        print(f"hub: course {course['id']} ({course['title']}): instructors {', '.join(course['instructors'])}; "
              f"students {', '.join(course['students'])}; graded by the account {grader_account(course['id'])}")
    if done["created"]:
        print(f"hub: new accounts {', '.join(done['created'])}: their passwords are in {args.prefix / 'passwords.txt'} "
              f"(root only); change one with `passwd NAME`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
