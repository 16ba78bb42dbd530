"""Verified checks for ps1_backprop: each graded function against course_lib.backprop."""

import numpy as np

import course_lib.backprop as ref
from autograder.parts import Part

# The student implements these references: they are not importable while grading.
BLOCKED = ("course_lib.backprop", "course_lib.gradcheck")


def _shape(rng, low=1, high=7, n=2):
    return tuple(int(v) for v in rng.integers(low, high, size=n))


def _layer(rng):
    N, n_in, n_out = _shape(rng, n=3)
    return {"a": rng.normal(size=(N, n_in)), "W": rng.normal(size=(n_out, n_in)),
            "b": rng.normal(size=n_out), "dz": rng.normal(size=(N, n_out))}


def _network(rng, trial):
    # trials 0 and 1 always have a hidden layer (BP2 must be exercised); later ones may have none
    n_sizes = 3 + trial % 2 if trial < 2 else int(rng.integers(2, 5))
    sizes = [int(s) for s in rng.integers(1, 6, size=n_sizes)]
    N = int(rng.integers(1, 6))
    weights, biases = ref.init_params(sizes, seed=int(rng.integers(1 << 30)))
    inputs = {"L": np.array(len(weights)), "x": rng.normal(size=(N, sizes[0])),
              "y": rng.uniform(size=(N, sizes[-1]))}
    for i, (W, b) in enumerate(zip(weights, biases)):
        inputs[f"W{i}"], inputs[f"b{i}"] = W, b
    return inputs


def _backprop_expected(inp):
    L = int(inp["L"])
    C, gW, gb = ref.backprop(inp["x"], inp["y"], [inp[f"W{i}"] for i in range(L)],
                             [inp[f"b{i}"] for i in range(L)], activation="sigmoid")
    out = {"C": np.array(C)}
    for i in range(L):
        out[f"gW{i}"], out[f"gb{i}"] = gW[i], gb[i]
    return out


def _output_delta_inputs(rng):
    N, k = _shape(rng)
    z = rng.normal(size=(N, k))
    return {"a_L": ref.sigmoid(z), "y": rng.uniform(size=(N, k)), "z": z}


PARTS = [
    Part("test_sigmoid_prime", "sigmoid_prime",
         call='outputs = {"y": sigmoid_prime(inputs["z"])}',
         make_inputs=lambda rng, t: {"z": rng.normal(scale=6.0, size=_shape(rng)) if t else np.array([-800.0, 0.0, 800.0])},
         expected=lambda inp: {"y": ref.sigmoid_prime(inp["z"])}, atol=1e-9),
    Part("test_affine_forward", "affine_forward",
         call='outputs = {"z": affine_forward(inputs["a"], inputs["W"], inputs["b"])[0]}',
         make_inputs=lambda rng, t: _layer(rng),
         expected=lambda inp: {"z": ref.affine_forward(inp["a"], inp["W"], inp["b"])[0]}, atol=1e-9),
    Part("test_affine_backward", "affine_backward",
         call=('da, dW, db = affine_backward(inputs["dz"], (inputs["a"], inputs["W"], inputs["b"]))\n'
               'outputs = {"da": da, "dW": dW, "db": db}'),
         make_inputs=lambda rng, t: _layer(rng),
         expected=lambda inp: dict(zip(("da", "dW", "db"), ref.affine_backward(
             inp["dz"], ref.affine_forward(inp["a"], inp["W"], inp["b"])[1]))), atol=1e-9),
    Part("test_output_delta", "output_delta",
         call='outputs = {"delta": output_delta(inputs["a_L"], inputs["y"], inputs["z"])}',
         make_inputs=lambda rng, t: _output_delta_inputs(rng),
         expected=lambda inp: {"delta": ref.output_delta(ref.quadratic_cost(inp["a_L"], inp["y"])[1], inp["z"], "sigmoid")},
         atol=1e-9),
    Part("test_backprop", "backprop",
         call=('L = int(inputs["L"])\n'
               'C, gW, gb = backprop(inputs["x"], inputs["y"], [inputs[f"W{i}"] for i in range(L)],\n'
               '                     [inputs[f"b{i}"] for i in range(L)])\n'
               'outputs = {"C": C}\n'
               'for i in range(L):\n'
               '    outputs[f"gW{i}"], outputs[f"gb{i}"] = gW[i], gb[i]'),
         make_inputs=_network, expected=_backprop_expected, atol=1e-9),
    Part("test_numerical_gradient", "numerical_gradient",
         call=('x = inputs["x"].copy()\n'
               'g = numerical_gradient(lambda v: float(np.sum(np.sin(v) * v)), x)\n'
               'outputs = {"grad": g, "x_after": x}'),
         make_inputs=lambda rng, t: {"x": rng.normal(size=_shape(rng, 1, 5, int(rng.integers(1, 4))))},
         expected=lambda inp: {"grad": np.sin(inp["x"]) + inp["x"] * np.cos(inp["x"]), "x_after": inp["x"]},
         atol=1e-6),
]
