"""Every notebook executes headless in a fresh kernel, and every committed notebook is clean.

- lectures (notebooks/NN_*.ipynb) and instructor solutions (solutions/<ID>/<ID>.ipynb)
  run without a single error;
- a measured number in a lecture's Markdown (a decimal, a percentage, a ratio, a count with
  thousands separators) is one that the run prints, or tests/prose_numbers.py says where it
  comes from (a paper, a slide, a definition);
- released assignments (notebooks/assignments/<ID>/<ID>.ipynb) run too, and the only
  errors they raise are the stubs' NotImplementedError;
- committed notebooks carry no outputs and no execution counts (the course's policy:
  clean notebooks, so nothing stale is ever shown), no absolute paths of anyone's
  machine, and start with the Colab set-up cell.
"""

import json
import os
import re
import time

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import REPO
from course_lib import bible
from prose_numbers import NOT_FROM_A_RUN, stale_entries, unprinted
from test_environment import apt_needs, colab_cell

LECTURES = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SOLUTIONS = sorted((REPO / "solutions").glob("*/*.ipynb"))
RELEASES = sorted((REPO / "notebooks" / "assignments").glob("*/*.ipynb"))
ALL = LECTURES + SOLUTIONS + RELEASES
TIMES_FILE = REPO / "artifacts" / "notebook_times.json"


def _ids(paths):
    return [str(p.relative_to(REPO)) for p in paths]


NO_BIBLES = pytest.mark.skipif(not bible.available(), reason="the Bibles are not installed (make setup needs apt-get)")


def runnable(paths):
    """pytest params of notebooks to execute: those reading the Bibles are skipped where they are missing."""
    return [pytest.param(p, id=str(p.relative_to(REPO)),
                         marks=[NO_BIBLES] if "bible" in apt_needs(nbformat.read(str(p), as_version=4)) else [])
            for p in paths]


def execute(path, allow_errors=False, timeout=300):
    """Run a notebook in a fresh kernel, as a student's: without the tests' MPLBACKEND=Agg (conftest.py), so its
    figures are drawn inline and the run can be published as it is (tests/test_site.py reuses EXECUTED)."""
    nb = nbformat.read(str(path), as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute(env={k: v for k, v in os.environ.items() if k != "MPLBACKEND"})
    elapsed = time.perf_counter() - start
    TIMES_FILE.parent.mkdir(exist_ok=True)
    times = json.loads(TIMES_FILE.read_text()) if TIMES_FILE.exists() else {}
    times[str(path.relative_to(REPO))] = round(elapsed, 2)
    TIMES_FILE.write_text(json.dumps(times, indent=1, sort_keys=True))
    return nb


def errors_of(nb):
    return [(i, o.get("ename"), o.get("evalue", "")[:200]) for i, c in enumerate(nb.cells)
            if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]


def test_there_is_something_to_run():
    assert LECTURES and SOLUTIONS and RELEASES
    assert len(RELEASES) == len(SOLUTIONS), "every assignment in solutions/ has a release"


EXECUTED: dict = {}      # path -> the notebook as its first run left it
_SECONDS = re.compile(r"\d+(?:\.\d+)?\s*(?:s|ms|sec|seconds|min)\b|\d+(?:\.\d+)?(?:it|words|tokens)/s")


def printed_text(nb) -> list[str]:
    """What a reader sees printed, one string per code cell (stdout and text results), durations blanked.

    A cell's stdout is joined first: the kernel may split one print into several
    stream messages, differently from run to run.
    """
    texts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        parts = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stdout":
                parts.append(out["text"])
            elif out.get("output_type") in ("execute_result", "display_data") and "text/plain" in out.get("data", {}):
                if not any(k.startswith("image/") for k in out["data"]):
                    parts.append(out["data"]["text/plain"])
        texts.append(_SECONDS.sub("<time>", "".join(parts)))
    return texts


@pytest.mark.parametrize("path", runnable(LECTURES + SOLUTIONS))
def test_notebook_executes_without_error(path):
    EXECUTED[path] = execute(path)  # nbclient raises CellExecutionError on the first error, naming the cell


@pytest.mark.parametrize("path", runnable(LECTURES))
def test_numbers_in_the_prose_are_printed_by_the_run(path):
    """A measured number in a lecture's text is one its run prints (or NOT_FROM_A_RUN says where it is from)."""
    nb = EXECUTED.get(path) or execute(path)
    missing = unprinted(nb, path.name)
    assert not missing, (f"{path.name}: numbers in the text that no output of the run shows (print them, render "
                         f"the sentence from the value, drop them, or cite them in tests/prose_numbers.py): {missing}")
    assert not stale_entries(nb, path.name), f"tests/prose_numbers.py lists numbers no cell writes: " \
                                             f"{stale_entries(nb, path.name)}"


def test_the_prose_check_catches_a_number_no_run_prints():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("The model reaches 97.3 % on 1,234 test items, about 2,000 steps."),
        nbformat.v4.new_code_cell("print(0.9731, 2012)", outputs=[nbformat.v4.new_output(
            "stream", name="stdout", text="accuracy 0.9731, 1,234 items, 2012 steps\n")])])
    assert unprinted(nb, "x.ipynb") == []
    nb.cells[1].outputs[0].text = "accuracy 0.9631, 1,235 items, 2612 steps\n"
    nb.cells[1].source = "print()"
    assert unprinted(nb, "x.ipynb") == ["cell 0: 97.3%", "cell 0: 1,234", "cell 0: ~2,000"]
    assert set(NOT_FROM_A_RUN) <= {p.name for p in LECTURES}


@pytest.mark.parametrize("path", runnable(LECTURES))
def test_lecture_prints_the_same_numbers_twice(path):
    first = printed_text(EXECUTED.get(path) or execute(path))
    second = printed_text(execute(path))
    assert len(first) == len(second), "a different number of outputs on the second run"
    for a, b in zip(first, second):
        assert a == b, f"output changed between two runs:\n--- first\n{a[:600]}\n--- second\n{b[:600]}"


@pytest.mark.parametrize("path", RELEASES, ids=_ids(RELEASES))
def test_released_assignment_fails_only_on_stubs(path):
    nb = execute(path, allow_errors=True)
    errors = errors_of(nb)
    assert errors, "an untouched release should raise NotImplementedError somewhere"
    unexpected = [e for e in errors if e[1] != "NotImplementedError"]
    assert not unexpected, f"errors other than the stubs' NotImplementedError: {unexpected}"


@pytest.mark.parametrize("path", ALL, ids=_ids(ALL))
def test_committed_notebook_is_clean(path):
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {i} has outputs: clear them before committing"
            assert cell.execution_count is None, f"cell {i} has an execution count"
    text = path.read_text(encoding="utf-8")
    leaks = re.findall(r"(?:/work/|/root/|/home/\w+|/tmp/|[A-Z]:\\\\Users)", text)
    assert not leaks, f"absolute paths of someone's machine: {sorted(set(leaks))}"
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert first_code.source.strip() == colab_cell(nb), "the first code cell must be the Colab set-up cell"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
