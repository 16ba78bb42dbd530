"""The two dependency lists agree, and the Binder/Colab files point where they should."""

import re
import tomllib

import yaml

from conftest import REPO

COLAB_CELL = '''# Set-up: on Google Colab this installs the course package and its offline data; elsewhere it does nothing.
import sys
if "google.colab" in sys.modules:
    !pip -q install "nlp-course @ git+https://github.com/nlp-course/classic-neural-nlp"'''


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
    apt = (REPO / "apt.txt").read_text().split()
    assert {"wordnet-base", "wordnet-sense-index"} <= set(apt)
    assert "pip install --no-deps -e ." in (REPO / "postBuild").read_text()


def test_readme_names_the_two_commands_and_badges():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "make lab" in readme and "make test" in readme
    repo_url = re.search(r"git\+(https://github\.com/[\w.-]+/[\w.-]+)", COLAB_CELL).group(1)
    slug = repo_url.removeprefix("https://github.com/")
    assert f"mybinder.org/v2/gh/{slug}/" in readme
    for nb in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        assert f"colab.research.google.com/github/{slug}/blob/main/notebooks/{nb.name}" in readme, nb.name


def test_ci_runs_make_test():
    assert "make test" in (REPO / ".ci" / "run").read_text()
