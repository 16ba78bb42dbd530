"""Grading on a Dask cluster against local grading: submissions per second, and the cost per task.

40 ps1 submissions (solved and plausibly wrong), graded by ``python -m autograder grade`` with
``--jobs 2`` on this machine, then with ``--cluster`` on a scheduler and two one-thread workers
started here (autograder/cluster.py).  On 2 cores the cluster cannot be faster: what it shows is
the overhead per task, from which the README's estimate for a real cluster is made.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from autograder.cluster import start_scheduler, start_worker, stop, wait_for_workers  # noqa: E402
from submissions import plausibly_wrong, solved, write  # noqa: E402

A, N = "ps1_backprop", 40


def _grade(tmp: Path, subs: Path, name: str, *extra) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "autograder", "grade", A, "--submissions", str(subs),
                    "--out", str(tmp / f"{name}.csv"), "--seed", "1", "--jobs", "2",
                    "--db", f"sqlite:///{tmp / (name + '.db')}", "--work-dir", str(tmp / f"work-{name}"), *extra],
                   cwd=REPO, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        tmp = Path(tmp)
        subs = tmp / "submitted"
        for i in range(N):
            write(subs, f"s{i:02d}", A, solved(A) if i % 2 else plausibly_wrong(A))
        local = _grade(tmp, subs, "local")
        scheduler, address = start_scheduler(tmp)
        workers = [start_worker(address, f"w{k}", tmp) for k in range(2)]
        try:
            wait_for_workers(address, 2)
            cold = _grade(tmp, subs, "cold", "--cluster", address)    # the workers build their jails
            warm = _grade(tmp, subs, "warm", "--cluster", address)
        finally:
            stop(*workers, scheduler)
        same = (tmp / "local.csv").read_text() == (tmp / "warm.csv").read_text()
    print(f"{N} {A} submissions: local --jobs 2 {local:.1f} s ({N / local:.1f}/s); "
          f"2-worker Dask cluster {cold:.1f} s first batch, {warm:.1f} s next ({N / warm:.1f}/s): "
          f"x{local / warm:.2f} of local, {(warm - local) / N * 1000:+.0f} ms per task; same CSV: {same}")


if __name__ == "__main__":
    main()
