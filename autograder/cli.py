"""The grader's command line: ``python -m autograder {release,grade,feedback}``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .config import DEFAULT_CELL_TIMEOUT, DEFAULT_MEMORY_MB, WORK_DIR, assignment_ids


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("release", help="regenerate notebooks/assignments/<ID>/ from solutions/<ID>/")
    p.add_argument("ids", nargs="*", help="assignment ids (default: all in solutions/)")
    p.add_argument("--check", action="store_true", help="only report stale releases; exit 1 if any")

    p = sub.add_parser("grade", help="autograde DIR/<student>/<ID>/<ID>.ipynb into a CSV")
    p.add_argument("id", help="assignment id, e.g. ps1_backprop")
    p.add_argument("--submissions", required=True, type=Path, help="nbgrader's submitted layout")
    p.add_argument("--out", required=True, type=Path, help="CSV to write")
    p.add_argument("--jobs", type=int, default=None, help="submissions checked at once, one jailed zygote each (default: the number of cores)")
    p.add_argument("--timeout", type=int, default=DEFAULT_CELL_TIMEOUT, help="seconds per cell")
    p.add_argument("--student-timeout", type=float, default=None,
                   help="seconds for a whole submission (default max(120, 10 x --timeout))")
    p.add_argument("--memory-mb", type=int, default=DEFAULT_MEMORY_MB, help="memory limit of a kernel")
    p.add_argument("--db", default=None, help="gradebook SQLAlchemy URL (default SQLite in .grading/)")
    p.add_argument("--work-dir", type=Path, default=WORK_DIR, help="grading work area (default .grading/)")
    p.add_argument("--seed", type=int, default=None, help="seed of the inputs drawn for the verified checks")
    p.add_argument("--cluster", default=None, metavar="tcp://HOST:PORT",
                   help="check the submissions on this Dask scheduler's workers (see autograder/cluster.py)")

    p = sub.add_parser("record", help="put the results grade saved while the gradebook was away into the gradebook")
    p.add_argument("id", help="assignment id")
    p.add_argument("--db", default=None, help="gradebook SQLAlchemy URL (default SQLite in .grading/)")
    p.add_argument("--work-dir", type=Path, default=WORK_DIR, help="grading work area (default .grading/)")

    p = sub.add_parser("feedback", help="HTML feedback per student, hidden tests removed")
    p.add_argument("id", help="assignment id")
    p.add_argument("--db", default=None)
    p.add_argument("--work-dir", type=Path, default=WORK_DIR)
    return parser


def unknown_assignment(assignment_id: str) -> str:
    """'' for a known assignment id; otherwise one line naming the close ones and all of them."""
    import difflib

    known = assignment_ids()
    if assignment_id in known:
        return ""
    close = difflib.get_close_matches(assignment_id, known, n=1, cutoff=0.3) or \
        [k for k in known if k.startswith(assignment_id)][:1]
    hint = f"did you mean {close[0]}? " if close else ""
    return f"unknown assignment {assignment_id!r}: {hint}(assignments: {', '.join(known)})"


def summary(rows, out) -> str:
    """``graded 40: 35 ok, 3 timeout, 1 malformed, 1 missing -> grades.csv``."""
    from collections import Counter

    counts = Counter(r.status for r in rows)
    parts = [f"{counts.pop('ok', 0)} ok"] + [f"{n} {status}" for status, n in sorted(counts.items())]
    return f"graded {len(rows)}: {', '.join(parts)} -> {out}"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for assignment_id in [args.id] if hasattr(args, "id") else getattr(args, "ids", []):
        problem = unknown_assignment(assignment_id)
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 2
    if args.command == "release":
        from .release import release, stale_releases

        ids = args.ids or assignment_ids()
        if args.check:
            stale = stale_releases(ids)
            for assignment_id in stale:
                print(f"stale: notebooks/assignments/{assignment_id} (run `python -m autograder release`)")
            return 1 if stale else 0
        for path in release(ids):
            print(f"released {path}")
        return 0
    if args.command == "grade":
        from .grade import GradeError, grade

        try:
            rows = grade(args.id, args.submissions, args.out, jobs=args.jobs, cell_timeout=args.timeout,
                         memory_mb=args.memory_mb, student_timeout=args.student_timeout, db_url=args.db,
                         work_dir=args.work_dir, seed=args.seed, cluster=args.cluster)
        except GradeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(summary(rows, args.out))
        for r in rows:
            if r.status != "ok":
                print(f"  {r.student}: {r.status}: {r.message}")
        return 0 if any(r.status == "ok" for r in rows) else 1   # every submission failed: say so
    if args.command == "record":
        from .grade import GradeError, record

        try:
            rows = record(args.id, db_url=args.db, work_dir=args.work_dir)
        except GradeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"recorded {len(rows)} saved result(s) of {args.id} in the gradebook" if rows
              else f"nothing to record: no saved results of {args.id} wait in {args.work_dir}")
        return 0
    if args.command == "feedback":
        from .feedback import FeedbackError, feedback

        try:
            paths = feedback(args.id, work_dir=args.work_dir, db_url=args.db)
        except FeedbackError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        for path in paths:
            print(f"feedback {path}")
        if not paths:
            print(f"error: no graded submissions of {args.id} in {args.work_dir}: run "
                  f"`python -m autograder grade {args.id} --submissions DIR --out grades.csv` first", file=sys.stderr)
            return 1
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
