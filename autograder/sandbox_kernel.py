"""The kernel that runs a student's notebook during grading: ipykernel under limits.

Started by jupyter_client from the private kernel spec that
:func:`install_kernelspec` writes, so nbgrader's ``Execute`` preprocessor uses
it without knowing.  Before ipykernel starts, this process lowers its own
resource limits (inherited by anything it spawns):

- ``RLIMIT_DATA`` to ``COURSE_GRADER_MEMORY_MB`` (heap and anonymous mmaps):
  a submission that allocates more gets ``MemoryError`` instead of taking the
  machine down;
- ``RLIMIT_CPU`` to ``COURSE_GRADER_CPU_S`` seconds of CPU time.
"""

from __future__ import annotations

import json
import os
import resource
import sys
from pathlib import Path

MEMORY_ENV = "COURSE_GRADER_MEMORY_MB"
CPU_ENV = "COURSE_GRADER_CPU_S"


def apply_limits() -> None:
    memory_mb = int(os.environ.get(MEMORY_ENV, "0") or 0)
    cpu_s = int(os.environ.get(CPU_ENV, "0") or 0)
    if memory_mb > 0:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    if cpu_s > 0:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 5))


def install_kernelspec(jupyter_path: Path, memory_mb: int, cpu_s: int) -> Path:
    """Write a ``python3`` kernel spec that starts this module; returns its folder.

    Put ``jupyter_path`` first on ``JUPYTER_PATH`` and jupyter_client finds this
    spec before the default one of the same name.
    """
    spec_dir = Path(jupyter_path) / "kernels" / "python3"
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "autograder.sandbox_kernel", "-f", "{connection_file}"],
        "display_name": "Python 3 (grading sandbox)",
        "language": "python",
        "env": {MEMORY_ENV: str(memory_mb), CPU_ENV: str(cpu_s), "MPLBACKEND": "Agg"},
        "metadata": {"debugger": False},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return spec_dir


def main() -> None:
    apply_limits()
    from ipykernel.kernelapp import launch_new_instance

    launch_new_instance()


if __name__ == "__main__":
    main()
