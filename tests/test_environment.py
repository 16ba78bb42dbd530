"""The two dependency lists agree, and the Binder/Colab files point where they should."""

import re
import tomllib

import yaml

from conftest import REPO

REPO_URL = "https://github.com/nlp-course/classic-neural-nlp"


def project_name() -> str:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["name"]


# The offline data that comes from Debian: what a notebook's code names, what Colab's cell says, the packages.
APT_DATA = {
    "wordnet": ("WordNet", ["wordnet-base", "wordnet-sense-index"]),
    "bible": ("the two Bibles", ["diatheke", "sword-text-web", "sword-text-sparv"]),
}


def apt_packages() -> list[str]:
    """Binder's Debian packages (apt.txt): WordNet for modules 3 on, the Bibles for notebook 09."""
    return (REPO / "apt.txt").read_text().split()


def apt_needs(nb) -> list[str]:
    """The APT_DATA keys a notebook's code uses ("wordnet" in module 3, "bible" in notebook 09)."""
    return [key for key in APT_DATA if any(key in c.source for c in nb.cells if c.cell_type == "code")]


def uses_wordnet(nb) -> bool:
    return "wordnet" in apt_needs(nb)


def colab_packages() -> list[str]:
    """What Colab's cell installs besides the course: pyproject.toml's ``colab`` extra (ranges, not pins)."""
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["colab"]


def colab_cell(nb) -> str:
    """The set-up cell every notebook starts with, built from pyproject.toml and APT_DATA.

    On Colab it installs the course package without its dependencies (pyproject.toml's pins would replace
    Colab's own torch, numpy and Jupyter), then the ``colab`` extra's packages, the few Colab lacks;
    the notebooks that read WordNet or the Bibles also install their Debian packages (apt.txt's).
    """
    quoted = " ".join(f'"{p}"' for p in colab_packages())
    pip = f'    !pip -q install --no-deps "{project_name()} @ git+{REPO_URL}"\n    !pip -q install {quoted}'
    needs = apt_needs(nb)
    if not needs:
        return ("# Set-up: on Google Colab this installs the course package and the packages Colab lacks "
                "(Colab keeps its own torch, numpy and Jupyter); elsewhere it does nothing.\n"
                f'import sys\nif "google.colab" in sys.modules:\n{pip}')
    what = " and ".join(APT_DATA[key][0] for key in needs)
    packages = " ".join(p for key in needs for p in APT_DATA[key][1])
    return ("# Set-up: on Google Colab this installs the course package, the packages Colab lacks (Colab keeps "
            f"its own torch, numpy and Jupyter) and {what} (Debian's packages, as on Binder); elsewhere it does nothing.\n"
            f'import sys\nif "google.colab" in sys.modules:\n{pip}\n'
            f"    !apt-get -qq update && apt-get -qq install -y {packages} > /dev/null")


def test_apt_txt_is_the_data_packages():
    assert apt_packages() == [p for _, packages in APT_DATA.values() for p in packages]


def parse_pins(reqs: list[str], where: str) -> dict[str, str]:
    pins = {}
    for req in reqs:
        name, sep, version = req.partition("==")
        assert sep, f"{where}: {req!r} is not pinned with =="
        pins[name.strip().lower()] = version.strip()
    return pins


def pyproject_pins() -> dict[str, str]:
    data = tomllib.loads((REPO / "pyproject.toml").read_text())
    return parse_pins(data["project"]["dependencies"] + data["project"]["optional-dependencies"]["test"],
                      "pyproject.toml")


def environment_pins() -> dict[str, str]:
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_block = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return parse_pins(pip_block, "environment.yml")


def test_environment_yml_mirrors_pyproject():
    py, env = pyproject_pins(), environment_pins()
    assert py == env, (
        f"only in pyproject.toml: {sorted(set(py.items()) - set(env.items()))}; "
        f"only in environment.yml: {sorted(set(env.items()) - set(py.items()))}"
    )


def test_torch_is_the_local_cpu_pin():
    assert pyproject_pins()["torch"] == "2.13.0"


def test_installed_versions_match_the_pins():
    from importlib.metadata import version

    for name, pinned in pyproject_pins().items():
        installed = version(name.split("[")[0]).split("+")[0]
        assert installed == pinned, f"{name}: pinned {pinned}, installed {installed} (run `make test` to resync)"


def test_binder_files():
    assert {"wordnet-base", "wordnet-sense-index"} <= set(apt_packages())
    assert "pip install --no-deps -e ." in (REPO / "postBuild").read_text()


def test_readme_names_the_two_commands_and_badges():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "make lab" in readme and "make test" in readme
    slug = REPO_URL.removeprefix("https://github.com/")
    assert f"mybinder.org/v2/gh/{slug}/" in readme
    for nb in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        assert f"colab.research.google.com/github/{slug}/blob/main/notebooks/{nb.name}" in readme, nb.name


def test_ci_runs_make_test():
    assert "make test" in (REPO / ".ci" / "run").read_text()


# A shell or magic line that installs something: pip, conda, mamba, apt.
INSTALL = re.compile(r"^\s*[!%]\s*(?:pip|python -m pip|conda|mamba|apt-get|apt)\b.*", re.M)


def test_colab_cells_install_what_binder_and_make_install():
    """Every notebook's install lines: the project (without its pins), the colab extra and apt.txt, nothing else."""
    import nbformat

    project = project_name()
    paths = sorted([*(REPO / "notebooks").rglob("*.ipynb"), *(REPO / "solutions").rglob("*.ipynb")])
    paths = [p for p in paths if ".ipynb_checkpoints" not in p.parts]
    assert len(paths) >= 24, paths
    data_notebooks = []
    for path in paths:
        nb = nbformat.read(str(path), as_version=4)
        installs = [line.strip() for c in nb.cells if c.cell_type == "code" for line in INSTALL.findall(c.source)]
        pip = [line for line in installs if "pip" in line]
        apt = [line for line in installs if "apt" in line]
        assert pip == [f'!pip -q install --no-deps "{project} @ git+{REPO_URL}"',
                       "!pip -q install " + " ".join(f'"{p}"' for p in colab_packages())], (path.name, installs)
        if apt_needs(nb):
            data_notebooks.append(path.stem)
            (line,) = apt
            assert line.split(" install -y ")[1].split(" >")[0].split() == [
                p for key in apt_needs(nb) for p in APT_DATA[key][1]], path.name
        else:
            assert apt == [], (path.name, apt)
        assert len(installs) == len(pip) + len(apt), (path.name, installs)
    assert sorted(data_notebooks) == ["03_wordnet", "03_wordnet", "09_translating_real_text", "09_translating_real_text",
                                      "ps3_wordnet", "ps3_wordnet"]       # English and Chinese lectures, solution, release
