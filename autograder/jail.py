"""The grading jail: the file system and environment that a batch's sandboxes live in.

One jail description per batch, staged once and started once per zygote
(one per ``--jobs``): Debian's ``bubblewrap`` (``bwrap``, Flatpak's sandbox) starts each
zygote (:mod:`autograder.forkserver`) in a root that is built from an
allow-list and holds nothing else of the host:

- read-only: ``/usr`` (without ``/usr/local``), ``/etc/ld.so.cache``, the
  interpreter's prefix and the environment's (``sys.prefix``), the course's data
  cache and NLTK's data folder when they exist;
- ``course_lib`` *without the graded functions* (:mod:`autograder.strip`),
  mounted over every copy of ``course_lib`` the environment could import (the
  editable install's checkout, a copy in site-packages), and third-party files
  with graded methods stripped (ps3: NLTK's ``Synset``), their bytecode
  emptied;
- the sandbox harness (``/grader/grader_sandbox``), an empty ``/tmp`` (unless
  the checkout or the environment lives under ``/tmp``: then ``/tmp`` holds just
  those, read-only) and a ``/scratch`` mount point; the root itself read-only.

No repository, no other checkout, no submissions, no home folder, no host
``/tmp``.  The environment is an allow-list too (``PATH``, ``HOME=/scratch``,
locale, thread counts, the data paths), never the caller's.  Network, PID,
IPC, UTS and user namespaces are new; ``--die-with-parent`` ends the jail with
the grader.  Graded as root, each submission becomes ``nobody`` before it
enters its own user namespace, so that the per-submission process limit
(``RLIMIT_NPROC``) applies.  Each submission then
gets its own namespaces and empty scratch folders inside the jail
(:mod:`autograder.sandbox`).

Without bubblewrap the zygote runs unjailed (the same harness, environment and
per-submission namespaces, but the host's file system) and the CSV says so.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from .config import REPO
from .strip import build_library, stripped_files

NOBODY = 65534
HARNESS = ("sandbox.py", "forkserver.py", "sealed.py")
PASSED_THROUGH = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")   # needed for correct results on some processors


@dataclass
class Jail:
    argv: list
    env: dict
    cwd: str
    scratch: str                      # the sandbox's working folder (a fresh tmpfs per submission)
    note: str = ""                    # '' when the file system is allow-listed, else why not
    drop_to: int | None = None        # graded as root: each submission runs as this uid (nobody)
    private_tmp: bool = False         # each submission gets an empty /tmp of its own


def _readable(root: Path) -> None:
    """Open ``root`` (a folder of the grader's temporary area) to the jail's user."""
    for dirpath, dirnames, filenames in os.walk(root):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o644)


def _environment(data: dict) -> dict:
    env = {"PATH": "/usr/bin:/bin", "HOME": "/scratch", "TMPDIR": "/scratch", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
           "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1", "PYTHONHASHSEED": "0",
           "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/scratch/.matplotlib",
           "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    env.update({k: os.environ[k] for k in PASSED_THROUGH if k in os.environ})
    env.update(data)
    return env


def _data_paths() -> dict:
    """{environment variable: folder} of the read-only data the sandboxes may read."""
    from course_lib.corpus import cache_dir

    out = {}
    cache = cache_dir()
    if cache.is_dir():
        out["COURSE_CACHE"] = cache.resolve()
    nltk_data = os.environ.get("NLTK_DATA", "")
    if nltk_data and Path(nltk_data).is_dir():
        out["NLTK_DATA"] = Path(nltk_data).resolve()
    return out


def _library_locations(prefixes: list[Path]) -> tuple[list[Path], list[Path]]:
    """(every course_lib folder the environment could import, every autograder folder) under the prefixes."""
    libs, graders = [REPO / "course_lib"], []
    for entry in sys.path:
        path = Path(entry or ".").resolve()
        if not any(path == p or p in path.parents for p in prefixes) or not path.is_dir():
            continue
        if (path / "course_lib").is_dir():
            libs.append(path / "course_lib")
        if (path / "autograder").is_dir():
            graders.append(path / "autograder")
    return sorted(set(libs)), sorted(set(graders))


def build(assignment_id: str, spec, tmp: Path, preload: tuple[str, ...] = ()) -> Jail:
    """The jail of a batch of ``assignment_id`` (every zygote of the batch starts in it), staged in the grader's folder ``tmp``."""
    harness = tmp / "harness" / "grader_sandbox"
    harness.mkdir(parents=True, exist_ok=True)
    (harness / "__init__.py").write_text('"""The grading sandbox harness (copied from autograder/)."""\n')
    for name in HARNESS:
        shutil.copyfile(REPO / "autograder" / name, harness / name)
    graded = getattr(spec, "GRADED", {})
    library = build_library(graded, assignment_id, REPO / "course_lib", tmp / "lib" / "course_lib")
    third = stripped_files(graded, assignment_id, "course_lib", tmp / "third")
    _readable(tmp)
    data = _data_paths()
    env = _environment({k: str(v) for k, v in data.items()})
    module = ["-m", "grader_sandbox.forkserver"] + (["--preload", *preload] if preload else [])

    bwrap = shutil.which("bwrap")
    if not bwrap:
        scratch = tmp / "scratch"
        scratch.mkdir(exist_ok=True)
        os.chmod(scratch, 0o777)
        env.update(PYTHONPATH=f"{harness.parent}{os.pathsep}{library.parent}", HOME=str(scratch),
                   TMPDIR=str(scratch), MPLCONFIGDIR=str(scratch / ".matplotlib"))
        return Jail([sys.executable, *module], env, str(scratch), str(scratch),
                    note="the file system is not allow-listed (bubblewrap is missing: apt-get install bubblewrap)")

    root = os.geteuid() == 0
    # As root: no user namespace, so that each submission can become nobody (the process limit then holds);
    # otherwise a user namespace is what makes the others possible.
    args = [bwrap, "--die-with-parent", "--new-session", "--clearenv"]
    args += (["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
              "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"] if root else ["--unshare-all"])
    made = {Path("/")}

    def folders(dest: Path) -> None:
        """Make the folders above ``dest`` open (bubblewrap would make them private)."""
        for parent in reversed(dest.parents):
            if parent not in made:
                args.extend(["--perms", "0755", "--dir", str(parent)])
                made.add(parent)

    def bind(source: Path, dest: Path | str) -> None:
        dest = Path(dest)
        folders(dest)
        args.extend(["--ro-bind", str(source), str(dest)])
        made.add(dest)

    for key, value in env.items():
        args += ["--setenv", key, value]
    args += ["--setenv", "PYTHONPATH", "/grader"]
    args += ["--dev", "/dev", "--proc", "/proc"]
    bind(Path("/usr"), "/usr")
    if Path("/usr/local").is_dir():
        args += ["--tmpfs", "/usr/local"]
    for top in ("bin", "sbin", "lib", "lib32", "lib64"):
        path = Path("/") / top
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            bind(path, path)
    if Path("/etc/ld.so.cache").is_file():
        bind(Path("/etc/ld.so.cache"), "/etc/ld.so.cache")
    prefixes = sorted({Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()})
    for prefix in prefixes:
        if not any(p in prefix.parents for p in prefixes):
            bind(prefix, prefix)
    if Path(sys.prefix) != Path(sys.prefix).resolve():      # a venv reached through a symlink
        bind(Path(sys.prefix).resolve(), Path(sys.prefix))
    libs, graders = _library_locations(prefixes)
    for location in libs:
        bind(library, location)
    for location in graders:
        args += ["--tmpfs", str(location)]
    for original, copy in third.items():
        bind(copy, original)
        for cached in sorted((original.parent / "__pycache__").glob(f"{original.stem}.*.pyc")):
            args += ["--ro-bind", "/dev/null", str(cached)]
    for folder in data.values():
        bind(folder, folder)
    bind(harness, "/grader/grader_sandbox")
    # An empty /tmp per submission, unless the checkout or the environment lives under /tmp (a clone made by
    # mktemp -d): then /tmp holds just those, read-only, and TMPDIR is the submission's /scratch.
    private_tmp = not any(Path("/tmp") in dest.parents for dest in made)
    if private_tmp:
        args += ["--perms", "1777", "--tmpfs", "/tmp"]
    args += ["--perms", "0755", "--dir", "/scratch", "--remount-ro", "/", "--chdir", "/scratch"]
    args += ["--", sys.executable, *module]
    return Jail(args, env, "/", "/scratch", drop_to=NOBODY if root else None, private_tmp=private_tmp)
