"""Stand-ins: while a part is graded, the notebook's other graded functions answer as the reference does.

A part grades one function, but that function may call the student's other
functions (``backprop`` calls ``output_delta``; ``word_similarity`` calls
``path_similarity``).  So that a mistake costs only the function that contains
it, the spec of a part lists the calls a correct answer makes to those helpers
and what the reference returns for each (:attr:`autograder.parts.Part.stand_ins`).
While the part runs, each such helper of the notebook is replaced by a
*stand-in*: called with the arguments a correct answer passes (equal to float32
precision), it returns the reference's result; called with anything else, it
calls the student's own function.

The table that travels to the sandbox is *sealed*: for every call it holds
``sha256("find" + arguments)`` and the result XOR-ed with a key stream derived
from the same arguments (``shake_256("seal" + arguments)``).  So the table says
nothing about the arguments (the reference's intermediate values) or the
results unless the caller presents the arguments: a function that earns its
points through the stand-ins must compute every argument itself.  A part's table
reaches the sandbox only when that part starts, after every earlier part is
graded (:mod:`autograder.forkserver`), and the specs order parts so that a
helper is graded before the functions built on it.

This file is copied into the grading jail with the sandbox (``grader_sandbox.sealed``)
and imports nothing of the autograder.
"""

from __future__ import annotations

import base64
import hashlib
import inspect
import json

import numpy as np

NUMBER_TYPES = (bool, int, float, np.number, np.bool_)


NO_TABLE = json.dumps({"names": [], "trials": []})   # the line of a part without stand-ins


class Unkeyable(TypeError):
    """An argument that cannot be part of a key (a function, an object): the student's function is called."""


def _canon(value):
    """A JSON-able form of an argument: numbers as float32 bytes (so float noise of another order of
    operations does not change the key), strings, None, synsets by name, sequences and dicts of those."""
    if value is None:
        return ["none"]
    if isinstance(value, str):
        return ["str", value]
    if type(value).__name__ == "Synset" and hasattr(value, "name"):
        return ["synset", value.name()]
    if isinstance(value, dict):
        return ["dict", [[str(k), _canon(value[k])] for k in sorted(value, key=str)]]
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, NUMBER_TYPES) for v in value):
            return _canon(np.asarray(value, dtype=float))
        return ["seq", [_canon(v) for v in value]]
    if isinstance(value, (np.ndarray, *NUMBER_TYPES)):
        a = np.asarray(value)
        if a.dtype.kind not in "biuf":
            raise Unkeyable(f"an array of dtype {a.dtype}")
        a = a.astype(np.float64)
        finite = np.abs(a[np.isfinite(a)])
        scale = float(finite.max()) if finite.size else 0.0
        a = np.where(np.abs(a) <= 1e-12 * scale, 0.0, a)          # 1e-17 where the reference has 0
        q = a.astype("<f4") + np.float32(0.0)                       # -0.0 and 0.0 alike
        return ["num", list(a.shape), base64.b64encode(q.tobytes()).decode()]
    raise Unkeyable(type(value).__name__)


def material(name: str, args) -> bytes:
    """The bytes a call is known by: the function's name and its arguments in parameter order."""
    return json.dumps([name, [_canon(a) for a in args]], separators=(",", ":")).encode()


def _digest(mat: bytes) -> str:
    return hashlib.sha256(b"find\0" + mat).hexdigest()


def _xor(data: bytes, mat: bytes) -> bytes:
    stream = hashlib.shake_256(b"seal\0" + mat).digest(len(data))
    return (int.from_bytes(data, "little") ^ int.from_bytes(stream, "little")).to_bytes(len(data), "little")


def _pack(value):
    if value is None:
        return ["none"]
    if isinstance(value, (bool, np.bool_)):
        return ["bool", bool(value)]
    if isinstance(value, (int, np.integer)):
        return ["int", int(value)]
    if isinstance(value, (float, np.floating)):
        return ["float", float(value)]
    if isinstance(value, str):
        return ["str", value]
    if type(value).__name__ == "Synset" and hasattr(value, "name"):
        return ["synset", value.name()]
    if isinstance(value, np.ndarray):
        a = np.ascontiguousarray(value)
        return ["array", a.dtype.str, list(a.shape), base64.b64encode(a.tobytes()).decode()]
    if isinstance(value, (list, tuple)):
        return ["tuple" if isinstance(value, tuple) else "list", [_pack(v) for v in value]]
    if isinstance(value, dict):
        return ["dict", [[str(k), _pack(v)] for k, v in value.items()]]
    raise TypeError(f"a stand-in result cannot hold {type(value).__name__}")


def _unpack(packed, synset):
    kind = packed[0]
    if kind == "none":
        return None
    if kind in ("bool", "int", "float", "str"):
        return packed[1]
    if kind == "synset":
        if synset is None:
            raise Unkeyable("a synset without a WordNet reader")
        return synset(packed[1])
    if kind == "array":
        dtype, shape, data = packed[1:]
        if np.dtype(dtype).hasobject:
            raise ValueError("object array")
        return np.frombuffer(base64.b64decode(data), dtype=dtype).reshape(shape).copy()
    if kind in ("tuple", "list"):
        items = [_unpack(v, synset) for v in packed[1]]
        return tuple(items) if kind == "tuple" else items
    if kind == "dict":
        return {k: _unpack(v, synset) for k, v in packed[1]}
    raise ValueError(f"unknown stand-in value {kind!r}")


def seal(calls) -> dict:
    """{digest: sealed result} of ``calls``, a list of (function name, arguments in parameter order, result)."""
    table = {}
    for name, args, result in calls:
        mat = material(name, args)
        table[_digest(mat)] = base64.b64encode(_xor(json.dumps(_pack(result)).encode(), mat)).decode()
    return table


def _synset_reader(args):
    """The WordNet reader of the first synset among the arguments (to turn names back into synsets)."""
    stack = list(args)
    while stack:
        v = stack.pop(0)
        reader = getattr(v, "_wordnet_corpus_reader", None) if type(v).__name__ == "Synset" else None
        if reader is not None:
            return reader.synset
        if isinstance(v, (list, tuple)):
            stack.extend(v)
    return None


def stand_in(name: str, original, table: dict):
    """``original`` (the student's function), except for the calls in ``table``, which return the reference's result."""
    try:
        signature = inspect.signature(original)
    except (TypeError, ValueError):
        signature = None

    def helper(*args, **kwargs):
        if signature is not None:
            try:
                bound = signature.bind(*args, **kwargs)
                bound.apply_defaults()
                mat = material(name, list(bound.arguments.values()))
                sealed = table.get(_digest(mat))
                if sealed is not None:
                    packed = json.loads(_xor(base64.b64decode(sealed), mat))
                    return _unpack(packed, _synset_reader(list(bound.arguments.values())))
            except (TypeError, ValueError):   # Unkeyable, a call that does not bind, an unreadable entry
                pass
        return original(*args, **kwargs)

    helper.__name__ = helper.__qualname__ = getattr(original, "__name__", name)
    helper.__doc__ = getattr(original, "__doc__", None)
    return helper


class StandIns:
    """While in force, each name of ``table`` in each namespace of ``namespaces`` is its stand-in.

    Only names bound to a function of the notebook are replaced; the originals come back on exit.
    """

    def __init__(self, namespaces, names, table: dict):
        self.namespaces, self.names, self.table = namespaces, tuple(names), table
        self.saved = []

    def __enter__(self):
        for ns in self.namespaces:
            for name in self.names:
                original = ns.get(name)
                if callable(original):
                    self.saved.append((ns, name, original))
                    ns[name] = stand_in(name, original, self.table)
        return self

    def __exit__(self, *exc):
        for ns, name, original in reversed(self.saved):
            ns[name] = original
        self.saved.clear()
        return False
