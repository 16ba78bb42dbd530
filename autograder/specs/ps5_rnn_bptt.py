"""Verified checks for ps5_rnn_bptt: each graded function against course_lib.rnn.

The first trial of the BPTT part is the slides' numeric example itself, so the
corrected values of the slides (e.g. grad U of shape (2, 3)) are part of the score.

Tolerances: rtol 1e-9 (atol 1e-12 to 1e-9).  Every graded value is a few dozen float64 operations on
inputs of order 1, so any correct float64 order of operations agrees to about 1e-14, while a mistake whose
effect a saturated tanh shrinks (a forgotten s0, W for W^T) still shows above 1e-9.  A float32 result is
judged at float32's tolerance (autograder.parts.compare).
"""

import numpy as np

import course_lib.rnn as ref
from autograder.parts import Part

# What this assignment grades, and every re-implementation of it a submission could reach: stubbed out
# of the library the sandbox sees (autograder/strip.py); everything else (course_lib.rnn.softmax, ...)
# stays importable.
# Siblings: rnn_bptt_deltas, rnn_bptt_truncated (k = T) and the batched versions (B = 1) are the forward
# pass and BPTT; clipping.rnn_states is the tanh recursion (rnn_step, rnn_forward's S);
# backprop.softmax_cross_entropy's gradient times N at z = log O is output_delta.  init_params, the
# slides' data and the gradient-norm probes (hidden_gradient_norms, clipping) are not graded here.
GRADED = {
    "course_lib.rnn": ("rnn_step", "rnn_forward", "output_delta", "rnn_bptt_deltas", "rnn_bptt",
                       "rnn_bptt_truncated", "rnn_forward_batch", "rnn_bptt_batch"),
    "course_lib.clipping": ("rnn_states",),
    "course_lib.backprop": ("softmax_cross_entropy",),
}

PARAMS = ("U", "W", "V", "b_s", "b_o")
_PARAMS_CODE = 'params = {name: inputs[name] for name in ("U", "W", "V", "b_s", "b_o")}\n'
_S0_CODE = 's0 = inputs["s0"] if "s0" in inputs else None\n'


def _random_problem(rng, trial, n_min=1):
    T, m, n, k = (int(v) for v in rng.integers([1, 1, n_min, 1], 6))
    params = ref.init_params(m, n, k, rng, scale=0.8)
    params["b_s"], params["b_o"] = rng.normal(size=n), rng.normal(size=k)
    inputs = dict(params, X=rng.normal(size=(T, m)), y=rng.integers(0, k, size=T))
    if trial % 2:
        inputs["s0"] = np.tanh(rng.normal(size=n))
    return inputs


def _step_inputs(rng, trial):
    # trial 0 has n >= 2 hidden units, so that W and its transpose differ
    problem = _random_problem(rng, 0, n_min=2 if trial == 0 else 1)
    return dict(problem, x=problem["X"][0], s=np.tanh(rng.normal(size=problem["W"].shape[0])))


def _output_delta_inputs(rng, trial):
    # k >= 2 classes (with one, O = 1 and the answer is 0 whatever the sign); trial 0 has T >= 2 steps
    # with at least two different labels, so that delta[:, y] (whole columns) differs from delta[t, y_t]
    T, k = int(rng.integers(2 if trial == 0 else 1, 7)), int(rng.integers(2, 7))
    y = rng.integers(0, k, size=T)
    while trial == 0 and len(np.unique(y)) < 2:
        y = rng.integers(0, k, size=T)
    return {"O": ref.softmax(rng.normal(size=(T, k))), "y": y}


def _bptt_inputs(rng, trial):
    if trial == 0:
        X, Y, params = ref.slide_example()
        return dict(params, X=X, y=Y.argmax(axis=1))
    return _random_problem(rng, trial)


def _params(inp):
    return {name: inp[name] for name in PARAMS}


def _bptt_expected(inp):
    cost, grads = ref.rnn_bptt(inp["X"], inp["y"], _params(inp), inp.get("s0"))
    return {"cost": np.array(cost), **{f"d{name}": g for name, g in grads.items()}}


# Stand-ins (autograder/sealed.py): the calls a correct answer makes to the notebook's other graded
# functions, with the reference's results, so that each part's score depends on its own function alone.

def _step_calls(inp):
    """rnn_forward calls rnn_step at every step (from zeros when s0 is None)."""
    params = _params(inp)
    s = inp["s0"] if "s0" in inp else np.zeros(params["W"].shape[0])
    calls = []
    for x in inp["X"]:
        s_next = ref.rnn_step(x, s, params)
        calls.append(("rnn_step", (x, s, params), s_next))
        s = s_next
    return calls


def _bptt_calls(inp):
    """rnn_bptt calls rnn_forward (s0 as given, or already zeros), output_delta and maybe rnn_step."""
    params, s0 = _params(inp), inp.get("s0")
    S, O = ref.rnn_forward(inp["X"], params, s0)
    calls = [("rnn_forward", (inp["X"], params, s0), (S, O)), ("output_delta", (O, inp["y"]), ref.output_delta(O, inp["y"]))]
    if s0 is None:
        calls.append(("rnn_forward", (inp["X"], params, np.zeros(params["W"].shape[0])), (S, O)))
    return calls + _step_calls(inp)


PARTS = [
    Part("test_rnn_step", "rnn_step",
         call=_PARAMS_CODE + 'outputs = {"s": rnn_step(inputs["x"], inputs["s"], params)}',
         make_inputs=_step_inputs,
         expected=lambda inp: {"s": ref.rnn_step(inp["x"], inp["s"], _params(inp))}, atol=1e-10, rtol=1e-9),
    Part("test_rnn_forward", "rnn_forward",
         call=_PARAMS_CODE + _S0_CODE + 'S, O = rnn_forward(inputs["X"], params, s0)\noutputs = {"S": S, "O": O}',
         make_inputs=_random_problem,
         expected=lambda inp: dict(zip(("S", "O"), ref.rnn_forward(inp["X"], _params(inp), inp.get("s0")))),
         atol=1e-10, rtol=1e-9, stand_ins=_step_calls, credit=(("S",), ("O",))),
    Part("test_output_delta", "output_delta",
         call='_O = inputs["O"].copy()\noutputs = {"delta": output_delta(_O, inputs["y"]), "O_after": _O}',
         make_inputs=_output_delta_inputs,
         expected=lambda inp: {"delta": ref.output_delta(inp["O"], inp["y"]), "O_after": inp["O"]},
         atol=1e-12, rtol=1e-9),
    Part("test_rnn_bptt", "rnn_bptt",
         call=(_PARAMS_CODE + _S0_CODE + 'cost, grads = rnn_bptt(inputs["X"], inputs["y"], params, s0)\n'
               'outputs = {"cost": cost, **{"d" + name: grads[name] for name in params}}'),
         make_inputs=_bptt_inputs, expected=_bptt_expected, atol=1e-9, rtol=1e-9, trials=4,
         stand_ins=_bptt_calls, credit=(("cost",), ("dU",), ("dW",), ("dV",), ("db_s",), ("db_o",))),
]
