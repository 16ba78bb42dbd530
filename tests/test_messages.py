"""The grader's message for a failed part: the smallest failing trial, its inputs, every output that differs."""

import numpy as np

from autograder.parts import Part, compare, describe_inputs
from autograder.verify import _npz, _trial_verdict

PART = Part("test_backprop", "backprop", call="", make_inputs=None, expected=None, atol=1e-9, rtol=1e-5)


def test_every_differing_output_is_named_with_its_worst_entry_only():
    rng = np.random.default_rng(0)
    want = {"C": np.array(0.25), "gW0": rng.normal(size=(10, 10)), "gb0": rng.normal(size=10)}
    got = {"C": np.array(0.25), "gW0": want["gW0"].copy(), "gb0": want["gb0"] * 2}
    got["gW0"][3, 7] += 0.5
    message = compare(PART, got, want)
    assert message.startswith("backprop: ") and "C " not in message
    assert f"worst at gW0[3, 7]: expected {want['gW0'][3, 7]:.6g}, yours {got['gW0'][3, 7]:.6g}" in message
    worst = int(np.argmax(np.abs(want["gb0"])))
    assert f"worst at gb0[{worst}]" in message
    # never the whole expected array: no other expected entry appears
    others = [f"{v:.6g}" for i, v in enumerate(want["gW0"].ravel()) if i != 37]
    assert not [v for v in others if v in message and len(v) > 5], message


def test_shapes_and_nan_are_named():
    want = {"out": np.zeros((2, 3)), "cache": np.zeros(3)}
    got = {"out": np.zeros((3, 2)), "cache": np.array([0.0, np.nan, 0.0])}
    message = compare(PART, got, want)
    assert "out has shape (3, 2), expected (2, 3)" in message and "cache contains NaN or inf (first at cache[1])" in message


def test_the_smallest_failing_trial_is_shown_with_its_inputs():
    inputs = [{"x": np.zeros((5, 4)), "L": np.array(2)}, {"x": np.zeros((2, 3)), "L": np.array(1)},
              {"x": np.zeros((1, 1)), "L": np.array(1)}]
    expected = [{"y": np.ones(3)}, {"y": np.ones(3)}, {"y": np.ones(3)}]
    results = {"0": {"npz": _npz({"y": np.zeros(3)})}, "1": {"npz": _npz({"y": np.zeros(3)})},
               "2": {"npz": _npz({"y": np.ones(3)})}}
    message = _trial_verdict(PART, results, inputs, expected)
    assert "(trial 2 of 3, 2 of 3 trials fail; inputs: x (2, 3), L = 1)" in message, message
    assert _trial_verdict(PART, {str(t): {"npz": _npz({"y": np.ones(3)})} for t in range(3)}, inputs, expected) == ""
    errors = {"0": {"error": "NotImplementedError"}, "1": {"npz": _npz({"y": np.ones(3)})}, "2": {"npz": _npz({"y": np.ones(3)})}}
    assert "backprop: NotImplementedError (trial 1 of 3, the only one that fails; inputs: x (5, 4), L = 2)" == \
        _trial_verdict(PART, errors, inputs, expected)


def test_small_inputs_show_their_values():
    assert describe_inputs({"name": np.array("dog.n.01"), "words": np.array(["car", "bus"]), "k": np.array(3),
                            "big": np.arange(10.0)}) == "name = 'dog.n.01', words = ['car', 'bus'], k = 3, big (10,)"
