"""Verified checks for ps5_rnn_bptt: each graded function against course_lib.rnn.

The first trial of the BPTT part is the slides' numeric example itself, so the
corrected values of the slides (e.g. grad U of shape (2, 3)) are part of the score.
"""

import numpy as np

import course_lib.rnn as ref
from autograder.parts import Part

BLOCKED = ("course_lib.rnn", "course_lib.rnn_lm")

PARAMS = ("U", "W", "V", "b_s", "b_o")
_PARAMS_CODE = 'params = {name: inputs[name] for name in ("U", "W", "V", "b_s", "b_o")}\n'
_S0_CODE = 's0 = inputs["s0"] if "s0" in inputs else None\n'


def _random_problem(rng, trial):
    T, m, n, k = (int(v) for v in rng.integers(1, 6, size=4))
    params = ref.init_params(m, n, k, rng, scale=0.8)
    params["b_s"], params["b_o"] = rng.normal(size=n), rng.normal(size=k)
    inputs = dict(params, X=rng.normal(size=(T, m)), y=rng.integers(0, k, size=T))
    if trial % 2:
        inputs["s0"] = np.tanh(rng.normal(size=n))
    return inputs


def _step_inputs(rng):
    problem = _random_problem(rng, 0)
    return dict(problem, x=problem["X"][0], s=np.tanh(rng.normal(size=problem["W"].shape[0])))


def _output_delta_inputs(rng):
    T, k = (int(v) for v in rng.integers(1, 7, size=2))
    return {"O": ref.softmax(rng.normal(size=(T, k))), "y": rng.integers(0, k, size=T)}


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


PARTS = [
    Part("test_rnn_step", "rnn_step",
         call=_PARAMS_CODE + 'outputs = {"s": rnn_step(inputs["x"], inputs["s"], params)}',
         make_inputs=lambda rng, t: _step_inputs(rng),
         expected=lambda inp: {"s": ref.rnn_step(inp["x"], inp["s"], _params(inp))}, atol=1e-10),
    Part("test_rnn_forward", "rnn_forward",
         call=_PARAMS_CODE + _S0_CODE + 'S, O = rnn_forward(inputs["X"], params, s0)\noutputs = {"S": S, "O": O}',
         make_inputs=_random_problem,
         expected=lambda inp: dict(zip(("S", "O"), ref.rnn_forward(inp["X"], _params(inp), inp.get("s0")))),
         atol=1e-10),
    Part("test_output_delta", "output_delta",
         call='outputs = {"delta": output_delta(inputs["O"], inputs["y"])}',
         make_inputs=lambda rng, t: _output_delta_inputs(rng),
         expected=lambda inp: {"delta": ref.output_delta(inp["O"], inp["y"])}, atol=1e-12),
    Part("test_rnn_bptt", "rnn_bptt",
         call=(_PARAMS_CODE + _S0_CODE + 'cost, grads = rnn_bptt(inputs["X"], inputs["y"], params, s0)\n'
               'outputs = {"cost": cost, **{"d" + name: grads[name] for name in params}}'),
         make_inputs=_bptt_inputs, expected=_bptt_expected, atol=1e-9, trials=4),
]
