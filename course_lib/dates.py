"""A synthetic translation task / 合成翻译任务: human-written dates → ISO 8601.

Used by notebooks/08_seq2seq_attention.ipynb, by the assignment
ps8_seq2seq_attention and by benchmarks/bench_seq2seq.py.  Public NMT data
needs a download and hours of GPU time; this task needs neither, yet it has
what makes translation hard for an encoder–decoder / 编码器–解码器:

- source and target have different lengths (unaligned sequential pairs / 非对齐序列对);
- the order changes: "Nov 22, 2026" → "2026-11-22" puts the year first;
- words become numbers ("November" → "11"), numbers change length ("'26" → "2026")
  and some source characters are noise to be ignored (the weekday, "the", "of").

One example is a text holding 1 to ``max_dates`` dates, each written in one of
the FORMATS below, joined by a connective ("22 Nov 2026 and 3/1/27"); the
target is the ISO dates in the same order, separated by spaces
("2026-11-22 2027-03-01").  With one date the information to carry is fixed
(about 16 bits); with several dates it grows with the input — which is what a
fixed-length context vector / 定长上下文向量 cannot keep up with.

Conventions (each format is unambiguous, so a perfect score is possible):
slashes are US month/day ("11/22/26"), dots are European day.month
("22.11.2026"), two-digit years pivot at 50 ("'49" → 2049, "'50" → 1950,
like many spreadsheets), dates are drawn uniformly from 1950-01-01 to
2049-12-31, and weekdays are the true ones for that date.

Everything is deterministic given ``seed``: ``make_splits(seed=...)`` returns
the same train / validation / test pairs on every machine, and no source text
occurs in two splits.
"""

from __future__ import annotations

import datetime as _dt

import numpy as np

__all__ = ["FORMATS", "CONNECTIVES", "MONTHS", "WEEKDAYS", "format_date", "to_iso", "random_date",
           "make_example", "make_pairs", "make_splits", "describe", "accuracy_by_date"]

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
WEEKDAYS_ZH = ["星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"]
CONNECTIVES = [" and ", ", ", " to ", " then ", "; "]

_FIRST = _dt.date(1950, 1, 1).toordinal()
_LAST = _dt.date(2049, 12, 31).toordinal()


def _ordinal(day: int) -> str:
    """1 → "1st", 2 → "2nd", 11 → "11th", 22 → "22nd"."""
    if 11 <= day % 100 <= 13:
        return f"{day}th"
    return f"{day}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(day % 10, 'th') }"


def _yy(year: int) -> str:
    return f"{year % 100:02d}"


# Each format: name -> function(date) -> text.  The name documents the pattern
# (d = day, m = month number, MMM/MMMM = month name, yy/yyyy = year, www/wwww = weekday).
FORMATS = {
    "d MMM yyyy":            lambda d: f"{d.day} {MONTHS[d.month - 1][:3]} {d.year}",
    "d MMMM yyyy":           lambda d: f"{d.day} {MONTHS[d.month - 1]} {d.year}",
    "MMM d, yyyy":           lambda d: f"{MONTHS[d.month - 1][:3]} {d.day}, {d.year}",
    "MMMM d, yyyy":          lambda d: f"{MONTHS[d.month - 1]} {d.day}, {d.year}",
    "wwww, MMMM d, yyyy":    lambda d: f"{WEEKDAYS[d.weekday()]}, {MONTHS[d.month - 1]} {d.day}, {d.year}",
    "www d MMM yyyy":        lambda d: f"{WEEKDAYS[d.weekday()][:3]} {d.day} {MONTHS[d.month - 1][:3]} {d.year}",
    "m/d/yy":                lambda d: f"{d.month}/{d.day}/{_yy(d.year)}",
    "mm/dd/yyyy":            lambda d: f"{d.month:02d}/{d.day:02d}/{d.year}",
    "dd.mm.yyyy":            lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}",
    "yyyy-mm-dd":            lambda d: d.isoformat(),
    "yyyymmdd":              lambda d: f"{d.year}{d.month:02d}{d.day:02d}",
    "the dth of MMMM yyyy":  lambda d: f"the {_ordinal(d.day)} of {MONTHS[d.month - 1]} {d.year}",
    "MMMM dth, yyyy":        lambda d: f"{MONTHS[d.month - 1]} {_ordinal(d.day)}, {d.year}",
    "d-MMM-yy":              lambda d: f"{d.day}-{MONTHS[d.month - 1][:3]}-{_yy(d.year)}",
    "MMM d 'yy":             lambda d: f"{MONTHS[d.month - 1][:3].lower()} {d.day} '{_yy(d.year)}",
    "wwww dth MMMM yyyy":    lambda d: f"{WEEKDAYS[d.weekday()]} {_ordinal(d.day)} {MONTHS[d.month - 1]} {d.year}",
    "yyyy年m月d日":           lambda d: f"{d.year}年{d.month}月{d.day}日",
    "yyyy年m月d日 星期w":      lambda d: f"{d.year}年{d.month}月{d.day}日 {WEEKDAYS_ZH[d.weekday()]}",
}
_CASES = ("as is", "lower", "upper")


def to_iso(date: _dt.date) -> str:
    """The target: ISO 8601 "yyyy-mm-dd"."""
    return date.isoformat()


def format_date(date: _dt.date, fmt: str, case: str = "as is") -> str:
    """``date`` written in format ``fmt`` (a key of FORMATS); ``case`` is "as is", "lower" or "upper"."""
    if fmt not in FORMATS:
        raise ValueError(f"fmt: expected one of {list(FORMATS)}, got {fmt!r}")
    if case not in _CASES:
        raise ValueError(f"case: expected one of {_CASES}, got {case!r}")
    text = FORMATS[fmt](date)
    return {"as is": text, "lower": text.lower(), "upper": text.upper()}[case]


def random_date(rng) -> _dt.date:
    """A date drawn uniformly from 1950-01-01..2049-12-31 (``rng``: numpy Generator or int seed)."""
    rng = np.random.default_rng(rng)
    return _dt.date.fromordinal(int(rng.integers(_FIRST, _LAST + 1)))


def make_example(rng, max_dates: int = 1, min_dates: int = 1) -> tuple[str, str, list[dict]]:
    """One (source, target) pair with ``min_dates..max_dates`` dates.

    Args:
        rng: numpy Generator (advanced in place) or int seed.
        max_dates, min_dates: how many dates the text holds, drawn uniformly.

    Returns:
        source: e.g. "Sunday, November 22, 2026 and 3/1/27".
        target: e.g. "2026-11-22 2027-03-01".
        parts: one dict per date: "date" (datetime.date), "format", "case",
            "span" ((start, stop) of its text in ``source``).
    """
    if not 1 <= min_dates <= max_dates:
        raise ValueError(f"expected 1 <= min_dates <= max_dates, got min_dates={min_dates}, max_dates={max_dates}")
    rng = np.random.default_rng(rng)
    names = list(FORMATS)
    n = int(rng.integers(min_dates, max_dates + 1))
    source, targets, parts = "", [], []
    for i in range(n):
        if i:
            source += CONNECTIVES[int(rng.integers(len(CONNECTIVES)))]
        date = random_date(rng)
        fmt = names[int(rng.integers(len(names)))]
        case = _CASES[int(rng.choice(3, p=[0.7, 0.2, 0.1]))]
        text = format_date(date, fmt, case)
        parts.append({"date": date, "format": fmt, "case": case, "span": (len(source), len(source) + len(text))})
        source += text
        targets.append(to_iso(date))
    return source, " ".join(targets), parts


def make_pairs(n: int, seed: int = 0, max_dates: int = 1, min_dates: int = 1, exclude=(),
               with_parts: bool = False) -> list[tuple]:
    """``n`` distinct (source, target) pairs, none of whose sources is in ``exclude``.

    With ``with_parts`` each item is (source, target, parts) (see ``make_example``).
    """
    rng = np.random.default_rng(seed)
    seen = set(exclude)
    pairs = []
    while len(pairs) < n:
        source, target, parts = make_example(rng, max_dates, min_dates)
        if source not in seen:
            seen.add(source)
            pairs.append((source, target, parts) if with_parts else (source, target))
    return pairs


def make_splits(n_train: int = 20000, n_val: int = 1000, n_test: int = 2000, seed: int = 0,
                max_dates: int = 1, min_dates: int = 1, with_parts: bool = False) -> dict[str, list[tuple]]:
    """Train / validation / test pairs drawn from one seeded stream; no source occurs twice.

    Returns:
        {"train": [...], "val": [...], "test": [...]}, lists of (source, target) strings
        (or (source, target, parts) with ``with_parts``).
    """
    for name, value in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test)):
        if value < 0:
            raise ValueError(f"{name}: expected a count >= 0, got {value}")
    pairs = make_pairs(n_train + n_val + n_test, seed, max_dates, min_dates, with_parts=with_parts)
    return {"train": pairs[:n_train], "val": pairs[n_train:n_train + n_val],
            "test": pairs[n_train + n_val:]}


def describe() -> list[tuple[str, str]]:
    """(format name, the example 22 Nov 2026 written in it) for every format."""
    example = _dt.date(2026, 11, 22)
    return [(name, format_date(example, name)) for name in FORMATS]


def accuracy_by_date(predictions, targets) -> list[dict]:
    """Exact match of each date separately, by how many dates the target holds and where.

    The i-th date of a prediction is its i-th space-separated part (missing parts count as wrong).

    Returns:
        one dict per (n_dates, position): "n_dates", "position" (1-based), "n" (examples), "exact".
    """
    if len(predictions) != len(targets):
        raise ValueError(f"expected as many predictions as targets, got {len(predictions)} and {len(targets)}")
    hits: dict[tuple[int, int], list[bool]] = {}
    for prediction, target in zip(predictions, targets):
        wanted, got = target.split(" "), prediction.split(" ")
        for i, date in enumerate(wanted):
            hits.setdefault((len(wanted), i + 1), []).append(i < len(got) and got[i] == date)
    return [{"n_dates": k, "position": i, "n": len(v), "exact": float(np.mean(v))}
            for (k, i), v in sorted(hits.items())]
