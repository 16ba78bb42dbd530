"""The course's JupyterLab settings: lecture notebooks are saved without outputs (see jupyter_server_config.py)."""

from __future__ import annotations

from pathlib import PurePosixPath


def is_lecture(path: str) -> bool:
    """True for a lecture notebook, ``notebooks/NN_name.ipynb`` or its Chinese edition ``notebooks/zh/NN_name.ipynb``
    (relative to the server's root)."""
    p = PurePosixPath(path.lstrip("/"))
    return (p.suffix == ".ipynb" and p.parent in (PurePosixPath("notebooks"), PurePosixPath("notebooks/zh"))
            and p.name[:2].isdigit())


def strip_lecture_outputs(model, path, contents_manager=None, **kwargs):
    """A ``FileContentsManager.pre_save_hook``: outputs and execution counts out of a lecture before it is saved."""
    if model.get("type") != "notebook" or not is_lecture(path):
        return
    for cell in model["content"].get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
