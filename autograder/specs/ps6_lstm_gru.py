"""Verified checks for ps6_lstm_gru: each graded function against course_lib.gated.

The first trial of the three step parts is lecture 06's tiny example (n = m = 3, B = 1, the weights the
lecture draws with ``np.random.default_rng(6)`` / ``(7)`` and rounds to one decimal); the others draw random
shapes.  ``gradient_errors`` is checked the way its hidden test does it: on a correct LSTM step (its errors
must be as small as the reference checker's) and on a deliberately broken backward pass (one parameter
gradient zeroed, one of dx / dh_prev / dc_prev rescaled), whose errors must be those of
``course_lib.gradcheck.rel_error`` against the true gradient, and tiny everywhere else.  The step functions
it is given are defined by the check itself (a copy of the reference step), so this part does not depend
on the student's own LSTM.
"""

import numpy as np

import course_lib.gated as ref
from autograder.parts import Part
from course_lib.gradcheck import numerical_gradient, rel_error

# What this assignment grades, and every re-implementation of it a submission could reach: stubbed out
# of the library the sandbox sees (autograder/strip.py); everything else stays importable.
# (course_lib.gradcheck and course_lib.checks are imported by the notebook's locked set-up cell.)
# Siblings: every sigmoid of course_lib, and exp(word2vec._log_sigmoid); lstm_forward, lstm_backward and
# stacked_lstm_forward over one step are lstm_step_forward and its backward pass; gru_forward over one
# step is gru_step_forward.  Not graded here: the GRU's backward pass, course_lib.long_range (torch's
# gates, from zero states).
GRADED = {
    "course_lib.gated": ("sigmoid", "lstm_step_forward", "_lstm_step", "lstm_step_backward", "lstm_forward",
                         "lstm_backward", "stacked_lstm_forward", "gru_step_forward", "_gru_step", "gru_forward"),
    "course_lib.backprop": ("sigmoid",),
    "course_lib.word2vec": ("sigmoid", "_log_sigmoid"),
}

LSTM_NAMES = ref.LSTM_PARAM_NAMES          # W_f, W_i, W_c, W_o, b_f, b_i, b_c, b_o
GRU_NAMES = ref.GRU_PARAM_NAMES            # W_z, W_r, W_h, b_z, b_r, b_h
INPUT_NAMES = ("x_t", "h_prev", "c_prev")


# --------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------

def _lecture_example(kind: str) -> dict:
    """Lecture 06's example (notebooks/06_lstm_gru.ipynb): the same draws, the same rounding."""
    rng = np.random.default_rng(6 if kind == "lstm" else 7)
    gates = "fico" if kind == "lstm" else "zrh"
    params = {f"W_{g}": np.round(rng.uniform(-1, 1, (3, 6)), 1) + 0.0 for g in gates}
    params.update({f"b_{g}": np.zeros(3) for g in gates})
    if kind == "lstm":
        params["b_f"] = np.ones(3)
        params["c"] = np.array([[0.3, -0.2, 0.5]])
    return dict(params, x=np.array([[0.4, 0.5, 0.6]]), h=np.array([[0.1, 0.2, 0.3]]))


def _sizes(rng, trial):
    B, m, n = (int(v) for v in rng.integers(1, 6, size=3))
    if trial == 1:
        B = int(rng.integers(2, 6))        # at least one batch of several rows: sums over the batch
    return B, m, n


def _lstm_problem(rng, trial, forget_bias=None):
    B, m, n = _sizes(rng, trial)
    params = ref.init_lstm_params(m, n, rng, scale=0.8,
                                  forget_bias=float(rng.normal()) if forget_bias is None else forget_bias)
    for k in ("b_i", "b_c", "b_o"):
        params[k] = rng.normal(size=n)
    return dict(params, x=rng.normal(size=(B, m)), h=rng.normal(size=(B, n)), c=rng.normal(size=(B, n)))


def _lstm_forward_inputs(rng, trial):
    return _lecture_example("lstm") if trial == 0 else _lstm_problem(rng, trial)


def _lstm_backward_inputs(rng, trial):
    problem = _lecture_example("lstm") if trial == 0 else _lstm_problem(rng, trial)
    shape = problem["h"].shape
    return dict(problem, dh=rng.normal(size=shape), dc=rng.normal(size=shape))


def _gru_inputs(rng, trial):
    if trial == 0:
        return _lecture_example("gru")
    B, m, n = _sizes(rng, trial)
    params = ref.init_gru_params(m, n, rng, scale=0.8)
    for k in ("b_z", "b_r", "b_h"):
        params[k] = rng.normal(size=n)
    if trial == 2:
        params["b_z"] = np.full(n, -60.0)   # the update gate closed (z = 0): h_t = h_{t-1}
    return dict(params, x=rng.normal(size=(B, m)), h=rng.normal(size=(B, n)))


# --------------------------------------------------------------------------
# gradient_errors: the reference recipe (course_lib.gated + course_lib.gradcheck)
# --------------------------------------------------------------------------

def _reference_errors(inp, broken: bool) -> np.ndarray:
    """rel_error(backward's gradient, centred difference) for LSTM_NAMES + INPUT_NAMES, in that order."""
    params = {k: np.array(inp[k], dtype=float) for k in LSTM_NAMES}
    arrays = {"x_t": np.array(inp["x"], dtype=float), "h_prev": np.array(inp["h"], dtype=float),
              "c_prev": np.array(inp["c"], dtype=float)}
    dh, dc = inp["dh"], inp["dc"]

    def loss(_):
        h, c, _ = ref.lstm_step_forward(arrays["x_t"], arrays["h_prev"], arrays["c_prev"], params)
        return float(np.sum(h * dh) + np.sum(c * dc))

    _, _, cache = ref.lstm_step_forward(arrays["x_t"], arrays["h_prev"], arrays["c_prev"], params)
    dx, dh_prev, dc_prev, grads = ref.lstm_step_backward(dh, dc, cache)
    analytic = dict(grads, x_t=dx, h_prev=dh_prev, c_prev=dc_prev)
    if broken:
        zero = LSTM_NAMES[int(inp["zero"])]
        scaled = INPUT_NAMES[int(inp["scaled"])]
        analytic[zero] = 0 * analytic[zero]
        analytic[scaled] = float(inp["scale"]) * analytic[scaled]
    everything = dict(params, **arrays)
    return np.array([rel_error(analytic[k], numerical_gradient(loss, everything[k]))
                     for k in LSTM_NAMES + INPUT_NAMES])


def _gradient_errors_inputs(rng, trial):
    # A well-conditioned problem: the reference checker's errors on the correct step are all below 1e-8
    # (random draws with a gradient entry near 0 give relative errors of 1e-6 and more for a correct
    # backward pass, which would make the comparison depend on rounding).
    while True:
        inp = _lstm_backward_inputs(rng, 1 + trial)        # random shapes, never the lecture example
        inp.update(zero=np.array(int(rng.integers(len(LSTM_NAMES)))),
                   scaled=np.array(int(rng.integers(len(INPUT_NAMES)))),
                   scale=np.array(float(rng.choice([-1.0, 1.0]) * rng.uniform(0.2, 0.8))))
        if np.max(_reference_errors(inp, broken=False)) < 1e-8:
            return inp


def _gradient_errors_expected(inp):
    return {"n_keys": np.array([len(LSTM_NAMES) + 3] * 2),
            "good": _reference_errors(inp, broken=False), "bad": _reference_errors(inp, broken=True)}


# --------------------------------------------------------------------------
# The snippets run in the sandbox
# --------------------------------------------------------------------------

_LSTM_PARAMS_CODE = ('params = {k: inputs[k] for k in ("W_f", "W_i", "W_c", "W_o", "b_f", "b_i", "b_c", "b_o")}\n')

_SIGMOID_CALL = """\
import numpy as _np
with _np.errstate(over="raise"):
    outputs = {"y": sigmoid(inputs["z"].copy()), "y_neg": sigmoid(-inputs["z"])}
"""

_BACKWARD_CALL = _LSTM_PARAMS_CODE + """\
_, _, cache = lstm_step_forward(inputs["x"], inputs["h"], inputs["c"], params)
dx, dh_prev, dc_prev, grads = lstm_step_backward(inputs["dh"], inputs["dc"], cache)
outputs = {"dx": dx, "dh_prev": dh_prev, "dc_prev": dc_prev, **{"d" + k: grads[k] for k in params}}
"""

# A copy of course_lib.gated's LSTM step (the reference module itself is blocked in the sandbox), a
# broken backward pass, and two calls of the student's checker.
_GRADIENT_ERRORS_CALL = """\
import numpy as _np
_NAMES = ("W_f", "W_i", "W_c", "W_o", "b_f", "b_i", "b_c", "b_o")


def _sig(z):
    e = _np.exp(-_np.abs(z))
    return _np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _step(x_t, h_prev, c_prev, params):
    a = _np.concatenate([h_prev, x_t], axis=1)
    f, i, o = (_sig(a @ params["W_" + k].T + params["b_" + k]) for k in "fio")
    g = _np.tanh(a @ params["W_c"].T + params["b_c"])
    c = f * c_prev + i * g
    tanh_c = _np.tanh(c)
    return o * tanh_c, c, (a, c_prev, f, i, g, o, tanh_c, params)


def _step_backward(dh_t, dc_t, cache):
    a, c_prev, f, i, g, o, tanh_c, p = cache
    n = f.shape[1]
    dc = dc_t + dh_t * o * (1.0 - tanh_c ** 2)
    deltas = {"f": dc * c_prev * f * (1.0 - f), "i": dc * g * i * (1.0 - i),
              "c": dc * i * (1.0 - g ** 2), "o": dh_t * tanh_c * o * (1.0 - o)}
    grads, da = {}, 0.0
    for k, d in deltas.items():
        grads["W_" + k], grads["b_" + k] = d.T @ a, d.sum(axis=0)
        da = da + d @ p["W_" + k]
    return da[:, n:], da[:, :n], dc * f, {k: grads[k] for k in _NAMES}


_zero, _scaled, _scale = _NAMES[int(inputs["zero"])], int(inputs["scaled"]), float(inputs["scale"])


def _broken_backward(dh_t, dc_t, cache):
    out = list(_step_backward(dh_t, dc_t, cache))
    out[3] = dict(out[3])
    out[3][_zero] = 0 * out[3][_zero]
    out[_scaled] = _scale * out[_scaled]
    return tuple(out)


def _args():
    return (inputs["x"].copy(), inputs["h"].copy(), inputs["c"].copy(), {k: inputs[k].copy() for k in _NAMES},
            inputs["dh"].copy(), inputs["dc"].copy())


_keys = _NAMES + ("x_t", "h_prev", "c_prev")
_good = gradient_errors(_step, _step_backward, *_args())
_bad = gradient_errors(_step, _broken_backward, *_args())
def _as_array(values):   # the student's numbers in their own precision (float32 is judged as float32)
    values = [_np.asarray(v) for v in values]
    values = [v if v.dtype.kind == "f" else v.astype(float) for v in values]
    return _np.array(values, dtype=min({v.dtype for v in values}, key=lambda d: d.itemsize))


outputs = {"n_keys": [len(_good), len(_bad)],
           "good": _as_array([_good[k] for k in _keys]), "bad": _as_array([_bad[k] for k in _keys])}
"""


def _sigmoid_inputs(rng, trial):
    if trial == 0:   # no overflow anywhere (np.errstate(over="raise") in the check), exact 0.5 at 0
        return {"z": np.array([-1000.0, -800.0, -40.0, -2.0, 0.0, 2.0, 40.0, 800.0, 1000.0])}
    shape = tuple(int(v) for v in rng.integers(1, 6, size=int(rng.integers(1, 4))))
    return {"z": 30.0 * rng.standard_normal(shape)}


def _params(inp, names):
    return {k: inp[k] for k in names}


# Stand-ins (autograder/sealed.py): the calls a correct answer makes to the notebook's other graded
# functions, with the reference's results, so that each part's score depends on its own function alone.

def _gate_calls(inp, gates):
    """The step's sigmoid on each gate's pre-activation [h_prev, x_t] W_g^T + b_g."""
    a = np.concatenate([inp["h"], inp["x"]], axis=1)
    return [("sigmoid", (z,), ref.sigmoid(z)) for z in (a @ inp["W_" + g].T + inp["b_" + g] for g in gates)]


def _forward_calls(inp):
    """lstm_step_backward is graded on the reference's cache: lstm_step_forward answers as the reference."""
    params = _params(inp, LSTM_NAMES)
    return [("lstm_step_forward", (inp["x"], inp["h"], inp["c"], params),
             ref.lstm_step_forward(inp["x"], inp["h"], inp["c"], params))]


PARTS = [
    Part("test_sigmoid", "sigmoid",
         call=_SIGMOID_CALL,
         make_inputs=_sigmoid_inputs,
         expected=lambda inp: {"y": ref.sigmoid(inp["z"]), "y_neg": ref.sigmoid(-inp["z"])},
         atol=1e-12, rtol=1e-10),
    Part("test_lstm_step_forward", "lstm_step_forward",
         call=_LSTM_PARAMS_CODE + ('h_t, c_t, _ = lstm_step_forward(inputs["x"], inputs["h"], inputs["c"], params)\n'
                                   'outputs = {"h": h_t, "c": c_t}'),
         make_inputs=_lstm_forward_inputs,
         expected=lambda inp: dict(zip(("h", "c"), ref.lstm_step_forward(inp["x"], inp["h"], inp["c"],
                                                                 _params(inp, LSTM_NAMES))[:2])),
         atol=1e-10, trials=4, stand_ins=lambda inp: _gate_calls(inp, "fio"), credit=(("h",), ("c",))),
    Part("test_lstm_step_backward", "lstm_step_backward",
         call=_BACKWARD_CALL,
         make_inputs=_lstm_backward_inputs,
         expected=lambda inp: (lambda dx, dh, dc, g: {"dx": dx, "dh_prev": dh, "dc_prev": dc,
                                                       **{"d" + k: g[k] for k in LSTM_NAMES}})(
             *ref.lstm_step_backward(inp["dh"], inp["dc"], ref.lstm_step_forward(inp["x"], inp["h"], inp["c"],
                                                                         _params(inp, LSTM_NAMES))[2])),
         atol=1e-9, trials=4, stand_ins=_forward_calls,
         credit=(("dx",), ("dh_prev",), ("dc_prev",), ("dW_*",), ("db_*",))),
    Part("test_gru_step_forward", "gru_step_forward",
         call=('params = {k: inputs[k] for k in ("W_z", "W_r", "W_h", "b_z", "b_r", "b_h")}\n'
               'outputs = {"h": gru_step_forward(inputs["x"], inputs["h"], params)}'),
         make_inputs=_gru_inputs,
         expected=lambda inp: {"h": ref.gru_step_forward(inp["x"], inp["h"], _params(inp, GRU_NAMES))[0]},
         atol=1e-10, trials=4, stand_ins=lambda inp: _gate_calls(inp, "zr")),
    Part("test_gradient_errors", "gradient_errors",
         call=_GRADIENT_ERRORS_CALL,
         make_inputs=_gradient_errors_inputs,
         expected=_gradient_errors_expected,
         atol=1e-6, rtol=1e-5),
]
