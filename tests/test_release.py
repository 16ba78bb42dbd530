"""Released notebooks are generated from solutions/ and must not be stale."""

import nbformat

from autograder.release import stale_releases
from conftest import REPO


def test_committed_releases_are_fresh():
    stale = stale_releases()
    assert not stale, f"stale releases {stale}: run `make release` (python -m autograder release) and commit"


def test_release_hides_solutions_and_hidden_tests():
    for path in sorted((REPO / "notebooks" / "assignments").glob("*/*.ipynb")):
        text = path.read_text(encoding="utf-8")
        for marker in ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS", "_ref."):
            assert marker not in text, f"{path.name} leaks {marker!r}"
        nb = nbformat.read(str(path), as_version=4)
        stubs = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution")]
        assert stubs and all(("raise NotImplementedError()" if c.cell_type == "code" else "YOUR ANSWER HERE")
                             in c.source for c in stubs)
