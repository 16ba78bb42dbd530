"""Attack cells for the verified grader's tests: each one tries to earn points it did not earn."""

from __future__ import annotations

from conftest import REPO


def patch_comparisons() -> str:
    return '''
import math
import numpy as np
np.allclose = lambda *a, **k: True
np.isclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
math.isclose = lambda *a, **k: True
try:
    import torch
    torch.allclose = lambda *a, **k: True
except Exception:
    pass
'''


def patch_course_objects() -> str:
    return '''
import course_lib.checks
course_lib.checks.assert_close = lambda *a, **k: None
assert_close = lambda *a, **k: None
for _name in ("autograder", "autograder.verify", "nbgrader", "nbgrader.api"):
    try:
        _mod = __import__(_name)
        _mod.compare = lambda *a, **k: ""
    except Exception as _exc:
        print("blocked:", _exc)
'''


def always_equal(functions: list[str]) -> str:
    return f'''
class AlwaysEqual:
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    def __float__(self):
        raise TypeError("not a number")
for _name in {functions!r}:
    globals()[_name] = lambda *a, **k: AlwaysEqual()
'''


def ipython_tricks() -> str:
    return '''
ip = get_ipython()
try:
    ip.input_transformers_post.append(lambda lines: ["pass\\n"])
except Exception as exc:
    print(exc)
try:
    ip.set_custom_exc((Exception,), lambda *a, **k: None)
    ip.showtraceback = lambda *a, **k: None
except Exception as exc:
    print(exc)
'''


def read_and_write_outside(assignment_id: str, blocked_files: list[str]) -> str:
    """Try to exec the instructor's solutions (notebook, git history, gradebook) and to write into the repo."""
    return f'''
import json, os, pathlib, sqlite3, subprocess
REPO = {str(REPO)!r}
_stolen = []
for _path in [REPO + "/solutions/{assignment_id}/{assignment_id}.ipynb", *{blocked_files!r}]:
    try:
        _text = pathlib.Path(_path).read_text()
        if _path.endswith(".ipynb"):
            for _cell in json.loads(_text)["cells"]:
                if _cell.get("metadata", {{}}).get("nbgrader", {{}}).get("solution"):
                    exec("".join(_cell["source"]), globals())
        else:
            exec(_text, globals())
        _stolen.append(_path)
    except Exception as _exc:
        print("could not read", _path, _exc)
for _db in [REPO + "/.grading/gradebook.db"]:
    try:
        print(sqlite3.connect(_db).execute("select count(*) from source_cell").fetchall())
    except Exception as _exc:
        print("no gradebook:", _exc)
try:
    print(subprocess.run(["git", "-C", REPO, "show", "HEAD:solutions/{assignment_id}/{assignment_id}.ipynb"],
                         capture_output=True, text=True).stdout[:100])
except Exception as _exc:
    print(_exc)
for _target in [REPO + "/course_lib/checks.py", REPO + "/README.md"]:
    try:
        with open(_target, "a") as _f:
            _f.write("# written by a student")
    except Exception as _exc:
        print("could not write", _target, _exc)
'''


def call_reference(functions: list[str], modules: list[str]) -> str:
    """Define each graded function as a call into the course's reference implementation."""
    import importlib

    targets = {}
    for mod_name in modules:
        mod = importlib.import_module(mod_name)
        for name in functions:
            if hasattr(mod, name) and name not in targets:
                targets[name] = mod_name
    return f'''
def _calls_reference(name, module):
    def wrapper(*args, **kwargs):
        import importlib
        return getattr(importlib.import_module(module), name)(*args, **kwargs)
    return wrapper
for _name, _module in {targets!r}.items():
    globals()[_name] = _calls_reference(_name, _module)
'''


def kill_everything() -> str:
    return '''
import os, signal
for _pid in os.listdir("/proc"):
    if _pid.isdigit() and int(_pid) != os.getpid():
        try:
            os.kill(int(_pid), signal.SIGKILL)
        except Exception:
            pass
'''


def hog_memory() -> str:
    return '''
import numpy as np
try:
    _big = np.ones((40_000, 40_000, 4))   # 51 GB
except MemoryError as exc:
    print("MemoryError", exc)
'''
