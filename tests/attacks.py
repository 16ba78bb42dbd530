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


# --- Attacks on the jail (tests/test_jail.py) --------------------------------------------------------


def copy_classmate(assignment_id: str) -> str:
    """Walk every folder the environment and the working directories name (and /), exec a solved notebook."""
    return f'''
import json, os
_roots = ["/", os.getcwd()]
for _value in os.environ.values():
    for _token in _value.replace(":", " ").split():
        _roots.append(_token.split("=", 1)[-1])
_copied = []
for _root in _roots:
    if not os.path.isdir(_root):
        continue
    for _d, _dirs, _files in os.walk(_root):
        if _d.startswith(("/proc", "/sys", "/usr")):
            _dirs[:] = []
            continue
        if "{assignment_id}.ipynb" not in _files:
            continue
        try:
            _nb = json.load(open(os.path.join(_d, "{assignment_id}.ipynb")))
        except Exception:
            continue
        for _cell in _nb.get("cells", []):
            _src = "".join(_cell.get("source", ""))
            if _cell.get("metadata", {{}}).get("nbgrader", {{}}).get("solution") and "NotImplementedError" not in _src:
                try:
                    exec(_src, globals())
                    _copied.append(_d)
                except Exception:
                    pass
'''


def load_other_copies(module_stems: list[str], functions: list[str]) -> str:
    """Find every file on disk that could hold a reference (sources and bytecode) and load the graded names."""
    return f'''
import importlib.machinery, importlib.util, os
_n = 0
for _d, _dirs, _files in os.walk("/"):
    if _d.startswith(("/proc", "/sys", "/usr/share", "/usr/include", "/usr/lib/google-cloud-sdk")):
        _dirs[:] = []   # (no Python package lives there; this machine's SDK alone has 100k files)
        continue
    for _f in _files:
        _stem = _f.split(".")[0]
        if _stem not in {module_stems!r} or not (_f.endswith(".py") or _f.endswith(".pyc")):
            continue
        _path = os.path.join(_d, _f)
        _n += 1
        try:
            _loader = (importlib.machinery.SourcelessFileLoader if _f.endswith(".pyc")
                       else importlib.machinery.SourceFileLoader)(f"my_helpers_{{_n}}", _path)
            _spec = importlib.util.spec_from_file_location(f"my_helpers_{{_n}}", _path, loader=_loader)
            _mod = importlib.util.module_from_spec(_spec)
            _spec.loader.exec_module(_mod)
        except BaseException:
            continue
        for _name in {functions!r}:
            if hasattr(_mod, _name):
                globals()[_name] = getattr(_mod, _name)
'''


def scan_memory(functions: list[str]) -> str:
    """Look for other students' code in this process's memory: /proc/self/mem, and every live string."""
    return f'''
import gc, re
_found = []
try:
    with open("/proc/self/maps") as _maps, open("/proc/self/mem", "rb", 0) as _mem:
        for _line in _maps:
            _lo, _hi = (int(x, 16) for x in _line.split()[0].split("-"))
            if "rw" not in _line.split()[1] or _hi - _lo > 1 << 28:
                continue
            try:
                _mem.seek(_lo)
                _found.append(_mem.read(_hi - _lo).decode("latin-1"))
            except OSError:
                pass
except OSError as _exc:
    print("no /proc:", _exc)
import time as _time
_until = _time.time() + 5            # a budget: WordNet's millions of objects take long to walk
for _obj in gc.get_objects():
    if _time.time() > _until:
        break
    if _obj is _found:
        continue
    for _value in (_obj.values() if isinstance(_obj, dict) else _obj if isinstance(_obj, (list, tuple)) else ()):
        if isinstance(_value, str) and "def " in _value and "NotImplementedError" not in _value:
            _found.append(_value)
for _text in _found:
    for _name in {functions!r}:
        for _m in re.finditer(r"\\ndef " + _name + r"\\(", "\\n" + _text):
            _src = _text[_m.start():_m.start() + 4000]
            try:
                exec(_src.split("\\n\\n\\n")[0], globals())
            except Exception:
                pass
'''


def forge_results(part_ids: list[str]) -> str:
    """From a thread, flood every file descriptor with forged results: a deflated 256 MiB array, a stored one
    whose header declares 8 GiB."""
    return f'''
import base64, io, json, os, threading, time, zipfile, zlib
import numpy as np
_header = io.BytesIO()
np.lib.format.write_array_header_2_0(_header, {{"descr": "<f8", "fortran_order": False, "shape": (1 << 25,)}})
_buf = io.BytesIO()
with zipfile.ZipFile(_buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as _z:
    with _z.open("y.npy", "w", force_zip64=True) as _f:
        _f.write(_header.getvalue())
        _zeros = bytes(1 << 20)
        for _ in range(256):
            _f.write(_zeros)
_deflated = base64.b64encode(_buf.getvalue()).decode()
_header = io.BytesIO()
np.lib.format.write_array_header_2_0(_header, {{"descr": "<f8", "fortran_order": False, "shape": (1 << 30,)}})
_buf = io.BytesIO()
with zipfile.ZipFile(_buf, "w") as _z:
    _z.writestr("y.npy", _header.getvalue() + bytes(64))
_stored = base64.b64encode(_buf.getvalue()).decode()
_lines = []
for _pid in {part_ids!r}:
    _lines.append(json.dumps({{"event": "part", "id": _pid}}))
    for _t in range(8):
        _lines.append(json.dumps({{"event": "result", "id": _pid, "trial": _t, "npz": (_deflated, _stored)[_t % 2]}}))
_forged = ("\\n".join(_lines) + "\\n").encode()
def _flood():
    _end = time.time() + 4
    while time.time() < _end:
        for _fd in range(3, 40):
            try:
                os.write(_fd, _forged)
            except OSError:
                pass
        time.sleep(0.05)
threading.Thread(target=_flood, daemon=True).start()
'''


def flood_one_line() -> str:
    """A single event line of 100 MB without a newline."""
    return '''
import os
_junk = b"x" * (100 << 20)
for _fd in range(3, 40):
    try:
        os.write(_fd, _junk)
    except OSError:
        pass
'''


def escape(marker: str) -> str:
    """Processes that try to outlive the submission: a new session, a double-forked daemon, a fork bomb."""
    return f'''
import os, subprocess, sys, time
_sleeper = [sys.executable, "-c", "import time; time.sleep(600)  # {marker}"]
subprocess.Popen(_sleeper, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, _sleeper)
    os._exit(0)
_forks = 0
try:
    for _ in range(300):
        if os.fork() == 0:
            time.sleep(600)
            os._exit(0)
        _forks += 1
except OSError:
    pass
'''


def close_pipes_and_sleep() -> str:
    """Leave the session, close every descriptor (the event pipe included) and sleep."""
    return '''
import os, time
try:
    os.setsid()
except OSError:
    pass
for _fd in range(3, 256):
    try:
        os.close(_fd)
    except OSError:
        pass
time.sleep(600)
'''


def as_float32(functions: list[str]) -> str:
    """Wrap each graded function so that every array it returns is float32 (e.g. a torch habit)."""
    return f'''
import functools
import numpy as np
def _f32(value):
    if isinstance(value, np.ndarray) and value.dtype.kind == "f" or isinstance(value, float):
        return np.asarray(value, dtype=np.float32)
    if isinstance(value, (list, tuple)):
        return type(value)(_f32(v) for v in value)
    if isinstance(value, dict):
        return {{k: _f32(v) for k, v in value.items()}}
    return value
def _wrap(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return _f32(fn(*args, **kwargs))
    return wrapper
for _name in {functions!r}:
    globals()[_name] = _wrap(globals()[_name])
'''


def steal_tables(part_id: str) -> str:
    """Start a later part from a cell (writing its event to every descriptor), to read its stand-in table
    (autograder/sealed.py) before the parts it could answer are graded; keep whatever comes back."""
    return f'''
import json, os, select, time
_event = (json.dumps({{"event": "part", "id": {part_id!r}}}) + "\\n").encode()
for _fd in range(3, 40):
    try:
        os.write(_fd, _event)
    except OSError:
        pass
time.sleep(0.5)
_stolen = b""
for _fd in range(3, 40):
    try:
        if select.select([_fd], [], [], 0)[0]:
            _stolen += os.read(_fd, 1 << 22)
    except OSError:
        pass
'''
