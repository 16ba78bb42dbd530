"""The library a graded submission sees: the course's code with the graded functions taken out.

Each spec names what it grades in ``GRADED``: ``{module: names}``, where a name
is a function or class of that module, ``"Class.method"`` for a method, or
``"*"`` for the whole module.  The module may be one of ``course_lib``'s or a
third-party one (ps3 grades what NLTK's ``Synset.hypernym_paths`` computes).

:func:`stripped_source` rewrites a module's source with every graded name
replaced by a stub that raises :class:`ImportError` saying why; everything else
in the module (helpers such as ``course_lib.rnn.softmax``) stays usable.
:func:`build_library` writes such a copy of ``course_lib`` into a folder that
the sandbox mounts *in place of* every copy of ``course_lib`` it can see, and
:func:`stripped_files` the third-party files to mount over the originals.  The
graded code is therefore not on the sandbox's disk at all, whatever import
route (``importlib``, a file path, another clone) a submission tries.
"""

from __future__ import annotations

import ast
import importlib.util
import shutil
from pathlib import Path

WHOLE_MODULE = "*"


def refusal(assignment_id: str, module: str, name: str) -> str:
    what = module if name == WHOLE_MODULE else f"{module}.{name}"
    return (f"{what} is not available while {assignment_id} is graded: "
            "it computes what this problem set asks you to write, and the grader checks your own code")


def _stub(name: str, message: str) -> list[ast.stmt]:
    """``def name(*args, **kwargs): raise ImportError(message)``, as statements."""
    return ast.parse(f"def {name}(*args, **kwargs):\n    raise ImportError({message!r})\n").body


def _strip_body(body: list[ast.stmt], names: set[str], message_of) -> tuple[list[ast.stmt], set[str]]:
    out, found = [], set()
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in names:
            stub = _stub(node.name, message_of(node.name))
            for s in stub:
                ast.copy_location(s, node)
            out += stub
            found.add(node.name)
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id in names for t in node.targets):
            target = next(t.id for t in node.targets if isinstance(t, ast.Name) and t.id in names)
            out += _stub(target, message_of(target))
            found.add(target)
        else:
            out.append(node)
    return out, found


def stripped_source(source: str, names, assignment_id: str, module: str) -> str:
    """``source`` with each graded name (function, class, ``Class.method``) replaced by a refusing stub.

    Raises ValueError naming any graded name that the module does not define,
    so a renamed reference cannot silently stay reachable.
    """
    names = set(names)
    tree = ast.parse(source)
    top = {n for n in names if "." not in n}
    methods: dict[str, set[str]] = {}
    for n in names - top:
        cls, meth = n.split(".", 1)
        methods.setdefault(cls, set()).add(meth)
    tree.body, found = _strip_body(tree.body, top, lambda n: refusal(assignment_id, module, n))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name in methods:
            node.body, got = _strip_body(node.body, methods[node.name],
                                         lambda m, c=node.name: refusal(assignment_id, module, f"{c}.{m}"))
            found |= {f"{node.name}.{m}" for m in got}
            if not node.body:
                node.body = [ast.Pass()]
    missing = names - found
    if missing:
        raise ValueError(f"{module} defines no {', '.join(sorted(missing))} (fix GRADED in {assignment_id}'s spec)")
    ast.fix_missing_locations(tree)
    return ast.unparse(tree) + "\n"


def _refused_module(assignment_id: str, module: str) -> str:
    return f"raise ImportError({refusal(assignment_id, module, WHOLE_MODULE)!r})\n"


def module_file(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        raise ValueError(f"cannot find the source of {module}")
    return Path(spec.origin)


def build_library(graded: dict, assignment_id: str, package_dir: Path, dest: Path) -> Path:
    """A copy of the package at ``package_dir`` (``course_lib``) in ``dest``, graded names stubbed out.

    Only ``.py`` files are copied (no ``__pycache__``, whose bytecode would hold
    the reference).  Returns ``dest``.
    """
    package = package_dir.name
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for path in sorted(package_dir.glob("*.py")):
        module = f"{package}.{path.stem}" if path.stem != "__init__" else package
        text = path.read_text(encoding="utf-8")
        names = graded.get(module)
        if names == WHOLE_MODULE or names == (WHOLE_MODULE,):
            text = _refused_module(assignment_id, module)
        elif names:
            text = stripped_source(text, names, assignment_id, module)
        (dest / path.name).write_text(text, encoding="utf-8")
    return dest


def stripped_files(graded: dict, assignment_id: str, package: str, dest: Path) -> dict[Path, Path]:
    """{original file: stripped copy in ``dest``} for every graded module outside ``package``."""
    out = {}
    for module, names in graded.items():
        if module == package or module.startswith(package + "."):
            continue
        original = module_file(module)
        copy = dest / (module.replace(".", "_") + ".py")
        copy.parent.mkdir(parents=True, exist_ok=True)
        if names == WHOLE_MODULE or names == (WHOLE_MODULE,):
            copy.write_text(_refused_module(assignment_id, module), encoding="utf-8")
        else:
            copy.write_text(stripped_source(original.read_text(encoding="utf-8"), names, assignment_id, module),
                            encoding="utf-8")
        out[original] = copy
    return out
