"""`make lab`'s JupyterLab: saving a lecture notebook (autosave included) never dirties the clone."""

import json
import shutil
import urllib.request

from autograder.lab import is_lecture
from conftest import REPO
from jupyterlab_browser import running_lab

LECTURE = "notebooks/01_backpropagation.ipynb"


def test_which_notebooks_are_lectures():
    assert is_lecture(LECTURE) and is_lecture("/notebooks/08_seq2seq_attention.ipynb")
    assert is_lecture("notebooks/zh/01_backpropagation.ipynb") and not is_lecture("notebooks/zh/notes.ipynb")
    assert not is_lecture("notebooks/assignments/ps1_backprop/ps1_backprop.ipynb")
    assert not is_lecture("solutions/ps1_backprop/ps1_backprop.ipynb") and not is_lecture("notebooks/mine.ipynb")


def test_saving_a_run_lecture_keeps_the_tracked_file(tmp_path):
    root = tmp_path / "clone"
    (root / "notebooks" / "assignments" / "ps1_backprop").mkdir(parents=True)
    shutil.copy(REPO / LECTURE, root / LECTURE)
    shutil.copy(REPO / "notebooks" / "assignments" / "ps1_backprop" / "ps1_backprop.ipynb",
                root / "notebooks" / "assignments" / "ps1_backprop" / "ps1_backprop.ipynb")
    before = (root / LECTURE).read_bytes()
    with running_lab(root, tmp_path, extra_args=[f"--config={REPO / 'jupyter_server_config.py'}"]) as lab:
        def save(path, mutate):
            model = lab.api(f"contents/{path}")
            for cell in model["content"]["cells"]:
                mutate(cell)
            body = json.dumps({"type": "notebook", "format": "json", "content": model["content"]}).encode()
            req = urllib.request.Request(f"{lab.base_url}api/contents/{path}", data=body, method="PUT",
                                         headers={"Authorization": f"token {lab.token}",
                                                  "Content-Type": "application/json"})
            urllib.request.urlopen(req, timeout=30).read()

        def ran(cell):  # what running every cell leaves in the model
            if cell["cell_type"] == "code":
                cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "42\n"}]
                cell["execution_count"] = 7

        save(LECTURE, ran)
        assert (root / LECTURE).read_bytes() == before, "saving a run lecture changed the tracked file"
        assignment = "notebooks/assignments/ps1_backprop/ps1_backprop.ipynb"
        save(assignment, ran)   # a student's assignment keeps its outputs
        saved = json.loads((root / assignment).read_text(encoding="utf-8"))
        assert any(c.get("outputs") for c in saved["cells"] if c["cell_type"] == "code")


def test_jupyterlab_speaks_chinese(tmp_path):
    """The set-up installs JupyterLab's zh-CN language pack: the running server offers it, menus translated."""
    root = tmp_path / "clone"
    root.mkdir()
    with running_lab(root, tmp_path) as lab:
        req = urllib.request.Request(f"{lab.base_url}lab/api/translations/zh_CN",
                                     headers={"Authorization": f"token {lab.token}"})
        pack = json.loads(urllib.request.urlopen(req, timeout=30).read())
        listed = json.loads(urllib.request.urlopen(urllib.request.Request(
            f"{lab.base_url}lab/api/translations", headers={"Authorization": f"token {lab.token}"}),
            timeout=30).read())
    assert "zh_CN" in listed["data"], listed
    strings = pack["data"]["jupyterlab"]
    assert strings["Settings"] == ["设置"] and strings["Help"] == ["帮助"], {k: strings.get(k) for k in ("Settings", "Help")}
