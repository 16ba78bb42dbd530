"""Tests for course_lib.dates: the synthetic date-normalisation task.

The oracle is Python's own date parser: every format is read back with
datetime.strptime (after removing ordinal suffixes and applying the 2-digit
year pivot), and the result must equal the ISO target.  Splits are checked
for determinism and for no source text occurring twice.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib import dates

# format name -> strptime pattern that reads it back (an independent parser)
STRPTIME = {
    "d MMM yyyy": "%d %b %Y",
    "d MMMM yyyy": "%d %B %Y",
    "MMM d, yyyy": "%b %d, %Y",
    "MMMM d, yyyy": "%B %d, %Y",
    "wwww, MMMM d, yyyy": "%A, %B %d, %Y",
    "www d MMM yyyy": "%a %d %b %Y",
    "m/d/yy": "%m/%d/%y",
    "mm/dd/yyyy": "%m/%d/%Y",
    "dd.mm.yyyy": "%d.%m.%Y",
    "yyyy-mm-dd": "%Y-%m-%d",
    "yyyymmdd": "%Y%m%d",
    "the dth of MMMM yyyy": "the %d of %B %Y",
    "MMMM dth, yyyy": "%B %d, %Y",
    "d-MMM-yy": "%d-%b-%y",
    "MMM d 'yy": "%b %d '%y",
    "wwww dth MMMM yyyy": "%A %d %B %Y",
    "yyyy年m月d日": "%Y年%m月%d日",
    "yyyy年m月d日 星期w": "%Y年%m月%d日 星期{w}",
}
WEEKDAY_ZH = dict(zip("一二三四五六日", range(7)))


def parse(text: str, fmt: str) -> dt.date:
    """Read a date written in ``fmt`` with strptime; 2-digit years pivot at 50 (strptime's own pivot is 69)."""
    pattern = STRPTIME[fmt]
    text = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text, flags=re.IGNORECASE)
    weekday = None
    if "{w}" in pattern:
        weekday = WEEKDAY_ZH[text[-1]]
        text, pattern = text[:-1], pattern.replace("{w}", "")
    if "%y" in pattern:
        yy = int(re.findall(r"\d+", text)[-1])
        text = re.sub(r"\d+$", "", text) + str(1900 + yy if yy >= 50 else 2000 + yy)
        pattern = pattern.replace("%y", "%Y")
    parsed = dt.datetime.strptime(text, pattern).date()
    if weekday is not None:
        assert parsed.weekday() == weekday
    return parsed


def test_every_format_has_an_oracle_and_the_issue_examples_hold():
    assert set(STRPTIME) == set(dates.FORMATS)
    shown = dict(dates.describe())
    assert shown["d MMM yyyy"] == "22 Nov 2026"
    assert shown["wwww, MMMM d, yyyy"] == "Sunday, November 22, 2026"
    assert shown["m/d/yy"] == "11/22/26"
    assert shown["yyyy年m月d日 星期w"] == "2026年11月22日 星期日"


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_single_dates_parse_back_to_the_target(seed):
    source, target, parts = dates.make_example(seed)
    assert len(parts) == 1
    part = parts[0]
    assert parse(source, part["format"]).isoformat() == target == part["date"].isoformat()


@pytest.mark.parametrize("fmt", list(dates.FORMATS))
@pytest.mark.parametrize("case", ["as is", "lower", "upper"])
def test_each_format_and_case_parses_back(fmt, case):
    for day in (dt.date(1950, 1, 1), dt.date(1999, 12, 31), dt.date(2000, 2, 29), dt.date(2049, 12, 31),
                dt.date(2026, 11, 22), dt.date(2013, 3, 1)):
        text = dates.format_date(day, fmt, case)
        assert parse(text, fmt) == day, (fmt, case, text)


def test_two_digit_years_pivot_at_50():
    assert dates.format_date(dt.date(2049, 1, 2), "m/d/yy") == "1/2/49"
    assert dates.format_date(dt.date(1950, 1, 2), "d-MMM-yy") == "2-Jan-50"
    assert parse("1/2/49", "m/d/yy") == dt.date(2049, 1, 2)
    assert parse("2-Jan-50", "d-MMM-yy") == dt.date(1950, 1, 2)


def test_weekdays_are_the_true_ones():
    # 22 Nov 2026 is a Sunday (datetime agrees, and so does Zeller's congruence below)
    q, m, y = 22, 11, 2026
    h = (q + (13 * (m + 1)) // 5 + y % 100 + (y % 100) // 4 + (y // 100) // 4 + 5 * (y // 100)) % 7
    assert h == 1  # Zeller: 0 = Saturday, 1 = Sunday
    for seed in range(50):
        day = dates.random_date(seed)
        assert dates.format_date(day, "wwww, MMMM d, yyyy").split(",")[0] == day.strftime("%A")


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 4))
def test_multi_date_examples_spans_and_targets(seed, max_dates):
    source, target, parts = dates.make_example(seed, max_dates=max_dates)
    assert 1 <= len(parts) <= max_dates
    assert target == " ".join(p["date"].isoformat() for p in parts)
    for part in parts:
        start, stop = part["span"]
        assert source[start:stop] == dates.format_date(part["date"], part["format"], part["case"])
        assert parse(source[start:stop], part["format"]) == part["date"]
    gaps = [source[a["span"][1]: b["span"][0]] for a, b in zip(parts, parts[1:])]
    assert all(g in dates.CONNECTIVES for g in gaps)


def test_dates_cover_the_whole_range_uniformly():
    days = [dates.random_date(s) for s in range(2000)]
    assert min(days) >= dt.date(1950, 1, 1) and max(days) <= dt.date(2049, 12, 31)
    assert sum(d.year < 2000 for d in days) / len(days) == pytest.approx(0.5, abs=0.05)


def test_splits_are_deterministic_disjoint_and_sized():
    a = dates.make_splits(300, 50, 80, seed=3, max_dates=2)
    b = dates.make_splits(300, 50, 80, seed=3, max_dates=2)
    c = dates.make_splits(300, 50, 80, seed=4, max_dates=2)
    assert a == b and a != c
    assert [len(a[k]) for k in ("train", "val", "test")] == [300, 50, 80]
    sources = [s for split in a.values() for s, _ in split]
    assert len(set(sources)) == len(sources), "a source occurs twice"
    n_dates = {t.count(" ") + 1 for _, t in a["train"]}
    assert n_dates == {1, 2}


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="fmt"):
        dates.format_date(dt.date(2026, 1, 1), "dd/mm/yyyy")
    with pytest.raises(ValueError, match="case"):
        dates.format_date(dt.date(2026, 1, 1), "yyyymmdd", "title")
    with pytest.raises(ValueError, match="min_dates"):
        dates.make_example(0, max_dates=1, min_dates=2)
    with pytest.raises(ValueError, match="n_val"):
        dates.make_splits(10, -1, 10)
