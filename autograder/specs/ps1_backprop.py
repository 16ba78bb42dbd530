"""Verified checks for ps1_backprop: each graded function against course_lib.backprop."""

import numpy as np

import course_lib.backprop as ref
from autograder.parts import Part

# What this assignment grades, and every re-implementation of it a submission could reach: stubbed out
# of the library the sandbox sees (autograder/strip.py); everything else stays importable.
# Siblings: activation_backward(1, (z, "sigmoid")) is σ′; weight_gradient, bias_gradient and hidden_delta are
# BP2-BP4 (affine_backward, backprop); quadratic_cost is C and ∇ₐC (output_delta, backprop); forward is
# backprop's forward pass; MLP.loss_and_grads is backprop; numerical_gradient_array(f, x, 1.0) is
# numerical_gradient.  sigmoid, tanh, relu, init_params and rel_error stay (check_gradient refuses: it
# calls numerical_gradient).
GRADED = {
    "course_lib.backprop": ("sigmoid_prime", "activation_backward", "affine_forward", "affine_backward",
                            "quadratic_cost", "output_delta", "hidden_delta", "bias_gradient", "weight_gradient",
                            "forward", "backprop", "MLP"),
    "course_lib.gradcheck": ("numerical_gradient", "numerical_gradient_array"),
}


def _shape(rng, low=1, high=7, n=2):
    return tuple(int(v) for v in rng.integers(low, high, size=n))


def _layer(rng, trial):
    # trial 0 is a batch of N >= 2 rows, where a sum over the batch and a mean differ
    N, n_in, n_out = (int(v) for v in rng.integers([2 if trial == 0 else 1, 1, 1], 7))
    return {"a": rng.normal(size=(N, n_in)), "W": rng.normal(size=(n_out, n_in)),
            "b": rng.normal(size=n_out), "dz": rng.normal(size=(N, n_out))}


def _network(rng, trial):
    # trials 0 and 1 always have a hidden layer (BP2 must be exercised); later ones may have none
    n_sizes = 3 + trial % 2 if trial < 2 else int(rng.integers(2, 5))
    sizes = [int(s) for s in rng.integers(1, 6, size=n_sizes)]
    N = int(rng.integers(2 if trial < 2 else 1, 6))   # trials 0 and 1: a batch (C is a mean over N >= 2)
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


def _backprop_calls(inp):
    """The notebook's helpers as a correct backprop may call them on this network, with the reference's results:
    affine_forward and sigmoid_prime of every layer, output_delta, and affine_backward of every layer."""
    L = int(inp["L"])
    Ws, bs = [inp[f"W{i}"] for i in range(L)], [inp[f"b{i}"] for i in range(L)]
    calls, a, caches, zs = [], inp["x"], [], []
    for W, b in zip(Ws, bs):
        z, cache = ref.affine_forward(a, W, b)
        calls += [("affine_forward", (a, W, b), (z, cache)), ("sigmoid_prime", (z,), ref.sigmoid_prime(z))]
        caches.append(cache)
        zs.append(z)
        a = ref.sigmoid(z)
    delta = ref.output_delta(ref.quadratic_cost(a, inp["y"])[1], zs[-1], "sigmoid")
    calls.append(("output_delta", (a, inp["y"], zs[-1]), delta))
    for l in range(L - 1, -1, -1):
        da, dW, db = ref.affine_backward(delta, caches[l])
        calls.append(("affine_backward", (delta, caches[l]), (da, dW, db)))
        if l > 0:
            delta = da * ref.sigmoid_prime(zs[l - 1])
    return calls


def _output_delta_inputs(rng, trial):
    N, k = (int(v) for v in rng.integers([2 if trial == 0 else 1, 1], 7))   # trial 0: N >= 2 (the 1/N shows)
    z = rng.normal(size=(N, k))
    return {"a_L": ref.sigmoid(z), "y": rng.uniform(size=(N, k)), "z": z}


def _gradient_inputs(rng, trial):
    """x of 1 to 3 dimensions; in trial 0 one entry is 0, where f = sum(sin(x) x) has gradient 0 but f'' = 2.

    A centred difference with h in 1e-6..1e-4 is within ~1e-8 of the gradient (truncation h^2 |f'''| / 6,
    rounding ~1e-16 |f| / h); a forward difference is off by h f'' / 2 = 1e-5 at that entry, far above
    atol = rtol = 1e-7.
    """
    x = rng.normal(size=_shape(rng, 1, 5, int(rng.integers(1, 4))))
    if trial == 0:
        x.flat[int(rng.integers(x.size))] = 0.0
    return {"x": x}


PARTS = [
    Part("test_sigmoid_prime", "sigmoid_prime",
         call='outputs = {"y": sigmoid_prime(inputs["z"])}',
         make_inputs=lambda rng, t: {"z": rng.normal(scale=6.0, size=_shape(rng)) if t else np.array([-800.0, 0.0, 800.0])},
         expected=lambda inp: {"y": ref.sigmoid_prime(inp["z"])}, atol=1e-9),
    Part("test_affine_forward", "affine_forward",
         call='outputs = {"z": affine_forward(inputs["a"], inputs["W"], inputs["b"])[0]}',
         make_inputs=_layer,
         expected=lambda inp: {"z": ref.affine_forward(inp["a"], inp["W"], inp["b"])[0]}, atol=1e-9),
    Part("test_affine_backward", "affine_backward",
         call=('da, dW, db = affine_backward(inputs["dz"], (inputs["a"], inputs["W"], inputs["b"]))\n'
               'outputs = {"da": da, "dW": dW, "db": db}'),
         make_inputs=_layer,
         expected=lambda inp: dict(zip(("da", "dW", "db"), ref.affine_backward(
             inp["dz"], ref.affine_forward(inp["a"], inp["W"], inp["b"])[1]))), atol=1e-9,
         credit=(("da",), ("dW",), ("db",))),
    Part("test_output_delta", "output_delta",
         call='outputs = {"delta": output_delta(inputs["a_L"], inputs["y"], inputs["z"])}',
         make_inputs=_output_delta_inputs,
         expected=lambda inp: {"delta": ref.output_delta(ref.quadratic_cost(inp["a_L"], inp["y"])[1], inp["z"], "sigmoid")},
         atol=1e-9, stand_ins=lambda inp: [("sigmoid_prime", (inp["z"],), ref.sigmoid_prime(inp["z"]))]),
    Part("test_backprop", "backprop",
         call=('L = int(inputs["L"])\n'
               'C, gW, gb = backprop(inputs["x"], inputs["y"], [inputs[f"W{i}"] for i in range(L)],\n'
               '                     [inputs[f"b{i}"] for i in range(L)])\n'
               'outputs = {"C": C}\n'
               'for i in range(L):\n'
               '    outputs[f"gW{i}"], outputs[f"gb{i}"] = gW[i], gb[i]'),
         make_inputs=_network, expected=_backprop_expected, atol=1e-9, stand_ins=_backprop_calls,
         credit=(("C",), ("gW*",), ("gb*",))),
    Part("test_numerical_gradient", "numerical_gradient",
         call=('x = inputs["x"].copy()\n'
               'g = numerical_gradient(lambda v: float(np.sum(np.sin(v) * v)), x)\n'
               'outputs = {"grad": g, "x_after": x}'),
         make_inputs=_gradient_inputs,
         expected=lambda inp: {"grad": np.sin(inp["x"]) + inp["x"] * np.cos(inp["x"]), "x_after": inp["x"]},
         atol=1e-7, rtol=1e-7),
]
