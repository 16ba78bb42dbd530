"""Numbers in a lecture's prose must come from its own run (issue 16: "a number in prose that comes
from a run is printed by that run, or is not stated").

``prose_numbers(nb)`` finds the measured-looking numbers of the Markdown cells: decimals (0.943),
percentages (99.6 %), ratios (2.5×) and counts written with thousands separators (36,877), outside
formulas, code, links and version or arXiv numbers. ``unprinted(nb)`` returns those that neither
the notebook's outputs (stdout, text, Markdown and HTML results) nor its code show, once rounded to
the prose's precision (a fraction printed as 0.943 also backs 94.3 %).

What does not come from a run (a published result, a slide's value, a definition) is listed in
NOT_FROM_A_RUN with the reason, per notebook; tests/test_notebooks.py fails on any other number, and
on an entry that no prose uses any more.
"""

from __future__ import annotations

import re

# Maths: display $$...$$, and inline $...$, which may wrap onto a second line.
MATH = r"\$\$.*?\$\$|\$(?:[^$\n]|\n(?!\n))+\$"
_HIDE = re.compile(MATH + r"|\$\$|`[^`]*`|\]\([^)]*\)|<[^>]+>|https?://\S+|arXiv[: ]*\d+\.\d+(?:v\d+)?"
                   r"|\b\d+\.\d+\.\d+\b|\b1[0-9]{3}\.[0-9]{4,5}\b", re.S)
# Letters, digits and "_" bound a number, Chinese characters do not: 约2,600 holds the number 2,600.
_PROSE = re.compile(r"(?<![A-Za-z0-9_.,])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+|\d+)(\s?%|\s?×)?(?![A-Za-z0-9_])")
_PRINTED = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?")


_ABOUT = re.compile(r"(?:about|around|roughly|nearly|some|~|≈|约|大约)\s*$")


def prose_numbers(nb) -> list[tuple[int, str]]:
    """(cell index, number as written) for the measured-looking numbers of the Markdown cells.

    A number written after "about" (or ~, ≈, roughly, nearly, some) is kept with a leading "~":
    "about 535,000" stands for any count that rounds to it (534,644 does).
    """
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        text = _HIDE.sub(" ", cell.source)
        for m in _PROSE.finditer(text):
            number, unit = m.group(1), (m.group(2) or "").strip()
            if "." in number or "," in number or unit:
                about = "~" if _ABOUT.search(text[: m.start()]) else ""
                found.append((i, about + number + unit))
    return found


def _values(text: str) -> set[float]:
    values = set()
    for m in _PRINTED.finditer(text):
        try:
            values.add(float(m.group().replace(",", "")))
        except ValueError:
            pass
    return values


def shown_text(nb) -> str:
    """Everything a reader sees printed, and the code (a number typed in the code is an input, not a result)."""
    parts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        parts.append(cell.source)
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
            for kind in ("text/plain", "text/markdown", "text/html"):
                parts.append(out.get("data", {}).get(kind, ""))
    return "\n".join(parts)


def backed(number: str, values: set[float]) -> bool:
    """Whether a printed value, rounded as the prose writes ``number``, gives ``number``."""
    digits = number.lstrip("~").rstrip("%× ").replace(",", "")
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    if number.startswith("~") and decimals == 0:          # "about 535,000": to the thousand
        decimals = -(len(digits) - len(digits.rstrip("0")))
    v = float(digits)
    for u in values:
        for scaled in (u, 100 * u, u / 100) if number.endswith("%") else (u,):
            if round(scaled, decimals) == v or abs(scaled - v) <= 0.5 * 10.0 ** -decimals + 1e-12:
                return True
    return False


def unprinted(nb, name: str) -> list[str]:
    """The prose numbers of ``nb`` that its run does not show and NOT_FROM_A_RUN does not list."""
    values = _values(shown_text(nb))
    allowed = NOT_FROM_A_RUN.get(name, {})
    return [f"cell {i}: {number}" for i, number in prose_numbers(nb)
            if number not in allowed and not backed(number, values)]


def stale_entries(nb, name: str) -> list[str]:
    """NOT_FROM_A_RUN entries of ``name`` that no Markdown cell writes any more."""
    written = {number for _, number in prose_numbers(nb)}
    return [number for number in NOT_FROM_A_RUN.get(name, {}) if number not in written]


# notebook file name → {number as written: why it is not a result of this notebook's run}
NOT_FROM_A_RUN: dict[str, dict[str, str]] = {
    "02_word_representations.ipynb": {
        "10,000": "the slides' example vocabulary size",
        "4,096": "course_lib.word2vec's batch of pairs, an input",
        "0.025": "word2vec's default learning rate (Mikolov et al.'s C code, gensim)",
        "65,536": "course_lib.glove's batch of entries, an input",
        "19,544": "the size of Google's analogy file (questions-words.txt, as distributed)",
        "69.1%": "Pennington et al. (2014), Table 2",
        "71.7%": "Pennington et al. (2014), Table 2",
    },
    "03_wordnet.ipynb": {
        "117,659": "WordNet 3.0's published synset count (Princeton's wnstats(7WN))",
    },
    "06_lstm_gru.ipynb": {
        "25%": "chance on a four-class task, by definition",
        "10,662": "the size of Pang & Lee's full polarity set (sentence polarity v1.0)",
        "~79%": "published results on the full polarity set, cited",
    },
    "07_clipping_and_gating.ipynb": {
        "1,000": "course_lib.long_range's held-out sequences, an input",
    },
    "08_seq2seq_attention.ipynb": {
        "99.60%": "printed by benchmarks/bench_deep_seq2seq.py, cited as its result",
        "99.90%": "printed by benchmarks/bench_deep_seq2seq.py, cited as its result",
        "99.80%": "printed by benchmarks/bench_deep_seq2seq.py, cited as its result",
        "3.8×": "printed by benchmarks/bench_deep_seq2seq.py (parameter ratio)",
        "5.0×": "printed by benchmarks/bench_deep_seq2seq.py (parameter ratio)",
        "~2.5×": "printed by benchmarks/bench_deep_seq2seq.py (CPU-time ratio)",
        "3.5×": "printed by benchmarks/bench_deep_seq2seq.py (CPU-time ratio)",
        "35.45%": "printed by benchmarks/bench_deep_seq2seq.py, cited as its result",
        "10.50%": "printed by benchmarks/bench_deep_seq2seq.py, cited as its result",
        "8,192": "128 steps × 64 rows, arithmetic on the cell's inputs",
    },
}
