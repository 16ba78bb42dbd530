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


# ---------------------------------------------------------------- the grader's messages in Chinese
def test_the_graders_usual_phrases_read_in_chinese():
    import re

    from autograder.zh import chinese
    cases = {
        "backprop: gW0 differs from the reference by up to 0.31 (worst at gW0[3, 7]: expected 0.125, yours -0.2; "
        "atol=1e-06, rtol=1e-05) (trial 2 of 3, 2 of 3 trials fail; inputs: x (2, 3), L = 1)":
            "gW0 与参考答案最多相差 0.31（差距最大处 gW0[3, 7]：应为 0.125，你的结果为 -0.2；atol=1e-06，rtol=1e-05）"
            " (第 2 次试验（共 3 次），3 次中有 2 次失败；输入：x (2, 3), L = 1)",
        "affine_forward: out has shape (3, 2), expected (2, 3)": "out 的形状为 (3, 2)，应为 (2, 3)",
        "cache contains NaN or inf (first at cache[1])": "cache 含有 NaN 或 inf（首次出现在 cache[1]）",
        "sgns: loss is not the right answer (trial 1 of 3, the only one that fails)":
            "loss 不是正确答案 (第 1 次试验（共 3 次），唯一失败的一次)",
        "rnn_bptt: the check did not finish": "检查没有完成",
        "3 point(s) are graded by hand": "3 分由人工评分",
        "cell 4 ran past the cell time limit and was interrupted": "超过单元运行时限，已被中断",
        "and 2 more failing part(s)": "另有 2 个部分未通过",
        "no verified check for this cell": "此单元没有经过验证的检查",
    }
    for english, chinese_part in cases.items():
        assert chinese_part in chinese(english), (english, chinese(english))
    english_words = re.compile(r"\b(?:differs|expected|yours|trial|trials|inputs|check|points?|graded|"
                               r"interrupted|failing|verified)\b")
    for english in cases:
        assert not english_words.search(chinese(english)), chinese(english)
    assert chinese("") == ""
