"""Colab's light path: every notebook's Colab cell installs the course without its pins, plus only what Colab lacks.

pyproject.toml pins torch, numpy, JupyterLab, notebook and nbgrader exactly; installed on Colab, those pins
would replace Colab's own packages (a multi-hundred-MB torch download, and a numpy change that forces a
runtime restart). So the cell installs the course package with ``--no-deps`` and then pyproject.toml's
``colab`` extra: the runtime packages Colab's image lacks, as ranges.

Written for Colab's runtime of late 2025 (Python 3.12, torch 2.8, numpy 2.0, scipy 1.16, matplotlib 3.10,
nltk 3.9, tqdm 4.67, ipywidgets 7.7, IPython 7.34), which ships every package of COLAB_SHIPS and neither
gensim nor sacrebleu. Not run on Colab from here (no network): the test checks the cells against that list.
"""

from __future__ import annotations

import ast
import re
import sys

import nbformat
import pytest

from conftest import REPO
from test_environment import INSTALL, REPO_URL, colab_packages, project_name

# What the course imports, by distribution, that Colab's image already has (see the docstring).
COLAB_SHIPS = {"numpy", "scipy", "matplotlib", "torch", "nltk", "tqdm", "ipython", "ipywidgets"}
# Never installed on Colab: Colab's own stack (replacing it breaks the runtime) and the grading tools.
NEVER = COLAB_SHIPS | {"jupyterlab", "notebook", "jupyter", "jupyter-server", "ipykernel", "nbgrader", "nbclient",
                       "nbformat", "jupyterlab-language-pack-zh-cn", "dask", "distributed"}
DISTRIBUTION = {"IPython": "ipython", "sklearn": "scikit-learn"}     # import name -> distribution, where they differ

NOTEBOOKS = sorted(p for p in [*(REPO / "notebooks").rglob("*.ipynb"), *(REPO / "solutions").rglob("*.ipynb")]
                   if ".ipynb_checkpoints" not in p.parts)
REQUIREMENT = re.compile(r'"([^"]+)"|(\S+)')


def name_of(requirement: str) -> str:
    """The distribution a requirement names: "gensim>=4.4,<5" -> gensim, "nlp-course @ git+..." -> nlp-course."""
    return re.split(r"[\s<>=!~;@\[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def requirements(pip_line: str) -> list[str]:
    """The requirements of one ``!pip install`` line (quoted or bare), options left out."""
    args = pip_line.split(" install ", 1)[1]
    found = [a or b for a, b in REQUIREMENT.findall(args)]
    return [r for r in found if not r.startswith("-")]


def colab_pip_lines(nb) -> list[str]:
    cell = next(c for c in nb.cells if c.cell_type == "code")
    assert '"google.colab" in sys.modules' in cell.source, "the first code cell is not the Colab cell"
    return [line.strip() for line in INSTALL.findall(cell.source) if "pip" in line]


def test_the_colab_extra_is_ranges_of_packages_colab_lacks():
    extra = colab_packages()
    assert extra, "pyproject.toml has no colab extra"
    for requirement in extra:
        assert ">=" in requirement and "<" in requirement and "==" not in requirement, \
            f"{requirement}: give Colab a range known to work (>=low,<high), not a pin"
        assert name_of(requirement) not in NEVER, f"{requirement}: Colab has it, or must never get it"


def third_party_imports() -> set[str]:
    """Top-level modules course_lib, the lectures and the assignments import, outside the standard library."""
    sources = [p.read_text(encoding="utf-8") for p in sorted((REPO / "course_lib").glob("*.py"))]
    for path in NOTEBOOKS:
        nb = nbformat.read(str(path), as_version=4)
        sources += [re.sub(r"^(\s*)[!%].*$", r"\1pass", c.source, flags=re.M)     # shell and magic lines
                    for c in nb.cells if c.cell_type == "code"]
    modules = set()
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                modules |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return {m for m in modules if m not in sys.stdlib_module_names and m != "course_lib"}


def test_colab_gets_every_package_the_course_imports():
    have = COLAB_SHIPS | {name_of(r) for r in colab_packages()}
    needed = {DISTRIBUTION.get(m, m.lower()) for m in third_party_imports()}
    assert needed - have == set(), (f"the course imports {sorted(needed - have)}, which Colab lacks: add them to "
                                    "pyproject.toml's colab extra (or to COLAB_SHIPS if Colab's image has them)")
    assert {name_of(r) for r in colab_packages()} <= needed, "the colab extra installs something no course code imports"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[str(p.relative_to(REPO)) for p in NOTEBOOKS])
def test_colab_cell_takes_the_light_path(path):
    lines = colab_pip_lines(nbformat.read(str(path), as_version=4))
    assert len(lines) == 2, lines
    course, extra = lines
    assert "--no-deps" in course.split() and requirements(course) == [f"{project_name()} @ git+{REPO_URL}"], course
    assert requirements(extra) == colab_packages() and "--no-deps" not in extra, extra
    for line in lines:
        for requirement in requirements(line):
            assert name_of(requirement) not in NEVER, f"{path.name} installs {requirement} on Colab"
            assert "==" not in requirement, f"{path.name} pins {requirement} on Colab"


def test_the_check_catches_a_heavy_cell():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        'import sys\nif "google.colab" in sys.modules:\n'
        f'    !pip -q install "{project_name()} @ git+{REPO_URL}" "torch==2.13.0" numpy==2.4.6')])
    (line,) = colab_pip_lines(nb)
    assert "--no-deps" not in line.split()
    assert [name_of(r) for r in requirements(line)] == [project_name(), "torch", "numpy"]
    assert {"torch", "numpy"} <= NEVER
