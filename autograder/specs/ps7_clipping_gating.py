"""Verified checks for ps7_clipping_gating: each graded function against course_lib.clipping.

``course_lib.clipping`` has torch's arithmetic (``clip_grad_norm`` multiplies by
min(1, max_norm / (‖g‖ + 1e-6)) as ``torch.nn.utils.clip_grad_norm_`` does, and ``state_gradient_norms``
is the BPTT recursion that torch autograd computes); tests/test_clipping.py checks both against torch.
The written answer (3 points) is graded by hand and has no part here.
"""

import numpy as np

import course_lib.clipping as ref
import course_lib.rnn as rnn
from autograder.parts import Part

# What this assignment grades, and every re-implementation of it a submission could reach: stubbed out
# of the library the sandbox sees (autograder/strip.py); everything else stays importable.
# Siblings: rnn_lm._clip(grads, inf) returns the global norm; rnn_states is the probe's forward pass;
# torch_state_gradient_norms reads the probe's norms off a torch graph; rnn.hidden_gradient_norms is the
# probe for tanh with ∂L_T/∂s_T = Vᵀ(o_T − y_T).  Not graded here: clip_grad_value, the gated probe
# (gated_state_gradient_norms) and course_lib.long_range.
GRADED = {
    "course_lib.clipping": ("global_norm", "clip_grad_norm", "rnn_states", "state_gradient_norms",
                            "torch_state_gradient_norms"),
    "course_lib.rnn": ("hidden_gradient_norms",),
    "course_lib.rnn_lm": ("_clip",),
}

ACTIVATIONS = ("tanh", "relu")


def _grads(rng, max_ndim=2, scale=1.0):
    """A dict g0, g1, ... of 1 to 4 arrays of random shapes (0-d arrays included when max_ndim allows)."""
    grads = {}
    for i in range(int(rng.integers(1, 5))):
        shape = tuple(int(v) for v in rng.integers(1, 5, size=int(rng.integers(0, max_ndim + 1))))
        grads[f"g{i}"] = scale * rng.normal(size=shape)
    return grads


def _global_norm_inputs(rng, trial):
    if trial == 0:   # the 3-4-5 example over arrays of different shapes, and a 0-d array
        return {"g0": np.array([3.0]), "g1": np.array([[4.0]]), "g2": np.array(0.0)}
    grads = _grads(rng, scale=float(rng.uniform(0.01, 20)))
    if all(g.size < 2 for g in grads.values()):   # a sum and a mean of squares differ only over several entries
        grads[f"g{len(grads)}"] = rng.normal(size=int(rng.integers(2, 5)))
    return grads


def _clip_inputs(rng, trial):
    grads = {k: float(rng.uniform(0.01, 20)) * v for k, v in _grads(rng, max_ndim=2).items()}
    total = ref.global_norm(grads)
    if trial == 0:       # under the threshold: nothing may change
        max_norm = total * float(rng.uniform(1.2, 3.0))
    elif trial == 1:     # over the threshold
        max_norm = total * float(rng.uniform(0.05, 0.8))
    else:
        max_norm = float(rng.uniform(0.05, 10))
    return dict(grads, max_norm=np.array(max_norm))


def _clip_expected(inp):
    grads = {k: v for k, v in inp.items() if k.startswith("g")}
    clipped, total = ref.clip_grad_norm(grads, float(inp["max_norm"]))
    return {"total": np.array(total), "input_modified": np.array(0.0), **{"c_" + k: v for k, v in clipped.items()}}


def _probe_inputs(rng, trial):
    act = trial % 2
    if trial == 0:       # the slides' RNN weights (lecture 05) with small inputs, a random grad_T
        _, _, params = rnn.slide_example()
        X = 0.1 * np.array([[1.0, 2.0, 3.0], [2.0, 3.0, 4.0], [3.0, 4.0, 5.0]])
        return {"U": params["U"], "W": params["W"], "b_s": params["b_s"], "X": X,
                "grad_T": rng.normal(size=2), "act": np.array(act)}
    T, m, n = (int(v) for v in rng.integers(1, 8, size=3))
    return {"U": rng.normal(size=(n, m)), "W": 1.2 * rng.normal(size=(n, n)) / np.sqrt(n),
            "b_s": 0.3 * rng.normal(size=n), "X": rng.normal(size=(T, m)), "grad_T": rng.normal(size=n),
            "act": np.array(act)}


def _probe_expected(inp):
    params = {k: inp[k] for k in ("U", "W", "b_s")}
    return {"norms": ref.state_gradient_norms(inp["X"], params, inp["grad_T"], ACTIVATIONS[int(inp["act"])])}


_GLOBAL_NORM_CALL = """\
outputs = {"norm": global_norm({k: inputs[k].copy() for k in sorted(inputs)}), "empty": global_norm({})}
"""

_CLIP_CALL = """\
import numpy as _np
_grads = {k: inputs[k].copy() for k in sorted(inputs) if k.startswith("g")}
_before = {k: v.copy() for k, v in _grads.items()}
_clipped, _total = clip_grad_norm(_grads, float(inputs["max_norm"]))
outputs = {"total": _total,
           "input_modified": float(any(not _np.array_equal(_grads[k], _before[k]) for k in _before)),
           **{"c_" + k: _clipped[k] for k in _before}}
"""

_PROBE_CALL = """\
_params = {k: inputs[k].copy() for k in ("U", "W", "b_s")}
outputs = {"norms": state_gradient_norms(inputs["X"].copy(), _params, inputs["grad_T"].copy(),
                                         ("tanh", "relu")[int(inputs["act"])])}
"""

def _grads_of(inp):
    return {k: inp[k] for k in sorted(inp) if k.startswith("g")}


PARTS = [
    Part("test_global_norm", "global_norm",
         call=_GLOBAL_NORM_CALL,
         make_inputs=_global_norm_inputs,
         expected=lambda inp: {"norm": np.array(ref.global_norm(dict(inp))), "empty": np.array(0.0)},
         atol=1e-12, rtol=1e-10),
    Part("test_clip_grad_norm", "clip_grad_norm",
         call=_CLIP_CALL,
         make_inputs=_clip_inputs,
         expected=_clip_expected,
         atol=1e-12, rtol=1e-10, trials=4,
         # stand-in (autograder/sealed.py): global_norm answers as the reference, so only clip_grad_norm is graded here
         stand_ins=lambda inp: [("global_norm", (_grads_of(inp),), ref.global_norm(_grads_of(inp)))]),
    Part("test_state_gradient_norms", "state_gradient_norms",
         call=_PROBE_CALL,
         make_inputs=_probe_inputs,
         expected=_probe_expected,
         atol=1e-10, rtol=1e-8, trials=4),
]
