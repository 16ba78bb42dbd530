"""The grader's messages in Chinese / 评分信息的中文: the CSV's ``message_zh`` and the feedback's verdict line.

The engine writes its reasons in English (verify.py, parts.py, forkserver.py); ``chinese`` rewrites
them phrase by phrase with the table below, so that a student reads why a part lost points in both
languages. Names, numbers, shapes and the students' own error text stay as they are; a phrase the
table does not know is left in English (tests/test_messages.py checks that the engine's usual
phrases are all known).
"""

from __future__ import annotations

import re

_PHRASES: list[tuple[str, str]] = [
    (r"(\S+) differs from the reference by up to (\S+) \(worst at ([^:]+): expected (\S+), yours (\S+); "
     r"atol=([^,]+), rtol=([^)]+)\)", r"\1 与参考答案最多相差 \2（差距最大处 \3：应为 \4，你的结果为 \5；atol=\6，rtol=\7）"),
    (r"; your result is (\w+): compute in float64 for full precision", r"；你的结果是 \1：请用 float64 计算以获得完整精度"),
    (r"(\S+) has shape (\([^)]*\)), expected (\([^)]*\))", r"\1 的形状为 \2，应为 \3"),
    (r"(\S+) has dtype (\S+), expected numbers", r"\1 的类型为 \2，应为数值"),
    (r"(\S+) contains NaN or inf \(first at ([^)]*)\)", r"\1 含有 NaN 或 inf（首次出现在 \2）"),
    (r"(\S+) is not the right answer", r"\1 不是正确答案"),
    (r"no value for '([^']+)' came back", r"没有返回 '\1' 的值"),
    (r"(\d+) values came back, expected (\d+)", r"返回了 \1 个值，应为 \2 个"),
    (r"trial (\d+) of (\d+), the only one that fails", r"第 \1 次试验（共 \2 次），唯一失败的一次"),
    (r"trial (\d+) of (\d+), (\d+) of \2 trials fail", r"第 \1 次试验（共 \2 次），\2 次中有 \3 次失败"),
    (r"\binputs: ", "输入："),
    (r"the check did not finish", "检查没有完成"),
    (r"the check never ran", "检查没有运行"),
    (r"the check ran past ([\d.]+) s", r"检查运行超过 \1 秒"),
    (r"the visible tests ran past ([\d.]+) s", r"可见测试运行超过 \1 秒"),
    (r"ran past the cell time limit and was interrupted", "超过单元运行时限，已被中断"),
    (r"ran past ([\d.]+) s", r"运行超过 \1 秒"),
    (r"; it was skipped", "；已跳过"),
    (r"\berror in ", "出错："),
    (r"\(and (\d+) more\)", r"（另有 \1 处）"),
    (r"([\d.]+) point\(s\) are graded by hand", r"\1 分由人工评分"),
    (r"and (\d+) more failing part\(s\)", r"另有 \1 个部分未通过"),
    (r"no verified check for this cell", "此单元没有经过验证的检查"),
    (r"restored deleted test cells: ", "已恢复被删除的测试单元："),
    (r"not yet in the gradebook", "尚未写入成绩册"),
    (r"\bisolation: ", "隔离："),
    (r"is not available while this assignment is graded", "在评分期间不可用"),
]
_COMPILED = [(re.compile(p), r) for p, r in _PHRASES]


def chinese(message: str) -> str:
    """The Chinese reading of one of the grader's English messages ('' stays '')."""
    out = message
    for pattern, replacement in _COMPILED:
        out = pattern.sub(replacement, out)
    return out.replace("; ", "；")
